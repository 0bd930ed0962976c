// Changing a manifest channel while the emulator runs: Telegram's updates are pushed and listed
// by getChannelDifference (edits in other_updates, same message id, a new document or photo id
// when the bytes changed; deletions; new posts), the state outlives a restart, and the data
// watcher sees a changed `.messages.json`.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { Raw } from 'telegram/events';
import { startEmulator } from '../src/emulator';
import type { Worker } from '../src/telegram';
import { content, channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { contentChannel, fakeJpeg, MANIFEST } from './helpers/content-channel';

type ChannelUpdate = Api.UpdateNewChannelMessage | Api.UpdateEditChannelMessage | Api.UpdateDeleteChannelMessages;

/** Pushed channel updates; `next(n)` resolves once n have arrived (rejects after 10 s). */
function collect(w: Worker): { updates: ChannelUpdate[]; next(n: number): Promise<ChannelUpdate[]> } {
  const updates: ChannelUpdate[] = [];
  let wake = (): void => undefined;
  w.client.addEventHandler((u: Api.TypeUpdate) => {
    if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage || u instanceof Api.UpdateDeleteChannelMessages) {
      updates.push(u);
      wake();
    }
  }, new Raw({}));
  return {
    updates,
    next(n) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${updates.length} of ${n} updates`)), 10_000);
        wake = () => {
          if (updates.length < n) return;
          clearTimeout(timer);
          resolve(updates.slice(0, n));
        };
        wake();
      });
    },
  };
}

async function channelPts(w: Worker, input: Api.InputChannel): Promise<number> {
  const full = await w.client.invoke(new Api.channels.GetFullChannel({ channel: input }));
  return (full.fullChat as Api.ChannelFull).pts!;
}

function docOf(m: Api.TypeMessage): Api.Document {
  return ((m as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
}

function photoOf(m: Api.TypeMessage): Api.Photo {
  return ((m as Api.Message).media as Api.MessageMediaPhoto).photo as Api.Photo;
}

async function getMessages(w: Worker, input: Api.InputChannel, ids: number[]): Promise<Api.TypeMessage[]> {
  const res = await w.client.invoke(new Api.channels.GetMessages({ channel: input, id: ids.map((id) => new Api.InputMessageID({ id })) }));
  return (res as Api.messages.ChannelMessages).messages;
}

async function download(w: Worker, location: Api.TypeInputFileLocation, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < size; offset += 65536) {
    const r = (await w.client.invoke(new Api.upload.GetFile({ location, offset: bigInt(offset), limit: 65536 }))) as Api.upload.File;
    parts.push(Buffer.from(r.bytes));
  }
  return Buffer.concat(parts);
}

/** The manifest after the edit: caption of 2 changed, 9 deleted, 15 added. */
const EDITED = [
  ...MANIFEST.filter((p) => p.id !== 9).map((p) => (p.id === 2 ? { ...p, caption: 'Report v2' } : p)),
  { id: 15, kind: 'text', caption: 'Fresh' },
];

async function editFolder(f: EmulatorFixture): Promise<{ pdf: Buffer; jpg: Buffer }> {
  const dir = path.join(f.dataDir, 'real');
  const pdf = content(6000, 'pdf v2');
  const jpg = fakeJpeg('jpg v2', 80_000);
  await writeFile(path.join(dir, 'report.pdf'), pdf);
  await writeFile(path.join(dir, 'pic.jpg'), jpg);
  await writeFile(path.join(dir, '.messages.json'), JSON.stringify(EDITED));
  return { pdf, jpg };
}

describe('emulator content: edits, deletions and new posts of a manifest channel', () => {
  it('pushes them as Telegram does and getChannelDifference lists them; edits keep the id', async () => {
    const f = await startFixture(contentChannel('real'), { watch: false });
    try {
      const w = await f.startWorker(0);
      const input = await w.resolveChannel(channelId(f, 'real'));
      const [oldReport, oldPic] = await getMessages(w, input, [2, 3]);
      const pts0 = await channelPts(w, input);
      const seen = collect(w);
      const { pdf, jpg } = await editFolder(f);
      await f.emu.rescan();
      // GramJS hands deletions to handlers after the rest of one `updates`: pts says the order.
      const got = (await seen.next(5)).sort((a, b) => a.pts - b.pts);
      assert.deepEqual(got.map((u) => [u.className, u instanceof Api.UpdateDeleteChannelMessages ? u.messages : u.message.id, u.pts, u.ptsCount]), [
        ['UpdateDeleteChannelMessages', [9], pts0 + 1, 1],
        ['UpdateEditChannelMessage', 2, pts0 + 2, 1],
        ['UpdateEditChannelMessage', 3, pts0 + 3, 1],
        ['UpdateEditChannelMessage', 13, pts0 + 4, 1],
        ['UpdateNewChannelMessage', 15, pts0 + 5, 1],
      ]);
      const [, e2, e3, e13] = got as [unknown, Api.UpdateEditChannelMessage, Api.UpdateEditChannelMessage, Api.UpdateEditChannelMessage];
      assert.equal((e2.message as Api.Message).message, 'Report v2');
      assert.ok((e2.message as Api.Message).editDate, 'an edited message has edit_date');
      // New bytes: a new document (the repost 13 shares it) and a new photo.
      assert.notEqual(docOf(e2.message).id.toString(), docOf(oldReport!).id.toString());
      assert.equal(docOf(e13.message).id.toString(), docOf(e2.message).id.toString());
      assert.equal(docOf(e2.message).size.toJSNumber(), 6000);
      assert.notEqual(photoOf(e3.message).id.toString(), photoOf(oldPic!).id.toString());

      const diff = await w.client.invoke(new Api.updates.GetChannelDifference({ channel: input, filter: new Api.ChannelMessagesFilterEmpty(), pts: pts0, limit: 100, force: true }));
      assert.ok(diff instanceof Api.updates.ChannelDifference);
      assert.deepEqual(diff.newMessages.map((m) => m.id), [15]);
      assert.deepEqual(diff.otherUpdates.map((u) => [u.className, u instanceof Api.UpdateEditChannelMessage ? u.message.id : (u as Api.UpdateDeleteChannelMessages).messages]), [
        ['UpdateDeleteChannelMessages', [9]], ['UpdateEditChannelMessage', 2], ['UpdateEditChannelMessage', 3], ['UpdateEditChannelMessage', 13],
      ]);
      assert.equal(diff.pts, pts0 + 5);

      // The new bytes download; the replaced document and photo are gone.
      const doc = docOf(e2.message);
      const docLoc = new Api.InputDocumentFileLocation({ id: doc.id, accessHash: doc.accessHash, fileReference: doc.fileReference, thumbSize: '' });
      assert.ok((await download(w, docLoc, 6000)).equals(pdf));
      const photo = photoOf(e3.message);
      const y = photo.sizes.find((s) => s.type === 'y') as Api.PhotoSize;
      assert.equal(y.size, 80_000);
      const photoLoc = new Api.InputPhotoFileLocation({ id: photo.id, accessHash: photo.accessHash, fileReference: photo.fileReference, thumbSize: 'y' });
      assert.ok((await download(w, photoLoc, y.size)).equals(jpg));
      const old = docOf(oldReport!);
      const oldLoc = new Api.InputDocumentFileLocation({ id: old.id, accessHash: old.accessHash, fileReference: old.fileReference, thumbSize: '' });
      await assert.rejects(download(w, oldLoc, 4096), /FILE_ID_INVALID/);
      assert.ok((await getMessages(w, input, [9]))[0] instanceof Api.MessageEmpty);

      // A restart keeps ids, documents and pts.
      const before = await getMessages(w, input, [2, 3, 13, 15]);
      await f.emu.close();
      f.emu = await startEmulator({ dataDir: f.dataDir, bots: 3, configOut: path.join(f.dir, 'config.json'), watch: false });
      const w2 = await f.startWorker(1);
      const input2 = await w2.resolveChannel(channelId(f, 'real'));
      const afterRestart = await getMessages(w2, input2, [2, 3, 13, 15]);
      assert.equal(docOf(afterRestart[0]!).id.toString(), docOf(before[0]!).id.toString());
      assert.equal(photoOf(afterRestart[1]!).id.toString(), photoOf(before[1]!).id.toString());
      assert.equal((afterRestart[3] as Api.Message).message, 'Fresh');
      assert.equal((afterRestart[0] as Api.Message).editDate, (before[0] as Api.Message).editDate);
      assert.equal(await channelPts(w2, input2), pts0 + 5);
    } finally {
      await f.close();
    }
  });

  it('the data watcher follows a changed .messages.json', async () => {
    const f = await startFixture(contentChannel('real'));
    try {
      const w = await f.startWorker(0);
      const input = await w.resolveChannel(channelId(f, 'real'));
      const seen = collect(w);
      const manifest = MANIFEST.map((p) => (p.id === 9 ? { ...p, caption: 'Hello again' } : p));
      await writeFile(path.join(f.dataDir, 'real', '.messages.json'), JSON.stringify(manifest));
      const [edit] = await seen.next(1);
      assert.ok(edit instanceof Api.UpdateEditChannelMessage);
      assert.equal((edit.message as Api.Message).message, 'Hello again');
      assert.equal((await getMessages(w, input, [9]))[0]!.id, 9);
    } finally {
      await f.close();
    }
  });
});
