// The streaming engine: ranges → 1 MiB blocks → parallel getFile parts over the pool, with an
// adaptive read-ahead window per reader, an LRU block cache shared by every reader, one fetch
// per block however many readers want it, and no work for readers that went away.
//
// A reader that jumps (a seek, or its first read) asks for the block under it first, split into
// parts fanned out over several workers (first byte after about one round trip); while it reads
// sequentially its window doubles, up to `maxReadAhead` blocks ahead of it and never more.
import { Readable } from 'node:stream';
import { BlockCache } from './block-cache';
import { Limiter, type Priority } from './limiter';
import { blockRequests, MiB } from './planner';
import type { FileRef, PartSource } from './types';

export interface StreamEngineOptions {
  /** Block cache budget in bytes. @default 64 MiB */
  cacheBytes?: number;
  /** Largest read-ahead window, in 1 MiB blocks. @default 8 */
  maxReadAhead?: number;
  /** Parts a block under a seeking reader is split into. @default 4 */
  seekFanout?: number;
}

export interface EngineStats {
  cachedBytes: number;
  cacheBudget: number;
  /** Block requests answered from the cache. */
  cacheHits: number;
  /** Block requests that started a fetch. */
  cacheMisses: number;
  /** Block requests that joined a fetch already under way. */
  sharedFetches: number;
  blocksInFlight: number;
  partsRunning: number;
  partsQueued: number;
  openReaders: number;
  fetchedBytes: number;
}

export class EngineError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

interface Flight {
  promise: Promise<Buffer>;
  ac: AbortController;
  wanters: Set<Reader>;
  jobs: { withdraw: () => boolean; promote: () => void }[];
}

function abortReason(what: string): Error {
  return new EngineError('ABORTED', `${what}: nobody reads it any more`);
}

export class StreamEngine<F extends FileRef = FileRef> {
  readonly cache: BlockCache;
  private readonly limiter: Limiter;
  private readonly flights = new Map<string, Flight>();
  private readonly readers = new Set<Reader<F>>();
  private fetched = 0;
  private hits = 0;
  private misses = 0;
  private shared = 0;
  readonly maxReadAhead: number;
  private readonly seekFanout: number;

  constructor(private readonly source: PartSource<F>, options: StreamEngineOptions = {}) {
    this.cache = new BlockCache(options.cacheBytes ?? 64 * MiB);
    this.maxReadAhead = Math.max(0, options.maxReadAhead ?? 8);
    this.seekFanout = Math.max(1, options.seekFanout ?? 4);
    this.limiter = new Limiter(() => source.capacity());
  }

  /** A reader of one file (FUSE handles keep one each); `file` may still be resolving. */
  open(file: F | Promise<F>): Reader<F> {
    const r = new Reader<F>(this, file);
    this.readers.add(r);
    return r;
  }

  /** Exact bytes start…endInclusive as a Readable that fetches as it is read. */
  createReadStream(file: F | Promise<F>, start: number, endInclusive: number, options: { signal?: AbortSignal } = {}): Readable {
    return new EngineStream(this.open(file), start, endInclusive, options.signal);
  }

  stats(): EngineStats {
    return {
      cachedBytes: this.cache.bytes, cacheBudget: this.cache.budget, cacheHits: this.hits, cacheMisses: this.misses, sharedFetches: this.shared,
      blocksInFlight: this.flights.size, partsRunning: this.limiter.running, partsQueued: this.limiter.queued,
      openReaders: this.readers.size, fetchedBytes: this.fetched,
    };
  }

  /** @internal Block `index` of `file` for `reader`, from the cache, a shared flight, or a new fetch. */
  block(file: F, index: number, reader: Reader<F>, priority: Priority, split: number): Promise<Buffer> {
    const key = `${file.key}#${index}`;
    const cached = this.cache.get(key);
    if (cached) {
      if (priority === 'demand') this.hits++;
      return Promise.resolve(cached);
    }
    let flight = this.flights.get(key);
    if (!flight) {
      this.misses++;
      flight = this.startFlight(file, index, key, priority, split);
    } else {
      if (!flight.wanters.has(reader)) this.shared++;
      if (priority === 'demand') for (const j of flight.jobs) j.promote();
    }
    flight.wanters.add(reader);
    reader.wants(key);
    return flight.promise;
  }

  /** @internal `reader` no longer wants `key`; a flight nobody wants is dropped. */
  release(reader: Reader<F>, key: string): void {
    const flight = this.flights.get(key);
    if (!flight) return;
    flight.wanters.delete(reader);
    if (flight.wanters.size > 0) return;
    this.flights.delete(key);
    for (const j of flight.jobs) j.withdraw();
    flight.ac.abort(abortReason(`block ${key}`));
  }

  /** @internal */
  forget(reader: Reader<F>): void {
    this.readers.delete(reader);
  }

  /** @internal parts a fresh seek's block is split into, bounded by what the pool can carry. */
  fanout(): number {
    return Math.max(1, Math.min(this.seekFanout, Math.floor(this.source.capacity() / 2)));
  }

  private startFlight(file: F, index: number, key: string, priority: Priority, split: number): Flight {
    const ac = new AbortController();
    const expected = Math.min(MiB, file.size - index * MiB);
    const parts = blockRequests(index, file.size, split);
    const jobs = parts.map((p) => this.limiter.schedule(priority, () => {
      ac.signal.throwIfAborted();
      return this.source.getPart(file, p.offset, p.limit, ac.signal);
    }));
    const flight: Flight = {
      ac,
      wanters: new Set(),
      jobs,
      promise: Promise.all(jobs.map((j) => j.result)).then((buffers) => {
        const got = buffers.reduce((n, b) => n + b.length, 0);
        for (let i = 0; i < buffers.length - 1; i++) {
          if (buffers[i]!.length !== parts[i]!.limit) throw new EngineError('SHORT_READ', `block ${key}: part at ${parts[i]!.offset} returned ${buffers[i]!.length} of ${parts[i]!.limit} bytes`);
        }
        if (got < expected) throw new EngineError('SHORT_READ', `block ${key}: ${got} of ${expected} bytes`);
        const block = buffers.length === 1 ? buffers[0]!.subarray(0, expected) : Buffer.concat(buffers, got).subarray(0, expected);
        this.fetched += got;
        return block;
      }),
    };
    flight.promise.then(
      (block) => {
        if (this.flights.get(key) === flight) {
          this.flights.delete(key);
          this.cache.set(key, block);
        }
      },
      () => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      },
    );
    this.flights.set(key, flight);
    return flight;
  }
}

/** One reader (a stream, or a FUSE handle): tracks its position to size its read-ahead window. */
export class Reader<F extends FileRef = FileRef> {
  private file: F | null = null;
  private readonly filePromise: Promise<F>;
  private nextPos = -1;
  private window = 0;
  private readonly wanted = new Set<string>();
  private closed = false;

  constructor(private readonly engine: StreamEngine<F>, file: F | Promise<F>) {
    this.filePromise = Promise.resolve(file).then((f) => (this.file = f));
    this.filePromise.catch(() => undefined);
  }

  /** The file, once known (size for range checks). */
  ref(): Promise<F> {
    return this.filePromise;
  }

  /** @internal */
  wants(key: string): void {
    this.wanted.add(key);
  }

  /**
   * Up to `length` bytes at `offset` (fewer only at the end of the file). `until` (inclusive)
   * is the last byte the caller will ever want, so read-ahead stops there (a bounded range).
   */
  async read(offset: number, length: number, signal?: AbortSignal, until = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    if (this.closed) throw new EngineError('CLOSED', 'read on a closed reader');
    const file = this.file ?? (await this.filePromise);
    if (this.closed) throw new EngineError('CLOSED', 'read on a closed reader');
    if (offset >= file.size || length <= 0) return Buffer.alloc(0);
    const end = Math.min(file.size, offset + length) - 1;
    const first = Math.floor(offset / MiB);
    const last = Math.floor(end / MiB);
    const sequential = offset === this.nextPos;
    this.window = sequential ? Math.min(this.engine.maxReadAhead, Math.max(1, this.window * 2)) : 0;
    this.nextPos = end + 1;
    const lastBlock = Math.floor((Math.min(file.size - 1, Math.max(end, until))) / MiB);
    const horizon = Math.min(lastBlock, last + this.window);
    // Blocks behind the reader or beyond its window are no longer wanted by it.
    for (const key of [...this.wanted]) {
      const i = Number(key.slice(key.lastIndexOf('#') + 1));
      if (i < first || i > horizon) {
        this.wanted.delete(key);
        this.engine.release(this, key);
      }
    }
    const split = sequential ? 1 : this.engine.fanout();
    const demand: Promise<Buffer>[] = [];
    for (let i = first; i <= last; i++) demand.push(this.engine.block(file, i, this, 'demand', split));
    for (let i = last + 1; i <= horizon; i++) this.engine.block(file, i, this, 'ahead', 1).catch(() => undefined);
    const blocks = await raceAbort(Promise.all(demand), signal);
    if (blocks.length === 1) {
      const b = blocks[0]!;
      return b.subarray(offset - first * MiB, end + 1 - first * MiB);
    }
    const out = Buffer.allocUnsafe(end + 1 - offset);
    let at = 0;
    blocks.forEach((b, k) => {
      const bs = (first + k) * MiB;
      const from = Math.max(offset, bs) - bs;
      const to = Math.min(end + 1, bs + b.length) - bs;
      at += b.copy(out, at, from, to);
    });
    return out;
  }

  /** Drops everything this reader asked for and nobody else wants. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const key of this.wanted) this.engine.release(this, key);
    this.wanted.clear();
    this.engine.forget(this);
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class RangeNotSatisfiableError extends EngineError {
  constructor(readonly start: number, readonly end: number, readonly size: number) {
    super('RANGE_NOT_SATISFIABLE', `bytes ${start}-${end} are outside a file of ${size} bytes`);
  }
}

/** Bytes start…end of one reader as a Readable: reads when pulled, closes the reader when done. */
class EngineStream<F extends FileRef> extends Readable {
  private pos: number;
  private reading = false;
  private readonly invalid: Error | null = null;
  private readonly onAbort = (): void => {
    this.destroy(this.signal?.reason instanceof Error ? this.signal.reason : new EngineError('ABORTED', 'stream aborted'));
  };

  constructor(private readonly reader: Reader<F>, start: number, private readonly end: number, private readonly signal?: AbortSignal) {
    super({ highWaterMark: 0 });
    this.pos = start;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      this.invalid = new EngineError('RANGE_INVALID', `bad byte range ${start}-${end}`);
    } else if (signal?.aborted) {
      this.invalid = signal.reason instanceof Error ? signal.reason : new EngineError('ABORTED', 'stream aborted');
    } else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  override _read(): void {
    if (this.invalid) {
      this.destroy(this.invalid);
      return;
    }
    if (this.reading) return;
    this.reading = true;
    void this.pump().finally(() => (this.reading = false));
  }

  private async pump(): Promise<void> {
    try {
      const file = await this.reader.ref();
      if (this.end >= file.size) throw new RangeNotSatisfiableError(this.pos, this.end, file.size);
      for (;;) {
        if (this.destroyed) return;
        if (this.pos > this.end) {
          this.push(null);
          return;
        }
        const len = Math.min(this.end + 1 - this.pos, MiB - (this.pos % MiB));
        const chunk = await this.reader.read(this.pos, len, undefined, this.end);
        if (this.destroyed) return;
        if (chunk.length === 0) throw new EngineError('SHORT_READ', `no bytes at ${this.pos}`);
        this.pos += chunk.length;
        if (!this.push(chunk)) return;
      }
    } catch (err) {
      if (!this.destroyed) this.destroy(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.reader.close();
    cb(err);
  }
}
