// The stream engine's pure arithmetic (planner.ts): getFile's rules, grouping missing blocks into
// legal parts (groupRuns: 1, 2 or 4 blocks aligned on their size, never crossing a MiB, every
// block exactly once), the blocks of a part's answer, and the read-ahead window. Properties with
// fast-check, seeded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BLOCK, BLOCKS_PER_MIB, chunkLength, groupRuns, isLegalPart, KiB4, MiB, partBlocks, readAheadWindow, readHorizon, readSpan, runPart,
  type BlockRun,
} from '../src/stream/planner';

const SEED = 20240611;
const runs = { seed: SEED, numRuns: 500 };

/** Ascending unique block indexes, made of a few stretches of consecutive blocks (as a reader asks). */
const indexLists = fc.array(fc.tuple(fc.nat({ max: 60 }), fc.nat({ max: 9 })), { maxLength: 6 }).map((spans) => {
  const set = new Set<number>();
  for (const [a, n] of spans) for (let i = a; i <= a + n; i++) set.add(i);
  return [...set].sort((x, y) => x - y);
});

const covered = (rs: BlockRun[]): number[] => rs.flatMap((r) => Array.from({ length: r.count }, (_, k) => r.start + k));

describe('getFile rules', () => {
  it('isLegalPart follows Telegram', () => {
    assert.ok(isLegalPart(0, MiB));
    assert.ok(isLegalPart(4096, 512 * 1024), 'offset need not be a multiple of limit');
    assert.ok(!isLegalPart(MiB - KiB4, 2 * KiB4), 'crossing');
    assert.ok(!isLegalPart(0, 3 * KiB4), 'limit must divide 1 MiB');
    assert.ok(!isLegalPart(1, KiB4));
    assert.ok(!isLegalPart(0, 2 * MiB));
  });
});

describe('groupRuns', () => {
  it('every run is a legal part of 1, 2 or 4 blocks within one MiB', () => {
    fc.assert(fc.property(indexLists, (list) => {
      for (const r of groupRuns(list)) {
        assert.ok([1, 2, 4].includes(r.count), `${r.start}+${r.count}`);
        assert.equal(Math.floor(r.start / BLOCKS_PER_MIB), Math.floor((r.start + r.count - 1) / BLOCKS_PER_MIB), `${r.start}+${r.count} crosses a MiB`);
        assert.ok(isLegalPart(r.start * BLOCK, r.count * BLOCK), `${r.start}+${r.count}`);
      }
    }), runs);
  });

  it('covers every index asked for exactly once, in order, and nothing else', () => {
    fc.assert(fc.property(indexLists, (list) => {
      assert.deepEqual(covered(groupRuns(list)), list);
    }), runs);
  });

  it('a whole MiB asked for is one 1 MiB part', () => {
    fc.assert(fc.property(indexLists, fc.nat({ max: 15 }), (list, mib) => {
      const whole = Array.from({ length: BLOCKS_PER_MIB }, (_, k) => mib * BLOCKS_PER_MIB + k);
      const merged = [...new Set([...list, ...whole])].sort((x, y) => x - y);
      assert.ok(groupRuns(merged).some((r) => r.start === mib * BLOCKS_PER_MIB && r.count === 4), `MiB ${mib} of ${merged}`);
    }), runs);
  });

  it('a contiguous stretch from a MiB boundary takes one part per MiB', () => {
    for (let blocks = 1; blocks <= 5 * BLOCKS_PER_MIB; blocks++) {
      const list = Array.from({ length: blocks }, (_, k) => 8 + k);
      const got = groupRuns(list);
      assert.deepEqual(covered(got), list);
      // Whole MiBs as 4, and the rest (1, 2 or 3 blocks) as 1, 2 or 2 + 1.
      const rest = blocks % BLOCKS_PER_MIB;
      assert.equal(got.length, Math.floor(blocks / BLOCKS_PER_MIB) + [0, 1, 1, 2][rest]!, `${blocks} blocks: ${JSON.stringify(got)}`);
    }
  });

  it('aligns every run on its size: a part at an odd block is one block (offset % limit == 0)', () => {
    assert.deepEqual(groupRuns([]), []);
    assert.deepEqual(groupRuns([0, 1, 2, 3, 4, 5]), [{ start: 0, count: 4 }, { start: 4, count: 2 }]);
    assert.deepEqual(groupRuns([1, 2, 3]), [{ start: 1, count: 1 }, { start: 2, count: 2 }]);
    assert.deepEqual(groupRuns([3, 4, 5, 6, 7]), [{ start: 3, count: 1 }, { start: 4, count: 4 }]);
    assert.deepEqual(groupRuns([2, 3, 4, 5]), [{ start: 2, count: 2 }, { start: 4, count: 2 }]);
    assert.deepEqual(groupRuns([5, 6, 7, 8]), [{ start: 5, count: 1 }, { start: 6, count: 2 }, { start: 8, count: 1 }]);
    assert.deepEqual(groupRuns([1, 2]), [{ start: 1, count: 1 }, { start: 2, count: 1 }], 'not 512 KiB at 256 KiB');
    assert.deepEqual(groupRuns([0, 2, 4, 6]), [0, 2, 4, 6].map((start) => ({ start, count: 1 })));
  });

  it('every part keeps offset % limit == 0, within one MiB, at most 1 MiB', () => {
    fc.assert(fc.property(indexLists, fc.integer({ min: 1, max: 70 * BLOCK }), (list, size) => {
      for (const run of groupRuns(list)) {
        assert.equal(run.start % run.count, 0, `${run.start}+${run.count}`);
        const { offset, limit } = runPart(run, size);
        assert.equal(offset % limit, 0, `${offset}+${limit}`);
        assert.ok(limit <= MiB && Math.floor(offset / MiB) === Math.floor((offset + limit - 1) / MiB), `${offset}+${limit}`);
      }
    }), runs);
  });

  it('never makes more parts than blocks, nor two parts where one aligned part would do', () => {
    fc.assert(fc.property(indexLists, (list) => {
      const got = groupRuns(list);
      assert.ok(got.length <= list.length);
      for (let k = 1; k < got.length; k++) {
        const a = got[k - 1]!;
        const b = got[k]!;
        // Two adjacent single blocks of one MiB, the first even: they would have been one part.
        const pairable = a.count === 1 && b.count === 1 && b.start === a.start + 1 && a.start % 2 === 0;
        assert.ok(!pairable, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
      }
    }), runs);
  });
});

describe('parts and blocks', () => {
  it('runPart and partBlocks: the blocks of a part cover exactly the bytes the file has', () => {
    fc.assert(fc.property(indexLists, fc.integer({ min: 1, max: 70 * BLOCK }), (list, size) => {
      for (const run of groupRuns(list.filter((i) => i * BLOCK < size))) {
        const { offset, limit, expected } = runPart(run, size);
        assert.ok(isLegalPart(offset, limit));
        assert.equal(expected, Math.min(limit, size - offset));
        const blocks = partBlocks(run, expected);
        assert.deepEqual(blocks.map((b) => b.index), Array.from({ length: blocks.length }, (_, k) => run.start + k));
        let at = 0;
        for (const b of blocks) {
          assert.equal(b.from, at);
          assert.ok(b.to > b.from && b.to - b.from <= BLOCK);
          at = b.to;
        }
        assert.equal(at, expected, 'every byte of the answer in one block');
      }
    }), runs);
  });

  it('readSpan and chunkLength stay within blocks and the file', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 * MiB }), fc.nat(), fc.integer({ min: 1, max: 3 * MiB }), (size, at, length) => {
      const offset = at % size;
      const { end, first, last } = readSpan(offset, length, size);
      assert.equal(end, Math.min(size, offset + length) - 1);
      assert.ok(first * BLOCK <= offset && end < (last + 1) * BLOCK);
      const n = chunkLength(offset, end);
      assert.ok(n >= 1 && offset + n - 1 <= end);
      assert.equal(Math.floor(offset / BLOCK), Math.floor((offset + n - 1) / BLOCK), 'a chunk never crosses a block');
    }), runs);
  });

  it('read-ahead: none before 1 MiB read in a row, then half the streak, bounded, in whole MiBs up to what is wanted', () => {
    assert.equal(readAheadWindow(MiB - 1, 32), 0);
    assert.equal(readAheadWindow(MiB, 32), BLOCKS_PER_MIB);
    assert.equal(readAheadWindow(16 * MiB, 32), 32);
    assert.equal(readAheadWindow(100 * MiB, 32), 32);
    assert.equal(readHorizon(5, 0, 100), 5, 'no window: only the blocks read');
    assert.equal(readHorizon(5, 4, 100), 11, '5 + 4 = 9, to the end of its MiB');
    assert.equal(readHorizon(5, 4, 10), 10, 'never past the last block wanted');
    fc.assert(fc.property(fc.nat({ max: 200 }), fc.nat({ max: 64 * MiB }), fc.integer({ min: 0, max: 64 }), fc.nat({ max: 300 }), (last, streak, max, extra) => {
      const window = readAheadWindow(streak, max);
      assert.ok(window <= max || window === 0);
      const lastWanted = last + extra;
      const h = readHorizon(last, window, lastWanted);
      assert.ok(h >= last && h <= lastWanted && h <= last + window + BLOCKS_PER_MIB - 1);
      if (window > 0 && h < lastWanted) assert.equal(h % BLOCKS_PER_MIB, BLOCKS_PER_MIB - 1, 'read-ahead ends on a MiB');
    }), runs);
  });
});
