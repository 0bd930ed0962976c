// Bytes for tests and benches: the MiB unit, and deterministic incompressible content: the
// AES-256-CTR keystream of a seed (about 1 GB/s to make, no two parts alike, the same bytes from
// the same seed, so a failure can be replayed and a copy checked without keeping the original).
import { createCipheriv, createHash } from 'node:crypto';

export const MiB = 1 << 20;

/** `size` bytes of the AES-256-CTR keystream keyed by SHA-256(`seed`), IV zero. */
export function keystream(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()]);
}
