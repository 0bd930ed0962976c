// Deterministic, incompressible bench data that can be checked without keeping a copy: a 16 MiB
// block of AES-256-CTR keystream (from a seed) repeated, each repetition starting with its own
// 8-byte header (the block number, big-endian), so no two MiB-aligned parts of a file are equal.
import { open } from 'node:fs/promises';
import { keystream, MiB } from '../../support/bytes';

export const PATTERN_BLOCK = 16 * MiB;
const HEADER = 8;

/** The 16 MiB keystream block of `seed` (about 10 ms to make). */
export function patternChunk(seed: string): Buffer {
  return keystream(PATTERN_BLOCK, seed);
}

function header(block: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeBigUInt64BE(BigInt(block));
  return h;
}

/** Writes `size` bytes of the pattern to `file`. */
export async function writePatternFile(file: string, size: number, chunk: Buffer): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const block = Buffer.from(chunk);
    for (let at = 0, k = 0; at < size; at += PATTERN_BLOCK, k++) {
      header(k).copy(block, 0);
      const n = Math.min(PATTERN_BLOCK, size - at);
      await fh.write(block, 0, n, at);
    }
  } finally {
    await fh.close();
  }
}

/** True when `buf` equals the pattern's bytes at file offset `pos`. */
export function matchesPattern(chunk: Buffer, pos: number, buf: Buffer): boolean {
  let off = 0;
  while (off < buf.length) {
    const p = pos + off;
    const k = Math.floor(p / PATTERN_BLOCK);
    const within = p - k * PATTERN_BLOCK;
    const n = Math.min(buf.length - off, PATTERN_BLOCK - within);
    let h = 0;
    if (within < HEADER) {
      const hdr = header(k);
      h = Math.min(n, HEADER - within);
      for (let i = 0; i < h; i++) if (buf[off + i] !== hdr[within + i]) return false;
    }
    if (n > h && !buf.subarray(off + h, off + n).equals(chunk.subarray(within + h, within + n))) return false;
    off += n;
  }
  return true;
}
