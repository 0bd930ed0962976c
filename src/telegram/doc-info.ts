// What the cache keeps about one channel message's document: plain JSON (no bigints, no
// Buffers), so that any keyv store can hold it and several tgvfs instances can share it. The
// file reference and access hash are per account: a DocInfo is only valid for the bot that
// fetched it.
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { NotADocumentError } from './errors';
import { type ErrorContext } from '../util/errors';

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
  /** Document id, decimal. */
  id: string;
  /** Document access hash, decimal (per account). */
  accessHash: string;
  /** File reference, base64 (per account; expires). */
  fileReference: string;
  /** DC that stores the file. */
  dcId: number;
  size: number;
  mimeType: string;
  /** DocumentAttributeFilename, or null when the document has none. */
  name: string | null;
  /** Message date, unix seconds. */
  date: number;
  /** Downloadable sizes only (photoSize, photoSizeProgressive); stripped and path sizes are inline. */
  thumbs: ThumbInfo[];
}

function thumbInfo(t: Api.TypePhotoSize): ThumbInfo | undefined {
  if (t instanceof Api.PhotoSize) return { type: t.type, w: t.w, h: t.h, size: t.size };
  // A progressive JPEG's sizes are the prefixes at which each scan ends; the last is the whole.
  if (t instanceof Api.PhotoSizeProgressive) return { type: t.type, w: t.w, h: t.h, size: Math.max(0, ...t.sizes) };
  return undefined;
}

/**
 * The document of a channel message as a DocInfo. Throws NotADocumentError (with `context`
 * plus channel and message) when the message carries no document.
 */
export function docInfoFromMessage(channel: number, msg: Api.Message, context: ErrorContext = {}): DocInfo {
  const doc = msg.media instanceof Api.MessageMediaDocument ? msg.media.document : undefined;
  if (!(doc instanceof Api.Document)) throw new NotADocumentError({ ...context, channel, msgId: msg.id });
  const nameAttr = doc.attributes.find((a): a is Api.DocumentAttributeFilename => a instanceof Api.DocumentAttributeFilename);
  const thumbs: ThumbInfo[] = [];
  for (const t of doc.thumbs ?? []) {
    const info = thumbInfo(t);
    if (info) thumbs.push(info);
  }
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
    thumbs,
  };
}

/** The file location of the document, or of its thumbnail `thumbSize` (a ThumbInfo's type). */
export function documentLocation(doc: DocInfo, thumbSize = ''): Api.InputDocumentFileLocation {
  return new Api.InputDocumentFileLocation({
    id: bigInt(doc.id),
    accessHash: bigInt(doc.accessHash),
    fileReference: Buffer.from(doc.fileReference, 'base64'),
    thumbSize,
  });
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
    v.thumbs.every(isThumbInfo)
  );
}
