// The catalog: every file of every configured channel, kept in keyv (store.ts) and in memory,
// filled the way a bot can (bots get BOT_METHOD_INVALID for messages.getHistory):
//   1. updates.getChannelDifference from the stored pts (1 the first time). Telegram answers
//      channelDifferenceTooLong when that is too far back: its dialog has the newest message id
//      (top_message) and the pts to follow from.
//   2. channels.getMessages over explicit ids, 100 per call, from the last id walked to the top,
//      spread over the pool's workers (a FLOOD_WAIT moves a call to another worker); deleted ids
//      come back as messageEmpty, so long runs of them cost nothing special.
//   3. Pushed updates (updateNewChannelMessage, updateDeleteChannelMessages, …) keep it current;
//      every worker receives each one, so they are applied once, by pts. A pts gap, a too-long
//      notice or a reconnect means asking getChannelDifference from the stored pts.
// Each document a worker fetches is also stored as that worker's DocInfo in the metadata cache,
// so that streams need no channels.getMessages for it. Listing never calls Telegram.
//
// Several instances may share one store (`redis://`, or a sqlite file): what one saves, the
// others adopt without asking Telegram. Each save stamps the channel's record with a new `rev`;
// every instance reads that one small key every `refreshMs` (and before applying anything), and
// when another instance saved since, reloads the channel's pages from the store. Polling one key
// per channel works with any keyv store and needs no redis configuration (keyspace events are
// off by default and often not allowed on managed redis); a pub/sub channel would be quicker but
// redis-only and one more connection to keep alive. A store that lost what we hold (a redis
// restarted empty) or fell behind is written back from memory. Writers do not lock: two
// instances applying different changes to one page at the same moment is last-writer-wins, and
// the next update or catch-up of either heals it.
import { randomBytes } from 'node:crypto';
import type { Keyv } from 'keyv';
import { Api } from 'telegram';
import { Raw } from 'telegram/events';
import { UpdateConnectionState } from 'telegram/network';
import type { ChannelConfig } from '../config/schema';
import { raceWithSignal, throwIfAborted } from '../util/abort';
import { docInfoFromMessage, type DocInfo } from '../telegram/doc-info';
import { ChannelInaccessibleError, TelegramRpcError, WorkerStoppedError } from '../telegram/errors';
import { toTgvfsError } from '../telegram/gramjs/translate-error';
import { TgvfsError, type ErrorContext } from '../util/errors';
import { openKeyvStore } from '../telegram/metadata-cache';
import { botApiChannelId } from '../util/channel-id';
import { tlMethodName } from '../util/tl-names';
import type { Worker } from '../telegram/worker';
import type { WorkerPool } from '../telegram/worker-pool';
import { CATALOG_NAMESPACE, CatalogStore, PAGE_IDS, notBehind, pageOf, sameRecord, type ChannelRecord } from './store';
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

export interface IndexProgress {
  channel: number;
  /** Ids read so far in this run, of `total`. */
  done: number;
  total: number;
  /** Files the channel has now. */
  files: number;
}

export interface IndexOptions {
  onProgress?: (p: IndexProgress) => void;
  signal?: AbortSignal;
}

export interface IndexResult {
  channel: number;
  files: number;
  /** The channel's pts the catalog now follows from. */
  pts: number;
  /** Highest message id read. */
  walked: number;
  /** channels.getMessages calls this run made. */
  getMessagesCalls: number;
}

/** Ids per channels.getMessages call (Telegram's limit). */
const IDS_PER_CALL = 100;
/** Events asked per getChannelDifference. */
const DIFFERENCE_LIMIT = 100;
/** Differences in a row before giving up on catching up in one go (each holds up to 100 events). */
const MAX_DIFFERENCE_ROUNDS = 1000;
/** How often `follow` looks for workers the pool (re)started. */
const ATTACH_EVERY_MS = 5000;
/** A catch-up that failed is tried again after this long. */
const RETRY_MS = 5000;
/** Default of CatalogOptions.refreshMs. */
const REFRESH_MS = 2000;

interface ChannelState {
  record: ChannelRecord;
  files: Map<number, CatalogFile>;
  sorted: CatalogFile[] | null;
  /** Pages changed since the last save. */
  dirty: Set<number>;
}

/** One change a pushed update or a difference carries. */
type Change =
  | { kind: 'upsert'; msg: Api.TypeMessage }
  | { kind: 'delete'; ids: number[] };

export class Catalog implements CatalogReader {
  private readonly states = new Map<number, Promise<ChannelState>>();
  /** Serial work per channel: indexing, updates and catch-ups never interleave. */
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly catchUps = new Set<number>();
  /** DocInfo writes not yet finished (awaited before a round is saved, and by close). */
  private readonly docWrites = new Set<Promise<void>>();
  /** Workers whose connection dropped and has not come back yet. */
  private readonly down = new WeakSet<Worker>();
  private readonly listeners = new Set<(channel: number) => void>();
  private readonly log: (line: string) => void;
  private readonly life = new AbortController();
  private following: { stop(): void } | null = null;
  private closing: Promise<void> | undefined;
  /** This instance's part of every `rev` it writes, and how many saves it made. */
  private readonly instance = randomBytes(6).toString('hex');
  private saves = 0;
  /** Channels with a refresh queued (the timer adds at most one each). */
  private readonly refreshing = new Set<number>();
  /** The last refresh failed (logged once until one succeeds again). */
  private refreshFailing = false;
  private refreshTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly store: CatalogStore,
    private readonly keyv: Keyv,
    private readonly ownsKeyv: boolean,
    private readonly configured: CatalogChannel[],
    private readonly pool: WorkerPool | undefined,
    log: ((line: string) => void) | undefined,
    refreshMs: number,
  ) {
    this.log = log ?? (() => undefined);
    keyv.on('error', this.onStoreError);
    if (refreshMs > 0) {
      this.refreshTimer = setInterval(() => this.refreshLoaded(), refreshMs);
      this.refreshTimer.unref();
    }
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
    const st = await this.state(channel);
    st.sorted ??= [...st.files.values()].sort((a, b) => a.msgId - b.msgId);
    return st.sorted.slice();
  }

  async file(channel: number, msgId: number): Promise<CatalogFile | undefined> {
    if (!this.isConfigured(channel)) return undefined;
    return (await this.state(channel)).files.get(msgId);
  }

  onChange(listener: (channel: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- indexing ------------------------------------------------------------------------------

  /**
   * Brings a channel up to date: finishes a walk that was cut short, then asks
   * getChannelDifference from the stored pts and applies what it says (walking new ids after a
   * channelDifferenceTooLong). A second run on an indexed channel costs one call.
   */
  index(channel: number, options: IndexOptions = {}): Promise<IndexResult> {
    this.requireChannel(channel);
    return this.enqueue(channel, () => this.sync(channel, options));
  }

  /**
   * Keeps the catalog current from pushed updates on every worker (workers the pool starts
   * later are picked up too). Returns a function that stops following. Idempotent.
   */
  follow(): () => void {
    const pool = this.requirePool();
    if (this.following) return () => this.stopFollowing();
    const attached = new Map<Worker, { handler: (u: unknown) => void; raw: Raw }>();
    const attach = (): void => {
      for (const w of pool.workers) {
        if (attached.has(w)) continue;
        // GramJS keeps the client on the event builder: one builder per client.
        const entry = { handler: (u: unknown): void => this.onUpdate(w, u), raw: new Raw({}) };
        w.client.addEventHandler(entry.handler, entry.raw);
        attached.set(w, entry);
      }
    };
    attach();
    const timer = setInterval(attach, ATTACH_EVERY_MS);
    timer.unref();
    this.following = {
      stop: () => {
        clearInterval(timer);
        for (const [w, { handler, raw }] of attached) w.client.removeEventHandler(handler, raw);
        attached.clear();
      },
    };
    return () => this.stopFollowing();
  }

  /** Stops following, waits for work in progress, closes the store (unless it was given open). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopFollowing();
      if (this.refreshTimer) clearInterval(this.refreshTimer);
      this.life.abort(new TgvfsError('CATALOG_CLOSED', 'the catalog is closed'));
      await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
      await this.flushDocWrites();
      this.keyv.off('error', this.onStoreError);
      if (this.ownsKeyv) await this.keyv.disconnect();
    })();
    return this.closing;
  }

  // ---- internals: state ----------------------------------------------------------------------

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

  private state(channel: number): Promise<ChannelState> {
    let st = this.states.get(channel);
    if (!st) {
      st = this.store.loadChannel(channel).then(({ record, files }) => ({
        record,
        files: new Map(files.map((f) => [f.msgId, Object.freeze(f)])),
        sorted: null,
        dirty: new Set<number>(),
      }));
      this.states.set(channel, st);
      st.catch(() => this.states.delete(channel));
    }
    return st;
  }

  private enqueue<T>(channel: number, task: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(channel) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => {
      throwIfAborted(this.life.signal);
      return task();
    });
    const tail = next.catch(() => undefined);
    this.queues.set(channel, tail);
    void tail.then(() => {
      if (this.queues.get(channel) === tail) this.queues.delete(channel);
    });
    return next;
  }

  private async save(channel: number, st: ChannelState): Promise<void> {
    // The worker DocInfos first: a saved walk position promises them.
    await this.flushDocWrites();
    const pages = new Map<number, CatalogFile[]>();
    for (const n of st.dirty) {
      const files: CatalogFile[] = [];
      for (let id = n * PAGE_IDS; id < (n + 1) * PAGE_IDS; id++) {
        const f = st.files.get(id);
        if (f) files.push(f);
      }
      pages.set(n, files);
      if (files.length) {
        if (!st.record.pages.includes(n)) st.record.pages.push(n);
      } else st.record.pages = st.record.pages.filter((p) => p !== n);
    }
    st.dirty.clear();
    st.record.rev = `${this.instance}:${++this.saves}`;
    try {
      await this.store.save(channel, st.record, pages);
    } catch (err) {
      // Memory stays right; the pages are written with the next save (or a refresh's write-back).
      for (const n of pages.keys()) st.dirty.add(n);
      throw err;
    }
  }

  // ---- internals: other instances sharing the store -------------------------------------------

  /** Queues a refresh of every channel this instance has loaded (the timer's tick). */
  private refreshLoaded(): void {
    if (this.life.signal.aborted) return;
    for (const channel of this.states.keys()) {
      if (this.refreshing.has(channel)) continue;
      this.refreshing.add(channel);
      this.enqueue(channel, async () => {
        this.refreshing.delete(channel);
        await this.refresh(channel, await this.state(channel));
        if (this.refreshFailing) this.log('catalog store: reachable again');
        this.refreshFailing = false;
      }).catch((err: unknown) => {
        this.refreshing.delete(channel);
        if (this.life.signal.aborted || this.refreshFailing) return;
        this.refreshFailing = true;
        this.log(`catalog store: cannot check for changes of other instances: ${(err as Error).message}; serving what is in memory`);
      });
    }
  }

  /** refresh, where a store that does not answer must not stop the work that follows. */
  private async tryRefresh(channel: number, st: ChannelState): Promise<void> {
    try {
      await this.refresh(channel, st);
    } catch (err) {
      if (this.refreshFailing) return;
      this.refreshFailing = true;
      this.log(`catalog store: cannot check for changes of other instances: ${(err as Error).message}; serving what is in memory`);
    }
  }

  /**
   * Brings memory and store in step (run in the channel's queue): when another instance saved
   * since we last did, adopt what it saved; when the store is behind what we hold (lost, or a
   * save failed), write ours back. One read when nothing changed.
   */
  private async refresh(channel: number, st: ChannelState): Promise<void> {
    const stored = await this.store.loadRecord(channel);
    if (stored && sameRecord(stored, st.record)) return;
    if (stored && notBehind(stored, st.record)) {
      const { record, files } = await this.store.loadChannel(channel);
      st.record = record;
      st.files = new Map(files.map((f) => [f.msgId, Object.freeze(f)]));
      st.sorted = null;
      st.dirty.clear();
      this.emit(channel);
      return;
    }
    if (st.record.pts === 0 && st.files.size === 0) return;
    for (const n of st.record.pages) st.dirty.add(n);
    this.log(`catalog: channel ${channel}: the store is behind this instance (${stored ? `pts ${stored.pts}` : 'nothing stored'}, here pts ${st.record.pts}); writing it back`);
    await this.save(channel, st);
  }

  private emit(channel: number): void {
    for (const l of [...this.listeners]) {
      try {
        l(channel);
      } catch (err) {
        this.log(`catalog: onChange listener failed: ${(err as Error).message}`);
      }
    }
  }

  /** Applies messages and deletions to the in-memory state (saved by the caller). True when files changed. */
  private apply(channel: number, st: ChannelState, worker: Worker | null, changes: Change[]): boolean {
    let changed = false;
    const gone: number[] = [];
    for (const c of changes) {
      if (c.kind === 'delete') {
        for (const id of c.ids) {
          if (!st.files.delete(id)) continue;
          st.dirty.add(pageOf(id));
          changed = true;
          gone.push(id);
        }
        continue;
      }
      const msg = c.msg;
      const doc = msg instanceof Api.Message ? this.docOf(channel, msg, worker) : undefined;
      const before = st.files.get(msg.id);
      if (!doc) {
        // messageEmpty (deleted), a service message or a post without a document: not a file.
        if (before) {
          st.files.delete(msg.id);
          st.dirty.add(pageOf(msg.id));
          changed = true;
          gone.push(msg.id);
        }
        continue;
      }
      if (worker) this.rememberDoc(worker, doc);
      if (before && before.docId === doc.id && before.size === doc.size && before.name === doc.name && before.date === doc.date) continue;
      // A document replaced by an edit: every other worker's DocInfo is stale.
      if (before) this.forgetDocs(channel, [msg.id], worker);
      st.files.set(msg.id, Object.freeze(catalogFile(doc)));
      st.dirty.add(pageOf(msg.id));
      changed = true;
    }
    if (gone.length) this.forgetDocs(channel, gone, null);
    if (changed) st.sorted = null;
    return changed;
  }

  private docOf(channel: number, msg: Api.Message, worker: Worker | null): DocInfo | undefined {
    try {
      return docInfoFromMessage(channel, msg, worker ? { worker: worker.id } : {});
    } catch {
      return undefined;
    }
  }

  /** Stores a worker's DocInfo (its own file reference) in the metadata cache; failures are logged. */
  private rememberDoc(worker: Worker, doc: DocInfo): void {
    const cache = this.pool?.cache;
    if (!cache) return;
    const write = cache.setDoc(worker.id, doc.channel, doc.msgId, doc).catch((err: Error) => this.log(`catalog: metadata cache write failed: ${err.message}`));
    this.docWrites.add(write);
    void write.then(() => this.docWrites.delete(write));
  }

  private async flushDocWrites(): Promise<void> {
    while (this.docWrites.size) await Promise.all([...this.docWrites]);
  }

  private forgetDocs(channel: number, ids: number[], except: Worker | null): void {
    for (const w of this.pool?.workers ?? []) {
      if (w === except) continue;
      for (const id of ids) void w.invalidateDoc(channel, id).catch(() => undefined);
    }
  }

  // ---- internals: talking to Telegram --------------------------------------------------------

  private async sync(channel: number, options: IndexOptions): Promise<IndexResult> {
    const pool = this.requirePool();
    const signal = anySignal(options.signal, this.life.signal);
    const st = await this.state(channel);
    // Another instance may have got further: start from there (no message is read twice).
    await this.tryRefresh(channel, st);
    const counter = { calls: 0 };
    // A walk that was cut short: finish it before following on from the stored pts.
    if (st.record.walked < st.record.target) await this.walk(channel, st, st.record.target, options, counter, signal);
    for (let round = 0; ; round++) {
      if (round >= MAX_DIFFERENCE_ROUNDS) throw new TgvfsError('CATALOG_BEHIND', `channel ${channel} is still behind after ${round} differences`, { channel });
      const { worker, diff } = await this.difference(pool, channel, st.record.pts, signal);
      if (diff instanceof Api.updates.ChannelDifferenceEmpty) {
        if (st.record.pts !== diff.pts) {
          st.record.pts = diff.pts;
          await this.save(channel, st);
        }
        break;
      }
      if (diff instanceof Api.updates.ChannelDifference) {
        const changes: Change[] = diff.newMessages.map((msg) => ({ kind: 'upsert', msg }));
        for (const u of diff.otherUpdates) changes.push(...changesOf(u));
        const changed = this.apply(channel, st, worker, changes);
        const newest = Math.max(0, ...diff.newMessages.map((m) => m.id));
        st.record.walked = Math.max(st.record.walked, newest);
        st.record.target = Math.max(st.record.target, st.record.walked);
        st.record.pts = diff.pts;
        await this.save(channel, st);
        if (changed) this.emit(channel);
        if (diff.final) break;
        continue;
      }
      // Too long: we cannot know what happened since our pts. Check what we have, walk what is new.
      const dialog = diff.dialog;
      const top = dialog instanceof Api.Dialog ? dialog.topMessage : 0;
      const pts = dialog instanceof Api.Dialog && dialog.pts !== undefined ? dialog.pts : 0;
      if (pts <= 0) throw new TgvfsError('CATALOG_NO_PTS', `getChannelDifference gave no pts for channel ${channel}`, { channel });
      if (st.files.size > 0) await this.recheck(channel, st, counter, signal);
      st.record.pts = pts;
      st.record.target = Math.max(st.record.target, top);
      await this.save(channel, st);
      await this.walk(channel, st, st.record.target, options, counter, signal);
      // Then once more from the new pts: anything posted during the walk.
    }
    return { channel, files: st.files.size, pts: st.record.pts, walked: st.record.walked, getMessagesCalls: counter.calls };
  }

  /** getChannelDifference from `pts` (1 when unknown); a pts the server refuses starts over. */
  private async difference(pool: WorkerPool, channel: number, pts: number, signal: AbortSignal): Promise<{ worker: Worker; diff: Api.updates.TypeChannelDifference }> {
    const ctx = { channel, what: 'updates.getChannelDifference' };
    return pool.run(ctx, async (w, s) => {
      const request = async (from: number): Promise<Api.updates.TypeChannelDifference> =>
        invoke(w, channel, (input) => new Api.updates.GetChannelDifference({
          channel: input, filter: new Api.ChannelMessagesFilterEmpty(), pts: Math.max(1, from), limit: DIFFERENCE_LIMIT, force: true,
        }), s);
      try {
        return { worker: w, diff: await request(pts) };
      } catch (err) {
        // Our pts is not one the server knows (e.g. a store from another server): start over.
        if (err instanceof TelegramRpcError && /^PERSISTENT_TIMESTAMP/.test(err.code) && pts > 1) {
          this.log(`catalog: channel ${channel}: the server refused pts ${pts} (${err.code}); reading the channel again`);
          return { worker: w, diff: await request(1) };
        }
        throw err;
      }
    }, signal);
  }

  /** One channels.getMessages call (at most 100 ids) on whichever worker the pool picks. */
  private async fetchIds(channel: number, ids: number[], counter: { calls: number }, signal: AbortSignal): Promise<{ worker: Worker; messages: Api.TypeMessage[] }> {
    counter.calls++;
    return this.requirePool().run({ channel, what: `channels.getMessages ${ids[0]}…${ids[ids.length - 1]}` }, async (w, s) => {
      const res = await invoke(w, channel, (input) => new Api.channels.GetMessages({ channel: input, id: ids.map((id) => new Api.InputMessageID({ id })) }), s);
      return { worker: w, messages: res instanceof Api.messages.MessagesNotModified ? [] : res.messages };
    }, signal);
  }

  /** Calls in flight at once while walking: two per usable worker. */
  private concurrency(): number {
    return Math.max(1, Math.min(16, (this.pool?.workers.length ?? 1) * 2));
  }

  /** Walks ids from `walked + 1` to `to`, saving after each round of concurrent calls. */
  private async walk(channel: number, st: ChannelState, to: number, options: IndexOptions, counter: { calls: number }, signal: AbortSignal): Promise<void> {
    const start = st.record.walked;
    const total = Math.max(0, to - start);
    options.onProgress?.({ channel, done: 0, total, files: st.files.size });
    while (st.record.walked < to) {
      const batches: number[][] = [];
      let next = st.record.walked + 1;
      while (next <= to && batches.length < this.concurrency()) {
        const end = Math.min(to, next + IDS_PER_CALL - 1);
        batches.push(range(next, end));
        next = end + 1;
      }
      const results = await Promise.all(batches.map((ids) => this.fetchIds(channel, ids, counter, signal)));
      let changed = false;
      results.forEach((r, i) => {
        const asked = new Set(batches[i]);
        // An id the answer left out is as good as deleted.
        const got = r.messages.filter((m) => asked.has(m.id));
        const missing = batches[i]!.filter((id) => !got.some((m) => m.id === id));
        if (this.apply(channel, st, r.worker, [...got.map((msg): Change => ({ kind: 'upsert', msg })), { kind: 'delete', ids: missing }])) changed = true;
      });
      st.record.walked = next - 1;
      await this.save(channel, st);
      if (changed) this.emit(channel);
      options.onProgress?.({ channel, done: st.record.walked - start, total, files: st.files.size });
    }
  }

  /** After a too-long gap: reads every known file's message again (deleted ones drop out). */
  private async recheck(channel: number, st: ChannelState, counter: { calls: number }, signal: AbortSignal): Promise<void> {
    const ids = [...st.files.keys()].sort((a, b) => a - b);
    const batches: number[][] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_CALL) batches.push(ids.slice(i, i + IDS_PER_CALL));
    for (let i = 0; i < batches.length; i += this.concurrency()) {
      const round = batches.slice(i, i + this.concurrency());
      const results = await Promise.all(round.map((b) => this.fetchIds(channel, b, counter, signal)));
      let changed = false;
      results.forEach((r, j) => {
        const got = r.messages.filter((m) => round[j]!.includes(m.id));
        const missing = round[j]!.filter((id) => !got.some((m) => m.id === id));
        if (this.apply(channel, st, r.worker, [...got.map((msg): Change => ({ kind: 'upsert', msg })), { kind: 'delete', ids: missing }])) changed = true;
      });
      await this.save(channel, st);
      if (changed) this.emit(channel);
    }
  }

  // ---- internals: pushed updates -------------------------------------------------------------

  private stopFollowing(): void {
    this.following?.stop();
    this.following = null;
  }

  private onUpdate(worker: Worker, u: unknown): void {
    if (u instanceof UpdateConnectionState) {
      // GramJS also says "connected" after every quiet ping; only a real drop matters. Connected
      // again after one: whatever was pushed meanwhile is lost, so ask for it.
      if (u.state !== UpdateConnectionState.connected) this.down.add(worker);
      else if (this.down.has(worker)) {
        this.down.delete(worker);
        for (const c of this.configured) this.catchUp(c.id);
      }
      return;
    }
    let channel: number | undefined;
    let pts = 0;
    let ptsCount = 0;
    let changes: Change[] = [];
    if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage) {
      const peer = u.message.peerId;
      if (!(peer instanceof Api.PeerChannel)) return;
      channel = botApiChannelId(peer.channelId);
      ({ pts, ptsCount } = u);
      changes = [{ kind: 'upsert', msg: u.message }];
    } else if (u instanceof Api.UpdateDeleteChannelMessages) {
      channel = botApiChannelId(u.channelId);
      ({ pts, ptsCount } = u);
      changes = [{ kind: 'delete', ids: u.messages }];
    } else if (u instanceof Api.UpdateChannelTooLong) {
      channel = botApiChannelId(u.channelId);
      if (this.isConfigured(channel)) this.catchUp(channel);
      return;
    } else return;
    if (!this.isConfigured(channel)) return;
    const ch = channel;
    this.enqueue(ch, () => this.applyPushed(ch, worker, pts, ptsCount, changes)).catch((err: unknown) => {
      if (!this.life.signal.aborted) this.log(`catalog: channel ${ch}: update not applied: ${(err as Error).message}`);
    });
  }

  private async applyPushed(channel: number, worker: Worker, pts: number, ptsCount: number, changes: Change[]): Promise<void> {
    const st = await this.state(channel);
    // Another instance receiving the same update may have saved it already.
    if (pts > st.record.pts) await this.tryRefresh(channel, st);
    // Not indexed yet: the first index reads everything anyway.
    if (st.record.pts === 0) return;
    if (pts <= st.record.pts) {
      // Already applied (every worker gets the same update): keep this worker's DocInfo.
      for (const c of changes) {
        if (c.kind !== 'upsert' || !(c.msg instanceof Api.Message)) continue;
        const doc = this.docOf(channel, c.msg, worker);
        if (doc && st.files.get(doc.msgId)?.docId === doc.id) this.rememberDoc(worker, doc);
      }
      return;
    }
    if (pts - ptsCount !== st.record.pts) {
      // A gap: something was missed. The difference from our pts fills it.
      await this.sync(channel, {});
      return;
    }
    const changed = this.apply(channel, st, worker, changes);
    for (const c of changes) if (c.kind === 'upsert') st.record.walked = Math.max(st.record.walked, c.msg.id);
    st.record.target = Math.max(st.record.target, st.record.walked);
    st.record.pts = pts;
    try {
      await this.save(channel, st);
    } catch (err) {
      // Served from memory meanwhile; a refresh writes it back once the store answers.
      this.log(`catalog: channel ${channel}: update kept in memory, not stored: ${(err as Error).message}`);
    }
    if (changed) this.emit(channel);
  }

  /** getChannelDifference from the stored pts, once per channel at a time; retried on failure. */
  private catchUp(channel: number): void {
    if (this.catchUps.has(channel) || this.life.signal.aborted) return;
    this.catchUps.add(channel);
    this.enqueue(channel, async () => {
      this.catchUps.delete(channel);
      const st = await this.state(channel);
      if (st.record.pts > 0) await this.sync(channel, {});
    }).catch((err: unknown) => {
      this.catchUps.delete(channel);
      if (this.life.signal.aborted) return;
      this.log(`catalog: channel ${channel}: catching up failed: ${(err as Error).message}; trying again in ${RETRY_MS / 1000} s`);
      setTimeout(() => {
        if (this.following) this.catchUp(channel);
      }, RETRY_MS).unref();
    });
  }
}

/** The changes an update found in a difference's other_updates carries. */
function changesOf(u: Api.TypeUpdate): Change[] {
  if (u instanceof Api.UpdateDeleteChannelMessages) return [{ kind: 'delete', ids: u.messages }];
  if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage) return [{ kind: 'upsert', msg: u.message }];
  return [];
}

function catalogFile(doc: DocInfo): CatalogFile {
  return {
    channel: doc.channel, msgId: doc.msgId, docId: doc.id, size: doc.size, mimeType: doc.mimeType, name: doc.name,
    date: doc.date, thumbs: doc.thumbs.map((t) => ({ type: t.type, w: t.w, h: t.h, size: t.size })),
  };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let id = from; id <= to; id++) out.push(id);
  return out;
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

/**
 * A channel request on one worker with its access hash, translated into tgvfs errors (FLOOD_WAIT
 * becomes FloodWaitError, so the pool moves the call). An access hash from an earlier run that
 * the server refuses is fetched again, once.
 */
async function invoke<R extends Api.AnyRequest>(
  w: Worker,
  channel: number,
  build: (input: Api.InputChannel) => R,
  signal: AbortSignal,
): Promise<R['__response']> {
  const ctx: ErrorContext = { channel, worker: w.id };
  for (let attempt = 0; ; attempt++) {
    if (w.stopped) throw new WorkerStoppedError(ctx);
    const input = await w.resolveChannel(channel, signal);
    const request = build(input);
    try {
      return await raceWithSignal(w.client.invoke(request), signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const e = toTgvfsError(err, { ...ctx, method: tlMethodName(request.className) });
      if (attempt === 0 && e instanceof ChannelInaccessibleError && e.reason === 'CHANNEL_INVALID') {
        w.forgetChannel(channel);
        continue;
      }
      throw e;
    }
  }
}
