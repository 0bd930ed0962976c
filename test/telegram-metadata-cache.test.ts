// MetadataCache: round trips on sqlite (persisted, 0600 file in a 0700 folder) and memory://,
// per-bot keys, malformed entries read as misses, and URL errors that never show a password.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Keyv } from 'keyv';
import { CacheUrlError, MetadataCache, TgvfsError, type DocInfo } from '../src/telegram';

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
    const err = await expectCacheUrlError('redis://u:secret@h:6379/0');
    assert.match(err.message, /redis:\/\//);
    for (const text of [err.message, String(err.stack), inspect(err)]) {
      assert.ok(!text.includes('secret'), text);
      assert.ok(!text.includes('u:'), text);
    }
    await expectCacheUrlError('mongodb://admin:hunter2@db/tgvfs').then((e) => assert.ok(!e.message.includes('hunter2')));
    await expectCacheUrlError('just-a-path.sqlite');
    await expectCacheUrlError('sqlite://relative/cache.sqlite');
  });
});
