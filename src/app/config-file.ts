// Reads a tgvfs config file (DESIGN.md, "Contracts") and checks every field of TgvfsConfig with
// a zod schema. Each problem is one line naming the field (`channels[1].id must be …`) and where
// it came from (the file, a TGVFS_* variable, a flag: see config-sources.ts); secrets (bot
// tokens, the api hash, proxy credentials, sessions, auth hashes) never appear in a message:
// zod's issues carry no input, and our messages name a value's type, never its content.
// Relative paths are taken from the folder of the file that gave them.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { AuthConfig, ChannelConfig, LogLevel, TgvfsConfig } from './config';
import { parseHostPort } from './listen-address';

/**
 * The config is missing, unreadable or invalid. `problems` has one complete line per problem,
 * each naming its source and field (`/etc/tgvfs.json: apiId must be …`, `TGVFS_BOTS[0] must
 * be …`); `file` is the config file involved, if any.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CONFIG';

  constructor(readonly file: string | undefined, readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** `$TGVFS_CONFIG`, else `$XDG_CONFIG_HOME/tgvfs/config.json` (`~/.config/tgvfs/config.json`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TGVFS_CONFIG) return path.resolve(env.TGVFS_CONFIG);
  const xdg = env.XDG_CONFIG_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config'), 'tgvfs', 'config.json');
}

/** Reads and parses a config file's JSON (no validation); throws ConfigError. */
export async function readConfigJson(file: string): Promise<unknown> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(abs, [`${abs}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? (err as Error).message}`}`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(abs, [`${abs}: not valid JSON: ${(err as Error).message}`]);
  }
}

/** Reads, parses and validates a config file; throws ConfigError listing every problem. */
export async function loadConfig(file: string = defaultConfigPath()): Promise<TgvfsConfig> {
  const abs = path.resolve(file);
  return validateConfig(await readConfigJson(abs), abs);
}

/** Where a top-level field came from: how to name it in a problem, and where its paths start. */
export interface FieldOrigin {
  /** Prefix of a problem line, e.g. `/etc/tgvfs.json: ` or '' for env vars and flags. */
  prefix: string;
  /** The field's name for a person: `apiId`, `TGVFS_API_ID`, `--listen`. */
  name(path: readonly PropertyKey[]): string;
  /** Folder that relative paths (sessionDir, sqlite cache) are resolved from. */
  base: string;
}

/** A field of a config file: `channels[1].id`. */
export function fileOrigin(file: string): FieldOrigin {
  return { prefix: `${file}: `, name: fieldPath, base: path.dirname(file) };
}

export function fieldPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out === '' ? String(k) : `.${String(k)}`;
  return out || '(the config)';
}

/** What a value is, for messages: its type, never its content (it may be a secret). */
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const got = (iss: { input?: unknown }): string => `got ${kind(iss.input)}`;

const TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,}$/;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LogLevel[];

const nonEmpty = (what: string) =>
  z.string({ error: (iss) => `must be ${what}, ${got(iss)}` }).refine((s) => s.trim() !== '', { error: `must be ${what}, got an empty string` });

const channelSchema = z.object(
  {
    id: z.unknown().refine((id) => typeof id === 'number' && Number.isSafeInteger(id) && id < -1_000_000_000_000, {
      error: (iss) => `must be a channel id of the form -100… (e.g. -1001234567890), got ${JSON.stringify(iss.input) ?? 'nothing'}`,
    }),
    name: z.unknown().refine(
      (n) => typeof n === 'string' && n.trim() !== '' && !/[/\\\u0000-\u001f]/.test(n) && n !== '.' && n !== '..',
      { error: 'must be a non-empty folder name without "/", "\\" or control characters' },
    ),
  },
  { error: (iss) => `must be an object { "id", "name" }, ${got(iss)}` },
);

const dcSchema = z.object(
  {
    id: z.number().refine((n) => Number.isSafeInteger(n) && n > 0),
    host: z.string().refine((s) => s.trim() !== ''),
    port: z.number().refine((n) => Number.isSafeInteger(n) && n > 0 && n < 65536),
  },
  { error: 'must be { "id": positive integer, "host": string, "port": 1-65535 }' },
);

const authSchema = z
  .object(
    {
      type: z.enum(['basic', 'bearer'], { error: 'must be "basic" or "bearer"' }),
      user: z.string({ error: 'must be a string' }).optional(),
      passwordHash: z.string({ error: 'must be a string' }).optional(),
      tokenHash: z.string({ error: 'must be a string' }).optional(),
    },
    { error: (iss) => `must be an object { "type": "basic", "user", "passwordHash" } or { "type": "bearer", "tokenHash" }, ${got(iss)}` },
  )
  .superRefine((a, ctx) => {
    const issue = (key: string, message: string): void => ctx.addIssue({ code: 'custom', path: [key], message });
    if (a.type === 'basic') {
      if (!a.user || a.user.trim() === '' || a.user.includes(':')) issue('user', 'must be a non-empty user name without ":"');
      if (!a.passwordHash || !/^scrypt\$\S+$/.test(a.passwordHash)) issue('passwordHash', 'must be a hash made by "tgvfs hash-password" (scrypt$…) (value not shown)');
    } else if (!a.tokenHash || !/^sha256\$[0-9a-f]{64}$/i.test(a.tokenHash)) {
      issue('tokenHash', 'must be sha256$<64 hex digits>, the SHA-256 of the bearer token (value not shown)');
    }
  });

/** The raw shape of a config, checked field by field; cross-field rules run after. */
const configSchema = z
  .object({
    apiId: z.unknown().refine((v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0, {
      error: (iss) => `must be a positive integer (from my.telegram.org), got ${JSON.stringify(iss.input) ?? 'nothing'}`,
    }),
    apiHash: nonEmpty('a non-empty string (from my.telegram.org)'),
    bots: z
      .array(
        z.string({ error: 'must be a bot token "<bot id>:<secret>" (value not shown)' })
          .trim()
          .regex(TOKEN, { error: 'must be a bot token "<bot id>:<secret>" (value not shown)' }),
        { error: 'must be a non-empty array of bot tokens' },
      )
      .min(1, { error: 'must be a non-empty array of bot tokens' }),
    channels: z
      .array(channelSchema, { error: 'must be a non-empty array of { "id": -100…, "name": "…" }' })
      .min(1, { error: 'must be a non-empty array of { "id": -100…, "name": "…" }' }),
    sessionDir: nonEmpty('a non-empty path'),
    cache: z
      .string({ error: 'must be a keyv URL such as sqlite:///absolute/path.sqlite, redis://host:6379 or memory:// (value not shown)' })
      .regex(/^[a-z][a-z0-9+.-]*:\/\//i, { error: 'must be a keyv URL such as sqlite:///absolute/path.sqlite, redis://host:6379 or memory:// (value not shown)' })
      .optional(),
    telegram: z
      .object(
        {
          dcs: z.array(dcSchema, { error: 'must be a non-empty array of { "id", "host", "port" }' }).min(1, { error: 'must be a non-empty array of { "id", "host", "port" }' }),
          rsaPublicKeys: z
            .array(z.string().includes('-----BEGIN'), { error: 'must be a non-empty array of PEM public keys' })
            .min(1, { error: 'must be a non-empty array of PEM public keys' }),
        },
        { error: (iss) => `must be an object { "dcs", "rsaPublicKeys" }, ${got(iss)}` },
      )
      .optional(),
    emulator: z
      .object({ adminUrl: z.string().regex(/^https?:\/\//) }, { error: 'must be an object { "adminUrl": "http://…" }' })
      .optional(),
    proxy: z
      .string({ error: 'must be a socks5://[user:pass@]host:port (or socks4://) URL (value not shown)' })
      .regex(/^socks[45]h?:\/\/\S+$/i, { error: 'must be a socks5://[user:pass@]host:port (or socks4://) URL (value not shown)' })
      .optional(),
    listen: z
      .string({ error: (iss) => `must be HOST:PORT (e.g. 127.0.0.1:8080), ${got(iss)}` })
      .refine((v) => parseHostPort(v) !== undefined, { error: (iss) => `must be HOST:PORT (e.g. 127.0.0.1:8080), got ${JSON.stringify(iss.input)}` })
      .optional(),
    auth: authSchema.optional(),
    logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
    sessions: z.array(z.string({ error: 'must be a session string (value not shown)' }), { error: 'must be an array of session strings, one per bot' }).optional(),
  })
  .superRefine((c, ctx) => {
    if (new Set(c.bots).size !== c.bots.length) ctx.addIssue({ code: 'custom', path: ['bots'], message: 'has the same token twice' });
    const ids = new Set<unknown>();
    const names = new Set<string>();
    c.channels.forEach((ch, i) => {
      if (ids.has(ch.id)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `repeats id ${String(ch.id)}` });
      const lower = String(ch.name).toLowerCase();
      if (names.has(lower)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `repeats the name ${JSON.stringify(ch.name)} (names are compared ignoring case)` });
      ids.add(ch.id);
      names.add(lower);
    });
    if (c.sessions && c.sessions.length !== c.bots.length) {
      ctx.addIssue({ code: 'custom', path: ['sessions'], message: `must have one entry per bot (${c.bots.length}), got ${c.sessions.length}` });
    }
  });

/**
 * Checks a merged raw config whose top-level fields may come from different places; `origin`
 * says, per top-level field, how to name it and where its relative paths start. Throws
 * ConfigError (`file` names the config file, if one was involved).
 */
export function checkConfig(raw: unknown, origin: (field: string) => FieldOrigin, file?: string): TgvfsConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const o = origin('');
    throw new ConfigError(file, [`${o.prefix}must be a JSON object, got ${kind(raw)}`]);
  }
  const input: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  // The library's alias (DESIGN.md: `tokens` is accepted for `bots`).
  let botsKey = 'bots';
  if (input.bots === undefined && input.tokens !== undefined) {
    input.bots = input.tokens;
    botsKey = 'tokens';
  }
  delete input.tokens;

  const r = configSchema.safeParse(input);
  if (!r.success) {
    const problems = r.error.issues.map((iss) => {
      const p = iss.path.length > 0 && iss.path[0] === 'bots' ? [botsKey, ...iss.path.slice(1)] : iss.path;
      const o = origin(String(iss.path[0] ?? ''));
      return `${o.prefix}${o.name(p)} ${iss.message}`;
    });
    throw new ConfigError(file, [...new Set(problems)]);
  }
  const c = r.data;

  const sessionDir = path.resolve(origin('sessionDir').base, c.sessionDir);
  let cache = `sqlite://${path.join(sessionDir, 'cache.sqlite')}`;
  if (c.cache !== undefined) {
    if (c.cache.toLowerCase().startsWith('sqlite://')) {
      const p = c.cache.slice('sqlite://'.length);
      cache = p === ':memory:' || path.isAbsolute(p) ? c.cache : `sqlite://${path.resolve(origin('cache').base, p)}`;
    } else cache = c.cache;
  }
  const config: TgvfsConfig = {
    apiId: c.apiId as number,
    apiHash: c.apiHash,
    bots: c.bots,
    channels: c.channels.map((ch): ChannelConfig => ({ id: ch.id as number, name: ch.name as string })),
    sessionDir,
    cache,
  };
  if (c.telegram) config.telegram = c.telegram;
  if (c.emulator) config.emulator = c.emulator;
  if (c.proxy !== undefined) config.proxy = c.proxy;
  if (c.listen !== undefined) config.listen = c.listen.trim();
  if (c.auth) {
    const a = c.auth;
    config.auth = a.type === 'basic'
      ? ({ type: 'basic', user: a.user!, passwordHash: a.passwordHash! } satisfies AuthConfig)
      : ({ type: 'bearer', tokenHash: a.tokenHash!.toLowerCase() } satisfies AuthConfig);
  }
  if (c.logLevel !== undefined) config.logLevel = c.logLevel;
  if (c.sessions !== undefined) config.sessions = c.sessions.map((s) => s.trim());
  return config;
}

/** Checks a parsed config file; `file` names it in messages and anchors relative paths. */
export function validateConfig(raw: unknown, file: string): TgvfsConfig {
  const abs = path.resolve(file);
  const o = fileOrigin(abs);
  return checkConfig(raw, () => o, abs);
}
