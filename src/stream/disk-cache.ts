// The persistent block cache: the second level under the memory LRU (block-cache.ts), one file
// per 256 KiB block in one folder, surviving restarts. The stream engine asks it before going
// upstream and gives it every block it fetched.
//
// - Keys are the engine's block keys (`<file key>#<index>`); a file key holds the document id
//   (util/media.ts fileKey), so an edit that replaces the document never reads old blocks.
// - Crash-safe: a block is written whole under tmp/ and renamed into place; every file carries
//   its key, length and a SHA-256 (block-file.ts). Whatever a kill -9 leaves is a stray tmp file
//   (removed at the next open) or a file that fails its check (deleted on read, refetched).
// - The budget holds: before a file is written, least recently used files are deleted until it
//   fits, and writes go one at a time, so the folder never holds more than the budget plus the
//   one block being written. LRU order survives restarts through the files' mtimes.
// - One process per folder (disk-lock.ts). Async fs only: a FUSE process must never block.
import { chmod, mkdir, readdir, readFile, rename, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BLOCK_FILE_NAME, blockFileName, decodeBlock, encodeHeader, fileLength } from './block-file';
import { DiskIndex, onDisk, type DiskEntry } from './disk-index';
import { DiskLock } from './disk-lock';

/** What the stream engine needs of a second-level block store. */
export interface BlockStore {
  /** Whether a block is (believed to be) stored: answers at once, from memory. */
  has(key: string): boolean;
  /** The block's `expected` bytes, or undefined when absent, torn or corrupt (then dropped). */
  get(key: string, expected: number): Promise<Buffer | undefined>;
  /** Stores a block in the background (dropped when too many writes are pending). */
  put(key: string, data: Buffer): void;
}

export interface DiskCacheOptions {
  dir: string;
  /** Byte budget; undefined: 2 GiB, or a tenth of the free space when that is less. */
  maxBytes?: number;
  log?: (line: string) => void;
}

export interface DiskCacheStats {
  dir: string;
  bytes: number;
  budget: number;
  files: number;
  hits: number;
  misses: number;
  /** Files refused on read (torn, corrupt) and deleted. */
  dropped: number;
  writes: number;
  evictions: number;
}

export const DEFAULT_DISK_BUDGET = 2 * 1024 ** 3;
/**
 * Writes waiting beyond this (64 MiB of blocks) are dropped: the cache must not hold a fast
 * reader's bytes in memory without bound. The blocks queued are mostly the memory cache's own.
 */
const MAX_PENDING = 256;
/** A hit rewrites the file's mtime (its LRU position after a restart) at most this often. */
const TOUCH_EVERY_MS = 60_000;

interface PendingWrite {
  key: string;
  name: string;
  data: Buffer;
}

/** The default budget for `dir`: 2 GiB, or a tenth of its filesystem's free space when less (at least 64 MiB). */
export async function defaultBudget(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return Math.min(DEFAULT_DISK_BUDGET, Math.max(64 * 1024 ** 2, Math.floor((s.bavail * s.bsize) / 10)));
  } catch {
    return DEFAULT_DISK_BUDGET;
  }
}

const TMP_NAME = /^\d+-\d+\.tmp$/;

/**
 * Creates `tmp/` or deletes what a killed writer left there: our temporary files only (the
 * folder may be one a person chose, holding other things).
 */
async function removeStrayTemps(tmp: string): Promise<void> {
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  await chmod(tmp, 0o700).catch(() => undefined);
  for (const name of await readdir(tmp)) {
    if (TMP_NAME.test(name)) await unlink(path.join(tmp, name)).catch(() => undefined);
  }
}

async function scan(dir: string): Promise<DiskEntry[]> {
  const out: DiskEntry[] = [];
  for (const name of await readdir(dir)) {
    if (!BLOCK_FILE_NAME.test(name)) continue;
    try {
      const s = await stat(path.join(dir, name));
      if (s.isFile()) out.push({ name, bytes: onDisk(s.size), used: s.mtimeMs });
    } catch {
      // Gone meanwhile: nothing to index.
    }
  }
  return out;
}

export class DiskCache implements BlockStore {
  private readonly queue: PendingWrite[] = [];
  private readonly queued = new Set<string>();
  private writing: Promise<void> | null = null;
  private closed = false;
  private tmpSeq = 0;
  private counts = { hits: 0, misses: 0, dropped: 0, writes: 0, evictions: 0 };

  private constructor(readonly dir: string, private readonly index: DiskIndex, private readonly lock: DiskLock,
    private readonly log: (line: string) => void) {}

  /**
   * Opens (creating) the cache folder: takes its lock (DiskCacheInUseError when another live
   * process holds it), removes stray temporary files, indexes the blocks there and trims them
   * to the budget.
   */
  static async open(options: DiskCacheOptions): Promise<DiskCache> {
    const dir = path.resolve(options.dir);
    // Private, like the sessions: the blocks are the channels' content.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700).catch(() => undefined);
    const lock = await DiskLock.acquire(dir);
    try {
      await removeStrayTemps(path.join(dir, 'tmp'));
      const budget = options.maxBytes ?? (await defaultBudget(dir));
      const cache = new DiskCache(dir, DiskIndex.from(budget, await scan(dir)), lock, options.log ?? (() => undefined));
      await cache.evictFor(0);
      return cache;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  has(key: string): boolean {
    return !this.closed && this.index.has(blockFileName(key));
  }

  async get(key: string, expected: number): Promise<Buffer | undefined> {
    const name = blockFileName(key);
    const before = this.index.touch(name, Date.now());
    if (before === undefined || this.closed) {
      this.counts.misses++;
      return undefined;
    }
    const file = path.join(this.dir, name);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      this.index.remove(name);
      this.counts.misses++;
      return undefined;
    }
    const r = decodeBlock(bytes, key, expected);
    if ('problem' in r) {
      this.log(`disk cache: dropped ${name} (${r.problem})`);
      this.counts.dropped++;
      if (this.index.remove(name)) await unlink(file).catch(() => undefined);
      return undefined;
    }
    this.counts.hits++;
    this.refreshMtime(file, before);
    return r.data;
  }

  put(key: string, data: Buffer): void {
    const name = blockFileName(key);
    if (this.closed || this.index.has(name) || this.queued.has(name) || this.queue.length >= MAX_PENDING) return;
    if (!this.index.fits(onDisk(fileLength(key, data.length)))) return;
    this.queue.push({ key, name, data });
    this.queued.add(name);
    this.writing ??= this.drain().finally(() => (this.writing = null));
  }

  /** Resolves when every write queued so far is on disk (tests, benches, close). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  stats(): DiskCacheStats {
    return { dir: this.dir, bytes: this.index.bytes, budget: this.index.budget, files: this.index.size, ...this.counts };
  }

  /** Finishes pending writes and gives up the folder's lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await this.lock.release();
  }

  private async drain(): Promise<void> {
    for (let w = this.queue.shift(); w; w = this.queue.shift()) {
      try {
        await this.write(w);
      } catch (err) {
        this.log(`disk cache: cannot write a block: ${(err as Error).message}`);
      } finally {
        this.queued.delete(w.name);
      }
    }
  }

  /** Makes room, then writes under tmp/ and renames into place (a crash leaves no partial block file). */
  private async write(w: PendingWrite): Promise<void> {
    const bytes = onDisk(fileLength(w.key, w.data.length));
    await this.evictFor(bytes);
    const tmp = path.join(this.dir, 'tmp', `${process.pid}-${++this.tmpSeq}.tmp`);
    const file = Buffer.concat([encodeHeader(w.key, w.data), w.data]);
    try {
      await writeFile(tmp, file, { flag: 'wx', mode: 0o600 }).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // The folder was removed under us (a person clearing the cache): start it again.
        await mkdir(path.dirname(tmp), { recursive: true, mode: 0o700 });
        await writeFile(tmp, file, { flag: 'wx', mode: 0o600 });
      });
      await rename(tmp, path.join(this.dir, w.name));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    this.index.add({ name: w.name, bytes, used: Date.now() });
    this.counts.writes++;
  }

  /** Deletes least recently used files until `incoming` more bytes fit the budget. */
  private async evictFor(incoming: number): Promise<void> {
    for (const v of this.index.victims(incoming)) {
      await unlink(path.join(this.dir, v.name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.index.remove(v.name);
      this.counts.evictions++;
    }
  }

  /** Moves the file's mtime (its LRU position at the next open) when its last one is old. */
  private refreshMtime(file: string, before: number): void {
    const now = Date.now();
    if (now - before < TOUCH_EVERY_MS) return;
    const t = new Date(now);
    void utimes(file, t, t).catch(() => undefined);
  }
}
