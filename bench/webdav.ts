// bench/webdav: what the HTTP front-end costs (issue 6; DESIGN.md "Figures we aim for": GET reaches
// at least 80% of the stream layer's rate). Against the emulator in a child process with BOTS bots,
// each connection shaped to LATENCY ms and BANDWIDTH bytes/s (bench/stream's settings), RUNS times:
//   stream  pool.stream of a whole SIZE file in this process, every byte checked (a fresh pool);
//   webdav  a GET of the same file from `tgvfs serve` in a child process (a fresh server, so a fresh
//           pool and cache), through its WebDAV path /bench/big.bin, read with Node's fetch with
//           every byte checked (or with curl to /dev/null: BENCH_CLIENT=curl);
// then the emulator is restarted without latency or bandwidth cap and both run once more
// (uncapped_fraction, target >= 0.9: both sides' real limit; the GET with curl to /dev/null unless
// BENCH_UNCAPPED_CLIENT=fetch, since a fetch checking every byte in this process competes for CPU).
// MB/s are 1e6 B/s; each side's figure is the mean of its runs, and fraction = webdav / stream.
// The last line is the machine-readable summary.
// Env: BENCH_MIB=256 BENCH_BOTS=4 BENCH_LATENCY=30 BENCH_BANDWIDTH=4194304 BENCH_RUNS=2
// BENCH_CLIENT=fetch|curl BENCH_SEED=tgvfs-bench-webdav BENCH_DEADLINE_S=600 BENCH_KEEP=1 (keep the
// temp dir). Quick run: BENCH_MIB=32 BENCH_RUNS=1.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { WorkerPool } from '../src/index';
import { MiB } from '../support/bytes';
import { cpuSeconds } from '../support/proc';
import { matchesPattern, patternChunk, writePatternFile } from './helpers/pattern';
import { openBenchWorkspace, runBenchMain, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';
import { startServeProcess } from './helpers/webdav-serve';
import { createPhases } from './helpers/phases';
import { envNum } from './helpers/env';

const SIZE = Math.max(1, Math.round(envNum('BENCH_MIB', 256))) * MiB;
const BOTS = Math.max(1, Math.round(envNum('BENCH_BOTS', 4)));
const LATENCY = Math.round(envNum('BENCH_LATENCY', 30));
const BANDWIDTH = Math.round(envNum('BENCH_BANDWIDTH', 4 * MiB));
const RUNS = Math.max(1, Math.round(envNum('BENCH_RUNS', 2)));
const CLIENT = process.env.BENCH_CLIENT === 'curl' ? 'curl' : 'fetch';
const UNCAPPED_CLIENT = process.env.BENCH_UNCAPPED_CLIENT === 'fetch' ? 'fetch' : 'curl';
const SEED = process.env.BENCH_SEED || 'tgvfs-bench-webdav';
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 600);

const MB = 1e6;
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Transfer {
  bytes: number;
  seconds: number;
  MBps: number;
  /** CPU seconds of the process doing the work: this one (stream) or the server (webdav). */
  cpuSeconds: number;
  emuCpuSeconds: number;
  ok: boolean;
}

const { failures, phase } = createPhases(log);

/** pool.stream of the whole file in this process (what bench/stream measures). */
async function streamRun(emu: EmulatorProcess, channel: number, msgId: number, chunk: Buffer, signal: AbortSignal): Promise<Transfer> {
  const pool = await WorkerPool.create({ ...emu.config, log: () => undefined });
  try {
    const emu0 = await cpuSeconds(emu.pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let pos = 0;
    let ok = true;
    for await (const c of pool.stream(channel, msgId, 0, SIZE - 1, { signal }) as AsyncIterable<Buffer>) {
      if (ok && !matchesPattern(chunk, pos, c)) ok = false;
      pos += c.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      bytes: pos, seconds, MBps: pos / MB / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6,
      emuCpuSeconds: (await cpuSeconds(emu.pid)) - emu0, ok: ok && pos === SIZE,
    };
  } finally {
    await Promise.race([pool.close(), sleep(10_000)]);
  }
}

/** curl of `url` to /dev/null: [bytes, seconds] as curl measured them. */
function curlToNull(url: string, signal: AbortSignal): Promise<{ bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const onAbort = (): void => void c.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    c.once('error', (e) => reject(new Error(`curl: ${e.message} (apt-get install curl)`)));
    c.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      const [status, bytes, seconds] = out.trim().split(' ');
      if (code !== 0 || status !== '200') return reject(new Error(`curl exited ${code}, HTTP ${status}: ${err.trim()}`));
      resolve({ bytes: Number(bytes), seconds: Number(seconds) });
    });
  });
}

/** A GET of the whole file from a fresh `tgvfs serve`. */
async function webdavRun(emu: EmulatorProcess, dir: string, chunk: Buffer, signal: AbortSignal, client = CLIENT): Promise<Transfer> {
  const serve = await startServeProcess(emu.configFile, path.join(dir, 'serve.log'));
  try {
    const url = `${serve.url}/bench/big.bin`;
    const emu0 = await cpuSeconds(emu.pid);
    const srv0 = await cpuSeconds(serve.pid);
    let bytes = 0;
    let seconds: number;
    let ok = true;
    if (client === 'curl') {
      const r = await curlToNull(url, signal);
      bytes = r.bytes;
      seconds = r.seconds;
    } else {
      const t0 = performance.now();
      const res = await fetch(url, { signal });
      if (res.status !== 200 || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
        const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        if (ok && !matchesPattern(chunk, bytes, b)) ok = false;
        bytes += b.length;
      }
      seconds = (performance.now() - t0) / 1000;
    }
    return {
      bytes, seconds, MBps: bytes / MB / seconds, cpuSeconds: (await cpuSeconds(serve.pid)) - srv0,
      emuCpuSeconds: (await cpuSeconds(emu.pid)) - emu0, ok: ok && bytes === SIZE,
    };
  } finally {
    await serve.stop();
  }
}

function describe(label: string, r: Transfer, whose: string): void {
  log(`  ${(label + ':').padEnd(13)} ${fmt(r.bytes / MiB, 0)} MiB in ${fmt(r.seconds)} s = ${fmt(r.MBps)} MB/s ` +
    `(${whose} CPU ${fmt(r.cpuSeconds)} s, emulator CPU ${fmt(r.emuCpuSeconds)} s)${r.ok ? '' : '  WRONG BYTES'}`);
}

async function main(): Promise<number> {
  const tStart = performance.now();
  const ws = await openBenchWorkspace('webdav', DEADLINE_S, log);
  const dir = ws.dir;
  let emu: EmulatorProcess | undefined;
  const stream: number[] = [];
  const webdav: number[] = [];
  const uncapped = { stream: NaN, webdav: NaN };
  try {
    log(`bench/webdav: ${BOTS} bots, latency ${LATENCY} ms, bandwidth ${BANDWIDTH ? `${BANDWIDTH} B/s per connection ` +
      `(${BOTS}xB = ${fmt((BOTS * BANDWIDTH) / MB)} MB/s)` : 'uncapped'}, file ${SIZE / MiB} MiB, ${RUNS} run(s) each, client ${CLIENT}`);
    const dataDir = path.join(dir, 'data');
    await mkdir(path.join(dataDir, 'bench'), { recursive: true });
    const chunk = patternChunk(SEED);
    await writePatternFile(path.join(dataDir, 'bench', 'big.bin'), SIZE, chunk);

    const spawnEmu = (latencyMs: number, bandwidth: number): Promise<EmulatorProcess> =>
      startEmulatorProcess({ dataDir, configFile: path.join(dir, 'config.json'), logFile: path.join(dir, 'emulator.log'), bots: BOTS, latencyMs, bandwidth });
    emu = await phase('start emulator', 90, () => spawnEmu(LATENCY, BANDWIDTH));
    if (!emu) return 1;
    const channel = emu.config.channels.find((c) => c.name === 'bench')?.id;
    if (channel === undefined) throw new Error('the emulator has no channel "bench"');
    const msgId = 1; // the only file of the channel
    // A transfer at B x BOTS takes SIZE / (B x BOTS); allow three times that plus start-up.
    const deadline = 60 + (BANDWIDTH > 0 ? (3 * SIZE) / (BOTS * BANDWIDTH) : SIZE / (10 * MB));
    const emuNow = emu;
    for (let run = 1; run <= RUNS; run++) {
      log(`run ${run}/${RUNS}:`);
      const s = await phase(`run ${run}: pool.stream`, deadline, (signal) => streamRun(emuNow, channel, msgId, chunk, signal));
      if (s) {
        describe('pool.stream', s, 'client');
        if (s.ok) stream.push(s.MBps);
        else failures.push(`run ${run}: pool.stream: wrong bytes`);
      }
      const w = await phase(`run ${run}: GET via tgvfs serve`, deadline + 60, (signal) => webdavRun(emuNow, dir, chunk, signal));
      if (w) {
        describe(`GET (${CLIENT})`, w, 'server');
        if (w.ok) webdav.push(w.MBps);
        else failures.push(`run ${run}: GET: wrong bytes`);
      }
    }
    await emu.stop();
    emu = undefined;
    emu = await phase('start emulator (uncapped)', 90, () => spawnEmu(0, 0));
    if (emu) {
      const emuU = emu;
      const uDeadline = 60 + SIZE / (10 * MB);
      log(`uncapped (no latency, no bandwidth cap), GET with ${UNCAPPED_CLIENT}:`);
      const s = await phase('uncapped pool.stream', uDeadline, (signal) => streamRun(emuU, channel, msgId, chunk, signal));
      if (s) {
        describe('pool.stream', s, 'client');
        if (s.ok) uncapped.stream = s.MBps;
        else failures.push('uncapped pool.stream: wrong bytes');
      }
      const w = await phase('uncapped GET via tgvfs serve', uDeadline + 60, (signal) => webdavRun(emuU, dir, chunk, signal, UNCAPPED_CLIENT));
      if (w) {
        describe(`GET (${UNCAPPED_CLIENT})`, w, 'server');
        if (w.ok) uncapped.webdav = w.MBps;
        else failures.push('uncapped GET: wrong bytes');
      }
    }
  } finally {
    await emu?.stop().catch(() => undefined);
    await ws.close();
  }
  const s = mean(stream);
  const w = mean(webdav);
  const fraction = w / s;
  const verdict = Number.isFinite(fraction) ? (fraction >= 0.8 ? 'met' : 'NOT met') : 'not measured';
  log('');
  log(`summary (run took ${fmt((performance.now() - tStart) / 1000, 1)} s):`);
  const ofCap = BANDWIDTH > 0 ? `; ${fmt((s * MB) / (BOTS * BANDWIDTH))} of ${BOTS} x B` : '; uncapped';
  log(`  stream   ${fmt(s)} MB/s  (runs: ${stream.map((x) => fmt(x)).join(', ')}${ofCap})`);
  log(`  webdav   ${fmt(w)} MB/s  (runs: ${webdav.map((x) => fmt(x)).join(', ')})`);
  log(`  fraction ${fmt(fraction)}  target >= 0.8   ${verdict}`);
  const uFraction = uncapped.webdav / uncapped.stream;
  log(`  uncapped: stream ${fmt(uncapped.stream)} MB/s, webdav ${fmt(uncapped.webdav)} MB/s, fraction ${fmt(uFraction)}  target >= 0.9   ` +
    `${Number.isFinite(uFraction) ? (uFraction >= 0.9 ? 'met' : 'NOT met') : 'not measured'}`);
  if (failures.length) log(`  FAILED: ${failures.join(' | ')}`);
  log(`webdav_MBps=${fmt(w)} stream_MBps=${fmt(s)} fraction=${fmt(fraction)} ` +
    `uncapped_webdav_MBps=${fmt(uncapped.webdav)} uncapped_stream_MBps=${fmt(uncapped.stream)} uncapped_fraction=${fmt(uFraction)}`);
  return failures.length ? 1 : 0;
}

runBenchMain(main);
