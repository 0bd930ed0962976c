// Per-worker metadata that survives restarts: each bot's view of a channel (its access hash) and
// of a message's document (DocInfo, with that bot's file reference). A second run answers
// `getDoc` without an upstream call. Kept in keyv: a `sqlite://` file by default, `memory://`
// for tests; one store may be shared by all workers of a pool (keys carry the bot id), and by
// several instances when keyv has an adapter for a shared store.
//
// Keys carry the bot id (access hashes and file references are per account) and the channel:
//   doc:<botId>:<channel>:<msgId>  → DocInfo (plain JSON)
//   channel:<botId>:<channel>      → the channel's access hash for that bot, decimal string
//   flood:<botId>, login-flood:<botId>, claim:<botId>:… → small records with a TTL shared by instances (shared-flood.ts,
//                                    session-claims.ts), through `getRecords`/`setRecord`
import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Keyv } from 'keyv';
import { KeyvSqlite } from '@keyv/sqlite';
import { isDocInfo, type DocInfo } from './doc-info';
import { TgvfsError, errorLine } from '../util/errors';
import { openRedisKeyv, redactCacheUrl } from './redis-store';

/** Namespace of our keys in the store (keyv prefixes every key with it). */
const NAMESPACE = 'tgvfs-meta';

/** The cache URL cannot be used. The message names the scheme, never the whole URL. */
export class CacheUrlError extends TgvfsError {
  constructor(message: string) {
    super('CACHE_URL', message);
  }
}

/** The cache store failed to open. */
export class CacheOpenError extends TgvfsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CACHE_OPEN', message, {}, options);
  }
}

/** `sqlite`, `memory`, `redis`, … or undefined when `url` has no `scheme://` prefix. */
function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
}

export interface OpenKeyvStoreOptions {
  /** Where a shared store says it went away or came back (redis). */
  log?: (line: string) => void;
}

/** An open store and what it is, for logs (a path, `memory`, or a URL with its password hidden). */
export interface OpenedKeyvStore {
  keyv: Keyv;
  description: string;
  /** Other processes may write to it (redis, a sqlite file): worth re-reading now and then. */
  shared: boolean;
}

/**
 * Opens a keyv store by URL, with every key under `namespace`: `sqlite:///abs/path.sqlite`
 * (parent folder created 0700, file made 0600), `redis://` / `rediss://` (see redis-store.ts:
 * connected before this returns, commands fail fast while it is away) or `memory://`. Other
 * schemes throw CacheUrlError naming the scheme (the URL may hold a password, so it is never
 * shown whole). Shared by the metadata cache and the catalog.
 */
export async function openKeyvStore(url: string, namespace: string, options: OpenKeyvStoreOptions = {}): Promise<OpenedKeyvStore> {
  const scheme = schemeOf(url);
  if (scheme === undefined) {
    throw new CacheUrlError('cache URL must look like sqlite:///absolute/path.sqlite, redis://host:port or memory://');
  }
  if (scheme === 'memory') return { keyv: new Keyv({ namespace, throwOnErrors: true }), description: 'memory', shared: false };
  if (scheme === 'redis' || scheme === 'rediss') {
    const description = redactCacheUrl(url);
    if (!/^rediss?:\/\/[^/?#]+(\/\d*)?$/i.test(url)) {
      throw new CacheUrlError(`cache URL ${description} must look like redis://[user:password@]host:port[/db number]`);
    }
    try {
      return { keyv: await openRedisKeyv(url, namespace, options.log ?? (() => undefined)), description, shared: true };
    } catch (err) {
      if (err instanceof TgvfsError) throw err;
      throw new CacheOpenError(`cannot connect to cache ${description}: ${errorLine(err)}`, { cause: err });
    }
  }
  if (scheme !== 'sqlite') {
    throw new CacheUrlError(
      `cache URL scheme "${scheme}://" is not supported; use sqlite:///absolute/path.sqlite, redis://[user:password@]host:port[/db], rediss://… or memory://`,
    );
  }
  const file = url.slice('sqlite://'.length);
  if (file === ':memory:') return { keyv: await openSqlite(file, namespace), description: file, shared: false };
  if (!path.isAbsolute(file)) {
    throw new CacheUrlError('sqlite cache URL needs an absolute path: sqlite:///absolute/path.sqlite');
  }
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Create the file 0600 before SQLite opens it, so it is never readable by others.
    await (await open(file, 'a', 0o600)).close();
  } catch (err) {
    throw new CacheOpenError(`cannot create cache file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const keyv = await openSqlite(file, namespace);
  // An existing file keeps its old mode through open(): tighten it in every case.
  await chmod(file, 0o600);
  return { keyv, description: file, shared: true };
}

async function openSqlite(file: string, namespace: string): Promise<Keyv> {
  const store = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 });
  const keyv = new Keyv({ store, namespace, throwOnErrors: true });
  // Until an 'error' listener is attached, keyv's emitter would throw on a failed background open.
  const swallow = (): void => undefined;
  keyv.on('error', swallow);
  try {
    // KeyvSqlite opens in the background; a query waits for the open and the table.
    await store.query('SELECT 1');
    // A cache, written one small row at a time (a DocInfo per message): write-ahead logging
    // without an fsync per row keeps indexing fast; a crash loses at most the last rows.
    await store.query('PRAGMA journal_mode=WAL');
    await store.query('PRAGMA synchronous=NORMAL');
  } catch (err) {
    throw new CacheOpenError(`cannot open cache file ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    keyv.off('error', swallow);
  }
  return keyv;
}

export class MetadataCache {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly keyv: Keyv,
    /** What the cache is, for logs (a path or `memory`; never a password). */
    readonly description: string,
    /** Other processes may write to it (redis, a sqlite file): shared records are worth re-reading. */
    readonly shared = false,
  ) {}

  /**
   * Opens the cache at `url` (see openKeyvStore): `sqlite:///abs/path.sqlite`, `redis://…`,
   * `rediss://…` or `memory://`.
   */
  static async open(url: string, log: (line: string) => void = () => undefined): Promise<MetadataCache> {
    const { keyv, description, shared } = await openKeyvStore(url, NAMESPACE, { log });
    return MetadataCache.fromKeyv(keyv, description, log, shared);
  }

  /** A cache over any keyv instance (e.g. with an adapter the caller installed); `shared`: see the field. */
  static fromKeyv(keyv: Keyv, description = 'keyv', log: (line: string) => void = () => undefined, shared = true): MetadataCache {
    keyv.on('error', (err: unknown) => log(`metadata cache (${description}): ${err instanceof Error ? err.message : String(err)}`));
    return new MetadataCache(keyv, description, shared);
  }

  /** Shared records (`flood:…`, `claim:…`) by key, undefined where absent or expired; one round trip. */
  async getRecords(keys: string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const values: unknown[] = await this.keyv.getMany(keys);
    return keys.map((_, i) => values[i] ?? undefined);
  }

  /** Writes a shared record that expires after `ttlMs` (at least 1 ms). */
  async setRecord(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.keyv.set(key, value, Math.max(1, Math.ceil(ttlMs)));
  }

  async deleteRecord(key: string): Promise<void> {
    await this.keyv.delete(key);
  }

  async getDoc(botId: number, channel: number, msgId: number): Promise<DocInfo | undefined> {
    const v: unknown = await this.keyv.get(docKey(botId, channel, msgId));
    // A store shared with other versions may hold anything: a malformed entry is a miss.
    return isDocInfo(v) && v.channel === channel && v.msgId === msgId ? v : undefined;
  }

  async setDoc(botId: number, channel: number, msgId: number, doc: DocInfo): Promise<void> {
    if (doc.channel !== channel || doc.msgId !== msgId) {
      throw new RangeError(`DocInfo of ${doc.channel}/${doc.msgId} stored as ${channel}/${msgId}`);
    }
    await this.keyv.set(docKey(botId, channel, msgId), doc);
  }

  async deleteDoc(botId: number, channel: number, msgId: number): Promise<void> {
    await this.keyv.delete(docKey(botId, channel, msgId));
  }

  /** The channel's access hash for this bot, decimal; undefined when not cached. */
  async getChannelHash(botId: number, channel: number): Promise<string | undefined> {
    const v: unknown = await this.keyv.get(channelKey(botId, channel));
    return typeof v === 'string' && /^-?\d{1,20}$/.test(v) ? v : undefined;
  }

  async setChannelHash(botId: number, channel: number, accessHash: string): Promise<void> {
    await this.keyv.set(channelKey(botId, channel), accessHash);
  }

  /** Forgets a channel's access hash (e.g. Telegram refused it). */
  async deleteChannelHash(botId: number, channel: number): Promise<void> {
    await this.keyv.delete(channelKey(botId, channel));
  }

  /** Closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.keyv.disconnect();
    return this.closing;
  }
}

function docKey(botId: number, channel: number, msgId: number): string {
  return `doc:${botId}:${channel}:${msgId}`;
}

function channelKey(botId: number, channel: number): string {
  return `channel:${botId}:${channel}`;
}
