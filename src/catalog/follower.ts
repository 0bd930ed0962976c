// Keeping the catalog current from what Telegram pushes: every worker receives each channel
// update, so updates are applied once, in pts order (a pts already held was applied, through
// another worker or by another instance; that worker's DocInfo is still worth keeping). A pts
// gap, a too-long notice or a reconnected worker means asking getChannelDifference from the
// stored pts (a catch-up), which the indexer does.
import type { ChannelChange, ChannelUpdate } from '../telegram/channel-updates';
import type { Worker } from '../telegram/worker';
import type { WorkerPool } from '../telegram/worker-pool';
import type { ChannelStates } from './channel-state';
import type { Indexer } from './indexer';
import type { InstanceSync } from './instance-sync';

/** How often `start` looks for workers the pool (re)started. */
const ATTACH_EVERY_MS = 5000;
/** A catch-up that failed is tried again after this long. */
const RETRY_MS = 5000;

export class Follower {
  private following: { stop(): void } | null = null;
  /** Channels with a catch-up queued. */
  private readonly catchUps = new Set<number>();

  constructor(
    private readonly states: ChannelStates,
    private readonly indexer: Indexer,
    private readonly instances: InstanceSync,
    /** The configured channels: updates of any other are ignored. */
    private readonly channels: readonly number[],
    private readonly log: (line: string) => void,
    /** Aborted when the catalog closes. */
    private readonly life: AbortSignal,
  ) {}

  /** Listens to every worker of `pool`, and to those it starts later. Idempotent. */
  start(pool: WorkerPool): void {
    if (this.following) return;
    const attached = new Map<Worker, () => void>();
    const attach = (): void => {
      for (const w of pool.workers) {
        if (!attached.has(w)) attached.set(w, w.onUpdate((u) => this.onUpdate(w, u)));
      }
    };
    attach();
    const timer = setInterval(attach, ATTACH_EVERY_MS);
    timer.unref();
    this.following = {
      stop: () => {
        clearInterval(timer);
        for (const off of attached.values()) off();
        attached.clear();
      },
    };
  }

  stop(): void {
    this.following?.stop();
    this.following = null;
  }

  private isConfigured(channel: number): boolean {
    return this.channels.includes(channel);
  }

  private onUpdate(worker: Worker, u: ChannelUpdate): void {
    if (u.kind === 'reconnected') {
      for (const c of this.channels) this.catchUp(c);
      return;
    }
    if (!this.isConfigured(u.channel)) return;
    if (u.kind === 'tooLong') {
      this.catchUp(u.channel);
      return;
    }
    const { channel, pts, ptsCount, changes } = u;
    this.states.enqueue(channel, () => this.applyPushed(channel, worker, pts, ptsCount, changes)).catch((err: unknown) => {
      if (!this.life.aborted) this.log(`catalog: channel ${channel}: update not applied: ${(err as Error).message}`);
    });
  }

  private async applyPushed(channel: number, worker: Worker, pts: number, ptsCount: number, changes: ChannelChange[]): Promise<void> {
    const st = await this.states.get(channel);
    // Another instance receiving the same update may have saved it already.
    if (pts > st.record.pts) await this.instances.tryRefresh(channel, st);
    // Not indexed yet: the first index reads everything anyway.
    if (st.record.pts === 0) return;
    if (pts <= st.record.pts) {
      // Already applied (every worker gets the same update): keep this worker's DocInfo.
      for (const c of changes) {
        if (c.kind === 'upsert' && c.doc && st.files.get(c.doc.msgId)?.docId === c.doc.id) this.states.rememberDoc(worker, c.doc);
      }
      return;
    }
    if (pts - ptsCount !== st.record.pts) {
      // A gap: something was missed. The difference from our pts fills it.
      await this.indexer.sync(channel, {});
      return;
    }
    const changed = this.states.apply(channel, st, worker, changes);
    for (const c of changes) if (c.kind === 'upsert') st.record.walked = Math.max(st.record.walked, c.msgId);
    st.record.target = Math.max(st.record.target, st.record.walked);
    st.record.pts = pts;
    try {
      await this.states.save(channel, st);
    } catch (err) {
      // Served from memory meanwhile; a refresh writes it back once the store answers.
      this.log(`catalog: channel ${channel}: update kept in memory, not stored: ${(err as Error).message}`);
    }
    if (changed) this.states.emit(channel);
  }

  /** getChannelDifference from the stored pts, once per channel at a time; retried on failure. */
  private catchUp(channel: number): void {
    if (this.catchUps.has(channel) || this.life.aborted) return;
    this.catchUps.add(channel);
    this.states.enqueue(channel, async () => {
      this.catchUps.delete(channel);
      const st = await this.states.get(channel);
      if (st.record.pts > 0) await this.indexer.sync(channel, {});
    }).catch((err: unknown) => {
      this.catchUps.delete(channel);
      if (this.life.aborted) return;
      this.log(`catalog: channel ${channel}: catching up failed: ${(err as Error).message}; trying again in ${RETRY_MS / 1000} s`);
      setTimeout(() => {
        if (this.following) this.catchUp(channel);
      }, RETRY_MS).unref();
    });
  }
}
