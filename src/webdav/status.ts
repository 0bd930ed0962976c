// The one table from VFS error codes to HTTP statuses. Our own handlers (GET/HEAD, /stream,
// /thumb) use `httpStatus`; the webdav-server FileSystem adapter hands webdav-server the error
// `davError` returns: one sentinel Error per status, which webdav-server-patches.ts registers with
// webdav-server so that it answers the same status (webdav-server matches errors by identity
// against a list; unknown errors would be 500).
import { v2 as webdav } from 'webdav-server';
import { isVfsError, type VfsErrorCode } from '../vfs/errors';

export const STATUS_BY_CODE: Readonly<Record<VfsErrorCode, number>> = {
  ENOENT: 404,
  ENOTDIR: 404,
  EISDIR: 405,
  EROFS: 403,
  EIO: 502,
  EINVAL: 400,
};

/** The HTTP status for any error: a VfsError's from the table, else 500. */
export function httpStatus(err: unknown): number {
  if (isVfsError(err)) return STATUS_BY_CODE[err.code];
  return 500;
}

/** One sentinel Error per status of the table, by status (registered by webdav-server-patches.ts). */
export const DAV_STATUS_SENTINELS: ReadonlyMap<number, Error> = new Map(
  [...new Set(Object.values(STATUS_BY_CODE))].map((status) => [status, new Error(`tgvfs: HTTP ${status}`)]),
);

/**
 * The error to give a webdav-server callback for `err`: ENOENT is webdav-server's own
 * ResourceNotFound (PROPFIND Depth 1 skips vanished children on it); other VFS codes are
 * sentinels answered with the table's status; anything else stays as is (500).
 */
export function davError(err: unknown): Error {
  if (isVfsError(err, 'ENOENT') || isVfsError(err, 'ENOTDIR')) return webdav.Errors.ResourceNotFound;
  if (isVfsError(err)) return DAV_STATUS_SENTINELS.get(STATUS_BY_CODE[err.code])!;
  return err instanceof Error ? err : new Error(String(err));
}
