// The format of one block file of the disk cache. A file is written whole under a temporary name
// and renamed into place, and it carries its block key, its length and a SHA-256 of both: a file
// torn by a crash, truncated, corrupted, or named by a colliding hash is refused, never served.
//
//   "TGVB" | u8 version | 3 bytes zero | u32 key length | u32 data length | sha256(key ‖ data) | key | data
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('TGVB', 'latin1');
const VERSION = 1;
const FIXED = 4 + 4 + 4 + 4 + 32;

/** The file name of a block key: 40 hex digits of its SHA-256 (keys hold ':' and '#'). */
export function blockFileName(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.blk`;
}

export const BLOCK_FILE_NAME = /^[0-9a-f]{40}\.blk$/;

function digest(key: Buffer, data: Buffer): Buffer {
  return createHash('sha256').update(key).update(data).digest();
}

/** The header to write before `data` (the file is header ‖ data). */
export function encodeHeader(key: string, data: Buffer): Buffer {
  const k = Buffer.from(key, 'utf8');
  const h = Buffer.alloc(FIXED + k.length);
  MAGIC.copy(h, 0);
  h.writeUInt8(VERSION, 4);
  h.writeUInt32BE(k.length, 8);
  h.writeUInt32BE(data.length, 12);
  digest(k, data).copy(h, 16);
  k.copy(h, FIXED);
  return h;
}

/** Bytes of the whole file for `key` and `dataLength` bytes. */
export function fileLength(key: string, dataLength: number): number {
  return FIXED + Buffer.byteLength(key, 'utf8') + dataLength;
}

/**
 * The block's bytes (a view of `file`) when `file` is a whole, intact block file of `key` with
 * `expected` bytes; otherwise why not.
 */
export function decodeBlock(file: Buffer, key: string, expected: number): { data: Buffer } | { problem: string } {
  if (file.length < FIXED || !file.subarray(0, 4).equals(MAGIC)) return { problem: 'not a block file' };
  if (file.readUInt8(4) !== VERSION) return { problem: `version ${file.readUInt8(4)}` };
  const keyLength = file.readUInt32BE(8);
  const dataLength = file.readUInt32BE(12);
  if (file.length !== FIXED + keyLength + dataLength) return { problem: `torn: ${file.length} bytes of ${FIXED + keyLength + dataLength}` };
  const k = file.subarray(FIXED, FIXED + keyLength);
  if (k.toString('utf8') !== key) return { problem: 'another block (hash collision)' };
  if (dataLength !== expected) return { problem: `${dataLength} bytes, expected ${expected}` };
  const data = file.subarray(FIXED + keyLength);
  if (!digest(k, data).equals(file.subarray(16, 48))) return { problem: 'checksum mismatch' };
  return { data };
}
