// What Telegram does to logins and auth keys, as the emulator's switches:
// - login FLOOD_WAIT (`--login-flood N:SECONDS`): after N auth.importBotAuthorization of one bot
//   within LOGIN_WINDOW_MS, the next earns FLOOD_WAIT_SECONDS; a retry during the wait makes it
//   longer (by SECONDS again), as Telegram's does. A wait served in full starts the count afresh
//   (Telegram's real waits, 1,000–3,000 s, outlast the window anyway).
// - AUTH_KEY_DUPLICATED (406): one auth key used from two source addresses at once (a query
//   on a connection from one address while a connection from another is open with the same key).
//   Telegram then refuses that key for good, on every connection: so does the emulator.
// - revoked sessions (admin POST /revoke): every auth key logged in as the bot is logged out and
//   answers 401 SESSION_REVOKED to every query from then on; the client needs a new key.
// Windows and waits are in Telegram time (the emulator's clock, clock.ts).
import type { AuthKeyRecord, AuthKeyStore } from './auth-keys';
import type { EmulatorClock } from './clock';
import { RpcFault } from './rpc-methods';
import type { Stats } from './stats';
import type { FaultSettings } from './types';

/** Telegram's login window: N logins within it earn the login FLOOD_WAIT. */
export const LOGIN_WINDOW_MS = 10 * 60_000;

interface LoginRecord {
  /** Times (clock ms) of this bot's successful logins within the window. */
  times: number[];
  /** Clock ms until which its logins are refused; 0: none. */
  floodUntil: number;
}

export class AuthHabits {
  private readonly logins = new Map<number, LoginRecord>();
  private readonly revoked = new Set<bigint>();
  private readonly duplicated = new Set<bigint>();
  /** Open connections per auth key id, with their source address. */
  private readonly users = new Map<bigint, Map<object, string>>();

  constructor(
    private readonly faults: FaultSettings,
    private readonly clock: EmulatorClock,
    private readonly stats: Stats,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Before auth.importBotAuthorization of `botId`: throws 420 FLOOD_WAIT_n when the bot is in
   * its login wait (made longer) or has logged in N times within the window (the wait starts).
   */
  checkLogin(botId: number): void {
    const flood = this.faults.loginFlood;
    if (!flood) return;
    const now = this.clock.now();
    const rec = this.logins.get(botId) ?? { times: [], floodUntil: 0 };
    this.logins.set(botId, rec);
    if (rec.floodUntil > now) {
      rec.floodUntil += flood.seconds * 1000;
      return this.refuseLogin(botId, rec.floodUntil - now, 'retried during its wait; the wait grows');
    }
    rec.times = rec.times.filter((t) => t > now - LOGIN_WINDOW_MS);
    if (rec.times.length < flood.count) return;
    rec.times = [];
    rec.floodUntil = now + flood.seconds * 1000;
    this.refuseLogin(botId, flood.seconds * 1000, `${flood.count} login(s) within ${LOGIN_WINDOW_MS / 60_000} minutes`);
  }

  /** A successful bot login, counted in its window. */
  noteLogin(botId: number): void {
    if (!this.faults.loginFlood) return;
    const rec = this.logins.get(botId) ?? { times: [], floodUntil: 0 };
    rec.times.push(this.clock.now());
    this.logins.set(botId, rec);
  }

  private refuseLogin(botId: number, waitMs: number, why: string): never {
    const seconds = Math.ceil(waitMs / 1000);
    this.stats.fault('LOGIN_FLOOD_WAIT');
    this.log(`emulator: bot ${botId}: login FLOOD_WAIT_${seconds} (${why})`);
    throw new RpcFault(420, `FLOOD_WAIT_${seconds}`);
  }

  /**
   * A query on connection `conn` (from `address`) with auth key `key`: the fault Telegram answers
   * instead (SESSION_REVOKED, AUTH_KEY_DUPLICATED), or null. Remembers the connection as a user
   * of the key until `release`.
   */
  refuse(key: AuthKeyRecord, conn: object, address: string): RpcFault | null {
    if (this.revoked.has(key.id)) {
      this.stats.fault('SESSION_REVOKED');
      return new RpcFault(401, 'SESSION_REVOKED');
    }
    let users = this.users.get(key.id);
    if (!users) this.users.set(key.id, (users = new Map()));
    users.set(conn, address);
    if (this.faults.authKeyDuplicated && !this.duplicated.has(key.id) && [...users.values()].some((a) => a !== address)) {
      this.duplicated.add(key.id);
      this.log(`emulator: auth key ${key.id.toString(16)} used from ${[...new Set(users.values())].join(' and ')} at once: AUTH_KEY_DUPLICATED from now on`);
    }
    if (!this.duplicated.has(key.id)) return null;
    this.stats.fault('AUTH_KEY_DUPLICATED');
    return new RpcFault(406, 'AUTH_KEY_DUPLICATED');
  }

  /** A connection closed: no longer a user of any key. */
  release(conn: object): void {
    for (const [id, users] of this.users) {
      if (users.delete(conn) && users.size === 0) this.users.delete(id);
    }
  }

  /**
   * Revokes every session of a bot: each auth key logged in as it is logged out and refused from
   * now on (401 SESSION_REVOKED). Returns how many keys were revoked.
   */
  revokeBot(botId: number, keys: AuthKeyStore): number {
    const bound = keys.boundTo(botId);
    for (const rec of bound) {
      this.revoked.add(rec.id);
      keys.bind(rec, null);
    }
    this.log(`emulator: bot ${botId}: ${bound.length} session(s) revoked`);
    return bound.length;
  }
}
