// `tgvfs serve`: the worker pool, the catalog (indexing in the background and following new posts
// while the server already answers what it knows), the VFS and the HTTP front-end (WebDAV,
// /stream, /thumb, /healthz, /metrics). `close()` undoes it all in reverse order.
import type { AddressInfo } from 'node:net';
import { Gauge } from 'prom-client';
import { Catalog } from '../catalog/catalog';
import type { CatalogFile } from '../catalog/types';
import { WorkerPool } from '../telegram/worker-pool';
import { Vfs, type FileSource } from '../vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../webdav/http-server';
import { HttpMetrics } from '../webdav/metrics';
import type { TgvfsConfig } from './config';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface StartServerOptions {
  /** @default 127.0.0.1:8080 */
  listen?: ListenAddress;
  log?: (line: string) => void;
  /** Aborts start-up (the pool's start, the catalog's indexing). */
  signal?: AbortSignal;
  /** Index the channels in the background and follow new posts. @default true */
  index?: boolean;
}

export interface ChannelHealth {
  id: number;
  name: string;
  /** The first indexing pass of this run has finished. */
  indexed: boolean;
  /** Why the last indexing pass failed, if it did. */
  error?: string;
}

export interface RunningServer {
  /** `http://host:port` */
  readonly url: string;
  readonly address: AddressInfo;
  readonly pool: WorkerPool;
  readonly catalog: Catalog;
  readonly vfs: Vfs;
  readonly http: HttpFrontEnd;
  /** Per channel: indexed yet? (also in /healthz's body) */
  health(): ChannelHealth[];
  /** Resolves when every channel's first indexing pass has ended (indexed or failed). */
  indexed(): Promise<void>;
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

function errorLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Registers the engine's and the catalog's figures in the front-end's registry. */
function registerAppMetrics(metrics: HttpMetrics, pool: WorkerPool, catalog: Catalog): void {
  const registers = [metrics.registry];
  const engine = (name: string, help: string, pick: (s: ReturnType<typeof pool.engine.stats>) => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(pick(pool.engine.stats())); } });
  };
  engine('tgvfs_engine_open_readers', 'Readers open on the stream engine (streams and handles).', (s) => s.openReaders);
  engine('tgvfs_engine_cached_bytes', 'Bytes in the block cache.', (s) => s.cachedBytes);
  engine('tgvfs_engine_cache_budget_bytes', 'Block cache budget.', (s) => s.cacheBudget);
  engine('tgvfs_engine_fetched_bytes', 'Bytes fetched upstream (upload.getFile) since start.', (s) => s.fetchedBytes);
  engine('tgvfs_engine_cache_hits', 'Block requests answered from the cache since start.', (s) => s.cacheHits);
  engine('tgvfs_engine_cache_misses', 'Block requests that started a fetch since start.', (s) => s.cacheMisses);
  engine('tgvfs_engine_blocks_in_flight', 'Blocks being fetched now.', (s) => s.blocksInFlight);
  engine('tgvfs_engine_parts_queued', 'getFile parts waiting for a worker.', (s) => s.partsQueued);
  new Gauge({
    name: 'tgvfs_workers_ready', help: 'Workers logged in.', registers,
    collect() { this.set(pool.workers.length); },
  });
  new Gauge({
    name: 'tgvfs_catalog_files', help: 'Files the catalog knows, per channel.', labelNames: ['channel'], registers,
    async collect() {
      for (const c of catalog.channels()) this.set({ channel: c.name }, (await catalog.files(c.id)).length);
    },
  });
}

export async function startServer(config: TgvfsConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? (() => undefined);
  const listen = options.listen ?? { host: '127.0.0.1', port: 8080 };
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
    const pool = await WorkerPool.create({ ...config, log });
    cleanups.push(() => pool.close());
    options.signal?.throwIfAborted();
    const catalog = await Catalog.open({ store: config.cache, channels: config.channels, pool, log });
    cleanups.push(() => catalog.close());
    const vfs = new Vfs(catalog, poolFileSource(pool));
    cleanups.push(() => vfs.close());

    const health = new Map<number, ChannelHealth>(config.channels.map((c) => [c.id, { id: c.id, name: c.name, indexed: false }]));
    const metrics = new HttpMetrics();
    registerAppMetrics(metrics, pool, catalog);
    const http = createHttpFrontEnd({ vfs, metrics, log, isReady: () => true, health: () => [...health.values()] });
    const address = await http.listen(listen.host, listen.port).catch((err: NodeJS.ErrnoException) => {
      const where = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.code === 'EACCES' ? 'permission denied' : errorLine(err);
      throw new Error(`cannot listen on ${where}: ${why}`, { cause: err });
    });
    cleanups.push(() => http.close());

    // Background: index every channel (what is stored is served meanwhile), then follow updates.
    let indexing: Promise<void> = Promise.resolve();
    if (options.index ?? true) {
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
          h.error = errorLine(err);
          log(`catalog: ${c.name}: indexing failed: ${h.error} (serving what is stored)`);
        }
      })).then(() => undefined);
    }

    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    let closing: Promise<void> | null = null;
    return {
      url: `http://${host}:${address.port}`,
      address,
      pool,
      catalog,
      vfs,
      http,
      health: () => [...health.values()].map((h) => ({ ...h })),
      indexed: () => indexing,
      close: () => (closing ??= undo()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
