// Where a config comes from, by precedence: flags > environment (TGVFS_*) > config file >
// defaults. Each top-level field is taken whole from the highest source that sets it, and the
// merged result goes through the same schema as a file (config-file.ts), so a problem names
// what the person wrote: `--listen must be …`, `TGVFS_API_ID must be …`, `cfg.json: bots[0] …`.
// With every required field in the environment no file is needed (serverless).
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LogLevel, TgvfsConfig } from './schema';
import {
  ConfigError,
  checkConfig,
  defaultConfigPath,
  fieldPath,
  fileOrigin,
  readConfigJson,
  type FieldOrigin,
} from './config-file';

/** Command-line values that override everything else (undefined: not given). */
export interface ConfigFlags {
  /** `--config FILE` */
  config?: string;
  /** `--listen HOST:PORT` */
  listen?: string;
  /** `--log-level LEVEL` */
  logLevel?: string;
  /** `--ipv6` (true when given). */
  ipv6?: boolean;
  /** `--cache-dir DIR` */
  cacheDir?: string;
  /** `--cache-max SIZE` */
  cacheMax?: string;
  /** `--no-disk-cache` (false when given). */
  diskCache?: boolean;
}

export interface ResolveConfigOptions {
  /** The config file; else TGVFS_CONFIG, else the default path (which may be absent). */
  file?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** Folder that relative paths from env vars and flags start from. @default process.cwd() */
  cwd?: string;
}

/** Env var → top-level field; the order is the one the docs and errors list them in. */
export const CONFIG_ENV_VARS = {
  TGVFS_API_ID: 'apiId',
  TGVFS_API_HASH: 'apiHash',
  TGVFS_BOTS: 'bots',
  TGVFS_CHANNELS: 'channels',
  TGVFS_SESSION_DIR: 'sessionDir',
  TGVFS_CACHE: 'cache',
  TGVFS_LISTEN: 'listen',
  TGVFS_PROXY: 'proxy',
  TGVFS_LOG_LEVEL: 'logLevel',
  TGVFS_SESSIONS: 'sessions',
  TGVFS_IPV6: 'ipv6',
} as const;

/** Variables without which there is no config (the rest have defaults or are optional). */
const REQUIRED_ENV = ['TGVFS_API_ID', 'TGVFS_API_HASH', 'TGVFS_BOTS', 'TGVFS_CHANNELS', 'TGVFS_SESSION_DIR'] as const;

const FLAG_NAMES: Record<string, string> = { listen: '--listen', logLevel: '--log-level', ipv6: '--ipv6' };
/** The disk cache's sub-fields, set one by one by variables and flags (the rest of a file's stays). */
const DISK_ENV: Record<string, string> = { dir: 'TGVFS_CACHE_DIR', maxBytes: 'TGVFS_CACHE_MAX' };
const DISK_FLAGS: Record<string, string> = { dir: '--cache-dir', maxBytes: '--cache-max' };

/** `{ dir, maxBytes }` from two optional values, or undefined when neither is set. */
function diskFields(dir: string | undefined, maxBytes: string | undefined): Record<string, unknown> | undefined {
  if (dir === undefined && maxBytes === undefined) return undefined;
  const d: Record<string, unknown> = {};
  if (dir !== undefined) d.dir = dir.trim();
  if (maxBytes !== undefined) d.maxBytes = maxBytes.trim();
  return d;
}

/** A layer's disk cache over a lower one's: false wins, objects merge field by field. */
function overDisk(lower: unknown, upper: unknown): unknown {
  if (upper === false || typeof lower !== 'object' || lower === null) return upper;
  return { ...(lower as Record<string, unknown>), ...(upper as Record<string, unknown>) };
}

interface Layer {
  values: Record<string, unknown>;
  origin: (field: string) => FieldOrigin;
}

function set(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** `1`/`true`/`yes`/`on` and `0`/`false`/`no`/`off`; anything else is passed on for the schema to name. */
function flag(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
}

/** `a, b,,c` → ['a', 'b', '', 'c'] (empty entries kept: an empty session means "log in"). */
function list(value: string): string[] {
  return value.split(',').map((s) => s.trim());
}

/** `-1001=videos,-1002=docs`; anything malformed is passed on for the schema to name. */
function parseChannels(value: string): unknown[] {
  return list(value).map((pair) => {
    const eq = pair.indexOf('=');
    const idText = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const name = eq < 0 ? undefined : pair.slice(eq + 1).trim();
    return { id: /^-?\d+$/.test(idText) ? Number(idText) : idText, name };
  });
}

/** `[1].id` for the path below a top-level field. */
function suffix(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
}

/** Required variables the environment lacks (TGVFS_SESSION_DIR is not, with sessions and cache). */
function missingEnv(env: NodeJS.ProcessEnv, layer: Layer): string[] {
  return REQUIRED_ENV.filter((name) => layer.values[CONFIG_ENV_VARS[name]] === undefined && set(env, name) === undefined);
}

/** The TGVFS_* variables as config fields, plus how to name each in a problem. */
function envLayer(env: NodeJS.ProcessEnv, cwd: string): Layer {
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [name, field] of Object.entries(CONFIG_ENV_VARS)) {
    const v = set(env, name);
    if (v === undefined) continue;
    names[field] = name;
    switch (field) {
      case 'apiId':
        values.apiId = /^\s*\d+\s*$/.test(v) ? Number(v) : v;
        break;
      case 'bots':
        values.bots = list(v).filter((t) => t !== '');
        break;
      case 'channels':
        values.channels = parseChannels(v);
        break;
      case 'sessions':
        values.sessions = list(v);
        break;
      case 'ipv6':
        values.ipv6 = flag(v);
        break;
      default:
        values[field] = v.trim();
    }
  }
  const disk = diskFields(set(env, 'TGVFS_CACHE_DIR'), set(env, 'TGVFS_CACHE_MAX'));
  if (disk) values.diskCache = disk;
  // Serverless: sessions from the env and a shared cache leave nothing to keep on disk.
  if (values.sessionDir === undefined && values.sessions !== undefined && values.cache !== undefined) {
    values.sessionDir = path.join(os.tmpdir(), 'tgvfs');
  }
  const user = set(env, 'TGVFS_AUTH_USER');
  const passwordHash = set(env, 'TGVFS_AUTH_PASSWORD_HASH');
  const tokenHash = set(env, 'TGVFS_AUTH_TOKEN_HASH');
  const authNames: Record<string, string> = { user: 'TGVFS_AUTH_USER', passwordHash: 'TGVFS_AUTH_PASSWORD_HASH', tokenHash: 'TGVFS_AUTH_TOKEN_HASH' };
  if (tokenHash !== undefined && (user !== undefined || passwordHash !== undefined)) {
    throw new ConfigError(undefined, ['TGVFS_AUTH_TOKEN_HASH (bearer) and TGVFS_AUTH_USER/TGVFS_AUTH_PASSWORD_HASH (basic) are both set: keep one kind of auth']);
  }
  if (tokenHash !== undefined) {
    values.auth = { type: 'bearer', tokenHash: tokenHash.trim() };
    names.auth = 'TGVFS_AUTH_TOKEN_HASH';
  } else if (user !== undefined || passwordHash !== undefined) {
    values.auth = { type: 'basic', user: user?.trim(), passwordHash: passwordHash?.trim() };
    names.auth = user === undefined ? 'TGVFS_AUTH_USER' : 'TGVFS_AUTH_PASSWORD_HASH';
  }
  const origin = (field: string): FieldOrigin => ({
    prefix: '',
    base: cwd,
    name: (p) => {
      if (p[0] === 'auth') return authNames[String(p[1])] ?? names.auth ?? 'TGVFS_AUTH_*';
      if (p[0] === 'diskCache') return DISK_ENV[String(p[1])] ?? 'TGVFS_CACHE_DIR/TGVFS_CACHE_MAX';
      return (names[String(p[0])] ?? String(p[0])) + suffix(p.slice(1));
    },
  });
  return { values, origin };
}

function flagLayer(flags: ConfigFlags, cwd: string): Layer {
  const values: Record<string, unknown> = {};
  if (flags.listen !== undefined) values.listen = flags.listen;
  if (flags.logLevel !== undefined) values.logLevel = flags.logLevel;
  if (flags.ipv6 !== undefined) values.ipv6 = flags.ipv6;
  const disk = flags.diskCache === false ? false : diskFields(flags.cacheDir, flags.cacheMax);
  if (disk !== undefined) values.diskCache = disk;
  return {
    values,
    origin: (field) => ({
      prefix: '',
      base: cwd,
      name: (p) => (field === 'diskCache' ? DISK_FLAGS[String(p[1])] ?? '--no-disk-cache' : FLAG_NAMES[field] ?? fieldPath(p)),
    }),
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The config, from flags > env (TGVFS_*) > config file > defaults. The file is the flag's, else
 * `file`, else TGVFS_CONFIG (all must exist), else the default path, used when it exists.
 * Throws ConfigError with one line per problem.
 */
export async function resolveConfig(options: ResolveConfigOptions = {}): Promise<TgvfsConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const explicit = flags.config ?? options.file ?? set(env, 'TGVFS_CONFIG');
  const file = explicit !== undefined ? path.resolve(cwd, explicit) : defaultConfigPath(env);

  const envL = envLayer(env, cwd);
  const flagL = flagLayer(flags, cwd);
  let fileValues: Record<string, unknown> = {};
  let fromFile = false;
  if (explicit !== undefined || (await exists(file))) {
    const raw = await readConfigJson(file);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(file, [`${file}: must be a JSON object`]);
    }
    fileValues = raw as Record<string, unknown>;
    fromFile = true;
  } else {
    const absent = missingEnv(env, envL);
    if (absent.length > 0) {
      throw new ConfigError(undefined, [
        `no config: ${file} does not exist (give --config FILE or TGVFS_CONFIG), and the environment lacks ${absent.join(', ')} (set them all to run without a file)`,
      ]);
    }
  }
  const fOrigin = fromFile ? fileOrigin(file) : undefined;

  // `tokens` in a file is the alias of `bots`: an env TGVFS_BOTS replaces either.
  const merged: Record<string, unknown> = { ...fileValues };
  const from = new Map<string, Layer>();
  for (const layer of [envL, flagL]) {
    for (const [k, v] of Object.entries(layer.values)) {
      if (k === 'bots') delete merged.tokens;
      merged[k] = k === 'diskCache' ? overDisk(merged[k], v) : v;
      from.set(k, layer);
    }
  }
  const origin = (field: string): FieldOrigin => {
    const layer = from.get(field);
    if (layer) return layer.origin(field);
    return fOrigin ?? envL.origin(field);
  };
  return checkConfig(merged, origin, fromFile ? file : undefined);
}

/**
 * A config from the environment alone (TGVFS_* variables; no file is read, not even
 * TGVFS_CONFIG): for `createHandler` in a serverless function. With TGVFS_SESSIONS and
 * TGVFS_CACHE set, TGVFS_SESSION_DIR may be left out (nothing is written there then).
 * Throws ConfigError.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): TgvfsConfig {
  const envL = envLayer(env, cwd);
  const missing = missingEnv(env, envL);
  if (missing.length > 0) throw new ConfigError(undefined, [`the environment lacks ${missing.join(', ')}`]);
  return checkConfig(envL.values, envL.origin);
}

/** The log level a config asks for. @default 'info' */
export function configLogLevel(config: Pick<TgvfsConfig, 'logLevel'>): LogLevel {
  return config.logLevel ?? 'info';
}
