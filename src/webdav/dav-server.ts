// The webdav-server v2 instance behind the tree (OPTIONS, LOCK, UNLOCK, PROPFIND near a lock, the
// refused writes), and the header fields it frames every answer with, which our own GET/HEAD and
// PROPFIND send too so that a client sees the same answer whoever framed it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { v2 as webdav } from 'webdav-server';
import type { VfsDavFileSystem } from './dav-filesystem';
import { STATUS_BY_CODE } from './status';
import { installWebdavServerPatches } from './webdav-server-patches';

/** `serverName/version` of the WebDAVServer: its `Server` header. */
const SERVER_NAME = 'tgvfs';
const SERVER_VERSION = '1';

/**
 * What webdav-server 2.6.3 sets on every answer it frames (lib/server/v2/RequestContext.js,
 * `HTTPRequestContext.create`), in its order, minus the CORS headers our beforeRequest removes;
 * `Allow` follows, from the method table below.
 */
export const DAV_FRAME_HEADERS: Readonly<Record<string, string>> = {
  'DAV': '1,2',
  'MS-Author-Via': 'DAV',
  'Server': `${SERVER_NAME}/${SERVER_VERSION}`,
};
/**
 * `Allow` as webdav-server computes it: the methods of its table, in registration order, whose
 * `isValidFor(ctx, type)` accepts the path's type (GET/HEAD below accept any existing path, the
 * writes none). The same for a file and a folder.
 */
export const ALLOW_EXISTING = 'PROPFIND,OPTIONS,UNLOCK,LOCK,HEAD,GET';
/** `Allow` for a path that does not resolve (no type): only the methods without isValidFor. */
export const ALLOW_MISSING = 'OPTIONS,LOCK';

/** Refused with 403 (read-only tree); never given to webdav-server's own handlers. */
export const WRITE_METHODS: readonly string[] = ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'POST'];

/**
 * Sets on `res` what webdav-server sets before its handler runs: an 'error' listener (the
 * HTTPRequestContext constructor's, which logs to the console: without one, a late write error
 * would be an uncaught exception) and DAV_FRAME_HEADERS. `Allow` is the caller's, once the path
 * has resolved or failed.
 */
export function frameLikeDav(res: ServerResponse): void {
  res.on('error', (e) => console.error(e));
  for (const [name, value] of Object.entries(DAV_FRAME_HEADERS)) res.setHeader(name, value);
}

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

/** Writes: 403 (read-only), without reading the body. */
const refuseWrite: webdav.HTTPMethod = {
  chunked(ctx, input, done) {
    input.resume();
    ctx.setCode(STATUS_BY_CODE.EROFS);
    done();
  },
  isValidFor: () => false,
};

/**
 * The WebDAVServer over `davFs`. `treeGet` answers GET/HEAD when webdav-server dispatches them.
 * http-server.ts routes them to our handler directly; they stay in the method table because
 * webdav-server's `Allow` lists a method only if its isValidFor accepts the path's type (its own
 * GET/HEAD say files only; ours any existing path), and so that `dav.executeRequest` answers
 * them too (tests and benches use it as the reference).
 */
export function createDavServer(davFs: VfsDavFileSystem, treeGet: (req: IncomingMessage, res: ServerResponse) => Promise<void>): webdav.WebDAVServer {
  installWebdavServerPatches();
  const dav = new webdav.WebDAVServer({
    rootFileSystem: davFs,
    serverName: SERVER_NAME,
    version: SERVER_VERSION,
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

  const get: webdav.HTTPMethod = {
    chunked(ctx, input, done) {
      input.resume();
      void treeGet(ctx.request, ctx.response).finally(done);
    },
    isValidFor: (_ctx, type) => !!type,
  };
  dav.method('GET', get);
  dav.method('HEAD', get);
  for (const m of WRITE_METHODS) dav.method(m, refuseWrite);
  return dav;
}
