// bench/disk-cache: what the persistent block cache saves (issue 14, deliverable 1). Against the
// emulator in a child process (BOTS bots, LATENCY ms, BANDWIDTH per connection), with `serve`
// started in this process over a cache folder of budget MAX:
//   cold     a SIZE file read through the engine, every byte checked (upstream: getFile calls, engine bytes);
//   memory   the same read again (the memory LRU holds it when SIZE ≤ 64 MiB): MB/s from memory;
//   restart  a new server over the same folder, the same read: 0 upstream bytes, MB/s from disk;
//   ffprobe  20 small moov-at-end mp4s probed through WebDAV, then after a restart probed again:
//            the second pass costs 0 upstream calls;
//   folder   the cache folder's size on disk (du) after each phase, against the budget.
// The last line is the machine-readable summary (key=value). MB/s are 1e6 B/s.
// Env: BENCH_MIB=32 BENCH_BOTS=4 BENCH_LATENCY=30 BENCH_BANDWIDTH=0 BENCH_DISK_MAX_MIB=(SIZE+64)
// BENCH_VIDEOS=20 BENCH_DEADLINE_S=600.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, type RunningServer } from '../src/app/server';
import { validateConfig } from '../src/config/config-file';
import type { TgvfsConfig } from '../src/config/schema';
import { fileRef } from '../src/vfs/vfs';
import { MiB } from '../support/bytes';
import { envNum } from './helpers/env';
import { matchesPattern, patternChunk, writePatternFile } from './helpers/pattern';
import { createPhases } from './helpers/phases';
import { openBenchWorkspace, runBenchMain, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';

const run = promisify(execFile);
const SIZE = Math.max(1, Math.round(envNum('BENCH_MIB', 32))) * MiB;
const BOTS = Math.max(1, Math.round(envNum('BENCH_BOTS', 4)));
const LATENCY = Math.round(envNum('BENCH_LATENCY', 30));
const BANDWIDTH = Math.round(envNum('BENCH_BANDWIDTH', 0));
const BUDGET = Math.round(envNum('BENCH_DISK_MAX_MIB', SIZE / MiB + 64)) * MiB;
const VIDEOS = Math.max(1, Math.round(envNum('BENCH_VIDEOS', 20)));
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 600);
const SEED = 'tgvfs-bench-disk-cache';

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const { failures, phase } = createPhases(log);

interface Upstream {
  getFile: number;
  bytes: number;
}

async function upstream(emu: EmulatorProcess, server: RunningServer): Promise<Upstream> {
  const s = (await (await fetch(`${emu.config.emulator!.adminUrl}/stats`)).json()) as { calls: Record<string, number> };
  return { getFile: s.calls['upload.getFile'] ?? 0, bytes: server.engine.stats().fetchedBytes };
}

/** Bytes the folder takes on disk, files and folders (what `du -s` counts). */
async function du(dir: string): Promise<number> {
  let sum = (await stat(dir)).blocks * 512;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    // A temporary block file may be renamed away meanwhile.
    sum += e.isDirectory() ? await du(p) : ((await stat(p).catch(() => undefined))?.blocks ?? 0) * 512;
  }
  return sum;
}

/**
 * The big file read whole through the server's stream engine (what WebDAV, FUSE and /stream read
 * from), every byte checked: MB/s, or NaN when a byte is wrong. Not a GET: at this size WebDAV's
 * ramp-up for players (first seconds paced) would be what is measured.
 */
async function getBig(server: RunningServer, chunk: Buffer, signal: AbortSignal): Promise<number> {
  const channel = server.catalog.channels().find((c) => c.name === 'bench')!.id;
  const file = (await server.catalog.files(channel)).find((f) => f.name === 'big.bin')!;
  const t0 = performance.now();
  let pos = 0;
  let ok = true;
  for await (const b of server.engine.createReadStream(fileRef(file), 0, file.size - 1, { signal }) as AsyncIterable<Buffer>) {
    if (ok && !matchesPattern(chunk, pos, b)) ok = false;
    pos += b.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  return ok && pos === SIZE ? SIZE / 1e6 / seconds : NaN;
}

async function ffprobeAll(server: RunningServer): Promise<void> {
  for (let i = 1; i <= VIDEOS; i++) {
    await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', `${server.url}/videos/v${String(i).padStart(2, '0')}.mp4`], { timeout: 60_000 });
  }
}

async function makeData(dataDir: string, chunk: Buffer): Promise<void> {
  await mkdir(path.join(dataDir, 'bench'), { recursive: true });
  await mkdir(path.join(dataDir, 'videos'), { recursive: true });
  await writePatternFile(path.join(dataDir, 'bench', 'big.bin'), SIZE, chunk);
  // About 1.5 MB each, moov at the end (ffmpeg's default): a probe reads the head, then the tail.
  const first = path.join(dataDir, 'videos', 'v01.mp4');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=6:size=320x240:rate=25', '-c:v', 'libx264', '-b:v', '2M', '-pix_fmt', 'yuv420p', '-y', first]);
  for (let i = 2; i <= VIDEOS; i++) await copyFile(first, path.join(dataDir, 'videos', `v${String(i).padStart(2, '0')}.mp4`));
}

async function main(): Promise<number> {
  const ws = await openBenchWorkspace('disk-cache', DEADLINE_S, log);
  const dir = ws.dir;
  const cacheDir = path.join(dir, 'cache');
  let emu: EmulatorProcess | undefined;
  let server: RunningServer | undefined;
  const fig: Record<string, string> = {};
  let maxDu = 0;
  const sampleDu = async (): Promise<void> => void (maxDu = Math.max(maxDu, await du(cacheDir)));
  try {
    log(`bench/disk-cache: ${BOTS} bots, latency ${LATENCY} ms, bandwidth ${BANDWIDTH || 'uncapped'}, file ${SIZE / MiB} MiB, ${VIDEOS} videos, budget ${BUDGET / MiB} MiB`);
    const chunk = patternChunk(SEED);
    const dataDir = path.join(dir, 'data');
    await makeData(dataDir, chunk);
    emu = await phase('start emulator', 90, () =>
      startEmulatorProcess({ dataDir, configFile: path.join(dir, 'config.json'), logFile: path.join(dir, 'emulator.log'), bots: BOTS, latencyMs: LATENCY, bandwidth: BANDWIDTH }));
    if (!emu) return 1;
    const config: TgvfsConfig = { ...validateConfig(emu.config, emu.configFile), diskCache: { dir: cacheDir, maxBytes: BUDGET } };
    const start = async (): Promise<RunningServer> => {
      const s = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
      await s.indexed();
      return s;
    };
    const e = emu;
    server = await start();
    const measure = async (name: string, fn: (s: RunningServer, signal: AbortSignal) => Promise<number | void>): Promise<{ up: Upstream; value: number | void } | undefined> => {
      const s = server!;
      return phase(name, 300, async (signal) => {
        const before = await upstream(e, s);
        const value = await fn(s, signal);
        await sampleDu();
        const after = await upstream(e, s);
        return { up: { getFile: after.getFile - before.getFile, bytes: after.bytes - before.bytes }, value };
      });
    };
    const report = (name: string, r: { up: Upstream; value: number | void } | undefined): void => {
      if (!r) return;
      log(`  ${name.padEnd(22)} ${typeof r.value === 'number' ? `${fmt(r.value)} MB/s, ` : ''}upstream ${r.up.getFile} getFile, ${r.up.bytes} bytes`);
    };
    const cold = await measure('cold GET', (s, sig) => getBig(s, chunk, sig));
    report('cold GET', cold);
    const memory = await measure('second GET (memory)', (s, sig) => getBig(s, chunk, sig));
    report('second GET (memory)', memory);
    await server.close();
    server = await start();
    const disk = await measure('GET after restart', (s, sig) => getBig(s, chunk, sig));
    report('GET after restart (disk)', disk);
    const probe1 = await measure('ffprobe pass 1', (s) => ffprobeAll(s));
    report(`ffprobe x${VIDEOS} pass 1`, probe1);
    await server.close();
    server = await start();
    const probe2 = await measure('ffprobe pass 2', (s) => ffprobeAll(s));
    report(`ffprobe x${VIDEOS} after restart`, probe2);
    const finalDu = await du(cacheDir);
    log(`  cache folder: ${fmt(finalDu / MiB, 1)} MiB now, at most ${fmt(maxDu / MiB, 1)} MiB, budget ${BUDGET / MiB} MiB`);
    if (maxDu > BUDGET + 256 * 1024 + 64 * 1024) failures.push(`cache folder ${maxDu} bytes > budget ${BUDGET} + one block`);
    for (const [r, what] of [[memory, 'second GET'], [disk, 'GET after restart']] as const) if (r && r.up.bytes !== 0) failures.push(`${what}: ${r.up.bytes} bytes upstream`);
    if (probe2 && probe2.up.getFile !== 0) failures.push(`ffprobe after restart: ${probe2.up.getFile} getFile calls`);
    Object.assign(fig, {
      mib: String(SIZE / MiB), cold_MBps: fmt(Number(cold?.value)), memory_MBps: fmt(Number(memory?.value)), disk_MBps: fmt(Number(disk?.value)),
      second_upstream_bytes: String(memory?.up.bytes ?? 'nan'), restart_upstream_bytes: String(disk?.up.bytes ?? 'nan'),
      ffprobe1_getfile: String(probe1?.up.getFile ?? 'nan'), ffprobe2_getfile: String(probe2?.up.getFile ?? 'nan'),
      folder_max_bytes: String(maxDu), budget_bytes: String(BUDGET), folder_budget_fraction: fmt(maxDu / BUDGET, 3),
    });
  } finally {
    await server?.close().catch(() => undefined);
    await emu?.stop().catch(() => undefined);
    await ws.close();
  }
  for (const f of failures) log(`FAIL ${f}`);
  log(Object.entries({ ...fig, failures: String(failures.length) }).map(([k, v]) => `${k}=${v}`).join(' '));
  return failures.length === 0 ? 0 : 1;
}

runBenchMain(main);
