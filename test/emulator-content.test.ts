// A channel folder with a manifest (.messages.json) looks like a real channel: every kind of post
// comes back as Telegram writes it, read by GramJS at layer 198 and by mtcute at layer 227 (and
// Telethon at 144), photos download byte-exact by size, a repost shares its document.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import bigInt from 'big-integer';
import type { TlObject } from '../src/emulator/tl';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { contentChannel } from './helpers/content-channel';
import { rawLogin } from './helpers/raw-mtproto';

const IDS = Array.from({ length: 14 }, (_, i) => i + 1);

function attr<T>(doc: Api.Document, cls: new (...args: never[]) => T): T | undefined {
  return doc.attributes.find((a) => a instanceof cls) as T | undefined;
}

/** The raw bytes of channels.getMessages(ids 1–14) as the emulator writes them at `layer`. */
async function rawMessages(f: EmulatorFixture, layer: number): Promise<Buffer> {
  const cfg = f.emu.config;
  const dc = cfg.telegram!.dcs.find((d) => d.id === 2)!;
  const s = await rawLogin(dc, cfg.telegram!.rsaPublicKeys[0]!);
  try {
    await s.call({
      _: 'initConnection', api_id: cfg.apiId, device_model: 'o', system_version: '1', app_version: '1', system_lang_code: 'en', lang_pack: '', lang_code: 'en',
      query: { _: 'help.getConfig' },
    }, { layer });
    await s.call({ _: 'auth.importBotAuthorization', flags: 0, api_id: cfg.apiId, api_hash: cfg.apiHash, bot_auth_token: cfg.bots[0]! });
    const channel = { _: 'inputChannel', channel_id: BigInt(-channelId(f, 'real') - 1e12), access_hash: 0n };
    const req = s.send({ _: 'channels.getMessages', channel, id: IDS.map((id) => ({ _: 'inputMessageID', id })) });
    const m = await s.next((x) => x.obj._ === 'rpc_result' && x.obj.req_msg_id === req);
    assert.equal((m.obj.result as TlObject)._, 'messages.channelMessages');
    return m.raw.subarray(12);
  } finally {
    s.sock.close();
  }
}

describe('emulator content: a manifest channel with every kind of post', () => {
  let f: EmulatorFixture;
  let messages: Api.TypeMessage[];
  const logs: string[] = [];

  before(async () => {
    f = await startFixture(
      { ...contentChannel('real'), 'bad/a.bin': 10, 'bad/.messages.json': Buffer.from(JSON.stringify([{ id: 1, kind: 'document', file: 'a.bin' }, { id: 2, kind: 'sticker' }])) },
      { watch: false, log: (l) => logs.push(l) },
    );
    const w = await f.startWorker(0);
    const input = await w.resolveChannel(channelId(f, 'real'));
    const res = await w.client.invoke(new Api.channels.GetMessages({ channel: input, id: IDS.map((id) => new Api.InputMessageID({ id })) }));
    messages = (res as Api.messages.ChannelMessages).messages;
  });
  after(() => f.close());

  it('layer 198 (GramJS): documents carry their kind\'s attributes, captions and album ids', () => {
    const msg = (id: number): Api.Message => messages[id - 1] as Api.Message;
    const doc = (id: number): Api.Document => (msg(id).media as Api.MessageMediaDocument).document as Api.Document;
    assert.equal(msg(2).message, 'The report');
    assert.equal(attr(doc(2), Api.DocumentAttributeFilename)?.fileName, 'report.pdf');
    assert.equal(doc(2).mimeType, 'application/pdf');
    assert.equal(doc(2).size.toJSNumber(), 5000);
    // Album: the photo and the nameless video share grouped_id 77.
    assert.equal(msg(3).groupedId?.toJSNumber(), 77);
    assert.equal(msg(4).groupedId?.toJSNumber(), 77);
    assert.equal(attr(doc(4), Api.DocumentAttributeFilename), undefined, 'name: null → no file-name attribute');
    assert.equal(attr(doc(4), Api.DocumentAttributeVideo)?.supportsStreaming, true);
    assert.equal((msg(4).media as Api.MessageMediaDocument).video, true);
    // clip.jpg beside clip.mp4 is its thumbnail, as in a folder without a manifest.
    const thumb = doc(4).thumbs?.find((t) => t.type === 'm') as Api.PhotoSize;
    assert.deepEqual([thumb.w, thumb.h, thumb.size], [1280, 960, 5000]);
    assert.ok(messages[4] instanceof Api.MessageEmpty, 'id 5 is a gap');
    const audio = attr(doc(6), Api.DocumentAttributeAudio)!;
    assert.deepEqual([audio.title, audio.performer, audio.voice], ['Song', 'Artist', false]);
    assert.equal(attr(doc(6), Api.DocumentAttributeFilename), undefined, 'audio has no file name by default');
    assert.equal(attr(doc(7), Api.DocumentAttributeAudio)?.voice, true);
    assert.equal(doc(7).mimeType, 'audio/ogg');
    assert.equal((msg(7).media as Api.MessageMediaDocument).voice, true);
    assert.equal(attr(doc(8), Api.DocumentAttributeVideo)?.roundMessage, true);
    assert.equal((msg(8).media as Api.MessageMediaDocument).round, true);
    assert.equal(msg(8).date, 1700000000);
    assert.equal(msg(9).message, 'Hello, channel');
    assert.equal(msg(9).media, null);
  });

  it('layer 198 (GramJS): photos, service messages, polls, web pages, a repost', () => {
    const photo = ((messages[2] as Api.Message).media as Api.MessageMediaPhoto).photo as Api.Photo;
    assert.deepEqual(photo.sizes.map((s) => s.type), ['i', 's', 'm', 'x', 'y']);
    const y = photo.sizes[4] as Api.PhotoSize;
    assert.deepEqual([y.w, y.h, y.size], [1280, 960, 70_000]);
    const service = (id: number): Api.MessageService => messages[id - 1] as Api.MessageService;
    assert.ok(service(1).action instanceof Api.MessageActionChannelCreate);
    assert.ok(service(10).action instanceof Api.MessageActionPinMessage);
    assert.equal((service(10).replyTo as Api.MessageReplyHeader).replyToMsgId, 9);
    assert.equal((service(14).action as Api.MessageActionChatEditTitle).title, 'New title');
    const poll = (messages[10] as Api.Message).media as Api.MessageMediaPoll;
    assert.equal(poll.poll.question.text, 'Like it?');
    assert.equal(poll.poll.answers.length, 2);
    const web = (messages[11] as Api.Message).media as Api.MessageMediaWebPage;
    assert.equal((web.webpage as Api.WebPage).url, 'https://example.com/page');
    const repost = ((messages[12] as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
    const original = ((messages[1] as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
    assert.equal(repost.id.toString(), original.id.toString(), 'the same file posted twice is the same document');
    assert.equal(repost.accessHash.toString(), original.accessHash.toString());
    assert.equal((messages[12] as Api.Message).message, 'again');
  });

  it('layer 198: GramJS 2.26.22 writes the messages back byte for byte', async () => {
    const bytes = await rawMessages(f, 198);
    const obj = new BinaryReader(bytes).tgReadObject() as Api.messages.ChannelMessages;
    assert.equal(obj.messages.length, 14);
    assert.ok(obj.getBytes().equals(bytes));
  });

  it('downloads every photo size byte-exact through inputPhotoFileLocation', async () => {
    const w = f.workers[0]!;
    const photo = ((messages[2] as Api.Message).media as Api.MessageMediaPhoto).photo as Api.Photo;
    const source = f.files.get('real/pic.jpg')!;
    for (const size of photo.sizes.filter((s): s is Api.PhotoSize => s instanceof Api.PhotoSize)) {
      const location = new Api.InputPhotoFileLocation({ id: photo.id, accessHash: photo.accessHash, fileReference: photo.fileReference, thumbSize: size.type });
      const parts: Buffer[] = [];
      for (let offset = 0; offset < size.size; offset += 65536) {
        const r = (await w.client.invoke(new Api.upload.GetFile({ location, offset: bigInt(offset), limit: 65536 }))) as Api.upload.File;
        assert.ok(r.type instanceof Api.storage.FileJpeg);
        parts.push(Buffer.from(r.bytes));
      }
      assert.ok(Buffer.concat(parts).equals(source.subarray(0, size.size)), `size ${size.type}: ${size.size} bytes`);
    }
    const wrong = new Api.InputPhotoFileLocation({ id: photo.id, accessHash: photo.accessHash.add(1), fileReference: photo.fileReference, thumbSize: 'y' });
    await assert.rejects(w.client.invoke(new Api.upload.GetFile({ location: wrong, offset: bigInt(0), limit: 4096 })), /FILE_ID_INVALID/);
  });

  it('layer 227: mtcute 0.30.3 reads the messages and writes the same bytes back', async () => {
    const bytes = await rawMessages(f, 227);
    /* eslint-disable @typescript-eslint/no-require-imports -- mtcute ships CommonJS bundles beside ESM */
    const runtime = require('@mtcute/tl-runtime') as typeof import('@mtcute/tl-runtime');
    const maps = require('@mtcute/core/utils.js') as { __tlReaderMap: never; __tlWriterMap: never };
    const reader = new runtime.TlBinaryReader(maps.__tlReaderMap, bytes);
    const res = reader.object() as { _: string; messages: { _: string; media?: { _: string; photo?: { sizes: { type: string }[] }; poll?: { question: { text: string } } }; action?: { _: string } }[] };
    assert.equal(reader.pos, bytes.length);
    assert.ok(Buffer.from(runtime.TlBinaryWriter.serializeObject(maps.__tlWriterMap, res as never)).equals(bytes), 'mtcute writes it back the same');
    const kinds = res.messages.map((m) => m.media?._ ?? m.action?._ ?? m._);
    assert.deepEqual(kinds, [
      'messageActionChannelCreate', 'messageMediaDocument', 'messageMediaPhoto', 'messageMediaDocument', 'messageEmpty', 'messageMediaDocument',
      'messageMediaDocument', 'messageMediaDocument', 'message', 'messageActionPinMessage', 'messageMediaPoll', 'messageMediaWebPage',
      'messageMediaDocument', 'messageActionChatEditTitle',
    ]);
    assert.deepEqual(res.messages[2]!.media!.photo!.sizes.map((s) => s.type), ['i', 's', 'm', 'x', 'y']);
    assert.equal(res.messages[10]!.media!.poll!.question.text, 'Like it?');
  });

  it('layer 144: Telethon 1.25.1 reads the messages (a poll\'s question as plain text)', async () => {
    const bytes = await rawMessages(f, 144);
    const py = [
      'import sys, json',
      'from telethon.extensions import BinaryReader',
      'obj = BinaryReader(bytes.fromhex(sys.stdin.read().strip())).tgread_object()',
      'out = [type(getattr(m, "media", None) or getattr(m, "action", None) or m).__name__ for m in obj.messages]',
      'print(json.dumps([out, obj.messages[10].media.poll.question, bytes(obj).hex()]))',
    ].join('\n');
    const [kinds, question, again] = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: bytes.toString('hex'), encoding: 'utf8' })) as [string[], string, string];
    assert.deepEqual(kinds.slice(0, 5), ['MessageActionChannelCreate', 'MessageMediaDocument', 'MessageMediaPhoto', 'MessageMediaDocument', 'MessageEmpty']);
    assert.equal(kinds[10], 'MessageMediaPoll');
    assert.equal(question, 'Like it?');
    assert.equal(again, bytes.toString('hex'), 'Telethon writes it back the same');
  });

  it('an invalid manifest is logged with its folder and entry; that channel is empty, the others served', () => {
    assert.ok(logs.some((l) => l.includes('channel folder bad') && l.includes('entry 1 (id 2)') && l.includes('kind must be one of')), logs.join('\n'));
    assert.ok(f.emu.config.channels.some((c) => c.name === 'bad'));
    assert.equal(messages.length, 14);
  });
});
