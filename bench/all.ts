// bench/all (`npm run bench`): runs every benchmark in bench/ one after another, each as a child
// process (emulator, stream, webdav, fuse first, then any other bench/*.js), and prints one table
// of the figures each printed on its last line, with DESIGN.md's target where it gives one.
// A bench's own output goes to stderr, prefixed with its name; the table goes to stdout.
//   --quick        shorter runs (smaller files, fewer runs and seeks); env BENCH_QUICK=1 too.
//                  Any BENCH_* variable already set wins over the quick settings.
//   --only a,b     only these benches (names without .js)
//   --json         print the rows as JSON instead of a table
// Env: BENCH_ALL_TIMEOUT_S=3600 (per bench; each bench also has its own deadline),
// BENCH_DIR (where the benches are; default this folder), and every bench's own BENCH_* knobs.
// Exit code: 0 every bench ran and printed its figures (targets not met are shown, not fatal),
// 1 otherwise, 2 bad usage, 130 interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderBenchTable, summaryFigures, tableRows, type TableRow } from './helpers/figures';

/** Known benches run first, in this order (the emulator's figure bounds every other). */
const ORDER = ['emulator', 'stream', 'webdav', 'fuse'];

/** Shorter settings per bench for --quick (each bench's header comment lists its knobs). */
const QUICK_ENV: Record<string, Record<string, string>> = {
  emulator: { BENCH_MIB: '64' },
  stream: { BENCH_MIB: '32', BENCH_SEEKS: '6', BENCH_SEEK_GAP_MS: '300', BENCH_MEM_SECONDS: '5', BENCH_FLOOR_MIB: '256' },
  webdav: { BENCH_MIB: '32', BENCH_RUNS: '1' },
  fuse: { BENCH_MIB: '32', BENCH_RANDOM_S: '5' },
  'webdav-propfind': { BENCH_RUNS: '2' },
  soak: { BENCH_MIB: '64', BENCH_RANGES: '16', BENCH_POSTS: '4' },
  scale: { BENCH_SCALES: '2000' },
  'disk-cache': { BENCH_MIB: '32', BENCH_VIDEOS: '10' },
};

interface BenchResult {
  name: string;
  /** Exit code, or the signal that ended it, or `timeout`. */
  exit: string;
  seconds: number;
  rows: TableRow[];
}

function usage(message: string): never {
  process.stderr.write(`bench/all: ${message}\nusage: node dist/bench/all.js [--quick] [--only NAME,...] [--json]\n`);
  process.exit(2);
}

function envNumber(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) usage(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

/** bench/*.js other than this one, known ones first. */
function discover(dir: string): string[] {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js') && e.name !== 'all.js')
    .map((e) => e.name.slice(0, -'.js'.length));
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

let current: ChildProcess | null = null;
let interrupted: NodeJS.Signals | null = null;

function runBench(name: string, file: string, env: NodeJS.ProcessEnv, timeoutS: number): Promise<{ exit: string; seconds: number; output: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  current = child;
  let output = '';
  // Each line of the bench's output goes to stderr with the bench's name in front.
  const prefixer = (): { push(chunk: Buffer): void; flush(): void } => {
    let pending = '';
    return {
      push(chunk) {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) process.stderr.write(`[${name}] ${l}\n`);
      },
      flush() {
        if (pending) process.stderr.write(`[${name}] ${pending}\n`);
        pending = '';
      },
    };
  };
  const out = prefixer();
  const err = prefixer();
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString('utf8');
    out.push(c);
  });
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`[${name}] over bench/all's ${timeoutS} s limit: stopping it\n`);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  }, timeoutS * 1000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      current = null;
      out.flush();
      err.flush();
      const exit = timedOut ? 'timeout' : code !== null ? String(code) : (signal ?? 'unknown');
      resolve({ exit, seconds: (performance.now() - t0) / 1000, output });
    });
  });
}

function resultRows(results: BenchResult[]): TableRow[] {
  return results.flatMap((r) => [
    ...r.rows,
    { bench: r.name, figure: 'exit', value: r.exit, target: '0', met: r.exit === '0' ? 'yes' : 'no' },
    { bench: r.name, figure: 'seconds', value: r.seconds.toFixed(0), target: '-', met: '-' },
  ]);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  if (args.help) {
    process.stdout.write('usage: node dist/bench/all.js [--quick] [--only NAME,...] [--json]  (npm run bench -- --quick)\n');
    return 0;
  }
  const quick = args.quick || process.env.BENCH_QUICK === '1';
  const dir = process.env.BENCH_DIR ? path.resolve(process.env.BENCH_DIR) : __dirname;
  const timeoutS = envNumber('BENCH_ALL_TIMEOUT_S', 3600);
  const bandwidth = envNumber('BENCH_BANDWIDTH', 4 * 1024 * 1024);
  let available: string[];
  try {
    available = discover(dir);
  } catch (err) {
    usage(`cannot list the benches in ${dir}: ${(err as Error).message}`);
  }
  let names = available;
  if (args.only !== undefined) {
    names = args.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !available.includes(n));
    if (unknown.length || names.length === 0) usage(`--only: no bench ${unknown.join(', ') || '(empty)'}; there are: ${available.join(', ')}`);
  }

  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = sig;
    process.stderr.write(`\nbench/all: ${sig}: stopping the current bench\n`);
    // The bench kills its own children (the emulator, mounts) on SIGTERM.
    current?.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: BenchResult[] = [];
  const t0 = performance.now();
  /** What differed from the benches' defaults, to reproduce the figures. */
  const settings = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && k !== 'BENCH_DIR' && k !== 'BENCH_QUICK' && v?.trim())
    .map(([k, v]) => `${k}=${v}`);
  for (const name of names) {
    if (interrupted) break;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A variable set (and not empty: the benches read empty as unset) wins over --quick.
    for (const [k, v] of Object.entries(quick ? (QUICK_ENV[name] ?? {}) : {})) {
      if (env[k]?.trim()) continue;
      env[k] = v;
      settings.push(`${name}:${k}=${v}`);
    }
    process.stderr.write(`bench/all: ${name}${quick ? ' (quick)' : ''}\n`);
    const run = await runBench(name, path.join(dir, `${name}.js`), env, timeoutS);
    const figures = summaryFigures(run.output);
    if (!figures) process.stderr.write(`bench/all: ${name} printed no figures (exit ${run.exit})\n`);
    results.push({ name, exit: run.exit, seconds: run.seconds, rows: figures ? tableRows(name, figures, bandwidth) : [] });
  }

  const rows = resultRows(results);
  if (args.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    process.stdout.write(`\nbenchmarks${quick ? ' (quick)' : ''}, ${((performance.now() - t0) / 1000).toFixed(0)} s; settings: ${settings.join(' ') || 'the benches\' defaults'}\n`);
    process.stdout.write(renderBenchTable(rows));
  }
  if (interrupted) return 130;
  return results.every((r) => r.exit === '0' && r.rows.length > 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench/all: ${(err as Error)?.stack ?? String(err)}\n`);
    current?.kill('SIGKILL');
    process.exit(1);
  },
);
