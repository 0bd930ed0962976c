// The catalog: every file of every configured channel, kept in keyv (store.ts) and in memory
// (channel-state.ts), so that listing never calls Telegram. Indexing reads a channel the way a
// bot can (indexer.ts); pushed updates keep it current (follower.ts); several instances may
// share one store and adopt each other's saves (instance-sync.ts). Nothing here speaks GramJS:
// the workers answer in plain data (telegram/channel-updates.ts).
import type { Keyv } from 'keyv';
import type { ChannelConfig } from '../config/schema';
import { openKeyvStore } from '../telegram/metadata-cache';
import type { WorkerPool } from '../telegram/worker-pool';
import { TgvfsError } from '../util/errors';
import { ChannelStates } from './channel-state';
import { Follower } from './follower';
import { Indexer, type IndexOptions, type IndexResult } from './indexer';
import { InstanceSync } from './instance-sync';
import { CATALOG_NAMESPACE, CatalogStore } from './store';
import type { CatalogChannel, CatalogFile, CatalogReader } from './types';

export interface CatalogOptions {
  /** keyv URL (the config's `cache`: `sqlite:///…`, `memory://`) or an open Keyv, which `close` leaves open. */
  store: string | Keyv;
  /** Configured channels, in the order `channels()` lists them. */
  channels: ChannelConfig[];
  /** Needed by `index` and `follow`; listing never uses it. */
  pool?: WorkerPool;
  log?: (line: string) => void;
  /**
   * How often to look for what other instances saved in a shared store (one small read per
   * loaded channel); 0: never. @default 2000, or 0 for a `memory://` URL (nobody else sees it)
   */
  refreshMs?: number;
}

/** Default of CatalogOptions.refreshMs. */
const REFRESH_MS = 2000;

export class Catalog implements CatalogReader {
  private readonly log: (line: string) => void;
  private readonly life = new AbortController();
  private readonly states: ChannelStates;
  private readonly instances: InstanceSync;
  private readonly indexer: Indexer;
  private readonly follower: Follower;
  private closing: Promise<void> | undefined;

  private constructor(
    store: CatalogStore,
    private readonly keyv: Keyv,
    private readonly ownsKeyv: boolean,
    private readonly configured: CatalogChannel[],
    private readonly pool: WorkerPool | undefined,
    log: ((line: string) => void) | undefined,
    refreshMs: number,
  ) {
    this.log = log ?? (() => undefined);
    keyv.on('error', this.onStoreError);
    const life = this.life.signal;
    this.states = new ChannelStates(store, pool, this.log, life);
    this.instances = new InstanceSync(this.states, store, this.log, life, refreshMs);
    this.indexer = new Indexer(this.states, this.instances, () => this.requirePool(), this.log, life);
    const ids = configured.map((c) => c.id);
    this.follower = new Follower(this.states, this.indexer, this.instances, ids, this.log, life);
  }

  private readonly onStoreError = (err: unknown): void => {
    this.log(`catalog store: ${err instanceof Error ? err.message : String(err)}`);
  };

  /** Opens the store; nothing is asked of Telegram. */
  static async open(options: CatalogOptions): Promise<Catalog> {
    let keyv: Keyv;
    let shared = true;
    if (typeof options.store === 'string') {
      const opened = await openKeyvStore(options.store, CATALOG_NAMESPACE, { log: options.log });
      keyv = opened.keyv;
      shared = opened.shared;
    } else keyv = options.store;
    const channels = options.channels.map((c) => ({ id: c.id, name: c.name }));
    const refreshMs = options.refreshMs ?? (shared ? REFRESH_MS : 0);
    return new Catalog(new CatalogStore(keyv), keyv, typeof options.store === 'string', channels, options.pool, options.log, refreshMs);
  }

  // ---- CatalogReader -------------------------------------------------------------------------

  channels(): CatalogChannel[] {
    return this.configured.map((c) => ({ ...c }));
  }

  async files(channel: number): Promise<CatalogFile[]> {
    if (!this.isConfigured(channel)) return [];
    const st = await this.states.get(channel);
    st.sorted ??= [...st.files.values()].sort((a, b) => a.msgId - b.msgId);
    return st.sorted.slice();
  }

  async file(channel: number, msgId: number): Promise<CatalogFile | undefined> {
    if (!this.isConfigured(channel)) return undefined;
    return (await this.states.get(channel)).files.get(msgId);
  }

  onChange(listener: (channel: number) => void): () => void {
    return this.states.onChange(listener);
  }

  // ---- indexing and following ----------------------------------------------------------------

  /**
   * Brings a channel up to date: finishes a walk that was cut short, then asks
   * getChannelDifference from the stored pts and applies what it says (walking new ids after a
   * channelDifferenceTooLong). A second run on an indexed channel costs one call.
   */
  index(channel: number, options: IndexOptions = {}): Promise<IndexResult> {
    this.requireChannel(channel);
    return this.states.enqueue(channel, () => this.indexer.sync(channel, options));
  }

  /**
   * Keeps the catalog current from pushed updates on every worker (workers the pool starts
   * later are picked up too). Returns a function that stops following. Idempotent.
   */
  follow(): () => void {
    this.follower.start(this.requirePool());
    return () => this.follower.stop();
  }

  /** Stops following, waits for work in progress, closes the store (unless it was given open). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.follower.stop();
      this.instances.stop();
      this.life.abort(new TgvfsError('CATALOG_CLOSED', 'the catalog is closed'));
      await this.states.idle();
      this.keyv.off('error', this.onStoreError);
      if (this.ownsKeyv) await this.keyv.disconnect();
    })();
    return this.closing;
  }

  private isConfigured(channel: number): boolean {
    return this.configured.some((c) => c.id === channel);
  }

  private requireChannel(channel: number): void {
    if (!this.isConfigured(channel)) throw new TgvfsError('CHANNEL_NOT_CONFIGURED', `channel ${channel} is not in the configuration`, { channel });
  }

  private requirePool(): WorkerPool {
    if (!this.pool) throw new TgvfsError('NO_POOL', 'the catalog was opened without a worker pool: it can list, not index or follow');
    return this.pool;
  }
}
