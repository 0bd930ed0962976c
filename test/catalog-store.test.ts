// One catalog suite, run against every keyv store we support (sqlite://, memory://, redis:// on a
// real redis-server): indexing as a
// bot must (getChannelDifference for the top, channels.getMessages by ids), long runs of deleted
// ids, a restart that lists everything with no upstream call, and following pushed updates.
import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Keyv } from 'keyv';
import { Catalog, CATALOG_NAMESPACE } from '../src/catalog';
import { openKeyvStore } from '../src/telegram/metadata-cache';
import { WorkerPool } from '../src/telegram/worker-pool';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { filesWhen } from './helpers/catalog-wait';
import { startRedis, type RedisServer } from './helpers/redis-server';

const BIG = 1000;
const GAPS = 600;

interface StoreKind {
  name: string;
  /** What to give Catalog.open; the same value again is "the same store after a restart". */
  open(dir: string): Promise<{ store: string | Keyv; close(): Promise<void> }>;
  /** The pool's metadata cache beside it. */
  metadata(dir: string): string;
  /** Before anything else (e.g. start a server), and after everything. */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

let redis: RedisServer | undefined;

const STORES: StoreKind[] = [
  {
    name: 'sqlite://',
    async open(dir) {
      return { store: `sqlite://${path.join(dir, 'catalog.sqlite')}`, close: async () => undefined };
    },
    metadata: (dir) => `sqlite://${path.join(dir, 'metadata.sqlite')}`,
  },
  {
    name: 'memory://',
    // A memory store lives as long as its Keyv: a "restart" opens a new Catalog on the same one.
    async open() {
      const { keyv } = await openKeyvStore('memory://', CATALOG_NAMESPACE);
      return { store: keyv, close: () => keyv.disconnect() };
    },
    metadata: () => 'memory://',
  },
  {
    name: 'redis://',
    // Each open is a new connection; what was stored stays in the server, like a sqlite file.
    async setup() {
      redis = await startRedis();
    },
    async open() {
      return { store: redis!.url, close: async () => undefined };
    },
    metadata: () => redis!.url,
    async teardown() {
      await redis?.stop();
    },
  },
];

function bigName(i: number): string {
  return `f${String(i).padStart(4, '0')}.txt`;
}

function gapName(i: number): string {
  return `g${String(i).padStart(3, '0')}.bin`;
}

/** Calls per TL method made between two snapshots. */
function callsSince(before: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}


for (const kind of STORES) {
  describe(`catalog over ${kind.name}`, () => {
    let f: EmulatorFixture;
    let pool: WorkerPool;
    let store: { store: string | Keyv; close(): Promise<void> };
    const open = (withPool = true): Promise<Catalog> =>
      Catalog.open({ store: store.store, channels: f.emu.config.channels, pool: withPool ? pool : undefined });

    before(async () => {
      await kind.setup?.();
      const files: Record<string, number> = {};
      for (let i = 0; i < BIG; i++) files[`big/${bigName(i)}`] = 1 + (i % 97);
      for (let i = 0; i < GAPS; i++) files[`gaps/${gapName(i)}`] = 10;
      files['live/a.txt'] = 5;
      files['live/b.txt'] = 6;
      f = await startFixture(files, { watch: false });
      const cfg = f.emu.config;
      pool = await WorkerPool.create({ ...cfg, cache: kind.metadata(f.dir) });
      store = await kind.open(f.dir);
    });

    after(async () => {
      await pool?.close();
      await store?.close();
      await f?.close();
      await kind.teardown?.();
    });

    it(`indexes a ${BIG}-file channel with ~${BIG / 100} channels.getMessages calls, then lists it after a restart with no call`, async () => {
      const big = channelId(f, 'big');
      const catalog = await open();
      const before = f.emu.stats().calls;
      const progress: number[] = [];
      const result = await catalog.index(big, { onProgress: (p) => progress.push(p.done) });
      const calls = callsSince(before, f.emu.stats().calls);
      assert.equal(calls['channels.getMessages'], BIG / 100);
      assert.equal(calls['messages.getHistory'], undefined);
      // One to learn the top (too long), one to see nothing happened during the walk.
      assert.equal(calls['updates.getChannelDifference'], 2);
      assert.deepEqual([result.files, result.walked, result.getMessagesCalls], [BIG, BIG, BIG / 100]);
      assert.equal(progress.at(-1), BIG);

      const files = await catalog.files(big);
      assert.equal(files.length, BIG);
      for (let i = 0; i < BIG; i++) {
        const file = files[i]!;
        const st = await stat(path.join(f.dataDir, 'big', bigName(i)));
        assert.deepEqual(
          [file.channel, file.msgId, file.name, file.size, file.date, file.mimeType],
          [big, i + 1, bigName(i), 1 + (i % 97), Math.floor(st.mtimeMs / 1000), 'text/plain'],
        );
      }
      // Each document is in the metadata cache of the worker that fetched it: no more getMessages.
      for (const id of [1, 500, BIG]) {
        const holders = [];
        for (const w of pool.workers) if (await pool.cache.getDoc(w.id, big, id)) holders.push(w);
        assert.ok(holders.length >= 1, `message ${id} cached for some worker`);
        const beforeDoc = f.emu.stats().calls;
        assert.equal((await holders[0]!.getDoc(big, id)).name, bigName(id - 1));
        assert.deepEqual(callsSince(beforeDoc, f.emu.stats().calls), {});
      }
      await catalog.close();

      // A restart (no pool at all): everything from the store, nothing asked upstream.
      const beforeRestart = f.emu.stats().calls;
      const again = await open(false);
      assert.deepEqual(await again.files(big), files);
      assert.deepEqual(await again.file(big, 321), files[320]);
      assert.equal(await again.file(big, BIG + 1), undefined);
      assert.deepEqual(callsSince(beforeRestart, f.emu.stats().calls), {});
      await again.close();

      // Indexing an indexed channel again: one getChannelDifference, no getMessages.
      const third = await open();
      const beforeRefresh = f.emu.stats().calls;
      await third.index(big);
      assert.deepEqual(callsSince(beforeRefresh, f.emu.stats().calls), { 'updates.getChannelDifference': 1 });
      await third.close();
    });

    it('walks over a long run of deleted ids', async () => {
      const gaps = channelId(f, 'gaps');
      // Ids 51…550 deleted before anyone indexed: 500 ids in a row come back as messageEmpty.
      for (let i = 50; i < 550; i++) await rm(path.join(f.dataDir, 'gaps', gapName(i)));
      await f.emu.rescan();
      const catalog = await open();
      const before = f.emu.stats().calls;
      await catalog.index(gaps);
      assert.equal(callsSince(before, f.emu.stats().calls)['channels.getMessages'], GAPS / 100);
      const files = await catalog.files(gaps);
      const expected = [...Array(GAPS).keys()].filter((i) => i < 50 || i >= 550);
      assert.deepEqual(files.map((x) => x.name), expected.map(gapName));
      assert.deepEqual(files.map((x) => x.msgId), expected.map((i) => i + 1));
      await catalog.close();
    });

    it('follows new and deleted posts, and catches up after a long gap', async () => {
      const live = channelId(f, 'live');
      const catalog = await open();
      await catalog.index(live);
      assert.deepEqual((await catalog.files(live)).map((x) => x.name), ['a.txt', 'b.txt']);
      const stop = catalog.follow();

      const before = f.emu.stats().calls;
      await writeFile(path.join(f.dataDir, 'live', 'c.txt'), 'a new post');
      const appeared = filesWhen(catalog, live, (files) => files.some((x) => x.name === 'c.txt'), 10_000);
      await f.emu.rescan();
      const withC = await appeared;
      const c = withC.find((x) => x.name === 'c.txt')!;
      assert.deepEqual([c.msgId, c.size], [3, 'a new post'.length]);

      await rm(path.join(f.dataDir, 'live', 'a.txt'));
      const gone = filesWhen(catalog, live, (files) => !files.some((x) => x.name === 'a.txt'), 10_000);
      await f.emu.rescan();
      assert.deepEqual((await gone).map((x) => x.name), ['b.txt', 'c.txt']);
      // Pushed updates carry everything: no getMessages, no difference.
      const during = callsSince(before, f.emu.stats().calls);
      assert.equal(during['channels.getMessages'], undefined);
      assert.equal(during['updates.getChannelDifference'], undefined);
      // Every worker got the post and keeps its own DocInfo of it.
      for (let i = 0; i < 100; i++) {
        const held = await Promise.all(pool.workers.map((w) => pool.cache.getDoc(w.id, live, 3)));
        if (held.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const w of pool.workers) assert.ok(await pool.cache.getDoc(w.id, live, 3), `worker ${w.id} has message 3`);
      stop();

      // Not following: the changes come as a difference, over 100 too (Telegram gives a bot up
      // to 100,000 events per answer): one call, no message read again.
      await writeFile(path.join(f.dataDir, 'live', 'd.txt'), 'd');
      await f.emu.rescan();
      const beforeDiff = f.emu.stats().calls;
      await catalog.index(live);
      assert.deepEqual(callsSince(beforeDiff, f.emu.stats().calls), { 'updates.getChannelDifference': 1 });
      assert.deepEqual((await catalog.files(live)).map((x) => x.name), ['b.txt', 'c.txt', 'd.txt']);

      await rm(path.join(f.dataDir, 'live', 'b.txt'));
      for (let i = 0; i < 120; i++) await writeFile(path.join(f.dataDir, 'live', `n${String(i).padStart(3, '0')}.txt`), `${i}`);
      await f.emu.rescan();
      const beforeMany = f.emu.stats().calls;
      await catalog.index(live);
      assert.deepEqual(callsSince(beforeMany, f.emu.stats().calls), { 'updates.getChannelDifference': 1 });
      const names = (await catalog.files(live)).map((x) => x.name);
      assert.deepEqual(names, ['c.txt', 'd.txt', ...[...Array(120).keys()].map((i) => `n${String(i).padStart(3, '0')}.txt`)]);
      await catalog.close();

      const beforeRestart = f.emu.stats().calls;
      const again = await open(false);
      assert.deepEqual((await again.files(live)).map((x) => x.name), names);
      assert.deepEqual(callsSince(beforeRestart, f.emu.stats().calls), {});
      await again.close();
    });
  });
}
