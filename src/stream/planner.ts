// The stream engine's block and part arithmetic, pure (no I/O, no state), in one place.
//
// Telegram's upload.getFile rules (DESIGN.md): offset and limit multiples of 4 KiB, limit dividing
// 1 MiB, and no request crossing a 1 MiB boundary; and, as production clients do, offset a
// multiple of limit (`--strict-offsets` in the emulator enforces it). The engine caches
// BLOCK-sized blocks (block i is bytes i·BLOCK … (i+1)·BLOCK − 1 of its file) and fetches runs of
// 1, 2 or 4 consecutive blocks of one MiB, aligned on their size, as one getFile part.
// Conventions: byte ranges are { offset, length } or positions with an inclusive `end`; block
// ranges are `first`…`last`, both inclusive; a part is { offset, limit }.

export const KiB4 = 4096;
export const MiB = 1 << 20;
/** Cache and fetch unit. Four make the largest legal getFile part (1 MiB). */
export const BLOCK = 256 * 1024;
export const BLOCKS_PER_MIB = MiB / BLOCK;

export function isLegalPart(offset: number, limit: number): boolean {
  return (
    Number.isSafeInteger(offset) && Number.isSafeInteger(limit) && offset >= 0 && limit > 0 &&
    offset % KiB4 === 0 && limit % KiB4 === 0 && MiB % limit === 0 &&
    Math.floor(offset / MiB) === Math.floor((offset + limit - 1) / MiB)
  );
}

/** `count` consecutive blocks from block `start`: one getFile part. */
export interface BlockRun {
  start: number;
  count: number;
}

/**
 * Ascending block indexes → legal runs: 1, 2 or 4 blocks, never crossing a MiB boundary, each
 * index in exactly one run, and every run aligned on its own size (start % count == 0, so the
 * part keeps offset % limit == 0 as production clients do; some media DCs refuse other parts).
 * A run of 4 is a whole MiB, a run of 2 an even pair of blocks of one MiB; anything else is
 * fetched block by block.
 */
export function groupRuns(indexes: readonly number[]): BlockRun[] {
  const runs: BlockRun[] = [];
  let i = 0;
  while (i < indexes.length) {
    const start = indexes[i]!;
    let avail = 1;
    while (i + avail < indexes.length && indexes[i + avail] === start + avail && avail < BLOCKS_PER_MIB) avail++;
    const count = [BLOCKS_PER_MIB, 2].find((c) => c <= avail && start % c === 0) ?? 1;
    runs.push({ start, count });
    i += count;
  }
  return runs;
}

/** A run's getFile part, and how many of its bytes the file has (fewer at the end of the file). */
export function runPart(run: BlockRun, fileSize: number): { offset: number; limit: number; expected: number } {
  const offset = run.start * BLOCK;
  const limit = run.count * BLOCK;
  return { offset, limit, expected: Math.min(limit, fileSize - offset) };
}

/** The blocks in a part's answer of `expected` bytes: each one's index and bytes from…to−1 of the answer. */
export function partBlocks(run: BlockRun, expected: number): { index: number; from: number; to: number }[] {
  const out: { index: number; from: number; to: number }[] = [];
  for (let k = 0; k < run.count && k * BLOCK < expected; k++) {
    out.push({ index: run.start + k, from: k * BLOCK, to: Math.min((k + 1) * BLOCK, expected) });
  }
  return out;
}

/** The blocks under a read of `length` bytes at `offset` (length > 0, offset < size): its last byte (clamped to the file) and blocks first…last. */
export function readSpan(offset: number, length: number, size: number): { end: number; first: number; last: number } {
  const end = Math.min(size, offset + length) - 1;
  return { end, first: Math.floor(offset / BLOCK), last: Math.floor(end / BLOCK) };
}

/**
 * Read-ahead window, in blocks, of a reader that has read `streak` bytes in a row: none before
 * 1 MiB (players that probe a file and leave cost little), then half of its streak and at least
 * 1 MiB, up to `maxBlocks`.
 */
export function readAheadWindow(streak: number, maxBlocks: number): number {
  return streak >= MiB ? Math.min(maxBlocks, Math.max(BLOCKS_PER_MIB, Math.ceil(streak / 2 / BLOCK))) : 0;
}

/**
 * The last block to ask for: `window` blocks past block `last`, extended to the end of its MiB
 * (whole MiB parts for read-ahead) when there is a window, and never past `lastWanted` (the
 * block of the last byte the reader will ever want, or of the end of the file).
 */
export function readHorizon(last: number, window: number, lastWanted: number): number {
  const horizon = Math.min(lastWanted, last + window);
  if (window > 0 && horizon < lastWanted) return Math.min(lastWanted, horizon + (BLOCKS_PER_MIB - 1 - (horizon % BLOCKS_PER_MIB)));
  return horizon;
}

/** Bytes a stream at `pos` reads next, up to `end` (inclusive): to the end of pos's block at most. */
export function chunkLength(pos: number, end: number): number {
  return Math.min(end + 1 - pos, BLOCK - (pos % BLOCK));
}
