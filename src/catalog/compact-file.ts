// One CatalogFile as small as V8 can hold it, since a catalog keeps one per file (a million
// across channels): built property by property in one fixed order (one hidden class for all
// plain documents, fields in the object itself), MIME types and thumbnail types interned (a
// channel has a handful), and one shared empty thumbnail list. Measured with
// support/catalog-memory.ts: a file copied with `{ ...f, thumbs }` took ~300 bytes more.
import type { CatalogFile, CatalogThumb } from './types';

const NO_THUMBS: CatalogThumb[] = Object.freeze([]) as unknown as CatalogThumb[];

/** Strings a catalog repeats across files; bounded so that a hostile store cannot grow it. */
const interned = new Map<string, string>();
const MAX_INTERNED = 4096;

export function intern(s: string): string {
  const had = interned.get(s);
  if (had !== undefined) return had;
  if (interned.size < MAX_INTERNED && s.length <= 128) interned.set(s, s);
  return s;
}

/** A frozen, compact copy of `f` (optional fields only when set). */
export function compactFile(f: CatalogFile): CatalogFile {
  const out: CatalogFile = {
    channel: f.channel,
    msgId: f.msgId,
    docId: f.docId,
    size: f.size,
    mimeType: intern(f.mimeType),
    name: f.name,
    date: f.date,
    thumbs: f.thumbs.length ? f.thumbs.map(compactThumb) : NO_THUMBS,
  };
  if (f.media !== undefined) out.media = f.media;
  if (f.title !== undefined) out.title = f.title;
  if (f.caption !== undefined) out.caption = f.caption;
  return Object.freeze(out);
}

function compactThumb(t: CatalogThumb): CatalogThumb {
  return Object.freeze({ type: intern(t.type), w: t.w, h: t.h, size: t.size });
}
