// Counters behind GET /stats (DESIGN.md contract): calls per TL method (and per bot, `botCalls`),
// bytes of file content served, faults injected, auth keys created; and per bot, how many distinct
// auth keys called as it (`authKeysByBot`: two clients sharing a copied session count once; every
// client with its own session counts, once per DC it calls).
import type { EmulatorStats } from './types';

export class Stats {
  private calls: Record<string, number> = {};
  private botCalls: Record<string, Record<string, number>> = {};
  private keysByBot = new Map<number, Set<bigint>>();
  private faults: Record<string, number> = {};
  private bytes = 0;
  private keys = 0;

  /** `botId`: the bot whose auth key made the call, when it is logged in. */
  call(method: string, botId?: number | null): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (botId === undefined || botId === null) return;
    const mine = (this.botCalls[botId] ??= {});
    mine[method] = (mine[method] ?? 0) + 1;
  }

  /** A logged-in bot's auth key made a call. */
  keyUsed(botId: number, authKeyId: bigint): void {
    let keys = this.keysByBot.get(botId);
    if (!keys) this.keysByBot.set(botId, (keys = new Set()));
    keys.add(authKeyId);
  }

  fault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  /** A handshake created an auth key. */
  keyCreated(): void {
    this.keys++;
  }

  served(bytes: number): void {
    this.bytes += bytes;
  }

  snapshot(): EmulatorStats {
    const botCalls = Object.fromEntries(Object.entries(this.botCalls).map(([bot, calls]) => [bot, { ...calls }]));
    const authKeysByBot = Object.fromEntries([...this.keysByBot].map(([bot, keys]) => [String(bot), keys.size]));
    return { calls: { ...this.calls }, botCalls, authKeysByBot, bytesServed: this.bytes, faults: { ...this.faults }, authKeysCreated: this.keys };
  }

  reset(): void {
    this.calls = {};
    this.botCalls = {};
    this.keysByBot.clear();
    this.faults = {};
    this.bytes = 0;
    this.keys = 0;
  }
}
