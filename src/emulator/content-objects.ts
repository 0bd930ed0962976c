// The messages of a channel as Telegram writes them: a plain file post (a document), or a
// manifest's post of any kind (manifest.ts): photos with their sizes, documents with the
// attributes of their kind, text, service messages, polls and web pages, with caption, album id
// and edit date. Objects carry every layer's fields; the TL writer takes what a layer has.
import { createHash } from 'node:crypto';
import { mediaFlags } from './media-attributes';
import type { TlObject } from './tl';
import { documentObject, fileReference, peerChannel, STRIPPED } from './tl-objects';
import type { Bot, EmuChannel, EmuMessage, EmuPhoto, PostBody, World } from './world';

export function messageObject(world: World, bot: Bot, channel: EmuChannel, msg: EmuMessage, epoch: number): TlObject {
  const post = msg.post;
  if (post?.kind === 'service') return serviceMessage(channel, msg, post);
  const text = post?.caption ?? '';
  return {
    _: 'message', id: msg.id, peer_id: peerChannel(channel), date: msg.date, message: text, post: true,
    media: mediaObject(world, bot, msg, epoch), grouped_id: post?.grouped, edit_date: post?.editDate,
    entities: post?.kind === 'webpage' ? urlEntities(text) : undefined,
  };
}

function mediaObject(world: World, bot: Bot, msg: EmuMessage, epoch: number): TlObject | undefined {
  if (msg.doc) return { _: 'messageMediaDocument', document: documentObject(world, bot, msg.doc, epoch), ...mediaFlags(msg.doc) };
  const post = msg.post;
  if (post?.photo) return { _: 'messageMediaPhoto', photo: photoObject(world, bot, post.photo, epoch) };
  if (post?.kind === 'poll') return pollMedia(msg.id, post.caption);
  if (post?.kind === 'webpage') return webPageMedia(post.caption);
  return undefined; // text
}

export function photoObject(world: World, bot: Bot, photo: EmuPhoto, epoch: number): TlObject {
  return {
    _: 'photo', id: photo.id, access_hash: photo.accessHash, file_reference: fileReference(world, bot, photo, epoch), date: photo.mtime,
    sizes: [{ _: 'photoStrippedSize', type: 'i', bytes: STRIPPED }, ...photo.sizes.map((s) => ({ _: 'photoSize', ...s }))],
    dc_id: photo.dcId,
  };
}

/** A caption is a new title; none pins the message before it (the first message creates the channel). */
function serviceMessage(channel: EmuChannel, msg: EmuMessage, post: PostBody): TlObject {
  let action: TlObject;
  let replyTo: TlObject | undefined;
  if (post.caption) action = { _: 'messageActionChatEditTitle', title: post.caption };
  else if (post.pinned !== undefined) {
    action = { _: 'messageActionPinMessage' };
    replyTo = { _: 'messageReplyHeader', reply_to_msg_id: post.pinned };
  } else action = { _: 'messageActionChannelCreate', title: channel.name };
  return { _: 'messageService', id: msg.id, peer_id: peerChannel(channel), date: msg.date, post: true, action, reply_to: replyTo };
}

function stableId(label: string): bigint {
  return createHash('sha256').update(label).digest().readBigInt64LE(0) & 0x7fffffffffffffffn;
}

/** Text with entities from layer 198 on (the TL writer gives older layers the plain text). */
function textWithEntities(text: string): TlObject {
  return { _: 'textWithEntities', text, entities: [] };
}

/** A poll asking the caption, with two answers and no votes yet. */
function pollMedia(msgId: number, question: string): TlObject {
  const answers = ['Yes', 'No'].map((a, i) => ({ _: 'pollAnswer', text: textWithEntities(a), option: Buffer.from([0x30 + i]) }));
  return {
    _: 'messageMediaPoll',
    poll: { _: 'poll', id: stableId(`poll:${msgId}:${question}`), question: textWithEntities(question || 'Poll'), answers, hash: 0n },
    results: { _: 'pollResults', min: false },
  };
}

const URL_RE = /https?:\/\/[^\s]+/;

/** The preview of the caption's first link, or webPageEmpty when it has none (no preview made). */
function webPageMedia(caption: string): TlObject {
  const url = URL_RE.exec(caption)?.[0];
  if (!url) return { _: 'messageMediaWebPage', webpage: { _: 'webPageEmpty', id: stableId(`webpage:${caption}`) } };
  const host = new URL(url).host;
  return {
    _: 'messageMediaWebPage',
    webpage: {
      _: 'webPage', id: stableId(`webpage:${url}`), url, display_url: url.replace(/^https?:\/\//, ''), hash: 0, type: 'article',
      site_name: host, title: host, description: caption,
    },
  };
}

function urlEntities(text: string): TlObject[] {
  const m = URL_RE.exec(text);
  return m ? [{ _: 'messageEntityUrl', offset: m.index, length: m[0].length }] : [];
}
