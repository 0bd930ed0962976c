// Child processes for benches: the emulator (`bin/tgvfs emulator`) and one-shot scripts, each
// with a deadline; every child is tracked so that an exit or a signal kills whatever is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TgvfsConfig } from '../../src/config/schema';
import { tgvfsBin } from '../../support/cli-process';

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping children\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

/** Kills every tracked child at once (SIGKILL) and runs the registered cleanups; synchronous. */
export function killAllNow(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  live.clear();
  for (const f of cleanups.splice(0)) {
    try {
      f();
    } catch {
      /* best effort */
    }
  }
}

/** Runs `f` (synchronously) if the process exits or is interrupted before `f` is unregistered. */
export function onEmergency(f: () => void): () => void {
  hook();
  cleanups.push(f);
  return () => {
    const i = cleanups.indexOf(f);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** A bench's temp folder under a deadline: `close()` removes it (kept with BENCH_KEEP=1). */
export interface BenchWorkspace {
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * Makes the temp folder `tgvfs-bench-<name>-…`, removed on any exit (and `emergency` run
 * first, e.g. lazy unmounts), and a watchdog that kills everything after `deadlineS`.
 */
export async function openBenchWorkspace(
  name: string,
  deadlineS: number,
  log: (line: string) => void,
  emergency?: () => void,
): Promise<BenchWorkspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tgvfs-bench-${name}-`));
  const keep = process.env.BENCH_KEEP === '1';
  const unregister = onEmergency(() => {
    emergency?.();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  });
  const watchdog = setTimeout(() => {
    log(`!! the bench is over its ${deadlineS} s deadline; stopping`);
    killAllNow();
    process.exit(1);
  }, deadlineS * 1000);
  watchdog.unref();
  return {
    dir,
    async close() {
      clearTimeout(watchdog);
      if (!keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      else log(`kept ${dir}`);
      unregister();
    },
  };
}

function track(c: ChildProcess): ChildProcess {
  hook();
  live.add(c);
  c.once('exit', () => live.delete(c));
  return c;
}

async function stopChild(c: ChildProcess, graceMs = 5000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = once(c, 'exit');
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export interface EmulatorProcess {
  config: TgvfsConfig;
  configFile: string;
  pid: number;
  stop(): Promise<void>;
}

export interface EmulatorSpawnOptions {
  dataDir: string;
  configFile: string;
  logFile: string;
  bots: number;
  latencyMs: number;
  bandwidth: number;
  startTimeoutMs?: number;
  /** More `tgvfs emulator` flags (faults, --file-dc, …), passed as given. */
  extraArgs?: string[];
}

/** The last lines of a child's log file ('' when there is none yet). */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Spawns `node bin/tgvfs emulator …` and waits for the config it writes once listening. */
export async function startEmulatorProcess(o: EmulatorSpawnOptions): Promise<EmulatorProcess> {
  rmSync(o.configFile, { force: true });
  const logFd = openSync(o.logFile, 'a');
  const args = [tgvfsBin, 'emulator', '--data', o.dataDir, '--bots', String(o.bots), '--config-out', o.configFile,
    '--latency', String(o.latencyMs), '--bandwidth', String(o.bandwidth), ...(o.extraArgs ?? [])];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd] }));
  closeSync(logFd);
  const stop = (): Promise<void> => stopChild(child);
  try {
    const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`emulator exited (${child.exitCode ?? child.signalCode}) before writing its config:\n${logTail(o.logFile)}`);
      }
      if (existsSync(o.configFile)) {
        try {
          const config = JSON.parse(readFileSync(o.configFile, 'utf8')) as TgvfsConfig;
          if (Array.isArray(config.bots) && config.bots.length === o.bots && config.telegram) {
            return { config, configFile: o.configFile, pid: child.pid!, stop };
          }
        } catch {
          /* still being written */
        }
      }
      if (Date.now() > deadline) throw new Error(`emulator wrote no config in ${o.startTimeoutMs ?? 60_000} ms:\n${logTail(o.logFile)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Runs `node script arg…` to completion within `timeoutMs` (then SIGKILL) and returns the last
 * stdout line parsed as JSON; throws with the stderr tail on failure.
 */
export async function runJsonScript<T>(script: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<T> {
  const child = track(spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4000)));
  let why = '';
  const kill = (reason: string): void => {
    why = reason;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill(`over its ${timeoutMs / 1000} s deadline`), timeoutMs);
  const onAbort = (): void => kill('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [code, sig] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`${path.basename(script)} ${why || `exited with ${code ?? sig}`}: ${err.trim().split('\n').slice(-8).join('\n')}`);
    const last = out.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as T;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Runs a bench's `main` and exits with its code; a crash kills every child and exits 1. */
export function runBenchMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      killAllNow();
      process.exit(1);
    },
  );
}
