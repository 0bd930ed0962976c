// bench/soak: a long read through WebDAV with every Telegram habit the emulator has switched on at
// once (issue 13's soak): -503 timeouts and 500s on upload.getFile, FLOOD_WAIT on getFile, on
// export/import authorization and on logins, dropped connections, expiring file references, the
// file on another DC (FILE_MIGRATE, exported authorization), getChannelDifference in small slices
// while posts arrive, and `offset % limit` enforced. It passes when every request succeeds and
// every byte is right; the figures are the rate and what the emulator injected.
//   1. a GET of the whole SIZE file from `tgvfs serve` (fetch, every byte checked);
//   2. meanwhile RANGES ranged GETs (random offsets and lengths up to 8 MiB, PARALLEL at once),
//      each 206 with exactly the bytes asked for;
//   3. meanwhile POSTS new files appear in the channel folder one by one; each must be listed by
//      PROPFIND before the end (the catalog follows the sliced differences).
// The last line is the machine-readable summary.
//   4. once the reads are under way, one bot's sessions are revoked (POST /revoke): it must log in
//      again, meet the login flood, wait, and come back (every worker ready in /healthz), with no
//      request failing meanwhile.
// Env: BENCH_MIB=1024 BENCH_BOTS=4 BENCH_RANGES=48 BENCH_PARALLEL=3 BENCH_POSTS=12 BENCH_LATENCY=2
// BENCH_FAULT_FRACTION=0.02 (-503 and 500 each) BENCH_DROP_MIB=16 BENCH_EXPIRE_S=20
// BENCH_SEED=tgvfs-soak BENCH_DEADLINE_S=3600 BENCH_KEEP=1 (keep the temp dir).
// Quick run: BENCH_MIB=64 BENCH_RANGES=16 BENCH_POSTS=4.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB } from '../support/bytes';
import { prng } from '../support/prng';
import { envNum } from './helpers/env';
import { matchesPattern, patternChunk, writePatternFile } from './helpers/pattern';
import { createPhases } from './helpers/phases';
import { openBenchWorkspace, runBenchMain, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';
import { startServeProcess, type ServeChild } from './helpers/webdav-serve';

const SIZE = Math.max(1, Math.round(envNum('BENCH_MIB', 1024))) * MiB;
const BOTS = Math.max(1, Math.round(envNum('BENCH_BOTS', 4)));
const RANGES = Math.round(envNum('BENCH_RANGES', 48));
const PARALLEL = Math.max(1, Math.round(envNum('BENCH_PARALLEL', 3)));
const POSTS = Math.round(envNum('BENCH_POSTS', 12));
const LATENCY = Math.round(envNum('BENCH_LATENCY', 2));
const SEED = process.env.BENCH_SEED || 'tgvfs-soak';
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 3600);

const FRACTION = envNum('BENCH_FAULT_FRACTION', 0.02);
const DROP_MIB = envNum('BENCH_DROP_MIB', 16);
const EXPIRE_S = Math.round(envNum('BENCH_EXPIRE_S', 20));

/**
 * Every habit at once, at rates a long read meets many times over. A bot's sessions are revoked
 * once the reads are under way; its second login is answered FLOOD_WAIT (login flood 1:3), so
 * the pool must wait that out with the same key while the other bots carry the reads.
 */
const HABITS = [
  '--rpc-timeouts', String(FRACTION), '--internal-errors', String(FRACTION), '--flood-wait', '300:2', '--auth-flood', '2',
  '--login-flood', '1:3', '--drop-every', String(Math.round(DROP_MIB * MiB)), '--expire-refs', String(EXPIRE_S), '--file-dc', '4',
  '--difference-slice', '2', '--strict-offsets',
];

const MB = 1e6;
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const { failures, phase } = createPhases(log);

interface Counts {
  requests: number;
  /** Requests finished, well or not. */
  done: number;
  failed: number;
  /** Bytes of finished requests. */
  bytes: number;
  /** Bytes read so far, finished or not (live). */
  progress: number;
}

/** Reads a response body, checking it against the pattern from `start`; the bytes read. */
async function checkedBody(res: Response, chunk: Buffer, start: number, what: string, counts: Counts): Promise<number> {
  if (!res.body) throw new Error(`${what}: no body`);
  let pos = start;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    if (!matchesPattern(chunk, pos, b)) throw new Error(`${what}: wrong bytes at ${pos}`);
    pos += b.length;
    counts.progress += b.length;
  }
  return pos - start;
}

async function wholeGet(url: string, chunk: Buffer, counts: Counts, signal: AbortSignal): Promise<number> {
  const t0 = performance.now();
  counts.requests++;
  try {
    const res = await fetch(url, { signal });
    if (res.status !== 200) throw new Error(`GET: HTTP ${res.status}`);
    const n = await checkedBody(res, chunk, 0, 'GET', counts);
    if (n !== SIZE) throw new Error(`GET: ${n} bytes, expected ${SIZE}`);
    counts.bytes += n;
    return (performance.now() - t0) / 1000;
  } catch (err) {
    counts.failed++;
    throw err;
  } finally {
    counts.done++;
  }
}

async function rangedGets(url: string, chunk: Buffer, counts: Counts, signal: AbortSignal): Promise<void> {
  const rnd = prng(`${SEED}-ranges`);
  const todo = Array.from({ length: RANGES }, () => {
    const len = 1 + Math.floor(rnd() * Math.min(8 * MiB, SIZE));
    const start = Math.floor(rnd() * (SIZE - len + 1));
    return { start, end: start + len - 1 };
  });
  const errors: string[] = [];
  const one = async (r: { start: number; end: number }): Promise<void> => {
    counts.requests++;
    const what = `GET bytes=${r.start}-${r.end}`;
    try {
      const res = await fetch(url, { headers: { Range: `bytes=${r.start}-${r.end}` }, signal });
      if (res.status !== 206) throw new Error(`${what}: HTTP ${res.status}`);
      const n = await checkedBody(res, chunk, r.start, what, counts);
      if (n !== r.end - r.start + 1) throw new Error(`${what}: ${n} bytes`);
      counts.bytes += n;
    } catch (err) {
      counts.failed++;
      errors.push((err as Error).message);
    } finally {
      counts.done++;
    }
  };
  const lanes = Array.from({ length: PARALLEL }, async () => {
    for (let r = todo.shift(); r && !signal.aborted; r = todo.shift()) await one(r);
  });
  await Promise.all(lanes);
  if (errors.length) throw new Error(`${errors.length} ranged GET(s) failed: ${errors.slice(0, 3).join('; ')}`);
}

async function listed(serve: ServeChild): Promise<Set<string>> {
  const res = await fetch(`${serve.url}/soak/`, { method: 'PROPFIND', headers: { Depth: '1' } });
  if (res.status !== 207) throw new Error(`PROPFIND /soak/: HTTP ${res.status}`);
  const xml = await res.text();
  return new Set([...xml.matchAll(/<D:href>[^<]*\/soak\/([^<]+)<\/D:href>/gi)].map((m) => decodeURIComponent(m[1]!)));
}

/** Posts POSTS small files one by one, then waits (polling PROPFIND) until each is listed. */
async function posts(dataDir: string, serve: ServeChild, signal: AbortSignal): Promise<number> {
  const t0 = performance.now();
  const names = Array.from({ length: POSTS }, (_, i) => `post-${String(i).padStart(3, '0')}.txt`);
  for (const name of names) {
    await writeFile(path.join(dataDir, 'soak', name), `${name}\n`);
    await new Promise((r) => setTimeout(r, 300));
  }
  for (;;) {
    signal.throwIfAborted();
    const have = await listed(serve);
    if (names.every((n) => have.has(n))) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function adminUrl(emu: EmulatorProcess): string {
  const admin = (emu.config as { emulator?: { adminUrl?: string } }).emulator?.adminUrl;
  if (!admin) throw new Error('the emulator config has no emulator.adminUrl');
  return admin;
}

async function emulatorStats(emu: EmulatorProcess): Promise<{ calls: Record<string, number>; faults: Record<string, number> }> {
  const res = await fetch(`${adminUrl(emu)}/stats`);
  return (await res.json()) as { calls: Record<string, number>; faults: Record<string, number> };
}

/** Polls /healthz until every worker of `serve` is ready (in rotation) again. */
async function everyWorkerReady(serve: ServeChild, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const health = (await (await fetch(`${serve.url}/healthz`, { signal })).json()) as { workers?: { state: string }[] };
    if (health.workers?.length && health.workers.every((w) => w.state === 'ready')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Revokes the first bot's sessions once a quarter of the file's size has been read. */
async function revokeMidway(emu: EmulatorProcess, counts: Counts, signal: AbortSignal): Promise<number> {
  while (counts.progress < SIZE / 4 && counts.done < counts.requests) {
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 100));
  }
  const bot = Number(String(emu.config.bots[0]).split(':')[0]);
  const res = await fetch(`${adminUrl(emu)}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ bot }) });
  if (res.status !== 200) throw new Error(`POST /revoke: HTTP ${res.status} ${await res.text()}`);
  return bot;
}

async function main(): Promise<number> {
  const tStart = performance.now();
  const ws = await openBenchWorkspace('soak', DEADLINE_S, log);
  const dir = ws.dir;
  let emu: EmulatorProcess | undefined;
  let serve: ServeChild | undefined;
  const counts: Counts = { requests: 0, done: 0, failed: 0, bytes: 0, progress: 0 };
  let seconds = NaN;
  let faults: Record<string, number> = {};
  let exports = 0;
  try {
    log(`bench/soak: ${SIZE / MiB} MiB file, ${BOTS} bots, ${RANGES} ranged GETs (${PARALLEL} at once), ${POSTS} posts; emulator ${HABITS.join(' ')}`);
    const dataDir = path.join(dir, 'data');
    await mkdir(path.join(dataDir, 'soak'), { recursive: true });
    const chunk = patternChunk(SEED);
    await writePatternFile(path.join(dataDir, 'soak', 'big.bin'), SIZE, chunk);
    emu = await phase('start emulator', 90, () => startEmulatorProcess({
      dataDir, configFile: path.join(dir, 'config.json'), logFile: path.join(dir, 'emulator.log'), bots: BOTS,
      latencyMs: LATENCY, bandwidth: 0, extraArgs: HABITS,
    }));
    if (!emu) return 1;
    const emuNow = emu;
    serve = await phase('start tgvfs serve', 180, () => startServeProcess(emuNow.configFile, path.join(dir, 'serve.log'), 170_000));
    if (!serve) return 1;
    const url = `${serve.url}/soak/big.bin`;
    const srv = serve;
    const budget = 120 + SIZE / (5 * MB);
    const [whole] = await Promise.all([
      phase('whole GET', budget, (signal) => wholeGet(url, chunk, counts, signal)),
      phase('ranged GETs', budget, (signal) => rangedGets(url, chunk, counts, signal)),
      phase('posts listed', budget, (signal) => posts(dataDir, srv, signal)),
      phase('revoke a bot midway', budget, (signal) => revokeMidway(emuNow, counts, signal)),
    ]);
    // The revoked bot's story ends when it is back in rotation: logged in again, through the login
    // flood its second login meets (the reads may finish before that).
    await phase('revoked bot back in rotation', 120, (signal) => everyWorkerReady(srv, signal));
    if (whole !== undefined) seconds = whole;
    const stats = await emulatorStats(emuNow);
    faults = stats.faults;
    exports = stats.calls['auth.exportAuthorization'] ?? 0;
  } finally {
    await serve?.stop().catch(() => undefined);
    await emu?.stop().catch(() => undefined);
    await ws.close();
  }
  const rate = SIZE / MB / seconds;
  log('');
  log(`summary (run took ${fmt((performance.now() - tStart) / 1000, 1)} s):`);
  log(`  whole GET ${SIZE / MiB} MiB in ${fmt(seconds, 1)} s = ${fmt(rate)} MB/s; ${counts.requests} requests, ${counts.failed} failed, ${fmt(counts.bytes / MiB, 0)} MiB checked`);
  log(`  injected: ${Object.entries(faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing'}`);
  log(`  another DC: ${exports} auth.exportAuthorization`);
  if (failures.length) log(`  FAILED: ${failures.join(' | ')}`);
  const injected = Object.values(faults).reduce((a, b) => a + b, 0);
  log(`soak_MiB=${SIZE / MiB} MBps=${fmt(rate)} requests=${counts.requests} failed=${counts.failed} faults=${injected}`);
  return failures.length || counts.failed ? 1 : 0;
}

runBenchMain(main);
