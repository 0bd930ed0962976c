// `tgvfs mount`: the shared core (core.ts) and a FUSE mount of its VFS (fuse/fuse-ops.ts).
// Before mounting: a clear one-line error when FUSE is missing or the folder cannot be used, and
// a mount of the folder left behind by a crash (its daemon gone: ENOTCONN) is lazily unmounted.
// Everything here stays asynchronous: this process serves the mount, so a synchronous call that
// touches the mount point would deadlock it.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Fuse from 'fuse-native';
import { createFuseOps, type FuseOpsHandle, type GetattrCounts } from '../fuse/fuse-ops';
import type { Vfs } from '../vfs/vfs';
import type { HttpMetrics } from '../webdav/metrics';
import type { TgvfsConfig } from '../config/schema';
import { startCore, type AppCore, type ChannelHealth } from './core';
import { errorLine } from '../util/errors';
import { raceWithDeadline } from '../util/abort';
import { DEFAULT_ATTR_TIMEOUT_SECONDS } from '../config/attr-timeout';
import { mountTablePath, watchMountGone } from './mount-watch';

const FUSE_MISSING = 'FUSE is missing: install libfuse2 and fuse (apt-get install libfuse2 fuse)';

export interface StartMountOptions {
  log?: (line: string) => void;
  /** Aborts start-up. */
  signal?: AbortSignal;
  /** Seconds the kernel caches names and attributes (makes `ls -l` of big folders fast; config/attr-timeout.ts says why it is safe). @default 60 */
  cacheSeconds?: number;
  /** Longest a FUSE operation may take before it fails with EIO, in ms. @default 60000 */
  timeoutMs?: number;
  /** An already started core to mount (demo: shared with its WebDAV server); not closed by close(). */
  core?: AppCore;
  /**
   * The registry a /metrics serves (e.g. `server.http.metrics`): the mount's bytes and open
   * handles appear there as `frontend="fuse"`.
   */
  metrics?: HttpMetrics;
  /**
   * Called once when the mount is taken away from outside (`umount DIR`): the owner should then
   * close() and exit. Without it nothing watches (the demo's mount lives and dies with the demo).
   */
  onUnmounted?: () => void;
}

export interface RunningMount {
  /** The mount point, absolute. */
  readonly dir: string;
  readonly vfs: Vfs;
  health(): ChannelHealth[];
  /** getattr calls so far, answered at once or the asynchronous way (a warm folder: all at once). */
  getattrCounts(): GetattrCounts;
  /** Resolves when every channel's first indexing pass has ended (indexed or failed). */
  indexed(): Promise<void>;
  /** Unmounts, then stops what this mount started. */
  close(): Promise<void>;
}

/** An error whose message is the one line to show the user. */
export class MountError extends Error {
  override readonly name = 'MountError';
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/** Mount points of /proc/mounts (octal escapes decoded). */
async function mountPoints(): Promise<Set<string>> {
  let text: string;
  try {
    text = await fs.readFile('/proc/mounts', 'utf8');
  } catch {
    return new Set();
  }
  const decode = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return new Set(text.split('\n').filter(Boolean).map((l) => decode(l.split(' ')[1] ?? '')));
}

/** fs.stat that gives up after `ms` (a hung mount never answers). */
function statWithin(p: string, ms: number): Promise<import('node:fs').Stats | 'timeout'> {
  const timedOut = new Error('timeout');
  return raceWithDeadline<import('node:fs').Stats | 'timeout'>(fs.stat(p), ms, () => timedOut)
    .catch((err: unknown) => (err === timedOut ? 'timeout' : Promise.reject(err)));
}

/** Lazily unmounts `dir`: fusermount -u -z, else umount -l. */
export async function lazyUnmount(dir: string): Promise<void> {
  try {
    await run('fusermount', ['-u', '-z', dir]);
  } catch (first) {
    try {
      await run('umount', ['-l', dir]);
    } catch {
      throw first;
    }
  }
}

/** Checks FUSE and the folder; cleans a stale mount of it. Returns fuse-native's class. */
async function prepare(dir: string, log: (line: string) => void): Promise<typeof Fuse> {
  try {
    await fs.access('/dev/fuse');
  } catch {
    throw new MountError(`${FUSE_MISSING} (no /dev/fuse)`);
  }
  let FuseClass: typeof Fuse;
  try {
    // Loaded here, not at the top: loading it loads libfuse2, which may be missing.
    FuseClass = (await import('fuse-native')).default;
  } catch (err) {
    throw new MountError(`${FUSE_MISSING} (${errorLine(err)})`);
  }

  const mounted = (await mountPoints()).has(dir);
  let st: import('node:fs').Stats | 'timeout' | undefined;
  try {
    st = await statWithin(dir, 5000);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MountError(`${dir} does not exist`);
    if (code !== 'ENOTCONN' && code !== 'ECONNABORTED') throw new MountError(`cannot use ${dir}: ${errorLine(err)}`);
  }
  if (st === 'timeout') {
    throw new MountError(`${dir} is a mount that does not answer; unmount it (fusermount -u -z ${dir}) and try again`);
  }
  if (st === undefined) {
    log(`${dir}: a mount left behind by a crash (transport endpoint not connected); unmounting it`);
    try {
      await lazyUnmount(dir);
    } catch (err) {
      throw new MountError(`${dir}: cannot clean the stale mount left by a crash: ${errorLine(err)}`);
    }
    st = await fs.stat(dir).catch((err: unknown) => {
      throw new MountError(`cannot use ${dir}: ${errorLine(err)}`);
    });
  } else if (mounted) {
    throw new MountError(`${dir} is busy: something is already mounted there (unmount it first: fusermount -u ${dir})`);
  }
  if (!st.isDirectory()) throw new MountError(`${dir} is not a directory`);
  const entries = await fs.readdir(dir);
  if (entries.length > 0) throw new MountError(`${dir} is not empty`);
  return FuseClass;
}

/**
 * Whether the mount may be opened to other users (allow_other): always for root, else only when
 * /etc/fuse.conf says user_allow_other (fusermount refuses the mount otherwise).
 */
async function mayAllowOther(): Promise<boolean> {
  if (process.getuid?.() === 0) return true;
  try {
    return /^\s*user_allow_other\b/m.test(await fs.readFile('/etc/fuse.conf', 'utf8'));
  } catch {
    return false;
  }
}

function mountFuse(fuse: Fuse, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new MountError(`the FUSE mount of ${fuse.mnt} did not come up within ${timeoutMs / 1000} s`)), timeoutMs);
    fuse.mount((err) => {
      clearTimeout(timer);
      if (err) reject(new MountError(`cannot mount ${fuse.mnt}: ${errorLine(err)}`));
      else resolve();
    });
  });
}

function unmountFuse(fuse: Fuse): Promise<void> {
  return new Promise((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve())));
}

export async function startMount(config: TgvfsConfig, dir: string, options: StartMountOptions = {}): Promise<RunningMount> {
  const log = options.log ?? (() => undefined);
  const abs = path.resolve(dir);
  const FuseClass = await prepare(abs, log);
  options.signal?.throwIfAborted();

  const ownCore = !options.core;
  const core = options.core ?? (await startCore(config, { log, signal: options.signal }));
  let ops: FuseOpsHandle | null = null;
  let fuse: Fuse | null = null;
  let unobserve = (): void => undefined;
  let unwatch = (): void => undefined;
  let gone = false;
  const stop = async (): Promise<void> => {
    unwatch();
    // Already unmounted from outside (umount, a unit's ExecStop): fusermount -u would only fail.
    // (An unreadable /proc/mounts gives no set: then unmount as usual.)
    const points = fuse && !gone ? await mountPoints() : null;
    if (gone || (points && points.size > 0 && !points.has(await mountTablePath(abs)))) fuse = null;
    if (fuse) {
      try {
        await unmountFuse(fuse);
      } catch (err) {
        log(`unmount ${abs}: ${errorLine(err)}; detaching it lazily`);
        await lazyUnmount(abs).catch((e: unknown) => log(`unmount ${abs}: ${errorLine(e)}`));
      }
      fuse = null;
    }
    ops?.closeAll();
    unobserve();
  };
  try {
    options.signal?.throwIfAborted();
    const metrics = options.metrics;
    const handle = createFuseOps(core.vfs, { log, timeoutMs: options.timeoutMs, onRead: metrics && ((n) => metrics.served('fuse', n)) });
    ops = handle;
    if (metrics) unobserve = metrics.addStreamSource('fuse', () => handle.openHandles());
    const cache = options.cacheSeconds ?? DEFAULT_ATTR_TIMEOUT_SECONDS;
    // Other users (a player that refuses to run as root, a desktop session) read the tree too:
    // allow_other, with the kernel checking the modes (0444 files, 0555 folders).
    const allowOther = await mayAllowOther();
    fuse = new FuseClass(abs, ops.ops, {
      timeout: false,
      allowOther,
      defaultPermissions: allowOther,
      fsname: 'tgvfs',
      subtype: 'tgvfs',
      entryTimeout: cache,
      attrTimeout: cache,
      autoCache: true,
    });
    await mountFuse(fuse, 15_000);
    log(`mounted ${abs}`);
    const onUnmounted = options.onUnmounted;
    if (onUnmounted) {
      unwatch = watchMountGone(abs, () => {
        gone = true;
        log(`${abs} was unmounted from outside (umount); stopping`);
        onUnmounted();
      });
    }
    core.startIndexing();
    void core.vfs.warm(); // the first `ls -l` of a big folder finds its name index built
  } catch (err) {
    await stop();
    if (ownCore) await core.close();
    throw err;
  }

  let closing: Promise<void> | null = null;
  return {
    dir: abs,
    vfs: core.vfs,
    health: () => core.health(),
    getattrCounts: () => ops?.getattrCounts() ?? { now: 0, waited: 0 },
    indexed: () => core.indexed(),
    close: () => (closing ??= (async () => {
      await stop();
      if (ownCore) await core.close();
    })()),
  };
}
