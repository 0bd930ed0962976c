// bench/stream: how fast tgvfs streams, against GramJS's own downloadFile (issue 5, DESIGN.md
// "Figures we aim for"). One run, against the emulator in a child process (own CPU accounting)
// with BOTS bots, each connection shaped to LATENCY ms and BANDWIDTH bytes/s:
//   rtt     median of 10 upload.getFile calls of 4 KiB through one worker;
//   seek    median time to first byte of pool.stream at 20 seeded random offsets, in distinct
//           MiB blocks far apart, visited from the end of the file backwards (read-ahead only goes
//           forwards, so no seek can find its block already cached by an earlier one), each
//           stream destroyed after its first chunk, with a pause between seeks so that parts
//           abandoned by one seek are off the wire before the next;
//   memory  peak RSS (sampled every 50 ms) of a child process that starts a pool and reads 20
//           streams of 20 sparse 1 GiB files at once for MEM_SECONDS (not to their end: at 4×B
//           that would take 20 minutes), dropping the data; a process of its own, so the figure is
//           not inflated by the bench's own buffers and earlier phases;
//   seq     a whole 256 MiB file: pool.stream here, and in a child process each (a plain client as
//           a TS user writes it: default options, pure-JS IGE) GramJS's downloadFile (one client,
//           one part at a time) and W = BOTS GramJS clients, one per bot, each downloading 1/W of
//           the file with iterDownload in parallel (the best a GramJS user can do with the same
//           bots), MB/s (1e6 B/s): ratio and ratio_wclients;
// then the emulator is restarted without latency or bandwidth cap and seq is run again;
// last, the floor of client CPU: AES-256-IGE + SHA-256 alone over BENCH_FLOOR_MIB in-process,
// against pool.stream's client CPU seconds per GiB uncapped (which include the bench's own check
// of every byte against the pattern).
// The seek target is one round trip (with 50% slack) plus the transfer of the part a seek really
// fetches: one 256 KiB block (the engine's BLOCK; read-ahead asks whole MiB parts only later).
// Every phase starts a fresh pool (so no phase finds blocks cached by another) and has a deadline.
// The last line is the machine-readable summary.
// Env (defaults are the issue's): BENCH_MIB=256 BENCH_UNCAPPED_MIB=<BENCH_MIB> BENCH_BOTS=4
// BENCH_LATENCY=30 BENCH_BANDWIDTH=4194304 BENCH_SEEKS=20 BENCH_SEEK_GAP_MS=1000
// BENCH_SPARSE_FILES=20 BENCH_SPARSE_MIB=1024 BENCH_MEM_SECONDS=20 BENCH_CACHE_MIB=<pool default>
// BENCH_SEED=tgvfs-bench-stream BENCH_DEADLINE_S=1800 BENCH_FLOOR_MIB=1024 BENCH_KEEP=1 (keep the temp dir).
import { readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TgvfsConfig } from '../src/config/schema';
import { WorkerPool } from '../src/index';
import { fileLocation } from '../src/telegram/doc-info';
import { BLOCK } from '../src/stream/planner';
import { cryptoFloor } from './helpers/crypto-floor';
import { MiB } from '../support/bytes';
import { cpuSeconds } from '../support/proc';
import { prng } from '../support/prng';
import { matchesPattern, patternChunk, writePatternFile } from './helpers/pattern';
import { openBenchWorkspace, runBenchMain, runJsonScript, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';
import { createPhases } from './helpers/phases';
import { envNum } from './helpers/env';

const SIZE = Math.round(envNum('BENCH_MIB', 256)) * MiB;
const UNCAPPED_SIZE = Math.round(envNum('BENCH_UNCAPPED_MIB', SIZE / MiB)) * MiB;
const BOTS = Math.max(1, Math.round(envNum('BENCH_BOTS', 4)));
const LATENCY = Math.round(envNum('BENCH_LATENCY', 30));
const BANDWIDTH = Math.round(envNum('BENCH_BANDWIDTH', 4 * MiB));
const SEEKS = Math.max(1, Math.round(envNum('BENCH_SEEKS', 20)));
const SEEK_GAP_MS = envNum('BENCH_SEEK_GAP_MS', 1000);
const RTT_CALLS = 10;
const SPARSE_FILES = Math.max(1, Math.round(envNum('BENCH_SPARSE_FILES', 20)));
const SPARSE_SIZE = Math.round(envNum('BENCH_SPARSE_MIB', 1024)) * MiB;
const MEM_SECONDS = envNum('BENCH_MEM_SECONDS', 20);
const CACHE_BYTES = process.env.BENCH_CACHE_MIB ? Math.round(envNum('BENCH_CACHE_MIB', 0) * MiB) : undefined;
const SEED = process.env.BENCH_SEED || 'tgvfs-bench-stream';
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 1800);
const FLOOR_BYTES = Math.max(1, Math.round(envNum('BENCH_FLOOR_MIB', 1024))) * MiB;
const GiB = 1024 * MiB;
const GRAMJS_SCRIPT = path.join(__dirname, 'helpers', 'gramjs-download.js');
const MEMORY_SCRIPT = path.join(__dirname, 'helpers', 'memory-streams.js');

const MB = 1e6;
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** RSS of this (the bench's) process, sampled every 50 ms for the whole run: for information. */
class RssSampler {
  peak = 0;
  private readonly timer = setInterval(() => this.sample(), 50);
  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

// ---- phases ------------------------------------------------------------------------------------

const poolLog: string[] = [];

const { failures, phase } = createPhases(log, { mark: () => poolLog.length, since: (m) => poolLog.slice(m).slice(-8) });

async function withPool<T>(cfg: TgvfsConfig, fn: (pool: WorkerPool) => Promise<T>): Promise<T> {
  const options = { ...cfg, ...(CACHE_BYTES !== undefined ? { cacheBytes: CACHE_BYTES } : {}), log: (l: string) => void poolLog.push(l) };
  const pool = await WorkerPool.create(options);
  try {
    return await fn(pool);
  } finally {
    await Promise.race([pool.close(), sleep(10_000)]);
  }
}

function channelIdOf(cfg: TgvfsConfig, name: string): number {
  const c = cfg.channels.find((ch) => ch.name === name);
  if (!c) throw new Error(`the emulator has no channel "${name}"`);
  return c.id;
}

/** Message ids of files, from the emulator's persisted state (names sorted otherwise). */
function messageIds(dataDir: string, channel: string, files: string[]): Map<string, number> {
  const ids = new Map<string, number>();
  try {
    const state = JSON.parse(readFileSync(path.join(dataDir, '.tgvfs-emulator', 'state.json'), 'utf8')) as {
      channels?: Record<string, { files?: Record<string, number> }>;
    };
    const known = state.channels?.[channel]?.files ?? {};
    for (const f of files) if (typeof known[f] === 'number') ids.set(f, known[f]);
  } catch {
    /* fall back below */
  }
  if (ids.size !== files.length) [...files].sort().forEach((f, i) => ids.set(f, i + 1));
  return ids;
}

interface SeqResult {
  bytes: number;
  seconds: number;
  MBps: number;
  cpuSeconds: number;
  emuCpuSeconds: number;
  ok: boolean;
}

/** pool.stream of a whole file, consumed as fast as it comes; checks every byte. */
async function streamWhole(pool: WorkerPool, emuPid: number, ch: number, msg: number, size: number, chunk: Buffer, signal: AbortSignal): Promise<SeqResult> {
  const emu0 = await cpuSeconds(emuPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s = pool.stream(ch, msg, 0, size - 1, { signal });
  let pos = 0;
  let ok = true;
  for await (const c of s as AsyncIterable<Buffer>) {
    if (ok && !matchesPattern(chunk, pos, c)) ok = false;
    pos += c.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const emuCpu = (await cpuSeconds(emuPid)) - emu0;
  if (pos !== size) ok = false;
  return { bytes: pos, seconds, MBps: pos / MB / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, emuCpuSeconds: emuCpu, ok };
}

interface MemoryResult {
  baseRss: number;
  peakRss: number;
  heapBase: number;
  seconds: number;
  bytes: number;
  minStream: number;
  maxStream: number;
  full: boolean;
  errors: string[];
}

interface GramJsResult {
  bytes: number;
  size: number;
  seconds: number;
  MBps: number;
  cpuSeconds: number;
  ok: boolean;
  ige: string;
  clients?: number;
}

/** GramJS in a child process: one downloadFile (clients 1), or `clients` bots each reading a slice. */
function gramJs(emu: EmulatorProcess, ch: number, msg: number, timeoutS: number, signal: AbortSignal, clients = 1): Promise<GramJsResult> {
  const args = JSON.stringify({ configFile: emu.configFile, bot: 0, channel: ch, msgId: msg, seed: SEED, clients });
  return runJsonScript<GramJsResult>(GRAMJS_SCRIPT, [args], timeoutS * 1000, signal);
}

function describeSeq(label: string, r: SeqResult): void {
  log(`${label}: ${fmt(r.bytes / MiB, 0)} MiB in ${fmt(r.seconds)} s = ${fmt(r.MBps)} MB/s` +
    ` (client CPU ${fmt(r.cpuSeconds)} s, emulator CPU ${fmt(r.emuCpuSeconds)} s)${r.ok ? '' : '  CONTENT MISMATCH'}`);
}

function describeGramJs(label: string, r: GramJsResult): void {
  log(`${label}: ${fmt(r.bytes / MiB, 0)} MiB in ${fmt(r.seconds)} s = ${fmt(r.MBps)} MB/s` +
    ` (its CPU ${fmt(r.cpuSeconds)} s, IGE ${r.ige})${r.ok ? '' : '  CONTENT MISMATCH'}`);
}

/** Time to first byte of a 1 MiB range at `start`; the stream is destroyed after its first chunk. */
function firstByte(pool: WorkerPool, ch: number, msg: number, start: number, end: number, chunk: Buffer, signal: AbortSignal): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let settled = false;
    let s: Readable;
    try {
      s = pool.stream(ch, msg, start, end, { signal });
    } catch (err) {
      reject(err);
      return;
    }
    s.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    s.once('end', () => {
      if (!settled) {
        settled = true;
        reject(new Error(`stream at ${start} ended without data`));
      }
    });
    s.once('data', (c: Buffer) => {
      const ms = performance.now() - t0;
      settled = true;
      s.destroy();
      resolve({ ms, ok: c.length > 0 && matchesPattern(chunk, start, c) });
    });
  });
}

/** SEEKS offsets in distinct MiB blocks, far apart; returned from the end of the file backwards. */
function seekOffsets(size: number): number[] {
  const rnd = prng(`${SEED}:seek`);
  const blocks = Math.floor(size / MiB);
  const picked = new Set<number>();
  if (blocks >= 2 * SEEKS) {
    // One block in the first half of each of SEEKS equal segments: at least half a segment apart.
    const seg = blocks / SEEKS;
    for (let i = 0; i < SEEKS; i++) {
      const lo = Math.floor(i * seg);
      picked.add(lo + Math.floor(rnd() * Math.max(1, Math.floor(seg / 2))));
    }
  } else {
    while (picked.size < Math.min(SEEKS, blocks)) picked.add(Math.floor(rnd() * blocks));
  }
  return [...picked].sort((a, b) => b - a).map((b) => b * MiB + Math.floor(rnd() * MiB));
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const tStart = performance.now();
  const rss = new RssSampler();
  const ws = await openBenchWorkspace('stream', DEADLINE_S, log);
  const dir = ws.dir;
  let emu: EmulatorProcess | undefined;

  const fig = {
    stream: NaN, gramjs: NaN, gramjsW: NaN, seek: NaN, rtt: NaN, rss: NaN, uStream: NaN, uGramjs: NaN, uGramjsW: NaN,
    uCpuPerGiB: NaN, floorPerGiB: NaN,
  };
  // A seek fetches the one block under it (see the header).
  const partMs = BANDWIDTH > 0 ? (BLOCK / BANDWIDTH) * 1000 : 0;
  try {
    log(`bench/stream: ${BOTS} bots, latency ${LATENCY} ms, bandwidth ${BANDWIDTH} B/s per connection ` +
      `(4xB = ${fmt((BOTS * BANDWIDTH) / MB)} MB/s), file ${SIZE / MiB} MiB, ${SPARSE_FILES} sparse files of ${SPARSE_SIZE / MiB} MiB` +
      `${CACHE_BYTES !== undefined ? `, cacheBytes ${CACHE_BYTES}` : ''}`);

    // Data first: the emulator scans the folder when it starts.
    const dataDir = path.join(dir, 'data');
    const bigName = 'big.bin';
    const uName = UNCAPPED_SIZE === SIZE ? bigName : 'uncapped.bin';
    const sparseNames = Array.from({ length: SPARSE_FILES }, (_, i) => `s${String(i).padStart(2, '0')}.bin`);
    const made = await phase('write data', 300, async () => {
      const t0 = performance.now();
      await mkdir(path.join(dataDir, 'bench'), { recursive: true });
      await mkdir(path.join(dataDir, 'sparse'), { recursive: true });
      const chunk = patternChunk(SEED);
      await writePatternFile(path.join(dataDir, 'bench', bigName), SIZE, chunk);
      if (uName !== bigName) await writePatternFile(path.join(dataDir, 'bench', uName), UNCAPPED_SIZE, chunk);
      for (const n of sparseNames) {
        const fh = await open(path.join(dataDir, 'sparse', n), 'w');
        await fh.truncate(SPARSE_SIZE);
        await fh.close();
      }
      log(`data written in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      return true;
    });
    if (!made) return 1;

    const spawnEmu = (latencyMs: number, bandwidth: number): Promise<EmulatorProcess> =>
      startEmulatorProcess({ dataDir, configFile: path.join(dir, 'cfg.json'), logFile: path.join(dir, 'emulator.log'), bots: BOTS, latencyMs, bandwidth });

    // ---- capped ----
    emu = await phase('start emulator (capped)', 90, () => spawnEmu(LATENCY, BANDWIDTH));
    if (emu) {
      const cfg = emu.config;
      const emuNow = emu;
      const bench = channelIdOf(cfg, 'bench');
      const sparse = channelIdOf(cfg, 'sparse');
      const benchIds = messageIds(dataDir, 'bench', uName === bigName ? [bigName] : [bigName, uName]);
      const bigMsg = benchIds.get(bigName)!;
      const uMsg = benchIds.get(uName)!;
      const sparseIds = messageIds(dataDir, 'sparse', sparseNames);

      // rtt + seek, on one fresh pool.
      const seekPhaseS = 60 + SEEKS * (10 + SEEK_GAP_MS / 1000);
      await phase('rtt + seek', seekPhaseS, (signal) =>
        withPool(cfg, async (pool) => {
          const w = pool.workers[0];
          if (!w) throw new Error('no worker');
          const doc = await w.getDoc(bench, bigMsg, { signal });
          if (doc.size !== SIZE) throw new Error(`emulator reports ${doc.size} bytes, wrote ${SIZE}`);
          const loc = fileLocation(doc);
          await w.getFilePart(loc, 0, 4096, { dcId: doc.dcId, signal }); // warm-up
          const rtts: number[] = [];
          for (let i = 0; i < RTT_CALLS; i++) {
            const off = ((i * 7919) % Math.max(1, SIZE / 4096)) * 4096;
            const t0 = performance.now();
            const got = await w.getFilePart(loc, off, 4096, { dcId: doc.dcId, signal });
            rtts.push(performance.now() - t0);
            if (got.length !== 4096) throw new Error(`getFile of 4 KiB returned ${got.length} bytes`);
          }
          fig.rtt = median(rtts);
          log(`rtt: upload.getFile 4 KiB x${RTT_CALLS} through one worker: median ${fmt(fig.rtt)} ms ` +
            `(min ${fmt(Math.min(...rtts))}, max ${fmt(Math.max(...rtts))})`);

          const chunk = patternChunk(SEED);
          const offsets = seekOffsets(SIZE);
          const ttfb: number[] = [];
          let bad = 0;
          for (const off of offsets) {
            await sleep(SEEK_GAP_MS, signal);
            const end = Math.min(off + MiB - 1, SIZE - 1);
            const r = await firstByte(pool, bench, bigMsg, off, end, chunk, signal);
            ttfb.push(r.ms);
            if (!r.ok) bad++;
          }
          fig.seek = median(ttfb);
          const sorted = [...ttfb].sort((a, b) => a - b);
          log(`seek: first byte at ${offsets.length} random offsets (distinct MiB blocks, last to first, ${SEEK_GAP_MS} ms apart): ` +
            `median ${fmt(fig.seek)} ms, min ${fmt(sorted[0]!)}, p90 ${fmt(sorted[Math.floor(sorted.length * 0.9)] ?? NaN)}, max ${fmt(sorted[sorted.length - 1]!)}` +
            `${bad ? `  ${bad} FIRST CHUNK(S) WRONG` : ''}`);
          log(`      the part a seek fetches (${BLOCK / 1024} KiB) at B takes ${fmt(partMs)} ms; target 1.5 x rtt + part = ${fmt(1.5 * fig.rtt + partMs)} ms: ` +
            `${fig.seek <= 1.5 * fig.rtt + partMs ? 'met' : 'NOT met'}`);
          if (bad) failures.push(`seek: ${bad} first chunk(s) with wrong bytes`);
        }),
      );

      // memory: 20 streams at once, for a fixed time, in a process of its own.
      await phase('memory', MEM_SECONDS + 90, async (signal) => {
        const args = JSON.stringify({
          configFile: emuNow.configFile, channel: sparse, msgIds: sparseNames.map((n) => sparseIds.get(n)!),
          size: SPARSE_SIZE, seconds: MEM_SECONDS, cacheBytes: CACHE_BYTES,
        });
        const m = await runJsonScript<MemoryResult>(MEMORY_SCRIPT, [args], (MEM_SECONDS + 80) * 1000, signal);
        fig.rss = m.peakRss / MB;
        log(`memory: ${sparseNames.length} streams of ${SPARSE_SIZE / MiB} MiB sparse files read at once in a child process ` +
          `${m.full ? `to their end (${fmt(m.seconds, 1)} s)` : `for ${fmt(m.seconds, 1)} s (fixed time, not to the end)`}, data dropped: ` +
          `${fmt(m.bytes / MiB, 0)} MiB read, ${fmt(m.bytes / MB / m.seconds)} MB/s together, per stream ${fmt(m.minStream / MiB, 1)}-${fmt(m.maxStream / MiB, 1)} MiB`);
        log(`        RSS with the pool started ${fmt(m.baseRss / MB, 1)} MB (heap ${fmt(m.heapBase / MB, 1)} MB), ` +
          `peak ${fmt(fig.rss, 1)} MB (+${fmt((m.peakRss - m.baseRss) / MB, 1)} MB)`);
        if (m.errors.length) throw new Error(`${m.errors.length} stream(s) failed: ${m.errors.slice(0, 3).join('; ')}`);
      });

      // sequential, capped: pool.stream here, then GramJS in its own process.
      const seqDeadline = 60 + SIZE / (BANDWIDTH / 2);
      const seq = await phase('sequential pool.stream (capped)', seqDeadline, (signal) =>
        withPool(cfg, (pool) => streamWhole(pool, emuNow.pid, bench, bigMsg, SIZE, patternChunk(SEED), signal)),
      );
      if (seq) {
        describeSeq('sequential pool.stream', seq);
        fig.stream = seq.MBps;
        if (!seq.ok) failures.push('sequential pool.stream: wrong bytes');
      }
      // GramJS reads 256 KiB parts (512 KiB over 750 MB) one at a time on one connection.
      const gPart = SIZE < 104857600 ? 128 * 1024 : SIZE < 786432000 ? 256 * 1024 : 512 * 1024;
      const gExpected = (SIZE / gPart) * (LATENCY / 1000 + (BANDWIDTH ? gPart / BANDWIDTH : 0));
      const gDeadline = 90 + 3 * gExpected;
      const g = await phase('sequential GramJS downloadFile (capped)', gDeadline, (signal) => gramJs(emuNow, bench, bigMsg, gDeadline, signal));
      if (g) {
        describeGramJs('sequential GramJS downloadFile', g);
        fig.gramjs = g.MBps;
        if (!g.ok) failures.push('GramJS downloadFile: wrong bytes');
      }
      // W clients: each slice at B, in parallel (GramJS asks 512 KiB parts, one at a time per client).
      const gwDeadline = 90 + 3 * (SIZE / BOTS / (512 * 1024)) * (LATENCY / 1000 + (BANDWIDTH ? (512 * 1024) / BANDWIDTH : 0));
      const gw = await phase(`GramJS ${BOTS} clients iterDownload (capped)`, gwDeadline, (signal) => gramJs(emuNow, bench, bigMsg, gwDeadline, signal, BOTS));
      if (gw) {
        describeGramJs(`GramJS ${BOTS} clients, 1/${BOTS} each`, gw);
        fig.gramjsW = gw.MBps;
        if (!gw.ok) failures.push(`GramJS ${BOTS} clients: wrong bytes`);
      }

      await emu.stop();
      emu = undefined;

      // ---- uncapped ----
      emu = await phase('start emulator (uncapped)', 90, () => spawnEmu(0, 0));
      if (emu) {
        const emuU = emu;
        const uDeadline = 60 + UNCAPPED_SIZE / (2 * MB);
        log(`uncapped (no latency, no bandwidth cap), ${UNCAPPED_SIZE / MiB} MiB file:`);
        const us = await phase('uncapped pool.stream', uDeadline, (signal) =>
          withPool(emuU.config, (pool) => streamWhole(pool, emuU.pid, bench, uMsg, UNCAPPED_SIZE, patternChunk(SEED), signal)),
        );
        if (us) {
          describeSeq('  pool.stream', us);
          fig.uStream = us.MBps;
          fig.uCpuPerGiB = (us.cpuSeconds * GiB) / us.bytes;
          if (!us.ok) failures.push('uncapped pool.stream: wrong bytes');
        }
        const ug = await phase('uncapped GramJS downloadFile', uDeadline, (signal) => gramJs(emuU, bench, uMsg, uDeadline, signal));
        if (ug) {
          describeGramJs('  GramJS downloadFile', ug);
          fig.uGramjs = ug.MBps;
          if (!ug.ok) failures.push('uncapped GramJS downloadFile: wrong bytes');
        }
        const ugw = await phase(`uncapped GramJS ${BOTS} clients`, uDeadline, (signal) => gramJs(emuU, bench, uMsg, uDeadline, signal, BOTS));
        if (ugw) {
          describeGramJs(`  GramJS ${BOTS} clients, 1/${BOTS} each`, ugw);
          fig.uGramjsW = ugw.MBps;
          if (!ugw.ok) failures.push(`uncapped GramJS ${BOTS} clients: wrong bytes`);
        }
      }
    }
    await emu?.stop().catch(() => undefined);
    emu = undefined;
    await phase('crypto floor', 120, async () => {
      const f = cryptoFloor(FLOOR_BYTES);
      fig.floorPerGiB = (f.cpuSeconds * GiB) / f.bytes;
      log(`floor: AES-256-IGE decrypt + SHA-256 of ${fmt(f.bytes / MiB, 0)} MiB in 1 MiB messages: CPU ${fmt(f.cpuSeconds)} s ` +
        `(wall ${fmt(f.seconds)} s) = ${fmt(fig.floorPerGiB)} s/GiB; pool.stream uncapped ${fmt(fig.uCpuPerGiB)} s/GiB`);
    });
  } finally {
    await emu?.stop().catch(() => undefined);
    rss.stop();
    await ws.close();
  }

  const ratio = fig.stream / fig.gramjs;
  const capFraction = (fig.stream * MB) / (BOTS * BANDWIDTH);
  const uRatio = fig.uStream / fig.uGramjs;
  const ratioW = fig.stream / fig.gramjsW;
  const uRatioW = fig.uStream / fig.uGramjsW;
  const overFloor = fig.uCpuPerGiB / fig.floorPerGiB;
  const seekTarget = 1.5 * fig.rtt + partMs;
  const verdict = (ok: boolean, value: number): string => (Number.isFinite(value) ? (ok ? 'met' : 'NOT met') : 'not measured');
  log('');
  log(`summary (run took ${fmt((performance.now() - tStart) / 1000, 1)} s; peak RSS of the bench process ${fmt(rss.peak / MB, 1)} MB):`);
  log(`  ratio          ${fmt(ratio)}  (pool.stream ${fmt(fig.stream)} / GramJS ${fmt(fig.gramjs)} MB/s)   target >= 3     ${verdict(ratio >= 3, ratio)}`);
  log(`  cap_fraction   ${fmt(capFraction)}  (of ${BOTS} x B = ${fmt((BOTS * BANDWIDTH) / MB)} MB/s)          target >= 0.9   ${verdict(capFraction >= 0.9, capFraction)}`);
  log(`  seek_ms        ${fmt(fig.seek)}  (rtt ${fmt(fig.rtt)} ms, part ${fmt(partMs)} ms)     target <= ${fmt(seekTarget)}  ${verdict(fig.seek <= seekTarget, fig.seek + seekTarget)}`);
  log(`  rss_MB         ${fmt(fig.rss)}                                     target < 300    ${verdict(fig.rss < 300, fig.rss)}`);
  log(`  uncapped_ratio ${fmt(uRatio)}  (pool.stream ${fmt(fig.uStream)} / GramJS ${fmt(fig.uGramjs)} MB/s)   target >= 5     ${verdict(uRatio >= 5, uRatio)}`);
  log(`  ratio_wclients ${fmt(ratioW)}  (pool.stream ${fmt(fig.stream)} / ${BOTS} GramJS clients ${fmt(fig.gramjsW)} MB/s)   target >= 1   ${verdict(ratioW >= 1, ratioW)}`);
  log(`  uncapped_ratio_wclients ${fmt(uRatioW)}  (pool.stream ${fmt(fig.uStream)} / ${BOTS} GramJS clients ${fmt(fig.uGramjsW)} MB/s)   target >= 1   ${verdict(uRatioW >= 1, uRatioW)}`);
  log(`  cpu_s_per_GiB  ${fmt(fig.uCpuPerGiB)}  (uncapped pool.stream; floor AES-IGE + SHA-256 ${fmt(fig.floorPerGiB)} s/GiB: ${fmt(overFloor)} x the floor)`);
  if (failures.length) log(`  FAILED: ${failures.join(' | ')}`);
  log(`stream_MBps=${fmt(fig.stream)} gramjs_MBps=${fmt(fig.gramjs)} ratio=${fmt(ratio)} cap_fraction=${fmt(capFraction)} ` +
    `seek_ms=${fmt(fig.seek)} rtt_ms=${fmt(fig.rtt)} rss_MB=${fmt(fig.rss)} uncapped_ratio=${fmt(uRatio)} ` +
    `gramjs_wclients_MBps=${fmt(fig.gramjsW)} ratio_wclients=${fmt(ratioW)} uncapped_stream_MBps=${fmt(fig.uStream)} ` +
    `uncapped_gramjs_MBps=${fmt(fig.uGramjs)} uncapped_gramjs_wclients_MBps=${fmt(fig.uGramjsW)} uncapped_ratio_wclients=${fmt(uRatioW)} ` +
    `cpu_s_per_GiB=${fmt(fig.uCpuPerGiB, 3)} floor_s_per_GiB=${fmt(fig.floorPerGiB, 3)} cpu_over_floor=${fmt(overFloor)}`);
  return failures.length ? 1 : 0;
}

runBenchMain(main);
