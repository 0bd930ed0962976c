// Several instances over one catalog in redis (a real Debian redis-server on loopback):
//   - in process: a second catalog lists what the first indexed with no upstream call, sees a
//     post the first follows later (through the store alone: it has no pool to be pushed to),
//     and both keep serving from memory while redis is away; a redis back empty is written back;
//   - end to end: two `tgvfs serve` processes (own session dirs, same bots, same redis), and a
//     `tgvfs index` whose findings reach both running servers through redis alone.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog, CATALOG_NAMESPACE, type CatalogFile } from '../src/catalog';
import { openKeyvStore } from '../src/telegram/metadata-cache';
import { WorkerPool } from '../src/telegram/worker-pool';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { runCli, startCli } from '../support/cli-process';
import { filesWhen } from './helpers/catalog-wait';
import { until } from './helpers/eventually';
import { startRedis, type RedisServer } from './helpers/redis-server';
import { callsBetween, startServe, type ServeProcess } from './helpers/webdav-fixture';


const names = (files: CatalogFile[]): (string | null)[] => files.map((f) => f.name);

describe('catalog over a shared redis (in process)', () => {
  let redis: RedisServer;
  let f: EmulatorFixture;
  let ch: number;
  let pool1: WorkerPool;
  let cat1: Catalog;
  const log1: string[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    redis = await startRedis();
    f = await startFixture({ 'ch/a.txt': 5, 'ch/b.txt': 6 }, { watch: false, bots: 2 });
    ch = channelId(f, 'ch');
    pool1 = await WorkerPool.create({ ...f.emu.config, sessionDir: path.join(f.dir, 's1'), cache: redis.url });
    cat1 = await Catalog.open({ store: redis.url, channels: f.emu.config.channels, pool: pool1, refreshMs: 200, log: (l) => log1.push(l) });
    const r = await cat1.index(ch);
    assert.equal(r.files, 2);
  });

  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await cat1?.close();
    await pool1?.close();
    await f?.close();
    await redis?.stop();
  });

  it('a second instance lists what the first indexed, and its index makes no channels.getMessages call', async () => {
    const before = f.emu.stats();
    const pool2 = await WorkerPool.create({ ...f.emu.config, sessionDir: path.join(f.dir, 's2'), cache: redis.url });
    closers.push(() => pool2.close());
    const cat2 = await Catalog.open({ store: redis.url, channels: f.emu.config.channels, pool: pool2, refreshMs: 200 });
    closers.push(() => cat2.close());
    assert.deepEqual(names(await cat2.files(ch)), ['a.txt', 'b.txt']);
    assert.deepEqual(await cat2.files(ch), await cat1.files(ch));
    const r = await cat2.index(ch);
    assert.equal(r.getMessagesCalls, 0);
    assert.equal(r.files, 2);
    const calls = callsBetween(before, f.emu.stats());
    assert.equal(calls['channels.getMessages'], undefined, JSON.stringify(calls));
    assert.equal(calls['upload.getFile'], undefined, JSON.stringify(calls));
    // Only the one getChannelDifference that says "nothing new"; the access hashes came from
    // the shared metadata cache (same bots), so no channels.getChannels either.
    assert.equal(calls['updates.getChannelDifference'], 1, JSON.stringify(calls));
    assert.equal(calls['channels.getChannels'], undefined, JSON.stringify(calls));
    // Per-account data (and each instance's session claims, FLOOD_WAIT ends) is keyed by bot;
    // the catalog's own keys carry none.
    const keys = (await redis.command('KEYS', '*')).split('\n');
    const botIds = f.emu.config.bots.map((t) => t.split(':')[0]);
    for (const k of keys) {
      const m = /^tgvfs-meta::(?:doc|channel|claim|flood|login-flood):(\d+)(?::|$)/.exec(k);
      if (m) assert.ok(botIds.includes(m[1]!), k);
      else assert.match(k, new RegExp(`^tgvfs-catalog::(?:channel|page):${ch}(?::\\d+)?$`));
    }
    assert.ok(keys.some((k) => k.startsWith('tgvfs-meta::doc:')), keys.join('\n'));
    assert.ok(keys.includes(`tgvfs-catalog::channel:${ch}`), keys.join('\n'));
  });

  it('a running instance sees a post another one follows, through the store alone', async () => {
    // No pool: nothing is pushed to it, and it could not ask Telegram if it wanted to.
    const cat2 = await Catalog.open({ store: redis.url, channels: f.emu.config.channels, refreshMs: 200 });
    closers.push(() => cat2.close());
    assert.equal((await cat2.files(ch)).length, 2);
    const stop = cat1.follow();
    try {
      const before = f.emu.stats();
      await writeFile(path.join(f.dataDir, 'ch', 'c.txt'), 'posted later');
      await f.emu.rescan();
      const t0 = Date.now();
      const seen = await filesWhen(cat2, ch, (files) => files.some((x) => x.name === 'c.txt'), 5000);
      assert.ok(Date.now() - t0 < 5000);
      assert.deepEqual(names(seen), ['a.txt', 'b.txt', 'c.txt']);
      assert.equal(seen.find((x) => x.name === 'c.txt')!.size, 'posted later'.length);
      const calls = callsBetween(before, f.emu.stats());
      assert.equal(calls['channels.getMessages'], undefined, JSON.stringify(calls));
      assert.equal(calls['upload.getFile'], undefined, JSON.stringify(calls));
    } finally {
      stop();
    }
  });

  it('redis going away: both keep serving from memory; back empty, it is written back and shared again', async () => {
    const log2: string[] = [];
    // The store opened here, as Catalog.open would from the URL, so that its reads can be counted:
    // each refresh tick reads the channel's record once.
    const store2 = await openKeyvStore(redis.url, CATALOG_NAMESPACE, { log: (l) => log2.push(l) });
    let reads2 = 0;
    const get = store2.keyv.get.bind(store2.keyv);
    store2.keyv.get = ((...args: Parameters<typeof get>) => {
      reads2++;
      return get(...args);
    }) as typeof store2.keyv.get;
    closers.push(() => store2.keyv.disconnect());
    const cat2 = await Catalog.open({ store: store2.keyv, channels: f.emu.config.channels, refreshMs: 200, log: (l) => log2.push(l) });
    closers.push(() => cat2.close());
    assert.equal((await cat2.files(ch)).length, 3);
    const stop = cat1.follow();
    try {
      await redis.stop();
      // A new post while the store is away: the following instance keeps it in memory.
      await writeFile(path.join(f.dataDir, 'ch', 'd.txt'), 'while redis was away');
      await f.emu.rescan();
      await filesWhen(cat1, ch, (files) => files.some((x) => x.name === 'd.txt'));
      assert.deepEqual(names(await cat2.files(ch)), ['a.txt', 'b.txt', 'c.txt']);
      assert.ok(log1.some((l) => /kept in memory, not stored/.test(l)), log1.join('\n'));
      // Logged once per outage, not once per tick.
      await until(() => log2.some((l) => /cannot check for changes/.test(l)), 8000, () => `cat2 never noticed:\n${log2.join('\n')}`);
      // Three more ticks, each a failed read, done (the fourth read starts after the third's end).
      const failed = reads2;
      await until(() => reads2 >= failed + 4, 8000, () => `${reads2 - failed} more reads`);
      assert.equal(log2.filter((l) => /cannot check for changes/.test(l)).length, 1, log2.join('\n'));

      await redis.restart(); // empty: --save "" keeps nothing
      await filesWhen(cat2, ch, (files) => files.some((x) => x.name === 'd.txt'));
      assert.deepEqual(names(await cat2.files(ch)), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
      assert.ok(log1.some((l) => /the store is behind this instance/.test(l)), log1.join('\n'));
      // And a fresh instance lists everything from the store again.
      const cat3 = await Catalog.open({ store: redis.url, channels: f.emu.config.channels, refreshMs: 0 });
      closers.push(() => cat3.close());
      assert.deepEqual(names(await cat3.files(ch)), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
    } finally {
      stop();
    }
  });
});

describe('two tgvfs serve processes share one catalog in redis', () => {
  let redis: RedisServer;
  let f: EmulatorFixture;
  const serves: ServeProcess[] = [];
  const emuLog: string[] = [];

  before(async () => {
    redis = await startRedis();
    f = await startFixture({ 'films/a.bin': 300_000, 'films/b.txt': 11, 'docs/c.txt': 7 }, { watch: false, bots: 2, log: (l) => emuLog.push(l) });
  });

  after(async () => {
    for (const s of serves) await s.stop().catch(() => undefined);
    await f?.close();
    await redis?.stop();
  });

  /** A config of its own (session dir) over the same emulator, bots and redis. */
  async function configFor(name: string): Promise<string> {
    const file = path.join(f.dir, `${name}.json`);
    await mkdir(path.join(f.dir, name), { recursive: true });
    await writeFile(file, JSON.stringify({ ...f.emu.config, sessionDir: path.join(f.dir, name), cache: redis.url }));
    return file;
  }

  async function listing(url: string, folder: string): Promise<Map<string, number>> {
    const r = await fetch(`${url}/${folder}/`, { method: 'PROPFIND', headers: { Depth: '1' } });
    assert.equal(r.status, 207);
    const xml = await r.text();
    const out = new Map<string, number>();
    const re = /<D:response>[\s\S]*?<D:href>([^<]*)<\/D:href>[\s\S]*?<\/D:response>/g;
    for (let m = re.exec(xml); m; m = re.exec(xml)) {
      const size = /<D:getcontentlength>(\d+)<\/D:getcontentlength>/.exec(m[0]);
      const name = decodeURIComponent(m[1]!.replace(/^[a-z]+:\/\/[^/]+/i, '')).replace(`/${folder}/`, '');
      if (size && name) out.set(name, Number(size[1]));
    }
    return out;
  }

  it('instance 2 lists what instance 1 indexed, and a later post, with no upstream read', async () => {
    const s0 = f.emu.stats();
    const one = await startServe(await configFor('one'));
    serves.push(one);
    const indexed = callsBetween(s0, f.emu.stats());
    assert.ok((indexed['channels.getMessages'] ?? 0) >= 2, JSON.stringify(indexed));

    const s1 = f.emu.stats();
    const two = await startServe(await configFor('two'));
    serves.push(two);
    const films = await listing(two.url, 'films');
    assert.deepEqual([...films], [['a.bin', 300_000], ['b.txt', 11]]);
    assert.deepEqual([...(await listing(two.url, 'docs'))], [['c.txt', 7]]);
    const head = await fetch(`${two.url}/stream/${channelId(f, 'films')}/1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '300000');
    const started = callsBetween(s1, f.emu.stats());
    assert.equal(started['channels.getMessages'], undefined, JSON.stringify(started));
    assert.equal(started['upload.getFile'], undefined, JSON.stringify(started));

    // Posted while both run: instance 1 follows it; instance 2 lists it within a few seconds.
    const s2 = f.emu.stats();
    await writeFile(path.join(f.dataDir, 'films', 'd.txt'), 'a later post');
    await f.emu.rescan();
    await until(async () => (await listing(one.url, 'films')).has('d.txt'), 8000, () => 'instance 1 lists d.txt');
    await until(async () => (await listing(two.url, 'films')).get('d.txt') === 12, 5000, () => 'instance 2 lists d.txt');
    const later = callsBetween(s2, f.emu.stats());
    assert.equal(later['channels.getMessages'], undefined, JSON.stringify(later));
    assert.equal(later['upload.getFile'], undefined, JSON.stringify(later));

    // The bytes still come right from either (the first read of a file is the only upstream one).
    const r = await fetch(`${two.url}/films/d.txt`);
    assert.equal(await r.text(), 'a later post');
  });

  it('a post neither was pushed, indexed by `tgvfs index`, reaches both through the store alone', async () => {
    assert.equal(serves.length, 2, 'needs the two instances of the previous test');
    const films = channelId(f, 'films');
    const bots = f.emu.config.bots.map((t) => Number(t.split(':')[0]));
    // Out of the channel while it is posted: no running instance hears of it.
    for (const b of bots) f.emu.setMembership(b, films, false);
    await writeFile(path.join(f.dataDir, 'films', 'e.txt'), 'only the index saw it');
    const logged = emuLog.length;
    await f.emu.rescan(); // resolves once the change is applied and pushed to whoever may have it
    for (const b of bots) f.emu.setMembership(b, films, true);
    assert.deepEqual(emuLog.slice(logged).filter((l) => /channel films:/.test(l)).map((l) => /pushed to (\d+)/.exec(l)?.[1]), ['0'], 'pushed after all?');
    for (const s of serves) assert.ok(!(await listing(s.url, 'films')).has('e.txt'), 'pushed after all?');

    const before = f.emu.stats();
    const index = startCli(['index', '--config', await configFor('indexer')]);
    try {
      assert.equal((await index.exit(30_000)).code, 0, index.stderr());
    } finally {
      await index.kill();
    }
    const indexed = callsBetween(before, f.emu.stats());
    // The indexer learnt it from getChannelDifference (which carries the message).
    assert.equal(indexed['channels.getMessages'], undefined, JSON.stringify(indexed));
    const t0 = Date.now();
    for (const s of serves) {
      await until(async () => (await listing(s.url, 'films')).get('e.txt') === 'only the index saw it'.length, 5000, () => `${s.url} lists e.txt`);
    }
    assert.ok(Date.now() - t0 < 5000);
    const after = callsBetween(before, f.emu.stats());
    assert.deepEqual(
      [after['channels.getMessages'], after['upload.getFile'], after['updates.getChannelDifference']],
      [undefined, undefined, indexed['updates.getChannelDifference']],
      JSON.stringify(after),
    );
  });

  it('redis going away under both: they keep serving (listing and bytes) and stop cleanly', async () => {
    assert.equal(serves.length, 2, 'needs the two instances of the previous test');
    const [one, two] = serves as [ServeProcess, ServeProcess];
    await redis.stop();
    for (const s of [one, two]) {
      assert.deepEqual([...(await listing(s.url, 'films'))].map(([n]) => n), ['a.bin', 'b.txt', 'd.txt', 'e.txt']);
      const r = await fetch(`${s.url}/films/a.bin`, { headers: { Range: 'bytes=100000-100099' } });
      assert.equal(r.status, 206);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(f.files.get('films/a.bin')!.subarray(100_000, 100_100)));
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    }
    await until(() => /connection lost/.test(two.cli.stderr()), 8000, () => 'the loss is logged');
    for (const s of serves.splice(0)) assert.equal(await s.stop(), 0, s.logTail());
    const secrets = [f.emu.config.apiHash, ...f.emu.config.bots.map((t) => t.split(':')[1]!)];
    for (const s of [one, two]) for (const secret of secrets) assert.ok(!s.cli.stderr().includes(secret), s.logTail());
  });

  it('serve with a redis that is down: exits 1 with one line naming the URL, password hidden', async () => {
    const file = path.join(f.dir, 'down.json');
    await writeFile(file, JSON.stringify({ ...f.emu.config, sessionDir: path.join(f.dir, 'down'), cache: 'redis://tgvfs:hunter2hunter2@127.0.0.1:1' }));
    const res = runCli(['serve', '--config', file, '--listen', '127.0.0.1:0'], { timeoutMs: 30_000 });
    assert.equal(res.status, 1, res.stderr);
    const lines = res.stderr.trim().split('\n').filter((l) => !/^tgvfs serve: (pool|worker)/.test(l));
    assert.match(lines.join('\n'), /cannot connect to cache redis:\/\/tgvfs:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/);
    assert.ok(!res.stderr.includes('hunter2hunter2') && !res.stdout.includes('hunter2hunter2'));
    await rm(path.join(f.dir, 'down'), { recursive: true, force: true });
  });
});
