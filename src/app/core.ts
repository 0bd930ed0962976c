// What every front-end (serve's HTTP, mount's FUSE) runs over: the worker pool, the catalog
// (indexing in the background and following new posts, while what is stored is served meanwhile)
// and the VFS. `close()` undoes it all in reverse order.
import { Catalog } from '../catalog/catalog';
import type { CatalogFile } from '../catalog/types';
import type { CallObserver } from '../telegram/call-observer';
import { WorkerPool } from '../telegram/worker-pool';
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

/** The VFS's byte source over the pool: the stream engine, thumbnails, and getDoc for ids. */
export function poolFileSource(pool: WorkerPool): FileSource {
  return {
    open: (ref) => pool.engine.open(ref),
    stream: (ref, start, end, signal) => pool.engine.createReadStream(ref, start, end, { signal, rampUp: true }),
    thumbnail: (channel, msgId, signal) => pool.getThumbnail(channel, msgId, signal),
    describe: async (channel, msgId, signal): Promise<CatalogFile> => {
      const d = await pool.getDoc(channel, msgId, signal);
      return { channel, msgId, docId: d.id, size: d.size, mimeType: d.mimeType, name: d.name, date: d.date, thumbs: d.thumbs };
    },
  };
}

export async function startCore(config: TgvfsConfig, options: CoreOptions = {}): Promise<AppCore> {
  const log = options.log ?? (() => undefined);
  const cleanups: (() => Promise<void> | void)[] = [];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log(`close: ${errorLine(err)}`);
      }
    }
  };
  try {
    options.signal?.throwIfAborted();
    const pool = await WorkerPool.create({ ...config, log, observer: options.observer });
    cleanups.push(() => pool.close());
    options.signal?.throwIfAborted();
    const catalog = await Catalog.open({ store: config.cache, channels: config.channels, pool, log });
    cleanups.push(() => catalog.close());
    const vfs = new Vfs(catalog, poolFileSource(pool));
    cleanups.push(() => vfs.close());

    const health = new Map<number, ChannelHealth>(config.channels.map((c) => [c.id, { id: c.id, name: c.name, indexed: false }]));
    let indexing: Promise<void> | null = null;
    const startIndexing = (): Promise<void> => {
      if (indexing) return indexing;
      const stopFollowing = catalog.follow();
      cleanups.push(() => stopFollowing());
      indexing = Promise.all(config.channels.map(async (c) => {
        const h = health.get(c.id)!;
        try {
          const r = await catalog.index(c.id, { signal: options.signal });
          h.indexed = true;
          delete h.error;
          log(`catalog: ${c.name}: ${r.files} file(s)`);
        } catch (err) {
          // What to do about it (e.g. "add every bot to the channel as an administrator"), in one line.
          h.error = explainError(err, config).lines.join(' ');
          log(`catalog: ${c.name}: indexing failed: ${h.error} (serving what is stored)`);
        }
      })).then(() => undefined);
      return indexing;
    };

    let closing: Promise<void> | null = null;
    return {
      pool,
      catalog,
      vfs,
      startIndexing: () => void startIndexing(),
      health: () => [...health.values()].map((h) => ({ ...h })),
      indexed: () => indexing ?? Promise.resolve(),
      onClose: (fn) => cleanups.push(fn),
      close: () => (closing ??= undo()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
