// Pure parsing of HTTP Range and If-Range (RFC 9110 §14.1.2, §14.2, §13.1.5).
//
// Convention: every range here is { start, endInclusive }, as in `bytes=start-end` and
// `Content-Range: bytes start-end/size`; the byte count is endInclusive − start + 1.

export interface ByteRange {
  start: number;
  /** Inclusive: the last byte served. */
  endInclusive: number;
}

export type RangeRequest =
  /** No Range header, or one to ignore (malformed, another unit, too many ranges): 200, whole body. */
  | { type: 'whole' }
  /** One or more ranges, each within the representation: 206. */
  | { type: 'partial'; ranges: ByteRange[] }
  /** A valid Range of which no range overlaps the representation: 416 with `bytes *\/size`. */
  | { type: 'unsatisfiable' };

export interface RangeOptions {
  /** More ranges than this (after merging overlaps) and the header is ignored. @default 16 */
  maxRanges?: number;
}

const DIGITS = /^[0-9]+$/;

/** A decimal of any length; values beyond 2^53 saturate (they are past any file's end anyway). */
function parsePos(s: string): number {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

type Spec = { kind: 'int'; first: number; last: number | null } | { kind: 'suffix'; length: number };

/** The range-set of a `bytes=` header, or null when it is malformed. */
function parseSpecs(set: string): Spec[] | null {
  const specs: Spec[] = [];
  for (const raw of set.split(',')) {
    const el = raw.trim();
    if (el === '') continue; // empty list elements are tolerated (RFC 9110 §5.6.1)
    const dash = el.indexOf('-');
    if (dash === -1) return null;
    const a = el.slice(0, dash);
    const b = el.slice(dash + 1);
    if (a === '') {
      if (!DIGITS.test(b)) return null;
      specs.push({ kind: 'suffix', length: parsePos(b) });
      continue;
    }
    if (!DIGITS.test(a) || (b !== '' && !DIGITS.test(b))) return null;
    // Compared exactly (BigInt): past 2^53 both saturate in parsePos and would look equal.
    if (b !== '' && BigInt(b) < BigInt(a)) return null; // invalid range-spec: the whole header is invalid
    const first = parsePos(a);
    const last = b === '' ? null : parsePos(b);
    specs.push({ kind: 'int', first, last });
  }
  return specs.length > 0 ? specs : null;
}

/** Sorted, with overlapping or touching ranges merged. */
export function coalesce(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((x, y) => x.start - y.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.endInclusive + 1) last.endInclusive = Math.max(last.endInclusive, r.endInclusive);
    else out.push({ ...r });
  }
  return out;
}

function overlaps(ranges: readonly ByteRange[]): boolean {
  const sorted = [...ranges].sort((x, y) => x.start - y.start);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.endInclusive) return true;
  return false;
}

/**
 * What a Range header asks of a representation of `size` bytes. Ranges keep the client's order
 * unless some overlap, in which case they are sorted and merged (RFC 9110 §14.2 allows it).
 */
export function parseRangeHeader(value: string | undefined, size: number, options: RangeOptions = {}): RangeRequest {
  if (value === undefined) return { type: 'whole' };
  const header = value.trim();
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).toLowerCase() !== 'bytes') return { type: 'whole' };
  const specs = parseSpecs(header.slice(eq + 1));
  if (!specs) return { type: 'whole' };
  let ranges: ByteRange[] = [];
  for (const s of specs) {
    if (s.kind === 'suffix') {
      if (s.length > 0 && size > 0) ranges.push({ start: Math.max(0, size - s.length), endInclusive: size - 1 });
    } else if (s.first < size) {
      ranges.push({ start: s.first, endInclusive: s.last === null ? size - 1 : Math.min(s.last, size - 1) });
    }
  }
  if (ranges.length === 0) return { type: 'unsatisfiable' };
  if (overlaps(ranges)) ranges = coalesce(ranges);
  if (ranges.length > (options.maxRanges ?? 16)) ranges = coalesce(ranges);
  if (ranges.length > (options.maxRanges ?? 16)) return { type: 'whole' };
  return { type: 'partial', ranges };
}

/** `bytes start-end/size` */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.endInclusive}/${size}`;
}

/** `bytes *\/size`, for a 416. */
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}

/** Bytes in a range. */
export function rangeLength(r: ByteRange): number {
  return r.endInclusive - r.start + 1;
}

/** An HTTP-date as epoch ms, or null when it is not one. */
export function parseHttpDate(value: string): number | null {
  const v = value.trim();
  // IMF-fixdate, RFC 850 and asctime all start with a day name; Date.parse reads all three.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Whether an If-Range lets the Range apply (RFC 9110 §13.1.5): true without If-Range; with an
 * entity-tag, only a strong match of `etag`; with a date, only exactly the Last-Modified second.
 * Anything else (a weak tag, a bad date) is false: the whole representation is sent.
 */
export function ifRangeAllows(ifRange: string | undefined, etag: string | null, lastModifiedMs: number | null): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('W/')) return false;
  if (v.startsWith('"')) return etag !== null && v === etag;
  const ms = parseHttpDate(v);
  if (ms === null || lastModifiedMs === null) return false;
  return Math.floor(ms / 1000) === Math.floor(lastModifiedMs / 1000);
}
