// The HTTP front-end: one `http.Server` that answers
//   /healthz, /metrics                    (GET/HEAD)
//   /stream/<channel id>/<msg id>         (GET/HEAD, ranges: get-handler.ts)
//   /thumb/<channel id>/<msg id>          (GET/HEAD, ranges)
//   everything else: WebDAV               (our PROPFIND Depth 0/1 (propfind.ts) and GET/HEAD;
//                                          webdav-server v2 over the VFS for OPTIONS, LOCK,
//                                          UNLOCK and a PROPFIND near a lock; writes → 403)
// Access (auth.ts) is checked first: the Host guard and credentials when configured.
// Before webdav-server sees a request, its path is checked once here: `..`, `.`, an encoded `/`
// or `\`, NUL or a malformed %-escape → 400; Finder's `._*`/`.DS_Store` probes → 404 at once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { v2 as webdav } from 'webdav-server';
import { VfsError, isVfsError } from '../vfs/errors';
import { isFinderProbe } from '../vfs/names';
import { pathSegments, type Vfs } from '../vfs/vfs';
import { createAuthenticator, isAnonymous, withAccessChecks, type HttpAuthConfig } from './auth';
import { VfsDavFileSystem } from './dav-filesystem';
import { inlineDisposition, sendError, sendNode, sendText } from './get-handler';
import { sendFolder } from './html-listing';
import { HttpMetrics } from './metrics';
import { propfindDepth, sendFiniteDepthRequired, servePropfind } from './propfind';
import { STATUS_BY_CODE } from './status';

export interface HttpFrontEndOptions {
  vfs: Vfs;
  /** /healthz answers 200 when this says so (503 before). @default always ready */
  isReady?: () => boolean;
  /** Extra detail for /healthz's JSON body (e.g. indexing state per channel). */
  health?: () => unknown;
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

const WRITE_METHODS = ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'POST'];

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

/** Path hrefs with every segment %-encoded (webdav-server's encodeURI leaves `#`, `?`, `;`… as is). */
function encodeHref(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(.*)$/i.exec(url);
  const prefix = m ? m[1]! : '';
  const path = m ? m[2]! : url;
  return prefix + path.split('/').map((s) => encodeURIComponent(s)).join('/');
}
// A global of webdav-server, set once: every href it writes (PROPFIND, LOCK) goes through it.
webdav.HTTPRequestContext.encodeURL = encodeHref;

/**
 * No authentication, and no `WWW-Authenticate` on every answer (webdav-server's default digest
 * scheme sends one even when authentication is off, which makes some clients ask for a password).
 */
class NoAuthentication implements webdav.HTTPAuthentication {
  private readonly user = new webdav.SimpleUser('DefaultUser', '', false, true);
  askForAuthentication(): Record<string, string> {
    return {};
  }
  getUser(_ctx: webdav.HTTPRequestContext, callback: (error: Error, user?: webdav.IUser) => void): void {
    // The typings want an Error; webdav-server reads a falsy one as "no error".
    callback(undefined as unknown as Error, this.user);
  }
}

export function createHttpFrontEnd(options: HttpFrontEndOptions): HttpFrontEnd {
  const { vfs } = options;
  const log = options.log ?? (() => undefined);
  const metrics = options.metrics ?? new HttpMetrics();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const serveOptions = { metrics, maxRanges: options.maxRanges, log };
  const auth = options.auth ? createAuthenticator(options.auth) : undefined;

  const davFs = new VfsDavFileSystem(vfs);
  const dav = new webdav.WebDAVServer({
    rootFileSystem: davFs,
    serverName: 'tgvfs',
    version: '1',
    requireAuthentification: false,
    httpAuthentication: new NoAuthentication(),
    maxRequestDepth: 1,
  });

  // webdav-server allows every origin (Access-Control-Allow-Origin: *): any web page the user
  // opens could then read the files from 127.0.0.1. No CORS headers here.
  dav.beforeRequest((ctx, next) => {
    for (const h of ['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Access-Control-Expose-Headers']) ctx.response.removeHeader(h);
    next();
  });

  // GET/HEAD of the WebDAV tree: ours.
  const getMethod: webdav.HTTPMethod = {
    chunked(ctx, input, done) {
      input.resume();
      void serveTree(ctx.request, ctx.response).finally(done);
    },
    isValidFor: (_ctx, type) => !!type,
  };
  dav.method('GET', getMethod);
  dav.method('HEAD', getMethod);
  // Writes: 403 (read-only), without reading the body.
  const refuse: webdav.HTTPMethod = {
    chunked(ctx, input, done) {
      input.resume();
      ctx.setCode(STATUS_BY_CODE.EROFS);
      done();
    },
    isValidFor: () => false,
  };
  for (const m of WRITE_METHODS) dav.method(m, refuse);

  async function serveTree(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const segments = urlSegments(req.url ?? '/');
      const node = await vfs.resolve(segments);
      if (node.stat.type === 'directory') {
        await sendFolder(req, res, vfs, segments, (req.url ?? '/').split(/[?#]/)[0]!);
        return;
      }
      await sendNode(req, res, node, serveOptions);
    } catch (err) {
      if (!isVfsError(err)) log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      sendError(req, res, err);
    }
  }

  async function serveMessage(req: http.IncomingMessage, res: http.ServerResponse, kind: 'stream' | 'thumb', channel: number, msgId: number): Promise<void> {
    const ac = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) ac.abort(new VfsError('EIO', req.url, 'the client went away'));
    };
    res.once('close', onClose);
    try {
      const node = kind === 'stream' ? await vfs.message(channel, msgId, ac.signal) : await vfs.messageThumbnail(channel, msgId, ac.signal);
      if (ac.signal.aborted) return;
      await sendNode(req, res, node, { ...serveOptions, frontend: kind, contentDisposition: inlineDisposition(node.stat.name) });
    } catch (err) {
      if (ac.signal.aborted) return;
      if (!isVfsError(err)) log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      sendError(req, res, err);
    } finally {
      res.off('close', onClose);
    }
  }

  async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await metrics.registry.metrics();
    const body = Buffer.from(text);
    res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.once('close', () => metrics.countRequest(req.method, res.statusCode));
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const readOnly = method === 'GET' || method === 'HEAD';
    const path = url.split(/[?#]/)[0]!;

    // Our own endpoints (GET/HEAD only). /stream and /thumb take exactly two numeric ids, which no
    // WebDAV path can be (a channel holds files, not folders): a channel named "stream" or
    // "thumb" stays reachable in the tree.
    const message = /^\/(stream|thumb)\/(-?\d{1,20})\/(\d{1,12})\/?$/.exec(path);
    if (path === '/healthz' || path === '/metrics' || message) {
      if (!readOnly) {
        sendText(req, res, 405, '405 method not allowed\n', { Allow: 'GET, HEAD' });
        return;
      }
      if (path === '/healthz') {
        const ready = options.isReady?.() ?? true;
        // Without credentials while auth is on: no channel names or error details.
        const body = Buffer.from(`${JSON.stringify({ ready, channels: isAnonymous(req) ? undefined : options.health?.() })}\n`);
        res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
        res.end(method === 'HEAD' ? undefined : body);
        return;
      }
      if (path === '/metrics') {
        serveMetrics(req, res).catch((err: unknown) => sendError(req, res, err));
        return;
      }
      if (message) void serveMessage(req, res, message[1] as 'stream' | 'thumb', Number(message[2]), Number(message[3]));
      return;
    }

    // The WebDAV tree: check the path once, for every method.
    let segments: string[];
    try {
      segments = urlSegments(url);
    } catch (err) {
      req.resume();
      sendError(req, res, isVfsError(err) ? err : new VfsError('EINVAL', url));
      return;
    }
    if ((readOnly || method === 'PROPFIND') && segments.some(isFinderProbe)) {
      req.resume();
      sendError(req, res, new VfsError('ENOENT', url));
      return;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (!WRITE_METHODS.includes(method) && (!Number.isFinite(length) || length > maxBody)) {
      req.resume();
      sendText(req, res, 413, '413 request body too large\n');
      return;
    }
    if (method === 'PROPFIND') {
      // RFC 4918 reads a missing Depth as infinity, which we refuse; clients that omit it mean 1.
      const depth = propfindDepth(req.headers.depth);
      if (depth === 'infinity') {
        req.resume();
        sendFiniteDepthRequired(res);
        return;
      }
      // Ours unless locks are involved (lockdiscovery, If: lock tokens) or the Depth is odd.
      if (depth !== null && req.headers.if === undefined && !davFs.hasLocksNear(segments)) {
        void servePropfind(req, res, vfs, { segments, depth, maxBody, log });
        return;
      }
      if (req.headers.depth === undefined) req.headers.depth = '1';
    }
    dav.executeRequest(req, res);
  };
  // The listener createHandler uses too: access checks (auth, Host guard) come first.
  const listener: http.RequestListener = withAccessChecks(route, {
    auth,
    loopbackHostOnly: options.loopbackHostOnly,
    onRefused: (req, res) => metrics.countRequest(req.method, res.statusCode),
  });
  const server = http.createServer(listener);

  return {
    server,
    listener,
    dav,
    metrics,
    listen(host, port) {
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
    },
    close() {
      return new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
