// Several instances, one set of bots: a FLOOD_WAIT one instance is told is seen by all through
// the shared store, so no instance calls that bot until the wait ends.
//   - SharedFlood over one sqlite file opened twice (two processes' view), with a stepped clock:
//     what is seen when, how often the store is read, the wait's end;
//   - two pools over one redis, then over one sqlite file, against the emulator (its FLOOD_WAIT
//     on a manual clock, so the bot stays flood-waited upstream as long as the test says): after
//     pool A is told FLOOD_WAIT on bot 1, pool B reads a file byte-exact with 0 calls as bot 1;
//     the record expires with the wait, and B uses the bot again once it is over.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { twoInstancesOnOneSqlite } from './helpers/two-instances';
import { FloodWaitTooLongError } from '../src/telegram';
import { MetadataCache } from '../src/telegram/metadata-cache';
import { SharedFlood, type FloodStore } from '../src/telegram/shared-flood';
import { WorkerPool, type WorkerPoolOptions } from '../src/index';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { ManualClock } from './helpers/manual-clock';
import { startRedis, type RedisServer } from './helpers/redis-server';

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A store that counts its reads. */
function counting(store: MetadataCache): FloodStore & { reads: number } {
  const s = {
    reads: 0,
    shared: store.shared,
    getRecords: (keys: string[]) => {
      s.reads++;
      return store.getRecords(keys);
    },
    setRecord: (key: string, value: unknown, ttlMs: number) => store.setRecord(key, value, ttlMs),
  };
  return s;
}

describe('SharedFlood over one sqlite file opened by two instances', () => {
  const stores = twoInstancesOnOneSqlite('tgvfs-flood');

  it('B sees the wait A was told at its next read, not before, and not after it ends', async () => {
    let now = Date.now();
    const clock = (): number => now;
    const storeB = counting(stores.b);
    const floodA = new SharedFlood(stores.a, [11, 22], { now: clock, refreshMs: 1000 });
    const floodB = new SharedFlood(storeB, [11, 22], { now: clock, refreshMs: 1000 });
    await floodB.fresh();
    assert.equal(storeB.reads, 1);
    assert.equal(floodB.until(11), 0);

    const end = now + 30_000;
    floodA.publish(11, end);
    await floodA.settled();
    assert.equal(floodA.until(11), end, 'A knows at once');
    await floodB.fresh();
    assert.equal(storeB.reads, 1, 'read at most once per refreshMs');
    assert.equal(floodB.until(11), 0);

    now += 1000;
    await Promise.all([floodB.fresh(), floodB.fresh(), floodB.fresh()]);
    assert.equal(storeB.reads, 2, 'concurrent acquires share one read');
    assert.equal(floodB.until(11), end, 'bot 11 is skipped by B until the end A was told');
    assert.equal(floodB.until(22), 0, 'bot 22 is not');

    now = end;
    assert.equal(floodB.until(11), 0, 'usable again once the wait is over');
  });

  it('an earlier end never shortens a longer wait; a malformed record is no wait', async () => {
    const now = Date.now();
    const floodA = new SharedFlood(stores.a, [33], { refreshMs: 0 });
    const floodB = new SharedFlood(stores.b, [33], { refreshMs: 0 });
    floodA.publish(33, now + 60_000);
    floodA.publish(33, now + 5_000);
    await floodA.settled();
    await floodB.fresh();
    assert.equal(floodB.until(33), now + 60_000);

    await stores.a.setRecord('flood:44', 'soon', 60_000);
    const floodC = new SharedFlood(stores.b, [44], { refreshMs: 0 });
    await floodC.fresh();
    assert.equal(floodC.until(44), 0);
  });

  it('a store that fails is one log line, and the pool keeps its own view', async () => {
    const lines: string[] = [];
    const broken: FloodStore = {
      shared: true,
      getRecords: () => Promise.reject(new Error('store down')),
      setRecord: () => Promise.reject(new Error('store down')),
    };
    const flood = new SharedFlood(broken, [55], { refreshMs: 0, log: (l) => lines.push(l) });
    const end = Date.now() + 60_000;
    flood.publish(55, end);
    await flood.settled();
    await flood.fresh();
    await flood.fresh();
    assert.equal(flood.until(55), end);
    assert.deepEqual(lines, ['pool: cannot write shared FLOOD_WAIT records (store down); other instances may call a bot in FLOOD_WAIT meanwhile']);
  });

  it('a store that does not answer holds nobody up past storeTimeoutMs, and is not asked twice meanwhile', async () => {
    const lines: string[] = [];
    let reads = 0;
    const hung: FloodStore = {
      shared: true,
      getRecords: () => {
        reads++;
        return new Promise(() => undefined);
      },
      setRecord: () => new Promise(() => undefined),
    };
    const flood = new SharedFlood(hung, [66], { refreshMs: 0, storeTimeoutMs: 50, log: (l) => lines.push(l) });
    flood.publish(66, Date.now() + 60_000);
    await flood.settled();
    await flood.fresh();
    await flood.fresh();
    assert.equal(reads, 1, 'the unanswered read is not repeated');
    assert.deepEqual(lines, ['pool: cannot write shared FLOOD_WAIT records (no answer in 50 ms); other instances may call a bot in FLOOD_WAIT meanwhile']);
  });
});

interface SharedStore {
  name: string;
  url: string;
  /** Milliseconds until a bot's shared record expires (redis only: sqlite keeps TTLs in its rows). */
  pttl?: (botId: number) => Promise<number>;
}

function botIdOf(token: string): number {
  return Number(token.split(':')[0]);
}

for (const kind of ['redis', 'sqlite'] as const) {
  describe(`two pools over one ${kind} store: a FLOOD_WAIT one is told, the other respects`, () => {
    let f: EmulatorFixture;
    let redis: RedisServer | undefined;
    let store: SharedStore;
    let clock: ManualClock;
    const pools: WorkerPool[] = [];
    before(async () => {
      clock = new ManualClock();
      f = await startFixture({ 'one/a.bin': 3 * MiB + 12345 }, { clock });
      if (kind === 'redis') {
        const r = (redis = await startRedis());
        store = { name: kind, url: r.url, pttl: async (bot) => Number(await r.command('PTTL', `tgvfs-meta::flood:${bot}`)) };
      } else {
        store = { name: kind, url: `sqlite://${f.dir}/shared.sqlite` };
      }
    });
    after(async () => {
      await Promise.all(pools.map((p) => p.close()));
      await f?.close();
      await redis?.stop();
    });

    async function pool(name: string, extra: Partial<WorkerPoolOptions>): Promise<WorkerPool> {
      const p = await WorkerPool.create({ ...f.emu.config, sessionDir: path.join(f.dir, name), cache: store.url, ...extra });
      pools.push(p);
      return p;
    }

    it('B makes no call as the bot A saw in FLOOD_WAIT, and reads byte-exact with the others', async () => {
      const cfg = f.emu.config;
      const bot1 = botIdOf(cfg.bots[0]!);
      const logB: string[] = [];
      // A holds bot 1 only and waits for no FLOOD_WAIT: it is told, shares it, and gives up.
      const poolA = await pool('a', { bots: [cfg.bots[0]!], floodWaitThreshold: 5 });
      const poolB = await pool('b', { sharedFloodRefreshMs: 0, log: (l) => logB.push(l) });
      const ch = channelId(f, 'one');

      f.emu.setFaults({ floodWait: { every: 1, seconds: 600 } });
      await assert.rejects(poolA.fetchPart(ch, 1, 0, 512 * 1024), FloodWaitTooLongError);
      f.emu.setFaults({ floodWait: null }); // bot 1 stays in FLOOD_WAIT upstream: the emulator's clock does not move
      const before = f.emu.stats();
      assert.equal(before.botCalls[bot1]?.['upload.getFile'], 1, 'A was told FLOOD_WAIT on its one call');
      if (store.pttl) {
        const ttl = await store.pttl(bot1);
        assert.ok(ttl > 590_000 && ttl <= 600_000, `the shared record expires with the wait (PTTL ${ttl})`);
      }

      const got = await collect(poolB.stream(ch, 1, 0, 3 * MiB + 12344));
      assert.equal(sha256(got), sha256(f.files.get('one/a.bin')!));
      const stats = f.emu.stats();
      assert.equal(stats.botCalls[bot1]?.['upload.getFile'] ?? 0, 1, 'B made no getFile call as bot 1');
      assert.equal(stats.faults.FLOOD_WAIT, before.faults.FLOOD_WAIT, 'and was told no FLOOD_WAIT');
      const others = cfg.bots.slice(1).map((t) => stats.botCalls[botIdOf(t)]?.['upload.getFile'] ?? 0);
      assert.ok(others.every((n) => n > 0), `the other bots served the read (${others})`);
      assert.ok(logB.some((l) => l.startsWith(`worker ${bot1}: in FLOOD_WAIT for `) && l.endsWith('as another instance was told; skipped until then')), logB.join('\n'));
    });

    // Redis only: it needs the record's time to live (PTTL) to wait exactly until its end.
    if (kind === 'redis') it('once the wait another instance was told is over, the bot is used again', async () => {
      const cfg = f.emu.config;
      const bot3 = botIdOf(cfg.bots[2]!);
      const logB: string[] = [];
      const poolA = await pool('a3', { bots: [cfg.bots[2]!], floodWaitThreshold: 0 });
      const poolB = await pool('b3', { sharedFloodRefreshMs: 0, log: (l) => logB.push(l) });
      const ch = channelId(f, 'one');
      clock.advance(600_000); // bot 1's wait of the first test is over upstream

      f.emu.setFaults({ floodWait: { every: 1, seconds: 4 } });
      await assert.rejects(poolA.fetchPart(ch, 1, 0, 512 * 1024), FloodWaitTooLongError);
      f.emu.setFaults({ floodWait: null });
      clock.advance(4000); // over upstream; B keeps to the end A was told, in the machine's time
      await poolB.fetchPart(ch, 1, 0, 512 * 1024);
      assert.ok(logB.some((l) => l.startsWith(`worker ${bot3}: in FLOOD_WAIT for `)), logB.join('\n'));

      // The one wait of this test: until the shared record's end (at most 4 s).
      const left = await store.pttl!(bot3);
      assert.ok(left > 0 && left <= 4000, `PTTL ${left}`);
      await new Promise((resolve) => setTimeout(resolve, left + 20));
      const before = f.emu.stats();
      for (let i = 0; i < 3; i++) await poolB.fetchPart(ch, 1, i * 512 * 1024, 512 * 1024);
      const after = f.emu.stats();
      const bot3Calls = (after.botCalls[bot3]?.['upload.getFile'] ?? 0) - (before.botCalls[bot3]?.['upload.getFile'] ?? 0);
      assert.ok(bot3Calls >= 1, 'round-robin reaches bot 3 again');
      assert.equal(after.faults.FLOOD_WAIT, before.faults.FLOOD_WAIT, 'without a FLOOD_WAIT');
    });
  });
}
