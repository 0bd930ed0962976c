// Password and token hashes for HTTP authentication, in the forms the config file holds:
//   basic:  scrypt$N$r$p$<salt base64>$<key base64>   (`hashPassword`, what `tgvfs hash-password` prints)
//   bearer: sha256$<64 hex>                           (`hashToken`, `tgvfs hash-password --bearer`)
// so that a config file never holds a usable secret. Every comparison is constant-time over
// fixed-length digests: neither the length nor the first differing byte of a guess shows in
// the time an answer takes.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { TgvfsError } from '../util/errors';

/** scrypt cost parameters of new hashes (~50 ms and 16 MiB per verification). */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Hashes we accept from a config file: bounded so a hostile hash cannot make verification eat the machine. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

const PASSWORD_HASH = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const TOKEN_HASH = /^sha256\$([0-9a-f]{64})$/;

/** A password hash's parameters, or why it is not one (never showing the hash). */
export interface ParsedPasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** A malformed `scrypt$…` or `sha256$…` hash. The message never contains the hash. */
export class CredentialHashError extends TgvfsError {
  constructor(message: string) {
    super('AUTH_HASH_INVALID', message);
  }
}

function scryptAsync(password: Buffer, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** scrypt needs 128·N·r bytes; Node refuses more than `maxmem` (32 MiB by default). */
function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  return { N, r, p, maxmem: 128 * N * r + 1024 * 1024 };
}

export function parsePasswordHash(hash: string): ParsedPasswordHash {
  const m = PASSWORD_HASH.exec(hash.trim());
  if (!m) throw new CredentialHashError('a password hash must look like scrypt$N$r$p$<salt>$<key> (made by "tgvfs hash-password")');
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0) throw new CredentialHashError(`scrypt N must be a power of two from 2 to ${MAX_N}`);
  if (r < 1 || r > MAX_R || p < 1 || p > MAX_P) throw new CredentialHashError(`scrypt r must be 1-${MAX_R} and p 1-${MAX_P}`);
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 64) throw new CredentialHashError('scrypt salt must be at least 8 bytes and the key 16-64 bytes');
  return { N, r, p, salt, key };
}

/** The 32-byte digest of a `sha256$<hex>` token hash. */
export function parseTokenHash(hash: string): Buffer {
  const m = TOKEN_HASH.exec(hash.trim());
  if (!m) throw new CredentialHashError('a token hash must look like sha256$<64 lowercase hex digits> (made by "tgvfs hash-password --bearer")');
  return Buffer.from(m[1]!, 'hex');
}

/** `scrypt$16384$8$1$<salt>$<key>` for a password (UTF-8, NFC-normalised like the check). */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(Buffer.from(password.normalize('NFC'), 'utf8'), salt, KEY_BYTES, scryptOptions(N, r, p));
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a `scrypt$…` hash; throws CredentialHashError for a malformed hash. */
export async function verifyPassword(password: string, hash: string | ParsedPasswordHash): Promise<boolean> {
  const h = typeof hash === 'string' ? parsePasswordHash(hash) : hash;
  const key = await scryptAsync(Buffer.from(password.normalize('NFC'), 'utf8'), h.salt, h.key.length, scryptOptions(h.N, h.r, h.p));
  return timingSafeEqual(key, h.key);
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** `sha256$<hex>` for a bearer token. A token is random, so a fast hash is enough. */
export function hashToken(token: string): string {
  return `sha256$${sha256(token).toString('hex')}`;
}

/**
 * Whether `token` matches a `sha256$…` hash: the presented token is hashed and the two 32-byte
 * digests compared in constant time, whatever the token's length.
 */
export function verifyToken(token: string, hash: string | Buffer): boolean {
  const expected = typeof hash === 'string' ? parseTokenHash(hash) : hash;
  return timingSafeEqual(sha256(token), expected);
}

/** Constant-time equality of two strings of any lengths (their SHA-256 digests are compared). */
export function safeEqualStrings(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
