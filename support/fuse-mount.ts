// `tgvfs mount DIR --config FILE` in a child process for the FUSE tests and bench: start it and wait
// for its `mounted ` line, stop it with SIGTERM, and — whatever happened — make sure no mount is
// left behind (fusermount -u -z, umount -l, and as a last resort aborting the FUSE connection
// through fusectl). The mount is always served by the child, so the test process may use
// fs.promises on it; external tools are still run asynchronously (programs' `run`).
import { mkdtemp, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCli, type CliProcess } from './cli-process';
import { findProgram, run } from './programs';

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

/** /proc/mounts unescaped (\040 → space etc.). */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/mounts', 'utf8');
  const un = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').filter(Boolean).map((line) => {
    const [source = '', target = '', fstype = '', options = ''] = line.split(' ');
    return { source: un(source), target: un(target), fstype, options };
  });
}

/** The /proc/mounts entry whose mount point is `dir`, or null. */
export async function mountAt(dir: string): Promise<MountEntry | null> {
  const abs = path.resolve(dir);
  const all = await readMounts();
  return all.reverse().find((m) => m.target === abs) ?? null;
}

/** The minor device number of a mount (the fusectl connection's name), from /proc/self/mountinfo. */
async function fuseConnection(dir: string): Promise<string | null> {
  const abs = path.resolve(dir);
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const line of text.split('\n').reverse()) {
    const f = line.split(' ');
    if (f[4] === abs && f[2]) return f[2].split(':')[1] ?? null;
  }
  return null;
}

/**
 * Removes any mount at `dir` (lazily, so a busy or dead FUSE server cannot block it); returns what
 * it had to do ('' when nothing was mounted).
 */
export async function forceUnmount(dir: string): Promise<string> {
  if (!(await mountAt(dir))) return '';
  const steps: string[] = [];
  const fusermount = findProgram('fusermount') ?? findProgram('fusermount3');
  if (fusermount) {
    const r = await run(fusermount, ['-u', '-z', dir], { check: false, timeoutMs: 10_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
    steps.push(`fusermount -u -z: ${r.code}`);
    if (!(await mountAt(dir))) return steps.join('; ');
  }
  const umount = findProgram('umount');
  if (umount) {
    const r = await run(umount, ['-l', dir], { check: false, timeoutMs: 10_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
    steps.push(`umount -l: ${r.code}`);
    if (!(await mountAt(dir))) return steps.join('; ');
  }
  // Stuck: abort the FUSE connection, then detach.
  const conn = await fuseConnection(dir);
  if (conn) {
    if (!(await readMounts()).some((m) => m.fstype === 'fusectl') && findProgram('mount')) {
      await run(findProgram('mount')!, ['-t', 'fusectl', 'none', '/sys/fs/fuse/connections'], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
    }
    await writeFile(`/sys/fs/fuse/connections/${conn}/abort`, '1').then(() => steps.push(`aborted fuse connection ${conn}`), () => undefined);
    if (umount) await run(umount, ['-l', dir], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
  }
  steps.push((await mountAt(dir)) ? 'STILL MOUNTED' : 'unmounted');
  return steps.join('; ');
}

/** A fresh empty folder to mount on (under os.tmpdir()). */
export async function makeMountDir(prefix = 'tgvfs-mnt-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Unmounts (forcibly) and removes a mount folder; for `after` hooks. Never touches a mounted dir's contents. */
export async function removeMountDir(dir: string): Promise<void> {
  await forceUnmount(dir);
  if (await mountAt(dir)) throw new Error(`${dir} is still mounted; not removing it`);
  await rmdir(dir).catch(() => rm(dir, { recursive: false, force: true }).catch(() => undefined));
}

export interface MountProcess {
  dir: string;
  cli: CliProcess;
  /** The `mounted …` line. */
  line: string;
  /** How long from spawn to the `mounted` line, ms. */
  readyMs: number;
  logTail(lines?: number): string;
  /** SIGTERM and wait for the exit (SIGKILL after `timeoutMs`); then makes sure nothing is mounted. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; leftover: string }>;
}

/** Preconditions of a FUSE mount here: /dev/fuse and fusermount; a message naming what is missing, or null. */
export async function fuseMissing(): Promise<string | null> {
  try {
    await stat('/dev/fuse');
  } catch {
    return '/dev/fuse is missing (no FUSE in this kernel/container: run with --device /dev/fuse --cap-add SYS_ADMIN)';
  }
  if (!findProgram('fusermount') && !findProgram('fusermount3')) return 'fusermount is missing: apt-get install -y --no-install-recommends fuse libfuse2';
  return null;
}

/** `node bin/tgvfs mount DIR --config FILE`; resolves on its `mounted ` stdout line. */
export async function startMount(configPath: string, dir: string, timeoutMs = 90_000): Promise<MountProcess> {
  const t0 = performance.now();
  const cli = startCli(['mount', dir, '--config', configPath]);
  const logTail = (n = 20): string => cli.stderr().trim().split('\n').slice(-n).join('\n');
  try {
    const m = await cli.waitForLine(/^mounted\b.*/, timeoutMs);
    const readyMs = performance.now() - t0;
    return {
      dir, cli, line: m[0], readyMs, logTail,
      async stop(ms = 15_000) {
        let res: { code: number | null; signal: NodeJS.Signals | null } = { code: cli.child.exitCode, signal: cli.child.signalCode };
        if (cli.child.exitCode === null && cli.child.signalCode === null) {
          cli.child.kill('SIGTERM');
          try {
            res = await cli.exit(ms);
          } finally {
            await cli.kill();
          }
        }
        const leftover = await forceUnmount(dir);
        return { ...res, leftover };
      },
    };
  } catch (err) {
    await cli.kill();
    await forceUnmount(dir);
    throw err;
  }
}
