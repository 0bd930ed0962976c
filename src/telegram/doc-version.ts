// The document a read was promised. A file's bytes are cached under a key that names its document
// (util/media.ts fileKey), taken from the catalog when the file was listed; a worker's DocInfo can
// be older (an edit replaced the media since it fetched it) or newer (the catalog has not heard of
// the edit yet). Either way, bytes of one document must never be fetched for the other's key:
// the read asks Telegram once more, and refuses when the message still holds another document.
import type { DocInfo } from './doc-info';
import { TgvfsError } from '../util/errors';

/** What this needs of a worker: its DocInfo of a message, from memory or (fresh) from Telegram. */
export interface DocSource {
  readonly id: number;
  getDoc(channel: number, msgId: number, opts: { signal?: AbortSignal; fresh?: boolean }): Promise<DocInfo>;
}

/** The message now holds another document than the one its read was for (code FILE_CHANGED). */
export class FileChangedError extends TgvfsError {
  constructor(
    /** The document id the read was for, and the one the message holds. */
    readonly expected: string,
    readonly actual: string,
    context: { channel: number; msgId: number; worker: number },
  ) {
    super('FILE_CHANGED', `message ${context.msgId} of channel ${context.channel} now holds document ${actual}, not ${expected} (edited)`, context);
  }
}

/**
 * The worker's DocInfo of the message (asked of Telegram when `fresh`), which must be document
 * `docId` (any when undefined): a remembered one of another document is fetched again;
 * FileChangedError when Telegram's is another too.
 */
export async function docOfVersion(
  w: DocSource,
  channel: number,
  msgId: number,
  docId: string | undefined,
  opts: { signal?: AbortSignal; fresh?: boolean } = {},
): Promise<DocInfo> {
  const doc = await w.getDoc(channel, msgId, opts);
  if (docId === undefined || doc.id === docId) return doc;
  const fresh = opts.fresh ? doc : await w.getDoc(channel, msgId, { ...opts, fresh: true });
  if (fresh.id === docId) return fresh;
  throw new FileChangedError(docId, fresh.id, { channel, msgId, worker: w.id });
}
