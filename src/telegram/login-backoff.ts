// When a worker logs in again: after a login FLOOD_WAIT, the seconds Telegram gave plus a little
// jitter (instances that share bots, and bots of one pool flood-waited together, then do not all
// come back in the same second, which would earn the next wait at once); after its auth key was
// refused (revoked, duplicated), one new login after the pool's restart delay, jittered too.

/** Jitter added to a wait: at most a tenth of it, between MIN_JITTER_MS and MAX_JITTER_MS. */
const MIN_JITTER_MS = 250;
const MAX_JITTER_MS = 5000;

/** Milliseconds to wait before logging in again after FLOOD_WAIT_`waitSeconds` on the login. */
export function loginFloodDelayMs(waitSeconds: number, random: () => number = Math.random): number {
  return waitSeconds * 1000 + jitterMs(waitSeconds * 1000, random);
}

/** `baseMs` and a little jitter: the backoff before a new login with a new auth key. */
export function reloginDelayMs(baseMs: number, random: () => number = Math.random): number {
  return baseMs + jitterMs(baseMs, random);
}

function jitterMs(waitMs: number, random: () => number): number {
  const spread = Math.max(MIN_JITTER_MS, Math.min(MAX_JITTER_MS, waitMs / 10));
  return Math.round(MIN_JITTER_MS / 2 + random() * spread);
}
