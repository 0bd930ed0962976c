// The shape of a tgvfs config (DESIGN.md, "Contracts"), described once: this zod schema checks a
// file, the TGVFS_* environment and flags alike, and the TypeScript types come from it. The
// emulator writes such a file with `--config-out`; real deployments use it without `telegram`
// and `emulator`.
//
// Messages never show a secret (bot tokens, the api hash, proxy credentials, sessions, auth
// hashes): zod's issues carry no input, and ours name a value's type, never its content. Each
// message is the part after the field's name (`channels[1].id ` + `must be …`).
import { z } from 'zod';
import { isBotApiChannelId } from '../util/channel-id';
import { parseHostPort } from './listen-address';
import { PROXY_FORMS, ProxyUrlError, parseProxyUrl } from './proxy-url';
import { parseSize } from './sizes';

/** What a value is, for messages: its type, never its content (it may be a secret). */
export const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const got = (iss: { input?: unknown }): string => `got ${kindOf(iss.input)}`;

const TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,}$/;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const nonEmpty = (what: string) =>
  z.string({ error: (iss) => `must be ${what}, ${got(iss)}` }).refine((s) => s.trim() !== '', { error: `must be ${what}, got an empty string` });

const channelSchema = z.object(
  {
    /** Bot API style id: -100 followed by the channel's MTProto id. */
    id: z.custom<number>(isBotApiChannelId, {
      error: (iss) => `must be a channel id of the form -100… (e.g. -1001234567890), got ${JSON.stringify(iss.input) ?? 'nothing'}`,
    }),
    /** Folder name under which the channel appears in the VFS. */
    name: z.custom<string>(
      (n) => typeof n === 'string' && n.trim() !== '' && !/[/\\\u0000-\u001f]/.test(n) && n !== '.' && n !== '..',
      { error: 'must be a non-empty folder name without "/", "\\" or control characters' },
    ),
  },
  { error: (iss) => `must be an object { "id", "name" }, ${got(iss)}` },
);

/** Where one data centre listens. `host` alone must identify the DC (see telegram/gramjs/dc-socket). */
const dcSchema = z.object(
  {
    id: z.number().refine((n) => Number.isSafeInteger(n) && n > 0),
    host: z.string().refine((s) => s.trim() !== ''),
    port: z.number().refine((n) => Number.isSafeInteger(n) && n > 0 && n < 65536),
  },
  { error: 'must be { "id": positive integer, "host": string, "port": 1-65535 }' },
);

/**
 * HTTP authentication. `basic`: user name and a password hash made by `tgvfs hash-password`
 * (`scrypt$N$r$p$<salt b64>$<hash b64>`); `bearer`: the SHA-256 of the token, `sha256$<hex>`
 * (so the config file holds no usable secret). Both compared in constant time.
 */
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
  })
  .transform((a) => (a.type === 'basic'
    ? { type: 'basic' as const, user: a.user!, passwordHash: a.passwordHash! }
    : { type: 'bearer' as const, tokenHash: a.tokenHash!.toLowerCase() }));

const CACHE_URL = 'must be a keyv URL such as sqlite:///absolute/path.sqlite, redis://host:6379 or memory:// (value not shown)';
const SIZE_TEXT = 'must be a size in bytes, or with a K/M/G suffix (e.g. 512M, 2G)';
/** A byte size: a number, or text such as `2G` (config/sizes.ts). */
const sizeSchema = z
  .custom<number | string>((v) => parseSize(v) !== undefined, { error: (iss) => `${SIZE_TEXT}, got ${typeof iss.input === 'string' ? JSON.stringify(iss.input) : kindOf(iss.input)}` })
  .transform((v) => parseSize(v)!);

const DISK_SHAPE = 'must be false or an object { "dir", "maxBytes" }';
const diskCacheObject = z.object({
  /** Folder of block files. @default $XDG_CACHE_HOME/tgvfs/blocks (`<sessionDir>/blocks` with an emulator's `telegram`) */
  dir: nonEmpty('a non-empty path').optional(),
  /** Byte budget. @default 2 GiB, or a tenth of the free space when less */
  maxBytes: sizeSchema.optional(),
});

/**
 * The persistent block cache (stream/disk-cache.ts): `false` turns it off. Not a zod union: a
 * union's problem is "no branch matched", where a person needs "maxBytes must be a size".
 */
const diskCacheSchema = z
  .custom<false | Record<string, unknown>>((v) => v === false || (typeof v === 'object' && v !== null && !Array.isArray(v)), { error: (iss) => `${DISK_SHAPE}, ${got(iss)}` })
  .transform((v, ctx) => {
    if (v === false) return false as const;
    const r = diskCacheObject.safeParse(v);
    if (r.success) return r.data;
    for (const iss of r.error.issues) ctx.addIssue({ code: 'custom', path: iss.path, message: iss.message });
    return z.NEVER;
  });

/** A proxy URL that config/proxy-url.ts can read; its problem, never the value, otherwise. */
const proxyUrl = z.string({ error: PROXY_FORMS }).superRefine((v, ctx) => {
  try {
    parseProxyUrl(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof ProxyUrlError ? err.detail : PROXY_FORMS });
  }
});

/** A config as written; `checkConfig` (config-file.ts) resolves its paths and defaults. */
export const configSchema = z
  .object({
    apiId: z.custom<number>((v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0, {
      error: (iss) => `must be a positive integer (from my.telegram.org), got ${JSON.stringify(iss.input) ?? 'nothing'}`,
    }),
    apiHash: nonEmpty('a non-empty string (from my.telegram.org)'),
    /** Bot tokens, `<bot id>:<secret>`. Secrets: never logged. */
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
    /** keyv URL, e.g. `sqlite:///var/cache/tgvfs/cache.sqlite` or `redis://…`. */
    cache: z.string({ error: CACHE_URL }).regex(/^[a-z][a-z0-9+.-]*:\/\//i, { error: CACHE_URL }).optional(),
    /** The disk block cache under the memory one: `{ "dir", "maxBytes" }`, or false for none. On by default. */
    diskCache: diskCacheSchema.optional(),
    /** Overrides Telegram's own DCs and RSA keys (the emulator's). */
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
    /**
     * Every worker connection goes through this proxy: `socks5://[user:pass@]host:port`, or an
     * MTProxy as `mtproxy://<secret>@host:port` or `tg://proxy?server=…&port=…&secret=…`
     * (config/proxy-url.ts). Secrets: never logged.
     */
    proxy: proxyUrl.optional(),
    /**
     * Dial Telegram's DCs at their IPv6 addresses (GramJS's `useIPV6`). With `telegram.dcs`
     * (the emulator) the addresses there are dialled as written. @default false
     */
    ipv6: z.boolean({ error: (iss) => `must be true or false, ${got(iss)}` }).optional(),
    /** HTTP front-end address, `host:port`. @default 127.0.0.1:8080 (flag `--listen` wins) */
    listen: z
      .string({ error: (iss) => `must be HOST:PORT (e.g. 127.0.0.1:8080), ${got(iss)}` })
      .refine((v) => parseHostPort(v) !== undefined, { error: (iss) => `must be HOST:PORT (e.g. 127.0.0.1:8080), got ${JSON.stringify(iss.input)}` })
      .transform((v) => v.trim())
      .optional(),
    /** Required when `listen` is not a loopback address (see webdav/auth). */
    auth: authSchema.optional(),
    /** Logger level. @default info */
    logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
    /**
     * GramJS session strings, one per bot, in the order of `bots` (an empty string: log in). When
     * set, sessions live here (e.g. from `TGVFS_SESSIONS` in a serverless function) and no
     * session file is read or written. Secrets: never logged. One instance's own: the same strings in
     * two instances are one auth key used from two places (AUTH_KEY_DUPLICATED; session-claims.ts warns).
     */
    sessions: z
      .array(z.string({ error: 'must be a session string (value not shown)' }), { error: 'must be an array of session strings, one per bot' })
      .transform((list) => list.map((s) => s.trim()))
      .optional(),
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

type ConfigInput = z.output<typeof configSchema>;

/** The disk cache as resolved: its absolute folder and budget (undefined: the default for its disk), or false. */
export type DiskCacheConfig = { dir: string; maxBytes?: number } | false;

/**
 * A checked config: `sessionDir` absolute, `cache` always set (a sqlite file in it by default),
 * `diskCache` resolved (an absolute folder by default, or false; absent in a config built by
 * hand rather than checked: no disk cache then).
 */
export type TgvfsConfig = Omit<ConfigInput, 'cache' | 'diskCache'> & { cache: string; diskCache?: DiskCacheConfig };
export type ChannelConfig = ConfigInput['channels'][number];
export type DcAddress = NonNullable<ConfigInput['telegram']>['dcs'][number];
export type AuthConfig = NonNullable<ConfigInput['auth']>;
export type LogLevel = (typeof LOG_LEVELS)[number];
