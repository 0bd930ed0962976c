// Errno-style errors of the VFS. Every front-end translates them with one table
// (webdav/status.ts → HTTP status, fuse/errno.ts → errno); nothing above the VFS string-matches
// messages.

export type VfsErrorCode =
  /** No such channel, file or folder. */
  | 'ENOENT'
  /** A path goes through a file as if it were a folder. */
  | 'ENOTDIR'
  /** A file operation (open, read) on a folder. */
  | 'EISDIR'
  /** A write of any kind: the tree is read-only. */
  | 'EROFS'
  /** Reading the bytes failed upstream (Telegram, the pool, the stream engine). */
  | 'EIO'
  /** A path or argument that can never be valid (`..`, a separator inside a name, NUL, bad offsets). */
  | 'EINVAL';

const DEFAULT_MESSAGE: Record<VfsErrorCode, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'not a folder',
  EISDIR: 'is a folder',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EINVAL: 'invalid argument',
};

export class VfsError extends Error {
  override readonly name = 'VfsError';

  constructor(
    readonly code: VfsErrorCode,
    /** The path the operation was about, as given. */
    readonly path?: string,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message ?? DEFAULT_MESSAGE[code]}${path !== undefined ? `: ${path}` : ''}`, options);
  }
}

/** True when `err` is a VfsError (with `code`, when given). */
export function isVfsError(err: unknown, code?: VfsErrorCode): err is VfsError {
  return err instanceof VfsError && (code === undefined || err.code === code);
}
