// A pool of workers (one bot account each): concurrent start, load-aware round-robin that skips
// workers in FLOOD_WAIT, and failover of every call (a FLOOD_WAIT or a dropped connection moves
// the call to another worker at once; an expired file reference is refreshed and retried).
// Errors are typed (errors.ts) and classified in one place (`classify`), so that a FLOOD_WAIT is
// recognised whatever object GramJS threw.
//
// The pool is the stream engine's part source by shape (`getPart`, `capacity`: stream/types.ts
// PartSource) without importing stream/: app/ builds the engine over it.
//
// `run` is a loop of three steps until the call succeeds or its retry budget is spent:
//   acquire   a usable worker now, or after the shortest wait under the flood threshold
//   attempt   the call on that worker, under the call timeout
//   classify  (on failure, before the worker is released) what the failure says: give up
//             (fatal), or set the worker aside and try again
//
// Every timeout and delay of the pool:
//
//   name                default           when it runs out
//   ------------------  ----------------  --------------------------------------------------------
//   callTimeoutMs       20 s (option)     a call with no answer is aborted as a connection failure:
//                                         verdict 'down', the call moves to another worker
//   DOWN_MS             3 s               a worker whose connection failed (timeout, dropped socket,
//                                         no answer) is skipped this long while
//                                         GramJS reconnects in the background
//   (none)              -                 Telegram's "try again" (-503 Timeout, 500): the worker is
//                                         not set aside; only this call moves to another worker
//   RECHECK_MS          10 min            a bot that got CHANNEL_PRIVATE on a channel is not used
//                                         for that channel (only) this long (channel-removals.ts)
//   floodWaitThreshold  60 s (option)     the longest FLOOD_WAIT worth waiting for when every
//                                         worker waits; longer: FloodWaitTooLongError
//   restartDelayMs      5 s (option)      first wait before a worker that failed to start (for any
//                                         reason but a refused token) is started again; doubles
//                                         each time ...
//   MAX_RESTART_DELAY   5 min             ... up to this
//   login FLOOD_WAIT    N s (Telegram)    a login answered FLOOD_WAIT_N is tried again after N s
//                                         plus jitter (login-backoff.ts), with the same auth key
//   re-login            restartDelayMs    a worker whose auth key Telegram refuses (SESSION_REVOKED,
//                       + jitter          AUTH_KEY_DUPLICATED, AUTH_KEY_UNREGISTERED) is out of
//                                         rotation, its key dropped, and logs in once with a new
//                                         key after this; if that fails it stays out (`health()`)
//
// Retry budget of one call: max(8, 4 × workers) failed attempts (a "try again" answer is one). A
// FLOOD_WAIT (the worker is set aside; acquire gives up past the threshold) or a refused auth key
// (the worker logs in again) says nothing against the call itself: those attempts do not use up the budget (another client of the same bots can
// make every worker answer FLOOD_WAIT in turn), only a safety net of 10 × that many attempts.
//
// A call in flight when its connection drops is sent again by GramJS on the new connection, or
// fails as a connection failure ('down') when the DC cannot be reached again
// (gramjs/sender-requeue.ts): the pool needs no lost-call detection of its own.
import type { ChannelConfig, DcAddress } from '../config/schema';
import { raceWithSignal, throwIfAborted } from '../util/abort';
import { parseBotId } from './bot-token';
import type { DocInfo } from './doc-info';
import { fileLocation } from './doc-info';
import { docOfVersion } from './doc-version';
import { ChannelInaccessibleError, DEAD_AUTH_KEY, DeadAuthKeyError, FloodWaitError, FloodWaitTooLongError, InvalidTokenError, TelegramConnectionError, TelegramRpcError, TelegramServerError, WorkerStoppedError } from './errors';
import { ChannelRemovals } from './channel-removals';
import { TgvfsError, type ErrorContext } from '../util/errors';
import type { CallObserver, UpstreamCall } from './call-observer';
import { MetadataCache } from './metadata-cache';
import { fileKey } from '../util/media';
import { redactToken } from '../util/secrets';
import { loginFloodDelayMs, reloginDelayMs } from './login-backoff';
import { SessionStore } from './session-store';
import { Worker } from './worker';
import { SharedFlood } from './shared-flood';
import { SessionClaims } from './session-claims';

const DOWN_MS = 3000;
const MAX_RESTART_DELAY = 5 * 60_000;
/** Parts in flight per usable worker: one transferring while the next request travels. */
const PARTS_PER_WORKER = 2;

export interface WorkerPoolOptions {
  /** Bot tokens (the config file's `bots`); `tokens` is accepted too (DESIGN.md's library API). */
  bots?: string[];
  tokens?: string[];
  apiId: number;
  apiHash: string;
  sessionDir: string;
  /**
   * One GramJS StringSession per bot, in the order of `bots` ('' : log in). When set, worker i
   * starts from `sessions[i]` and no session file is read or written.
   */
  sessions?: string[];
  /** keyv URL or an open cache. @default `sqlite://<sessionDir>/cache.sqlite` */
  cache?: string | MetadataCache;
  telegram?: { dcs: DcAddress[]; rsaPublicKeys: string[] };
  /** `socks5://…`, `mtproxy://…` or `tg://proxy?…`, for every worker connection. */
  proxy?: string;
  /** Telegram's DCs at their IPv6 addresses. @default false */
  ipv6?: boolean;
  channels?: ChannelConfig[];
  /** Longest FLOOD_WAIT (seconds) worth waiting for when every worker is waiting. @default 60 */
  floodWaitThreshold?: number;
  /** A call that does not answer in this long moves to another worker. @default 20000 */
  callTimeoutMs?: number;
  /** First delay before a worker that failed to start is tried again (doubles, up to 5 min). @default 5000 */
  restartDelayMs?: number;
  /** Longest time a FLOOD_WAIT another instance wrote to the shared `cache` may go unseen (shared-flood.ts). @default 250 */
  sharedFloodRefreshMs?: number;
  /** Hears of every upstream request of every worker, from the first login on (metrics). */
  observer?: CallObserver;
  log?: (line: string) => void;
  /** @internal Tests only: the timer of login retries (a manual clock steps through login FLOOD_WAITs). @default setTimeout */
  loginTimer?: { sleep(ms: number): Promise<void> };
  /** @internal Tests only: the local address every connection is made from (AUTH_KEY_DUPLICATED tests). */
  localAddress?: string;
}

/** One worker as /healthz shows it. */
export interface WorkerHealth {
  bot: number;
  state: 'ready' | 'flood-wait' | 'down' | 'logging-in' | 'out';
  /** Why it is not ready (the last error; for `out`, why it stays out of rotation). */
  reason?: string;
}

/** What `create` hands to the constructor (of WorkerPool or a subclass). */
export interface PoolInit<O extends WorkerPoolOptions = WorkerPoolOptions> {
  options: O;
  tokens: string[];
  cache: MetadataCache;
}

/** Every worker failed to start; `reasons` has one redacted line per bot. */
export class PoolStartError extends TgvfsError {
  /** `causes[i]`: the error of bot i (in the order of `bots`), for callers that explain it. */
  constructor(readonly reasons: string[], readonly causes: unknown[] = []) {
    super('POOL_START', `no worker could start:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
  }
}

/** A file as the stream engine sees it (a stream/ FileRef: cache key and size), plus where it lives. */
export interface PoolFile {
  key: string;
  size: number;
  channel: number;
  msgId: number;
  /** The document `key` names: parts of any other are refused (an edit must not mix bytes). */
  docId?: string;
}

interface Slot {
  readonly botId: number;
  readonly token: string;
  /** From `sessions` (then replaced by a kept or dropped key); undefined: the session file. */
  session: string | undefined;
  worker: Worker | null;
  inFlight: number;
  /** Epoch ms until which the worker is in FLOOD_WAIT. */
  floodUntil: number;
  /** Epoch ms until which the worker is set aside after a connection failure. */
  downUntil: number;
  starting: Promise<void> | null;
  lastError: string | null;
  lastCause: unknown;
  restartDelay: number;
  restartTimer: NodeJS.Timeout | null;
  /** Why the worker is logging in again with a new key (its one attempt), or null. */
  relogin: string | null;
  /** Why the worker stays out of rotation (its new login failed), or null. */
  out: string | null;
  /** The refused worker being stopped and its key dropped. */
  retiring: Promise<void> | null;
}

/** What to do after a failed start. */
type AfterStart = 'again' | 'later' | 'stop';

type Verdict =
  | { kind: 'flood'; seconds: number }
  | { kind: 'down' }
  | { kind: 'stale-ref' }
  /** This account cannot do it (e.g. not a member of the channel); another one may. */
  | { kind: 'elsewhere' }
  /** Telegram said "try again" (-503 Timeout, 500): this call moves on, the worker is fine. */
  | { kind: 'transient' }
  /** Telegram refuses the worker's auth key: log in again with a new one. */
  | { kind: 'relogin'; reason: string }
  | { kind: 'fatal' };

function classify(err: unknown): Verdict {
  if (err instanceof FloodWaitError) return { kind: 'flood', seconds: err.waitSeconds };
  if (err instanceof ChannelInaccessibleError) return { kind: 'elsewhere' };
  if (err instanceof DeadAuthKeyError) return { kind: 'relogin', reason: err.reason };
  if (err instanceof TelegramServerError) return { kind: 'transient' };
  if (err instanceof TelegramConnectionError || err instanceof WorkerStoppedError) return { kind: 'down' };
  if (err instanceof TelegramRpcError) {
    if (err.code === 'FILE_REFERENCE_EXPIRED' || err.code === 'FILE_REFERENCE_INVALID') return { kind: 'stale-ref' };
    if (DEAD_AUTH_KEY.has(err.code)) return { kind: 'relogin', reason: err.code };
  }
  return { kind: 'fatal' };
}

/** What one call has used of its retries (see the budget at the top of the file). */
class RetryBudget {
  private readonly max: number;
  private attempts = 0;
  private spent = 0;
  lastError: unknown = null;
  /** Workers that said they cannot do this call (verdict 'elsewhere'). */
  readonly cannot = new Set<Slot>();
  /** Workers whose Telegram said "try again" to this call: others are tried first. */
  readonly avoid = new Set<Slot>();

  constructor(workers: number) {
    this.max = Math.max(8, workers * 4);
  }

  /** Another attempt may start. */
  left(): boolean {
    return this.spent < this.max && this.attempts < this.max * 10;
  }

  /** Books a failed attempt: only failures that say something against the call use up the budget. */
  charge(slot: Slot, verdict: Verdict, err: unknown): void {
    this.attempts++;
    this.lastError = err;
    if (verdict.kind !== 'flood' && verdict.kind !== 'relogin') this.spent++;
    if (verdict.kind === 'elsewhere') this.cannot.add(slot);
    if (verdict.kind === 'transient') this.avoid.add(slot);
  }

  exhausted(ctx: ErrorContext & { what: string }): TgvfsError {
    const why = String((this.lastError as Error)?.message ?? this.lastError);
    return new TgvfsError('RETRIES_EXHAUSTED', `${ctx.what} failed on every worker after ${this.spent} failed attempts: ${why}`, ctx, { cause: this.lastError });
  }
}

/** The function `run` calls: a worker and the call's signal. */
type CallFn<T> = (w: Worker, signal: AbortSignal) => Promise<T>;
type Outcome<T> = { ok: true; value: T } | { ok: false };

export class WorkerPool {
  private readonly options: WorkerPoolOptions;
  readonly cache: MetadataCache;
  private readonly slots: Slot[];
  private readonly log: (line: string) => void;
  private readonly threshold: number;
  private readonly callTimeoutMs: number;
  private cursor = 0;
  private closed = false;
  /** Wakes callers waiting for a worker to become usable. */
  private waiters = new Set<() => void>();
  private readonly observers = new Set<CallObserver>();
  /** FLOOD_WAITs shared with other instances of the same bots through the cache. */
  private readonly flood: SharedFlood;
  /** Login FLOOD_WAITs, shared the same way: a bot another instance was told to wait is not logged in meanwhile. */
  private readonly loginFlood: SharedFlood;
  /** Login FLOOD_WAIT ends this instance was told itself (it waits those out in `later`). */
  private readonly ownLoginFloods = new Map<number, number>();
  /** Notices another instance presenting the same auth key (session-claims.ts). */
  private readonly claims: SessionClaims;
  private readonly removals = new ChannelRemovals();

  /** @internal Made by `create`, which opens the cache and starts the workers. */
  constructor(init: PoolInit) {
    const { options, tokens, cache } = init;
    this.options = options;
    this.cache = cache;
    this.log = options.log ?? (() => undefined);
    this.threshold = options.floodWaitThreshold ?? 60;
    this.callTimeoutMs = options.callTimeoutMs ?? 20_000;
    if (options.observer) this.observers.add(options.observer);
    this.slots = tokens.map((token, i) => ({
      botId: safeBotId(token), token, session: options.sessions?.[i], worker: null, inFlight: 0, floodUntil: 0, downUntil: 0, starting: null,
      lastError: null, lastCause: undefined, restartDelay: options.restartDelayMs ?? 5000, restartTimer: null,
      relogin: null, out: null, retiring: null,
    }));
    this.flood = new SharedFlood(cache, this.slots.map((s) => s.botId), { refreshMs: options.sharedFloodRefreshMs, log: this.log });
    this.loginFlood = new SharedFlood(cache, this.slots.map((s) => s.botId), { prefix: 'login-flood', refreshMs: options.sharedFloodRefreshMs, log: this.log });
    this.claims = new SessionClaims(cache, { log: this.log });
  }

  /**
   * Starts every worker at once; fails only if all fail, saying why for each (tokens redacted).
   * Called on a subclass, makes an instance of it (`StreamingPool.create(…)`).
   */
  static async create<P extends WorkerPool, O extends WorkerPoolOptions>(this: new (init: PoolInit<O>) => P, options: O): Promise<P> {
    const tokens = options.bots ?? options.tokens ?? [];
    if (tokens.length === 0) throw new TgvfsError('CONFIG', 'no bot tokens: give `bots` (or `tokens`) with at least one token');
    const cache = options.cache instanceof MetadataCache
      ? options.cache
      : await MetadataCache.open(options.cache ?? `sqlite://${options.sessionDir}/cache.sqlite`, options.log);
    const pool = new this({ options, tokens, cache });
    await pool.startAll();
    return pool;
  }

  /** Workers that are logged in now. */
  get workers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker] : []));
  }

  /** Round-robin over usable workers, preferring the fewest requests in flight; never blocks. */
  nextWorker(): Worker {
    const slot = this.pick(new Set()) ?? this.soonestBack();
    if (!slot?.worker) throw new TgvfsError('NO_WORKER', 'no worker is logged in');
    return slot.worker;
  }

  /**
   * Runs `fn` on a worker, moving to another on FLOOD_WAIT or a failed connection and
   * refreshing the document on an expired file reference; throws the first fatal error.
   */
  async run<T>(ctx: ErrorContext & { what: string }, fn: CallFn<T>, signal?: AbortSignal): Promise<T> {
    const budget = new RetryBudget(this.slots.length);
    while (budget.left()) {
      throwIfAborted(signal);
      const slot = await this.acquire(signal, ctx, budget);
      const outcome = await this.attempt(slot, ctx, fn, signal, budget);
      if (outcome.ok) {
        this.readmitted(slot, ctx.channel);
        return outcome.value;
      }
    }
    throw budget.exhausted(ctx);
  }

  /** The document of a message, as the next worker sees it (from its cache when known). */
  getDoc(channel: number, msgId: number, signal?: AbortSignal): Promise<DocInfo> {
    return this.run({ channel, msgId, what: 'getDoc' }, (w, s) => w.getDoc(channel, msgId, { signal: s }), signal);
  }

  /** The largest thumbnail of a message's document (NoThumbnailError when there is none). */
  getThumbnail(channel: number, msgId: number, signal?: AbortSignal): Promise<Buffer> {
    return this.run({ channel, msgId, what: 'getThumbnail' }, (w, s) => w.getThumbnail(channel, msgId, s), signal);
  }

  /**
   * Legal getFile part `offset`/`limit` of a message's document, from any healthy worker; of
   * document `docId` only, when given (FileChangedError once the message holds another).
   */
  fetchPart(channel: number, msgId: number, offset: number, limit: number, signal?: AbortSignal, docId?: string): Promise<Buffer> {
    return this.run({ channel, msgId, what: `upload.getFile ${offset}+${limit}` }, async (w, s) => {
      let doc = await docOfVersion(w, channel, msgId, docId, { signal: s });
      try {
        return await w.getFilePart(fileLocation(doc), offset, limit, { dcId: doc.dcId, signal: s });
      } catch (err) {
        if (classify(err).kind !== 'stale-ref') throw err;
        this.log(`worker ${w.id}: file reference of channel ${channel} message ${msgId} expired; fetching the message again`);
        doc = await docOfVersion(w, channel, msgId, docId, { signal: s, fresh: true });
        return w.getFilePart(fileLocation(doc), offset, limit, { dcId: doc.dcId, signal: s });
      }
    }, signal);
  }

  /** The engine's view of a message's document: cache key (document id included) and size. */
  async file(channel: number, msgId: number, signal?: AbortSignal): Promise<PoolFile> {
    const doc = await this.getDoc(channel, msgId, signal);
    return { key: fileKey(channel, msgId, doc.id), size: doc.size, channel, msgId, docId: doc.id };
  }

  // The stream engine's PartSource (stream/types.ts), by shape.

  /** Bytes `offset`…`offset+limit−1` of `file` (a legal getFile part), from any healthy worker. */
  getPart(file: PoolFile, offset: number, limit: number, signal: AbortSignal): Promise<Buffer> {
    return this.fetchPart(file.channel, file.msgId, offset, limit, signal, file.docId);
  }

  /** Parts worth having in flight: PARTS_PER_WORKER per usable worker (at least one worker's worth). */
  capacity(): number {
    const now = Date.now();
    return PARTS_PER_WORKER * Math.max(1, this.slots.filter((s) => this.usable(s, now)).length);
  }

  /** Bots not used for `channel` because it answered CHANNEL_PRIVATE (taken out of it), ascending. */
  removedBots(channel: number): number[] {
    return this.removals.botsOf(channel);
  }

  /** Adds an observer of every upstream request from now on; returns its removal. */
  addObserver(observer: CallObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) if (s.restartTimer) clearTimeout(s.restartTimer);
    await Promise.all(this.slots.map((s) => Promise.all([s.starting?.catch(() => undefined), s.retiring])));
    await Promise.all(this.slots.map((s) => s.worker?.stop().catch(() => undefined)));
    this.wake();
    await this.claims.release();
    if (!(this.options.cache instanceof MetadataCache)) await this.cache.close();
  }

  // ---- start and restart ---------------------------------------------------------------------

  /** Starts every worker; throws PoolStartError (after closing) when none could. */
  private async startAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.startSlot(s)));
    const ready = this.slots.filter((s) => s.worker);
    if (ready.length === 0) {
      await this.close();
      throw new PoolStartError(this.slots.map((s) => `${redactToken(s.token)}: ${s.lastError ?? 'unknown error'}`), this.slots.map((s) => s.lastCause));
    }
    this.log(`pool: ${ready.length} of ${this.slots.length} worker(s) ready`);
  }

  private startSlot(slot: Slot): Promise<void> {
    slot.starting ??= this.runStart(slot).finally(() => {
      slot.starting = null;
    });
    return slot.starting;
  }

  /** Starts the slot's worker; a saved key Telegram refuses is dropped and one new login made at once. */
  private async runStart(slot: Slot): Promise<void> {
    for (;;) {
      if (await this.heldByLoginFloodElsewhere(slot)) return;
      try {
        slot.worker = await Worker.start({
          token: slot.token, apiId: this.options.apiId, apiHash: this.options.apiHash, sessionDir: this.options.sessionDir,
          session: slot.session, telegram: this.options.telegram, proxy: this.options.proxy, ipv6: this.options.ipv6, cache: this.cache, log: this.log,
          onCall: (e) => this.reportCall(e), localAddress: this.options.localAddress,
          onKeptSession: (kept) => {
            if (slot.session !== undefined) slot.session = kept;
          },
        });
        const worker = slot.worker;
        await this.claims.claim(slot.botId, () => worker.authKeyFingerprint);
        this.started(slot);
        return;
      } catch (err) {
        slot.lastError = (err as Error).message;
        slot.lastCause = err;
        this.log(`worker ${slot.botId}: could not start: ${slot.lastError}`);
        if (this.closed || (await this.afterFailedStart(slot, err)) !== 'again') return;
      }
    }
  }

  private started(slot: Slot): void {
    slot.lastError = null;
    slot.out = null;
    if (slot.relogin) this.log(`worker ${slot.botId}: logged in again with a new auth key after ${slot.relogin}; back in rotation`);
    slot.relogin = null;
    this.wake();
  }

  /**
   * Whether another instance was told a login FLOOD_WAIT for this bot that is not over: then the
   * login is put off until it is (plus jitter), since logging in meanwhile would make it longer.
   */
  private async heldByLoginFloodElsewhere(slot: Slot): Promise<boolean> {
    await this.loginFlood.fresh();
    const until = this.loginFlood.until(slot.botId);
    if (until === 0 || until === this.ownLoginFloods.get(slot.botId)) return false;
    const seconds = Math.ceil((until - Date.now()) / 1000);
    const ms = loginFloodDelayMs(seconds);
    slot.lastError = `login FLOOD_WAIT of ${seconds} s more, told to another instance`;
    this.log(`worker ${slot.botId}: another instance was told a login FLOOD_WAIT for this bot; not logging in for ${(ms / 1000).toFixed(1)} s`);
    this.later(slot, ms);
    return true;
  }

  /**
   * A login FLOOD_WAIT is waited out (same key); a refused key is dropped for one new login;
   * a failed new login leaves the worker out; a refused token stops; anything else (network,
   * DC) is tried again later, with a doubling delay.
   */
  private async afterFailedStart(slot: Slot, err: unknown): Promise<AfterStart> {
    if (err instanceof FloodWaitError) {
      const end = Date.now() + err.waitSeconds * 1000;
      this.ownLoginFloods.set(slot.botId, end);
      this.loginFlood.publish(slot.botId, end);
      await this.loginFlood.settled();
      const ms = loginFloodDelayMs(err.waitSeconds);
      this.log(`worker ${slot.botId}: login FLOOD_WAIT of ${err.waitSeconds} s; keeping its auth key, logging in again in ${(ms / 1000).toFixed(1)} s`);
      this.later(slot, ms);
      return 'later';
    }
    if (slot.relogin !== null) {
      slot.out = `logging in again after ${slot.relogin} failed: ${errorText(err)}`;
      this.log(`worker ${slot.botId}: ${slot.out}; stays out of rotation`);
      return 'stop';
    }
    if (err instanceof DeadAuthKeyError) {
      slot.relogin = err.reason;
      await this.dropKey(slot);
      this.log(`worker ${slot.botId}: saved auth key refused (${err.reason}); dropped it, logging in once with a new key`);
      return 'again';
    }
    if (!(err instanceof InvalidTokenError)) this.scheduleRestart(slot);
    return 'stop';
  }

  /**
   * Telegram refuses `worker`'s auth key: out of rotation at once, stopped, its key dropped (never
   * reused), and one new login after the restart delay plus jitter.
   */
  private relogin(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker || this.closed) return;
    slot.worker = null;
    slot.relogin = reason;
    const delay = reloginDelayMs(slot.restartDelay);
    this.log(`worker ${slot.botId}: Telegram refuses its auth key (${reason}); out of rotation, logging in again once with a new key in ${delay} ms`);
    slot.retiring = (async () => {
      await worker.stop().catch(() => undefined);
      await this.dropKey(slot);
    })().finally(() => {
      slot.retiring = null;
    });
    void slot.retiring.then(() => this.later(slot, delay));
  }

  /** Forgets the slot's auth key: the session string or the session file. */
  private async dropKey(slot: Slot): Promise<void> {
    if (slot.session !== undefined) slot.session = '';
    else await new SessionStore(this.options.sessionDir).remove(slot.botId).catch((err: Error) => this.log(`worker ${slot.botId}: cannot remove its session file: ${err.message}`));
  }

  private reportCall(e: UpstreamCall): void {
    for (const o of this.observers) o.onCall?.(e);
  }

  private scheduleRestart(slot: Slot): void {
    const delay = slot.restartDelay;
    slot.restartDelay = Math.min(MAX_RESTART_DELAY, delay * 2);
    this.later(slot, delay);
  }

  /** Starts the slot again in `ms` (on the login timer when a test gives one). */
  private later(slot: Slot, ms: number): void {
    if (this.closed) return;
    const timer = this.options.loginTimer;
    if (timer) {
      void timer.sleep(ms).then(() => {
        if (!this.closed) void this.startSlot(slot);
      });
      return;
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (!this.closed) void this.startSlot(slot);
    }, ms);
    slot.restartTimer.unref();
  }

  /** Each worker's state, for /healthz: ready, waiting, logging in, or out of rotation and why. */
  health(): WorkerHealth[] {
    const now = Date.now();
    return this.slots.map((s): WorkerHealth => {
      if (s.out !== null) return { bot: s.botId, state: 'out', reason: s.out };
      if (!s.worker || s.worker.stopped) {
        const reason = s.relogin !== null ? `new login after ${s.relogin}` : s.lastError;
        return { bot: s.botId, state: 'logging-in', ...(reason ? { reason } : {}) };
      }
      if (s.floodUntil > now) return { bot: s.botId, state: 'flood-wait', reason: `FLOOD_WAIT for ${Math.ceil((s.floodUntil - now) / 1000)} s` };
      if (s.downUntil > now) return { bot: s.botId, state: 'down', ...(s.lastError ? { reason: s.lastError } : {}) };
      return { bot: s.botId, state: 'ready' };
    });
  }

  // ---- acquire: which worker ----------------------------------------------------------------

  private usable(s: Slot, now: number): boolean {
    return s.worker !== null && !s.worker.stopped && s.floodUntil <= now && s.downUntil <= now;
  }

  private pick(exclude: Set<Slot>): Slot | null {
    const now = Date.now();
    let best: Slot | null = null;
    const n = this.slots.length;
    for (let i = 0; i < n; i++) {
      const s = this.slots[(this.cursor + i) % n]!;
      if (exclude.has(s) || !this.usable(s, now)) continue;
      if (!best || s.inFlight < best.inFlight) best = s;
    }
    if (best) this.cursor = (this.slots.indexOf(best) + 1) % n;
    return best;
  }

  private soonestBack(exclude: Set<Slot> = new Set()): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (!s.worker || s.worker.stopped || exclude.has(s)) continue;
      if (!best || Math.max(s.floodUntil, s.downUntil) < Math.max(best.floodUntil, best.downUntil)) best = s;
    }
    return best;
  }

  /** A usable worker now, or after the shortest wait under the threshold; else FloodWaitTooLongError. */
  private async acquire(signal: AbortSignal | undefined, ctx: ErrorContext, budget: RetryBudget): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new TgvfsError('POOL_CLOSED', 'the worker pool is closed', ctx);
      const cannot = this.cannotDo(budget.cannot, ctx.channel);
      // Every logged-in worker said it cannot (e.g. none is a member of the channel): say why.
      if (cannot.size > 0 && this.slots.every((s) => !s.worker || cannot.has(s))) {
        throw budget.lastError ?? new ChannelInaccessibleError('CHANNEL_PRIVATE (every bot was removed from the channel)', ctx);
      }
      await this.adoptSharedFloods();
      throwIfAborted(signal); // the caller may have gone while the store answered
      // A worker whose Telegram said "try again" to this call comes last, not never.
      const slot = (budget.avoid.size > 0 ? this.pick(new Set([...cannot, ...budget.avoid])) : null) ?? this.pick(cannot);
      if (slot) return slot;
      const back = this.soonestBack(cannot);
      if (!back) {
        // A worker logging in again with a new key will be back: wait for it rather than fail.
        if (this.slots.some((s) => s.relogin !== null && s.out === null)) {
          await this.waitForChange(1000, signal);
          continue;
        }
        throw new TgvfsError('NO_WORKER', 'no worker is logged in', ctx);
      }
      const waitMs = Math.max(back.floodUntil, back.downUntil) - Date.now();
      if (back.floodUntil > Date.now() && waitMs > this.threshold * 1000) {
        throw new FloodWaitTooLongError(Math.ceil(waitMs / 1000), back.botId, ctx);
      }
      await this.waitForChange(Math.max(1, waitMs), signal);
    }
  }

  /** Workers not to use for this call: those that said they cannot, and those removed from its channel. */
  private cannotDo(cannot: Set<Slot>, channel: number | undefined): Set<Slot> {
    if (channel === undefined) return cannot;
    const now = Date.now();
    const removed = this.slots.filter((s) => this.removals.isRemoved(s.botId, channel, now));
    return removed.length === 0 ? cannot : new Set([...cannot, ...removed]);
  }

  /** Skips bots that another instance saw in FLOOD_WAIT (shared-flood.ts), until their wait ends. */
  private async adoptSharedFloods(): Promise<void> {
    await this.flood.fresh();
    for (const s of this.slots) {
      const until = this.flood.until(s.botId);
      if (until <= s.floodUntil) continue;
      s.floodUntil = until;
      this.log(`worker ${s.botId}: in FLOOD_WAIT for ${Math.ceil((until - Date.now()) / 1000)} s more, as another instance was told; skipped until then`);
    }
  }

  private waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(signal!.reason);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  // ---- attempt: one call on one worker ------------------------------------------------------

  /**
   * `fn` on `slot`'s worker under the call timeout. A failure
   * is classified before the worker is released (so that callers woken by the release already see
   * it set aside); only the caller's abort and fatal errors are thrown.
   */
  private async attempt<T>(slot: Slot, ctx: ErrorContext & { what: string }, fn: CallFn<T>, signal: AbortSignal | undefined, budget: RetryBudget): Promise<Outcome<T>> {
    const worker = slot.worker!;
    slot.inFlight++;
    const call = this.callSignal(ctx, worker.id, signal);
    try {
      const value = await raceWithSignal(fn(worker, call.signal), call.signal);
      return { ok: true, value };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.classifyFailure(slot, error, budget, ctx, worker);
      await this.flood.settled(); // other instances know of a FLOOD_WAIT before this one moves on
      return { ok: false };
    } finally {
      call.dispose();
      slot.inFlight--;
      this.wake();
    }
  }

  /** The call's own controller: aborted with the caller's signal, or after callTimeoutMs as a connection failure. */
  private callSignal(ctx: ErrorContext & { what: string }, worker: number, signal: AbortSignal | undefined): AbortController & { dispose(): void } {
    const call = new AbortController();
    const onAbort = (): void => call.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => call.abort(new TelegramConnectionError(`${ctx.what} got no answer in ${this.callTimeoutMs} ms`, { ...ctx, worker })), this.callTimeoutMs);
    return Object.assign(call, {
      dispose: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
    });
  }

  // ---- classify: what a failure says --------------------------------------------------------

  /** Throws a fatal error; otherwise books the attempt and sets the worker aside as the verdict says. */
  private classifyFailure(slot: Slot, err: unknown, budget: RetryBudget, ctx: ErrorContext & { what: string }, worker: Worker): void {
    const verdict = classify(err);
    if (verdict.kind === 'fatal') throw err;
    budget.charge(slot, verdict, err);
    if (verdict.kind === 'relogin') return this.relogin(slot, worker, verdict.reason);
    if (verdict.kind === 'elsewhere' && this.removedFrom(slot, err, ctx.channel)) return;
    this.setAside(slot, verdict, ctx, err);
  }

  /**
   * CHANNEL_PRIVATE on a call for a channel: the bot was taken out of it. It is not used for that
   * channel any more (other channels keep it), said once in the log and in /healthz.
   */
  private removedFrom(slot: Slot, err: unknown, channel: number | undefined): boolean {
    if (channel === undefined || !(err instanceof ChannelInaccessibleError) || err.reason !== 'CHANNEL_PRIVATE') return false;
    if (this.removals.mark(slot.botId, channel, Date.now())) {
      this.log(`worker ${slot.botId}: removed from channel ${channel} (CHANNEL_PRIVATE); no longer used for that channel, other bots serve it`);
    }
    return true;
  }

  /** A bot removed from `channel` answered for it again (re-checked after RECHECK_MS): use it again. */
  private readmitted(slot: Slot, channel: number | undefined): void {
    if (channel !== undefined && this.removals.clear(slot.botId, channel, Date.now())) {
      this.log(`worker ${slot.botId}: channel ${channel} answers again; using it for that channel again`);
    }
  }

  private setAside(slot: Slot, verdict: Verdict, ctx: ErrorContext & { what: string }, err: unknown): void {
    const where = `${ctx.what}${ctx.channel !== undefined ? ` (channel ${ctx.channel}, message ${ctx.msgId})` : ''}`;
    const why = (err as Error).message;
    switch (verdict.kind) {
      case 'flood':
        slot.floodUntil = Math.max(slot.floodUntil, Date.now() + verdict.seconds * 1000);
        this.flood.publish(slot.botId, slot.floodUntil);
        return this.log(`worker ${slot.botId}: FLOOD_WAIT ${verdict.seconds} s on ${where}; set aside, moving the call to another worker`);
      case 'down':
        slot.downUntil = Date.now() + DOWN_MS;
        return this.log(`worker ${slot.botId}: ${why}; set aside for ${DOWN_MS} ms (GramJS reconnects in the background), moving ${where} to another worker`);
      case 'elsewhere':
        return this.log(`worker ${slot.botId}: ${why}; trying ${where} on another worker`);
      case 'transient':
        return this.log(`worker ${slot.botId}: Telegram said try again (${why}); moving ${where} to another worker`);
      case 'stale-ref':
        return this.log(`worker ${slot.botId}: file reference still refused on ${where}; trying another worker`);
      case 'relogin':
      case 'fatal':
        return;
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeBotId(token: string): number {
  try {
    return parseBotId(token);
  } catch {
    return 0;
  }
}
