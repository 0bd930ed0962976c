// Read-only questions `tgvfs doctor` asks of Telegram through a started Worker: who the bot is,
// and what time the server thinks it is. Kept here so that nothing above telegram/ touches GramJS.
import { Api } from 'telegram';
import { raceWithDeadline } from '../util/abort';
import { TelegramConnectionError } from './errors';
import { toTgvfsError } from './gramjs/translate-error';
import type { Worker } from './worker';

export interface BotIdentity {
  /** Bot id (the token's prefix). */
  id: number;
  /** `@username` without the `@`; undefined when Telegram gave none. */
  username: string | undefined;
}

export interface ServerClock {
  /** Telegram's `Config.date`: server time in whole seconds since the epoch. */
  serverSeconds: number;
  /** Local clock (ms) just before the request was sent and just after the answer came. */
  sentAtMs: number;
  receivedAtMs: number;
}

async function invoke<R extends Api.AnyRequest>(
  worker: Worker,
  request: R,
  method: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<R['__response']> {
  try {
    return await raceWithDeadline(
      worker.client.invoke(request),
      timeoutMs,
      () => new TelegramConnectionError(`${method} timed out after ${timeoutMs} ms`, { worker: worker.id }),
      signal,
    );
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw toTgvfsError(err, { worker: worker.id, method });
  }
}

/** The logged-in bot's own user (users.getUsers of self). */
export async function describeBot(worker: Worker, timeoutMs: number, signal?: AbortSignal): Promise<BotIdentity> {
  const users = await invoke(worker, new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }), 'users.getUsers', timeoutMs, signal);
  const self = users[0];
  const username = self instanceof Api.User && self.username ? self.username : undefined;
  return { id: worker.id, username };
}

/**
 * Telegram's clock, from `help.getConfig` (its `date` is the server's time). The caller's `now`
 * brackets the round trip, so the skew is known to within half of it plus the 1 s resolution.
 */
export async function readServerClock(
  worker: Worker,
  timeoutMs: number,
  now: () => number = Date.now,
  signal?: AbortSignal,
): Promise<ServerClock> {
  const sentAtMs = now();
  const config = await invoke(worker, new Api.help.GetConfig(), 'help.getConfig', timeoutMs, signal);
  const receivedAtMs = now();
  return { serverSeconds: config.date, sentAtMs, receivedAtMs };
}
