// `tgvfs serve`: the shared core (core.ts: worker pool, stream engine, catalog indexing in the
// background and following new posts while the server already answers what it knows, VFS) and the
// HTTP front-end (WebDAV, /stream, /thumb, /healthz, /metrics). `close()` undoes it all in reverse order.
import type { AddressInfo } from 'node:net';
import type { Catalog } from '../catalog/catalog';
import type { StreamEngine } from '../stream/stream-engine';
import type { PoolFile, WorkerPool } from '../telegram/worker-pool';
import type { Vfs } from '../vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../webdav/http-server';
import { HttpMetrics } from '../webdav/metrics';
import type { TgvfsConfig } from '../config/schema';
import { startCore, type AppCore, type ChannelHealth } from './core';
import { checkListenAccess } from './listen-access';
import { registerAppMetrics, upstreamObserver } from './metrics';
import { errorLine } from '../util/errors';
import { formatHostPort, type ListenAddress } from '../config/listen-address';

export { poolFileSource, type ChannelHealth } from './core';

export interface StartServerOptions {
  /** @default 127.0.0.1:8080 */
  listen?: ListenAddress;
  log?: (line: string) => void;
  /** Aborts start-up (the pool's start, the catalog's indexing). */
  signal?: AbortSignal;
  /** Index the channels in the background and follow new posts. @default true */
  index?: boolean;
  /** An already started core to serve (demo: shared with its FUSE mount); not closed by close(). */
  core?: AppCore;
}

export interface RunningServer {
  /** `http://host:port` */
  readonly url: string;
  readonly address: AddressInfo;
  readonly pool: WorkerPool;
  /** The stream engine over the pool (its stats: open readers, blocks in flight, cache). */
  readonly engine: StreamEngine<PoolFile>;
  readonly catalog: Catalog;
  readonly vfs: Vfs;
  readonly http: HttpFrontEnd;
  /** Per channel: indexed yet? (also in /healthz's body) */
  health(): ChannelHealth[];
  /** Resolves when every channel's first indexing pass has ended (indexed or failed). */
  indexed(): Promise<void>;
  close(): Promise<void>;
}

export async function startServer(config: TgvfsConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? (() => undefined);
  const listen = options.listen ?? { host: '127.0.0.1', port: 8080 };
  // Before anything starts: no open listener without auth, no malformed hash.
  checkListenAccess(listen, config.auth);
  const ownCore = !options.core;
  // The registry comes first, so that the pool's logins are counted too.
  const metrics = new HttpMetrics();
  const observer = upstreamObserver(metrics.registry);
  const core = options.core ?? (await startCore(config, { log, signal: options.signal, observer }));
  const unobserve = ownCore ? () => undefined : core.pool.addObserver(observer);
  let http: HttpFrontEnd | null = null;
  const closeOwn = async (): Promise<void> => {
    if (ownCore) return core.close();
    unobserve();
    await http?.close().catch((err: unknown) => log(`close: ${errorLine(err)}`));
  };
  try {
    const { pool, engine, catalog, vfs } = core;
    registerAppMetrics(metrics, core);
    http = createHttpFrontEnd({
      vfs, metrics, log, isReady: () => true, health: () => core.health(), workers: () => core.pool.health(),
      auth: config.auth, loopbackHostOnly: !config.auth,
    });
    const address = await http.listen(listen.host, listen.port).catch((err: NodeJS.ErrnoException) => {
      const where = formatHostPort(listen);
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.code === 'EACCES' ? 'permission denied' : errorLine(err);
      throw new Error(`cannot listen on ${where}: ${why}`, { cause: err });
    });
    const front = http;
    if (ownCore) core.onClose(() => front.close());

    // Background: index every channel (what is stored is served meanwhile), then follow updates.
    if (options.index ?? true) core.startIndexing();

    let closing: Promise<void> | null = null;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${host}:${address.port}`,
      address,
      pool,
      engine,
      catalog,
      vfs,
      http: front,
      health: () => core.health(),
      indexed: () => core.indexed(),
      close: () => (closing ??= closeOwn()),
    };
  } catch (err) {
    await closeOwn();
    throw err;
  }
}
