// Reads a tgvfs config file (DESIGN.md, "Contracts") and checks every field of TgvfsConfig with
// a zod schema. Each problem is one line naming the field (`channels[1].id must be …`) and where
// it came from (the file, a TGVFS_* variable, a flag: see config-sources.ts); secrets (bot
// tokens, the api hash, proxy credentials, sessions, auth hashes) never appear in a message:
// zod's issues carry no input, and our messages name a value's type, never its content.
// Relative paths are taken from the folder of the file that gave them.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TgvfsError } from '../util/errors';
import { configSchema, kindOf, type DiskCacheConfig, type TgvfsConfig } from './schema';

/**
 * The config is missing, unreadable or invalid. `problems` has one complete line per problem,
 * each naming its source and field (`/etc/tgvfs.json: apiId must be …`, `TGVFS_BOTS[0] must
 * be …`); `file` is the config file involved, if any.
 */
export class ConfigError extends TgvfsError {
  constructor(readonly file: string | undefined, readonly problems: string[]) {
    super('CONFIG', problems.join('\n'));
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

/**
 * Checks a merged raw config whose top-level fields may come from different places; `origin`
 * says, per top-level field, how to name it and where its relative paths start. Throws
 * ConfigError (`file` names the config file, if one was involved).
 */
export function checkConfig(raw: unknown, origin: (field: string) => FieldOrigin, file?: string): TgvfsConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const o = origin('');
    throw new ConfigError(file, [`${o.prefix}must be a JSON object, got ${kindOf(raw)}`]);
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
  // Sessions given inline (a serverless function) keep nothing on disk: no disk cache unless asked.
  if (c.diskCache === undefined && c.sessions !== undefined) {
    const { diskCache: _none, ...rest } = c;
    return { ...rest, sessionDir, cache };
  }
  return { ...c, sessionDir, cache, diskCache: resolveDiskCache(c.diskCache, sessionDir, c.telegram !== undefined, origin('diskCache').base) };
}

/** `$XDG_CACHE_HOME/tgvfs/blocks`, else `~/.cache/tgvfs/blocks`. */
export function defaultDiskCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'tgvfs', 'blocks');
}

/**
 * The disk cache's folder, absolute. By default under the user's cache folder; for a config
 * with its own DCs (an emulator's), in its session folder: another world's document ids may
 * repeat this one's, and blocks must never be read across worlds.
 */
function resolveDiskCache(d: false | { dir?: string; maxBytes?: number } | undefined, sessionDir: string, ownDcs: boolean, base: string): DiskCacheConfig {
  if (d === false) return false;
  const dir = d?.dir !== undefined ? path.resolve(base, d.dir) : ownDcs ? path.join(sessionDir, 'blocks') : defaultDiskCacheDir();
  return d?.maxBytes !== undefined ? { dir, maxBytes: d.maxBytes } : { dir };
}

/** Checks a parsed config file; `file` names it in messages and anchors relative paths. */
export function validateConfig(raw: unknown, file: string): TgvfsConfig {
  const abs = path.resolve(file);
  const o = fileOrigin(abs);
  return checkConfig(raw, () => o, abs);
}
