// What Telegram pushes to a bot that is a channel admin when the channel changes: one `updates`
// object per channel and rescan, with updateNewChannelMessage / updateEditChannelMessage /
// updateDeleteChannelMessages in pts order, the channel in `chats`. Messages carry the receiving
// bot's file references (of reference epoch `epoch`); `date` is the emulator clock's unix time.
import type { TlObject } from './tl';
import { messageObject } from './content-objects';
import { channelObject } from './tl-objects';
import type { Bot, ChannelChange, World } from './world';

/** Updates (pts steps) pushed one by one per rescan; more are announced as updateChannelTooLong. */
export const PUSH_LIMIT = 1000;

/**
 * The updates pushed to `bot` for one rescan's change of a channel. More than PUSH_LIMIT pts
 * steps are pushed as Telegram pushes a burst: one updateChannelTooLong (with the channel's pts),
 * after which the client asks getChannelDifference.
 */
export function channelUpdates(world: World, bot: Bot, change: ChannelChange, epoch: number, date: number): TlObject {
  const { channel } = change;
  if (change.events.reduce((n, e) => n + e.ptsCount, 0) > PUSH_LIMIT) {
    const tooLong = { _: 'updateChannelTooLong', channel_id: BigInt(channel.id), pts: channel.pts };
    return { _: 'updates', updates: [tooLong], users: [], chats: [channelObject(world, channel, bot)], date, seq: 0 };
  }
  const updates: TlObject[] = [];
  for (const e of change.events) {
    if (e.kind === 'delete') {
      updates.push({ _: 'updateDeleteChannelMessages', channel_id: BigInt(channel.id), messages: e.msgIds, pts: e.pts, pts_count: e.ptsCount });
      continue;
    }
    const msg = channel.messages.get(e.msgId);
    const kind = e.kind === 'edit' ? 'updateEditChannelMessage' : 'updateNewChannelMessage';
    // Gone already (never the case for a change just applied): the client sees a pts gap and asks.
    if (msg) updates.push({ _: kind, message: messageObject(world, bot, channel, msg, epoch), pts: e.pts, pts_count: e.ptsCount });
  }
  return { _: 'updates', updates, users: [], chats: [channelObject(world, channel, bot)], date, seq: 0 };
}
