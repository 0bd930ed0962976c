// A burst of pushed posts costs no users.getUsers: the worker tells GramJS who it is at login
// (gramjs/self-peer.ts), so GramJS's update dispatch does not call getMe for every update.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog } from '../src/catalog';
import { WorkerPool } from '../src/telegram/worker-pool';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const BURST = 150;

function filesReach(catalog: Catalog, channel: number, count: number, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the catalog did not reach ${count} files in time`));
    }, timeoutMs);
    const off = catalog.onChange((c) => {
      if (c !== channel) return;
      void catalog.files(channel).then((files) => {
        if (files.length < count) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  });
}

describe('a burst of pushed posts', () => {
  let f: EmulatorFixture;
  let pool: WorkerPool;
  let catalog: Catalog;
  let ch: number;

  before(async () => {
    f = await startFixture({ 'ch/a.txt': 5 }, { watch: false });
    pool = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
    catalog = await Catalog.open({ store: 'memory://', channels: f.emu.config.channels, pool });
    ch = channelId(f, 'ch');
    await catalog.index(ch);
  });

  after(async () => {
    await catalog?.close();
    await pool?.close();
    await f?.close();
  });

  it(`${BURST} pushed posts make at most one users.getUsers and no re-read of known messages`, async () => {
    const stop = catalog.follow();
    try {
      const calls = (): Record<string, number> => f.emu.stats().calls;
      const usersBefore = calls()['users.getUsers'] ?? 0;
      const messagesBefore = calls()['channels.getMessages'] ?? 0;
      for (let i = 0; i < BURST; i++) await writeFile(path.join(f.dataDir, 'ch', `p${String(i).padStart(3, '0')}.txt`), `post ${i}`);
      const whole = filesReach(catalog, ch, BURST + 1);
      await f.emu.rescan();
      await whole;
      assert.equal((await catalog.files(ch)).length, BURST + 1);
      const users = (calls()['users.getUsers'] ?? 0) - usersBefore;
      assert.ok(users <= 1, `users.getUsers calls during the burst: ${users}`);
      // The posts came with the updates: nothing known is read again.
      const messages = (calls()['channels.getMessages'] ?? 0) - messagesBefore;
      assert.ok(messages <= 2, `channels.getMessages calls during the burst: ${messages}`);
    } finally {
      stop();
    }
  });
});
