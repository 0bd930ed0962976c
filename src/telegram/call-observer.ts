// What the telegram layer tells an observer about each upstream request (metrics live in app/;
// this layer does not import prom-client). The hook sits on the GramJS client's `invoke`, so it
// sees every request a worker's client sends: the worker's own calls, the catalog's
// (channels.getMessages, updates.getChannelDifference) and GramJS's (auth.exportAuthorization
// for another DC), each counted once, as the server counts them.
import type { TelegramClient } from 'telegram';
import { tlMethodName } from '../util/tl-names';
import { FloodWaitError, toTgvfsError } from './errors';

/** One upstream request, reported when it has an answer (or failed). */
export interface UpstreamCall {
  /** TL method name, e.g. `upload.getFile`. */
  method: string;
  /** The bot id of the worker that sent it (never the token). */
  worker: number;
  /** Wall time from send to answer, in ms. */
  ms: number;
  /**
   * Why it failed: Telegram's error with its number stripped (`FLOOD_WAIT`, `FILE_MIGRATE`,
   * `FILE_REFERENCE_EXPIRED`, `LIMIT_INVALID`…), or a tgvfs code (`CONNECTION`, `UNEXPECTED`…).
   */
  error?: string;
  /** With `error: 'FLOOD_WAIT'`: the seconds Telegram asked to wait. */
  floodWaitSeconds?: number;
}

export interface CallObserver {
  onCall?(e: UpstreamCall): void;
}

/** A label-safe error code: `FILE_MIGRATE_2` → `FILE_MIGRATE`, `FLOOD_WAIT_5` → `FLOOD_WAIT`. */
export function errorLabel(err: unknown, method: string, worker: number): { error: string; floodWaitSeconds?: number } {
  const e = toTgvfsError(err, { worker, method });
  if (e instanceof FloodWaitError) return { error: 'FLOOD_WAIT', floodWaitSeconds: e.waitSeconds };
  return { error: e.code.replace(/_\d+$/, '') };
}

/**
 * Wraps `client.invoke` so that `onCall` hears of every request. The observer's own failures
 * never reach the caller.
 */
export function observeInvoke(client: TelegramClient, worker: number, onCall: (e: UpstreamCall) => void): void {
  const invoke = client.invoke.bind(client);
  const report = (e: UpstreamCall): void => {
    try {
      onCall(e);
    } catch {
      // A metrics bug must not fail a download.
    }
  };
  client.invoke = async function observedInvoke(request, dcId) {
    const method = tlMethodName(request.className);
    const t0 = performance.now();
    try {
      const res = await invoke(request, dcId);
      report({ method, worker, ms: performance.now() - t0 });
      return res;
    } catch (err) {
      report({ method, worker, ms: performance.now() - t0, ...errorLabel(err, method, worker) });
      throw err;
    }
  } as TelegramClient['invoke'];
}
