// Indexing a channel the way a bot can (bots get BOT_METHOD_INVALID for messages.getHistory):
//   1. updates.getChannelDifference from the stored pts (1 the first time). Telegram answers
//      channelDifferenceTooLong when that is too far back: its dialog has the newest message id
//      (top_message) and the pts to follow from.
//   2. channels.getMessages over explicit ids, 100 per call, from the last id walked to the top,
//      spread over the pool's workers (a FLOOD_WAIT moves a call to another worker); deleted ids
//      come back as messageEmpty, so long runs of them cost nothing special.
// A difference may come in slices (`final: false`): each is applied and the next asked from its
// pts, with no cap on rounds (only an answer that does not move the pts on stops it). Telegram
// answers too long only for a pts far behind (older than it keeps); after such an answer the
// files already known are read again too: deletions in the gap were never reported.
import type { ChannelChange, ChannelDifference, ChannelMessage } from '../telegram/channel-updates';
import { TelegramRpcError } from '../telegram/errors';
import type { Worker } from '../telegram/worker';
import type { WorkerPool } from '../telegram/worker-pool';
import { TgvfsError } from '../util/errors';
import type { ChannelState, ChannelStates } from './channel-state';
import type { InstanceSync } from './instance-sync';
import { CONTENT_VERSION } from './store';

export interface IndexProgress {
  channel: number;
  /**
   * What is being counted: `ids` read by channels.getMessages (a walk), `recheck` known ids
   * read again (after channelDifferenceTooLong, or once after an upgrade), or `updates` applied
   * from getChannelDifference (a catch-up, whose end is not known until it comes).
   */
  stage: 'ids' | 'recheck' | 'updates';
  /** Ids read, files read again, or updates applied, so far in this stage of this run. */
  done: number;
  /** Of ids and recheck: how many in all. Of updates: `done` once caught up, 0 while more are coming. */
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
  /** getChannelDifference calls this run made. */
  differenceCalls: number;
  /** Updates (new, edited, deleted messages) applied from differences this run. */
  updates: number;
}

/** Ids per channels.getMessages call (Telegram's limit). */
const IDS_PER_CALL = 100;
/**
 * Events asked per getChannelDifference: the most Telegram gives a bot. It may answer fewer (a
 * slice, `final: false`); the indexer asks again from the pts it was given until caught up.
 */
const DIFFERENCE_LIMIT = 100_000;

/** One run's counts of upstream calls and of updates applied. */
interface Counter {
  calls: number;
  differenceCalls: number;
  updates: number;
}

/** What one channels.getMessages call returned, and which worker's DocInfos those are. */
interface Fetched {
  worker: Worker;
  messages: ChannelMessage[];
}

export class Indexer {
  constructor(
    private readonly states: ChannelStates,
    private readonly instances: InstanceSync,
    private readonly requirePool: () => WorkerPool,
    private readonly log: (line: string) => void,
    /** Aborted when the catalog closes. */
    private readonly life: AbortSignal,
  ) {}

  /**
   * Brings a channel up to date (run in the channel's queue): finishes a walk that was cut
   * short, then asks getChannelDifference from the stored pts and applies what it says (walking
   * new ids after a channelDifferenceTooLong). A second run on an indexed channel costs one call.
   * There is no cap on rounds: every answer must move the pts on or say we are caught up (an
   * answer that does not is CATALOG_NO_PROGRESS), so a channel far behind is followed slice by
   * slice until the end, or until `signal` aborts.
   */
  async sync(channel: number, options: IndexOptions): Promise<IndexResult> {
    const pool = this.requirePool();
    const signal = options.signal ? AbortSignal.any([options.signal, this.life]) : this.life;
    const st = await this.states.get(channel);
    // Another instance may have got further: start from there (no message is read twice).
    await this.instances.tryRefresh(channel, st);
    const counter: Counter = { calls: 0, differenceCalls: 0, updates: 0 };
    // Ids read by a version that knew fewer kinds of files (no photos): read them again, once.
    if (st.record.content !== CONTENT_VERSION) await this.upgrade(channel, st, options, counter, signal);
    // A walk that was cut short: finish it before following on from the stored pts.
    if (st.record.walked < st.record.target) await this.walk(channel, st, st.record.target, options, counter, signal);
    for (;;) {
      signal.throwIfAborted();
      const { worker, diff, from } = await this.difference(pool, channel, st.record.pts, counter, signal);
      if (diff.kind === 'empty') {
        if (st.record.pts !== diff.pts) {
          st.record.pts = diff.pts;
          await this.states.save(channel, st);
        }
        break;
      }
      if (diff.pts <= from) throw noProgress(channel, from, diff);
      if (diff.kind === 'difference') {
        await this.applyDifference(channel, st, worker, diff);
        counter.updates += diff.changes.length;
        options.onProgress?.({ channel, stage: 'updates', done: counter.updates, total: diff.final ? counter.updates : 0, files: st.files.size });
        if (diff.final) break;
        continue;
      }
      await this.startOver(channel, st, diff, options, counter, signal);
      // Then once more from the new pts: anything posted during the walk.
    }
    return {
      channel, files: st.files.size, pts: st.record.pts, walked: st.record.walked,
      getMessagesCalls: counter.calls, differenceCalls: counter.differenceCalls, updates: counter.updates,
    };
  }

  /**
   * After channelDifferenceTooLong we cannot know what happened since our pts: the known files
   * are read again (deletions in the gap were never reported, and a bot has no other way to
   * learn them), then the ids up to the new top are walked.
   */
  private async startOver(channel: number, st: ChannelState, diff: Extract<ChannelDifference, { kind: 'tooLong' }>, options: IndexOptions, counter: Counter, signal: AbortSignal): Promise<void> {
    if (st.files.size > 0) await this.recheck(channel, st, options, counter, signal);
    st.record.pts = diff.pts;
    st.record.target = Math.max(st.record.target, diff.top);
    await this.states.save(channel, st);
    await this.walk(channel, st, st.record.target, options, counter, signal);
  }

  private async applyDifference(channel: number, st: ChannelState, worker: Worker, diff: Extract<ChannelDifference, { kind: 'difference' }>): Promise<void> {
    const changed = this.states.apply(channel, st, worker, diff.changes);
    st.record.walked = Math.max(st.record.walked, diff.newest);
    st.record.target = Math.max(st.record.target, st.record.walked);
    st.record.pts = diff.pts;
    await this.states.save(channel, st);
    if (changed) this.states.emit(channel);
  }

  /**
   * getChannelDifference from `pts` (1 when unknown); a pts the server refuses starts over from 1.
   * `from` is the pts the answer is relative to.
   */
  private difference(pool: WorkerPool, channel: number, pts: number, counter: Counter, signal: AbortSignal): Promise<{ worker: Worker; diff: ChannelDifference; from: number }> {
    const from = Math.max(1, pts);
    return pool.run({ channel, what: 'updates.getChannelDifference' }, async (w, s) => {
      counter.differenceCalls++;
      try {
        return { worker: w, diff: await w.getChannelDifference(channel, from, DIFFERENCE_LIMIT, s), from };
      } catch (err) {
        // Our pts is not one the server knows (e.g. a store from another server): start over.
        if (err instanceof TelegramRpcError && /^PERSISTENT_TIMESTAMP/.test(err.code) && from > 1) {
          this.log(`catalog: channel ${channel}: the server refused pts ${from} (${err.code}); reading the channel again`);
          counter.differenceCalls++;
          return { worker: w, diff: await w.getChannelDifference(channel, 1, DIFFERENCE_LIMIT, s), from: 1 };
        }
        throw err;
      }
    }, signal);
  }

  /** One channels.getMessages call (at most 100 ids) on whichever worker the pool picks. */
  private fetchIds(channel: number, ids: number[], counter: Counter, signal: AbortSignal): Promise<Fetched> {
    counter.calls++;
    return this.requirePool().run({ channel, what: `channels.getMessages ${ids[0]}…${ids[ids.length - 1]}` }, async (w, s) => {
      return { worker: w, messages: await w.getMessages(channel, ids, s) };
    }, signal);
  }

  /** Calls in flight at once while walking: two per usable worker. */
  private concurrency(): number {
    return Math.max(1, Math.min(16, this.requirePool().workers.length * 2));
  }

  /** Applies the answers to `batches` (one call each): an id an answer left out is as good as deleted. */
  private applyFetched(channel: number, st: ChannelState, batches: number[][], results: Fetched[]): boolean {
    let changed = false;
    results.forEach((r, i) => {
      const asked = new Set(batches[i]);
      const got = r.messages.filter((m) => asked.has(m.msgId));
      const answered = new Set(got.map((m) => m.msgId));
      const missing = batches[i]!.filter((id) => !answered.has(id));
      const changes: ChannelChange[] = [...got.map((m): ChannelChange => ({ kind: 'upsert', ...m })), { kind: 'delete', ids: missing }];
      if (this.states.apply(channel, st, r.worker, changes)) changed = true;
    });
    return changed;
  }

  /** Walks ids from `walked + 1` to `to`, saving after each round of concurrent calls. */
  private async walk(channel: number, st: ChannelState, to: number, options: IndexOptions, counter: Counter, signal: AbortSignal): Promise<void> {
    const start = st.record.walked;
    const total = Math.max(0, to - start);
    options.onProgress?.({ channel, stage: 'ids', done: 0, total, files: st.files.size });
    while (st.record.walked < to) {
      const batches: number[][] = [];
      let next = st.record.walked + 1;
      while (next <= to && batches.length < this.concurrency()) {
        const end = Math.min(to, next + IDS_PER_CALL - 1);
        batches.push(range(next, end));
        next = end + 1;
      }
      const results = await Promise.all(batches.map((ids) => this.fetchIds(channel, ids, counter, signal)));
      const changed = this.applyFetched(channel, st, batches, results);
      st.record.walked = next - 1;
      await this.states.save(channel, st);
      if (changed) this.states.emit(channel);
      options.onProgress?.({ channel, stage: 'ids', done: st.record.walked - start, total, files: st.files.size });
    }
  }

  /** Reads every id walked so far again (photos and kinds an older version passed over), then stamps the record. */
  private async upgrade(channel: number, st: ChannelState, options: IndexOptions, counter: Counter, signal: AbortSignal): Promise<void> {
    const stale = st.record.walked > 0;
    if (stale) {
      this.log(`catalog: channel ${channel}: indexed by an older version (documents only); reading its ${st.record.walked} ids again`);
      await this.recheck(channel, st, options, counter, signal, range(1, st.record.walked));
    }
    st.record.content = CONTENT_VERSION;
    // A channel never read is stamped with its first save.
    if (stale) await this.states.save(channel, st);
  }

  /**
   * After a too-long gap: reads every known file's message again (deleted ones drop out); or
   * the messages `ids`.
   */
  private async recheck(
    channel: number, st: ChannelState, options: IndexOptions, counter: Counter, signal: AbortSignal,
    ids = [...st.files.keys()].sort((a, b) => a - b),
  ): Promise<void> {
    const batches: number[][] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_CALL) batches.push(ids.slice(i, i + IDS_PER_CALL));
    let done = 0;
    for (let i = 0; i < batches.length; i += this.concurrency()) {
      const round = batches.slice(i, i + this.concurrency());
      const results = await Promise.all(round.map((b) => this.fetchIds(channel, b, counter, signal)));
      const changed = this.applyFetched(channel, st, round, results);
      await this.states.save(channel, st);
      if (changed) this.states.emit(channel);
      for (const b of round) done += b.length;
      options.onProgress?.({ channel, stage: 'recheck', done, total: ids.length, files: st.files.size });
    }
  }
}

/** An answer that does not move the pts on: following it again would never end. */
function noProgress(channel: number, from: number, diff: Exclude<ChannelDifference, { kind: 'empty' }>): TgvfsError {
  const what = diff.kind === 'difference' ? 'a difference' : 'channelDifferenceTooLong';
  return new TgvfsError('CATALOG_NO_PROGRESS', `getChannelDifference from pts ${from} of channel ${channel} answered ${what} at pts ${diff.pts}: it does not move on`, { channel });
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let id = from; id <= to; id++) out.push(id);
  return out;
}
