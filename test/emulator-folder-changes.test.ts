// What fs.watch names is all the emulator reads (folder-changes.ts): new, removed, renamed and
// changed files, and a video with its thumbnail, give the same posts as a whole-folder rescan
// would (checked: a full rescan afterwards finds nothing to change).
import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '../src/telegram';
import type { ChannelUpdate } from '../src/telegram/channel-updates';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffc0001108005a00a003012200021101031101ffd9', 'hex');

describe('the emulator follows the files fs.watch names', () => {
  let f: EmulatorFixture;
  let w: Worker;
  let ch: number;
  const file = (name: string): string => path.join(f.dataDir, 'ch', name);

  /** Resolves once a pushed update brings the channel to `pts` (bounded). */
  const reach = (pts: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`pts ${pts} not pushed in 10 s`));
      }, 10_000);
      const off = w.onUpdate((u: ChannelUpdate) => {
        if (u.kind !== 'changes' || u.channel !== ch || u.pts < pts) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });

  /** Names of messages 1…n (null: deleted or not a file). */
  const names = async (n: number): Promise<Array<string | null>> => {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const got = await w.getMessages(ch, ids);
    return ids.map((id) => got.find((m) => m.msgId === id)?.doc?.name ?? null);
  };

  before(async () => {
    f = await startFixture({ 'ch/a.txt': 5, 'ch/b.txt': 6 });
    w = await f.startWorker();
    ch = channelId(f, 'ch');
  });

  after(async () => {
    await f?.close();
  });

  it('a video with its thumbnail is one post; a removed file a deletion; a rename a deletion and a post', async () => {
    let pushed = reach(4);
    await writeFile(file('v.jpg'), JPEG);
    await writeFile(file('v.mp4'), 'video bytes');
    await pushed;
    const [v] = await w.getMessages(ch, [3]);
    assert.equal(v?.doc?.name, 'v.mp4');
    assert.equal(v?.doc?.thumbs.length, 1);

    pushed = reach(5);
    await rm(file('a.txt'));
    await pushed;

    pushed = reach(7);
    await rename(file('b.txt'), file('c.txt'));
    await pushed;

    // The thumbnail goes: the video changed (a deletion and a new post, without a thumbnail).
    pushed = reach(9);
    await rm(file('v.jpg'));
    await pushed;
    const [v2] = await w.getMessages(ch, [5]);
    assert.deepEqual([v2?.doc?.name, v2?.doc?.thumbs.length], ['v.mp4', 0]);

    assert.deepEqual(await names(6), [null, null, null, 'c.txt', 'v.mp4', null]);
    // A whole-folder rescan agrees: nothing more to change.
    await f.emu.rescan();
    const diff = await w.getChannelDifference(ch, 9, 100);
    assert.deepEqual(diff, { kind: 'empty', pts: 9 });
  });
});
