// The manifest's rules (manifest.ts) and a channel moving between the two ways of building it:
// plain files (today's rule) and a manifest, with the events Telegram would show for each move.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/emulator/manifest';
import { World, type ChannelEvent } from '../src/emulator/world';

const FILES = new Set(['a.bin', 'b.jpg']);

function error(manifest: unknown): string {
  const r = parseManifest(JSON.stringify(manifest), FILES);
  assert.ok(!r.ok, 'rejected');
  return r.error;
}

describe('emulator content: manifest rules', () => {
  it('accepts every kind and sorts posts by id', () => {
    const r = parseManifest(JSON.stringify([
      { id: 3, kind: 'photo', file: 'b.jpg', caption: 'c', grouped: 1, date: 5 }, { id: 1, kind: 'document', file: 'a.bin', name: null },
      { id: 2, kind: 'text', caption: 'hi' }, { id: 4, kind: 'service' }, { id: 5, kind: 'poll' }, { id: 6, kind: 'webpage', caption: 'http://x.y' },
      { id: 7, kind: 'audio', file: 'a.bin', name: 'x.mp3' }, { id: 8, kind: 'voice', file: 'a.bin' }, { id: 9, kind: 'round', file: 'a.bin' },
      { id: 10, kind: 'video', file: 'a.bin' },
    ]), FILES);
    assert.ok(r.ok);
    assert.deepEqual(r.posts.map((p) => p.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('names the entry and what is wrong with it', () => {
    assert.match(error({ id: 1 }), /not an array/);
    const broken = parseManifest('[', FILES);
    assert.ok(!broken.ok && broken.error.startsWith('not JSON: '), 'broken JSON');
    assert.equal(error([{ id: 1, kind: 'text', caption: 'a' }, { id: 1, kind: 'text', caption: 'b' }]), 'entry 1 (id 1): id listed twice');
    assert.equal(error([{ id: 0, kind: 'text', caption: 'a' }]), 'entry 0 (id 0): id must be an integer from 1 to 2147483647');
    assert.match(error([{ id: 1, kind: 'sticker' }]), /^entry 0 \(id 1\): kind must be one of document\|photo/);
    assert.equal(error([{ id: 1, kind: 'photo' }]), 'entry 0 (id 1): a photo post needs "file"');
    assert.equal(error([{ id: 1, kind: 'document', file: 'c.bin' }]), 'entry 0 (id 1): file "c.bin" is not a file of the folder');
    assert.equal(error([{ id: 1, kind: 'poll', file: 'a.bin' }]), 'entry 0 (id 1): a poll post has no "file"');
    assert.equal(error([{ id: 1, kind: 'photo', file: 'b.jpg', name: 'x' }]), 'entry 0 (id 1): a photo post has no "name" (no document)');
    assert.equal(error([{ id: 1, kind: 'text' }]), 'entry 0 (id 1): a text post needs a "caption" (its text)');
    assert.equal(error([{ id: 1, kind: 'document', file: 'a.bin', grouped: -1 }]), 'entry 0 (id 1): "grouped" must be a positive integer');
    assert.equal(error([{ id: 1, kind: 'document', file: 'a.bin', when: 1 }]), 'entry 0 (id 1): unknown field "when"');
  });
});

describe('emulator content: a folder gaining and losing its manifest', () => {
  it('moves between files and manifest with deletions and new posts; a bad manifest changes nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-test-'));
    const logs: string[] = [];
    try {
      const ch = path.join(dir, 'ch');
      await mkdir(ch);
      await writeFile(path.join(ch, 'a.bin'), 'aaa');
      await writeFile(path.join(ch, 'b.bin'), 'bbb');
      const world = await World.load(dir, 1, 2, (l) => logs.push(l));
      const channel = [...world.channels.values()][0]!;
      assert.deepEqual([...channel.messages.keys()], [1, 2]);
      const pts = channel.pts;
      const events = async (): Promise<ChannelEvent[]> => (await world.rescan(100)).flatMap((c) => c.events);

      await writeFile(path.join(ch, '.messages.json'), JSON.stringify([{ id: 5, kind: 'document', file: 'a.bin' }, { id: 6, kind: 'text', caption: 'x' }]));
      assert.deepEqual(await events(), [
        { kind: 'delete', pts: pts + 2, ptsCount: 2, msgIds: [1, 2] },
        { kind: 'new', pts: pts + 3, ptsCount: 1, msgId: 5 },
        { kind: 'new', pts: pts + 4, ptsCount: 1, msgId: 6 },
      ]);
      assert.equal(channel.topMessage, 6);

      await writeFile(path.join(ch, '.messages.json'), '[{"id": 7, "kind": "photo"}]');
      assert.deepEqual(await events(), []);
      assert.deepEqual([...channel.messages.keys()], [5, 6]);
      assert.ok(logs.some((l) => l === 'emulator: channel folder ch: .messages.json ignored, the channel is left as it was: entry 0 (id 7): a photo post needs "file"'), logs.join('\n'));

      await rm(path.join(ch, '.messages.json'));
      assert.deepEqual(await events(), [
        { kind: 'delete', pts: pts + 6, ptsCount: 2, msgIds: [5, 6] },
        { kind: 'new', pts: pts + 7, ptsCount: 1, msgId: 7 },
        { kind: 'new', pts: pts + 8, ptsCount: 1, msgId: 8 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
