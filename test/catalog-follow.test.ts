// Following a channel when pushed updates go missing: a pts gap and a dropped connection both
// end in getChannelDifference from the stored pts, and the catalog is whole again.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog, type CatalogFile } from '../src/catalog';
import { WorkerPool } from '../src/telegram/worker-pool';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

function until(catalog: Catalog, channel: number, check: (files: CatalogFile[]) => boolean, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no matching change in time'));
    }, timeoutMs);
    const off = catalog.onChange((c) => {
      if (c !== channel) return;
      void catalog.files(channel).then((files) => {
        if (!check(files)) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  });
}

describe('catalog follow', () => {
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

  it('a pts gap is filled with getChannelDifference', async () => {
    // Posted while no bot was in the channel (so nothing was pushed): the next pushed update
    // comes with a gap before it.
    const bots = f.emu.config.bots.map((t) => Number(t.split(':')[0]));
    for (const b of bots) f.emu.setMembership(b, ch, false);
    await writeFile(path.join(f.dataDir, 'ch', 'b.txt'), 'missed');
    await f.emu.rescan();
    for (const b of bots) f.emu.setMembership(b, ch, true);
    const stop = catalog.follow();
    try {
      const before = f.emu.stats().calls['updates.getChannelDifference'] ?? 0;
      await writeFile(path.join(f.dataDir, 'ch', 'c.txt'), 'pushed');
      const whole = until(catalog, ch, (files) => files.length === 3);
      await f.emu.rescan();
      await whole;
      assert.deepEqual((await catalog.files(ch)).map((x) => x.name), ['a.txt', 'b.txt', 'c.txt']);
      assert.ok((f.emu.stats().calls['updates.getChannelDifference'] ?? 0) > before);
    } finally {
      stop();
    }
  });

  it('after a dropped connection it catches up from the stored pts', async () => {
    const stop = catalog.follow();
    try {
      // Every connection closes on its next byte: the pushed update is lost with it.
      f.emu.setFaults({ dropEvery: 1 });
      await writeFile(path.join(f.dataDir, 'ch', 'd.txt'), 'lost with the connection');
      const whole = until(catalog, ch, (files) => files.some((x) => x.name === 'd.txt'));
      await f.emu.rescan();
      f.emu.setFaults({ dropEvery: 0 });
      await whole;
      assert.ok((f.emu.stats().faults.DROP ?? 0) >= 1);
      assert.deepEqual((await catalog.files(ch)).map((x) => x.name), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
    } finally {
      stop();
    }
  });
});
