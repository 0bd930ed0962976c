// Builds the TL objects the emulator returns, from the world's bots, channels and documents, as
// plain objects (tl/types.ts). Each carries the fields every layer it is written at needs: the
// writer takes, per layer, only what that layer's definition has (see tl/registry.ts).
import { documentAttributes } from './media-attributes';
import type { TlObject } from './tl';
import type { Bot, EmuChannel, EmuDocument, World } from './world';

export function peerChannel(channel: EmuChannel): TlObject {
  return { _: 'peerChannel', channel_id: BigInt(channel.id) };
}

export function userObject(bot: Bot, self: boolean): TlObject {
  return {
    _: 'user', id: BigInt(bot.id), access_hash: bot.accessHash, self, bot: true, bot_nochats: false,
    first_name: `tgvfs emulator bot ${bot.id}`, username: `tgvfs_emu_${bot.id}_bot`, bot_info_version: 1,
  };
}

export function channelObject(world: World, channel: EmuChannel, bot: Bot): TlObject {
  return {
    _: 'channel', id: BigInt(channel.id), access_hash: world.channelAccessHash(bot, channel.id), title: channel.name,
    photo: { _: 'chatPhotoEmpty' }, date: channel.date, broadcast: true,
    admin_rights: { _: 'chatAdminRights', post_messages: true, edit_messages: true, delete_messages: true },
  };
}

/** A file reference: [1][epoch u32][mac of bot, document or photo, epoch]. Per bot, as in Telegram. */
export function fileReference(world: World, bot: Bot, doc: { id: bigint }, epoch: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32LE(epoch, 1);
  return Buffer.concat([head, world.mac(`ref:${bot.id}:${doc.id}:${epoch}`, 12)]);
}

export type RefCheck = 'ok' | 'expired' | 'invalid';

export function checkFileReference(world: World, bot: Bot, doc: { id: bigint }, ref: Buffer, epoch: number): RefCheck {
  if (ref.length !== 17 || ref[0] !== 1) return 'invalid';
  const theirs = ref.readUInt32LE(1);
  if (theirs !== epoch) return 'expired';
  // Another bot's reference is as good as stale for this one: it must fetch the message itself.
  return fileReference(world, bot, doc, epoch).equals(ref) ? 'ok' : 'expired';
}

/** Stripped thumbnails are tiny inline JPEG bodies; any few bytes of that form will do. */
export const STRIPPED = Buffer.from([1, 40, 40, 0xff, 0xd8, 0xff, 0xd9]);

export function documentObject(world: World, bot: Bot, doc: EmuDocument, epoch: number): TlObject {
  const attributes = documentAttributes(doc);
  return {
    _: 'document', id: doc.id, access_hash: doc.accessHash, file_reference: fileReference(world, bot, doc, epoch),
    date: doc.mtime, mime_type: doc.mimeType, size: BigInt(doc.size), dc_id: doc.dcId, attributes,
    thumbs: doc.thumb
      ? [{ _: 'photoStrippedSize', type: 'i', bytes: STRIPPED }, { _: 'photoSize', type: 'm', w: doc.thumb.w, h: doc.thumb.h, size: doc.thumb.size }]
      : undefined,
  };
}

export function emptyMessage(channel: EmuChannel, id: number): TlObject {
  return { _: 'messageEmpty', id, peer_id: peerChannel(channel) };
}

/** An empty peerNotifySettings (every layer's fields are optional). */
export const NOTIFY_SETTINGS: TlObject = { _: 'peerNotifySettings' };
