// Every change tgvfs makes to webdav-server's globals, in one place. They were written against
// webdav-server 2.6.3 (package.json pins it); `installWebdavServerPatches` applies them once
// (createDavServer calls it) and first checks the version and what each patch relies on, so that
// an upgrade fails at start-up instead of answering wrongly.
//
// Per-server settings (no authentication challenge, no CORS headers, our GET/HEAD, refused writes)
// are not patches: they are options and hooks of one WebDAVServer, in dav-server.ts.
import { v2 as webdav } from 'webdav-server';
import { DAV_STATUS_SENTINELS } from './status';

const PATCHED_VERSION = '2.6.3';

/** The statics of HTTPRequestContext patched here (protected or missing in the typings). */
interface RequestContextStatics {
  encodeURL: (url: string) => string;
  defaultErrorStatusCodes: { error: Error; code: number }[];
}

// ---- hrefs ---------------------------------------------------------------------------------
// Replaces: lib/server/v2/RequestContext.js, the static `HTTPRequestContext.encodeURL(url)`,
// which is `encodeURI(url)`: it leaves `#`, `?`, `;`, `&`… of a name as they are, so the href of
// `a #1.txt` would end at `#`. Every href webdav-server writes goes through it (commands/Propfind.js
// for hrefs and lockroot, Lock.js for lockroot, Proppatch.js).
// Relies on: those callers look the static up on the class at each call
// (`HTTPRequestContext.encodeURL(ctx.fullUri(…))`), so assigning it reaches every server; and
// `url` is `http://host` + path (ctx.fullUri) or a path, never with a query.

/** Path hrefs with every segment %-encoded. */
function encodeHref(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(.*)$/i.exec(url);
  const prefix = m ? m[1]! : '';
  const path = m ? m[2]! : url;
  return prefix + path.split('/').map((s) => encodeURIComponent(s)).join('/');
}

// ---- error statuses ------------------------------------------------------------------------
// Extends: lib/server/v2/RequestContext.js, the static list
// `HTTPRequestContext.defaultErrorStatusCodes` ({ error, code } pairs), with status.ts's sentinels
// (403, 405, 502, 400 and 404 for our VFS error codes), ahead of webdav-server's own entries.
// Relies on: `HTTPRequestContext.defaultStatusCode(error)` (used by `setCodeFromError` and
// commands/Propfind.js) scans `this.defaultErrorStatusCodes` at each call and matches by identity;
// an error in no entry is answered 500. Adding entries is how webdav-server means to learn
// statuses; the list is a protected static in the typings, hence the cast.

let installed = false;

/** Applies the patches above, once per process. Throws when webdav-server is not what they assume. */
export function installWebdavServerPatches(): void {
  if (installed) return;
  const statics = checkedStatics();
  statics.encodeURL = encodeHref;
  for (const [status, sentinel] of DAV_STATUS_SENTINELS) statics.defaultErrorStatusCodes.unshift({ error: sentinel, code: status });
  installed = true;
}

function checkedStatics(): RequestContextStatics {
  const { version } = require('webdav-server/package.json') as { version: string };
  const statics = webdav.HTTPRequestContext as unknown as Partial<RequestContextStatics>;
  const fault =
    version !== PATCHED_VERSION ? `version ${version}, not ${PATCHED_VERSION}` :
    typeof statics.encodeURL !== 'function' ? 'HTTPRequestContext.encodeURL is not a function' :
    !Array.isArray(statics.defaultErrorStatusCodes) ? 'HTTPRequestContext.defaultErrorStatusCodes is not an array' :
    null;
  if (fault) throw new Error(`webdav-server ${fault}: check src/webdav/webdav-server-patches.ts against it`);
  return statics as RequestContextStatics;
}
