// A pool of workers (one bot account each): concurrent start, load-aware round-robin that skips
// workers in FLOOD_WAIT, and failover of every call (a FLOOD_WAIT or a dropped connection moves
// the call to another worker at once; an expired file reference is refreshed and retried).
// Errors are typed (errors.ts) and classified in one place (`classify`), so that a FLOOD_WAIT is
// recognised whatever object GramJS threw.
import type { Readable } from 'node:stream';
import type { ChannelConfig, DcAddress } from '../config/schema';
import { raceWithSignal, throwIfAborted } from '../util/abort';
import { parseBotId } from './bot-token';
import type { DocInfo } from './doc-info';
import { documentLocation } from './doc-info';
import { ChannelInaccessibleError, FloodWaitError, FloodWaitTooLongError, InvalidTokenError, TelegramConnectionError, TelegramRpcError, WorkerStoppedError } from './errors';
import { TgvfsError, type ErrorContext } from '../util/errors';
import type { CallObserver, UpstreamCall } from './call-observer';
import { MetadataCache } from './metadata-cache';
import { StreamEngine } from '../stream/stream-engine';
import type { FileRef, PartSource } from '../stream/types';
import { redactToken } from '../util/secrets';
import { Worker } from './worker';

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
  proxy?: string;
  channels?: ChannelConfig[];
  /** Longest FLOOD_WAIT (seconds) worth waiting for when every worker is waiting. @default 60 */
  floodWaitThreshold?: number;
  /** A call that does not answer in this long moves to another worker. @default 20000 */
  callTimeoutMs?: number;
  /** First delay before a worker that failed to start is tried again (doubles, up to 5 min). @default 5000 */
  restartDelayMs?: number;
  /** Block cache budget in bytes, shared by every stream. @default 64 MiB */
  cacheBytes?: number;
  /** Largest read-ahead window of a sequential reader, in 1 MiB blocks. @default 8 */
  readAheadBlocks?: number;
  /** Hears of every upstream request of every worker, from the first login on (metrics). */
  observer?: CallObserver;
  log?: (line: string) => void;
}

/** Every worker failed to start; `reasons` has one redacted line per bot. */
export class PoolStartError extends TgvfsError {
  /** `causes[i]`: the error of bot i (in the order of `bots`), for callers that explain it. */
  constructor(readonly reasons: string[], readonly causes: unknown[] = []) {
    super('POOL_START', `no worker could start:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
  }
}

interface Slot {
  readonly botId: number;
  readonly token: string;
  /** From `sessions`; undefined: the session file. */
  readonly session: string | undefined;
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
  /** getFile calls running on this worker (see PartCall). */
  parts: Set<PartCall>;
  partSeq: number;
  /** Moving average of this worker's successful getFile call times, ms (0: none yet). */
  partMs: number;
}

/**
 * A getFile call in flight, numbered in the order calls started on its worker. GramJS loses a
 * request invoked while its connection is being re-established (MTProtoSender._reconnect clears
 * the send queue; a batch dequeued meanwhile is dropped): the call never settles, and would stall
 * its stream until the call timeout (20 s). A call is presumed lost, and moved to another worker
 * at once, when LOST_AFTER later calls to the same DC on the same worker have been answered, or
 * when it takes STALL_FACTOR times the worker's usual part time (at least STALL_FLOOR_MS).
 */
interface PartCall {
  seq: number;
  /** The DC the part is asked from, once known: only calls to the same DC (one connection) count. */
  dc?: number;
  overtaken: number;
  lose: (why: string) => void;
}

/** Later calls answered on the same worker before a getFile call is presumed lost. */
const LOST_AFTER = 4;
const STALL_FACTOR = 10;
const STALL_FLOOR_MS = 5000;

/** A file as the stream engine sees it, plus where it lives. */
export interface PoolFile extends FileRef {
  channel: number;
  msgId: number;
}

/** Parts in flight per usable worker: one transferring while the next request travels. */
const PARTS_PER_WORKER = 2;

type Verdict =
  | { kind: 'flood'; seconds: number }
  | { kind: 'down' }
  | { kind: 'stale-ref' }
  /** This account cannot do it (e.g. not a member of the channel); another one may. */
  | { kind: 'elsewhere' }
  /** The call was presumed lost by GramJS (see PartCall): the worker itself is fine. */
  | { kind: 'lost' }
  | { kind: 'fatal' };

function classify(err: unknown): Verdict {
  if (err instanceof FloodWaitError) return { kind: 'flood', seconds: err.waitSeconds };
  if (err instanceof TgvfsError && err.code === 'PART_LOST') return { kind: 'lost' };
  if (err instanceof ChannelInaccessibleError) return { kind: 'elsewhere' };
  if (err instanceof TelegramConnectionError || err instanceof WorkerStoppedError) return { kind: 'down' };
  if (err instanceof TelegramRpcError) {
    if (err.code === 'FILE_REFERENCE_EXPIRED' || err.code === 'FILE_REFERENCE_INVALID') return { kind: 'stale-ref' };
    if (err.rpcCode === 500 || err.code === 'AUTH_KEY_UNREGISTERED') return { kind: 'down' };
  }
  return { kind: 'fatal' };
}

const DOWN_MS = 3000;
const MAX_RESTART_DELAY = 5 * 60_000;

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly log: (line: string) => void;
  private readonly threshold: number;
  private readonly callTimeoutMs: number;
  private cursor = 0;
  private closed = false;
  /** Wakes callers waiting for a worker to become usable. */
  private waiters = new Set<() => void>();
  private readonly observers = new Set<CallObserver>();
  /** The streaming engine behind `stream` (and the front-ends): read-ahead and block cache. */
  readonly engine: StreamEngine<PoolFile>;

  private constructor(
    private readonly options: WorkerPoolOptions,
    tokens: string[],
    readonly cache: MetadataCache,
  ) {
    this.log = options.log ?? (() => undefined);
    this.threshold = options.floodWaitThreshold ?? 60;
    this.callTimeoutMs = options.callTimeoutMs ?? 20_000;
    if (options.observer) this.observers.add(options.observer);
    this.slots = tokens.map((token, i) => ({
      botId: safeBotId(token), token, session: options.sessions?.[i], worker: null, inFlight: 0, floodUntil: 0, downUntil: 0, starting: null,
      lastError: null, lastCause: undefined, restartDelay: options.restartDelayMs ?? 5000, restartTimer: null,
      parts: new Set(), partSeq: 0, partMs: 0,
    }));
    const source: PartSource<PoolFile> = {
      getPart: (file, offset, limit, signal) => this.fetchPart(file.channel, file.msgId, offset, limit, signal),
      capacity: () => PARTS_PER_WORKER * Math.max(1, this.slots.filter((s) => this.usable(s, Date.now())).length),
    };
    this.engine = new StreamEngine(source, { cacheBytes: options.cacheBytes, maxReadAhead: options.readAheadBlocks });
  }

  /** Starts every worker at once; fails only if all fail, saying why for each (tokens redacted). */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const tokens = options.bots ?? options.tokens ?? [];
    if (tokens.length === 0) throw new TgvfsError('CONFIG', 'no bot tokens: give `bots` (or `tokens`) with at least one token');
    const cache = options.cache instanceof MetadataCache
      ? options.cache
      : await MetadataCache.open(options.cache ?? `sqlite://${options.sessionDir}/cache.sqlite`, options.log);
    const pool = new WorkerPool(options, tokens, cache);
    await Promise.all(pool.slots.map((s) => pool.startSlot(s)));
    const ready = pool.slots.filter((s) => s.worker);
    if (ready.length === 0) {
      await pool.close();
      throw new PoolStartError(pool.slots.map((s) => `${redactToken(s.token)}: ${s.lastError ?? 'unknown error'}`), pool.slots.map((s) => s.lastCause));
    }
    pool.log(`pool: ${ready.length} of ${pool.slots.length} worker(s) ready`);
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
  async run<T>(
    ctx: ErrorContext & { what: string },
    fn: (w: Worker, signal: AbortSignal, part?: { dc?: number }) => Promise<T>,
    signal?: AbortSignal,
    opts: { part?: boolean } = {},
  ): Promise<T> {
    const maxAttempts = Math.max(8, this.slots.length * 4);
    let lastError: unknown = null;
    const cannot = new Set<Slot>();
    // A FLOOD_WAIT (the worker is set aside; acquire() gives up past the threshold) or a call
    // lost in a reconnect says nothing against the call itself: such attempts do not use up the
    // budget (another client of the same bots can make every worker answer FLOOD_WAIT in turn,
    // which once failed reads in the faults suite), only a much larger safety net.
    let spent = 0;
    for (let attempt = 0; spent < maxAttempts && attempt < maxAttempts * 10; attempt++) {
      throwIfAborted(signal);
      const slot = await this.acquire(signal, ctx, cannot, lastError);
      const worker = slot.worker!;
      slot.inFlight++;
      const call = new AbortController();
      const onAbort = (): void => call.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => call.abort(new TelegramConnectionError(`${ctx.what} got no answer in ${this.callTimeoutMs} ms`, { ...ctx, worker: worker.id })), this.callTimeoutMs);
      const part: PartCall | null = opts.part ? {
        seq: ++slot.partSeq,
        overtaken: 0,
        lose: (why) => call.abort(new TgvfsError('PART_LOST', `${ctx.what} got no answer ${why}`, { ...ctx, worker: worker.id })),
      } : null;
      const started = Date.now();
      let stall: NodeJS.Timeout | null = null;
      if (part) {
        slot.parts.add(part);
        // Only once the worker has answered a part: a first call may wait for a new DC connection.
        if (slot.partMs > 0) {
          const ms = Math.max(STALL_FLOOR_MS, STALL_FACTOR * slot.partMs);
          stall = setTimeout(() => part.lose(`in ${ms} ms (${STALL_FACTOR} times this worker's usual)`), ms);
        }
      }
      try {
        const result = await raceWithSignal(fn(worker, call.signal, part ?? undefined), call.signal);
        if (part?.dc !== undefined) {
          const ms = Date.now() - started;
          slot.partMs = slot.partMs === 0 ? ms : 0.8 * slot.partMs + 0.2 * ms;
          for (const p of slot.parts) if (p.seq < part.seq && p.dc === part.dc && ++p.overtaken === LOST_AFTER) p.lose(`while ${LOST_AFTER} later calls did`);
        }
        return result;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const e = call.signal.aborted && err === call.signal.reason ? call.signal.reason : err;
        lastError = e;
        const verdict = classify(e);
        if (verdict.kind === 'fatal') throw e;
        if (verdict.kind !== 'flood' && verdict.kind !== 'lost') spent++;
        if (verdict.kind === 'elsewhere') cannot.add(slot);
        this.onFailure(slot, verdict, ctx, e);
      } finally {
        if (part) slot.parts.delete(part);
        if (stall) clearTimeout(stall);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        slot.inFlight--;
        this.wake();
      }
    }
    throw new TgvfsError('RETRIES_EXHAUSTED', `${ctx.what} failed on every worker after ${spent} failed attempts: ${String((lastError as Error)?.message ?? lastError)}`, ctx, { cause: lastError });
  }

  /** The document of a message, as the next worker sees it (from its cache when known). */
  getDoc(channel: number, msgId: number, signal?: AbortSignal): Promise<DocInfo> {
    return this.run({ channel, msgId, what: 'getDoc' }, (w, s) => w.getDoc(channel, msgId, { signal: s }), signal);
  }

  /** The largest thumbnail of a message's document (NoThumbnailError when there is none). */
  getThumbnail(channel: number, msgId: number, signal?: AbortSignal): Promise<Buffer> {
    return this.run({ channel, msgId, what: 'getThumbnail' }, (w, s) => w.getThumbnail(channel, msgId, s), signal);
  }

  /** Legal getFile part `offset`/`limit` of a message's document, from any healthy worker. */
  fetchPart(channel: number, msgId: number, offset: number, limit: number, signal?: AbortSignal): Promise<Buffer> {
    return this.run({ channel, msgId, what: `upload.getFile ${offset}+${limit}` }, async (w, s, part) => {
      let doc = await w.getDoc(channel, msgId, { signal: s });
      if (part) part.dc = doc.dcId;
      try {
        return await w.getFilePart(documentLocation(doc), offset, limit, { dcId: doc.dcId, signal: s });
      } catch (err) {
        if (classify(err).kind !== 'stale-ref') throw err;
        this.log(`worker ${w.id}: file reference of channel ${channel} message ${msgId} expired; fetching the message again`);
        doc = await w.getDoc(channel, msgId, { signal: s, fresh: true });
        return w.getFilePart(documentLocation(doc), offset, limit, { dcId: doc.dcId, signal: s });
      }
    }, signal, { part: true });
  }

  /** The engine's view of a message's document: cache key (document id included) and size. */
  async file(channel: number, msgId: number, signal?: AbortSignal): Promise<PoolFile> {
    const doc = await this.getDoc(channel, msgId, signal);
    return { key: `${channel}:${msgId}:${doc.id}`, size: doc.size, channel, msgId };
  }

  /** Bytes start..end (inclusive) of a message's document as a Readable; abort or destroy stops it. */
  stream(channel: number, msgId: number, start: number, end: number, options: { signal?: AbortSignal } = {}): Readable {
    const file = this.file(channel, msgId, options.signal);
    return this.engine.createReadStream(file, start, end, options);
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
    await Promise.all(this.slots.map((s) => s.starting?.catch(() => undefined)));
    await Promise.all(this.slots.map((s) => s.worker?.stop().catch(() => undefined)));
    this.wake();
    if (!(this.options.cache instanceof MetadataCache)) await this.cache.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  private startSlot(slot: Slot): Promise<void> {
    slot.starting ??= (async () => {
      try {
        slot.worker = await Worker.start({
          token: slot.token, apiId: this.options.apiId, apiHash: this.options.apiHash, sessionDir: this.options.sessionDir,
          session: slot.session, telegram: this.options.telegram, proxy: this.options.proxy, cache: this.cache, log: this.log,
          onCall: (e) => this.reportCall(e),
        });
        slot.lastError = null;
        this.wake();
      } catch (err) {
        slot.lastError = (err as Error).message;
        slot.lastCause = err;
        this.log(`worker ${slot.botId}: could not start: ${slot.lastError}`);
        // A refused token will not get better; anything else (network, DC) may.
        if (!(err instanceof InvalidTokenError) && !this.closed) this.scheduleRestart(slot);
      } finally {
        slot.starting = null;
      }
    })();
    return slot.starting;
  }

  private reportCall(e: UpstreamCall): void {
    for (const o of this.observers) o.onCall?.(e);
  }

  private scheduleRestart(slot: Slot): void {
    const delay = slot.restartDelay;
    slot.restartDelay = Math.min(MAX_RESTART_DELAY, delay * 2);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (!this.closed) void this.startSlot(slot);
    }, delay);
    slot.restartTimer.unref();
  }

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
  private async acquire(signal: AbortSignal | undefined, ctx: ErrorContext, cannot: Set<Slot> = new Set(), lastError: unknown = null): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new TgvfsError('POOL_CLOSED', 'the worker pool is closed', ctx);
      // Every logged-in worker said it cannot (e.g. none is a member of the channel): say why.
      if (cannot.size > 0 && this.slots.every((s) => !s.worker || cannot.has(s))) throw lastError;
      const slot = this.pick(cannot);
      if (slot) return slot;
      const back = this.soonestBack(cannot);
      if (!back) throw new TgvfsError('NO_WORKER', 'no worker is logged in', ctx);
      const waitMs = Math.max(back.floodUntil, back.downUntil) - Date.now();
      if (back.floodUntil > Date.now() && waitMs > this.threshold * 1000) {
        throw new FloodWaitTooLongError(Math.ceil(waitMs / 1000), back.botId, ctx);
      }
      await this.waitForChange(Math.max(1, waitMs), signal);
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

  private onFailure(slot: Slot, verdict: Verdict, ctx: ErrorContext & { what: string }, err: unknown): void {
    const where = `${ctx.what}${ctx.channel !== undefined ? ` (channel ${ctx.channel}, message ${ctx.msgId})` : ''}`;
    if (verdict.kind === 'flood') {
      slot.floodUntil = Math.max(slot.floodUntil, Date.now() + verdict.seconds * 1000);
      this.log(`worker ${slot.botId}: FLOOD_WAIT ${verdict.seconds} s on ${where}; set aside, moving the call to another worker`);
    } else if (verdict.kind === 'down') {
      slot.downUntil = Date.now() + DOWN_MS;
      this.log(`worker ${slot.botId}: ${(err as Error).message}; set aside for ${DOWN_MS} ms (GramJS reconnects in the background), moving ${where} to another worker`);
    } else if (verdict.kind === 'elsewhere') {
      this.log(`worker ${slot.botId}: ${(err as Error).message}; trying ${where} on another worker`);
    } else if (verdict.kind === 'lost') {
      this.log(`worker ${slot.botId}: ${(err as Error).message} (lost in a reconnect); moving it to another worker`);
    } else if (verdict.kind === 'stale-ref') {
      this.log(`worker ${slot.botId}: file reference still refused on ${where}; trying another worker`);
    }
  }
}

function safeBotId(token: string): number {
  try {
    return parseBotId(token);
  } catch {
    return 0;
  }
}
