// The one table from VFS error codes to the (negative) errnos a FUSE callback answers.
import { isVfsError, type VfsErrorCode } from '../vfs/errors';

// Linux values, as fuse-native's Fuse.E* constants (not imported here: loading fuse-native loads
// libfuse, and this table must be usable where FUSE is missing).
export const ERRNO = {
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EROFS: -30,
} as const;

export const ERRNO_BY_CODE: Readonly<Record<VfsErrorCode, number>> = {
  ENOENT: ERRNO.ENOENT,
  ENOTDIR: ERRNO.ENOTDIR,
  EISDIR: ERRNO.EISDIR,
  EROFS: ERRNO.EROFS,
  EIO: ERRNO.EIO,
  EINVAL: ERRNO.EINVAL,
};

/** The errno for any error: a VfsError's from the table, else EIO. */
export function fuseErrno(err: unknown): number {
  if (isVfsError(err)) return ERRNO_BY_CODE[err.code];
  return ERRNO.EIO;
}
