// Several instances, one set of bots: each instance presents its own auth key per bot, and a
// session copied into a second instance (a shared session folder, the same TGVFS_SESSIONS) is
// noticed and logged (Telegram would answer AUTH_KEY_DUPLICATED).
//   - SessionClaims over one sqlite file opened twice: who warns (another host only: one key from
//     one address is allowed), how often, what is released, a new key followed;
//   - pools over one redis against the emulator, which counts distinct auth keys per bot: two
//     instances with their own session folders present 2 keys per bot and warn of nothing; a third
//     on "another host" given the first one's session strings presents no new key, and warns for
//     every bot.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { twoInstancesOnOneSqlite } from './helpers/two-instances';
import { SessionClaims } from '../src/telegram/session-claims';
import { WorkerPool } from '../src/index';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { startRedis, type RedisServer } from './helpers/redis-server';
import { until } from './helpers/eventually';

const WARNING = /^bot (\d+): a tgvfs instance on another host \(.+, pid \d+\) uses the same session \(auth key\); Telegram answers AUTH_KEY_DUPLICATED when one key is used from two places at once: give every instance its own sessionDir \(or its own TGVFS_SESSIONS strings\), never a copy$/;

describe('SessionClaims over one sqlite file opened by two instances', () => {
  const stores = twoInstancesOnOneSqlite('tgvfs-claims');

  it('the second instance with the same key warns once; its own key warns of nothing; release removes ours', async () => {
    const logA: string[] = [];
    const logB: string[] = [];
    const claimsA = new SessionClaims(stores.a, { host: 'host-a', log: (l) => logA.push(l) });
    const claimsB = new SessionClaims(stores.b, { host: 'host-b', log: (l) => logB.push(l) });
    try {
      await claimsA.claim(7, () => 'aaaaaaaaaaaaaaaa');
      await claimsB.claim(7, () => 'bbbbbbbbbbbbbbbb');
      assert.deepEqual([logA, logB], [[], []], 'own keys: nothing to say');
      await claimsB.claim(7, () => 'aaaaaaaaaaaaaaaa'); // B now presents A's key (a copied session)
      await claimsB.claim(7, () => 'aaaaaaaaaaaaaaaa');
      assert.equal(logB.length, 1, logB.join('\n'));
      assert.match(logB[0]!, WARNING);
      assert.ok(logB[0]!.startsWith(`bot 7: a tgvfs instance on another host (host-a, pid ${process.pid})`), logB[0]);
      assert.ok(!logB[0]!.includes('aaaaaaaaaaaaaaaa'), 'the key is not named, not even by fingerprint');
      assert.deepEqual(await stores.a.getRecords(['claim:7:bbbbbbbbbbbbbbbb']), [undefined], "B's old claim went with its old key");
    } finally {
      await claimsB.release();
      await claimsA.release();
    }
    assert.deepEqual(await stores.a.getRecords(['claim:7:aaaaaaaaaaaaaaaa']), [undefined], 'released');
  });

  it('a renewal follows the key the worker presents now (a new login)', async () => {
    let fingerprint = 'eeeeeeeeeeeeeeee';
    const claims = new SessionClaims(stores.a, { renewMs: 20 });
    try {
      await claims.claim(10, () => fingerprint);
      assert.notEqual((await stores.b.getRecords(['claim:10:eeeeeeeeeeeeeeee']))[0], undefined);
      fingerprint = 'ffffffffffffffff';
      await until(async () => (await stores.b.getRecords(['claim:10:ffffffffffffffff']))[0] !== undefined, 10_000, () => 'claim of the new key');
      assert.deepEqual(await stores.b.getRecords(['claim:10:eeeeeeeeeeeeeeee']), [undefined], 'the old key is no longer claimed');
    } finally {
      await claims.release();
    }
  });

  it('two processes on one host share a key without a warning (one address); on two hosts, warned', async () => {
    const log: string[] = [];
    const here = new SessionClaims(stores.a, { host: 'here', pid: 1111 });
    const alsoHere = new SessionClaims(stores.b, { host: 'here', log: (l) => log.push(l) });
    const elsewhere = new SessionClaims(stores.a, { host: 'elsewhere.example', pid: 2222 });
    try {
      await here.claim(8, () => 'cccccccccccccccc');
      await alsoHere.claim(8, () => 'cccccccccccccccc');
      assert.equal(log.length, 0, log.join('\n'));
      await elsewhere.claim(9, () => 'dddddddddddddddd');
      await alsoHere.claim(9, () => 'dddddddddddddddd');
      assert.deepEqual(log.map((l) => WARNING.exec(l)?.[1]), ['9'], log.join('\n'));
      assert.ok(log[0]!.includes('(elsewhere.example, pid 2222)'), log[0]);
    } finally {
      await Promise.all([here.release(), alsoHere.release(), elsewhere.release()]);
    }
  });
});

describe('pools over one redis: own auth keys per instance, copies noticed', () => {
  let f: EmulatorFixture;
  let redis: RedisServer;
  const pools: WorkerPool[] = [];
  before(async () => {
    redis = await startRedis();
    f = await startFixture({ 'one/a.txt': Buffer.from('hello') });
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await f?.close();
    await redis?.stop();
  });

  /** One fresh channels.getMessages as every bot of the pool (so the emulator sees its keys). */
  async function callAsEveryBot(p: WorkerPool): Promise<void> {
    await Promise.all(p.workers.map((w) => w.getDoc(channelId(f, 'one'), 1, { fresh: true })));
  }

  it('two instances present two keys per bot; a third with copied session strings adds none and warns', async () => {
    const cfg = f.emu.config;
    const botIds = cfg.bots.map((t) => t.split(':')[0]!);
    const logs: string[][] = [[], [], []];
    const open = async (i: number, extra: { sessionDir: string; sessions?: string[] }): Promise<WorkerPool> => {
      const p = await WorkerPool.create({ ...cfg, ...extra, cache: redis.url, log: (l) => logs[i]!.push(l) });
      pools.push(p);
      return p;
    };
    const poolA = await open(0, { sessionDir: path.join(f.dir, 'a') });
    const poolB = await open(1, { sessionDir: path.join(f.dir, 'b') });
    await callAsEveryBot(poolA);
    await callAsEveryBot(poolB);
    assert.deepEqual(botIds.map((id) => f.emu.stats().authKeysByBot[id]), [2, 2, 2], 'one key per instance and bot');
    assert.deepEqual([...logs[0]!, ...logs[1]!].filter((l) => WARNING.test(l)), []);

    const byBot = new Map(poolA.workers.map((w) => [String(w.id), w.sessionString()]));
    // C plays an instance on another host (its claims carry that host's name) given A's strings.
    const hostname = os.hostname;
    os.hostname = () => 'another-host.example';
    let poolC: WorkerPool;
    try {
      poolC = await open(2, { sessionDir: path.join(f.dir, 'c'), sessions: botIds.map((id) => byBot.get(id)!) });
    } finally {
      os.hostname = hostname;
    }
    await callAsEveryBot(poolC);
    assert.deepEqual(botIds.map((id) => f.emu.stats().authKeysByBot[id]), [2, 2, 2], "C presented A's keys");
    const warned = logs[2]!.filter((l) => WARNING.test(l)).map((l) => WARNING.exec(l)![1]).sort();
    assert.deepEqual(warned, [...botIds].sort(), logs[2]!.join('\n'));
  });
});
