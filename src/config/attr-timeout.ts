// How long the kernel may keep a FUSE mount's names and attributes (`tgvfs mount --attr-timeout`,
// TGVFS_ATTR_TIMEOUT). Long enough by default that `ls -l` of a 100,000-file folder finds them
// still cached the second time: with the old 10 s, one listing of ~70k files outlasted the cache,
// so it was never warm.
//
// Why a long cache is safe here: the cache holds only what getattr/lookup said (size, date, that
// the name exists). Bytes are never taken from it: every open resolves the path against the
// catalog's current listing and reads that document, so an edited post is read as its new file.
// What can lag by up to the timeout is a listing's size/date of an edited file and a deleted
// file's name (opening it then fails with ENOENT); new posts appear at once, since the folder's
// own listing (readdir) is always asked of tgvfs.
export const DEFAULT_ATTR_TIMEOUT_SECONDS = 60;

/** Seconds from a flag or environment value: a non-negative number (0 leaves libfuse's default, 1 s). */
export function parseAttrTimeout(value: string, source: string): number {
  const v = value.trim();
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0 || n > 86_400 * 365) {
    throw new RangeError(`${source} must be a number of seconds from 0 to 31536000, got "${value}"`);
  }
  return n;
}

/** The flag's value, else TGVFS_ATTR_TIMEOUT, else the default. */
export function resolveAttrTimeout(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (flag !== undefined) return parseAttrTimeout(flag, '--attr-timeout');
  const fromEnv = env.TGVFS_ATTR_TIMEOUT;
  if (fromEnv !== undefined && fromEnv !== '') return parseAttrTimeout(fromEnv, 'TGVFS_ATTR_TIMEOUT');
  return DEFAULT_ATTR_TIMEOUT_SECONDS;
}
