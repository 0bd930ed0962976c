// Hears of every request a GramJS client sends, with its time and outcome (metrics), by wrapping
// the client's `invoke`.
//
// Replaces (telegram 2.26.22): client/TelegramClient.js, TelegramClient.prototype.invoke, on one
// client instance (an own property that calls the prototype's).
// Relies on: GramJS sends a client's requests through `this.invoke(request, dcId)`, looked up on
// the instance at call time: the worker's own, and GramJS's (auth.exportAuthorization for another
// DC in telegramBaseClient.js _connectSender, getMe's users.getUsers in client/users.js,
// downloadFile's upload.getFile in client/downloads.js), each once. What the sender wraps in
// initConnection itself (auth.importAuthorization on an exported DC) is not seen.
import type { TelegramClient } from 'telegram';
import { tlMethodName } from '../../util/tl-names';
import type { UpstreamCall } from '../call-observer';
import { FloodWaitError } from '../errors';
import { toTgvfsError } from './translate-error';

/** A label-safe error code: `FILE_MIGRATE_2` → `FILE_MIGRATE`, `FLOOD_WAIT_5` → `FLOOD_WAIT`. */
function errorLabel(err: unknown, method: string, worker: number): { error: string; floodWaitSeconds?: number } {
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
