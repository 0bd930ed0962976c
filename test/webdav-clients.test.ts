// `tgvfs serve` against the emulator, exercised by real clients spawned here (issue 6, "Tests with
// real clients"): curl (a table of Range headers, HEAD against GET, PROPFIND), rclone (lsl, cat
// --offset/--count, copy + check), davfs2 (mount, ls, cp, unmount), ffprobe on a 100+ MB mp4 with
// its moov at the end (under 4 MB upstream), VLC headless seeking past the middle, and 50
// concurrent range GETs. The emulator runs in this process (its /stats counts upstream calls);
// the server is `node bin/tgvfs serve` in a child process on a free port.
//
// Needs: curl, rclone, davfs2 (mount.davfs; root), ffmpeg/ffprobe, vlc-bin + vlc-plugin-base
// (cvlc), util-linux's setpriv (VLC refuses root). A missing program fails its test with the
// program's name and package (.ci/run installs them all).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiB } from './helpers/emulator-fixture';
import { callsBetween, startServe, startWebdavFixture, type ServeProcess, type SourceFile, type WebdavFixture } from './helpers/webdav-fixture';
import { serveLedger, type ServeLedger } from './helpers/upstream-ledger';
import { keystream } from '../support/bytes';
import { testVideo, type TestVideo } from './helpers/webdav-media';
import { startRecordingProxy } from './helpers/webdav-proxy';
import { prng } from '../support/prng';
import { findProgram, requireProgram, run } from '../support/programs';
import { asUnprivileged, parseHeaderBlock, sha256File } from './helpers/webdav-tools';
import { createHash } from 'node:crypto';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// ---- the data ------------------------------------------------------------------------------------

/** Message dates are whole seconds: every mtime here is one. */
const BASE_MS = Date.UTC(2024, 0, 15, 8, 30, 0);
const at = (seconds: number): Date => new Date(BASE_MS + seconds * 1000);

const A_SIZE = 3 * MiB + 12345; // not a multiple of anything the engine aligns to
const BIG_SIZE = 16 * MiB + 777;
const THOUSAND = 1000;
const UNICODE_NAME = 'notes été #1 & 50%.txt';

/** The `mixed` channel: edge sizes and a name that needs %-encoding. */
const MIXED: Record<string, number> = {
  'tiny.txt': 1,
  'page.bin': 4095,
  'exact-1MiB.bin': MiB,
  'one-more.bin': MiB + 1,
  [UNICODE_NAME]: 1_500_000,
};

const thousandName = (i: number): string => `f${String(i).padStart(4, '0')}.bin`;
const thousandSize = (i: number): number => 1 + ((i * 7919) % 6000);
/** About a day apart, not on round seconds, over ~2.7 years. */
const thousandDate = (i: number): Date => at(i * 86_413);

/** curl's URL form of a path: each segment %-encoded. */
const enc = (rel: string): string => rel.split('/').map(encodeURIComponent).join('/');

// ---- helpers -------------------------------------------------------------------------------------

interface CurlResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

let tmpCounter = 0;

async function curl(url: string, opts: { method?: 'GET' | 'HEAD' | 'PROPFIND'; headers?: string[]; tmp: string }): Promise<CurlResponse> {
  const bin = requireProgram('curl');
  const n = ++tmpCounter;
  const headFile = path.join(opts.tmp, `head-${n}`);
  const bodyFile = path.join(opts.tmp, `body-${n}`);
  // Headers to one file, the body to another, and the number of body bytes on stdout (with -I
  // curl writes the headers to the output file too, so a HEAD's body size comes from -w).
  const args = ['-sS', '--globoff', '--http1.1', '-D', headFile, '-o', bodyFile, '-w', '%{size_download}'];
  if (opts.method === 'HEAD') args.push('-I');
  else if (opts.method && opts.method !== 'GET') args.push('-X', opts.method);
  for (const h of opts.headers ?? []) args.push('-H', h);
  args.push(url);
  try {
    const r = await run(bin, args, { timeoutMs: 30_000 });
    const { status, headers } = parseHeaderBlock(await readFile(headFile, 'latin1'));
    const size = Number(r.stdout.toString().trim());
    const body = opts.method === 'HEAD' ? Buffer.alloc(size) : await readFile(bodyFile).catch(() => Buffer.alloc(0));
    return { status, headers, body };
  } finally {
    await rm(headFile, { force: true });
    await rm(bodyFile, { force: true });
  }
}

/** Bytes [start, endInclusive] of a source file. */
async function slice(file: string, start: number, endInclusive: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const len = Math.max(0, endInclusive - start + 1);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

interface Part {
  headers: Map<string, string>;
  body: Buffer;
}

/** The parts of a multipart/byteranges body (binary-safe). */
function multipartParts(body: Buffer, boundary: string): { parts: Part[]; closed: boolean } {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  assert.ok(pos >= 0, `no boundary --${boundary} in the body`);
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return { parts, closed: true };
    assert.equal(body.subarray(pos, pos + 2).toString(), '\r\n', 'CRLF after a boundary');
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    assert.ok(headEnd >= 0, 'a part without the blank line after its headers');
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headEnd).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return { parts, closed: false };
    parts.push({ headers, body: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
}

interface DavEntry {
  href: string;
  /** Decoded path of the href. */
  path: string;
  collection: boolean;
  size: number | null;
  lastModified: string | null;
  etag: string | null;
}

/** The responses of a PROPFIND multistatus (tolerant of the namespace prefix). */
function parseMultistatus(xml: string): DavEntry[] {
  const out: DavEntry[] = [];
  const re = /<([A-Za-z][\w.-]*:)?response\b[^>]*>([\s\S]*?)<\/\1?response>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const inner = m[2]!;
    const pick = (name: string): string | null => {
      const r = new RegExp(`<(?:[A-Za-z][\\w.-]*:)?${name}\\b[^>/]*>([^<]*)<`).exec(inner);
      return r ? r[1]!.trim() : null;
    };
    const href = pick('href') ?? '';
    const p = decodeURIComponent(href.replace(/^[a-z]+:\/\/[^/]+/i, ''));
    const size = pick('getcontentlength');
    out.push({
      href,
      path: p,
      collection: /<(?:[A-Za-z][\w.-]*:)?collection\s*\/>/.test(inner),
      size: size === null ? null : Number(size),
      lastModified: pick('getlastmodified'),
      etag: pick('getetag'),
    });
  }
  return out;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;

// ---- the tests -----------------------------------------------------------------------------------

describe('real WebDAV/HTTP clients against tgvfs serve', { timeout: 240_000 }, () => {
  let f: WebdavFixture;
  let serve: ServeProcess;
  /** The server's getFile calls at both ends: upstream figures are read once they agree. */
  let serverCalls: ServeLedger;
  let video: TestVideo | null = null;
  let tmp: string;
  const mixedBytes = new Map<string, Buffer>();
  const t0 = performance.now();

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-webdav-clients-'));
    // The video needs ffmpeg; without it only the tests that need the video fail (naming ffmpeg).
    if (findProgram('ffmpeg')) video = await testVideo({ seconds: 60, bitrate: 15_000_000, minBytes: 100 * 1000 * 1000 });
    const files: Record<string, SourceFile> = {
      'media/a.bin': { bytes: keystream(A_SIZE, 'a.bin'), mtime: at(0) },
      'media/big.bin': { bytes: keystream(BIG_SIZE, 'big.bin'), mtime: at(60) },
    };
    if (video) files['media/video.mp4'] = { copyFrom: video.path, mtime: at(120) };
    let k = 0;
    for (const [name, size] of Object.entries(MIXED)) {
      const bytes = keystream(size, `mixed/${name}`);
      mixedBytes.set(name, bytes);
      files[`mixed/${name}`] = { bytes, mtime: at(1000 + 7 * k++) };
    }
    for (let i = 0; i < THOUSAND; i++) {
      files[`thousand/${thousandName(i)}`] = { bytes: keystream(thousandSize(i), `t${i}`), mtime: thousandDate(i) };
    }
    f = await startWebdavFixture(files);
    serve = await startServe(f.configPath, 90_000);
    serverCalls = await serveLedger(f.emu, serve.url);
  });

  after(async () => {
    await serve?.stop().catch(() => undefined);
    await f?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const fail = (what: string, err: unknown): never => {
    throw new Error(`${what}: ${(err as Error).message}\n--- tgvfs serve stderr (tail) ---\n${serve.logTail(15)}`);
  };

  it('curl: a table of Range headers, byte-for-byte; HEAD sends exactly GET\'s header fields', { timeout: 60_000 }, async () => {
    const rel = 'media/a.bin';
    const src = await readFile(f.source(rel));
    const S = src.length;
    const url = `${serve.url}/${rel}`;
    const lastModified = at(0).toUTCString();
    const probe = await curl(url, { method: 'HEAD', tmp });
    const etag = probe.headers.get('etag');
    assert.ok(etag && /^"[^"]+"$/.test(etag), `a strong ETag, got ${etag}`);

    type Want = { status: 200 } | { status: 206; ranges: [number, number][] } | { status: 416 };
    const whole: Want = { status: 200 };
    const table: { name: string; headers: string[]; want: Want }[] = [
      { name: 'no Range', headers: [], want: whole },
      { name: 'first byte', headers: ['Range: bytes=0-0'], want: { status: 206, ranges: [[0, 0]] } },
      { name: 'last byte', headers: [`Range: bytes=${S - 1}-${S - 1}`], want: { status: 206, ranges: [[S - 1, S - 1]] } },
      { name: 'across the 1 MiB boundary', headers: ['Range: bytes=1048000-1049999'], want: { status: 206, ranges: [[1048000, 1049999]] } },
      { name: 'across three MiB boundaries', headers: [`Range: bytes=${MiB - 1}-${3 * MiB}`], want: { status: 206, ranges: [[MiB - 1, 3 * MiB]] } },
      { name: 'suffix', headers: ['Range: bytes=-1000'], want: { status: 206, ranges: [[S - 1000, S - 1]] } },
      { name: 'suffix longer than the file', headers: [`Range: bytes=-${S + 10}`], want: { status: 206, ranges: [[0, S - 1]] } },
      { name: 'open-ended', headers: ['Range: bytes=2097000-'], want: { status: 206, ranges: [[2097000, S - 1]] } },
      { name: 'open-ended from 0 (VLC)', headers: ['Range: bytes=0-'], want: { status: 206, ranges: [[0, S - 1]] } },
      { name: 'end past the end', headers: ['Range: bytes=3000000-99999999'], want: { status: 206, ranges: [[3000000, S - 1]] } },
      { name: 'two ranges (multipart)', headers: ['Range: bytes=0-99,2097100-2097299'], want: { status: 206, ranges: [[0, 99], [2097100, 2097299]] } },
      { name: 'three ranges, client order', headers: ['Range: bytes=3000000-3000009, 10-19, -5'], want: { status: 206, ranges: [[3000000, 3000009], [10, 19], [S - 5, S - 1]] } },
      { name: 'past the end', headers: [`Range: bytes=${S}-`], want: { status: 416 } },
      { name: 'past the end, closed', headers: [`Range: bytes=${S + 10}-${S + 20}`], want: { status: 416 } },
      { name: 'malformed: not a range', headers: ['Range: bytes=abc'], want: whole },
      { name: 'malformed: last before first', headers: ['Range: bytes=500-100'], want: whole },
      { name: 'malformed: no unit', headers: ['Range: 0-100'], want: whole },
      { name: 'another unit', headers: ['Range: items=0-10'], want: whole },
      { name: 'If-Range with the ETag', headers: ['Range: bytes=100-199', `If-Range: ${etag}`], want: { status: 206, ranges: [[100, 199]] } },
      { name: 'If-Range with another ETag', headers: ['Range: bytes=100-199', 'If-Range: "not-it"'], want: whole },
      { name: 'If-Range with the Last-Modified date', headers: ['Range: bytes=100-199', `If-Range: ${lastModified}`], want: { status: 206, ranges: [[100, 199]] } },
    ];

    const failures: string[] = [];
    for (const row of table) {
      try {
        const get = await curl(url, { headers: row.headers, tmp });
        const head = await curl(url, { method: 'HEAD', headers: row.headers, tmp });
        const w = row.want;
        assert.equal(get.status, w.status, 'status');
        if (w.status !== 416) {
          assert.equal(get.headers.get('accept-ranges'), 'bytes', 'Accept-Ranges');
          assert.equal(get.headers.get('etag'), etag, 'ETag');
          assert.equal(get.headers.get('last-modified'), lastModified, 'Last-Modified (the message date)');
        }
        assert.equal(Number(get.headers.get('content-length')), get.body.length, 'Content-Length = bytes received');
        if (w.status === 200) {
          assert.equal(get.headers.get('content-type'), 'application/octet-stream', 'Content-Type');
          assert.equal(get.headers.get('content-range'), undefined, 'no Content-Range on a 200');
          assert.ok(get.body.equals(src), `whole body (got ${get.body.length} bytes, sha256 ${sha256(get.body).slice(0, 12)})`);
        } else if (w.status === 416) {
          assert.equal(get.headers.get('content-range'), `bytes */${S}`, 'Content-Range of a 416');
        } else if (w.ranges.length === 1) {
          const [a, b] = w.ranges[0]!;
          assert.equal(get.headers.get('content-type'), 'application/octet-stream', 'Content-Type');
          assert.equal(get.headers.get('content-range'), `bytes ${a}-${b}/${S}`, 'Content-Range');
          assert.ok(get.body.equals(src.subarray(a, b + 1)), `bytes ${a}-${b} (got ${get.body.length} bytes)`);
        } else {
          const ct = get.headers.get('content-type') ?? '';
          const bm = /^multipart\/byteranges;\s*boundary=("?)([^";]+)\1$/.exec(ct);
          assert.ok(bm, `multipart/byteranges with a boundary, got ${ct}`);
          const { parts, closed } = multipartParts(get.body, bm[2]!);
          assert.ok(closed, 'the closing boundary');
          assert.equal(parts.length, w.ranges.length, 'number of parts');
          w.ranges.forEach(([a, b], i) => {
            const p = parts[i]!;
            assert.equal(p.headers.get('content-range'), `bytes ${a}-${b}/${S}`, `part ${i} Content-Range`);
            assert.equal(p.headers.get('content-type'), 'application/octet-stream', `part ${i} Content-Type`);
            assert.ok(p.body.equals(src.subarray(a, b + 1)), `part ${i}: bytes ${a}-${b} (got ${p.body.length} bytes)`);
          });
        }
        // HEAD: the same status and header fields as GET (RFC 9110 §9.3.2), no body.
        assert.equal(head.status, get.status, 'HEAD status');
        const strip = (h: Map<string, string>): Record<string, string> =>
          Object.fromEntries([...h].filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)).sort());
        assert.deepEqual(strip(head.headers), strip(get.headers), 'HEAD header fields');
        assert.equal(head.body.length, 0, 'HEAD has no body');
      } catch (err) {
        failures.push(`${row.name} [${row.headers.join(' | ') || 'no headers'}]: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (failures.length) fail(`${failures.length} of ${table.length} rows failed`, new Error(`\n  ${failures.join('\n  ')}`));
  });

  it('PROPFIND depth 0 and 1 of a 1,000-file channel: sizes and dates of the source, no upstream call', { timeout: 60_000 }, async (ctx) => {
    const before = f.emu.stats();
    const t = performance.now();
    const d0 = await curl(`${serve.url}/thousand/`, { method: 'PROPFIND', headers: ['Depth: 0'], tmp });
    const d1 = await curl(`${serve.url}/thousand/`, { method: 'PROPFIND', headers: ['Depth: 1'], tmp });
    const f0 = await curl(`${serve.url}/thousand/${thousandName(999)}`, { method: 'PROPFIND', headers: ['Depth: 0'], tmp });
    const ms = performance.now() - t;
    const afterStats = f.emu.stats();

    assert.equal(d0.status, 207, `depth 0: ${d0.body.toString().slice(0, 300)}`);
    const e0 = parseMultistatus(d0.body.toString('utf8'));
    assert.equal(e0.length, 1, 'depth 0: one response');
    assert.ok(e0[0]!.collection && /\/thousand\/?$/.test(e0[0]!.path), `depth 0 is the folder: ${JSON.stringify(e0[0])}`);
    const newest = thousandDate(THOUSAND - 1).getTime();
    assert.ok(e0[0]!.lastModified && Date.parse(e0[0]!.lastModified) >= newest, `folder date ${e0[0]!.lastModified} >= newest file's`);

    assert.equal(d1.status, 207);
    const e1 = parseMultistatus(d1.body.toString('utf8'));
    const files = e1.filter((e) => !e.collection);
    assert.equal(e1.filter((e) => e.collection).length, 1, 'depth 1: the folder itself once');
    assert.equal(files.length, THOUSAND, `depth 1: ${THOUSAND} files (got ${files.length})`);
    const byName = new Map(files.map((e) => [path.posix.basename(e.path), e]));
    const bad: string[] = [];
    for (let i = 0; i < THOUSAND; i++) {
      const n = thousandName(i);
      const e = byName.get(n);
      if (!e) bad.push(`${n}: missing`);
      else if (e.size !== thousandSize(i)) bad.push(`${n}: size ${e.size}, source ${thousandSize(i)}`);
      else if (e.lastModified !== thousandDate(i).toUTCString()) bad.push(`${n}: getlastmodified ${e.lastModified}, source mtime ${thousandDate(i).toUTCString()}`);
      else if (!e.etag) bad.push(`${n}: no getetag`);
    }
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} file(s) differ from the source`);

    assert.equal(f0.status, 207);
    const ef = parseMultistatus(f0.body.toString('utf8'));
    assert.equal(ef.length, 1);
    assert.equal(ef[0]!.size, thousandSize(999));
    assert.equal(ef[0]!.lastModified, thousandDate(999).toUTCString());

    assert.deepEqual(callsBetween(before, afterStats), {}, 'upstream calls during the listing (emulator /stats)');
    assert.equal(afterStats.bytesServed, before.bytesServed, 'no file bytes fetched for a listing');
    const root = parseMultistatus((await curl(`${serve.url}/`, { method: 'PROPFIND', headers: ['Depth: 1'], tmp })).body.toString('utf8'));
    assert.deepEqual(root.filter((e) => e.collection && e.path !== '/').map((e) => e.path.replace(/\/$/, '')).sort(), ['/media', '/mixed', '/thousand']);
    ctx.diagnostic(`PROPFIND depth 0 + depth 1 (1,000 files, ${mb(d1.body.length)} of XML) + one file: ${ms.toFixed(0)} ms`);
  });

  it('ffprobe: a 100+ MB mp4 with moov at the end; right duration, under 4 MB upstream', { timeout: 60_000 }, async (ctx) => {
    const ffprobe = requireProgram('ffprobe');
    requireProgram('ffmpeg');
    assert.ok(video, 'the test video (made with ffmpeg)');
    assert.ok(video.size >= 100e6, `video is ${video.size} bytes`);
    assert.ok(video.moovStart > video.mdat.start, 'moov after mdat');
    const before = await serverCalls.settled();
    const r = await run(ffprobe, ['-v', 'error', '-show_entries', 'format=duration,size', '-of', 'json', `${serve.url}/media/video.mp4`], { timeoutMs: 45_000 })
      .catch((err: unknown) => fail('ffprobe', err));
    const afterStats = await serverCalls.settled();
    const out = JSON.parse(r.stdout.toString()) as { format?: { duration?: string; size?: string } };
    const duration = Number(out.format?.duration);
    assert.ok(Math.abs(duration - video.duration) <= 0.5, `duration ${duration}, encoded ${video.duration}`);
    assert.equal(Number(out.format?.size), video.size, 'size ffprobe saw');
    const upstream = afterStats.bytesServed - before.bytesServed;
    const calls = callsBetween(before, afterStats);
    ctx.diagnostic(`ffprobe of ${mb(video.size)} (moov at ${video.moovStart}): ${r.ms.toFixed(0)} ms, ${mb(upstream)} upstream, calls ${JSON.stringify(calls)}`);
    assert.ok(upstream < 4e6, `ffprobe made tgvfs fetch ${upstream} bytes upstream (limit 4 MB)`);
  });

  it('VLC (cvlc, dummy outputs, unprivileged) plays 2 s from a start time past the middle', { timeout: 90_000 }, async (ctx) => {
    const cvlc = requireProgram('cvlc');
    requireProgram('ffmpeg');
    assert.ok(video, 'the test video (made with ffmpeg)');
    const home = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-vlc-home-'));
    await chmod(home, 0o777);
    const proxy = await startRecordingProxy(serve.url);
    try {
      const startTime = Math.round(video.duration * 2 / 3); // 40 s of 60
      const before = await serverCalls.settled();
      const { program, args } = asUnprivileged(cvlc, [
        '--intf', 'dummy', '--vout', 'dummy', '--aout', 'dummy', '--no-video-title-show',
        '--play-and-exit', '--start-time', String(startTime), '--run-time', '2',
        `${proxy.url}/media/video.mp4`,
      ]);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home, LANG: 'C.UTF-8' };
      const r = await run(program, args, { timeoutMs: 60_000, env, check: false });
      const afterStats = await serverCalls.settled();
      const log = r.stderr;
      const where = `\nVLC stderr (tail):\n${log.trim().split('\n').slice(-15).join('\n')}\nrequests: ${JSON.stringify(proxy.requests)}`;
      assert.equal(r.code, 0, `cvlc exit code${where}`);
      const cannot = log.split('\n').filter((l) => /(can ?not|can't|unable to|failed to) open|input can't be opened|access error|no suitable (access|demux) module|HTTP (4|5)\d\d/i.test(l));
      assert.deepEqual(cannot, [], `VLC says it could not open the stream${where}`);
      // Bytes VLC received that lie past the middle of the file and before the moov box (the moov
      // read at the end is not playback).
      const middle = video.size / 2;
      const moov = video.moovStart;
      const pastMiddle = proxy.requests.reduce((n, q) => n + Math.max(0, Math.min(q.start + q.bytes, moov) - Math.max(q.start, middle)), 0);
      const upstream = afterStats.bytesServed - before.bytesServed;
      ctx.diagnostic(`VLC from ${startTime} s: exit ${r.code} in ${r.ms.toFixed(0)} ms; ${proxy.requests.length} request(s) ` +
        `${JSON.stringify(proxy.requests.map((q) => `${q.method} ${q.range ?? '-'} → ${q.status} ${mb(q.bytes)}`))}; ` +
        `${mb(pastMiddle)} from past the middle; upstream ${mb(upstream)}`);
      assert.ok(upstream > 0, 'the emulator served bytes (bytesServed grew)');
      assert.ok(pastMiddle >= 1e6, `VLC received ${pastMiddle} bytes from past the middle of the file (want ≥ 1 MB: 2 s at 15 Mb/s)${where}`);
    } finally {
      await proxy.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('rclone: lsl sizes and dates, cat --offset --count exact, copy then check', { timeout: 90_000 }, async () => {
    const rclone = requireProgram('rclone');
    const conf = path.join(tmp, 'rclone.conf');
    await writeFile(conf, '');
    const env = { ...process.env, TZ: 'UTC' };
    const common = ['--config', conf, '--retries', '1', '--low-level-retries', '1', '--webdav-vendor', 'other'];
    const rcl = (args: string[], url: string): Promise<Buffer> =>
      run(rclone, [...args, ...common, '--webdav-url', url], { timeoutMs: 60_000, env }).then((r) => r.stdout, (err: unknown) => fail(`rclone ${args[0]}`, err));

    // lsl
    const lsl = (await rcl(['lsl', ':webdav:'], `${serve.url}/mixed`)).toString('utf8');
    const listed = new Map<string, { size: number; date: string }>();
    for (const line of lsl.split('\n').filter((l) => l.trim())) {
      const m = /^\s*(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ (.+)$/.exec(line);
      assert.ok(m, `rclone lsl line: ${JSON.stringify(line)}`);
      listed.set(m[3]!, { size: Number(m[1]), date: m[2]! });
    }
    assert.deepEqual([...listed.keys()].sort(), Object.keys(MIXED).sort(), 'names rclone lists');
    let k = 0;
    for (const [name, size] of Object.entries(MIXED)) {
      assert.equal(listed.get(name)!.size, size, `${name}: size`);
      assert.equal(listed.get(name)!.date, at(1000 + 7 * k++).toISOString().slice(0, 19).replace('T', ' '), `${name}: date`);
    }

    // cat --offset --count on media/a.bin
    const a = await readFile(f.source('media/a.bin'));
    const cases: [number, number][] = [[0, 1], [MiB - 10, 20], [2 * MiB, MiB], [A_SIZE - 10, 100], [123_456, 2_000_000]];
    for (const [offset, count] of cases) {
      const got = await rcl(['cat', ':webdav:a.bin', '--offset', String(offset), '--count', String(count)], `${serve.url}/media`);
      assert.ok(got.equals(a.subarray(offset, offset + count)), `cat --offset ${offset} --count ${count}: ${got.length} bytes, want ${a.subarray(offset, offset + count).length}`);
    }

    // copy, then check (by content: the server offers no hashes) and compare ourselves.
    const dst = path.join(tmp, 'rclone-copy');
    await rcl(['copy', ':webdav:', dst], `${serve.url}/mixed`);
    await rcl(['check', dst, ':webdav:', '--download'], `${serve.url}/mixed`);
    k = 0;
    for (const name of Object.keys(MIXED)) {
      const file = path.join(dst, name);
      assert.equal(await sha256File(file), sha256(mixedBytes.get(name)!), `${name}: sha256 of the copy`);
      assert.equal(Math.floor((await stat(file)).mtimeMs / 1000), at(1000 + 7 * k++).getTime() / 1000, `${name}: mtime rclone set`);
    }
  });

  it('davfs2: mount, ls, cp out, sha256 equal, unmount', { timeout: 90_000 }, async (ctx) => {
    const mountDavfs = requireProgram('mount.davfs');
    const umount = requireProgram('umount');
    assert.equal(process.getuid?.(), 0, 'mounting with davfs2 needs root (the CI runs as root)');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-davfs2-'));
    await chmod(dir, 0o755); // mount.davfs's daemon runs as the user davfs2: it must reach cache/
    const mnt = path.join(dir, 'mnt');
    const cache = path.join(dir, 'cache');
    await mkdir(mnt);
    await mkdir(cache);
    // davfs2 checks its cache dir: root's own, or writable by all (the daemon may run as davfs2).
    await chmod(cache, 0o1777);
    const secrets = path.join(dir, 'secrets');
    await writeFile(secrets, '', { mode: 0o600 });
    const conf = path.join(dir, 'davfs2.conf');
    await writeFile(conf, [
      'ask_auth 0', // no credentials: do not prompt
      'use_locks 0', // read-only tree: no LOCK before opening files
      `cache_dir ${cache}`,
      `secrets ${secrets}`,
      // Linux >= 6.16 rejects davfs2 1.6's directory replies with its default 16 KiB buffer
      // ("ls: reading directory: Invalid argument"); 64 is the known workaround.
      'buf_size 64',
      '',
    ].join('\n'));
    let mounted = false;
    try {
      // Any prompt (user name, password) is answered with an empty line.
      await run(mountDavfs, ['-o', `conf=${conf}`, `${serve.url}/`, mnt], { input: '\n\n\n', timeoutMs: 30_000 })
        .catch((err: unknown) => fail('mount.davfs', err));
      mounted = true;
      const names = (await readdir(path.join(mnt, 'mixed'))).filter((n) => n !== 'lost+found').sort();
      assert.deepEqual(names, Object.keys(MIXED).sort(), 'ls of mixed/ on the mount');
      const copies: [string, string][] = [['media/a.bin', 'a.bin'], [`mixed/${UNICODE_NAME}`, 'unicode.txt']];
      for (const [rel, out] of copies) {
        const dst = path.join(dir, out);
        const t = performance.now();
        await run('cp', [path.join(mnt, rel), dst], { timeoutMs: 60_000 }).catch((err: unknown) => fail(`cp ${rel}`, err));
        const ms = performance.now() - t;
        assert.equal((await stat(path.join(mnt, rel))).size, (await stat(f.source(rel))).size, `${rel}: size on the mount`);
        assert.equal(await sha256File(dst), await sha256File(f.source(rel)), `${rel}: sha256 of the copy`);
        ctx.diagnostic(`davfs2: cp ${rel} in ${ms.toFixed(0)} ms`);
      }
    } finally {
      if (mounted) {
        try {
          await run(umount, [mnt], { timeoutMs: 30_000 });
        } catch (err) {
          await run(umount, ['-l', mnt], { timeoutMs: 10_000, check: false });
          throw new Error(`umount ${mnt} failed (lazy unmount done): ${(err as Error).message}`);
        }
      }
      await rm(dir, { recursive: true, force: true });
    }
    const mounts = await readFile('/proc/mounts', 'utf8');
    assert.ok(!mounts.includes(mnt), 'nothing left mounted');
  });

  it('50 concurrent curl GETs of different random ranges: all exact', { timeout: 90_000 }, async (ctx) => {
    const bin = requireProgram('curl');
    const rnd = prng('webdav-clients-50');
    const targets = [
      { rel: 'media/big.bin', size: BIG_SIZE },
      { rel: 'media/a.bin', size: A_SIZE },
    ];
    const dir = path.join(tmp, 'concurrent');
    await mkdir(dir, { recursive: true });
    const jobs = Array.from({ length: 50 }, (_, i) => {
      const t = targets[i % 5 === 4 ? 1 : 0]!;
      const len = i % 7 === 0 ? 1 + Math.floor(rnd() * 100) : 1 + Math.floor(rnd() * 2 * MiB);
      const start = Math.floor(rnd() * (t.size - 1));
      const end = Math.min(t.size - 1, start + len - 1);
      return { i, rel: t.rel, start, end, out: path.join(dir, `r${i}`) };
    });
    const t = performance.now();
    const results = await Promise.all(jobs.map((j) =>
      run(bin, ['-sS', '--http1.1', '-o', j.out, '-w', '%{http_code}', '-r', `${j.start}-${j.end}`, `${serve.url}/${enc(j.rel)}`], { timeoutMs: 60_000 })
        .then((r) => ({ j, status: r.stdout.toString().trim() }), (err: unknown) => ({ j, status: `error: ${(err as Error).message}` }))));
    const ms = performance.now() - t;
    const bad: string[] = [];
    let bytes = 0;
    for (const { j, status } of results) {
      const got = await readFile(j.out).catch(() => Buffer.alloc(0));
      bytes += got.length;
      const want = await slice(f.source(j.rel), j.start, j.end);
      if (status !== '206' || !got.equals(want)) bad.push(`#${j.i} ${j.rel} bytes=${j.start}-${j.end}: ${status}, ${got.length} bytes (want ${want.length})`);
    }
    ctx.diagnostic(`50 concurrent range GETs: ${mb(bytes)} in ${ms.toFixed(0)} ms`);
    assert.deepEqual(bad, [], `${bad.length} of 50 ranges wrong\n--- tgvfs serve stderr (tail) ---\n${serve.logTail(10)}`);
  });

  it('tgvfs serve exits 0 on SIGTERM after all of it', { timeout: 20_000 }, async (ctx) => {
    const code = await serve.stop(10_000);
    assert.equal(code, 0, `exit code; stderr:\n${serve.logTail(15)}`);
    // Node's process warnings (a listener leak, an unhandled rejection) and errors logged while
    // serving these clients are defects even when every answer was right.
    const stderr = serve.cli.stderr();
    const suspicious = stderr.split('\n').filter((l) => /Warning|Error|internal error|unhandled/i.test(l));
    assert.deepEqual(suspicious, [], `warnings or errors in tgvfs serve's stderr:\n${stderr.trim().split('\n').slice(-20).join('\n')}`);
    ctx.diagnostic(`whole suite so far: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
});
