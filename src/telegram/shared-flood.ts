// FLOOD_WAIT belongs to the bot account, not to the client that was told: when one instance gets
// FLOOD_WAIT_X from a bot, a call by another instance with the same bot earns another FLOOD_WAIT
// (and, repeated, a longer one). So the pool writes every FLOOD_WAIT it sees to the shared store
// (`flood:<botId>` → the epoch ms it ends, expiring with it), and every instance reads those
// records before it picks a worker and skips a bot until the wait another instance saw is over.
//
// Reading: one getMany of every bot's key, at most once per `refreshMs` (concurrent acquires
// share it), so a pool reading parts from N workers adds one small store round trip per
// `refreshMs`, not one per part. Polling works with every keyv store (redis, a shared sqlite
// file); a redis pub/sub would be quicker but redis-only, one more connection (instance-sync.ts
// made the same choice). Writing: awaited before the call that got the FLOOD_WAIT moves to
// another worker, so that the store knows before this instance goes on. A store that fails, or
// does not answer within `storeTimeoutMs` (a redis behind a dead link), is logged once until it
// works again; the pool then keeps its own view, as before, and is never held up longer.
//
// A login FLOOD_WAIT (auth.importBotAuthorization) is shared the same way under its own prefix
// (`login-flood:<botId>`): it holds back new logins of the bot, not calls with keys already
// logged in.
//
// Ends are epoch milliseconds of the machine that saw the FLOOD_WAIT: hosts whose clocks differ
// by a second skip a bot a second more or less, which Telegram answers with at most one more
// FLOOD_WAIT.
import { raceWithDeadline } from '../util/abort';
import { TgvfsError, errorLine } from '../util/errors';
import type { MetadataCache } from './metadata-cache';

/** Where FLOOD_WAIT ends are shared, and how they are read (the pool's MetadataCache satisfies it). */
export type FloodStore = Pick<MetadataCache, 'getRecords' | 'setRecord' | 'shared'>;

export interface SharedFloodOptions {
  /** Longest time a FLOOD_WAIT another instance wrote may go unseen here. @default 250 */
  refreshMs?: number;
  /** Longest wait for the store on a read or write before going on without it. @default 1000 */
  storeTimeoutMs?: number;
  /** The machine's clock (tests step it). @default Date.now */
  now?: () => number;
  /** Key prefix of the records: `flood` (calls) or `login-flood` (logins). @default 'flood' */
  prefix?: 'flood' | 'login-flood';
  log?: (line: string) => void;
}

/** A stored end, or 0 for anything else (a store shared with other versions may hold anything). */
function floodEnd(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

export class SharedFlood {
  private readonly refreshMs: number;
  private readonly storeTimeoutMs: number;
  /** A read the store has not answered yet (past its deadline): no second one meanwhile. */
  private unanswered = false;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** Ends known here, per bot (ours and other instances'). */
  private readonly ends = new Map<number, number>();
  private lastRead = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  private readonly writes = new Set<Promise<void>>();
  private failing = false;
  private readonly prefix: string;

  constructor(
    private readonly store: FloodStore,
    private readonly botIds: readonly number[],
    options: SharedFloodOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 250;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.prefix = options.prefix ?? 'flood';
  }

  private key(botId: number): string {
    return `${this.prefix}:${botId}`;
  }

  /** Epoch ms until which `botId` is in FLOOD_WAIT as far as any instance said (0: it is not). */
  until(botId: number): number {
    const end = this.ends.get(botId) ?? 0;
    return end > this.now() ? end : 0;
  }

  /** Shares that `botId` is in FLOOD_WAIT until `until` (epoch ms); `settled` waits for the write. */
  publish(botId: number, until: number): void {
    if (until <= (this.ends.get(botId) ?? 0)) return;
    this.ends.set(botId, until);
    const write = this.bounded(this.store.setRecord(this.key(botId), until, until - this.now()))
      .then(() => this.ok(), (err: unknown) => this.failed('write', err))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** Resolves once every write published so far is done (or failed, logged). */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  /**
   * Reads every bot's record unless that was done less than `refreshMs` ago (or the store is not
   * shared: then only this process writes, and it knows). Never rejects.
   */
  fresh(): Promise<void> {
    if (!this.store.shared || this.now() - this.lastRead < this.refreshMs) return this.reading ?? Promise.resolve();
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    this.lastRead = this.now();
    if (this.unanswered) return;
    try {
      this.unanswered = true;
      const request = this.store.getRecords(this.botIds.map((id) => this.key(id)));
      void request.then(() => (this.unanswered = false), () => (this.unanswered = false));
      const values = await this.bounded(request);
      this.botIds.forEach((id, i) => {
        const end = floodEnd(values[i]);
        if (end > (this.ends.get(id) ?? 0)) this.ends.set(id, end);
      });
      this.ok();
    } catch (err) {
      this.failed('read', err);
    }
  }

  /** `request`, or a STORE_TIMEOUT rejection once it took `storeTimeoutMs`. */
  private bounded<T>(request: Promise<T>): Promise<T> {
    const ms = this.storeTimeoutMs;
    return raceWithDeadline(request, ms, () => new TgvfsError('STORE_TIMEOUT', `no answer in ${ms} ms`));
  }

  private ok(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log('pool: shared FLOOD_WAIT records readable again');
  }

  private failed(what: 'read' | 'write', err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log(`pool: cannot ${what} shared ${this.prefix === 'flood' ? '' : 'login '}FLOOD_WAIT records (${errorLine(err)}); other instances may call a bot in FLOOD_WAIT meanwhile`);
  }
}
