// MetadataCache: round trips on sqlite (persisted, 0600 file in a 0700 folder) and memory://,
// per-bot keys, malformed entries read as misses, and URL errors that never show a password.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Keyv } from 'keyv';
import { CacheOpenError, CacheUrlError, MetadataCache, TgvfsError, type DocInfo } from '../src/telegram';
import { startRedis, type RedisServer } from './helpers/redis-server';

const BOT = 7000000001;
const OTHER_BOT = 7000000002;
const CHANNEL = -1001000000001;

function doc(msgId: number, extra: Partial<DocInfo> = {}): DocInfo {
  return {
    channel: CHANNEL,
    msgId,
    id: '8765432109876543210',
    accessHash: '-1234567890123456789',
    fileReference: Buffer.from([1, 2, 3, 4, 5]).toString('base64'),
    dcId: 2,
    size: 5 * 1024 * 1024 * 1024, // above 2^32: plain JSON numbers must carry it
    mimeType: 'video/mp4',
    name: 'clip.mp4',
    date: 1_700_000_000,
    thumbs: [{ type: 'm', w: 320, h: 180, size: 6000 }],
    ...extra,
  };
}

async function expectCacheUrlError(url: string): Promise<CacheUrlError> {
  try {
    const c = await MetadataCache.open(url);
    await c.close();
  } catch (err) {
    assert.ok(err instanceof CacheUrlError, inspect(err));
    assert.ok(err instanceof TgvfsError);
    assert.equal(err.code, 'CACHE_URL');
    return err;
  }
  assert.fail(`${url} should be refused`);
}

describe('MetadataCache', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-meta-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips documents and channel hashes on sqlite, across a reopen', async () => {
    const file = path.join(dir, 'nested', 'cache', 'meta.sqlite');
    const url = `sqlite://${file}`;
    const a = await MetadataCache.open(url);
    try {
      assert.equal(await a.getDoc(BOT, CHANNEL, 1), undefined);
      await a.setDoc(BOT, CHANNEL, 1, doc(1));
      await a.setDoc(BOT, CHANNEL, 2, doc(2, { name: null, thumbs: [] }));
      await a.setChannelHash(BOT, CHANNEL, '-987654321987654321');
      assert.deepEqual(await a.getDoc(BOT, CHANNEL, 1), doc(1));
      // Per bot: file references and access hashes are per account.
      assert.equal(await a.getDoc(OTHER_BOT, CHANNEL, 1), undefined);
      assert.equal(await a.getChannelHash(OTHER_BOT, CHANNEL), undefined);
      await assert.rejects(a.setDoc(BOT, CHANNEL, 3, doc(1)), RangeError);
    } finally {
      await a.close();
      await a.close(); // idempotent
    }

    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);

    const b = await MetadataCache.open(url);
    try {
      assert.deepEqual(await b.getDoc(BOT, CHANNEL, 1), doc(1));
      assert.deepEqual(await b.getDoc(BOT, CHANNEL, 2), doc(2, { name: null, thumbs: [] }));
      assert.equal(await b.getChannelHash(BOT, CHANNEL), '-987654321987654321');
      await b.deleteDoc(BOT, CHANNEL, 1);
      await b.deleteChannelHash(BOT, CHANNEL);
      assert.equal(await b.getDoc(BOT, CHANNEL, 1), undefined);
      assert.equal(await b.getChannelHash(BOT, CHANNEL), undefined);
      assert.ok(await b.getDoc(BOT, CHANNEL, 2));
    } finally {
      await b.close();
    }
  });

  it('tightens an existing cache file to 0600', async () => {
    const file = path.join(dir, 'loose.sqlite');
    await writeFile(file, '');
    await chmod(file, 0o644);
    const c = await MetadataCache.open(`sqlite://${file}`);
    try {
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      await c.setChannelHash(BOT, CHANNEL, '42');
      assert.equal(await c.getChannelHash(BOT, CHANNEL), '42');
    } finally {
      await c.close();
    }
  });

  it('memory:// works and keeps nothing after close', async () => {
    const c = await MetadataCache.open('memory://');
    try {
      await c.setDoc(BOT, CHANNEL, 7, doc(7));
      assert.deepEqual(await c.getDoc(BOT, CHANNEL, 7), doc(7));
      assert.equal(await c.getDoc(BOT, CHANNEL, 8), undefined);
    } finally {
      await c.close();
    }
    const d = await MetadataCache.open('memory://');
    try {
      assert.equal(await d.getDoc(BOT, CHANNEL, 7), undefined);
    } finally {
      await d.close();
    }
  });

  it('reads malformed entries (another version, a shared store) as misses', async () => {
    const keyv = new Keyv({ namespace: 'tgvfs-meta' });
    const c = MetadataCache.fromKeyv(keyv);
    try {
      await keyv.set(`doc:${BOT}:${CHANNEL}:1`, { channel: CHANNEL, msgId: 1, id: 5 });
      await keyv.set(`doc:${BOT}:${CHANNEL}:2`, doc(3)); // stored under the wrong message
      await keyv.set(`channel:${BOT}:${CHANNEL}`, 12345);
      assert.equal(await c.getDoc(BOT, CHANNEL, 1), undefined);
      assert.equal(await c.getDoc(BOT, CHANNEL, 2), undefined);
      assert.equal(await c.getChannelHash(BOT, CHANNEL), undefined);
    } finally {
      await c.close();
    }
  });

  it('refuses schemes without an installed adapter, naming the scheme and never the password', async () => {
    const err = await expectCacheUrlError('mongodb://admin:hunter2@db/tgvfs');
    assert.match(err.message, /mongodb:\/\//);
    for (const text of [err.message, String(err.stack), inspect(err)]) {
      assert.ok(!text.includes('hunter2'), text);
      assert.ok(!text.includes('admin:'), text);
    }
    await expectCacheUrlError('just-a-path.sqlite');
    await expectCacheUrlError('sqlite://relative/cache.sqlite');
  });
});

describe('MetadataCache over redis://', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('round-trips per bot under its namespace, and a second opener sees the same entries', async () => {
    const a = await MetadataCache.open(redis.url);
    const b = await MetadataCache.open(`${redis.url}/0`);
    try {
      assert.equal(a.description, redis.url);
      await a.setDoc(BOT, CHANNEL, 1, doc(1));
      await a.setChannelHash(BOT, CHANNEL, '-987654321987654321');
      // Another process on the same redis: the same answers, and per bot.
      assert.deepEqual(await b.getDoc(BOT, CHANNEL, 1), doc(1));
      assert.equal(await b.getChannelHash(BOT, CHANNEL), '-987654321987654321');
      assert.equal(await b.getDoc(OTHER_BOT, CHANNEL, 1), undefined);
      assert.equal(await b.getChannelHash(OTHER_BOT, CHANNEL), undefined);
      const keys = (await redis.command('KEYS', '*')).split('\n').sort();
      assert.deepEqual(keys, [`tgvfs-meta::channel:${BOT}:${CHANNEL}`, `tgvfs-meta::doc:${BOT}:${CHANNEL}:1`]);
      await b.deleteDoc(BOT, CHANNEL, 1);
      assert.equal(await a.getDoc(BOT, CHANNEL, 1), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a redis that is down at start: one line naming the URL with its password hidden', async () => {
    // A port nothing listens on: the server's own, once it is stopped, would race a restart.
    const url = 'redis://tgvfs:s3cretPassw0rd@127.0.0.1:1/2';
    const started = Date.now();
    let err: unknown;
    try {
      const c = await MetadataCache.open(url);
      await c.close();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof CacheOpenError, inspect(err));
    assert.equal(err.code, 'CACHE_OPEN');
    assert.match(err.message, /^cannot connect to cache redis:\/\/tgvfs:\*\*\*@127\.0\.0\.1:1\/2: .*ECONNREFUSED/);
    assert.ok(!err.message.includes('\n'));
    for (const text of [err.message, String(err.stack), inspect(err)]) assert.ok(!text.includes('s3cretPassw0rd'), text);
    // No retry loop: it fails at once.
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('a redis URL whose path is not a database number is refused before connecting', async () => {
    const err = await expectCacheUrlError(`redis://u:hunter2hunter2@127.0.0.1:${redis.port}/cache`);
    assert.match(err.message, /redis:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/cache must look like redis:\/\//);
    assert.ok(!inspect(err).includes('hunter2hunter2'));
  });

  it('a wrong password is refused at start without echoing it', async () => {
    // No such user on this server (its default user takes any password).
    const url = `redis://nobody:wr0ngPassw0rd@127.0.0.1:${redis.port}`;
    const err = await MetadataCache.open(url).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof CacheOpenError, inspect(err));
    assert.match(err.message, /redis:\/\/nobody:\*\*\*@127\.0\.0\.1:\d+: .*(WRONGPASS|AUTH)/);
    for (const text of [err.message, String(err.stack), inspect(err)]) assert.ok(!text.includes('wr0ngPassw0rd'), text);
  });

  it('a redis that goes away later: reads miss and writes fail at once, logged once; back when it is back', async () => {
    const lines: string[] = [];
    const c = await MetadataCache.open(redis.url, (l) => lines.push(l));
    try {
      await c.setDoc(BOT, CHANNEL, 5, doc(5));
      await redis.stop();
      const t0 = Date.now();
      await assert.rejects(c.getDoc(BOT, CHANNEL, 5), /offline|closed|connect/i);
      await assert.rejects(c.setDoc(BOT, CHANNEL, 6, doc(6)), /offline|closed|connect/i);
      assert.ok(Date.now() - t0 < 1000, 'commands must not wait for the reconnection');
      await redis.restart();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await c.setDoc(BOT, CHANNEL, 6, doc(6)).then(() => true, () => false);
        if (ok) break;
        assert.ok(Date.now() < deadline, 'the cache never reconnected');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await c.getDoc(BOT, CHANNEL, 6), doc(6));
      // Restarted empty: what was there before is a miss, not an error.
      assert.equal(await c.getDoc(BOT, CHANNEL, 5), undefined);
      assert.equal(lines.filter((l) => /connection lost/.test(l)).length, 1, lines.join('\n'));
      assert.ok(lines.some((l) => /connection back/.test(l)), lines.join('\n'));
    } finally {
      await c.close();
    }
  });
});
