// The data folder becomes channels and messages as the contract says, and survives restarts.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Api } from 'telegram';
import { startEmulator } from '../src/emulator';
import { Worker } from '../src/telegram';
import { channelId, startFixture } from './helpers/emulator-fixture';

/** The smallest JPEG header that names its size: SOI, SOF0 (h=90, w=160), EOI. */
function tinyJpeg(): Buffer {
  return Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 90, 0x00, 160, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
}

describe('emulator data folder', () => {
  it('one channel per folder, messages from 1 in name order, x.jpg is the thumbnail of x.mp4', async () => {
    const f = await startFixture({
      'vids/b-clip.mp4': 100_000,
      'vids/b-clip.jpg': tinyJpeg(),
      'vids/a-notes.txt': Buffer.from('hello'),
      'vids/c-photo.jpg': tinyJpeg(),
      'vids/.hidden': Buffer.from('x'),
      'docs/z.pdf': 10,
    });
    try {
      assert.deepEqual(f.emu.config.channels.map((c) => c.name), ['docs', 'vids']);
      assert.ok(f.emu.config.channels.every((c) => String(c.id).startsWith('-100')));
      const w = await f.startWorker(0);
      const vids = channelId(f, 'vids');
      const names = [];
      for (const id of [1, 2, 3]) names.push((await w.getDocumentLocation(vids, id)).fileName);
      assert.deepEqual(names, ['a-notes.txt', 'b-clip.mp4', 'c-photo.jpg']);
      await assert.rejects(w.getMessage(vids, 4), { code: 'MESSAGE_NOT_FOUND' });
      const clip = await w.getMessage(vids, 2);
      const doc = (clip.media as Api.MessageMediaDocument).document as Api.Document;
      assert.equal(doc.mimeType, 'video/mp4');
      assert.ok(doc.attributes.some((a) => a instanceof Api.DocumentAttributeVideo));
      const thumbs = doc.thumbs ?? [];
      assert.ok(thumbs.some((t) => t instanceof Api.PhotoStrippedSize));
      const m = thumbs.find((t): t is Api.PhotoSize => t instanceof Api.PhotoSize)!;
      assert.deepEqual([m.type, m.w, m.h, m.size], ['m', 160, 90, tinyJpeg().length]);
      const loc = new Api.InputDocumentFileLocation({ id: doc.id, accessHash: doc.accessHash, fileReference: doc.fileReference, thumbSize: 'm' });
      assert.ok((await w.getFilePart(loc, 0, 4096)).equals(tinyJpeg()));
      const full = await w.client.invoke(new Api.channels.GetFullChannel({ channel: await w.resolveChannel(vids) }));
      assert.ok(full.fullChat instanceof Api.ChannelFull);
      assert.equal((full.chats[0] as Api.Channel).title, 'vids');
      const bigInt = (await import('big-integer')).default;
      const pong = await w.client.invoke(new Api.Ping({ pingId: bigInt(4242) }));
      assert.equal(pong.pingId.toString(), '4242');
      const notes = await w.getMessage(vids, 1);
      assert.equal(((notes.media as Api.MessageMediaDocument).document as Api.Document).thumbs, null);
    } finally {
      await f.close();
    }
  });

  it('a restart keeps tokens, channel ids, message ids and sessions; a new file gets the next id', async () => {
    const f = await startFixture({ 'one/b.bin': 5000, 'one/c.bin': 6000 });
    try {
      const cfg1 = f.emu.config;
      const w1 = await f.startWorker(0);
      await w1.stop();
      await f.emu.close();
      await writeFile(path.join(f.dataDir, 'one', 'a.bin'), Buffer.from('new'));
      const emu2 = await startEmulator({ dataDir: f.dataDir, bots: 3 });
      f.emu = emu2;
      const cfg2 = emu2.config;
      assert.deepEqual(cfg2.bots, cfg1.bots);
      assert.deepEqual(cfg2.channels, cfg1.channels);
      assert.equal(cfg2.telegram!.rsaPublicKeys[0], cfg1.telegram!.rsaPublicKeys[0]);
      // Same session dir as before; the emulator listens on a new port, so dcs come from cfg2.
      const w2 = await Worker.start({ token: cfg2.bots[0]!, apiId: cfg2.apiId, apiHash: cfg2.apiHash, sessionDir: cfg1.sessionDir, telegram: cfg2.telegram });
      f.workers.push(w2);
      const one = channelId(f, 'one');
      assert.equal((await w2.getDocumentLocation(one, 1)).fileName, 'b.bin');
      assert.equal((await w2.getDocumentLocation(one, 2)).fileName, 'c.bin');
      assert.equal((await w2.getDocumentLocation(one, 3)).fileName, 'a.bin');
    } finally {
      await f.close();
    }
  });
});
