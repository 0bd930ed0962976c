// What a channel's messages and updates mean for a catalog, as plain data: GramJS's Api objects
// stop here. A message is its id and, when it carries a document, that document as this bot sees
// it (DocInfo, with the bot's own file reference); an update or a difference is a list of such
// upserts and of deletions, with the pts that orders them.
import { Api, type TelegramClient } from 'telegram';
import { Raw } from 'telegram/events';
import { UpdateConnectionState } from 'telegram/network';
import { botApiChannelId } from '../util/channel-id';
import { docInfoFromMessage, type DocInfo } from './doc-info';

/** A channel message: its document, or undefined (messageEmpty, a service message, no document). */
export interface ChannelMessage {
  msgId: number;
  doc: DocInfo | undefined;
}

/** One change to a channel's files. */
export type ChannelChange =
  | ({ kind: 'upsert' } & ChannelMessage)
  | { kind: 'delete'; ids: number[] };

/** updates.getChannelDifference's answer. */
export type ChannelDifference =
  /** Nothing happened since the pts asked from; `pts` is the current one. */
  | { kind: 'empty'; pts: number }
  /** What happened since; `final` false: ask again from `pts` for more. `newest`: highest new message id (0: none). */
  | { kind: 'difference'; pts: number; final: boolean; changes: ChannelChange[]; newest: number }
  /** Too far back to say: `top` is the newest message id, `pts` the state to follow from (0: none given). */
  | { kind: 'tooLong'; pts: number; top: number };

/** What Telegram pushed to one bot. */
export type ChannelUpdate =
  /** Changes with their pts: applied in order when `pts - ptsCount` is the pts already held. */
  | { kind: 'changes'; channel: number; pts: number; ptsCount: number; changes: ChannelChange[] }
  /** Telegram will not push what happened in the channel: ask getChannelDifference. */
  | { kind: 'tooLong'; channel: number }
  /** The connection dropped and is back: whatever was pushed meanwhile is lost. */
  | { kind: 'reconnected' };

/** A message of `channel` as this bot (`worker`) received it. */
export function channelMessage(channel: number, msg: Api.TypeMessage, worker: number): ChannelMessage {
  let doc: DocInfo | undefined;
  if (msg instanceof Api.Message) {
    try {
      doc = docInfoFromMessage(channel, msg, { worker });
    } catch {
      // A post without a document is not a file.
    }
  }
  return { msgId: msg.id, doc };
}

function upsert(channel: number, msg: Api.TypeMessage, worker: number): ChannelChange {
  return { kind: 'upsert', ...channelMessage(channel, msg, worker) };
}

/** The changes an update found in a difference's other_updates carries. */
function changesOf(channel: number, u: Api.TypeUpdate, worker: number): ChannelChange[] {
  if (u instanceof Api.UpdateDeleteChannelMessages) return [{ kind: 'delete', ids: u.messages }];
  if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage) return [upsert(channel, u.message, worker)];
  return [];
}

/** updates.getChannelDifference's answer for `channel`, as plain data. */
export function channelDifference(channel: number, diff: Api.updates.TypeChannelDifference, worker: number): ChannelDifference {
  if (diff instanceof Api.updates.ChannelDifferenceEmpty) return { kind: 'empty', pts: diff.pts };
  if (diff instanceof Api.updates.ChannelDifference) {
    // Loops, not spreads: a bot's difference may hold up to 100,000 messages, more arguments
    // than a call's stack takes.
    const changes = diff.newMessages.map((msg) => upsert(channel, msg, worker));
    for (const u of diff.otherUpdates) for (const c of changesOf(channel, u, worker)) changes.push(c);
    const newest = diff.newMessages.reduce((top, m) => Math.max(top, m.id), 0);
    return { kind: 'difference', pts: diff.pts, final: diff.final ?? false, changes, newest };
  }
  const dialog = diff.dialog;
  const top = dialog instanceof Api.Dialog ? dialog.topMessage : 0;
  const pts = dialog instanceof Api.Dialog && dialog.pts !== undefined ? dialog.pts : 0;
  return { kind: 'tooLong', pts, top };
}

/** A pushed update about a channel as plain data; undefined for any other update. */
function pushedUpdate(u: unknown, worker: number): ChannelUpdate | undefined {
  if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage) {
    const peer = u.message.peerId;
    if (!(peer instanceof Api.PeerChannel)) return undefined;
    const channel = botApiChannelId(peer.channelId);
    return { kind: 'changes', channel, pts: u.pts, ptsCount: u.ptsCount, changes: [upsert(channel, u.message, worker)] };
  }
  if (u instanceof Api.UpdateDeleteChannelMessages) {
    return { kind: 'changes', channel: botApiChannelId(u.channelId), pts: u.pts, ptsCount: u.ptsCount, changes: [{ kind: 'delete', ids: u.messages }] };
  }
  if (u instanceof Api.UpdateChannelTooLong) return { kind: 'tooLong', channel: botApiChannelId(u.channelId) };
  return undefined;
}

/**
 * The channel updates one client receives, to any number of listeners. GramJS's raw handler is
 * attached while someone listens only: with a handler attached, GramJS asks users.getUsers (getMe)
 * before dispatching the first update, an upstream call nobody else needs.
 */
export class ChannelUpdateFeed {
  private readonly listeners = new Set<(u: ChannelUpdate) => void>();
  private attached: { handler: (u: unknown) => void; raw: Raw } | null = null;
  /** The connection dropped and has not come back yet (as heard while attached). */
  private down = false;

  constructor(
    private readonly client: TelegramClient,
    private readonly worker: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Calls `listener` with every channel update from now on; returns its removal. */
  subscribe(listener: (u: ChannelUpdate) => void): () => void {
    this.listeners.add(listener);
    if (!this.attached) {
      // GramJS stores the client on the event builder, and removes every handler that shares
      // the builder or the callback: both are this feed's own.
      this.attached = { handler: (u: unknown): void => this.dispatch(u), raw: new Raw({}) };
      this.client.addEventHandler(this.attached.handler, this.attached.raw);
    }
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0 || !this.attached) return;
      this.client.removeEventHandler(this.attached.handler, this.attached.raw);
      this.attached = null;
    };
  }

  private dispatch(u: unknown): void {
    const update = u instanceof UpdateConnectionState ? this.connectionUpdate(u) : pushedUpdate(u, this.worker);
    if (!update) return;
    for (const l of [...this.listeners]) {
      try {
        l(update);
      } catch (err) {
        this.log(`bot ${this.worker}: update listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private connectionUpdate(u: UpdateConnectionState): ChannelUpdate | undefined {
    // GramJS also says "connected" after every quiet ping (client/updates.js, _updateLoop); only
    // a real drop matters.
    if (u.state !== UpdateConnectionState.connected) {
      this.down = true;
      return undefined;
    }
    if (!this.down) return undefined;
    this.down = false;
    return { kind: 'reconnected' };
  }
}
