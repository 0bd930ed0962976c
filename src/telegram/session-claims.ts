// Every instance has its own session (auth key) per bot. Sessions stay where the instance keeps
// them (its own `sessionDir`, or the `sessions` strings it was given) and never go to the store
// several instances share: an auth key is a secret, and one key used from two places at once is
// answered with AUTH_KEY_DUPLICATED (406), which breaks both. Each instance therefore logs in once
// per bot on its own; the cost is one auth.importBotAuthorization per instance and bot, ever.
//
// What can still put one key in two instances is a copy made outside tgvfs: one session folder
// shared by two instances (a network volume, a copied folder), or the same TGVFS_SESSIONS strings
// given to both. This notices it: each instance writes, per bot, a claim
// `claim:<botId>:<fingerprint of the key>` → { instance, host, pid } in the shared store,
// expiring after TTL_RENEWALS renewals and renewed every `renewMs`, and logs one warning per bot
// when the claim it finds is another instance's on another host. The instance id is random per
// process, never persisted: an id kept in the session folder would be copied with it. Two
// processes on one host (a `tgvfs index` beside a `tgvfs serve`) reach Telegram from one address,
// which MTProto allows (several sessions on one auth key): not warned. Claims are advice: a store that
// fails, or does not answer within STORE_TIMEOUT_MS, only loses the warning (a worker's start
// waits for its claim no longer than that).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { raceWithDeadline } from '../util/abort';
import { TgvfsError } from '../util/errors';
import type { MetadataCache } from './metadata-cache';

/** The pool's MetadataCache satisfies it. */
export type ClaimStore = Pick<MetadataCache, 'getRecords' | 'setRecord' | 'deleteRecord' | 'shared'>;

export interface SessionClaimsOptions {
  /** How often claims are renewed and checked again. @default 30000 */
  renewMs?: number;
  /** @default os.hostname() */
  host?: string;
  /** @default process.pid */
  pid?: number;
  log?: (line: string) => void;
}

interface Claim {
  instance: string;
  host: string;
  pid: number;
}

function isClaim(v: unknown): v is Claim {
  const c = v as Partial<Claim> | null;
  return typeof c === 'object' && c !== null && typeof c.instance === 'string' && typeof c.host === 'string' && typeof c.pid === 'number';
}

/** A claim stays this many renewals after its instance stopped renewing it (a crash). */
const TTL_RENEWALS = 3;
/** Longest wait for the store on one claim operation. */
const STORE_TIMEOUT_MS = 1000;

function bounded<T>(request: Promise<T>): Promise<T> {
  return raceWithDeadline(request, STORE_TIMEOUT_MS, () => new TgvfsError('STORE_TIMEOUT', `no answer in ${STORE_TIMEOUT_MS} ms`));
}

export class SessionClaims {
  /** This process's id in claims. */
  readonly instance = randomUUID();
  private readonly renewMs: number;
  private readonly me: Claim;
  private readonly log: (line: string) => void;
  /** Per bot: the claim key it holds now, and how to read the fingerprint of its key then. */
  private readonly held = new Map<number, { key: string; fingerprint: () => string | undefined }>();
  private readonly warned = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: ClaimStore, options: SessionClaimsOptions = {}) {
    this.renewMs = options.renewMs ?? 30_000;
    this.me = { instance: this.instance, host: options.host ?? os.hostname(), pid: options.pid ?? process.pid };
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Claims the key a bot's worker presents, now and at every renewal (`fingerprint` is read again
   * then: a worker that logged in again moves its claim to its new key). Never rejects.
   */
  async claim(botId: number, fingerprint: () => string | undefined): Promise<void> {
    if (!this.store.shared) return;
    this.held.set(botId, { key: this.held.get(botId)?.key ?? '', fingerprint });
    await this.renew(botId);
    this.arm();
  }

  /** Stops renewing and removes this instance's claims. Never rejects. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.held.values()].map((h) => h.key && this.drop(h.key)));
    this.held.clear();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const botId of this.held.keys()) void this.renew(botId);
    }, this.renewMs);
    this.timer.unref();
  }

  /** Follows the worker's current key (dropping the claim of its old one), then checks it. */
  private async renew(botId: number): Promise<void> {
    const held = this.held.get(botId);
    const fingerprint = held?.fingerprint();
    if (!held || !fingerprint) return;
    const key = `claim:${botId}:${fingerprint}`;
    if (held.key !== key) {
      const old = held.key;
      held.key = key;
      if (old) await this.drop(old);
    }
    await this.check(botId, key);
  }

  /** Warns (once per key) when another live instance holds the claim, then (re)writes ours. */
  private async check(botId: number, key: string): Promise<void> {
    try {
      const [found] = await bounded(this.store.getRecords([key]));
      if (isClaim(found) && found.instance !== this.instance && found.host !== this.me.host && !this.warned.has(key)) {
        this.warned.add(key);
        this.log(
          `bot ${botId}: a tgvfs instance on another host (${found.host}, pid ${found.pid}) uses the same session (auth key); ` +
            'Telegram answers AUTH_KEY_DUPLICATED when one key is used from two places at once: give every instance ' +
            'its own sessionDir (or its own TGVFS_SESSIONS strings), never a copy',
        );
      }
      await bounded(this.store.setRecord(key, this.me, TTL_RENEWALS * this.renewMs));
    } catch {
      // Advice only: without the store, the warning is what is lost.
    }
  }

  /** Removes a claim if it is still ours (another instance's claim on the same key stays). */
  private async drop(key: string): Promise<void> {
    try {
      const [found] = await bounded(this.store.getRecords([key]));
      if (isClaim(found) && found.instance === this.instance) await bounded(this.store.deleteRecord(key));
    } catch {
      // It expires on its own.
    }
  }
}
