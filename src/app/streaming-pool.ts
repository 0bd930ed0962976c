// The library's `WorkerPool` (src/index.ts, DESIGN.md's library API): the telegram layer's pool
// plus a stream engine over it, for `pool.stream(channel, msgId, start, end)`. The pool is the
// engine's PartSource (by shape), so the read path stays one way down: stream → telegram.
// The servers do not use this class: app/core.ts wires its own engine over a plain WorkerPool.
import type { Readable } from 'node:stream';
import { StreamEngine } from '../stream/stream-engine';
import { WorkerPool, type PoolFile, type PoolInit, type WorkerPoolOptions } from '../telegram/worker-pool';

export interface StreamingPoolOptions extends WorkerPoolOptions {
  /** Block cache budget in bytes, shared by every stream. @default 64 MiB */
  cacheBytes?: number;
  /** Largest read-ahead window of a sequential reader, in 1 MiB blocks. @default 8 */
  readAheadBlocks?: number;
}

export class StreamingPool extends WorkerPool {
  /** The stream engine behind `stream`: read-ahead and block cache. */
  readonly engine: StreamEngine<PoolFile>;

  /** @internal Made by `StreamingPool.create(options)`. */
  constructor(init: PoolInit<StreamingPoolOptions>) {
    super(init);
    this.engine = new StreamEngine(this, { cacheBytes: init.options.cacheBytes, maxReadAhead: init.options.readAheadBlocks });
  }

  /** Bytes start..end (inclusive) of a message's document as a Readable; abort or destroy stops it. */
  stream(channel: number, msgId: number, start: number, end: number, options: { signal?: AbortSignal } = {}): Readable {
    return this.engine.createReadStream(this.file(channel, msgId, options.signal), start, end, options);
  }
}
