// File and folder names of the VFS: pure functions of catalog data, so the same catalog gives the
// same names on every start, on every host sharing it, and in both front-ends.
//
// Rules (safe on Linux, macOS and Windows, and through WebDAV):
// - no `/`, `\`, control characters (C0, DEL, C1), nor Windows' `< > : " | ? *` (each becomes `_`);
// - no leading/trailing spaces, no trailing dots (Windows drops them, so two names could meet);
// - no reserved Windows device name as the part before the first dot (CON, PRN, AUX, NUL,
//   COM1-9, LPT1-9, also COM¹²³/LPT¹²³, any case, with any extension): prefixed with `_`;
// - never a name the VFS or a client gives a meaning to (`.thumbnails`, `.DS_Store`, `._*`,
//   `.metadata_never_index`): prefixed with `_`;
// - at most 230 UTF-8 bytes (room for a clash suffix and `.jpg` under the usual 255), NFC;
// - unique ignoring case (copies onto APFS/NTFS do not collide): in message-id order, the first
//   file keeps the name, a later one becomes `name (msgId).ext` (`name (msgId) (2).ext` should
//   even that be taken). New posts (higher ids) therefore never rename older files.
// - a file without a name (no file-name attribute, or one that sanitises to nothing) takes the
//   first line of its caption when that line is a file name: `stem.ext`, with `ext` one of the
//   extensions below (EXT_BY_MIME's, plus `jpeg`), nothing else on the line, and for a photo
//   (always JPEG bytes) `.jpg`/`.jpeg` only. "Sunset at the beach" or "see example.com" stay
//   captions, `IMG_2041.jpg` or `notes 2024.pdf` become names.
// - otherwise it is named by what Telegram says it is, with the message id (unique in a channel,
//   where a photo or document id is not: a repost carries the same one):
//   photo `photo_<msgId>.jpg`, video `video_<msgId>.mp4`, round video `round_<msgId>.mp4`, voice
//   note `voice_<msgId>.ogg`, audio `audio_<performer - title>.<ext>` (`audio_<msgId>.<ext>`
//   without either), the extension from the mime type when it names one; any other document
//   `<kind>_<msgId>.<ext>`, kind and extension from its mime type, e.g. `file_123.pdf`.
import type { MediaKind } from '../util/media';

/** What naming needs to know about a file. */
export interface NameSource {
  msgId: number;
  name: string | null;
  mimeType: string;
  /** What Telegram says the file is (absent: a plain document). */
  media?: MediaKind;
  /** An audio's `performer - title`. */
  title?: string;
  /** The caption's first line. */
  caption?: string;
}

/** What naming needs to know about a channel. */
export interface ChannelNameSource {
  id: number;
  name: string;
}

/** Names the VFS itself uses inside a channel folder or at the root. */
export const THUMBNAILS_DIR = '.thumbnails';
export const NEVER_INDEX_MARKER = '.metadata_never_index';

const MAX_BYTES = 230;

const EXT_BY_MIME: Record<string, string> = {
  'video/mp4': 'mp4', 'video/x-matroska': 'mkv', 'video/webm': 'webm', 'video/quicktime': 'mov',
  'video/x-msvideo': 'avi', 'video/mp2t': 'ts', 'video/mpeg': 'mpg', 'video/3gpp': '3gp',
  'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/ogg': 'ogg', 'audio/flac': 'flac', 'audio/x-flac': 'flac',
  'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/aac': 'aac', 'audio/opus': 'opus',
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/svg+xml': 'svg',
  'image/heic': 'heic', 'image/bmp': 'bmp', 'image/tiff': 'tif',
  'application/pdf': 'pdf', 'text/plain': 'txt', 'text/markdown': 'md', 'application/json': 'json',
  'text/html': 'html', 'text/csv': 'csv', 'application/xml': 'xml', 'text/xml': 'xml',
  'application/x-subrip': 'srt', 'text/vtt': 'vtt', 'application/zip': 'zip', 'application/gzip': 'gz',
  'application/x-tar': 'tar', 'application/x-7z-compressed': '7z', 'application/vnd.rar': 'rar',
  'application/x-rar-compressed': 'rar', 'application/x-iso9660-image': 'iso', 'application/epub+zip': 'epub',
  'application/x-tgsticker': 'tgs', 'application/octet-stream': 'bin',
};

/** Kind and extension of an unnamed file, from its mime type (`video/mp4` → video, mp4). */
export function kindAndExtension(mimeType: string): { kind: string; ext: string } {
  const mime = mimeType.toLowerCase().split(';')[0]!.trim();
  const top = mime.split('/')[0] ?? '';
  const kind = top === 'video' || top === 'audio' || top === 'image' ? (top === 'image' ? 'photo' : top) : 'file';
  let ext = EXT_BY_MIME[mime];
  if (ext === undefined) {
    // `video/x-foo` → `foo` when it is a plausible extension, else `bin`.
    const sub = (mime.split('/')[1] ?? '').replace(/^x-/, '');
    ext = /^[a-z0-9]{1,5}$/.test(sub) ? sub : 'bin';
  }
  return { kind, ext };
}

/** `<kind>_<msgId>.<ext>` for a file without a usable name. */
export function fallbackName(msgId: number, mimeType: string): string {
  const { kind, ext } = kindAndExtension(mimeType);
  return `${kind}_${msgId}.${ext}`;
}

/** Extensions a caption may end in to be taken as a file name. */
const KNOWN_EXTENSIONS = new Set([...Object.values(EXT_BY_MIME), 'jpeg']);
const PHOTO_EXTENSIONS = new Set(['jpg', 'jpeg']);

/** The caption as a file name when it is one (see the rules above), else ''. */
export function captionName(caption: string | undefined, media: MediaKind | undefined): string {
  if (caption === undefined || /[\r\n]/.test(caption)) return '';
  const { stem, ext } = splitExtension(caption.trim());
  const bare = ext.slice(1).toLowerCase();
  if (stem.trim() === '' || !(media === 'photo' ? PHOTO_EXTENSIONS : KNOWN_EXTENSIONS).has(bare)) return '';
  return sanitizeName(caption);
}

/** Extension for a kind of media: the mime type's when it names one, else the kind's usual. */
function mediaExtension(mimeType: string, usual: string): string {
  const mime = mimeType.toLowerCase().split(';')[0]!.trim();
  return EXT_BY_MIME[mime] ?? usual;
}

/** The name of a file with neither file name nor caption name, from its kind. */
export function mediaName(f: NameSource): string {
  switch (f.media) {
    case 'photo':
      return `photo_${f.msgId}.jpg`;
    case 'video':
      return `video_${f.msgId}.${mediaExtension(f.mimeType, 'mp4')}`;
    case 'round':
      return `round_${f.msgId}.${mediaExtension(f.mimeType, 'mp4')}`;
    case 'voice':
      return `voice_${f.msgId}.${mediaExtension(f.mimeType, 'ogg')}`;
    case 'audio': {
      const ext = mediaExtension(f.mimeType, 'mp3');
      const titled = f.title !== undefined ? sanitizeName(`audio_${f.title}.${ext}`) : '';
      return titled || `audio_${f.msgId}.${ext}`;
    }
    default:
      return fallbackName(f.msgId, f.mimeType);
  }
}

/** The name a file asks for (before clashes are settled). */
export function baseFileName(f: NameSource): string {
  return (f.name !== null ? sanitizeName(f.name) : '') || captionName(f.caption, f.media) || mediaName(f);
}

const RESERVED_DEVICE = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;

function isReservedDevice(name: string): boolean {
  const dot = name.indexOf('.');
  const stem = (dot === -1 ? name : name.slice(0, dot)).replace(/[ ]+$/, '');
  return RESERVED_DEVICE.test(stem);
}

/** Names the VFS or a client gives a meaning to; a file so named gets a `_` in front. */
export function isSpecialName(name: string): boolean {
  const n = name.toLowerCase();
  return n === THUMBNAILS_DIR || n === '.ds_store' || n === NEVER_INDEX_MARKER || n.startsWith('._');
}

/** Finder's probes: `._<name>` (AppleDouble) and `.DS_Store`. Never names in the VFS. */
export function isFinderProbe(name: string): boolean {
  return name.startsWith('._') || name.toLowerCase() === '.ds_store';
}

/** Cuts `s` to at most `max` UTF-8 bytes on a code point boundary. */
function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** `name` split at its last dot (a leading dot is no extension): `a.tar.gz` → `a.tar`, `.gz`. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * A safe form of `name`, or '' when nothing usable is left (the caller then uses a fallback).
 * Idempotent: sanitizeName(sanitizeName(x)) === sanitizeName(x).
 */
export function sanitizeName(name: string): string {
  let s = name.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f/\\<>:"|?*]/g, '_');
  s = s.replace(/^\s+/, '').replace(/[\s.]+$/, '');
  if (s === '') return '';
  if (isReservedDevice(s) || isSpecialName(s)) s = `_${s}`;
  if (Buffer.byteLength(s) > MAX_BYTES) {
    const { stem, ext } = splitExtension(s);
    const keepExt = Buffer.byteLength(ext) <= 16 ? ext : '';
    s = truncateUtf8(keepExt ? stem : s, MAX_BYTES - Buffer.byteLength(keepExt)).replace(/[\s.]+$/, '') + keepExt;
  }
  return s;
}

/** The case-insensitive key under which names must be unique. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `stem (tag).ext` */
function tagged(name: string, tag: string): string {
  const { stem, ext } = splitExtension(name);
  return `${stem} (${tag})${ext}`;
}

/**
 * Unique names for `items` in the order given: the first claimant of a name keeps it, later
 * ones get `name (id)` (and `name (id) (n)` should that be taken too).
 */
function uniqueNames<T>(items: T[], base: (t: T) => string, id: (t: T) => string): Map<T, string> {
  const out = new Map<T, string>();
  const taken = new Set<string>();
  const losers: T[] = [];
  // Pass 1: every first claimant keeps its plain name, so a later suffixed name never takes a
  // plain name that a file really has.
  for (const item of items) {
    const name = base(item);
    const key = nameKey(name);
    if (taken.has(key)) losers.push(item);
    else {
      taken.add(key);
      out.set(item, name);
    }
  }
  // Pass 2: the others, in order.
  for (const item of losers) {
    const first = tagged(base(item), id(item));
    let name = first;
    for (let n = 2; taken.has(nameKey(name)); n++) name = tagged(first, String(n));
    taken.add(nameKey(name));
    out.set(item, name);
  }
  return new Map(items.map((item) => [item, out.get(item)!]));
}

/**
 * Names of a channel's files, by message id. Deterministic: depends only on the files' ids,
 * names, mime types, kinds, titles and captions (sorted by message id here, whatever the input order).
 */
export function assignFileNames(files: readonly NameSource[]): Map<number, string> {
  const sorted = [...files].sort((a, b) => a.msgId - b.msgId);
  const names = uniqueNames(
    sorted,
    baseFileName,
    (f) => String(f.msgId),
  );
  const out = new Map<number, string>();
  for (const [f, name] of names) out.set(f.msgId, name);
  return out;
}

/**
 * Folder names of channels, by channel id, in the order given (the config's). A clash becomes
 * `name (<channel id>)`; an empty name `channel_<id>`.
 */
export function assignChannelNames(channels: readonly ChannelNameSource[]): Map<number, string> {
  const names = uniqueNames(
    [...channels],
    (c) => sanitizeName(c.name) || `channel_${c.id}`,
    (c) => String(c.id),
  );
  const out = new Map<number, string>();
  for (const [c, name] of names) out.set(c.id, name);
  return out;
}

/** The name of a file's thumbnail in its channel's `.thumbnails` folder. */
export function thumbnailName(fileName: string): string {
  return `${fileName}.jpg`;
}
