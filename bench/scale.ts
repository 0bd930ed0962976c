// bench/scale: how the cost of a large channel grows (issue 14). For each N of BENCH_SCALES, a
// fresh workspace with one channel folder `big/` of N one-byte files, then in order:
//   emulator  time from spawn to its config (it scans the folder and posts every file);
//   index     `tgvfs index` with an empty catalog: wall time and the emulator's upstream calls
//             (channels.getMessages, total) from its /stats;
//   serve     `tgvfs serve` on the filled catalog: time until /healthz says indexed, then a
//             PROPFIND Depth 1 of /big/ (time to the last byte, bytes, every file answered), RSS
//             after it and peak RSS (VmHWM);
//   mount     `tgvfs mount`: `ls -l` of the folder cold (first) and warm (right after), peak RSS.
// One row per N: a table that shows how each cost grows with the folder. 1,000,000 files is opt-in
// (BENCH_SCALES=10000,100000,1000000), as it takes long. No latency or bandwidth cap: these are
// the client's own costs and the emulator's.
// The last line is the machine-readable summary: <figure>_<N as 10k/100k/1m>=value.
// Env: BENCH_SCALES=10000,100000 BENCH_DEADLINE_S=3600 BENCH_KEEP=1 (keep the temp dir).
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { forceUnmount, fuseMissing, makeMountDir, removeMountDir, startMount } from '../support/fuse-mount';
import { peakRssOf, rssOf } from '../support/proc';
import { tgvfsBin } from '../support/cli-process';
import { openBenchWorkspace, runBenchMain, startEmulatorProcess, type EmulatorProcess } from './helpers/processes';
import { startServeProcess } from './helpers/webdav-serve';
import { createPhases } from './helpers/phases';
import { envNum } from './helpers/env';

const SCALES = (process.env.BENCH_SCALES?.trim() || '10000,100000').split(',').map((s) => Math.round(Number(s))).filter((n) => n > 0);
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 3600);
const MB = 1e6;
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const { failures, phase } = createPhases(log);

interface Row {
  files: number;
  emuStartS: number;
  indexS: number;
  getMessages: number;
  calls: number;
  serveReadyS: number;
  propfindS: number;
  propfindMB: number;
  serveRssMB: number;
  servePeakMB: number;
  lsColdS: number;
  lsWarmS: number;
  mountPeakMB: number;
}

const label = (n: number): string => (n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** N one-byte files in `dir`, written 512 at a time. */
async function writeTinyFiles(dir: string, n: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const width = String(n).length;
  for (let i = 0; i < n; i += 512) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 512); k++) batch.push(writeFile(path.join(dir, `f${String(k + 1).padStart(width, '0')}.bin`), 'x'));
    await Promise.all(batch);
  }
}

async function emulatorCalls(adminUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${adminUrl}/stats`);
  const body = (await res.json()) as { calls?: Record<string, number> };
  return body.calls ?? {};
}

/** Runs a child to completion (stdout discarded); seconds it took; throws on a non-zero exit. */
function timed(args: string[], what: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const onAbort = (): void => void c.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    c.once('error', reject);
    c.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (code !== 0) reject(new Error(`${what} exited ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`));
      else resolve((performance.now() - t0) / 1000);
    });
  });
}

/** PROPFIND Depth 1 of `url`: seconds to the last byte, bytes, and how many <D:response> it held. */
function propfind(url: string, signal: AbortSignal): Promise<{ seconds: number; bytes: number; responses: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'PROPFIND', headers: { Depth: '1' }, signal }, (res) => {
      let bytes = 0;
      let responses = 0;
      let tail = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        const text = tail + c.toString('latin1');
        responses += text.split(/<(?:[A-Za-z]+:)?response>/).length - 1;
        tail = text.slice(-32);
        // A tag split across chunks is counted once: drop it from the tail when it was whole.
        if (/<(?:[A-Za-z]+:)?response>/.test(tail)) tail = '';
      });
      res.on('end', () => (res.statusCode === 207 ? resolve({ seconds: (performance.now() - t0) / 1000, bytes, responses }) : reject(new Error(`PROPFIND: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function measureServe(emu: EmulatorProcess, dir: string, n: number, row: Row): Promise<void> {
  const t0 = performance.now();
  const serve = await startServeProcess(emu.configFile, path.join(dir, 'serve.log'), 600_000);
  try {
    row.serveReadyS = (performance.now() - t0) / 1000;
    await phase(`PROPFIND Depth 1 of ${n} files`, 600, async (signal) => {
      const p = await propfind(`${serve.url}/big/`, signal);
      row.propfindS = p.seconds;
      row.propfindMB = p.bytes / MB;
      if (p.responses !== n + 1) failures.push(`${label(n)}: PROPFIND answered ${p.responses} responses, not ${n + 1}`);
    });
    row.serveRssMB = rssOf(serve.pid) / MB;
    row.servePeakMB = peakRssOf(serve.pid) / MB;
  } finally {
    await serve.stop();
  }
}

async function measureMount(emu: EmulatorProcess, n: number, row: Row, mountDirs: string[]): Promise<void> {
  const missing = await fuseMissing();
  if (missing) {
    log(`  mount: skipped (${missing})`);
    return;
  }
  const mnt = await makeMountDir('tgvfs-bench-scale-');
  mountDirs.push(mnt);
  try {
    await phase(`ls -l of ${n} files through FUSE`, 1200, async (signal) => {
      const m = await startMount(emu.configFile, mnt, 600_000);
      try {
        const folder = path.join(mnt, 'big');
        row.lsColdS = await timed(['ls', '-l', folder], 'ls -l (cold)', signal);
        row.lsWarmS = await timed(['ls', '-l', folder], 'ls -l (warm)', signal);
        const pid = m.cli.child.pid;
        if (pid) row.mountPeakMB = peakRssOf(pid) / MB;
      } finally {
        await m.stop();
      }
    });
  } finally {
    await removeMountDir(mnt).catch(async () => log(`!! ${mnt}: ${await forceUnmount(mnt)}`));
  }
}

async function measureScale(root: string, n: number, mountDirs: string[]): Promise<Row> {
  const row: Row = {
    files: n, emuStartS: NaN, indexS: NaN, getMessages: NaN, calls: NaN, serveReadyS: NaN, propfindS: NaN, propfindMB: NaN,
    serveRssMB: NaN, servePeakMB: NaN, lsColdS: NaN, lsWarmS: NaN, mountPeakMB: NaN,
  };
  const dir = path.join(root, label(n));
  const dataDir = path.join(dir, 'data');
  const tw = performance.now();
  await writeTinyFiles(path.join(dataDir, 'big'), n);
  log(`${label(n)}: ${n} files written in ${fmt((performance.now() - tw) / 1000, 1)} s`);
  const t0 = performance.now();
  const emu = await phase(`start emulator with ${n} files`, 1200, () =>
    startEmulatorProcess({ dataDir, configFile: path.join(dir, 'config.json'), logFile: path.join(dir, 'emulator.log'), bots: 4, latencyMs: 0, bandwidth: 0, startTimeoutMs: 1_200_000 }));
  if (!emu) return row;
  try {
    row.emuStartS = (performance.now() - t0) / 1000;
    const adminUrl = emu.config.emulator?.adminUrl;
    const before = adminUrl ? await emulatorCalls(adminUrl) : {};
    await phase(`tgvfs index of ${n} files`, 1800, async (signal) => {
      row.indexS = await timed([process.execPath, tgvfsBin, 'index', '--config', emu.configFile], 'tgvfs index', signal);
    });
    if (adminUrl) {
      const after = await emulatorCalls(adminUrl);
      const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
      row.getMessages = delta('channels.getMessages') + delta('channels.getHistory') + delta('messages.getHistory');
      row.calls = Object.keys(after).reduce((s, k) => s + delta(k), 0);
    }
    await measureServe(emu, dir, n, row);
    await measureMount(emu, n, row, mountDirs);
  } finally {
    await emu.stop();
  }
  return row;
}

function table(rows: Row[]): string[] {
  const head = ['files', 'emu start s', 'index s', 'history calls', 'all calls', 'serve ready s', 'PROPFIND s', 'PROPFIND MB',
    'serve RSS MB', 'serve peak MB', 'ls -l cold s', 'ls -l warm s', 'mount peak MB'];
  const cells = rows.map((r) => [String(r.files), fmt(r.emuStartS, 1), fmt(r.indexS, 1), fmt(r.getMessages, 0), fmt(r.calls, 0),
    fmt(r.serveReadyS, 1), fmt(r.propfindS), fmt(r.propfindMB, 1), fmt(r.serveRssMB, 0), fmt(r.servePeakMB, 0),
    fmt(r.lsColdS), fmt(r.lsWarmS), fmt(r.mountPeakMB, 0)]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => `| ${c.map((x, i) => x.padEnd(width[i]!)).join(' | ')} |`);
}

async function main(): Promise<number> {
  const tStart = performance.now();
  const mountDirs: string[] = [];
  const ws = await openBenchWorkspace('scale', DEADLINE_S, log, () => {
    for (const d of mountDirs) spawn('fusermount', ['-u', '-z', d], { stdio: 'ignore', detached: true }).unref();
  });
  const rows: Row[] = [];
  try {
    log(`bench/scale: one folder of ${SCALES.join(', ')} one-byte files; 4 bots, no latency or bandwidth cap`);
    for (const n of SCALES) rows.push(await measureScale(ws.dir, n, mountDirs));
  } finally {
    await ws.close();
  }
  log('');
  log(`summary (run took ${fmt((performance.now() - tStart) / 1000, 1)} s):`);
  for (const l of table(rows)) log(l);
  if (failures.length) log(`  FAILED: ${failures.join(' | ')}`);
  const pairs = rows.flatMap((r) => {
    const l = label(r.files);
    return [`index_${l}_s=${fmt(r.indexS)}`, `index_calls_${l}=${fmt(r.calls, 0)}`, `propfind_${l}_s=${fmt(r.propfindS)}`,
      `serve_rss_${l}_MB=${fmt(r.servePeakMB, 0)}`, `ls_cold_${l}_s=${fmt(r.lsColdS)}`, `ls_warm_${l}_s=${fmt(r.lsWarmS)}`,
      `mount_rss_${l}_MB=${fmt(r.mountPeakMB, 0)}`, `emu_start_${l}_s=${fmt(r.emuStartS)}`];
  });
  log(pairs.join(' '));
  return failures.length ? 1 : 0;
}

runBenchMain(main);
