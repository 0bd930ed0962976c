// Hard case: fuzzing the HTTP front-end (fast-check, seeded). 1,000 random Range headers against
// one file and 1,000 random request paths against the WebDAV tree of a running server: every
// request gets an answer within a per-request deadline, and the status, Content-Range and body
// are the ones an oracle written here from RFC 9110 (independently of src/webdav/range-header.ts)
// computes. Requests go over plain sockets (helpers/hard-cases.ts rawRequest), so the header and
// the request target reach the server byte for byte as generated.
//
// The oracle's policy choices, where RFC 9110 leaves the server a choice, are the ones DESIGN.md
// states: a Range that is malformed, has an invalid range-spec (last < first) or another unit is
// ignored (200, whole body); more than 16 disjoint ranges (after merging overlapping or touching
// ones) are ignored too; a valid Range of which nothing overlaps the file is 416 with
// `bytes */size`; otherwise 206, one part or multipart/byteranges, whose parts must cover exactly
// the requested bytes (the server may merge and reorder them).
//
// Replay a failure with TGVFS_FUZZ_SEED=<seed printed in the failure> (and fast-check's path).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startServer, type RunningServer } from '../src/app/server';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { keystream } from '../support/bytes';
import { metricValue, metrics, parseMultipart, rawRequest, type RawResponse } from './helpers/hard-cases';

const SEED = process.env.TGVFS_FUZZ_SEED ? Number(process.env.TGVFS_FUZZ_SEED) : 20261125;
const RUNS = 1000;
const REQUEST_MS = 5000;
const MAX_RANGES = 16;
const BLOCK = 256 * 1024;

const SIZE = BLOCK + 37_777; // two engine blocks, the second partial
const FILE = 'small.bin';
const ODD_FILE = 'héllo wörld #1 %41 ;+&=~.txt';
const CHANNELS = ['fz', 'dös chan'];
const TREE: Record<string, Record<string, Buffer>> = {
  'fz': { [FILE]: keystream(SIZE, 'fz/small'), [ODD_FILE]: Buffer.from('odd name\n') },
  'dös chan': { 'a.txt': Buffer.from('a\n') },
};

// ---- the Range oracle ----------------------------------------------------------------------

type Expect =
  | { kind: 'whole' }
  | { kind: 'unsatisfiable' }
  /** Maximal runs of requested bytes, sorted, inclusive ends. */
  | { kind: 'partial'; runs: [bigint, bigint][] };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function rangeOracle(value: string, size: number): Expect {
  const v = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const eq = v.indexOf('=');
  if (eq === -1) return { kind: 'whole' };
  const unit = v.slice(0, eq);
  if (!TOKEN.test(unit) || unit.toLowerCase() !== 'bytes') return { kind: 'whole' };
  const n = BigInt(size);
  const wanted: [bigint, bigint][] = [];
  let specs = 0;
  for (const raw of v.slice(eq + 1).split(',')) {
    const el = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (el === '') continue; // #rule: empty list elements are allowed
    specs++;
    let m = /^([0-9]+)-([0-9]*)$/.exec(el);
    if (m) {
      const first = BigInt(m[1]!);
      const last = m[2] === '' ? null : BigInt(m[2]!);
      if (last !== null && last < first) return { kind: 'whole' };
      if (first < n) wanted.push([first, last === null || last >= n ? n - 1n : last]);
      continue;
    }
    m = /^-([0-9]+)$/.exec(el);
    if (!m) return { kind: 'whole' };
    const len = BigInt(m[1]!);
    if (len > 0n && n > 0n) wanted.push([len >= n ? 0n : n - len, n - 1n]);
  }
  if (specs === 0) return { kind: 'whole' };
  if (wanted.length === 0) return { kind: 'unsatisfiable' };
  const runs = mergeRuns(wanted);
  return runs.length > MAX_RANGES ? { kind: 'whole' } : { kind: 'partial', runs };
}

/** Sorted maximal runs: overlapping or touching ranges merged. */
function mergeRuns(ranges: [bigint, bigint][]): [bigint, bigint][] {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) last[1] = last[1] > b ? last[1] : b;
    else out.push([a, b]);
  }
  return out;
}

/** Checks one answer against the oracle; returns its class (for the tally). */
function checkRangeAnswer(header: string, r: RawResponse, file: Buffer): string {
  const expect = rangeOracle(header, file.length);
  const ctx = `Range: ${JSON.stringify(header)} → ${r.status} ${r.headers.get('content-range') ?? ''}`;
  assert.equal(r.headers.get('accept-ranges'), 'bytes', ctx);
  if (expect.kind === 'whole') {
    assert.equal(r.status, 200, ctx);
    assert.equal(r.headers.get('content-range'), undefined, ctx);
    assert.ok(r.body.equals(file), `${ctx}: body of ${r.body.length} bytes is not the file`);
    return '200';
  }
  if (expect.kind === 'unsatisfiable') {
    assert.equal(r.status, 416, ctx);
    assert.equal(r.headers.get('content-range'), `bytes */${file.length}`, ctx);
    return '416';
  }
  assert.equal(r.status, 206, ctx);
  const type = r.headers.get('content-type') ?? '';
  const boundary = /^multipart\/byteranges; *boundary=(.+)$/.exec(type)?.[1];
  const parts = boundary
    ? parseMultipart(r.body, boundary)
    : [{ contentRange: r.headers.get('content-range') ?? '(none)', bytes: r.body }];
  const got: [bigint, bigint][] = [];
  for (const p of parts) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(p.contentRange);
    assert.ok(m, `${ctx}: part Content-Range ${p.contentRange}`);
    const [a, b] = [Number(m[1]), Number(m[2])];
    assert.equal(Number(m[3]), file.length, ctx);
    assert.ok(p.bytes.equals(file.subarray(a, b + 1)), `${ctx}: bytes of part ${p.contentRange} differ from the file`);
    for (const [x, y] of got) assert.ok(b < x || a > y, `${ctx}: parts overlap`);
    got.push([BigInt(a), BigInt(b)]);
  }
  assert.deepEqual(mergeRuns(got), expect.runs, `${ctx}: parts do not cover exactly the requested bytes`);
  return boundary ? '206 multipart' : '206';
}

// ---- the Range generator -------------------------------------------------------------------

const ows = fc.constantFrom('', '', '', ' ', '  ', '\t');
/** Positions near the edges that matter (0, a block, the end) and absurd ones. */
const position = fc.oneof(
  { weight: 4, arbitrary: fc.nat(SIZE + 10) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, BLOCK - 1, BLOCK, BLOCK + 1, SIZE - 2, SIZE - 1, SIZE, SIZE + 1).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n - 2n, max: 10n ** 30n }) },
  { weight: 1, arbitrary: fc.nat(SIZE).map((n) => `000${n}`) },
).map(String);
const spec = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(position, position).map(([a, b]) => (BigInt(a) <= BigInt(b) ? `${a}-${b}` : `${b}-${a}`)) },
  { weight: 1, arbitrary: fc.tuple(position, position).map(([a, b]) => `${a}-${b}`) },
  { weight: 2, arbitrary: position.map((a) => `${a}-`) },
  { weight: 2, arbitrary: position.map((n) => `-${n}`) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      position,
      fc.constantFrom('-', '--', '1-2-3', 'a-b', '+1-2', '0x10-20', '1.5-2', '1 - 2', '-0', '0-0', '-', '=', ';', '1-2;q=1'),
      fc.string({ maxLength: 6, unit: fc.constantFrom('0', '1', '-', ' ', 'x', ',', '=') }),
    ),
  },
);
const element = fc.tuple(ows, spec, ows, fc.constantFrom(',', ',', ',', ',,'));
const rangeSet = fc.oneof(
  { weight: 6, arbitrary: fc.array(element, { minLength: 1, maxLength: 3 }) },
  { weight: 2, arbitrary: fc.array(element, { minLength: 4, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant([] as [string, string, string, string][]) },
).map((els) => els.map(([a, s, b, sep], i) => `${a}${s}${b}${i < els.length - 1 ? sep : ''}`).join(''));
const unit = fc.oneof(
  { weight: 12, arbitrary: fc.constant('bytes=') },
  { weight: 1, arbitrary: fc.constantFrom('Bytes=', 'BYTES=', 'bytes =', 'bytes= ', 'byte=', 'items=', 'none=', '=', 'bytes', 'bytes:', ' bytes=') },
);
const rangeHeader = fc.tuple(ows, unit, rangeSet, ows).map((p) => p.join(''));
/** Always run first: cases that once failed, and edges the generator reaches rarely. */
const RANGE_EXAMPLES = [
  // Both ends past 2^53, last < first: invalid (200). Once answered 416: both saturated to 2^53−1.
  'bytes=464647783098456049291983901294-30187004462353616332798626730',
  'bytes=9007199254740993-9007199254740992',
  `bytes=${SIZE}-`,
  `bytes=-${SIZE + 1}`,
  'bytes=-0',
  'bytes=0-0,-1',
  `bytes=${Array.from({ length: 17 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`,
  `bytes=${Array.from({ length: 17 }, (_, i) => `${i * 10}-${i * 10 + 9}`).join(',')}`,
];

// ---- the path oracle -----------------------------------------------------------------------

type PathExpect = { status: 400 } | { status: 404 } | { status: 200; dir: string[] } | { status: 200; file: Buffer };

/** %-decoding of one segment as UTF-8, written here (not decodeURIComponent): null when malformed. */
function percentDecode(s: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

function pathOracle(target: string): PathExpect {
  const rawPath = target.split('?')[0]!;
  const names: string[] = [];
  for (const seg of rawPath.split('/')) {
    const d = percentDecode(seg);
    if (d === null) return { status: 400 };
    if (d === '') continue;
    if (d === '.' || d === '..' || /[/\\\0]/.test(d)) return { status: 400 };
    names.push(d.normalize('NFC'));
  }
  if (names.some((n) => n.startsWith('._') || n.toLowerCase() === '.ds_store')) return { status: 404 };
  if (names.length === 0) return { status: 200, dir: CHANNELS };
  const files = TREE[names[0]!];
  if (!files) return { status: 404 };
  if (names.length === 1) return { status: 200, dir: Object.keys(files) };
  const file = files[names[1]!];
  if (!file || names.length > 2) return { status: 404 };
  return { status: 200, file };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function checkPathAnswer(target: string, r: RawResponse): string {
  const expect = pathOracle(target);
  const ctx = `GET ${JSON.stringify(target)} → ${r.status}`;
  assert.equal(r.status, expect.status, ctx);
  if ('file' in expect) assert.ok(r.body.equals(expect.file), `${ctx}: not the file's bytes`);
  if ('dir' in expect) {
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/, ctx);
    const html = r.body.toString('utf8');
    for (const name of expect.dir) assert.ok(html.includes(escapeHtml(name)), `${ctx}: listing lacks ${name}`);
  }
  return 'file' in expect ? '200 file' : 'dir' in expect ? '200 listing' : String(expect.status);
}

// ---- the path generator --------------------------------------------------------------------

const junkName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }),
  fc.constantFrom('x'.repeat(300), 'é'.repeat(200), '._hidden', '.DS_Store', '.ds_STORE', 'stream', 'thumb', 'e\u0301', 'a\\b', 'a/b', 'nul\0x'),
).map((s) => `~${s}`); // never a real name (no real name starts with "~")
const realName = fc.constantFrom(...CHANNELS, FILE, ODD_FILE, 'a.txt', 'FZ', FILE.toUpperCase(), 'd\u006f\u0308s chan');
const specialSeg = fc.constantFrom('', '.', '..', '%2e%2e', '%2E.', '%2e', '%00', '%2F', '%2f', '%5C', '%5c', '%', '%zz', '%e9', '%c3', '%C3%A9', '%ff%fe', 'a%2Fb', '..%2F..');
/** How a decoded name is written in the target. */
const encoding = fc.constantFrom('full', 'full', 'upper', 'keep-sub-delims', 'nfd');

function encodeSegment(name: string, how: string): string {
  switch (how) {
    case 'upper':
      return encodeURIComponent(name).replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
    case 'keep-sub-delims':
      return encodeURIComponent(name).replace(/%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/gi, (e) => decodeURIComponent(e));
    case 'nfd':
      return encodeURIComponent(name.normalize('NFD'));
    default:
      return encodeURIComponent(name).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  }
}

const segment = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(realName, encoding).map(([n, how]) => encodeSegment(n, how)) },
  { weight: 3, arbitrary: fc.tuple(junkName, encoding).map(([n, how]) => encodeSegment(n, how)) },
  { weight: 2, arbitrary: specialSeg },
);
/** A real file's path, with odd but valid spellings (encodings, NFD, doubled slashes). */
const realFile = fc
  .tuple(fc.constantFrom(...Object.entries(TREE).flatMap(([ch, names]) => Object.keys(names).map((n) => [ch, n] as const))), encoding, encoding, fc.constantFrom('', '/', '//'))
  .map(([[ch, n], e1, e2, sep]) => [encodeSegment(ch, e1), sep, encodeSegment(n, e2)]);
const requestTarget = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.array(segment, { minLength: 0, maxLength: 5 }) }, { weight: 1, arbitrary: realFile }),
    fc.constantFrom('', '', '/', '//'),
    fc.constantFrom('', '', '?x=1', '?a=%2F..', '?'),
  )
  .map(([segs, tail, query]) => `/${segs.join('/')}${segs.length > 0 ? tail : ''}${query}`)
  // The front-end's own endpoints are not the WebDAV tree.
  .filter((t) => !/^\/(stream|thumb|healthz|metrics)(\/|\?|$)/.test(t));

// ---- the suite -----------------------------------------------------------------------------

describe('hard case: fuzz (fast-check)', { timeout: 90_000 }, () => {
  let f: EmulatorFixture;
  let server: RunningServer;
  let port: number;

  before(async () => {
    const files: Record<string, Buffer> = {};
    for (const [ch, names] of Object.entries(TREE)) for (const [n, b] of Object.entries(names)) files[`${ch}/${n}`] = b;
    f = await startFixture(files, { watch: false });
    server = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await server.indexed();
    port = server.address.port;
  });
  after(async () => {
    await server?.close();
    await f?.close();
  });

  /** Runs `check` on RUNS values of `arb`; every answer class must occur (the generator is not lopsided). */
  async function property<T>(what: string, arb: fc.Arbitrary<T>, classes: string[], check: (x: T) => Promise<string>, examples: [T][] = []): Promise<void> {
    const t0 = Date.now();
    const tally: Record<string, number> = {};
    const out = await fc.check(fc.asyncProperty(arb, async (x) => {
      const c = await check(x);
      tally[c] = (tally[c] ?? 0) + 1;
    }), { numRuns: RUNS, seed: SEED, endOnFailure: true, examples });
    if (out.failed) {
      const why = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
      assert.fail(`${what}: failed after ${out.numRuns} runs; replay with TGVFS_FUZZ_SEED=${out.seed} (path ${out.counterexamplePath}): ${JSON.stringify(out.counterexample)}\n${why}`);
    }
    console.log(`# ${what}: ${out.numRuns} runs in ${Date.now() - t0} ms (seed ${SEED}): ${JSON.stringify(tally)}`);
    for (const c of classes) assert.ok((tally[c] ?? 0) > 0, `${what}: no answer of class ${c} in ${RUNS} runs: ${JSON.stringify(tally)}`);
  }

  it('1,000 random Range headers: the status, Content-Range and bytes RFC 9110 asks for', async () => {
    const file = TREE.fz![FILE]!;
    const upstream = f.emu.stats().calls['upload.getFile'] ?? 0;
    await property('Range', rangeHeader, ['200', '206', '206 multipart', '416'], async (h) => {
      const r = await rawRequest(port, `/fz/${FILE}`, { headers: [['Range', h]], timeoutMs: REQUEST_MS });
      return checkRangeAnswer(h, r, file);
    }, RANGE_EXAMPLES.map((h) => [h]));
    // The block cache answers: a few getFile calls for the whole run, not one per request.
    assert.ok((f.emu.stats().calls['upload.getFile'] ?? 0) - upstream <= 4, 'upstream work stays a few parts');
  });

  it('1,000 random paths: 200 with the right listing or bytes, 404, or 400; never 500, never a hang', async () => {
    await property('paths', requestTarget, ['200 file', '200 listing', '400', '404'], async (t) => {
      const r = await rawRequest(port, t, { timeoutMs: REQUEST_MS });
      return checkPathAnswer(t, r);
    });
  });

  it('the server is healthy afterwards: no stream left open, no 5xx counted', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const text = await metrics(server.url);
    assert.equal(metricValue(text, 'tgvfs_http_open_streams'), 0);
    assert.equal(metricValue(text, 'tgvfs_engine_open_readers'), 0);
    assert.doesNotMatch(text, /^tgvfs_http_requests_total\{[^}]*status="5\d\d"[^}]*\} [1-9]/m);
  });
});
