// How every layer names a file's bytes and picks its thumbnail, so that the pool, the catalog
// and the VFS agree without importing each other.

/**
 * The stream engine's cache key of a message's document. The document id is part of it: an edit
 * that replaces the document gives new bytes a new key, never old bytes under the same name.
 */
export function fileKey(channel: number, msgId: number, docId: string): string {
  return `${channel}:${msgId}:${docId}`;
}

/** The largest thumbnail (by area, then by bytes), or undefined when there is none. */
export function largestThumb<T extends { w: number; h: number; size: number }>(thumbs: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const t of thumbs) {
    if (!best || t.w * t.h > best.w * best.h || (t.w * t.h === best.w * best.h && t.size > best.size)) best = t;
  }
  return best;
}

/**
 * What kind of media a file is, as Telegram marks it (messageMediaPhoto, or a document's video,
 * audio attributes). Absent on a plain document (and on catalogs written before kinds existed).
 * Names of files without a file name come from it (vfs/names.ts).
 */
export type MediaKind = 'photo' | 'video' | 'round' | 'audio' | 'voice';

export const MEDIA_KINDS: readonly MediaKind[] = ['photo', 'video', 'round', 'audio', 'voice'];

/** True for a known MediaKind (values read back from a shared store). */
export function isMediaKind(v: unknown): v is MediaKind {
  return typeof v === 'string' && (MEDIA_KINDS as readonly string[]).includes(v);
}
