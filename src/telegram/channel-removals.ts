// Which bots were taken out of which channel (CHANNEL_PRIVATE on a call for that channel): the
// pool stops using such a bot for that channel, and that channel only. A removal is believed for
// RECHECK_MS; after that one call may try the bot again (an admin may have added it back): if it
// succeeds the removal is forgotten, if it is refused again the removal starts over.

/** How long a removal is trusted before the bot is given one more try on that channel. */
export const RECHECK_MS = 10 * 60_000;

export interface Removal {
  bot: number;
  channel: number;
  /** Epoch ms of the last CHANNEL_PRIVATE. */
  since: number;
}

export class ChannelRemovals {
  private readonly byKey = new Map<string, Removal>();

  private static key(bot: number, channel: number): string {
    return `${bot}:${channel}`;
  }

  /** Records a CHANNEL_PRIVATE of `bot` on `channel`; true when it was not already in force (log it). */
  mark(bot: number, channel: number, now: number): boolean {
    const key = ChannelRemovals.key(bot, channel);
    const known = this.byKey.get(key);
    const fresh = !known || now >= known.since + RECHECK_MS;
    this.byKey.set(key, { bot, channel, since: now });
    return fresh;
  }

  /** `bot` must not be used for `channel` now. */
  isRemoved(bot: number, channel: number, now: number): boolean {
    const r = this.byKey.get(ChannelRemovals.key(bot, channel));
    return r !== undefined && now < r.since + RECHECK_MS;
  }

  /**
   * `bot` answered a call for `channel`: forgets a removal that was being re-checked; true when
   * there was one (log it). A removal still in force stays: the answer was to a call that started
   * before it (or came from a cache).
   */
  clear(bot: number, channel: number, now: number): boolean {
    const key = ChannelRemovals.key(bot, channel);
    const r = this.byKey.get(key);
    return r !== undefined && now >= r.since + RECHECK_MS && this.byKey.delete(key);
  }

  /** Bots removed from `channel` (removals still believed or not yet re-checked), ascending. */
  botsOf(channel: number): number[] {
    return [...this.byKey.values()].filter((r) => r.channel === channel).map((r) => r.bot).sort((a, b) => a - b);
  }
}
