// bench/fuse: what the FUSE front-end costs (issue 7; target: `dd bs=1M` of a large file on the
// mount reaches at least 0.8 of pool.stream's rate). Against the emulator in a child process with
// BOTS bots, each connection shaped to LATENCY ms and BANDWIDTH bytes/s (bench/stream's settings):
//   stream   pool.stream of the whole SIZE file in this process, every byte checked (a fresh pool);
//   fuse     `dd if=<mount>/bench/big.bin bs=1M` from a fresh `tgvfs mount` (child process), its
//            output read here with every byte checked;
//   random   on another fresh mount: 4 KiB preads at shuffled offsets, one per MiB block (so no
//            read finds its block cached by an earlier one), one at a time for RANDOM_S seconds;
//            reads per second.
// then the emulator is restarted without latency or bandwidth cap and stream and fuse run again
// (uncapped_fraction: both sides' real limit, target >= 0.9).
// MB/s are 1e6 B/s; fraction = fuse / stream. The last line is the machine-readable summary.
// Env: BENCH_MIB=256 BENCH_BOTS=4 BENCH_LATENCY=30 BENCH_BANDWIDTH=4194304 BENCH_RANDOM_S=15
// BENCH_SEED=tgvfs-bench-fuse BENCH_DEADLINE_S=900 BENCH_KEEP=1. Quick run: BENCH_MIB=32.
// Needs /dev/fuse and fusermount (the bench is run as root or a user allowed to mount FUSE).
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { WorkerPool } from '../src/index';
import { forceUnmount, fuseMissing, makeMountDir, removeMountDir, startMount } from '../support/fuse-mount';
import { prng } from '../support/prng';
import { MiB } from '../support/bytes';
import { matchesPattern, patternChunk, writePatternFile } from './helpers/pattern';
import { openBenchWorkspace, runBenchMain, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';
import { createPhases } from './helpers/phases';
import { envNum } from './helpers/env';

const SIZE = Math.max(1, Math.round(envNum('BENCH_MIB', 256))) * MiB;
const BOTS = Math.max(1, Math.round(envNum('BENCH_BOTS', 4)));
const LATENCY = Math.round(envNum('BENCH_LATENCY', 30));
const BANDWIDTH = Math.round(envNum('BENCH_BANDWIDTH', 4 * MiB));
const RANDOM_S = envNum('BENCH_RANDOM_S', 15);
const SEED = process.env.BENCH_SEED || 'tgvfs-bench-fuse';
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 900);

const MB = 1e6;
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const { failures, phase } = createPhases(log);

interface Transfer {
  bytes: number;
  seconds: number;
  MBps: number;
  ok: boolean;
}

async function streamRun(emu: EmulatorProcess, channel: number, msgId: number, chunk: Buffer, signal: AbortSignal): Promise<Transfer> {
  const pool = await WorkerPool.create({ ...emu.config, log: () => undefined });
  try {
    const t0 = performance.now();
    let pos = 0;
    let ok = true;
    for await (const c of pool.stream(channel, msgId, 0, SIZE - 1, { signal }) as AsyncIterable<Buffer>) {
      if (ok && !matchesPattern(chunk, pos, c)) ok = false;
      pos += c.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { bytes: pos, seconds, MBps: pos / MB / seconds, ok: ok && pos === SIZE };
  } finally {
    await Promise.race([pool.close(), sleep(10_000)]);
  }
}

/** `dd if=FILE bs=1M` with its stdout read (and checked) here. */
function ddRun(file: string, chunk: Buffer, signal: AbortSignal): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const dd = spawn('dd', [`if=${file}`, 'bs=1M', 'status=none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pos = 0;
    let ok = true;
    let err = '';
    dd.stdout.on('data', (c: Buffer) => {
      if (ok && !matchesPattern(chunk, pos, c)) ok = false;
      pos += c.length;
    });
    dd.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const onAbort = (): void => void dd.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    dd.once('error', (e) => reject(new Error(`dd: ${e.message}`)));
    dd.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`dd exited with ${code}: ${err.trim()}`));
      resolve({ bytes: pos, seconds, MBps: pos / MB / seconds, ok: ok && pos === SIZE });
    });
  });
}

/** 4 KiB preads at shuffled MiB blocks, one at a time, for RANDOM_S seconds: [reads, seconds, ok]. */
async function randomRun(file: string, chunk: Buffer, signal: AbortSignal): Promise<{ reads: number; seconds: number; ok: boolean; medianMs: number }> {
  const rnd = prng(SEED);
  const blocks = Array.from({ length: SIZE / MiB }, (_, i) => i);
  for (let i = blocks.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [blocks[i], blocks[j]] = [blocks[j]!, blocks[i]!];
  }
  const fh = await open(file, 'r');
  const buf = Buffer.alloc(4096);
  const times: number[] = [];
  let ok = true;
  const t0 = performance.now();
  try {
    for (const b of blocks) {
      if (signal.aborted || performance.now() - t0 > RANDOM_S * 1000) break;
      const off = b * MiB + Math.floor(rnd() * (MiB / 4096 - 1)) * 4096;
      const t = performance.now();
      const { bytesRead } = await fh.read(buf, 0, 4096, off);
      times.push(performance.now() - t);
      if (bytesRead !== 4096 || !matchesPattern(chunk, off, buf)) ok = false;
    }
  } finally {
    await fh.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  return { reads: times.length, seconds, ok, medianMs: sorted[sorted.length >> 1] ?? NaN };
}

async function main(): Promise<number> {
  const tStart = performance.now();
  const missing = await fuseMissing();
  if (missing) {
    log(`bench/fuse: ${missing}`);
    log('fuse_MBps=nan stream_MBps=nan fraction=nan random_4k_per_s=nan uncapped_fuse_MBps=nan uncapped_stream_MBps=nan uncapped_fraction=nan');
    return 1;
  }
  const mountDirs: string[] = [];
  // Synchronous on an emergency: lazy unmounts through a detached fusermount.
  const ws = await openBenchWorkspace('fuse', DEADLINE_S, log, () => {
    for (const d of mountDirs) spawn('fusermount', ['-u', '-z', d], { stdio: 'ignore', detached: true }).unref();
  });
  const dir = ws.dir;
  let emu: EmulatorProcess | undefined;
  const fig = { stream: NaN, fuse: NaN, random: NaN, uStream: NaN, uFuse: NaN };
  try {
    log(`bench/fuse: ${BOTS} bots, latency ${LATENCY} ms, bandwidth ${BANDWIDTH ? `${BANDWIDTH} B/s per connection (${BOTS}xB = ${fmt((BOTS * BANDWIDTH) / MB)} MB/s)` : 'uncapped'}, file ${SIZE / MiB} MiB`);
    const dataDir = path.join(dir, 'data');
    await mkdir(path.join(dataDir, 'bench'), { recursive: true });
    const chunk = patternChunk(SEED);
    await writePatternFile(path.join(dataDir, 'bench', 'big.bin'), SIZE, chunk);
    const spawnEmu = (latencyMs: number, bandwidth: number): Promise<EmulatorProcess> =>
      startEmulatorProcess({ dataDir, configFile: path.join(dir, 'config.json'), logFile: path.join(dir, 'emulator.log'), bots: BOTS, latencyMs, bandwidth });
    emu = await phase('start emulator', 90, () => spawnEmu(LATENCY, BANDWIDTH));
    if (!emu) return 1;
    let e = emu;
    const channel = e.config.channels.find((c) => c.name === 'bench')?.id;
    if (channel === undefined) throw new Error('the emulator has no channel "bench"');
    const deadline = 60 + (BANDWIDTH > 0 ? (3 * SIZE) / (BOTS * BANDWIDTH) : SIZE / (10 * MB));

    const s = await phase('pool.stream', deadline, (signal) => streamRun(e, channel, 1, chunk, signal));
    if (s) {
      log(`  pool.stream: ${fmt(s.bytes / MiB, 0)} MiB in ${fmt(s.seconds)} s = ${fmt(s.MBps)} MB/s${s.ok ? '' : '  WRONG BYTES'}`);
      if (s.ok) fig.stream = s.MBps;
      else failures.push('pool.stream: wrong bytes');
    }

    const withMount = async <T>(name: string, seconds: number, fn: (mnt: string, signal: AbortSignal) => Promise<T>): Promise<T | undefined> => {
      const mnt = await makeMountDir('tgvfs-bench-mnt-');
      mountDirs.push(mnt);
      try {
        return await phase(name, seconds, async (signal) => {
          const m = await startMount(e.configFile, mnt);
          try {
            log(`  ${name}: ${m.line} (after ${fmt(m.readyMs / 1000)} s)`);
            return await fn(mnt, signal);
          } finally {
            const r = await m.stop();
            if (r.code !== 0 || r.leftover) failures.push(`${name}: tgvfs mount exit ${r.code ?? r.signal}, cleanup: ${r.leftover || 'none'}`);
          }
        });
      } finally {
        await removeMountDir(mnt).catch(async () => log(`!! ${mnt}: ${await forceUnmount(mnt)}`));
      }
    };

    const f = await withMount('dd bs=1M on the mount', deadline + 60, (mnt, signal) => ddRun(path.join(mnt, 'bench', 'big.bin'), chunk, signal));
    if (f) {
      log(`  dd bs=1M:    ${fmt(f.bytes / MiB, 0)} MiB in ${fmt(f.seconds)} s = ${fmt(f.MBps)} MB/s${f.ok ? '' : '  WRONG BYTES'}`);
      if (f.ok) fig.fuse = f.MBps;
      else failures.push('dd: wrong bytes');
    }

    const r = await withMount('random 4 KiB reads', RANDOM_S + 90, (mnt, signal) => randomRun(path.join(mnt, 'bench', 'big.bin'), chunk, signal));
    if (r) {
      fig.random = r.reads / r.seconds;
      log(`  random 4 KiB: ${r.reads} reads in ${fmt(r.seconds)} s = ${fmt(fig.random)}/s (median ${fmt(r.medianMs, 1)} ms)${r.ok ? '' : '  WRONG BYTES'}`);
      if (!r.ok) failures.push('random reads: wrong bytes');
    }

    // Uncapped: both sides' real limit.
    await emu.stop();
    emu = undefined;
    emu = await phase('start emulator (uncapped)', 90, () => spawnEmu(0, 0));
    if (emu) {
      e = emu;
      log('uncapped (no latency, no bandwidth cap):');
      const uDeadline = 60 + SIZE / (10 * MB);
      const us = await phase('uncapped pool.stream', uDeadline, (signal) => streamRun(e, channel, 1, chunk, signal));
      if (us) {
        log(`  pool.stream: ${fmt(us.bytes / MiB, 0)} MiB in ${fmt(us.seconds)} s = ${fmt(us.MBps)} MB/s${us.ok ? '' : '  WRONG BYTES'}`);
        if (us.ok) fig.uStream = us.MBps;
        else failures.push('uncapped pool.stream: wrong bytes');
      }
      const uf = await withMount('uncapped dd bs=1M on the mount', uDeadline + 60, (mnt, signal) => ddRun(path.join(mnt, 'bench', 'big.bin'), chunk, signal));
      if (uf) {
        log(`  dd bs=1M:    ${fmt(uf.bytes / MiB, 0)} MiB in ${fmt(uf.seconds)} s = ${fmt(uf.MBps)} MB/s${uf.ok ? '' : '  WRONG BYTES'}`);
        if (uf.ok) fig.uFuse = uf.MBps;
        else failures.push('uncapped dd: wrong bytes');
      }
    }
  } finally {
    await emu?.stop().catch(() => undefined);
    await ws.close();
  }
  const fraction = fig.fuse / fig.stream;
  const verdict = Number.isFinite(fraction) ? (fraction >= 0.8 ? 'met' : 'NOT met') : 'not measured';
  log('');
  log(`summary (run took ${fmt((performance.now() - tStart) / 1000, 1)} s):`);
  log(`  stream   ${fmt(fig.stream)} MB/s`);
  log(`  fuse     ${fmt(fig.fuse)} MB/s (dd bs=1M)`);
  log(`  fraction ${fmt(fraction)}  target >= 0.8   ${verdict}`);
  log(`  random   ${fmt(fig.random)} 4 KiB reads/s`);
  const uFraction = fig.uFuse / fig.uStream;
  log(`  uncapped: stream ${fmt(fig.uStream)} MB/s, fuse ${fmt(fig.uFuse)} MB/s, fraction ${fmt(uFraction)}  target >= 0.9   ` +
    `${Number.isFinite(uFraction) ? (uFraction >= 0.9 ? 'met' : 'NOT met') : 'not measured'}`);
  if (failures.length) log(`  FAILED: ${failures.join(' | ')}`);
  log(`fuse_MBps=${fmt(fig.fuse)} stream_MBps=${fmt(fig.stream)} fraction=${fmt(fraction)} random_4k_per_s=${fmt(fig.random)} ` +
    `uncapped_fuse_MBps=${fmt(fig.uFuse)} uncapped_stream_MBps=${fmt(fig.uStream)} uncapped_fraction=${fmt(uFraction)}`);
  return failures.length ? 1 : 0;
}

runBenchMain(main);
