// Who may talk to the HTTP front-end, checked before any routing:
// - authentication (`auth` configured): every request but /healthz needs valid credentials,
//   else 401 with a challenge and a body that says nothing more. Basic verifications pass
//   scrypt (~50 ms), so successes are cached by a SHA-256 of the presented credentials: a player
//   doing hundreds of range requests pays it once. Failures are cached too, apart (a client
//   retrying a wrong password must not keep the CPU busy; a flood of guesses must not push the
//   valid credentials out). Both bounded; at most two scrypt runs at once, a bounded backlog.
// - the DNS-rebinding guard (`loopbackHostOnly`, for a loopback listener without auth): a web
//   page served by attacker.example whose name is re-pointed at 127.0.0.1 sends
//   `Host: attacker.example`; such requests get 421 and never reach the files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import { TgvfsError } from '../util/errors';
import {
  parsePasswordHash,
  parseTokenHash,
  safeEqualStrings,
  sha256,
  verifyPassword,
  verifyToken,
  type ParsedPasswordHash,
} from '../config/credentials';

/**
 * The config's `auth` (app/config.ts AuthConfig has this shape): `basic` with a user name and a
 * `scrypt$…` password hash, or `bearer` with a `sha256$…` token hash.
 */
export type HttpAuthConfig =
  | { type: 'basic'; user: string; passwordHash: string }
  | { type: 'bearer'; tokenHash: string };

export interface Authenticator {
  /** The `WWW-Authenticate` value of a 401. */
  readonly challenge: string;
  /** Whether the request carries valid credentials. Never rejects. */
  check(req: IncomingMessage): Promise<boolean>;
  /** scrypt verifications run since start (cached answers run none). */
  scryptRuns(): number;
}

export interface AuthenticatorOptions {
  /** Credentials remembered: this many valid ones, and as many invalid ones apart. @default 256 */
  cacheSize?: number;
  /** scrypt verifications running at once; more wait. @default 2 */
  maxConcurrentVerifications?: number;
  /** Verifications waiting; beyond, new credentials are refused at once (a flood of guesses). @default 100 */
  maxWaitingVerifications?: number;
}

/** Checks an auth config; throws CredentialHashError (message without the hash) or TgvfsError AUTH_CONFIG. */
export function checkAuthConfig(auth: HttpAuthConfig): void {
  if (auth.type === 'basic') {
    if (typeof auth.user !== 'string' || auth.user === '' || auth.user.includes(':')) {
      throw new TgvfsError('AUTH_CONFIG', 'auth.user must be a non-empty user name without ":"');
    }
    parsePasswordHash(auth.passwordHash);
  } else parseTokenHash(auth.tokenHash);
}

/** The part after `<scheme> ` of an Authorization header, or null (scheme case-insensitive). */
function credentialsOf(req: IncomingMessage, scheme: 'basic' | 'bearer'): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.length > 4096) return null;
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  return m && m[1]!.toLowerCase() === scheme ? m[2]! : null;
}

function basicAuthenticator(user: string, hash: ParsedPasswordHash, options: AuthenticatorOptions): Authenticator {
  const valid = new LRUCache<string, true>({ max: options.cacheSize ?? 256 });
  const invalid = new LRUCache<string, true>({ max: options.cacheSize ?? 256 });
  const inFlight = new Map<string, Promise<boolean>>();
  const maxRunning = options.maxConcurrentVerifications ?? 2;
  const maxWaiting = options.maxWaitingVerifications ?? 100;
  let running = 0;
  let runs = 0;
  const waiting: (() => void)[] = [];

  async function verify(presentedUser: string, password: string): Promise<boolean> {
    // A finished run hands its slot straight to the next waiter, so never more than maxRunning.
    if (running < maxRunning) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    runs++;
    try {
      // scrypt runs whatever the user name: the answer's timing says nothing about which part was wrong.
      const passwordOk = await verifyPassword(password, hash);
      return safeEqualStrings(presentedUser, user) && passwordOk;
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  }

  return {
    challenge: 'Basic realm="tgvfs", charset="UTF-8"',
    scryptRuns: () => runs,
    async check(req) {
      const b64 = credentialsOf(req, 'basic');
      if (b64 === null || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
      const decoded = Buffer.from(b64, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const key = sha256(decoded).toString('base64');
      if (valid.get(key)) return true;
      if (invalid.get(key)) return false;
      let pending = inFlight.get(key);
      if (!pending) {
        // Credentials already verified stay served from the cache whatever the backlog.
        if (waiting.length >= maxWaiting) return false;
        pending = verify(decoded.slice(0, colon), decoded.slice(colon + 1)).catch(() => false);
        inFlight.set(key, pending);
        void pending.then((ok) => {
          inFlight.delete(key);
          (ok ? valid : invalid).set(key, true);
        });
      }
      return pending;
    },
  };
}

function bearerAuthenticator(digest: Buffer): Authenticator {
  return {
    challenge: 'Bearer realm="tgvfs"',
    scryptRuns: () => 0,
    check(req) {
      const token = credentialsOf(req, 'bearer');
      return Promise.resolve(token !== null && verifyToken(token, digest));
    },
  };
}

/** An authenticator for a config's `auth`; throws CredentialHashError for a malformed hash. */
export function createAuthenticator(auth: HttpAuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  checkAuthConfig(auth);
  return auth.type === 'basic'
    ? basicAuthenticator(auth.user, parsePasswordHash(auth.passwordHash), options)
    : bearerAuthenticator(parseTokenHash(auth.tokenHash));
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (any spelling, also IPv4-mapped), `localhost`: only this machine reaches them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === 'localhost.') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a `Host` header (name or address, optional `:port`) names this machine. Any port is
 * fine: a proxy on loopback forwards the Host it was sent.
 */
export function isLoopbackHostHeader(host: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  return !!m && isLoopbackHost(m[1]!);
}

export interface AccessChecks {
  auth?: Authenticator;
  loopbackHostOnly?: boolean;
  /** Called for each request refused here, once its answer is sent (metrics). */
  onRefused?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Requests whose /healthz answer must not detail the channels (no credentials while auth is on). */
const anonymous = new WeakSet<IncomingMessage>();

/** True for a /healthz request let through without valid credentials while auth is on. */
export function isAnonymous(req: IncomingMessage): boolean {
  return anonymous.has(req);
}

function refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string>, checks: AccessChecks): void {
  req.resume();
  const body = Buffer.from(text);
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  res.once('close', () => checks.onRefused?.(req, res));
}

/**
 * Wraps a request listener with the Host guard and authentication; `next` only sees requests
 * that pass. Every answer gets `X-Content-Type-Options: nosniff`. /healthz passes without credentials (a load balancer's probe), marked anonymous.
 */
export function withAccessChecks(
  next: (req: IncomingMessage, res: ServerResponse) => void,
  checks: AccessChecks,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // Every answer is what its Content-Type says: a browser never runs a served file as a script.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (checks.loopbackHostOnly && !hostIsLoopback(req)) {
      refuse(req, res, 421, '421 misdirected request: without auth this server only answers requests addressed to localhost, 127.0.0.1 or [::1]\n', {}, checks);
      return;
    }
    const auth = checks.auth;
    if (!auth) return next(req, res);
    const path = (req.url ?? '/').split(/[?#]/)[0];
    auth.check(req).then((ok) => {
      if (ok) return next(req, res);
      if (path === '/healthz') {
        anonymous.add(req);
        return next(req, res);
      }
      refuse(req, res, 401, '401 unauthorized\n', { 'WWW-Authenticate': auth.challenge }, checks);
    }).catch(() => res.destroy()); // `next` threw: end this request, not the process
  };
}

/** The Host header and an absolute-form target's authority, when present, both name loopback. */
function hostIsLoopback(req: IncomingMessage): boolean {
  const host = req.headers.host;
  // HTTP/1.0 clients may send none; browsers (the rebinding attack's vehicle) always do.
  if (host !== undefined && !isLoopbackHostHeader(host)) return false;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(req.url ?? '');
  if (absolute) return isLoopbackHostHeader(absolute[1]!.replace(/^.*@/, ''));
  return true;
}
