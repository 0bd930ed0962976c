// Reads a tgvfs config file (DESIGN.md, "Contracts") and checks every field of TgvfsConfig.
// Each problem is one line naming the field; secrets (bot token secrets, the api hash, proxy
// passwords) never appear in a message. Relative paths are taken from the config file's folder.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChannelConfig, DcAddress, TgvfsConfig } from './config';

/** The config file is missing, unreadable or invalid; `problems` has one line per field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CONFIG';

  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.join(`\n${file}: `)}`);
  }
}

/** `$TGVFS_CONFIG`, else `$XDG_CONFIG_HOME/tgvfs/config.json` (`~/.config/tgvfs/config.json`). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TGVFS_CONFIG) return path.resolve(env.TGVFS_CONFIG);
  const xdg = env.XDG_CONFIG_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config'), 'tgvfs', 'config.json');
}

/** Reads, parses and validates a config file; throws ConfigError listing every problem. */
export async function loadConfig(file: string = defaultConfigPath()): Promise<TgvfsConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(abs, [code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? (err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(abs, [`not valid JSON: ${(err as Error).message}`]);
  }
  return validateConfig(raw, abs);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
/** What a value is, for messages: its type, never its content (it may be a secret). */
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** Checks a parsed config; `file` names it in messages and anchors relative paths. */
export function validateConfig(raw: unknown, file: string): TgvfsConfig {
  const problems: string[] = [];
  const bad = (line: string): void => {
    problems.push(line);
  };
  if (!isRecord(raw)) throw new ConfigError(file, [`must be a JSON object, got ${kind(raw)}`]);
  const base = path.dirname(file);

  const apiId = raw.apiId;
  if (!(typeof apiId === 'number' && Number.isSafeInteger(apiId) && apiId > 0)) bad(`apiId must be a positive integer, got ${kind(apiId)}`);
  if (!isNonEmptyString(raw.apiHash)) bad(`apiHash must be a non-empty string (from my.telegram.org), got ${kind(raw.apiHash)}`);

  const bots: string[] = [];
  if (!Array.isArray(raw.bots) || raw.bots.length === 0) bad('bots must be a non-empty array of bot tokens');
  else {
    raw.bots.forEach((t: unknown, i) => {
      if (typeof t === 'string' && /^\d{1,20}:[A-Za-z0-9_-]{20,}$/.test(t.trim())) bots.push(t.trim());
      else bad(`bots[${i}] must be a bot token "<bot id>:<secret>" (value not shown)`);
    });
    if (new Set(bots).size !== bots.length) bad('bots has the same token twice');
  }

  const channels: ChannelConfig[] = [];
  if (!Array.isArray(raw.channels) || raw.channels.length === 0) bad('channels must be a non-empty array of { "id": -100…, "name": "…" }');
  else {
    raw.channels.forEach((c: unknown, i) => {
      if (!isRecord(c)) return bad(`channels[${i}] must be an object { "id", "name" }, got ${kind(c)}`);
      const ok = typeof c.id === 'number' && Number.isSafeInteger(c.id) && c.id < -1_000_000_000_000;
      if (!ok) bad(`channels[${i}].id must be a channel id of the form -100… (e.g. -1001234567890), got ${JSON.stringify(c.id) ?? 'nothing'}`);
      const nameOk = isNonEmptyString(c.name) && !/[/\\\u0000-\u001f]/.test(c.name) && c.name !== '.' && c.name !== '..';
      if (!nameOk) bad(`channels[${i}].name must be a non-empty folder name without "/", "\\" or control characters`);
      if (ok && nameOk) channels.push({ id: c.id as number, name: c.name as string });
    });
    const ids = new Set<number>();
    const names = new Set<string>();
    for (const c of channels) {
      if (ids.has(c.id)) bad(`channels lists id ${c.id} twice`);
      if (names.has(c.name.toLowerCase())) bad(`channels lists the name ${JSON.stringify(c.name)} twice (names are compared ignoring case)`);
      ids.add(c.id);
      names.add(c.name.toLowerCase());
    }
  }

  const sessionDir = isNonEmptyString(raw.sessionDir) ? path.resolve(base, raw.sessionDir) : '';
  if (!sessionDir) bad(`sessionDir must be a non-empty path, got ${kind(raw.sessionDir)}`);

  let cache = sessionDir ? `sqlite://${path.join(sessionDir, 'cache.sqlite')}` : '';
  if (raw.cache !== undefined) {
    if (!isNonEmptyString(raw.cache) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw.cache)) {
      bad('cache must be a keyv URL such as sqlite:///absolute/path.sqlite or memory:// (value not shown)');
    } else if (raw.cache.toLowerCase().startsWith('sqlite://')) {
      const p = raw.cache.slice('sqlite://'.length);
      cache = p === ':memory:' || path.isAbsolute(p) ? raw.cache : `sqlite://${path.resolve(base, p)}`;
    } else cache = raw.cache;
  }

  const config: TgvfsConfig = {
    apiId: apiId as number, apiHash: raw.apiHash as string, bots, channels, sessionDir, cache,
  };

  if (raw.telegram !== undefined) {
    const t = raw.telegram;
    if (!isRecord(t)) bad(`telegram must be an object { "dcs", "rsaPublicKeys" }, got ${kind(t)}`);
    else {
      const dcs: DcAddress[] = [];
      if (!Array.isArray(t.dcs) || t.dcs.length === 0) bad('telegram.dcs must be a non-empty array of { "id", "host", "port" }');
      else {
        t.dcs.forEach((d: unknown, i) => {
          const ok = isRecord(d) && Number.isSafeInteger(d.id) && (d.id as number) > 0 && isNonEmptyString(d.host)
            && Number.isSafeInteger(d.port) && (d.port as number) > 0 && (d.port as number) < 65536;
          if (ok) dcs.push({ id: d.id as number, host: d.host as string, port: d.port as number });
          else bad(`telegram.dcs[${i}] must be { "id": positive integer, "host": string, "port": 1-65535 }`);
        });
      }
      const keys = t.rsaPublicKeys;
      const keysOk = Array.isArray(keys) && keys.length > 0 && keys.every((k) => typeof k === 'string' && k.includes('-----BEGIN'));
      if (!keysOk) bad('telegram.rsaPublicKeys must be a non-empty array of PEM public keys');
      config.telegram = { dcs, rsaPublicKeys: keysOk ? (keys as string[]) : [] };
    }
  }
  if (raw.emulator !== undefined) {
    const e = raw.emulator;
    if (!isRecord(e) || !isNonEmptyString(e.adminUrl) || !/^https?:\/\//.test(e.adminUrl)) bad('emulator.adminUrl must be an http:// URL');
    else config.emulator = { adminUrl: e.adminUrl };
  }
  if (raw.proxy !== undefined) {
    if (!isNonEmptyString(raw.proxy) || !/^socks[45]h?:\/\//i.test(raw.proxy)) bad('proxy must be a socks5://[user:pass@]host:port (or socks4://) URL (value not shown)');
    else config.proxy = raw.proxy;
  }

  // Shape only (hashes are checked by app/listen-access when serving); helper A's schema replaces this.
  if (raw.auth !== undefined) {
    const au = raw.auth;
    if (isRecord(au) && au.type === 'basic' && isNonEmptyString(au.user) && typeof au.passwordHash === 'string') {
      config.auth = { type: 'basic', user: au.user, passwordHash: au.passwordHash };
    } else if (isRecord(au) && au.type === 'bearer' && typeof au.tokenHash === 'string') {
      config.auth = { type: 'bearer', tokenHash: au.tokenHash };
    } else bad('auth must be {"type":"basic","user","passwordHash"} or {"type":"bearer","tokenHash"} (values not shown)');
  }

  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}
