// A Readable of exact bytes start..endInclusive of one file, fetched as legal getFile parts
// (get-file-rules.ts) a few at a time, in order, trimmed to the range. It fetches only when read
// (backpressure) and aborts its fetches when destroyed or when the caller's signal fires.
import { Readable } from 'node:stream';
import { TgvfsError } from './errors';
import { MiB, planParts, type PartRequest } from './get-file-rules';

/** What the stream needs from the pool: the file's size, and one legal part at a time. */
export interface PartFetcher {
  size(signal: AbortSignal): Promise<number>;
  part(offset: number, limit: number, signal: AbortSignal): Promise<Buffer>;
}

export interface PoolStreamOptions {
  signal?: AbortSignal;
  /** For error messages: which file. */
  describe: string;
  /** Parts fetched ahead of the reader. @default 2 */
  parallel?: number;
  /** Part size (power of two, 4 KiB–1 MiB). @default 1 MiB */
  block?: number;
}

export class RangeNotSatisfiableError extends TgvfsError {
  constructor(start: number, end: number, size: number, what: string) {
    super('RANGE_NOT_SATISFIABLE', `bytes ${start}-${end} are outside ${what} (${size} bytes)`);
  }
}

function abortError(signal: AbortSignal, what: string): Error {
  return signal.reason instanceof Error ? signal.reason : new TgvfsError('ABORTED', `stream of ${what} aborted`);
}

export class PoolStream extends Readable {
  private readonly ac = new AbortController();
  private readonly queue: { part: PartRequest; data: Promise<Buffer> }[] = [];
  private plan: PartRequest[] | null = null;
  private nextPart = 0;
  private pumping = false;
  private readonly parallel: number;
  private readonly invalid: Error | null = null;
  private readonly onCallerAbort = (): void => {
    this.destroy(abortError(this.opts.signal!, this.opts.describe));
  };

  constructor(
    private readonly fetcher: PartFetcher,
    private readonly start: number,
    private readonly end: number,
    private readonly opts: PoolStreamOptions,
  ) {
    super({ highWaterMark: 0 });
    this.parallel = Math.max(1, opts.parallel ?? 2);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      this.invalid = new TgvfsError('RANGE_INVALID', `bad byte range ${start}-${end} for ${opts.describe}`);
    } else if (opts.signal?.aborted) {
      this.invalid = abortError(opts.signal, opts.describe);
    } else {
      opts.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  override _read(): void {
    // Errors found in the constructor surface on the first read, when a reader listens.
    if (this.invalid) this.destroy(this.invalid);
    else if (!this.pumping) void this.pump();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.opts.signal?.removeEventListener('abort', this.onCallerAbort);
    this.ac.abort(err ?? new TgvfsError('ABORTED', `stream of ${this.opts.describe} closed`));
    for (const q of this.queue) q.data.catch(() => undefined);
    this.queue.length = 0;
    cb(err);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      if (!this.plan) {
        const size = await this.fetcher.size(this.ac.signal);
        if (this.end >= size) throw new RangeNotSatisfiableError(this.start, this.end, size, this.opts.describe);
        this.plan = planParts(this.start, this.end, this.opts.block ?? MiB);
      }
      for (;;) {
        if (this.destroyed) return;
        while (this.queue.length < this.parallel && this.nextPart < this.plan.length) {
          const part = this.plan[this.nextPart++]!;
          const data = this.fetcher.part(part.offset, part.limit, this.ac.signal);
          data.catch(() => undefined);
          this.queue.push({ part, data });
        }
        const head = this.queue[0];
        if (!head) {
          this.push(null);
          return;
        }
        const bytes = await head.data;
        if (this.destroyed) return;
        this.queue.shift();
        const { skip, take } = head.part;
        if (bytes.length < skip + take) {
          throw new TgvfsError('SHORT_READ', `${this.opts.describe}: getFile ${head.part.offset}+${head.part.limit} returned ${bytes.length} bytes, expected at least ${skip + take}`);
        }
        if (!this.push(bytes.subarray(skip, skip + take))) return;
      }
    } catch (err) {
      if (!this.destroyed) this.destroy(err as Error);
    } finally {
      this.pumping = false;
    }
  }
}
