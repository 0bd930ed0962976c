// The streaming engine: ranges → 256 KiB blocks → getFile parts over the pool, with an
// adaptive read-ahead window per reader, an LRU block cache shared by every reader, one fetch
// per block however many readers want it, and no work for readers that went away.
//
// A reader that jumps (a seek, or its first read) asks only for the block under it: one 256 KiB
// part, first byte after about one round trip, little fetched for players that probe and leave.
// While it reads sequentially its window grows with what it has read, up to `maxReadAhead` MiB
// ahead of it and never more; read-ahead asks whole 1 MiB parts (4 blocks) where it can.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlockCache, ownPart } from './block-cache';
import type { BlockStore } from './disk-cache';
import { Limiter, type Priority } from './limiter';
import { BLOCK, BLOCKS_PER_MIB, chunkLength, groupRuns, MiB, partBlocks, readAheadWindow, readHorizon, readSpan, runPart, type BlockRun } from './planner';
import type { FileRef, PartSource } from './types';
import { raceWithSignal } from '../util/abort';

export interface StreamEngineOptions {
  /** Block cache budget in bytes. @default 64 MiB */
  cacheBytes?: number;
  /** Largest read-ahead window, in MiB. @default 8 */
  maxReadAhead?: number;
  /** Second level under the memory cache (disk-cache.ts): asked before going upstream, given every block fetched. */
  disk?: BlockStore;
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
  /** Blocks read from the disk cache (asked for or read ahead). */
  diskHits: number;
}

export class EngineError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** One getFile request covering 1, 2 or 4 consecutive blocks of one MiB. */
interface Run {
  ac: AbortController;
  /** The getFile job (a disk read's replaced once it goes upstream). */
  job: { withdraw: () => boolean; promote: () => void };
  /** Blocks of this run still wanted by someone. */
  live: number;
}

interface Flight {
  promise: Promise<Buffer>;
  run: Run;
  wanters: Set<Reader>;
  /** Read from the disk cache: not written back to it. */
  fromDisk?: boolean;
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
  private diskHits = 0;
  private readonly disk: BlockStore | undefined;
  /** Files whose head and tail were fetched ahead on their first open (see warmEnds). */
  private readonly warmed = new Set<string>();
  /** Largest read-ahead, in blocks. */
  readonly maxAheadBlocks: number;

  constructor(private readonly source: PartSource<F>, options: StreamEngineOptions = {}) {
    this.cache = new BlockCache(options.cacheBytes ?? 64 * MiB);
    this.maxAheadBlocks = Math.max(0, Math.round((options.maxReadAhead ?? 8) * BLOCKS_PER_MIB));
    this.limiter = new Limiter(() => source.capacity());
    this.disk = options.disk;
  }

  /** A reader of one file (FUSE handles keep one each); `file` may still be resolving. */
  open(file: F | Promise<F>): Reader<F> {
    const r = new Reader<F>(this, file);
    this.readers.add(r);
    return r;
  }

  /**
   * Exact bytes start…endInclusive as a Readable that fetches as it is read. With `rampUp`, the
   * stream delivers its first 512 KiB at once and then at most twice as much every 50 ms for
   * its first few hundred ms: a network client's socket buffers take megabytes the client may
   * never read (a player probing a file sends `bytes=N-` and hangs up after a few KB), and every
   * byte pushed there was fetched upstream. (Doubling every 200 ms held an uncapped GET of
   * 128 MiB to 1.6 s, half of pool.stream's rate: bench/webdav uncapped.)
   */
  createReadStream(file: F | Promise<F>, start: number, endInclusive: number, options: { signal?: AbortSignal; rampUp?: boolean } = {}): Readable {
    return new EngineStream(this.open(file), start, endInclusive, options.signal, options.rampUp === true);
  }

  stats(): EngineStats {
    return {
      cachedBytes: this.cache.bytes, cacheBudget: this.cache.budget, cacheHits: this.hits, cacheMisses: this.misses,
      sharedFetches: this.shared, blocksInFlight: this.flights.size, partsRunning: this.limiter.running,
      partsQueued: this.limiter.queued, openReaders: this.readers.size, fetchedBytes: this.fetched,
      diskHits: this.diskHits,
    };
  }

  /**
   * @internal Blocks first…last of `file` for `reader`: from the cache, a flight under way, or new
   * fetches that group consecutive missing blocks of one MiB into one legal part.
   */
  blocks(file: F, first: number, last: number, reader: Reader<F>, priority: Priority): Promise<Buffer>[] {
    const { slots, missing } = this.lookup(file, first, last, reader, priority);
    for (const run of groupRuns(missing)) this.startRun(file, run, priority);
    return slots.map((slot) => (typeof slot === 'number' ? this.join(blockKey(file, slot), reader) : slot));
  }

  /** Per block: the cached block, or its index when it is in flight or `missing` (to fetch). */
  private lookup(file: F, first: number, last: number, reader: Reader<F>, priority: Priority): { slots: (number | Promise<Buffer>)[]; missing: number[] } {
    const slots: (number | Promise<Buffer>)[] = [];
    const missing: number[] = [];
    for (let i = first; i <= last; i++) {
      const key = blockKey(file, i);
      const cached = this.cache.get(key);
      if (cached) {
        if (priority === 'demand') this.hits++;
        slots.push(Promise.resolve(cached));
        continue;
      }
      const flight = this.flights.get(key);
      if (flight) {
        if (!flight.wanters.has(reader)) this.shared++;
        if (priority === 'demand') flight.run.job.promote();
      } else if (this.disk?.has(key)) {
        this.diskHits++;
        this.startDiskRead(file, i, priority);
      } else {
        this.misses++;
        missing.push(i);
      }
      slots.push(i);
    }
    return { slots, missing };
  }

  /** `reader` wants the block of flight `key`: it keeps the flight's part alive until released. */
  private join(key: string, reader: Reader<F>): Promise<Buffer> {
    const flight = this.flights.get(key)!;
    if (!flight.wanters.has(reader)) {
      if (flight.wanters.size === 0) flight.run.live++;
      flight.wanters.add(reader);
    }
    reader.wants(key);
    return flight.promise;
  }

  /** @internal `reader` no longer wants `key`; a part nobody wants is dropped. */
  release(reader: Reader<F>, key: string): void {
    const flight = this.flights.get(key);
    if (!flight || !flight.wanters.delete(reader) || flight.wanters.size > 0) return;
    this.flights.delete(key);
    if (--flight.run.live > 0) return;
    flight.run.job.withdraw();
    flight.run.ac.abort(abortReason(`block ${key}`));
  }

  /** @internal */
  forget(reader: Reader<F>): void {
    this.readers.delete(reader);
  }

  /** Schedules one getFile part for the blocks of `span` and a flight for each of them. */
  private startRun(file: F, span: BlockRun, priority: Priority): void {
    const ac = new AbortController();
    const { offset, limit, expected } = runPart(span, file.size);
    const job = this.limiter.schedule(priority, () => {
      ac.signal.throwIfAborted();
      return this.source.getPart(file, offset, limit, ac.signal);
    });
    const run: Run = { ac, job, live: 0 };
    const data = job.result.then((buf) => {
      if (buf.length < expected) throw new EngineError('SHORT_READ', `${file.key}: part at ${offset} returned ${buf.length} of ${expected} bytes`);
      this.fetched += buf.length;
      return ownPart(buf);
    });
    data.catch(() => undefined);
    for (const { index, from, to } of partBlocks(span, expected)) {
      this.addFlight(blockKey(file, index), { run, wanters: new Set(), promise: data.then((buf) => buf.subarray(from, to)) });
    }
  }

  /**
   * A flight for block `index` from the disk cache; a block the disk refuses (torn, corrupt,
   * evicted meanwhile) is fetched upstream alone instead, and stored again.
   */
  private startDiskRead(file: F, index: number, priority: Priority): void {
    const key = blockKey(file, index);
    const ac = new AbortController();
    const run: Run = { ac, job: { withdraw: () => true, promote: () => undefined }, live: 0 };
    const { offset, limit, expected } = runPart({ start: index, count: 1 }, file.size);
    const promise = this.disk!.get(key, expected).then((hit) => {
      if (hit) return hit;
      this.misses++;
      ac.signal.throwIfAborted();
      const job = this.limiter.schedule(priority, () => {
        ac.signal.throwIfAborted();
        return this.source.getPart(file, offset, limit, ac.signal);
      });
      run.job = job;
      return job.result.then((buf) => {
        if (buf.length < expected) throw new EngineError('SHORT_READ', `${file.key}: part at ${offset} returned ${buf.length} of ${expected} bytes`);
        this.fetched += buf.length;
        const block = ownPart(buf).subarray(0, expected);
        this.disk!.put(key, block);
        return block;
      });
    });
    promise.catch(() => undefined);
    this.addFlight(key, { run, wanters: new Set(), promise, fromDisk: true });
  }

  /**
   * On a file's first open in this process, fetches its first and last blocks ahead (low
   * priority): players read the head, then the tail (an mp4's moov at the end, an mkv's cues),
   * before the rest. Files of one MiB or less are left to the first read.
   */
  warmEnds(file: F): void {
    if (file.size <= MiB || this.warmed.has(file.key)) return;
    if (this.warmed.size >= 10_000) this.warmed.clear();
    this.warmed.add(file.key);
    const holder = new Reader<F>(this, file);
    const last = Math.floor((file.size - 1) / BLOCK);
    const wanted = [...this.blocks(file, 0, 0, holder, 'ahead'), ...this.blocks(file, last, last, holder, 'ahead')];
    void Promise.allSettled(wanted).then(() => holder.close());
  }

  /** A flight that, when its block arrives, leaves the flights for the cache (unless replaced meanwhile). */
  private addFlight(key: string, flight: Flight): void {
    flight.promise.then(
      (block) => {
        if (this.flights.get(key) === flight) {
          this.flights.delete(key);
          this.cache.set(key, block);
          if (!flight.fromDisk) this.disk?.put(key, block);
        }
      },
      () => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      },
    );
    this.flights.set(key, flight);
  }
}

function blockKey(file: FileRef, index: number): string {
  return `${file.key}#${index}`;
}

/** One reader (a stream, or a FUSE handle): tracks its position to size its read-ahead window. */
export class Reader<F extends FileRef = FileRef> {
  private file: F | null = null;
  private readonly filePromise: Promise<F>;
  private nextPos = -1;
  /** Bytes read sequentially since the last jump. */
  private streak = 0;
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
    const { end, first, last } = readSpan(offset, length, file.size);
    this.streak = offset === this.nextPos ? this.streak + (end + 1 - offset) : 0;
    this.nextPos = end + 1;
    const window = readAheadWindow(this.streak, this.engine.maxAheadBlocks);
    // Read-ahead never goes past the block of the last byte the caller will ever want.
    const horizon = readHorizon(last, window, Math.floor(Math.min(file.size - 1, Math.max(end, until)) / BLOCK));
    this.releaseOutside(first, horizon);
    const demand = this.engine.blocks(file, first, last, this, 'demand');
    if (horizon > last) for (const p of this.engine.blocks(file, last + 1, horizon, this, 'ahead')) p.catch(() => undefined);
    return slice(await raceWithSignal(Promise.all(demand), signal), first, offset, end);
  }

  /** Lets go of the blocks this reader wanted outside first…horizon (behind it, or beyond its new window). */
  private releaseOutside(first: number, horizon: number): void {
    for (const key of [...this.wanted]) {
      const i = Number(key.slice(key.lastIndexOf('#') + 1));
      if (i < first || i > horizon) {
        this.wanted.delete(key);
        this.engine.release(this, key);
      }
    }
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

/** Bytes offset…end (inclusive) out of consecutive blocks from block `first`: a view when one block holds them. */
function slice(blocks: Buffer[], first: number, offset: number, end: number): Buffer {
  if (blocks.length === 1) return blocks[0]!.subarray(offset - first * BLOCK, end + 1 - first * BLOCK);
  const out = Buffer.allocUnsafe(end + 1 - offset);
  let at = 0;
  blocks.forEach((b, k) => {
    const bs = (first + k) * BLOCK;
    const from = Math.max(offset, bs) - bs;
    const to = Math.min(end + 1, bs + b.length) - bs;
    at += b.copy(out, at, from, to);
  });
  return out;
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

  private readonly start: number;
  private rampFrom = 0;
  private readonly waits = new AbortController();

  constructor(
    private readonly reader: Reader<F>,
    start: number,
    private readonly end: number,
    private readonly signal?: AbortSignal,
    private readonly rampUp = false,
  ) {
    super({ highWaterMark: 0 });
    this.pos = start;
    this.start = start;
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
        if (this.rampUp) await this.paced();
        if (this.destroyed) return;
        const len = chunkLength(this.pos, this.end);
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

  /** Waits until the ramp allows the bytes sent so far (see createReadStream). */
  private async paced(): Promise<void> {
    const now = performance.now();
    if (this.rampFrom === 0) this.rampFrom = now;
    const sent = this.pos - this.start;
    if (sent < RAMP_FREE) return;
    const due = this.rampFrom + rampDelayMs(sent);
    if (due > now) await sleep(due - now, undefined, { signal: this.waits.signal }).catch(() => undefined);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.waits.abort();
    this.reader.close();
    cb(err);
  }
}

const RAMP_FREE = 512 * 1024;
const RAMP_DOUBLING_MS = 50;

/** How long after its first read a ramped stream may have pushed `sent` bytes (0 for the first 512 KiB). */
export function rampDelayMs(sent: number): number {
  return sent <= RAMP_FREE ? 0 : RAMP_DOUBLING_MS * Math.log2(sent / RAMP_FREE);
}
