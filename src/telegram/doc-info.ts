// What the cache keeps about one channel message's file: plain JSON (no bigints, no Buffers), so
// that any keyv store can hold it and several tgvfs instances can share it. The file reference
// and access hash are per account: a DocInfo is only valid for the bot that fetched it.
//
// A file is a message's document (messageMediaDocument) or its photo (messageMediaPhoto). A photo
// is served as its largest downloadable size (inputPhotoFileLocation with that size's type as
// thumb_size), whose byte count the size entry announces; its smaller sizes (at most 320 px, the
// sizes Telegram itself shows in lists) are its thumbnails. Anything else (text, service
// messages, polls, web pages, a photo past its TTL) is not a file: NotADocumentError.
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { NotADocumentError } from './errors';
import { type ErrorContext } from '../util/errors';
import { isMediaKind, largestThumb, type MediaKind } from '../util/media';

/** One downloadable thumbnail size of a document. */
export interface ThumbInfo {
  /** Size type, e.g. `m`; the `thumbSize` of its file location. */
  type: string;
  w: number;
  h: number;
  /** Bytes, as the server announced them. */
  size: number;
}

export interface DocInfo {
  /** The -100… channel id. */
  channel: number;
  msgId: number;
  /** Document id (the photo id for a photo), decimal. */
  id: string;
  /** Document access hash, decimal (per account). */
  accessHash: string;
  /** File reference, base64 (per account; expires). */
  fileReference: string;
  /** DC that stores the file. */
  dcId: number;
  size: number;
  mimeType: string;
  /** DocumentAttributeFilename, or null when the document has none (always null for a photo). */
  name: string | null;
  /** Message date, unix seconds. */
  date: number;
  /** Downloadable sizes only (photoSize, photoSizeProgressive); stripped and path sizes are inline. */
  thumbs: ThumbInfo[];
  /** Photo, video, round video, audio or voice; absent for any other document. */
  media?: MediaKind;
  /** A photo's size served as the file: the thumb_size of its location. Set exactly for photos. */
  photoSize?: string;
  /** An audio's `performer - title` (or either alone), from DocumentAttributeAudio. */
  title?: string;
  /** The caption's first line (at most CAPTION_CHARS characters), when there is a caption. */
  caption?: string;
}

/** How much of a caption's first line is kept: enough for any file name. */
export const CAPTION_CHARS = 255;

/** Longest side of a photo size kept as a thumbnail of the photo (Telegram's `m`). */
const PHOTO_THUMB_MAX_SIDE = 320;

function thumbInfo(t: Api.TypePhotoSize): ThumbInfo | undefined {
  if (t instanceof Api.PhotoSize) return { type: t.type, w: t.w, h: t.h, size: t.size };
  // A progressive JPEG's sizes are the prefixes at which each scan ends; the last is the whole.
  if (t instanceof Api.PhotoSizeProgressive) return { type: t.type, w: t.w, h: t.h, size: Math.max(0, ...t.sizes) };
  return undefined;
}

function thumbInfos(sizes: readonly Api.TypePhotoSize[] | undefined): ThumbInfo[] {
  const out: ThumbInfo[] = [];
  for (const t of sizes ?? []) {
    const info = thumbInfo(t);
    if (info) out.push(info);
  }
  return out;
}

/** The first line of the message's text, cut to CAPTION_CHARS; undefined when there is none. */
function captionOf(msg: Api.Message): string | undefined {
  const line = [...(msg.message ?? '').split('\n')[0]!.trim()].slice(0, CAPTION_CHARS).join('');
  return line === '' ? undefined : line;
}

/** Kind and audio title of a document, from its attributes. */
function documentKind(doc: Api.Document): { media?: MediaKind; title?: string } {
  for (const a of doc.attributes) {
    if (a instanceof Api.DocumentAttributeVideo) return { media: a.roundMessage ? 'round' : 'video' };
    if (a instanceof Api.DocumentAttributeAudio) {
      if (a.voice) return { media: 'voice' };
      const title = [a.performer, a.title].map((s) => s?.trim()).filter((s): s is string => !!s).join(' - ');
      return title ? { media: 'audio', title } : { media: 'audio' };
    }
  }
  return {};
}

function fromDocument(channel: number, msg: Api.Message, doc: Api.Document): DocInfo {
  const nameAttr = doc.attributes.find((a): a is Api.DocumentAttributeFilename => a instanceof Api.DocumentAttributeFilename);
  return {
    channel,
    msgId: msg.id,
    id: doc.id.toString(),
    accessHash: doc.accessHash.toString(),
    fileReference: Buffer.from(doc.fileReference).toString('base64'),
    dcId: doc.dcId,
    size: doc.size.toJSNumber(),
    mimeType: doc.mimeType,
    name: nameAttr?.fileName ?? null,
    date: msg.date,
    thumbs: thumbInfos(doc.thumbs),
    ...documentKind(doc),
    ...optionalCaption(msg),
  };
}

/** The photo's largest downloadable size as the file; undefined when it has none. */
function fromPhoto(channel: number, msg: Api.Message, photo: Api.Photo): DocInfo | undefined {
  const sizes = thumbInfos(photo.sizes);
  const main = largestThumb(sizes);
  if (!main) return undefined;
  const thumbs = sizes.filter((t) => t !== main && Math.max(t.w, t.h) <= PHOTO_THUMB_MAX_SIDE);
  return {
    channel,
    msgId: msg.id,
    id: photo.id.toString(),
    accessHash: photo.accessHash.toString(),
    fileReference: Buffer.from(photo.fileReference).toString('base64'),
    dcId: photo.dcId,
    size: main.size,
    mimeType: 'image/jpeg',
    name: null,
    date: msg.date,
    thumbs,
    media: 'photo',
    photoSize: main.type,
    ...optionalCaption(msg),
  };
}

function optionalCaption(msg: Api.Message): { caption?: string } {
  const caption = captionOf(msg);
  return caption === undefined ? {} : { caption };
}

/**
 * The file of a channel message (its document, or its photo) as a DocInfo. Throws
 * NotADocumentError (with `context` plus channel and message) when the message carries no file.
 */
export function docInfoFromMessage(channel: number, msg: Api.Message, context: ErrorContext = {}): DocInfo {
  const media = msg.media;
  let info: DocInfo | undefined;
  if (media instanceof Api.MessageMediaDocument && media.document instanceof Api.Document) info = fromDocument(channel, msg, media.document);
  else if (media instanceof Api.MessageMediaPhoto && media.photo instanceof Api.Photo) info = fromPhoto(channel, msg, media.photo);
  if (!info) throw new NotADocumentError({ ...context, channel, msgId: msg.id });
  return info;
}

/** Where a message's file (or one of its thumbnails) is read from. */
export type MediaFileLocation = Api.InputDocumentFileLocation | Api.InputPhotoFileLocation;

/**
 * The file location of the message's file, or of its thumbnail `thumbSize` (a ThumbInfo's type):
 * inputPhotoFileLocation for a photo (its largest size unless a thumbnail is asked),
 * inputDocumentFileLocation otherwise.
 */
export function fileLocation(doc: DocInfo, thumbSize = ''): MediaFileLocation {
  const common = { id: bigInt(doc.id), accessHash: bigInt(doc.accessHash), fileReference: Buffer.from(doc.fileReference, 'base64') };
  if (doc.photoSize !== undefined) return new Api.InputPhotoFileLocation({ ...common, thumbSize: thumbSize || doc.photoSize });
  return new Api.InputDocumentFileLocation({ ...common, thumbSize });
}

// ---- validation of values read back from a store (shared, possibly older or corrupt) ----------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isDecimal = (v: unknown): v is string => typeof v === 'string' && /^-?\d{1,20}$/.test(v);

function isThumbInfo(v: unknown): v is ThumbInfo {
  return isRecord(v) && typeof v.type === 'string' && isInt(v.w) && isInt(v.h) && isInt(v.size);
}

/** True when `v` has every DocInfo field with the right type. */
export function isDocInfo(v: unknown): v is DocInfo {
  return (
    isRecord(v) &&
    isInt(v.channel) &&
    isInt(v.msgId) &&
    isDecimal(v.id) &&
    isDecimal(v.accessHash) &&
    typeof v.fileReference === 'string' &&
    isInt(v.dcId) &&
    isInt(v.size) &&
    typeof v.mimeType === 'string' &&
    (v.name === null || typeof v.name === 'string') &&
    isInt(v.date) &&
    Array.isArray(v.thumbs) &&
    v.thumbs.every(isThumbInfo) &&
    (v.media === undefined || isMediaKind(v.media)) &&
    // A photo (and only a photo) says which size is the file.
    (v.media === 'photo' ? typeof v.photoSize === 'string' : v.photoSize === undefined) &&
    (v.title === undefined || typeof v.title === 'string') &&
    (v.caption === undefined || typeof v.caption === 'string')
  );
}
