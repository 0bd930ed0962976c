// Runs `bin/tgvfs` as a child process for end-to-end tests and benches: wait for a line on
// stdout, send a signal, wait for the exit with a deadline. This file compiles to dist/support/,
// so the repo root is two levels up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
export const tgvfsBin = path.join(repoRoot, 'bin/tgvfs');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs tgvfs to completion (for usage errors and other quick exits). */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [tgvfsBin, ...args], {
    cwd: repoRoot,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The first stdout line matching `re`; rejects when the process exits first or time runs out. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Waits for the exit; rejects (and kills the process) when it takes longer than `timeoutMs`. */
  exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for `after` hooks. */
  kill(): Promise<void>;
}

export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const child = spawn(process.execPath, [tgvfsBin, ...args], {
    cwd: repoRoot,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
    notify();
  });
  const running = (): boolean => !done && child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (const line of out.split('\n')) {
            const m = re.exec(line);
            if (m) return finish(() => resolve(m));
          }
          if (!running()) {
            finish(() => reject(new Error(`tgvfs exited (${child.exitCode ?? child.signalCode}) before printing ${re}; stderr:\n${err}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no stdout line ${re} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`))),
          timeoutMs,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async exit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`tgvfs did not exit within ${timeoutMs} ms; stderr:\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
