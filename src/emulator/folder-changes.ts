// Reading the files of a channel folder that a change touched, and only those: fs.watch names
// the file, so a new post in a folder of 300,000 files costs a stat or two, not a rescan. A
// video and its `<stem>.jpg` thumbnail go together: a change to either touches both.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { extensionOf, isVideoName, jpegSize } from './media-types';
import type { Thumbnail } from './world';

/** A file of a channel folder as found on disk. */
export interface Listed {
  name: string;
  path: string;
  size: number;
  /** Unix seconds. */
  mtime: number;
  /** `size:mtimeMs[|thumbnail size:mtimeMs]`: a different stamp is a changed file. */
  stamp: string;
  thumbPath: string | null;
  /** Read only when the file needs a (new) document. */
  thumb: Thumbnail | null;
}

/** Whether a file with this stamp needs a (new) document (new, changed, or not loaded yet). */
export type NeedsDocument = (name: string, stamp: string) => boolean;

/** Video extensions a thumbnail's video may have, as written by most tools. */
const VIDEO_EXTS = ['mp4', 'm4v', 'mkv', 'webm', 'mov', 'avi', 'ts'].flatMap((e) => [e, e.toUpperCase()]);

export const stemOf = (n: string): string => n.slice(0, n.length - extensionOf(n).length - 1);

const isThumbName = (n: string): boolean => n.endsWith('.jpg');

/**
 * Stats a file (and its thumbnail) into a Listed; null when it is not a regular file (gone,
 * or a folder). A thumbnail that vanished in between is left out of the stamp.
 */
export async function listedFile(dir: string, name: string, thumbPath: string | null, needsDocument: NeedsDocument): Promise<Listed | null> {
  let st;
  try {
    st = await stat(path.join(dir, name));
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  let stamp = `${st.size}:${st.mtimeMs}`;
  const thumbSt = thumbPath ? await stat(thumbPath).catch(() => null) : null;
  if (thumbSt) stamp += `|${thumbSt.size}:${thumbSt.mtimeMs}`;
  const f: Listed = { name, path: path.join(dir, name), size: st.size, mtime: Math.floor(st.mtimeMs / 1000), stamp, thumbPath: thumbSt ? thumbPath : null, thumb: null };
  if (f.thumbPath && needsDocument(name, stamp)) {
    const bytes = await readFile(f.thumbPath);
    f.thumb = { path: f.thumbPath, size: bytes.length, ...(jpegSize(bytes) ?? { w: 320, h: 180 }) };
  }
  return f;
}

/**
 * The names a change to `names` may affect: the names, a video's thumbnail (it may become or
 * stop being one) and a thumbnail's videos (their stamp includes it). `known`: a file the
 * channel has a post for.
 */
export function affectedNames(names: Iterable<string>, known: (name: string) => boolean): Set<string> {
  const out = new Set<string>();
  const given = new Set<string>();
  for (const n of names) if (!n.startsWith('.') && !n.includes('/')) given.add(n);
  for (const n of given) {
    out.add(n);
    if (isVideoName(n)) out.add(`${stemOf(n)}.jpg`);
    if (isThumbName(n)) for (const ext of VIDEO_EXTS) {
      const video = `${stemOf(n)}.${ext}`;
      if (known(video) || given.has(video)) out.add(video);
    }
  }
  return out;
}

/**
 * The affected files as they are now, in name order: `listed` to post (or keep), `absent` no
 * longer a file of their own (gone, or now a video's thumbnail).
 */
export async function listNamed(dir: string, affected: Set<string>, needsDocument: NeedsDocument): Promise<{ listed: Listed[]; absent: string[] }> {
  const exists = new Map<string, Promise<boolean>>();
  const isFile = (n: string): Promise<boolean> => {
    let p = exists.get(n);
    if (!p) {
      p = stat(path.join(dir, n)).then((s) => s.isFile(), () => false);
      exists.set(n, p);
    }
    return p;
  };
  // Videos among the names (whatever the case of their extension) that are there now.
  const videoStems = new Set<string>();
  for (const n of affected) if (isVideoName(n) && (await isFile(n))) videoStems.add(stemOf(n));
  const listed: Listed[] = [];
  const absent: string[] = [];
  for (const name of [...affected].sort()) {
    if (isThumbName(name) && (videoStems.has(stemOf(name)) || (await hasVideo(name, isFile)))) {
      absent.push(name);
      continue;
    }
    const thumb = isVideoName(name) && (await isFile(`${stemOf(name)}.jpg`)) ? path.join(dir, `${stemOf(name)}.jpg`) : null;
    const f = await listedFile(dir, name, thumb, needsDocument);
    if (f) listed.push(f);
    else absent.push(name);
  }
  return { listed, absent };
}

async function hasVideo(thumb: string, isFile: (n: string) => Promise<boolean>): Promise<boolean> {
  for (const ext of VIDEO_EXTS) if (await isFile(`${stemOf(thumb)}.${ext}`)) return true;
  return false;
}
