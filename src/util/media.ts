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
