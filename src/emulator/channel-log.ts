// A channel's recent update sequence, as Telegram keeps it for updates.getChannelDifference:
// events in pts order, oldest first, trimmed to the newest MAX_LOG. A client whose pts is older
// than what the log still holds (`logBase`) can only be told to start over (TooLong); any other
// client is answered from the log, however far behind, in slices.
//
// Telegram lets a bot ask up to 100,000 events per getChannelDifference, so the log keeps at
// least that many: a bot that asks with the largest limit and falls behind by less than the log
// never gets TooLong. Appending is a loop, not `push(...events)`: a rescan that adds 100,000+
// files at once would overflow the call stack with a spread.
import type { ChannelEvent, EmuChannel } from './world';

/** Events kept per channel. */
export const MAX_LOG = 150_000;

/** Appends `events` (in pts order) to the channel's log, dropping the oldest beyond `maxLog`. */
export function appendEvents(channel: EmuChannel, events: readonly ChannelEvent[], maxLog = MAX_LOG): void {
  for (const e of events) channel.log.push(e);
  const excess = channel.log.length - maxLog;
  if (excess <= 0) return;
  channel.logBase = channel.log[excess - 1]!.pts;
  channel.log.splice(0, excess);
}

/** Forgets every event: a client with any older pts starts over (after the world is (re)loaded). */
export function resetLog(channel: EmuChannel): void {
  channel.log = [];
  channel.logBase = channel.pts;
}

/** Whether the log still holds everything after `pts` (false: the client must start over). */
export function logCovers(channel: EmuChannel, pts: number): boolean {
  return pts > 0 && pts >= channel.logBase && pts <= channel.pts;
}

/** The events after `pts`, at most `max` of them, and whether they reach the channel's pts. */
export function eventsAfter(channel: EmuChannel, pts: number, max: number): { events: ChannelEvent[]; final: boolean } {
  const { log } = channel;
  // The log is sorted by pts: the first event past `pts` by binary search.
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.pts > pts) hi = mid;
    else lo = mid + 1;
  }
  const end = Math.min(log.length, lo + Math.max(1, max));
  return { events: log.slice(lo, end), final: end === log.length };
}
