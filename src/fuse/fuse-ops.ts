// The FUSE operations over the VFS: each is a few lines that call `vfs/` and answer the kernel.
// Read-only: every write of any kind is EROFS. Nothing waits forever: every operation has a
// deadline (a read that gets no bytes in `timeoutMs` fails with EIO and a log line), since
// fuse-native runs with `timeout: false` (its 15 s default would fail long, healthy reads).
import type Fuse from 'fuse-native';
import { VfsError, isVfsError } from '../vfs/errors';
import type { Vfs, VfsStat } from '../vfs/vfs';
import { ERRNO, fuseErrno } from './errno';
import { ReadQueue } from './read-queue';
import { errorLine } from '../util/errors';
import { withDeadline } from '../util/abort';

export interface FuseOpsOptions {
  /** Owner of every node. @default process.getuid() */
  uid?: number;
  /** @default process.getgid() */
  gid?: number;
  /** Longest an operation may take before it fails (EIO), in ms. @default 60000 */
  timeoutMs?: number;
  /** Hears of every successful read with the bytes handed to the kernel (metrics). */
  onRead?: (bytes: number) => void;
  log?: (line: string) => void;
}

export interface FuseOpsHandle {
  readonly ops: Fuse.Operations;
  /** Open file handles (tests, metrics). */
  openHandles(): number;
  /** Closes every open handle (after unmount). */
  closeAll(): void;
  /** getattr calls so far: answered at once (statNow) or the asynchronous way (tests, figures). */
  getattrCounts(): GetattrCounts;
}

/** Where getattr answers came from: a warm `ls -l` should take none the asynchronous way. */
export interface GetattrCounts {
  now: number;
  waited: number;
}

const O_ACCMODE = 0o3;
const O_RDONLY = 0;
const O_TRUNC = 0o1000;
const W_OK = 2;
const ST_RDONLY = 1;
const BLOCK = 4096;

/** What a log line should say of a VFS error: what went wrong upstream, when it is known. */
const causeOf = (err: unknown): unknown => (isVfsError(err) && err.cause !== undefined ? err.cause : err);

/** An operation that took longer than the deadline: EIO for the kernel. */
const overdue = (what: string, ms: number): VfsError => new VfsError('EIO', undefined, `${what}: no answer within ${ms / 1000} s`);

/** An operation's value, or the errno to answer the kernel with. */
type Outcome<T> = { ok: true; value: T } | { ok: false; errno: number };

/** What every operation shares: the VFS, the open handles, attributes, deadlines and logging. */
interface OpsContext {
  vfs: Vfs;
  handles: Map<number, ReadQueue>;
  nextFd: () => number;
  attr: (s: VfsStat) => Fuse.Stat;
  /** Runs `fn` under the deadline and answers `cb` with its value or the error's errno. */
  answer: <T>(what: string, cb: (errno: number, value?: T) => void, fn: (signal: AbortSignal) => Promise<T>) => void;
  /** `fn` under the deadline; a failure is logged (EIO, or not a VFS error) and becomes an errno. */
  guarded: <T>(what: string, fn: (signal: AbortSignal) => Promise<T>, onError?: (err: unknown) => void) => Promise<Outcome<T>>;
  onRead?: (bytes: number) => void;
  log: (line: string) => void;
  getattrs: GetattrCounts;
}

export function createFuseOps(vfs: Vfs, options: FuseOpsOptions = {}): FuseOpsHandle {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const handles = new Map<number, ReadQueue>();
  let fd = 0;
  const guarded: OpsContext['guarded'] = (what, fn, onError) =>
    withDeadline(timeoutMs, () => overdue(what, timeoutMs), fn).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => {
        if (onError) onError(err);
        else if (!isVfsError(err) || err.code === 'EIO') log(`fuse: ${what}: ${errorLine(causeOf(err))}`);
        return { ok: false as const, errno: fuseErrno(err) };
      },
    );
  const ctx: OpsContext = {
    vfs, handles, log, onRead: options.onRead, guarded,
    getattrs: { now: 0, waited: 0 },
    nextFd: () => ++fd,
    attr: (st) => attrOf(st, uid, gid),
    answer: (what, cb, fn) => {
      void guarded(what, fn).then((r) => (r.ok ? cb(0, r.value) : cb(r.errno)));
    },
  };
  return {
    ops: { ...metadataOps(ctx), ...fileOps(ctx), ...readOnlyOps() },
    openHandles: () => handles.size,
    getattrCounts: () => ({ ...ctx.getattrs }),
    closeAll: () => {
      for (const h of handles.values()) h.close();
      handles.clear();
    },
  };
}

/** What fuse-native expects of a node: read-only modes, the VFS's size and date. */
function attrOf(s: VfsStat, uid: number, gid: number): Fuse.Stat {
  const mtime = new Date(s.mtimeMs);
  const dir = s.type === 'directory';
  return {
    mode: dir ? 0o40555 : 0o100444,
    uid, gid,
    size: s.size,
    mtime, atime: mtime, ctime: mtime,
    nlink: dir ? 2 : 1,
    blksize: 128 * 1024,
    blocks: Math.ceil(s.size / 512),
  };
}

/**
 * A file's stat when the VFS has it at hand (its folder index current), an errno for a path that
 * is known not to exist, or undefined to go the asynchronous way. The getattr storm of `ls -l`
 * on a big folder is thus answered without a promise, an AbortController and a timer per file.
 */
function statNow(c: OpsContext, path: string): VfsStat | number | undefined {
  try {
    return c.vfs.statNow(path);
  } catch (err) {
    return isVfsError(err) ? fuseErrno(err) : undefined;
  }
}

function metadataOps(c: OpsContext): Partial<Fuse.Operations> {
  return {
    getattr: (path, cb) => {
      const now = statNow(c, path);
      if (now === undefined) c.getattrs.waited++;
      else c.getattrs.now++;
      if (now === undefined) return c.answer(`getattr ${path}`, cb, async () => c.attr(await c.vfs.stat(path)));
      if (typeof now === 'number') return cb(now);
      cb(0, c.attr(now));
    },
    fgetattr: (path, fd, cb) => {
      const h = c.handles.get(fd);
      if (h) return cb(0, c.attr(h.handle.stat));
      c.answer(`getattr ${path}`, cb, async () => c.attr(await c.vfs.stat(path)));
    },
    access: (path, mode, cb) => {
      c.answer(`access ${path}`, cb, async () => {
        await c.vfs.stat(path);
        if (mode & W_OK) throw new VfsError('EROFS', path);
      });
    },
    // Names only: FUSE 2's high-level readdir passes no attributes to the kernel (no readdirplus),
    // so stats here were built, converted to typed arrays and dropped. `ls -l` asks getattr.
    readdir: (path, cb) => {
      void c.guarded(`readdir ${path}`, () => c.vfs.readdirNames(path)).then((r) => {
        if (!r.ok) return cb(r.errno);
        cb(0, r.value);
      });
    },
    statfs: (path, cb) => {
      c.answer(`statfs ${path}`, cb, async () => {
        const bytes = await c.vfs.usage('/');
        const blocks = Math.ceil(bytes / BLOCK);
        return { bsize: BLOCK, frsize: BLOCK, blocks, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: ST_RDONLY, namemax: 255 };
      });
    },
  };
}

function fileOps(c: OpsContext): Partial<Fuse.Operations> {
  return {
    open: (path, flags, cb) => {
      if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0) return cb(ERRNO.EROFS);
      c.answer(`open ${path}`, cb, async () => {
        const fd = c.nextFd();
        c.handles.set(fd, new ReadQueue(await c.vfs.open(path)));
        return fd;
      });
    },
    read: (path, fd, buf, len, pos, cb) => {
      const h = c.handles.get(fd);
      if (!h) return cb(ERRNO.EBADF);
      const failed = (err: unknown): void => {
        const s = h.handle.stat;
        const where = s.channel !== undefined ? `channel ${s.channel} message ${s.msgId ?? '?'}` : 'no message';
        c.log(`fuse: read ${path} (${where}) ${len} bytes at ${pos} failed: ${errorLine(causeOf(err))}`);
      };
      void c.guarded(`read ${path}`, (signal) => h.read(pos, len, signal), failed).then((r) => {
        if (!r.ok) return cb(r.errno);
        const n = Math.min(r.value.length, len);
        r.value.copy(buf, 0, 0, n);
        c.onRead?.(n);
        cb(n);
      });
    },
    release: (_path, fd, cb) => {
      c.handles.get(fd)?.close();
      c.handles.delete(fd);
      cb(0);
    },
    flush: (_path, _fd, cb) => cb(0),
  };
}

/** Every write of any kind: EROFS. */
function readOnlyOps(): Partial<Fuse.Operations> {
  const refuse = (cb: (errno: number) => void): void => cb(ERRNO.EROFS);
  return {
    write: (_path, _fd, _buf, _len, _pos, cb) => refuse(cb),
    create: (_path, _mode, cb) => refuse(cb),
    truncate: (_path, _size, cb) => refuse(cb),
    ftruncate: (_path, _fd, _size, cb) => refuse(cb),
    utimens: (_path, _atime, _mtime, cb) => refuse(cb),
    chown: (_path, _uid, _gid, cb) => refuse(cb),
    chmod: (_path, _mode, cb) => refuse(cb),
    mknod: (_path, _mode, _dev, cb) => refuse(cb),
    setxattr: (_path, _name, _value, _position, _flags, cb) => refuse(cb),
    removexattr: (_path, _name, cb) => refuse(cb),
    unlink: (_path, cb) => refuse(cb),
    rename: (_src, _dest, cb) => refuse(cb),
    link: (_src, _dest, cb) => refuse(cb),
    symlink: (_src, _dest, cb) => refuse(cb),
    mkdir: (_path, _mode, cb) => refuse(cb),
    rmdir: (_path, cb) => refuse(cb),
  };
}
