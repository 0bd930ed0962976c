// An LRU of file blocks under a byte budget, shared by every reader of every front-end
// (lru-cache, size-aware). The budget counts each block's length; blocks own their memory (see
// `ownBlock`), so what the cache counts is what it keeps alive.
import { LRUCache } from 'lru-cache';

export class BlockCache {
  private readonly lru: LRUCache<string, Buffer>;

  constructor(readonly budget: number) {
    // lru-cache sizes are positive integers; an empty block (never made) would count 1 byte.
    this.lru = new LRUCache<string, Buffer>({ maxSize: Math.max(1, budget), sizeCalculation: (b) => Math.max(1, b.length) });
  }

  /** Bytes held. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** The block, marked as recently used. */
  get(key: string): Buffer | undefined {
    return this.lru.get(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores a block, evicting the least recently used ones beyond the budget; a block larger than the budget is not kept. */
  set(key: string, value: Buffer): void {
    if (value.length > this.budget) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, value);
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * Bytes from…to−1 of a part as a block that owns its memory. A view (subarray) would keep the
 * whole part alive, or the whole decrypted message the part itself is a view of, while the cache
 * counts only the block. A part that is already exactly one whole allocation is kept as it is.
 */
export function ownBlock(part: Buffer, from: number, to: number): Buffer {
  if (from === 0 && to === part.length && part.byteOffset === 0 && part.buffer.byteLength === part.length) return part;
  const block = Buffer.allocUnsafeSlow(to - from);
  part.copy(block, 0, from, to);
  return block;
}
