// Telegram's upload.getFile rules (DESIGN.md): offset and limit multiples of 4 KiB, limit
// dividing 1 MiB, and no request crossing a 1 MiB boundary. Pure arithmetic; ranges are
// { start, endInclusive } byte positions, parts are { offset, limit } requests.

export const KiB4 = 4096;
export const MiB = 1 << 20;

export interface PartRequest {
  /** upload.getFile offset (legal). */
  offset: number;
  /** upload.getFile limit (legal). */
  limit: number;
  /** Bytes to drop from the start of the answer. */
  skip: number;
  /** Bytes to keep after `skip`. */
  take: number;
}

export function isLegalPart(offset: number, limit: number): boolean {
  return (
    Number.isSafeInteger(offset) && Number.isSafeInteger(limit) && offset >= 0 && limit > 0 &&
    offset % KiB4 === 0 && limit % KiB4 === 0 && MiB % limit === 0 &&
    Math.floor(offset / MiB) === Math.floor((offset + limit - 1) / MiB)
  );
}

function nextPow2(n: number): number {
  let p = KiB4;
  while (p < n) p *= 2;
  return p;
}

/**
 * Covers bytes start..endInclusive with legal requests: one per `block` (a power of two from
 * 4 KiB to 1 MiB, aligned, so no request crosses a MiB boundary) that the range touches, each
 * the smallest power of two holding the needed bytes of its block. That is the fewest requests
 * possible for that block size, and fetches less than twice what is needed per block.
 */
export function planParts(start: number, endInclusive: number, block = MiB): PartRequest[] {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(endInclusive) || start < 0 || endInclusive < start) {
    throw new RangeError(`bad byte range ${start}-${endInclusive}`);
  }
  if (block < KiB4 || block > MiB || MiB % block !== 0) throw new RangeError(`block ${block} is not a power of two from 4 KiB to 1 MiB`);
  const parts: PartRequest[] = [];
  for (let b = Math.floor(start / block); b <= Math.floor(endInclusive / block); b++) {
    const blockStart = b * block;
    const s = Math.max(start, blockStart);
    const e = Math.min(endInclusive, blockStart + block - 1);
    const aligned = s - (s % KiB4);
    const limit = nextPow2(e + 1 - aligned);
    const offset = Math.min(aligned, blockStart + block - limit);
    parts.push({ offset, limit, skip: s - offset, take: e - s + 1 });
  }
  return parts;
}

