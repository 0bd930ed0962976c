// planParts: every plan is legal, covers exactly the range, one request per block touched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLegalPart, KiB4, MiB, planParts } from '../src/stream/planner';

function check(start: number, end: number, block = MiB): void {
  const parts = planParts(start, end, block);
  let pos = start;
  for (const p of parts) {
    assert.ok(isLegalPart(p.offset, p.limit), `legal ${p.offset}+${p.limit} for ${start}-${end}`);
    assert.equal(p.offset + p.skip, pos, 'contiguous');
    assert.ok(p.skip + p.take <= p.limit, 'within the answer');
    assert.ok(p.take > 0);
    pos += p.take;
  }
  assert.equal(pos, end + 1, 'covers the whole range');
  assert.equal(parts.length, Math.floor(end / block) - Math.floor(start / block) + 1, 'one request per block');
}

describe('getFile rules', () => {
  it('isLegalPart follows Telegram', () => {
    assert.ok(isLegalPart(0, MiB));
    assert.ok(isLegalPart(4096, 512 * 1024), 'offset need not be a multiple of limit');
    assert.ok(!isLegalPart(MiB - KiB4, 2 * KiB4), 'crossing');
    assert.ok(!isLegalPart(0, 3 * KiB4), 'limit must divide 1 MiB');
    assert.ok(!isLegalPart(1, KiB4));
    assert.ok(!isLegalPart(0, 2 * MiB));
  });

  it('range classes', () => {
    check(0, 0);
    check(5 * MiB - 1, 5 * MiB - 1);
    check(MiB - 10, MiB + 10);
    check(0, 30 * MiB - 1);
    check(123456, 123456);
    check(4096, MiB - 1);
    check(MiB - 1, 3 * MiB);
  });

  it('small blocks', () => {
    check(0, 3 * MiB, 64 * 1024);
    check(70000, 900000, 4096);
  });

  it('a 1-byte range costs one 4 KiB request', () => {
    assert.deepEqual(planParts(5000, 5000), [{ offset: 4096, limit: 4096, skip: 904, take: 1 }]);
  });

  it('seeded random ranges', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const a = rnd(50 * MiB);
      const b = a + rnd(i % 2 ? 3 * MiB : 5000);
      check(a, b, [MiB, 512 * 1024, 65536, 4096][i % 4]);
    }
  });

  it('rejects bad input', () => {
    assert.throws(() => planParts(5, 4), RangeError);
    assert.throws(() => planParts(-1, 4), RangeError);
    assert.throws(() => planParts(0, 4, 3000), RangeError);
  });
});
