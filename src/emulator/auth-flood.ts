// FLOOD_WAIT on auth.exportAuthorization / auth.importAuthorization (`--auth-flood SECONDS`):
// Telegram floods an account that keeps exporting its authorization to other DCs, which is what
// a client does that forgets its per-DC keys on every restart. Deterministic, so that a test can
// count calls: the 2nd, 4th, 6th, … call of each method (over all bots) is answered
// FLOOD_WAIT_SECONDS, and that account's calls of that method are refused until the wait is over
// (FLOOD_WAIT of what is left, not counted as a call of the series). A client that retries every
// second instead of waiting therefore shows up in /stats as extra calls and extra faults.
import type { EmulatorClock } from './clock';

export type AuthFloodMethod = 'auth.exportAuthorization' | 'auth.importAuthorization';

export class AuthFloodState {
  /** Calls of each method that were not refused for an ongoing wait. */
  private readonly counts = new Map<AuthFloodMethod, number>();
  /** `method:botId` → end of the wait, ms of the emulator clock. */
  private readonly until = new Map<string, number>();

  /**
   * Seconds of FLOOD_WAIT to answer this call with, or 0 to serve it. `seconds` is the setting in
   * force (0: the switch is off; calls are counted only while it is on, so the 2nd call after
   * switching it on is the first refused; waits already given still run out).
   */
  check(method: AuthFloodMethod, botId: number, seconds: number, clock: EmulatorClock): number {
    const key = `${method}:${botId}`;
    const now = clock.now();
    const end = this.until.get(key);
    if (end !== undefined && end > now) return Math.ceil((end - now) / 1000);
    if (end !== undefined) this.until.delete(key);
    if (seconds <= 0) return 0;
    const n = (this.counts.get(method) ?? 0) + 1;
    this.counts.set(method, n);
    if (n % 2 !== 0) return 0;
    this.until.set(key, now + seconds * 1000);
    return seconds;
  }
}
