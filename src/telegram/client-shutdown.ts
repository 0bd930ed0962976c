// Closing a GramJS client completely, so that the process can exit right after.
import type { TelegramClient } from 'telegram';
import { raceWithDeadline } from '../util/abort';

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
  // GramJS's disconnect() walks these Maps with Object.values(), which sees nothing: the
  // exported senders stay connected and their 30 s release timers keep the process alive.
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
