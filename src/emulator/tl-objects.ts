// Builds the TL objects the emulator returns, from the world's bots, channels and documents.
import bigInt from 'big-integer';
import { Api } from 'telegram';
import type { Bot, EmuChannel, EmuDocument, EmuMessage, World } from './world';

export function long(v: bigint | number): bigInt.BigInteger {
  return bigInt(v.toString());
}

export function userObject(bot: Bot, self: boolean): Api.User {
  return new Api.User({
    id: long(bot.id),
    accessHash: long(bot.accessHash),
    self,
    bot: true,
    botNochats: false,
    firstName: `tgvfs emulator bot ${bot.id}`,
    username: `tgvfs_emu_${bot.id}_bot`,
    botInfoVersion: 1,
  });
}

export function channelObject(world: World, channel: EmuChannel, bot: Bot): Api.Channel {
  return new Api.Channel({
    id: long(channel.id),
    accessHash: long(world.channelAccessHash(bot, channel.id)),
    title: channel.name,
    photo: new Api.ChatPhotoEmpty(),
    date: channel.date,
    broadcast: true,
    adminRights: new Api.ChatAdminRights({ postMessages: true, editMessages: true, deleteMessages: true }),
  });
}

/** A file reference: [1][epoch u32][mac of bot, document, epoch]. Per bot, as in Telegram. */
export function fileReference(world: World, bot: Bot, doc: EmuDocument, epoch: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32LE(epoch, 1);
  return Buffer.concat([head, world.mac(`ref:${bot.id}:${doc.id}:${epoch}`, 12)]);
}

export type RefCheck = 'ok' | 'expired' | 'invalid';

export function checkFileReference(world: World, bot: Bot, doc: EmuDocument, ref: Buffer, epoch: number): RefCheck {
  if (ref.length !== 17 || ref[0] !== 1) return 'invalid';
  const theirs = ref.readUInt32LE(1);
  if (theirs !== epoch) return 'expired';
  // Another bot's reference is as good as stale for this one: it must fetch the message itself.
  return fileReference(world, bot, doc, epoch).equals(ref) ? 'ok' : 'expired';
}

/** Stripped thumbnails are tiny inline JPEG bodies; any few bytes of that form will do. */
const STRIPPED = Buffer.from([1, 40, 40, 0xff, 0xd8, 0xff, 0xd9]);

export function documentObject(world: World, bot: Bot, doc: EmuDocument, epoch: number): Api.Document {
  const attributes: Api.TypeDocumentAttribute[] = [new Api.DocumentAttributeFilename({ fileName: doc.name })];
  if (doc.isVideo) attributes.unshift(new Api.DocumentAttributeVideo({ supportsStreaming: true, duration: 0, w: 0, h: 0 }));
  return new Api.Document({
    id: long(doc.id),
    accessHash: long(doc.accessHash),
    fileReference: fileReference(world, bot, doc, epoch),
    date: doc.mtime,
    mimeType: doc.mimeType,
    size: long(doc.size),
    dcId: doc.dcId,
    attributes,
    thumbs: doc.thumb
      ? [new Api.PhotoStrippedSize({ type: 'i', bytes: STRIPPED }), new Api.PhotoSize({ type: 'm', w: doc.thumb.w, h: doc.thumb.h, size: doc.thumb.size })]
      : undefined,
  });
}

export function messageObject(world: World, bot: Bot, channel: EmuChannel, msg: EmuMessage, epoch: number): Api.Message {
  return new Api.Message({
    id: msg.id,
    peerId: new Api.PeerChannel({ channelId: long(channel.id) }),
    date: msg.date,
    message: '',
    post: true,
    media: new Api.MessageMediaDocument({ document: documentObject(world, bot, msg.doc, epoch), video: msg.doc.isVideo || undefined }),
  });
}

export function emptyMessage(channel: EmuChannel, id: number): Api.MessageEmpty {
  return new Api.MessageEmpty({ id, peerId: new Api.PeerChannel({ channelId: long(channel.id) }) });
}
