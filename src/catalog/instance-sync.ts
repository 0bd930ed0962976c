// Several instances may share one store (`redis://`, or a sqlite file): what one saves, the
// others adopt without asking Telegram. Each save stamps the channel's record with a new `rev`
// (channel-state.ts); every instance reads that one small key every `refreshMs` (and before
// applying anything), and when another instance saved since, reloads the channel's pages from
// the store. Polling one key per channel works with any keyv store and needs no redis
// configuration (keyspace events are off by default and often not allowed on managed redis); a
// pub/sub channel would be quicker but redis-only and one more connection to keep alive. A store
// that lost what we hold (a redis restarted empty) or fell behind is written back from memory.
// Writers do not lock: two instances applying different changes to one page at the same moment
// is last-writer-wins, and the next update or catch-up of either heals it.
import type { ChannelState, ChannelStates } from './channel-state';
import { notBehind, sameRecord, type CatalogStore } from './store';

export class InstanceSync {
  /** Channels with a refresh queued (the timer adds at most one each). */
  private readonly refreshing = new Set<number>();
  /** The last refresh failed (logged once until one succeeds again). */
  private failing = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly states: ChannelStates,
    private readonly store: CatalogStore,
    private readonly log: (line: string) => void,
    private readonly life: AbortSignal,
    refreshMs: number,
  ) {
    if (refreshMs > 0) {
      this.timer = setInterval(() => this.refreshLoaded(), refreshMs);
      this.timer.unref();
    }
  }

  /** Stops the polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** refresh, where a store that does not answer must not stop the work that follows. */
  async tryRefresh(channel: number, st: ChannelState): Promise<void> {
    try {
      await this.refresh(channel, st);
    } catch (err) {
      this.failed(err);
    }
  }

  /** Queues a refresh of every channel this instance has loaded (the timer's tick). */
  private refreshLoaded(): void {
    if (this.life.aborted) return;
    for (const channel of this.states.loaded()) {
      if (this.refreshing.has(channel)) continue;
      this.refreshing.add(channel);
      this.states.enqueue(channel, async () => {
        this.refreshing.delete(channel);
        await this.refresh(channel, await this.states.get(channel));
        if (this.failing) this.log('catalog store: reachable again');
        this.failing = false;
      }).catch((err: unknown) => {
        this.refreshing.delete(channel);
        if (!this.life.aborted) this.failed(err);
      });
    }
  }

  /** Logs the first failure of a run of them. */
  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log(`catalog store: cannot check for changes of other instances: ${(err as Error).message}; serving what is in memory`);
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
      this.states.adopt(st, record, files);
      this.states.emit(channel);
      return;
    }
    if (st.record.pts === 0 && st.files.size === 0) return;
    for (const n of st.record.pages) st.dirty.add(n);
    this.log(`catalog: channel ${channel}: the store is behind this instance (${stored ? `pts ${stored.pts}` : 'nothing stored'}, here pts ${st.record.pts}); writing it back`);
    await this.states.save(channel, st);
  }
}
