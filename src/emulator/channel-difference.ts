// updates.getChannelDifference's answer, as Telegram gives it to a bot that is a channel admin:
//   - `channelDifferenceEmpty` when the client's pts is the channel's;
//   - `channelDifference` with the events after its pts, at most `limit` of them (a bot may ask
//     up to 100,000) and at most `--difference-slice` when that is set, `final: false` until the
//     answer reaches the channel's pts, so the client asks again from the pts it was given;
//   - `channelDifferenceTooLong` only when the pts is older than the log still holds
//     (channel-log.ts): its dialog has the newest message id and the pts to follow from.
// How far behind a client is does not matter otherwise: Telegram slices, it does not give up.
import { eventsAfter, logCovers } from './channel-log';
import type { TlObject } from './tl';
import { messageObject } from './content-objects';
import { channelObject, NOTIFY_SETTINGS, peerChannel } from './tl-objects';
import { World, type Bot, type ChannelEvent, type EmuChannel } from './world';

/** The most events a bot may ask for in one getChannelDifference. */
export const MAX_DIFFERENCE_LIMIT = 100_000;

export interface DifferenceRequest {
  world: World;
  bot: Bot;
  channel: EmuChannel;
  /** The client's pts (at most the channel's: the caller refuses one from the future). */
  pts: number;
  /** The client's `limit`; 0 or less: the most allowed. */
  limit: number;
  /** `--difference-slice`: at most this many events per answer; 0: no slice. */
  slice: number;
  /** File reference epoch for the messages' documents. */
  epoch: number;
}

/** The answer to one getChannelDifference. */
export function channelDifference(req: DifferenceRequest): TlObject {
  const { channel, pts } = req;
  if (pts === channel.pts) return { _: 'updates.channelDifferenceEmpty', final: true, pts: channel.pts, timeout: 30 };
  if (!logCovers(channel, pts)) return differenceTooLong(req);
  const { events, final } = eventsAfter(channel, pts, answerSize(req.limit, req.slice));
  // Never the case while the log is whole from logBase on; if it were, starting over is safe.
  if (events.length === 0) return differenceTooLong(req);
  const newMessages: TlObject[] = [];
  const otherUpdates: TlObject[] = [];
  for (const e of events) addEvent(req, e, newMessages, otherUpdates);
  return {
    _: 'updates.channelDifference', final, pts: events[events.length - 1]!.pts, timeout: 30,
    new_messages: newMessages, other_updates: otherUpdates, chats: [channelObject(req.world, channel, req.bot)], users: [],
  };
}

/** Events in one answer: the client's limit (capped at Telegram's), then the slice. */
function answerSize(limit: number, slice: number): number {
  const asked = limit > 0 ? Math.min(limit, MAX_DIFFERENCE_LIMIT) : MAX_DIFFERENCE_LIMIT;
  return slice > 0 ? Math.min(asked, slice) : asked;
}

/** One event as a difference carries it: a new post in new_messages, edits and deletions in other_updates. */
function addEvent(req: DifferenceRequest, e: ChannelEvent, newMessages: TlObject[], otherUpdates: TlObject[]): void {
  const { world, bot, channel } = req;
  switch (e.kind) {
    case 'new': {
      // A post deleted since: its deletion follows in the log; the message itself is gone.
      const msg = channel.messages.get(e.msgId);
      if (msg) newMessages.push(messageObject(world, bot, channel, msg, req.epoch));
      return;
    }
    case 'edit': {
      // As Telegram lists edits: in other_updates, with the message as it is now.
      const msg = channel.messages.get(e.msgId);
      if (msg) otherUpdates.push({ _: 'updateEditChannelMessage', message: messageObject(world, bot, channel, msg, req.epoch), pts: e.pts, pts_count: e.ptsCount });
      return;
    }
    case 'delete':
      otherUpdates.push({ _: 'updateDeleteChannelMessages', channel_id: BigInt(channel.id), messages: e.msgIds, pts: e.pts, pts_count: e.ptsCount });
      return;
    default:
      // A new kind of event must say how a difference carries it (this fails to compile until it does).
      return unknownEvent(e);
  }
}

function unknownEvent(e: never): never {
  throw new Error(`channel event of unknown kind: ${JSON.stringify(e)}`);
}

function differenceTooLong(req: DifferenceRequest): TlObject {
  const { world, bot, channel } = req;
  const top = World.newestMessage(channel);
  const topMsg = channel.messages.get(top);
  return {
    _: 'updates.channelDifferenceTooLong',
    final: true,
    timeout: 30,
    dialog: {
      _: 'dialog', peer: peerChannel(channel), top_message: top, read_inbox_max_id: top, read_outbox_max_id: top,
      unread_count: 0, unread_mentions_count: 0, unread_reactions_count: 0, unread_poll_votes_count: 0,
      notify_settings: NOTIFY_SETTINGS, pts: channel.pts,
    },
    messages: topMsg ? [messageObject(world, bot, channel, topMsg, req.epoch)] : [],
    chats: [channelObject(req.world, channel, bot)], users: [],
  };
}
