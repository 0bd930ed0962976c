// The emulator as Telegram behaves for a bot that is a channel admin: the data folder is watched,
// changes become posts and deletions pushed as updates, and updates.getChannelDifference answers
// from the channel's pts (empty, a difference in slices, or too long with the newest message id
// for a pts older than the emulator remembers).
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Api } from 'telegram';
import { Raw } from 'telegram/events';
import { startEmulator } from '../src/emulator';
import type { Worker } from '../src/telegram';
import { channelId, startFixture } from './helpers/emulator-fixture';

function difference(w: Worker, channel: Api.InputChannel, pts: number, limit = 100): Promise<Api.updates.TypeChannelDifference> {
  return w.client.invoke(new Api.updates.GetChannelDifference({ channel, filter: new Api.ChannelMessagesFilterEmpty(), pts, limit, force: true }));
}

/** Collects pushed channel updates (and the msg_id of the message that carried them). */
function collect(w: Worker): { updates: Api.TypeUpdate[]; msgIds: bigint[]; waitFor(n: number): Promise<void> } {
  const updates: Api.TypeUpdate[] = [];
  const msgIds: bigint[] = [];
  // The sender's private message hook is the only place that sees a pushed message's msg_id.
  const sender = (w.client as unknown as { _sender: { _processMessage(m: { msgId: { toString(): string }; obj: unknown }): Promise<void> } })._sender;
  const original = sender._processMessage.bind(sender);
  sender._processMessage = async (m) => {
    const obj = await m.obj;
    if (obj instanceof Api.Updates) msgIds.push(BigInt(m.msgId.toString()));
    return original(m);
  };
  w.client.addEventHandler((u: Api.TypeUpdate) => {
    if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateDeleteChannelMessages) updates.push(u);
  }, new Raw({}));
  return {
    updates,
    msgIds,
    async waitFor(n) {
      const deadline = Date.now() + 10_000;
      while (updates.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${updates.length} of ${n} updates`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('emulator channel updates', () => {
  it('pushes new and deleted posts, answers getChannelDifference from a pts', async () => {
    const f = await startFixture({ 'ch/a.txt': 10, 'ch/b.txt': 20 });
    try {
      const w = await f.startWorker(0);
      const other = await f.startWorker(1);
      const ch = channelId(f, 'ch');
      const input = await w.resolveChannel(ch);
      // Two posts: pts 3. pts 1 predates what the server remembers: too long, with the top.
      const tooLong = await difference(w, input, 1);
      assert.ok(tooLong instanceof Api.updates.ChannelDifferenceTooLong);
      assert.equal((tooLong.dialog as Api.Dialog).topMessage, 2);
      assert.equal((tooLong.dialog as Api.Dialog).pts, 3);
      assert.ok((await difference(w, input, 3)) instanceof Api.updates.ChannelDifferenceEmpty);

      const seen = collect(w);
      const seenByOther = collect(other);
      await writeFile(path.join(f.dataDir, 'ch', 'c.txt'), 'new file');
      await rm(path.join(f.dataDir, 'ch', 'a.txt'));
      await f.emu.rescan();
      await seen.waitFor(2);
      await seenByOther.waitFor(2);
      const [added, deleted] = seen.updates;
      assert.ok(added instanceof Api.UpdateNewChannelMessage && deleted instanceof Api.UpdateDeleteChannelMessages);
      // Deletions of a rescan come first.
      assert.deepEqual([deleted.messages, deleted.pts, deleted.ptsCount], [[1], 4, 1]);
      assert.deepEqual([added.message.id, added.pts, added.ptsCount], [3, 5, 1]);
      const doc = ((added.message as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
      assert.equal(doc.size.toJSNumber(), 'new file'.length);
      assert.ok(seen.msgIds.length >= 1 && seen.msgIds.every((id) => id % 4n === 3n), 'pushed updates are not responses');
      // Each bot gets its own file reference.
      const otherDoc = (((seenByOther.updates[0] as Api.UpdateNewChannelMessage).message as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
      assert.notDeepEqual(Buffer.from(otherDoc.fileReference), Buffer.from(doc.fileReference));

      const diff = await difference(w, input, 3);
      assert.ok(diff instanceof Api.updates.ChannelDifference);
      assert.equal(diff.pts, 5);
      assert.equal(diff.final, true);
      assert.deepEqual(diff.newMessages.map((m) => m.id), [3]);
      assert.deepEqual(diff.otherUpdates.map((u) => (u as Api.UpdateDeleteChannelMessages).messages), [[1]]);
      const partial = await difference(w, input, 3, 1);
      assert.ok(partial instanceof Api.updates.ChannelDifference && partial.final === false && partial.pts === 4);

      // A changed file is a deletion plus a new post, with a new document.
      const oldB = (((await w.getMessage(ch, 2)).media as Api.MessageMediaDocument).document as Api.Document).id.toString();
      await writeFile(path.join(f.dataDir, 'ch', 'b.txt'), 'changed, longer content');
      await f.emu.rescan();
      await seen.waitFor(4);
      const d2 = await difference(w, input, 5);
      assert.ok(d2 instanceof Api.updates.ChannelDifference);
      assert.deepEqual(d2.otherUpdates.map((u) => (u as Api.UpdateDeleteChannelMessages).messages), [[2]]);
      assert.deepEqual(d2.newMessages.map((m) => m.id), [4]);
      const newB = ((d2.newMessages[0] as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
      assert.notEqual(newB.id.toString(), oldB);
      await assert.rejects(w.getMessage(ch, 2), { code: 'MESSAGE_NOT_FOUND' });

      // 102 events behind (101 posts, then the last one deleted): not too long, as Telegram
      // answers a bot; with limit 100 a slice (final: false), then the rest from its pts.
      for (let i = 0; i < 101; i++) await writeFile(path.join(f.dataDir, 'ch', `n${String(i).padStart(3, '0')}.bin`), `${i}`);
      await f.emu.rescan();
      await rm(path.join(f.dataDir, 'ch', 'n100.bin'));
      await f.emu.rescan();
      const first = await difference(w, input, 7);
      assert.ok(first instanceof Api.updates.ChannelDifference);
      assert.deepEqual([first.final, first.pts], [false, 107]);
      assert.deepEqual(first.newMessages.map((m) => m.id), [...Array(100).keys()].map((i) => i + 5));
      const rest = await difference(w, input, 107);
      assert.ok(rest instanceof Api.updates.ChannelDifference);
      // Message 105 was deleted since: only its deletion is left to tell.
      assert.deepEqual([rest.final, rest.pts, rest.newMessages.length], [true, 109, 0]);
      assert.deepEqual(rest.otherUpdates.map((u) => (u as Api.UpdateDeleteChannelMessages).messages), [[105]]);
      const whole = await difference(w, input, 7, 100_000);
      assert.ok(whole instanceof Api.updates.ChannelDifference);
      assert.deepEqual([whole.final, whole.pts, whole.newMessages.length, whole.otherUpdates.length], [true, 109, 100, 1]);
      await assert.rejects(difference(w, input, 110), /PERSISTENT_TIMESTAMP_INVALID/);
    } finally {
      await f.close();
    }
  });

  it('a restart keeps pts and never gives a deleted message id out again', async () => {
    const f = await startFixture({ 'ch/a.txt': 10, 'ch/b.txt': 20 }, { watch: false });
    try {
      await rm(path.join(f.dataDir, 'ch', 'b.txt'));
      await f.emu.rescan();
      await f.emu.close();
      await writeFile(path.join(f.dataDir, 'ch', 'b.txt'), 'back again');
      f.emu = await startEmulator({ dataDir: f.dataDir, bots: 3 });
      const w = await f.startWorker(0);
      const ch = channelId(f, 'ch');
      const d = await difference(w, await w.resolveChannel(ch), 1);
      assert.ok(d instanceof Api.updates.ChannelDifferenceTooLong);
      // pts: 2 posts (3), 1 deletion (4), 1 new post (5).
      assert.deepEqual([(d.dialog as Api.Dialog).topMessage, (d.dialog as Api.Dialog).pts], [3, 5]);
      await assert.rejects(w.getMessage(ch, 2), { code: 'MESSAGE_NOT_FOUND' });
      assert.equal((await w.getDocumentLocation(ch, 3)).fileName, 'b.txt');
    } finally {
      await f.close();
    }
  });
});
