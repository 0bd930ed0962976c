// The process's structured logger (pino) on stderr: human-readable lines (pino-pretty) on a
// terminal, JSON lines otherwise. Both write synchronously (no worker-thread transport), so
// nothing is lost when the process exits right after logging.
//
// Secrets are removed at the logger, whatever the caller passed: pino's `redact` censors fields
// named like secrets, and every string (message, field, error) goes through `scrubText`, which
// removes bot-token-shaped strings, session-string-shaped blobs and every secret registered in
// telegram/redact (workers register their token and api hash; `createLogger({ secrets })`
// registers more, e.g. the config's sessions and proxy password).
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel, TgvfsConfig } from '../config/schema';
import { proxySecrets } from '../config/proxy-url';
import { registerSecret, registerToken, scrubSecrets } from '../util/secrets';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** Human-readable lines instead of JSON. @default whether `destination` is a TTY */
  pretty?: boolean;
  /** @default process.stderr */
  destination?: Writable & { isTTY?: boolean };
  /** Extra secrets to scrub from every line (api hash, sessions, passwords…). */
  secrets?: readonly string[];
  /** Fields on every line, e.g. `{ cmd: 'serve' }`. */
  base?: Record<string, unknown>;
}

/** Field names whose values are never logged, at any depth. */
const SECRET_KEYS = [
  'token', 'tokens', 'bots', 'apiHash', 'session', 'sessions', 'password', 'passwordHash', 'tokenHash',
  'authorization', 'proxy', 'secret',
];
const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const CENSOR = '***';

/** `<bot id>:<secret>`: the id stays (it is how a person tells bots apart). */
const TOKEN_SHAPED = /\b(\d{3,20}):[A-Za-z0-9_-]{30,}/g;
/** A GramJS StringSession ("1" + base64 of DC, address and a 256-byte auth key) or any such blob. */
const SESSION_SHAPED = /[A-Za-z0-9+/_-]{200,}={0,2}/g;

/** Removes every secret a log line could carry. */
export function scrubText(text: string): string {
  return scrubSecrets(text.replace(TOKEN_SHAPED, `$1:${CENSOR}`)).replace(SESSION_SHAPED, CENSOR);
}

/** A copy of `value` with secret-named fields censored and every string scrubbed. */
function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    // Same class (pino's serializer names it), scrubbed message, stack and own fields.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    for (const [k, v] of Object.entries(value)) (copy as unknown as Record<string, unknown>)[k] = SECRET_KEY_SET.has(k.toLowerCase()) ? CENSOR : scrubValue(v, depth + 1);
    Object.defineProperty(copy, 'message', { value: scrubText(value.message), enumerable: false, writable: true });
    Object.defineProperty(copy, 'stack', { value: value.stack === undefined ? undefined : scrubText(value.stack), enumerable: false, writable: true });
    if (value.cause !== undefined) Object.defineProperty(copy, 'cause', { value: scrubValue(value.cause, depth + 1), enumerable: false, writable: true });
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY_SET.has(k.toLowerCase()) ? CENSOR : scrubValue(v, depth + 1);
  return out;
}

/** The secrets of a config, for `createLogger({ secrets })`. */
export function configSecrets(config: Partial<Pick<TgvfsConfig, 'apiHash' | 'bots' | 'sessions' | 'proxy' | 'auth'>>): string[] {
  const out: string[] = [];
  if (config.apiHash) out.push(config.apiHash);
  for (const t of config.bots ?? []) {
    registerToken(t);
    out.push(t);
  }
  for (const s of config.sessions ?? []) if (s) out.push(s);
  // A SOCKS password, an MTProxy secret (as written and as hex).
  if (config.proxy) out.push(...proxySecrets(config.proxy));
  if (config.auth?.type === 'basic') out.push(config.auth.passwordHash);
  if (config.auth?.type === 'bearer') out.push(config.auth.tokenHash);
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  for (const s of options.secrets ?? []) registerSecret(s);
  const destination = options.destination ?? process.stderr;
  const human = options.pretty ?? destination.isTTY === true;
  const stream = human
    ? pretty({
      destination: destination === process.stderr ? 2 : destination,
      sync: true,
      colorize: destination.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      // `12:00:00.000 INFO: catalog: videos: 3 file(s)`; other fields follow on the same line.
      ignore: 'pid,hostname,cmd,component',
      messageFormat: '{if component}{component}: {end}{msg}',
      singleLine: true,
    })
    : destination === process.stderr
      ? pino.destination({ dest: 2, sync: true })
      : destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: CENSOR },
      formatters: {
        log: (obj) => scrubValue(obj) as Record<string, unknown>,
      },
      hooks: {
        // The message and its interpolation arguments; objects go through `formatters.log`.
        logMethod(args, method) {
          let all: unknown[] = args;
          // logger.error(err): keep pino's shape, `err` as a field and its message as `msg`.
          if (all[0] instanceof Error) all = [{ err: all[0] }, all.length > 1 ? all[1] : all[0].message, ...all.slice(2)];
          const clean = all.map((a) => (typeof a === 'string' ? scrubText(a) : a));
          return method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}

/** `fuse: …`, `catalog: …`: a lower layer's line that names its component. */
const COMPONENT = /^([a-z][a-z0-9-]{1,15}): (.*)$/s;
const TROUBLE = /\b(fail(ed|s)?|could not|cannot|error|refused|unreachable|timed out|gave up)\b/i;

/**
 * The `log?: (line: string) => void` the lower layers take, onto a logger: a `component:`
 * prefix becomes a `component` field; lines that report trouble are warnings.
 */
export function lineLogger(logger: Logger): (line: string) => void {
  return (line: string) => {
    const m = COMPONENT.exec(line);
    const fields = m ? { component: m[1] } : {};
    const msg = m ? m[2]! : line;
    if (TROUBLE.test(msg)) logger.warn(fields, msg);
    else logger.info(fields, msg);
  };
}
