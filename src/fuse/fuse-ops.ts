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

export function createFuseOps(vfs: Vfs, options: FuseOpsOptions = {}): FuseOpsHandle {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const handles = new Map<number, ReadQueue>();
  let nextFd = 1;

  const attr = (s: VfsStat): Fuse.Stat => {
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
  };

  /** Runs `fn` under the deadline and answers `cb` with its value or the error's errno. */
  const answer = <T>(what: string, cb: (errno: number, value?: T) => void, fn: (signal: AbortSignal) => Promise<T>): void => {
    withDeadline(timeoutMs, () => overdue(what, timeoutMs), fn).then(
      (v) => cb(0, v),
      (err: unknown) => {
        if (!isVfsError(err) || err.code === 'EIO') log(`fuse: ${what}: ${errorLine(causeOf(err))}`);
        cb(fuseErrno(err));
      },
    );
  };

  const readOnly = (cb: (errno: number) => void): void => cb(ERRNO.EROFS);

  const ops: Fuse.Operations = {
    getattr: (path, cb) => answer(`getattr ${path}`, cb, async () => attr(await vfs.stat(path))),
    fgetattr: (path, fd, cb) => {
      const h = handles.get(fd);
      if (h) return cb(0, attr(h.handle.stat));
      answer(`getattr ${path}`, cb, async () => attr(await vfs.stat(path)));
    },
    access: (path, mode, cb) => {
      answer(`access ${path}`, cb, async () => {
        await vfs.stat(path);
        if (mode & W_OK) throw new VfsError('EROFS', path);
      });
    },
    readdir: (path, cb) => {
      withDeadline(timeoutMs, () => overdue(`readdir ${path}`, timeoutMs), () => vfs.readdir(path)).then(
        (entries) => cb(0, entries.map((e) => e.name), entries.map((e) => attr(e.stat))),
        (err: unknown) => {
          if (!isVfsError(err) || err.code === 'EIO') log(`fuse: readdir ${path}: ${errorLine(causeOf(err))}`);
          cb(fuseErrno(err));
        },
      );
    },
    statfs: (path, cb) => {
      answer(`statfs ${path}`, cb, async () => {
        const bytes = await vfs.usage('/');
        const blocks = Math.ceil(bytes / BLOCK);
        return { bsize: BLOCK, frsize: BLOCK, blocks, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: ST_RDONLY, namemax: 255 };
      });
    },
    open: (path, flags, cb) => {
      if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0) return cb(ERRNO.EROFS);
      answer(`open ${path}`, cb, async () => {
        const fd = nextFd++;
        handles.set(fd, new ReadQueue(await vfs.open(path)));
        return fd;
      });
    },
    read: (path, fd, buf, len, pos, cb) => {
      const h = handles.get(fd);
      if (!h) return cb(ERRNO.EBADF);
      withDeadline(timeoutMs, () => overdue(`read ${path}`, timeoutMs), (signal) => h.read(pos, len, signal)).then(
        (bytes) => {
          const n = Math.min(bytes.length, len);
          bytes.copy(buf, 0, 0, n);
          options.onRead?.(n);
          cb(n);
        },
        (err: unknown) => {
          const s = h.handle.stat;
          const where = s.channel !== undefined ? `channel ${s.channel} message ${s.msgId ?? '?'}` : 'no message';
          log(`fuse: read ${path} (${where}) ${len} bytes at ${pos} failed: ${errorLine(causeOf(err))}`);
          cb(fuseErrno(err));
        },
      );
    },
    release: (_path, fd, cb) => {
      handles.get(fd)?.close();
      handles.delete(fd);
      cb(0);
    },
    flush: (_path, _fd, cb) => cb(0),
    write: (_path, _fd, _buf, _len, _pos, cb) => readOnly(cb),
    create: (_path, _mode, cb) => readOnly(cb),
    truncate: (_path, _size, cb) => readOnly(cb),
    ftruncate: (_path, _fd, _size, cb) => readOnly(cb),
    utimens: (_path, _atime, _mtime, cb) => readOnly(cb),
    chown: (_path, _uid, _gid, cb) => readOnly(cb),
    chmod: (_path, _mode, cb) => readOnly(cb),
    mknod: (_path, _mode, _dev, cb) => readOnly(cb),
    setxattr: (_path, _name, _value, _position, _flags, cb) => readOnly(cb),
    removexattr: (_path, _name, cb) => readOnly(cb),
    unlink: (_path, cb) => readOnly(cb),
    rename: (_src, _dest, cb) => readOnly(cb),
    link: (_src, _dest, cb) => readOnly(cb),
    symlink: (_src, _dest, cb) => readOnly(cb),
    mkdir: (_path, _mode, cb) => readOnly(cb),
    rmdir: (_path, cb) => readOnly(cb),
  };

  return {
    ops,
    openHandles: () => handles.size,
    closeAll: () => {
      for (const h of handles.values()) h.close();
      handles.clear();
    },
  };
}
