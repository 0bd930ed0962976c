// The HTTP front-end: one `http.Server` that answers
//   /healthz, /metrics                    (GET/HEAD)
//   /stream/<channel id>/<msg id>         (GET/HEAD, ranges: get-handler.ts)
//   /thumb/<channel id>/<msg id>          (GET/HEAD, ranges)
//   everything else: WebDAV               (our GET/HEAD and PROPFIND Depth 0/1 (propfind.ts);
//                                          webdav-server v2 over the VFS (dav-server.ts) for
//                                          OPTIONS, LOCK, UNLOCK and a PROPFIND near a lock;
//                                          writes → 403)
// Access (auth.ts) is checked first: the Host guard and credentials when configured.
// Before webdav-server sees a request, its path is checked once here: `..`, `.`, an encoded `/`
// or `\`, NUL or a malformed %-escape → 400; Finder's `._*`/`.DS_Store` probes → 404 at once.
// The tree's GET/HEAD and PROPFIND reuse those checked names, and send the header fields
// webdav-server would have framed them with (dav-server.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { v2 as webdav } from 'webdav-server';
import { VfsError, isVfsError } from '../vfs/errors';
import { isFinderProbe } from '../vfs/names';
import { pathSegments, type Vfs, type VfsNode } from '../vfs/vfs';
import { createAuthenticator, isAnonymous, withAccessChecks, type HttpAuthConfig } from './auth';
import { VfsDavFileSystem } from './dav-filesystem';
import { ALLOW_EXISTING, ALLOW_MISSING, WRITE_METHODS, createDavServer, frameLikeDav } from './dav-server';
import { inlineDisposition, sendError, sendNode, sendText, type ServeOptions } from './get-handler';
import { sendFolder } from './html-listing';
import { HttpMetrics } from './metrics';
import { propfindDepth, sendFiniteDepthRequired, servePropfind } from './propfind';
import { errorLine } from '../util/errors';

export interface HttpFrontEndOptions {
  vfs: Vfs;
  /** /healthz answers 200 when this says so (503 before). @default always ready */
  isReady?: () => boolean;
  /** Extra detail for /healthz's JSON body (e.g. indexing state per channel). */
  health?: () => unknown;
  /** Each worker's state for /healthz's `workers` (e.g. out of rotation and why). */
  workers?: () => unknown;
  /** Registry for /metrics (the app adds its own metrics to it). @default a new one */
  metrics?: HttpMetrics;
  /** Ranges per request before the Range header is ignored. @default 16 */
  maxRanges?: number;
  /** Largest request body read for PROPFIND/LOCK; bigger → 413. @default 1 MiB */
  maxBodyBytes?: number;
  log?: (line: string) => void;
  /** Credentials every request but /healthz must carry (401 otherwise). @default none */
  auth?: HttpAuthConfig;
  /**
   * DNS-rebinding guard: 421 for requests whose Host is not localhost/127.x/[::1]. For a
   * loopback listener without auth (startServer sets it). @default false
   */
  loopbackHostOnly?: boolean;
}

export interface HttpFrontEnd {
  readonly server: http.Server;
  /** The request listener of `server`, for any other HTTP server or a serverless function (app/handler.ts). */
  readonly listener: http.RequestListener;
  readonly dav: webdav.WebDAVServer;
  readonly metrics: HttpMetrics;
  /** Listens; rejects on EADDRINUSE and the like. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops listening and ends every connection (streams are destroyed, so upstream work stops). */
  close(): Promise<void>;
}

/** The path of a request target as decoded names; VfsError EINVAL when it can never be valid. */
export function urlSegments(rawUrl: string): string[] {
  let target = rawUrl;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(target); // absolute-form (proxies)
  if (scheme) target = target.slice(scheme[0].length) || '/';
  const q = target.search(/[?#]/);
  if (q !== -1) target = target.slice(0, q);
  const decoded = target.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new VfsError('EINVAL', rawUrl, 'malformed %-escape in the path');
    }
  });
  return pathSegments(decoded);
}

export function createHttpFrontEnd(options: HttpFrontEndOptions): HttpFrontEnd {
  const auth = options.auth ? createAuthenticator(options.auth) : undefined;
  const routes = createRoutes(options);
  // The listener createHandler uses too: access checks (auth, Host guard) come first.
  const listener: http.RequestListener = withAccessChecks((req, res) => route(routes, req, res), {
    auth,
    loopbackHostOnly: options.loopbackHostOnly,
    onRefused: (req, res) => routes.metrics.countRequest(req.method, res.statusCode),
  });
  const server = http.createServer(listener);
  return {
    server,
    listener,
    dav: routes.dav,
    metrics: routes.metrics,
    listen: (host, port) => listenOn(server, host, port),
    close: () => closeServer(server),
  };
}

// ---- routing -------------------------------------------------------------------------------

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

/** What the request handlers of one front-end share. */
interface Routes {
  readonly options: HttpFrontEndOptions;
  readonly vfs: Vfs;
  readonly log: (line: string) => void;
  readonly metrics: HttpMetrics;
  /** Largest request body read (PROPFIND, LOCK). */
  readonly maxBody: number;
  /** For sendNode: the tree's files, /stream and /thumb. */
  readonly serve: ServeOptions;
  readonly davFs: VfsDavFileSystem;
  readonly dav: webdav.WebDAVServer;
}

function createRoutes(options: HttpFrontEndOptions): Routes {
  const log = options.log ?? (() => undefined);
  const metrics = options.metrics ?? new HttpMetrics();
  const davFs = new VfsDavFileSystem(options.vfs);
  const routes: Routes = {
    options,
    vfs: options.vfs,
    log,
    metrics,
    maxBody: options.maxBodyBytes ?? 1024 * 1024,
    serve: { metrics, maxRanges: options.maxRanges, log },
    davFs,
    dav: createDavServer(davFs, (req, res) => serveTreeAt(routes, req, res)),
  };
  return routes;
}

/**
 * Our own endpoints take exactly two numeric ids after /stream or /thumb, which no WebDAV path
 * can be (a channel holds files, not folders): a channel named "stream" or "thumb" stays
 * reachable in the tree.
 */
const MESSAGE_PATH = /^\/(stream|thumb)\/(-?\d{1,20})\/(\d{1,12})\/?$/;

function route(r: Routes, req: Req, res: Res): void {
  res.once('close', () => r.metrics.countRequest(req.method, res.statusCode));
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const path = url.split(/[?#]/)[0]!;
  const message = MESSAGE_PATH.exec(path);
  if (path === '/healthz' || path === '/metrics' || message) serveOwnEndpoint(r, req, res, method, path, message);
  else routeTree(r, req, res, method, url);
}

/** The WebDAV tree: the path checked once, for every method; then ours or webdav-server's. */
function routeTree(r: Routes, req: Req, res: Res, method: string, url: string): void {
  const segments = checkedTreePath(r, req, res, method, url);
  if (!segments) return;
  if (method === 'GET' || method === 'HEAD') {
    void serveTreeGet(r, req, res, segments);
    return;
  }
  if (method === 'PROPFIND' && servePropfindIfOurs(r, req, res, segments)) return;
  try {
    r.dav.executeRequest(req, res);
  } catch (err) {
    // webdav-server parses the whole target again, and throws on what urlSegments let through
    // (a malformed authority in an absolute-form target, `http://a%/x`): a bad request, not a crash.
    req.resume();
    sendError(req, res, new VfsError('EINVAL', url, errorLine(err)));
  }
}

/**
 * The names of a tree request's path, or null once answered: 400 for a path that can never be
 * valid, 404 for Finder's probes (no VFS call), 413 for a body too big to read.
 */
function checkedTreePath(r: Routes, req: Req, res: Res, method: string, url: string): string[] | null {
  let segments: string[];
  try {
    segments = urlSegments(url);
  } catch (err) {
    req.resume();
    sendError(req, res, isVfsError(err) ? err : new VfsError('EINVAL', url));
    return null;
  }
  const readOnly = method === 'GET' || method === 'HEAD';
  if ((readOnly || method === 'PROPFIND') && segments.some(isFinderProbe)) {
    req.resume();
    sendError(req, res, new VfsError('ENOENT', url));
    return null;
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (!WRITE_METHODS.includes(method) && (!Number.isFinite(length) || length > r.maxBody)) {
    req.resume();
    sendText(req, res, 413, '413 request body too large\n');
    return null;
  }
  return segments;
}

/**
 * PROPFIND: ours unless locks are involved (lockdiscovery, If: lock tokens) or the Depth is odd;
 * false when webdav-server is to answer it.
 */
function servePropfindIfOurs(r: Routes, req: Req, res: Res, segments: string[]): boolean {
  // RFC 4918 reads a missing Depth as infinity, which we refuse; clients that omit it mean 1.
  const depth = propfindDepth(req.headers.depth);
  if (depth === 'infinity') {
    req.resume();
    sendFiniteDepthRequired(res);
    return true;
  }
  if (depth !== null && req.headers.if === undefined && !r.davFs.hasLocksNear(segments)) {
    void servePropfind(req, res, r.vfs, { segments, depth, maxBody: r.maxBody, log: r.log });
    return true;
  }
  if (req.headers.depth === undefined) req.headers.depth = '1';
  return false;
}

// ---- GET/HEAD of the tree ------------------------------------------------------------------

/**
 * GET/HEAD of a checked tree path, framed as webdav-server frames the answers it dispatches
 * (dav-server.ts): its header fields, `Allow` by whether the path resolved, and the response
 * ended once the handler is done (as its `exit` does).
 */
async function serveTreeGet(r: Routes, req: Req, res: Res, segments: string[]): Promise<void> {
  req.resume();
  frameLikeDav(res);
  await serveTree(r, req, res, segments, (found) => res.setHeader('Allow', found ? ALLOW_EXISTING : ALLOW_MISSING));
  res.end();
}

/** GET/HEAD when webdav-server dispatches them (`dav.executeRequest`): the path from the URL. */
async function serveTreeAt(r: Routes, req: Req, res: Res): Promise<void> {
  let segments: string[];
  try {
    segments = urlSegments(req.url ?? '/');
  } catch (err) {
    sendUnexpected(r, req, res, err);
    return;
  }
  await serveTree(r, req, res, segments);
}

/**
 * A folder's listing or a file's bytes; errors answered with their status. `resolved` hears
 * whether the path resolved, before anything is written. Never throws.
 */
async function serveTree(r: Routes, req: Req, res: Res, segments: string[], resolved?: (found: boolean) => void): Promise<void> {
  let node: VfsNode;
  try {
    node = await r.vfs.resolve(segments);
  } catch (err) {
    resolved?.(false);
    sendUnexpected(r, req, res, err);
    return;
  }
  resolved?.(true);
  try {
    if (node.stat.type === 'directory') await sendFolder(req, res, r.vfs, segments, (req.url ?? '/').split(/[?#]/)[0]!);
    else await sendNode(req, res, node, r.serve);
  } catch (err) {
    sendUnexpected(r, req, res, err);
  }
}

/** An error answer; errors that are not VFS errors are bugs or upstream faults: logged. */
function sendUnexpected(r: Routes, req: Req, res: Res, err: unknown): void {
  if (!isVfsError(err)) r.log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  sendError(req, res, err);
}

// ---- own endpoints -------------------------------------------------------------------------

/** /healthz, /metrics, /stream/…, /thumb/…: GET/HEAD only. */
function serveOwnEndpoint(r: Routes, req: Req, res: Res, method: string, path: string, message: RegExpExecArray | null): void {
  if (method !== 'GET' && method !== 'HEAD') sendText(req, res, 405, '405 method not allowed\n', { Allow: 'GET, HEAD' });
  else if (path === '/healthz') serveHealth(r, req, res, method);
  else if (path === '/metrics') serveMetrics(r, req, res).catch((err: unknown) => sendError(req, res, err));
  else if (message) void serveMessage(r, req, res, message[1] as 'stream' | 'thumb', Number(message[2]), Number(message[3]));
}

function serveHealth(r: Routes, req: Req, res: Res, method: string): void {
  const ready = r.options.isReady?.() ?? true;
  // Without credentials while auth is on: no channel names or error details.
  const anonymous = isAnonymous(req);
  const body = Buffer.from(`${JSON.stringify({ ready, channels: anonymous ? undefined : r.options.health?.(), workers: anonymous ? undefined : r.options.workers?.() })}\n`);
  res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(method === 'HEAD' ? undefined : body);
}

async function serveMetrics(r: Routes, req: Req, res: Res): Promise<void> {
  const text = await r.metrics.registry.metrics();
  const body = Buffer.from(text);
  res.writeHead(200, { 'Content-Type': r.metrics.registry.contentType, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** /stream/<channel>/<msgId> or /thumb/…: the message looked up by id; a client gone aborts it. */
async function serveMessage(r: Routes, req: Req, res: Res, kind: 'stream' | 'thumb', channel: number, msgId: number): Promise<void> {
  const ac = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort(new VfsError('EIO', req.url, 'the client went away'));
  };
  res.once('close', onClose);
  try {
    const node = kind === 'stream' ? await r.vfs.message(channel, msgId, ac.signal) : await r.vfs.messageThumbnail(channel, msgId, ac.signal);
    if (ac.signal.aborted) return;
    await sendNode(req, res, node, { ...r.serve, frontend: kind, contentDisposition: inlineDisposition(node.stat.name) });
  } catch (err) {
    if (ac.signal.aborted) return;
    sendUnexpected(r, req, res, err);
  } finally {
    res.off('close', onClose);
  }
}

// ---- listen / close ------------------------------------------------------------------------

function listenOn(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
