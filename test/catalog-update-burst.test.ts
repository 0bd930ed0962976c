// A burst of pushed posts costs no users.getUsers: the worker tells GramJS who it is at login
// (gramjs/self-peer.ts), so GramJS's update dispatch does not call getMe for every update.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { indexedChannel } from './helpers/catalog-fixture';
import { filesWhen } from './helpers/catalog-wait';

const BURST = 150;

describe('a burst of pushed posts', () => {
  const scope = indexedChannel();

  it(`${BURST} pushed posts make at most one users.getUsers and no re-read of known messages`, async () => {
    const stop = scope.catalog.follow();
    try {
      const calls = (): Record<string, number> => scope.f.emu.stats().calls;
      const usersBefore = calls()['users.getUsers'] ?? 0;
      const messagesBefore = calls()['channels.getMessages'] ?? 0;
      for (let i = 0; i < BURST; i++) await writeFile(path.join(scope.f.dataDir, 'ch', `p${String(i).padStart(3, '0')}.txt`), `post ${i}`);
      const whole = filesWhen(scope.catalog, scope.ch, (files) => files.length >= BURST + 1, 30_000);
      await scope.f.emu.rescan();
      await whole;
      assert.equal((await scope.catalog.files(scope.ch)).length, BURST + 1);
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
