// `createHandler(config)`: the HTTP front-end of `serve` (WebDAV, /stream, /thumb, /healthz,
// /metrics) as a Node `(req, res)` listener, for any `http.createServer` or a serverless function.
// Nothing listens here and nothing starts before the first request: then the core (pool, catalog
// over the keyv store, VFS) starts once, shared by every request that arrives meanwhile, and
// serves what the store already has while indexing runs in the background. A failed start
// answers 503 with one line saying why, and a later request tries again (not sooner than
// `retryDelayMs`, so that a broken token does not earn a login FLOOD_WAIT per request).
// State worth keeping lives in the keyv store (`config.cache`) and the sessions (`config.sessions`
// or the session dir); a fresh instance over the same store lists at once, with no upstream call.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { scrubSecrets } from '../util/secrets';
import { createHttpFrontEnd, type HttpFrontEnd } from '../webdav/http-server';
import { HttpMetrics } from '../webdav/metrics';
import type { TgvfsConfig } from '../config/schema';
import { configFromEnv } from '../config/config-sources';
import { startCore, type AppCore } from './core';
import { registerAppMetrics, upstreamObserver } from './metrics';

export interface HandlerOptions {
  log?: (line: string) => void;
  /** Index every channel in the background once started, and follow new posts. @default true */
  index?: boolean;
  /** After a failed start, requests within this many ms get the same 503 without a new attempt. @default 5000 */
  retryDelayMs?: number;
}

export interface TgvfsHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The registry its /metrics serves. */
  readonly metrics: HttpMetrics;
  /** Starts the core now instead of on the first request; rejects as a failed start would. */
  start(): Promise<void>;
  /** Ends the responses under way, stops the core; later requests get 503. Idempotent. */
  close(): Promise<void>;
}

interface Started {
  core: AppCore;
  front: HttpFrontEnd;
}

/** An error as one line without secrets (a PoolStartError lists one reason per bot on its own line). */
function reasonLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return scrubSecrets(text.split('\n').map((l) => l.trim().replace(/^- /, '')).filter(Boolean).join(' '));
}

function unavailable(req: IncomingMessage, res: ServerResponse, reason: string, retryAfterS: number): void {
  req.resume();
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(`503 tgvfs is not available: ${reason}\n`);
  res.writeHead(503, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterS))),
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * `config` omitted: built from the environment alone (`TGVFS_API_ID`, `TGVFS_API_HASH`,
 * `TGVFS_BOTS`, `TGVFS_CHANNELS`, `TGVFS_CACHE`, `TGVFS_SESSIONS`, …; throws ConfigError naming
 * what is missing), which is how a serverless function is configured.
 */
export function createHandler(config: TgvfsConfig = configFromEnv(), options: HandlerOptions = {}): TgvfsHandler {
  const log = options.log ?? (() => undefined);
  const retryDelayMs = options.retryDelayMs ?? 5000;
  const metrics = new HttpMetrics();
  const observer = upstreamObserver(metrics.registry);
  const stopping = new AbortController();
  /** Responses being answered, ended by close(). */
  const open = new Set<ServerResponse>();
  let started: Started | null = null;
  let starting: Promise<Started> | null = null;
  let failure: { reason: string; at: number } | null = null;
  let closing: Promise<void> | null = null;

  const start = (): Promise<Started> => (starting ??= (async () => {
    const core = await startCore(config, { log, signal: stopping.signal, observer });
    if (closing) {
      await core.close();
      throw new Error('the handler is closed');
    }
    registerAppMetrics(metrics, core);
    // No Host guard: a function's public host names are not known here.
    const front = createHttpFrontEnd({ vfs: core.vfs, metrics, log, isReady: () => true, health: () => core.health(), workers: () => core.pool.health(), auth: config.auth });
    if (options.index ?? true) core.startIndexing();
    started = { core, front };
    failure = null;
    return started;
  })().catch((err: unknown) => {
    starting = null;
    failure = { reason: reasonLine(err), at: Date.now() };
    if (!closing) log(`start failed: ${failure.reason}`);
    throw err;
  }));

  const serve = (s: Started, req: IncomingMessage, res: ServerResponse): void => {
    if (res.destroyed) return; // the client left while the core started
    open.add(res);
    res.once('close', () => open.delete(res));
    s.front.listener(req, res);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    if (closing) return unavailable(req, res, 'shutting down', 1);
    if (started) return serve(started, req, res);
    const waitMs = failure ? failure.at + retryDelayMs - Date.now() : 0;
    if (failure && !starting && waitMs > 0) return unavailable(req, res, `cannot start: ${failure.reason}`, waitMs / 1000);
    start().then(
      (s) => (closing ? unavailable(req, res, 'shutting down', 1) : serve(s, req, res)),
      () => unavailable(req, res, closing ? 'shutting down' : `cannot start: ${failure?.reason ?? 'unknown error'}`, retryDelayMs / 1000),
    );
  }) as TgvfsHandler;

  Object.defineProperty(handler, 'metrics', { value: metrics, enumerable: true });
  handler.start = async () => {
    if (closing) throw new Error('the handler is closed');
    await start();
  };
  handler.close = () => (closing ??= (async () => {
    stopping.abort(new Error('the handler is closed'));
    // Destroying a response aborts its stream, so upstream work for it stops.
    for (const res of open) res.destroy();
    open.clear();
    const s = await starting?.catch(() => null);
    if (s) await s.core.close();
  })());
  return handler;
}
