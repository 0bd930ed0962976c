// Closing a GramJS client completely, so that the process can exit right after.
//
// Replaces (telegram 2.26.22): part of client/telegramBaseClient.js, TelegramBaseClient.disconnect,
// which walks `_exportedSenderPromises` and `_exportedSenderReleaseTimeouts` with Object.values()
// and so sees nothing in them (they are Maps): the senders GramJS exported to other DCs stay
// connected, and their 30 s release timers keep the process alive.
// Relies on: both fields are Maps keyed by DC id, of Promise<MTProtoSender | undefined> and of
// release timers (_borrowExportedSender); then TelegramBaseClient.destroy does the rest.
import type { TelegramClient } from 'telegram';
import { raceWithDeadline } from '../../util/abort';

/** Private GramJS state that destroyClient must clean up (GramJS's own disconnect misses it). */
interface GramClientInternals {
  _exportedSenderPromises?: unknown;
  _exportedSenderReleaseTimeouts?: unknown;
}

interface Disconnectable {
  disconnect(): Promise<void> | void;
}

function isDisconnectable(v: unknown): v is Disconnectable {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).disconnect === 'function';
}

/** Disconnects every sender of `client` (home and exported DCs) and destroys it; never throws. */
export async function destroyClient(client: TelegramClient): Promise<void> {
  const internals = client as unknown as GramClientInternals;
  const timers = internals._exportedSenderReleaseTimeouts;
  if (timers instanceof Map) {
    for (const t of timers.values()) clearTimeout(t as NodeJS.Timeout);
    timers.clear();
  }
  const senders = internals._exportedSenderPromises;
  const pending: unknown[] = senders instanceof Map ? [...senders.values()] : [];
  await Promise.all(
    pending.map((p) =>
      raceWithDeadline(
        Promise.resolve(p).then((s) => (isDisconnectable(s) ? s.disconnect() : undefined)),
        2_000,
        () => new Error('exported sender did not disconnect'),
      ).catch(() => undefined),
    ),
  );
  await raceWithDeadline(client.destroy(), 5_000, () => new Error('client.destroy timed out')).catch(() => undefined);
}
