// The binding rule: tgvfs serves private files, so a listener that other machines can reach
// must ask for credentials. Loopback (127.0.0.0/8, ::1, localhost) without auth is allowed
// (the front-end then refuses requests for other host names: DNS rebinding); anything else
// without `auth` is refused before start-up, with a message that says how to fix it.
import { TgvfsError } from '../util/errors';
import { checkAuthConfig, isLoopbackHost, type HttpAuthConfig } from '../webdav/auth';

const HOW_TO_FIX =
  'run "tgvfs hash-password" and set "auth" in the config ' +
  '({"type":"basic","user":"…","passwordHash":"scrypt$…"} or {"type":"bearer","tokenHash":"sha256$…"}), ' +
  'or TGVFS_AUTH_USER + TGVFS_AUTH_PASSWORD_HASH (or TGVFS_AUTH_TOKEN_HASH); or listen on 127.0.0.1';

export class AuthRequiredError extends TgvfsError {
  constructor(readonly where: string, fix = HOW_TO_FIX) {
    super('AUTH_REQUIRED', `refusing to listen on ${where} without authentication: ${fix}`);
  }
}

function describeListen(listen: { host: string; port: number }): string {
  return listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
}

/**
 * The demo serves without auth (and its emulator's admin endpoint, which injects faults, on the
 * same host): loopback only, checked before anything starts.
 */
export function checkDemoListen(listen: { host: string; port: number }): void {
  if (!isLoopbackHost(listen.host)) {
    throw new AuthRequiredError(describeListen(listen), 'the demo has no authentication, so it listens on loopback only (e.g. --listen 127.0.0.1:8080); to serve other machines use "tgvfs serve" with "auth" in its config');
  }
}

/** `auth` is set but unusable (malformed hash, bad user name); the message never shows the hash. */
export class AuthConfigError extends TgvfsError {
  constructor(reason: string) {
    super('AUTH_CONFIG', `auth in the config is invalid: ${reason}`);
  }
}

/** Throws AuthRequiredError or AuthConfigError; returns when `listen` may be served with `auth`. */
export function checkListenAccess(listen: { host: string; port: number }, auth: HttpAuthConfig | undefined): void {
  if (auth) {
    try {
      checkAuthConfig(auth);
    } catch (err) {
      throw new AuthConfigError((err as Error).message);
    }
    return;
  }
  if (!isLoopbackHost(listen.host)) {
    throw new AuthRequiredError(describeListen(listen));
  }
}
