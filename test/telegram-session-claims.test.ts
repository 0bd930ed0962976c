// Several instances, one set of bots: each instance presents its own auth key per bot, and a
// session copied into a second instance (a shared session folder, the same TGVFS_SESSIONS) is
// noticed and logged (Telegram would answer AUTH_KEY_DUPLICATED).
//   - SessionClaims over one sqlite file opened twice: who warns, how often, what is released;
//   - pools over one redis against the emulator, which counts distinct auth keys per bot: two
//     instances with their own session folders present 2 keys per bot and warn of nothing; a third
//     given the first one's session strings presents no new key, and warns for every bot.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MetadataCache } from '../src/telegram/metadata-cache';
import { SessionClaims } from '../src/telegram/session-claims';
import { WorkerPool } from '../src/index';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { startRedis, type RedisServer } from './helpers/redis-server';
import { until } from './helpers/eventually';

const WARNING = /^bot (\d+): another tgvfs instance \(host .+, pid \d+\) uses the same session \(auth key\); Telegram answers AUTH_KEY_DUPLICATED when one key is used from two places at once: give every instance its own sessionDir \(or its own TGVFS_SESSIONS strings\), never a copy$/;

describe('SessionClaims over one sqlite file opened by two instances', () => {
  let dir: string;
  let a: MetadataCache;
  let b: MetadataCache;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-claims-'));
    a = await MetadataCache.open(`sqlite://${dir}/cache.sqlite`);
    b = await MetadataCache.open(`sqlite://${dir}/cache.sqlite`);
  });
  after(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the second instance with the same key warns once; its own key warns of nothing; release removes ours', async () => {
    const logA: string[] = [];
    const logB: string[] = [];
    const claimsA = new SessionClaims(a, { log: (l) => logA.push(l) });
    const claimsB = new SessionClaims(b, { log: (l) => logB.push(l) });
    try {
      await claimsA.claim(7, () => 'aaaaaaaaaaaaaaaa');
      await claimsB.claim(7, () => 'bbbbbbbbbbbbbbbb');
      assert.deepEqual([logA, logB], [[], []], 'own keys: nothing to say');
      await claimsB.claim(7, () => 'aaaaaaaaaaaaaaaa'); // B now presents A's key (a copied session)
      await claimsB.claim(7, () => 'aaaaaaaaaaaaaaaa');
      assert.equal(logB.length, 1, logB.join('\n'));
      assert.match(logB[0]!, WARNING);
      assert.ok(logB[0]!.startsWith('bot 7: '));
      assert.ok(!logB[0]!.includes('aaaaaaaaaaaaaaaa'), 'the key is not named, not even by fingerprint');
      assert.deepEqual(await a.getRecords(['claim:7:bbbbbbbbbbbbbbbb']), [undefined], "B's old claim went with its old key");
    } finally {
      await claimsB.release();
      await claimsA.release();
    }
    assert.deepEqual(await a.getRecords(['claim:7:aaaaaaaaaaaaaaaa']), [undefined], 'released');
  });

  it('a renewal follows the key the worker presents now (a new login)', async () => {
    let fingerprint = 'eeeeeeeeeeeeeeee';
    const claims = new SessionClaims(a, { renewMs: 20 });
    try {
      await claims.claim(10, () => fingerprint);
      assert.notEqual((await b.getRecords(['claim:10:eeeeeeeeeeeeeeee']))[0], undefined);
      fingerprint = 'ffffffffffffffff';
      await until(async () => (await b.getRecords(['claim:10:ffffffffffffffff']))[0] !== undefined, 10_000, () => 'claim of the new key');
      assert.deepEqual(await b.getRecords(['claim:10:eeeeeeeeeeeeeeee']), [undefined], 'the old key is no longer claimed');
    } finally {
      await claims.release();
    }
  });

  it('a claim left by a process that died on this host is not another instance', async () => {
    const gone = new SessionClaims(a, { pid: 2 ** 22 + 12345 }); // above pid_max: no such process
    const log: string[] = [];
    const fresh = new SessionClaims(b, { log: (l) => log.push(l) });
    try {
      await gone.claim(8, () => 'cccccccccccccccc');
      await fresh.claim(8, () => 'cccccccccccccccc');
      assert.deepEqual(log, []);
      const away = new SessionClaims(a, { host: 'elsewhere.example', pid: 2 ** 22 + 12345 });
      await away.claim(9, () => 'dddddddddddddddd');
      await fresh.claim(9, () => 'dddddddddddddddd');
      assert.equal(log.length, 1, 'on another host, a pid says nothing: warned');
      assert.match(log[0]!, /^bot 9: another tgvfs instance \(host elsewhere\.example, pid \d+\)/);
      await away.release();
    } finally {
      await fresh.release();
      await gone.release();
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
    const poolC = await open(2, { sessionDir: path.join(f.dir, 'c'), sessions: botIds.map((id) => byBot.get(id)!) });
    await callAsEveryBot(poolC);
    assert.deepEqual(botIds.map((id) => f.emu.stats().authKeysByBot[id]), [2, 2, 2], "C presented A's keys");
    const warned = logs[2]!.filter((l) => WARNING.test(l)).map((l) => WARNING.exec(l)![1]).sort();
    assert.deepEqual(warned, [...botIds].sort(), logs[2]!.join('\n'));
  });
});
