// Following a channel when pushed updates go missing: a pts gap and a dropped connection both
// end in getChannelDifference from the stored pts, and the catalog is whole again.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { indexedChannel } from './helpers/catalog-fixture';
import { filesWhen } from './helpers/catalog-wait';

describe('catalog follow', () => {
  const scope = indexedChannel();

  it('a pts gap is filled with getChannelDifference', async () => {
    // Posted while no bot was in the channel (so nothing was pushed): the next pushed update
    // comes with a gap before it.
    const bots = scope.f.emu.config.bots.map((t) => Number(t.split(':')[0]));
    for (const b of bots) scope.f.emu.setMembership(b, scope.ch, false);
    await writeFile(path.join(scope.f.dataDir, 'ch', 'b.txt'), 'missed');
    await scope.f.emu.rescan();
    for (const b of bots) scope.f.emu.setMembership(b, scope.ch, true);
    const stop = scope.catalog.follow();
    try {
      const before = scope.f.emu.stats().calls['updates.getChannelDifference'] ?? 0;
      await writeFile(path.join(scope.f.dataDir, 'ch', 'c.txt'), 'pushed');
      const whole = filesWhen(scope.catalog, scope.ch, (files) => files.length === 3, 15_000);
      await scope.f.emu.rescan();
      await whole;
      assert.deepEqual((await scope.catalog.files(scope.ch)).map((x) => x.name), ['a.txt', 'b.txt', 'c.txt']);
      assert.ok((scope.f.emu.stats().calls['updates.getChannelDifference'] ?? 0) > before);
    } finally {
      stop();
    }
  });

  it('after a dropped connection it catches up from the stored pts', async () => {
    const stop = scope.catalog.follow();
    try {
      // Every connection closes on its next byte: the pushed update is lost with it.
      scope.f.emu.setFaults({ dropEvery: 1 });
      await writeFile(path.join(scope.f.dataDir, 'ch', 'd.txt'), 'lost with the connection');
      const whole = filesWhen(scope.catalog, scope.ch, (files) => files.some((x) => x.name === 'd.txt'), 15_000);
      await scope.f.emu.rescan();
      scope.f.emu.setFaults({ dropEvery: 0 });
      await whole;
      assert.ok((scope.f.emu.stats().faults.DROP ?? 0) >= 1);
      assert.deepEqual((await scope.catalog.files(scope.ch)).map((x) => x.name), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
    } finally {
      stop();
    }
  });
});
