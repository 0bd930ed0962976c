// An LRU of file blocks under a byte budget, shared by every reader of every front-end.

export class BlockCache {
  private readonly map = new Map<string, Buffer>();
  private total = 0;

  constructor(readonly budget: number) {}

  get bytes(): number {
    return this.total;
  }

  /** The block, marked as recently used. */
  get(key: string): Buffer | undefined {
    const b = this.map.get(key);
    if (b === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, b);
    return b;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: Buffer): void {
    const old = this.map.get(key);
    if (old) {
      this.total -= old.length;
      this.map.delete(key);
    }
    if (value.length > this.budget) return;
    this.map.set(key, value);
    this.total += value.length;
    for (const [k, v] of this.map) {
      if (this.total <= this.budget) break;
      this.map.delete(k);
      this.total -= v.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
