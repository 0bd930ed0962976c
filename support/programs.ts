// Real programs that tests and benches run (curl, rclone, ffmpeg, fusermount, umount, VLC…):
// find them (a missing one fails with the program's name and the Debian package to install) and
// run them asynchronously with a deadline (never spawnSync: an emulator or server may run in the
// caller's own event loop and must keep answering).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Debian packages of the programs the tests use (also listed in .ci/run's APT_PACKAGES). */
export const PACKAGE_OF: Record<string, string> = {
  'curl': 'curl',
  'rclone': 'rclone',
  'mount.davfs': 'davfs2',
  'umount': 'mount',
  'ffmpeg': 'ffmpeg',
  'ffprobe': 'ffmpeg',
  'cvlc': 'vlc-bin vlc-plugin-base',
  'setpriv': 'util-linux',
};

/** The absolute path of `name` on PATH (and /usr/sbin, /sbin, where mount helpers live), or null. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return null;
}

/** The path of `name`; throws an error that names the program and its package when it is absent. */
export function requireProgram(name: string): string {
  const found = findProgram(name);
  if (found) return found;
  const pkg = PACKAGE_OF[name] ?? name;
  throw new Error(`required program "${name}" is not installed (not on PATH, /usr/sbin or /sbin): ` +
    `apt-get install -y --no-install-recommends ${pkg}  (.ci/run installs it)`);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to stdin, which is then closed (stdin is /dev/null otherwise). */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Rejects unless the exit code is 0 (default true). */
  check?: boolean;
}

function describeCommand(program: string, args: readonly string[]): string {
  return [program, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a program to completion; on timeout kills it (SIGKILL) and rejects with its stderr tail. */
export function run(program: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const shown = describeCommand(program, args);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(program, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // the program may exit without reading it
      child.stdin!.end(opts.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${shown}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = { code, signal, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - t0 };
      const tail = err.trim().split('\n').slice(-15).join('\n');
      if (timedOut) return reject(new Error(`${shown}: still running after ${timeoutMs} ms, killed; stderr:\n${tail}`));
      if ((opts.check ?? true) && code !== 0) return reject(new Error(`${shown}: exited with ${code ?? signal}; stderr:\n${tail}`));
      resolve(r);
    });
  });
}
