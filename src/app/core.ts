// What every front-end (serve's HTTP, mount's FUSE) runs over: the worker pool, the stream engine
// over it, the catalog (indexing in the background and following new posts, while what is stored
// is served meanwhile) and the VFS. `close()` undoes it all in reverse order.
//
// The read path is wired here, one way down: front-end → vfs → stream engine → (PartSource) →
// telegram pool. The pool is the engine's part source by shape; neither layer imports the other.
import { Catalog } from '../catalog/catalog';
import { catalogFile } from '../catalog/channel-state';
import type { CatalogFile } from '../catalog/types';
import { StreamEngine } from '../stream/stream-engine';
import { openDiskCache } from './disk-cache-setup';
import type { CallObserver } from '../telegram/call-observer';
import { WorkerPool, type PoolFile } from '../telegram/worker-pool';
import { Vfs, type FileSource } from '../vfs/vfs';
import type { TgvfsConfig } from '../config/schema';
import { explainError } from './error-lines';
import { errorLine } from '../util/errors';

export interface ChannelHealth {
  id: number;
  name: string;
  /** The first indexing pass of this run has finished. */
  indexed: boolean;
  /** Why the last indexing pass failed, if it did. */
  error?: string;
  /** Bots taken out of this channel (CHANNEL_PRIVATE): the others serve it. Absent when none. */
  removedBots?: number[];
}

export interface CoreOptions {
  log?: (line: string) => void;
  /** Aborts start-up (the pool's start, the catalog's indexing). */
  signal?: AbortSignal;
  /** Hears of every upstream request, logins included (metrics). */
  observer?: CallObserver;
}

export interface AppCore {
  readonly pool: WorkerPool;
  /** The stream engine over the pool: read-ahead and the block cache every front-end shares. */
  readonly engine: StreamEngine<PoolFile>;
  readonly catalog: Catalog;
  readonly vfs: Vfs;
  /** Starts indexing every channel in the background and following updates (once). */
  startIndexing(): void;
  /** Per channel: indexed yet? */
  health(): ChannelHealth[];
  /** Resolves when every channel's first indexing pass has ended (indexed or failed). */
  indexed(): Promise<void>;
  /** Runs `fn` when closing, before everything registered earlier (front-ends register their shutdown here). */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

/** The VFS's byte source: the stream engine for bytes, the pool for thumbnails and getDoc by id. */
export function poolFileSource(pool: WorkerPool, engine: StreamEngine<PoolFile>): FileSource {
  return {
    open: (ref) => {
      engine.warmEnds(ref);
      return engine.open(ref);
    },
    stream: (ref, start, end, signal) => {
      if (start === 0) engine.warmEnds(ref);
      return engine.createReadStream(ref, start, end, { signal, rampUp: true });
    },
    thumbnail: (channel, msgId, signal) => pool.getThumbnail(channel, msgId, signal),
    describe: async (channel, msgId, signal): Promise<CatalogFile> => {
      return catalogFile(await pool.getDoc(channel, msgId, signal));
    },
  };
}

/** Cleanups run in reverse order of registration, each failure logged and passed over. */
class Cleanups {
  private readonly fns: (() => Promise<void> | void)[] = [];
  constructor(private readonly log: (line: string) => void) {}

  push(fn: () => Promise<void> | void): void {
    this.fns.push(fn);
  }

  async run(): Promise<void> {
    for (const c of this.fns.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        this.log(`close: ${errorLine(err)}`);
      }
    }
  }
}

/** Indexing every channel once in the background (then following updates), with each one's health. */
class Indexing {
  private readonly health = new Map<number, ChannelHealth>();
  private running: Promise<void> | null = null;

  constructor(private readonly catalog: Catalog, private readonly config: TgvfsConfig, private readonly cleanups: Cleanups,
    private readonly log: (line: string) => void, private readonly signal: AbortSignal | undefined) {
    for (const c of config.channels) this.health.set(c.id, { id: c.id, name: c.name, indexed: false });
  }

  start(): Promise<void> {
    if (this.running) return this.running;
    const stopFollowing = this.catalog.follow();
    this.cleanups.push(() => stopFollowing());
    this.running = Promise.all(this.config.channels.map((c) => this.indexChannel(c.id, c.name))).then(() => undefined);
    return this.running;
  }

  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  snapshot(): ChannelHealth[] {
    return [...this.health.values()].map((h) => ({ ...h }));
  }

  private async indexChannel(id: number, name: string): Promise<void> {
    const h = this.health.get(id)!;
    try {
      const r = await this.catalog.index(id, { signal: this.signal });
      h.indexed = true;
      delete h.error;
      this.log(`catalog: ${name}: ${r.files} file(s)`);
    } catch (err) {
      // What to do about it (e.g. "add every bot to the channel as an administrator"), in one line.
      h.error = explainError(err, this.config).lines.join(' ');
      this.log(`catalog: ${name}: indexing failed: ${h.error} (serving what is stored)`);
    }
  }
}

function withRemovedBots(h: ChannelHealth, pool: WorkerPool): ChannelHealth {
  const removed = pool.removedBots(h.id);
  return removed.length > 0 ? { ...h, removedBots: removed } : h;
}

export async function startCore(config: TgvfsConfig, options: CoreOptions = {}): Promise<AppCore> {
  const log = options.log ?? (() => undefined);
  const cleanups = new Cleanups(log);
  try {
    options.signal?.throwIfAborted();
    const pool = await WorkerPool.create({ ...config, log, observer: options.observer });
    cleanups.push(() => pool.close());
    const disk = await openDiskCache(config, log);
    if (disk) cleanups.push(() => disk.close());
    const engine = new StreamEngine(pool, { disk: disk ?? undefined });
    options.signal?.throwIfAborted();
    const catalog = await Catalog.open({ store: config.cache, channels: config.channels, pool, log });
    cleanups.push(() => catalog.close());
    const vfs = new Vfs(catalog, poolFileSource(pool, engine));
    cleanups.push(() => vfs.close());
    const indexing = new Indexing(catalog, config, cleanups, log, options.signal);
    let closing: Promise<void> | null = null;
    return {
      pool,
      engine,
      catalog,
      vfs,
      startIndexing: () => void indexing.start(),
      health: () => indexing.snapshot().map((h) => withRemovedBots(h, pool)),
      indexed: () => indexing.done(),
      onClose: (fn) => cleanups.push(fn),
      close: () => (closing ??= cleanups.run()),
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
