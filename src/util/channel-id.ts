// Channel ids in their two spellings: the Bot API's `-100…` (what configs, logs, the catalog and
// URLs use) and MTProto's positive id (what requests and updates carry).

const OFFSET = 1_000_000_000_000;

/** True for a `-100…` channel id. */
export function isBotApiChannelId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id < -OFFSET;
}

/** `-100…` Bot API channel id → MTProto channel id; RangeError for anything else. */
export function mtprotoChannelId(channelId: number): number {
  if (!Number.isSafeInteger(channelId) || channelId >= -OFFSET) {
    throw new RangeError(`channel id ${channelId} is not a -100… channel id`);
  }
  return -channelId - OFFSET;
}

/** MTProto channel id (a number, bigint or big integer object) → the `-100…` id. */
export function botApiChannelId(id: number | bigint | { toString(): string }): number {
  return -(OFFSET + Number(id.toString()));
}
