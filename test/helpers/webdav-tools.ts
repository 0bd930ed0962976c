// Real client programs for the WebDAV tests (curl, rclone, davfs2, ffprobe, VLC): find them (a
// missing one fails its test with the program's name and the Debian package to install), run them
// asynchronously with a deadline (never spawnSync: the emulator runs in the test's own event loop),
// and run VLC as an unprivileged user (it refuses to run as root).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream } from 'node:fs';
import net from 'node:net';
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

/**
 * `program args` as the unprivileged user `nobody` when we are root (VLC refuses to run as root),
 * through util-linux's setpriv; as is otherwise.
 */
export function asUnprivileged(program: string, args: readonly string[]): { program: string; args: string[] } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { program, args: [...args] };
  const setpriv = requireProgram('setpriv');
  return { program: setpriv, args: ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', program, ...args] };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .once('error', reject)
      .once('end', () => resolve(h.digest('hex')));
  });
}

/** Header fields of an HTTP/1.1 response head (`curl -D`): the last response's, names lower-cased. */
export function parseHeaderBlock(text: string): { status: number; headers: Map<string, string> } {
  // curl writes one block per response (e.g. after a 100 Continue): keep the last one.
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks[blocks.length - 1]?.trim() ?? '';
  const [statusLine, ...lines] = last.split(/\r?\n/);
  const m = /^HTTP\/[\d.]+ (\d{3})/.exec(statusLine ?? '');
  if (!m) throw new Error(`no HTTP status line in:\n${text.slice(0, 500)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(m[1]), headers };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1), so that a failure can be replayed. */
export function prng(seed: string | number): () => number {
  let a = 0;
  if (typeof seed === 'number') a = seed >>> 0;
  else for (const ch of seed) a = (Math.imul(a ^ ch.charCodeAt(0), 2654435761) + 1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
