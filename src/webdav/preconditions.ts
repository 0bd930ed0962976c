// Pure evaluation of GET/HEAD preconditions (RFC 9110 §13.2.2): If-Match, If-Unmodified-Since,
// If-None-Match, If-Modified-Since, in that order. If-Range is range-header.ts's.
import { parseHttpDate } from './range-header';

export interface PreconditionHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export type PreconditionResult = 'proceed' | 'not-modified' | 'failed';

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** `"a", W/"b"` → tags; `*` → '*'; null when nothing parses. */
export function parseEntityTags(value: string): EntityTag[] | '*' | null {
  const v = value.trim();
  if (v === '*') return '*';
  const out: EntityTag[] = [];
  const re = /\s*(W\/)?("[^"]*")\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < v.length && (m = re.exec(v)) !== null) out.push({ weak: m[1] !== undefined, opaque: m[2]! });
  return out.length > 0 ? out : null;
}

function parseTag(etag: string): EntityTag {
  return etag.startsWith('W/') ? { weak: true, opaque: etag.slice(2) } : { weak: false, opaque: etag };
}

/**
 * The outcome for a GET/HEAD of a representation with `etag` (quoted, or null) and
 * `lastModifiedMs` (or null): 'failed' → 412, 'not-modified' → 304.
 */
export function evaluatePreconditions(h: PreconditionHeaders, etag: string | null, lastModifiedMs: number | null): PreconditionResult {
  const current = etag === null ? null : parseTag(etag);
  const lastSec = lastModifiedMs === null ? null : Math.floor(lastModifiedMs / 1000);
  if (h.ifMatch !== undefined) {
    const tags = parseEntityTags(h.ifMatch);
    // Strong comparison: both strong and equal.
    const ok = tags === '*' || (tags !== null && current !== null && !current.weak && tags.some((t) => !t.weak && t.opaque === current.opaque));
    if (!ok) return 'failed';
  } else if (h.ifUnmodifiedSince !== undefined && lastSec !== null) {
    const since = parseHttpDate(h.ifUnmodifiedSince);
    if (since !== null && lastSec > Math.floor(since / 1000)) return 'failed';
  }
  if (h.ifNoneMatch !== undefined) {
    const tags = parseEntityTags(h.ifNoneMatch);
    // Weak comparison: opaque tags equal.
    const match = tags === '*' || (tags !== null && current !== null && tags.some((t) => t.opaque === current.opaque));
    if (match) return 'not-modified';
  } else if (h.ifModifiedSince !== undefined && lastSec !== null) {
    const since = parseHttpDate(h.ifModifiedSince);
    if (since !== null && lastSec <= Math.floor(since / 1000)) return 'not-modified';
  }
  return 'proceed';
}
