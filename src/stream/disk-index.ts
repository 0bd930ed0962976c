// What the disk cache keeps, in memory: one entry per block file, in least-recently-used order,
// and the bytes they take on disk. Pure bookkeeping (no fs), so eviction is unit-tested alone.
// Block files are counted in whole 4 KiB filesystem blocks: the budget holds for `du`, not only
// for the sum of file lengths.

export const FS_BLOCK = 4096;

/** Bytes a file of `length` takes on a filesystem of 4 KiB blocks. */
export function onDisk(length: number): number {
  return Math.ceil(length / FS_BLOCK) * FS_BLOCK;
}

export interface DiskEntry {
  /** File name (the hash of the block key). */
  name: string;
  /** Bytes it takes on disk (`onDisk` of its length). */
  bytes: number;
  /** Last use, epoch ms. */
  used: number;
}

export class DiskIndex {
  /** Insertion order is LRU order: a touched entry moves to the end. */
  private readonly entries = new Map<string, DiskEntry>();
  private sum = 0;

  constructor(readonly budget: number) {}

  get bytes(): number {
    return this.sum;
  }

  get size(): number {
    return this.entries.size;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Marks `name` as just used; its previous use, or undefined when absent. */
  touch(name: string, now: number): number | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    const before = e.used;
    this.entries.delete(name);
    e.used = now;
    this.entries.set(name, e);
    return before;
  }

  /** Adds (or replaces) an entry as the most recently used. */
  add(entry: DiskEntry): void {
    this.remove(entry.name);
    this.entries.set(entry.name, entry);
    this.sum += entry.bytes;
  }

  remove(name: string): DiskEntry | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    this.entries.delete(name);
    this.sum -= e.bytes;
    return e;
  }

  /** Whether one more file of `bytes` may ever be kept (it fits the budget alone). */
  fits(bytes: number): boolean {
    return bytes <= this.budget;
  }

  /**
   * The least recently used entries to drop so that `incoming` more bytes stay within the
   * budget (none removed here: the caller deletes the files, then `remove`s them).
   */
  victims(incoming: number): DiskEntry[] {
    const out: DiskEntry[] = [];
    let sum = this.sum;
    for (const e of this.entries.values()) {
      if (sum + incoming <= this.budget) break;
      out.push(e);
      sum -= e.bytes;
    }
    return out;
  }

  /** Entries from a folder scan, oldest use first, so the LRU order survives a restart. */
  static from(budget: number, scanned: DiskEntry[]): DiskIndex {
    const index = new DiskIndex(budget);
    for (const e of [...scanned].sort((a, b) => a.used - b.used)) index.add(e);
    return index;
  }
}
