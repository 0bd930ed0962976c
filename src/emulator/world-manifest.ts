// Applies a channel folder's manifest (manifest.ts) to its channel: the listed ids are the
// messages, other ids are gaps. Compared with what the channel holds, a rescan yields Telegram's
// events: ids gone are deleted, ids whose entry or file bytes changed are edited (same id, a new
// document or photo when the bytes changed), new ids are new posts. What must outlive a restart
// (each post's signature and date, each file's version) is in the persisted channel.
import { createHash } from 'node:crypto';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_NAME, isDocumentKind, parseManifest, type DocumentKind, type ManifestPost } from './manifest';
import { jpegSize, mimeTypeOf } from './media-types';
import type { ChannelEvent, EmuChannel, EmuDocument, EmuMessage, EmuPhoto, PhotoSizeSpec, Thumbnail } from './world';

/** A file a manifest lists, as found on disk. */
export interface ManifestFile {
  path: string;
  size: number;
  /** Unix seconds. */
  mtime: number;
  /** `size:mtimeMs[|thumbnail size:mtimeMs]`: a different stamp is changed bytes. */
  stamp: string;
  /** Pixel size, for files posted as photos. */
  dims: { w: number; h: number } | null;
  /** `<stem>.jpg` beside a file posted as a video or round video: its thumbnail, as without a manifest. */
  thumb: Thumbnail | null;
}

export type ManifestFolder = { ok: true; posts: ManifestPost[]; files: Map<string, ManifestFile> } | { ok: false; error: string };

export interface PersistedPost {
  /** The entry and its file's version: a different signature is an edit. */
  sig: string;
  date: number;
  edit?: number;
  /** The message a caption-less service post pins: the one listed before it when it was posted. */
  pin?: number;
}

export interface PersistedManifest {
  posts: Record<string, PersistedPost>;
  /** File name → its stamp and version (+1 per change of bytes: a new document/photo id). */
  versions: Record<string, { stamp: string; v: number }>;
}

/** What the world lends the manifest: ids bound to its secret, the DC of files. */
export interface ManifestHost {
  readonly fileDc: number;
  derive(label: string): bigint;
}

/** Pixel sizes of photo files by path, valid while the file's stamp is the same (a rescan reads no picture twice). */
export type DimsCache = Map<string, { stamp: string; dims: { w: number; h: number } }>;

/** Reads `<dir>/.messages.json` and the files it lists; null when the folder has none. */
export async function readManifestFolder(dir: string, dimsCache: DimsCache = new Map()): Promise<ManifestFolder | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { ok: false, error: (err as Error).message };
  }
  const names = new Set((await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name));
  const parsed = parseManifest(text, names);
  if (!parsed.ok) return parsed;
  const photos = new Set(parsed.posts.filter((q) => q.kind === 'photo').map((q) => q.file));
  const videos = new Set(parsed.posts.filter((q) => q.kind === 'video' || q.kind === 'round').map((q) => q.file));
  const files = new Map<string, ManifestFile>();
  for (const post of parsed.posts) {
    if (!post.file || files.has(post.file)) continue;
    try {
      const thumbName = videos.has(post.file) ? thumbnailOf(post.file, names) : null;
      files.set(post.file, await manifestFile(dir, post.file, photos.has(post.file), thumbName, dimsCache));
    } catch (err) {
      return { ok: false, error: `file "${post.file}": ${(err as Error).message}` };
    }
  }
  return { ok: true, posts: parsed.posts, files };
}

/** `clip.jpg` for `clip.mp4` when the folder has it. */
function thumbnailOf(name: string, names: ReadonlySet<string>): string | null {
  const dot = name.lastIndexOf('.');
  const jpg = `${dot > 0 ? name.slice(0, dot) : name}.jpg`;
  return jpg !== name && names.has(jpg) ? jpg : null;
}

async function manifestFile(dir: string, name: string, photo: boolean, thumbName: string | null, dimsCache: DimsCache): Promise<ManifestFile> {
  const p = path.join(dir, name);
  const st = await stat(p);
  let stamp = `${st.size}:${st.mtimeMs}`;
  let thumb: Thumbnail | null = null;
  if (thumbName) {
    const tp = path.join(dir, thumbName);
    const tst = await stat(tp);
    const tstamp = `${tst.size}:${tst.mtimeMs}`;
    thumb = { path: tp, size: tst.size, ...(await cachedSize(tp, tstamp, dimsCache)) };
    stamp += `|${tstamp}`;
  }
  const dims = photo ? await cachedSize(p, `${st.size}:${st.mtimeMs}`, dimsCache) : null;
  return { path: p, size: st.size, mtime: Math.floor(st.mtimeMs / 1000), stamp, dims, thumb };
}

async function cachedSize(file: string, stamp: string, cache: DimsCache): Promise<{ w: number; h: number }> {
  const known = cache.get(file);
  if (known?.stamp === stamp) return known.dims;
  const dims = await imageSize(file);
  cache.set(file, { stamp, dims });
  return dims;
}

/** Width and height of a JPEG or PNG from its first bytes; a 1280×960 guess for anything else. */
async function imageSize(file: string): Promise<{ w: number; h: number }> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const b = head.subarray(0, bytesRead);
    const jpeg = jpegSize(b);
    if (jpeg) return jpeg;
    if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
    return { w: 1280, h: 960 };
  } finally {
    await fh.close();
  }
}

/**
 * Brings `channel` to what `folder` lists. Returns the events in pts order (deletions, then
 * edits, then new posts, each by id) and the messages replaced or deleted (whose documents and
 * photos may be unused now).
 */
export function applyManifest(
  host: ManifestHost, channel: EmuChannel, saved: PersistedManifest, folder: Extract<ManifestFolder, { ok: true }>, now: number,
): { events: ChannelEvent[]; dropped: EmuMessage[] } {
  bumpVersions(saved, folder.files);
  const wanted = new Set(folder.posts.map((p) => p.id));
  const events: ChannelEvent[] = [];
  const dropped: EmuMessage[] = [];
  const gone = [...channel.messages.keys()].filter((id) => !wanted.has(id)).sort((a, b) => a - b);
  for (const id of gone) {
    dropped.push(channel.messages.get(id)!);
    channel.messages.delete(id);
    delete saved.posts[id];
  }
  if (gone.length) {
    channel.pts += gone.length;
    events.push({ kind: 'delete', pts: channel.pts, ptsCount: gone.length, msgIds: gone });
  }
  const added: number[] = [];
  let previous: number | undefined;
  for (const post of folder.posts) {
    const change = applyPost(host, channel, saved, post, folder.files, previous, now);
    previous = post.id;
    if (change.replaced) dropped.push(change.replaced);
    if (change.kind === 'new') added.push(post.id);
    if (change.kind !== 'edit') continue;
    channel.pts += 1;
    events.push({ kind: 'edit', pts: channel.pts, ptsCount: 1, msgId: post.id });
  }
  for (const id of added) {
    channel.pts += 1;
    events.push({ kind: 'new', pts: channel.pts, ptsCount: 1, msgId: id });
  }
  return { events, dropped };
}

/**
 * Sets one post's message. A post is known when loaded already or in the state of an earlier
 * run (start-up loads it then, silently unless its signature changed meanwhile: an edit).
 */
function applyPost(
  host: ManifestHost, channel: EmuChannel, saved: PersistedManifest, post: ManifestPost, files: Map<string, ManifestFile>, previous: number | undefined, now: number,
): { kind: 'same' | 'edit' | 'new'; replaced?: EmuMessage } {
  const file = post.file ? files.get(post.file)! : null;
  const version = post.file ? saved.versions[post.file]!.v : 0;
  const sig = JSON.stringify([post.kind, post.file, post.name, post.caption, post.grouped, post.date, version]);
  const persisted = saved.posts[post.id];
  const old = channel.messages.get(post.id);
  const unchanged = persisted?.sig === sig;
  if (old && unchanged) return { kind: 'same' };
  const known = old !== undefined || persisted !== undefined;
  const record: PersistedPost = { sig, date: post.date ?? persisted?.date ?? file?.mtime ?? now };
  const edit = unchanged ? persisted?.edit : known ? now : undefined;
  if (edit !== undefined) record.edit = edit;
  if (post.kind === 'service' && !post.caption) record.pin = (unchanged ? persisted?.pin : undefined) ?? previous;
  saved.posts[post.id] = record;
  channel.messages.set(post.id, buildMessage(host, channel, post, file, version, record));
  return { kind: !known ? 'new' : unchanged ? 'same' : 'edit', replaced: old };
}

/** A file whose bytes changed gets the next version; files no post lists are forgotten. */
function bumpVersions(saved: PersistedManifest, files: Map<string, ManifestFile>): void {
  for (const name of Object.keys(saved.versions)) if (!files.has(name)) delete saved.versions[name];
  for (const [name, f] of files) {
    const known = saved.versions[name];
    if (!known) saved.versions[name] = { stamp: f.stamp, v: 1 };
    else if (known.stamp !== f.stamp) saved.versions[name] = { stamp: f.stamp, v: known.v + 1 };
  }
}

function hashId(label: string): bigint {
  return createHash('sha256').update(label).digest().readBigInt64LE(0) & 0x7fffffffffffffffn;
}

function buildMessage(host: ManifestHost, channel: EmuChannel, post: ManifestPost, file: ManifestFile | null, version: number, rec: PersistedPost): EmuMessage {
  const msg: EmuMessage = {
    id: post.id, date: rec.date,
    post: { kind: post.kind, caption: post.caption ?? '', grouped: post.grouped === undefined ? undefined : BigInt(post.grouped), editDate: rec.edit },
  };
  if (file && post.kind === 'photo') msg.post!.photo = buildPhoto(host, channel, post.file!, file, version);
  else if (file && isDocumentKind(post.kind)) msg.doc = buildDocument(host, channel, post, post.kind, file, version);
  if (rec.pin !== undefined) msg.post!.pinned = rec.pin;
  return msg;
}

/**
 * The document of a post. Its id depends on the file, its version, the kind and the name only:
 * the same file listed twice alike is the same document (a repost), as in Telegram.
 */
function buildDocument(host: ManifestHost, channel: EmuChannel, post: ManifestPost, kind: DocumentKind, file: ManifestFile, version: number): EmuDocument {
  const fileName = post.name === undefined ? (kind === 'document' || kind === 'video' ? post.file! : null) : post.name;
  const id = hashId(`${channel.id}/doc/${post.file}/${version}/${kind}/${fileName ?? ''}`);
  return {
    id, accessHash: host.derive(`doc:${id}`), path: file.path, name: post.file!, size: file.size,
    mimeType: kind === 'voice' ? 'audio/ogg' : mimeTypeOf(fileName ?? post.file!), mtime: file.mtime,
    isVideo: kind === 'video' || kind === 'round', dcId: host.fileDc, thumb: kind === 'video' || kind === 'round' ? file.thumb : null, kind, fileName,
  };
}

/** Telegram's ladder of photo sizes, by the box each fits in. */
const LADDER: { type: string; box: number }[] = [
  { type: 's', box: 90 }, { type: 'm', box: 320 }, { type: 'x', box: 800 }, { type: 'y', box: 1280 }, { type: 'w', box: 2560 },
];

/**
 * A photo's sizes: each rung smaller than the picture, then the picture itself (the file) typed
 * by the rung it fits. Smaller sizes are served as the file's first bytes: any bytes do, as long
 * as getFile and the sizes agree.
 */
function buildPhoto(host: ManifestHost, channel: EmuChannel, name: string, file: ManifestFile, version: number): EmuPhoto {
  const id = hashId(`${channel.id}/photo/${name}/${version}`);
  const { w, h } = file.dims ?? { w: 1280, h: 960 };
  const big = Math.max(w, h, 1);
  const sizes: PhotoSizeSpec[] = LADDER.slice(0, -1).filter(({ box }) => box < big).map(({ type, box }) => {
    const scale = box / big;
    return { type, w: Math.max(1, Math.round(w * scale)), h: Math.max(1, Math.round(h * scale)), size: Math.min(file.size, Math.max(1, Math.round(file.size * scale * scale))) };
  });
  sizes.push({ type: LADDER.find(({ box }) => box >= big)?.type ?? 'w', w, h, size: file.size });
  return { id, accessHash: host.derive(`photo:${id}`), path: file.path, mtime: file.mtime, dcId: host.fileDc, sizes };
}
