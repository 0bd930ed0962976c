// Indexing 20,000 messages takes 200 channels.getMessages. A new post is in listings within 2 s of the emulator's data folder changing, in a channel of
// 20,000 files: fs.watch (names the file) → the emulator stats that file and pushes the post →
// the follower applies it → the catalog saves one page and tells the VFS → the listing has it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog } from '../src/catalog';
import { WorkerPool } from '../src/telegram/worker-pool';
import { Vfs } from '../src/vfs/vfs';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { FakeFileSource } from './helpers/vfs-memory';

const FILES = 20_000;
const DEADLINE_MS = 2000;

describe(`a new post in a channel of ${FILES} files`, () => {
  let f: EmulatorFixture;
  let pool: WorkerPool;
  let catalog: Catalog;
  let vfs: Vfs;
  let ch: number;

  before(async () => {
    const files: Record<string, number> = {};
    for (let i = 0; i < FILES; i++) files[`big/f${String(i).padStart(5, '0')}.bin`] = 1;
    f = await startFixture(files);
    pool = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
    catalog = await Catalog.open({ store: 'memory://', channels: f.emu.config.channels, pool });
    ch = channelId(f, 'big');
    const indexed = await catalog.index(ch);
    // 100 ids per channels.getMessages, nothing read twice.
    assert.equal(indexed.getMessagesCalls, FILES / 100);
    assert.equal(f.emu.stats().calls['channels.getMessages'], FILES / 100);
    vfs = new Vfs(catalog, new FakeFileSource());
    assert.equal((await vfs.readdir(['big'])).filter((e) => e.stat.kind === 'file').length, FILES);
  });

  after(async () => {
    vfs?.close();
    await catalog?.close();
    await pool?.close();
    await f?.close();
  });

  it(`is listed within ${DEADLINE_MS} ms of the file being written`, async (t) => {
    const stop = catalog.follow();
    try {
      const seen = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the new post did not reach the catalog in 20 s')), 20_000);
        const off = catalog.onChange((c) => {
          if (c !== ch) return;
          void catalog.file(ch, FILES + 1).then((file) => {
            if (!file) return;
            clearTimeout(timer);
            off();
            resolve(performance.now());
          });
        });
      });
      const start = performance.now();
      await writeFile(path.join(f.dataDir, 'big', 'new-post.bin'), 'new');
      const inCatalog = (await seen) - start;
      const names = (await vfs.readdir(['big'])).map((e) => e.name);
      const listed = performance.now() - start;
      t.diagnostic(`in the catalog after ${inCatalog.toFixed(0)} ms, in the VFS listing after ${listed.toFixed(0)} ms`);
      assert.ok(names.includes('new-post.bin'));
      assert.ok(listed < DEADLINE_MS, `listed after ${listed.toFixed(0)} ms`);
    } finally {
      stop();
    }
  });
});
