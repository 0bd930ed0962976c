// range-header.ts and preconditions.ts: pure tables (RFC 9110 §13, §14).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePreconditions, parseEntityTags } from '../src/webdav/preconditions';
import {
  coalesce,
  contentRange,
  ifRangeAllows,
  parseHttpDate,
  parseRangeHeader,
  unsatisfiedContentRange,
  type RangeRequest,
} from '../src/webdav/range-header';

const whole: RangeRequest = { type: 'whole' };
const unsat: RangeRequest = { type: 'unsatisfiable' };
const part = (...r: [number, number][]): RangeRequest => ({ type: 'partial', ranges: r.map(([start, endInclusive]) => ({ start, endInclusive })) });

describe('parseRangeHeader (size 10000)', () => {
  const size = 10_000;
  const table: [string | undefined, RangeRequest][] = [
    [undefined, whole],
    ['bytes=0-0', part([0, 0])],
    ['bytes=9999-9999', part([9999, 9999])],
    ['bytes=0-9999', part([0, 9999])],
    ['bytes=100-199', part([100, 199])],
    ['bytes=9000-', part([9000, 9999])],
    ['bytes=0-', part([0, 9999])],
    ['bytes=-1', part([9999, 9999])],
    ['bytes=-500', part([9500, 9999])],
    ['bytes=-20000', part([0, 9999])],
    ['bytes=9990-20000', part([9990, 9999])],
    ['bytes=0-99999999999999999999999', part([0, 9999])],
    ['bytes=0-1,5-6', part([0, 1], [5, 6])],
    ['bytes=5-6,0-1', part([5, 6], [0, 1])],
    ['bytes=0-1, 5-6 ,, -2', part([0, 1], [5, 6], [9998, 9999])],
    ['bytes=0-5,3-8', part([0, 8])],
    ['bytes=10-20,0-9', part([10, 20], [0, 9])],
    ['bytes=0-1,20000-30000', part([0, 1])],
    ['BYTES=1-2', part([1, 2])],
    // unsatisfiable
    ['bytes=10000-', unsat],
    ['bytes=10000-10005', unsat],
    ['bytes=-0', unsat],
    ['bytes=20000-,30000-30001', unsat],
    ['bytes=99999999999999999999999-', unsat],
    // malformed or foreign: ignored (RFC 9110 §14.2), the whole representation is sent
    ['bytes=5-2', whole],
    ['bytes=', whole],
    ['bytes=,', whole],
    ['bytes=abc', whole],
    ['bytes=1-2-3', whole],
    ['bytes=+1-2', whole],
    ['bytes=1 - 2', whole],
    ['bytes=--1', whole],
    ['bytes=0x10-20', whole],
    ['bytes 0-1', whole],
    ['items=0-1', whole],
    ['bytes=0-1,5-2', whole],
    ['', whole],
  ];
  for (const [header, want] of table) {
    it(`${JSON.stringify(header)}`, () => assert.deepEqual(parseRangeHeader(header, size), want));
  }

  it('size 0: every range is unsatisfiable', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-', 0), unsat);
    assert.deepEqual(parseRangeHeader('bytes=-5', 0), unsat);
    assert.deepEqual(parseRangeHeader(undefined, 0), whole);
  });

  it('too many ranges are merged, and ignored if still too many', () => {
    const many = `bytes=${Array.from({ length: 20 }, (_, i) => `${i * 10}-${i * 10 + 9}`).join(',')}`;
    assert.deepEqual(parseRangeHeader(many, size, { maxRanges: 16 }), part([0, 199]));
    const sparse = `bytes=${Array.from({ length: 20 }, (_, i) => `${i * 100}-${i * 100 + 1}`).join(',')}`;
    assert.deepEqual(parseRangeHeader(sparse, size, { maxRanges: 16 }), whole);
    assert.equal((parseRangeHeader(sparse, size, { maxRanges: 20 }) as { ranges: unknown[] }).ranges.length, 20);
  });
});

describe('range helpers', () => {
  it('coalesce sorts and merges overlapping and touching ranges', () => {
    assert.deepEqual(coalesce([{ start: 10, endInclusive: 20 }, { start: 0, endInclusive: 9 }, { start: 30, endInclusive: 40 }, { start: 35, endInclusive: 50 }]), [
      { start: 0, endInclusive: 20 }, { start: 30, endInclusive: 50 },
    ]);
  });
  it('Content-Range forms', () => {
    assert.equal(contentRange({ start: 0, endInclusive: 0 }, 10), 'bytes 0-0/10');
    assert.equal(unsatisfiedContentRange(10), 'bytes */10');
  });
  it('parseHttpDate reads the three HTTP date forms, nothing else', () => {
    const ms = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), ms);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), ms);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), Date.parse('Sun Nov  6 08:49:37 1994'));
    assert.equal(parseHttpDate('"abc"'), null);
    assert.equal(parseHttpDate('1994-11-06'), null);
    assert.equal(parseHttpDate('Sun, garbage'), null);
  });
});

describe('ifRangeAllows', () => {
  const etag = '"123-456"';
  const lm = Date.UTC(2024, 0, 2, 3, 4, 5);
  const table: [string | undefined, boolean][] = [
    [undefined, true],
    ['"123-456"', true],
    ['"123-457"', false],
    ['W/"123-456"', false],
    [new Date(lm).toUTCString(), true],
    [new Date(lm + 1000).toUTCString(), false],
    [new Date(lm - 1000).toUTCString(), false],
    ['not a date', false],
  ];
  for (const [v, want] of table) it(`${JSON.stringify(v)} → ${want}`, () => assert.equal(ifRangeAllows(v, etag, lm), want));
});

describe('evaluatePreconditions', () => {
  const etag = '"9-10"';
  const lm = Date.UTC(2024, 0, 2, 3, 4, 5);
  const at = (ms: number): string => new Date(ms).toUTCString();
  const table: [string, Parameters<typeof evaluatePreconditions>[0], string][] = [
    ['none', {}, 'proceed'],
    ['If-Match same', { ifMatch: '"9-10"' }, 'proceed'],
    ['If-Match list', { ifMatch: '"x", "9-10"' }, 'proceed'],
    ['If-Match *', { ifMatch: '*' }, 'proceed'],
    ['If-Match other', { ifMatch: '"x"' }, 'failed'],
    ['If-Match weak (strong comparison)', { ifMatch: 'W/"9-10"' }, 'failed'],
    ['If-Unmodified-Since later', { ifUnmodifiedSince: at(lm + 5000) }, 'proceed'],
    ['If-Unmodified-Since earlier', { ifUnmodifiedSince: at(lm - 5000) }, 'failed'],
    ['If-Unmodified-Since ignored under If-Match', { ifMatch: '"9-10"', ifUnmodifiedSince: at(lm - 5000) }, 'proceed'],
    ['If-None-Match same', { ifNoneMatch: '"9-10"' }, 'not-modified'],
    ['If-None-Match weak (weak comparison)', { ifNoneMatch: 'W/"9-10"' }, 'not-modified'],
    ['If-None-Match *', { ifNoneMatch: '*' }, 'not-modified'],
    ['If-None-Match other', { ifNoneMatch: '"x"' }, 'proceed'],
    ['If-Modified-Since same second', { ifModifiedSince: at(lm) }, 'not-modified'],
    ['If-Modified-Since earlier', { ifModifiedSince: at(lm - 1000) }, 'proceed'],
    ['If-Modified-Since ignored under If-None-Match', { ifNoneMatch: '"x"', ifModifiedSince: at(lm) }, 'proceed'],
    ['If-Modified-Since garbage', { ifModifiedSince: 'yesterday' }, 'proceed'],
  ];
  for (const [name, h, want] of table) it(name, () => assert.equal(evaluatePreconditions(h, etag, lm), want));

  it('parseEntityTags', () => {
    assert.deepEqual(parseEntityTags('"a", W/"b" ,"c"'), [{ weak: false, opaque: '"a"' }, { weak: true, opaque: '"b"' }, { weak: false, opaque: '"c"' }]);
    assert.equal(parseEntityTags('*'), '*');
    assert.equal(parseEntityTags('garbage'), null);
  });
});
