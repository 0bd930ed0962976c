// An LRU of file blocks under a byte budget, shared by every reader of every front-end. A block
// is a view of its part (up to 1 MiB, 4 blocks), so the budget counts what blocks keep alive: each
// underlying buffer once, while any of its blocks is cached. No copy in the usual case; a part
// cut from a much larger buffer is copied out of it first (`ownPart`), or it would pin all of it.
import { LRUCache } from 'lru-cache';

export class BlockCache {
  private readonly lru: LRUCache<string, Buffer>;
  /** Cached blocks per underlying buffer: a buffer counts once, from its first block to its last. */
  private readonly users = new Map<ArrayBufferLike, number>();
  private total = 0;

  constructor(readonly budget: number) {
    // Sized by hand (the buffers blocks keep alive, not their lengths). lru-cache wants a count
    // bound too, and allocates for it up front: one entry per 4 KiB of budget is more than full
    // blocks need, and only a crowd of tiny files' tails would meet it.
    this.lru = new LRUCache<string, Buffer>({ max: Math.max(1, Math.ceil(budget / 4096)), dispose: (b) => this.release(b) });
  }

  /** Bytes of the buffers the cached blocks keep alive. */
  get bytes(): number {
    return this.total;
  }

  /** The block, marked as recently used. */
  get(key: string): Buffer | undefined {
    return this.lru.get(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores a block, evicting the least recently used ones beyond the budget; a block whose buffer is larger than the budget is not kept. */
  set(key: string, value: Buffer): void {
    if (value.buffer.byteLength > this.budget) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, value);
    const n = this.users.get(value.buffer) ?? 0;
    if (n === 0) this.total += value.buffer.byteLength;
    this.users.set(value.buffer, n + 1);
    while (this.total > this.budget && this.lru.size > 0) this.lru.pop();
  }

  clear(): void {
    this.lru.clear();
  }

  private release(block: Buffer): void {
    const n = this.users.get(block.buffer) ?? 0;
    if (n > 1) {
      this.users.set(block.buffer, n - 1);
      return;
    }
    this.users.delete(block.buffer);
    this.total -= block.buffer.byteLength;
  }
}

/** Bytes a part's buffer may hold beyond the part before the part is copied out of it. */
const SPARE = 64 * 1024;

/**
 * The part, as a buffer that keeps nothing larger alive. A part is usually a view of the decrypted
 * message that carried it (the part plus a few dozen header bytes): kept as it is, no copy. A part
 * cut from a larger buffer (a container of several answers, say) is copied out once, so that its
 * blocks in the cache do not pin the rest.
 */
export function ownPart(part: Buffer): Buffer {
  if (part.buffer.byteLength - part.length <= SPARE) return part;
  const own = Buffer.allocUnsafeSlow(part.length);
  part.copy(own);
  return own;
}
