// The part of fuse-native@2.2.6 (which ships no typings) that tgvfs uses. Callbacks take a
// negative errno (Fuse.ENOENT …) or 0; see node_modules/fuse-native/index.js.
declare module 'fuse-native' {
  namespace Fuse {
    type Callback = (errno: number) => void;
    type ValueCallback<T> = (errno: number, value?: T) => void;

    /** What getattr/readdir give back (times as Date or epoch ms). */
    interface Stat {
      mode: number;
      uid: number;
      gid: number;
      size: number;
      mtime: Date | number;
      atime: Date | number;
      ctime: Date | number;
      nlink?: number;
      ino?: number;
      blksize?: number;
      blocks?: number;
    }

    interface Statfs {
      bsize: number;
      frsize: number;
      blocks: number;
      bfree: number;
      bavail: number;
      files: number;
      ffree: number;
      favail: number;
      fsid: number;
      /** ST_RDONLY = 1 */
      flag: number;
      namemax: number;
    }

    /** The operations tgvfs implements; any left out are ENOSYS in the kernel. */
    interface Operations {
      init?(cb: Callback): void;
      access?(path: string, mode: number, cb: Callback): void;
      statfs?(path: string, cb: ValueCallback<Statfs>): void;
      getattr?(path: string, cb: ValueCallback<Stat>): void;
      fgetattr?(path: string, fd: number, cb: ValueCallback<Stat>): void;
      readdir?(path: string, cb: (errno: number, names?: string[], stats?: Stat[]) => void): void;
      open?(path: string, flags: number, cb: ValueCallback<number>): void;
      read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback): void;
      release?(path: string, fd: number, cb: Callback): void;
      flush?(path: string, fd: number, cb: Callback): void;
      write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback): void;
      create?(path: string, mode: number, cb: ValueCallback<number>): void;
      truncate?(path: string, size: number, cb: Callback): void;
      ftruncate?(path: string, fd: number, size: number, cb: Callback): void;
      utimens?(path: string, atime: number, mtime: number, cb: Callback): void;
      chown?(path: string, uid: number, gid: number, cb: Callback): void;
      chmod?(path: string, mode: number, cb: Callback): void;
      mknod?(path: string, mode: number, dev: number, cb: Callback): void;
      setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Callback): void;
      removexattr?(path: string, name: string, cb: Callback): void;
      unlink?(path: string, cb: Callback): void;
      rename?(src: string, dest: string, cb: Callback): void;
      link?(src: string, dest: string, cb: Callback): void;
      symlink?(src: string, dest: string, cb: Callback): void;
      mkdir?(path: string, mode: number, cb: Callback): void;
      rmdir?(path: string, cb: Callback): void;
    }

    interface Options {
      /** false: no per-operation timeout (the default 15 s fails long reads with ETIMEDOUT). */
      timeout?: number | false;
      /** Unmount a stale (ENOTCONN) mount point first. */
      force?: boolean;
      /** Create the mount point when missing. */
      mkdir?: boolean;
      debug?: boolean;
      allowOther?: boolean;
      defaultPermissions?: boolean;
      autoUnmount?: boolean;
      fsname?: string;
      subtype?: string;
      kernelCache?: boolean;
      autoCache?: boolean;
      maxRead?: number;
      /** Seconds the kernel keeps a name → inode look-up. */
      entryTimeout?: number;
      /** Seconds the kernel keeps attributes. */
      attrTimeout?: number;
      uid?: number;
      gid?: number;
    }
  }

  class Fuse {
    constructor(mnt: string, ops: Fuse.Operations, opts?: Fuse.Options);
    readonly mnt: string;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static isConfigured(cb: (err: Error | null, configured: boolean) => void): void;

    static readonly EPERM: number;
    static readonly ENOENT: number;
    static readonly EIO: number;
    static readonly EBADF: number;
    static readonly EACCES: number;
    static readonly ENOTDIR: number;
    static readonly EISDIR: number;
    static readonly EINVAL: number;
    static readonly EROFS: number;
    static readonly ENOSYS: number;
    static readonly ETIMEDOUT: number;
  }

  export = Fuse;
}
