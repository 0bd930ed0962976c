// Counters behind GET /stats (DESIGN.md contract): calls per TL method, bytes of file content
// served, faults injected; and per bot (backward-compatible additions): calls per TL method, and
// how many distinct auth keys called as that bot (two clients that share a copied session count
// once; every client with its own session counts, once per DC it calls).
import type { EmulatorStats } from './types';

export class Stats {
  private calls: Record<string, number> = {};
  private callsByBot: Record<string, Record<string, number>> = {};
  private keysByBot = new Map<number, Set<bigint>>();
  private faults: Record<string, number> = {};
  private bytes = 0;

  /** One call of `method`; `bot` is the bot the auth key is logged in as (none before login). */
  call(method: string, bot?: { id: number; authKeyId: bigint }): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (!bot) return;
    const byMethod = (this.callsByBot[bot.id] ??= {});
    byMethod[method] = (byMethod[method] ?? 0) + 1;
    let keys = this.keysByBot.get(bot.id);
    if (!keys) this.keysByBot.set(bot.id, (keys = new Set()));
    keys.add(bot.authKeyId);
  }

  fault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  served(bytes: number): void {
    this.bytes += bytes;
  }

  snapshot(): EmulatorStats {
    const callsByBot: Record<string, Record<string, number>> = {};
    for (const [bot, byMethod] of Object.entries(this.callsByBot)) callsByBot[bot] = { ...byMethod };
    const authKeysByBot: Record<string, number> = {};
    for (const [bot, keys] of this.keysByBot) authKeysByBot[bot] = keys.size;
    return { calls: { ...this.calls }, bytesServed: this.bytes, faults: { ...this.faults }, callsByBot, authKeysByBot };
  }

  reset(): void {
    this.calls = {};
    this.callsByBot = {};
    this.keysByBot.clear();
    this.faults = {};
    this.bytes = 0;
  }
}
