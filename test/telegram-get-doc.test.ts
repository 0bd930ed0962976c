// worker.getDoc / getThumbnail against the emulator: fields match the source files, a restarted
// process answers from the session and the cache with no upstream call, typed errors for a
// missing message, a message without a document, a channel the bot cannot see (POST
// /membership), and a thumbnail whose file reference expired.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import {
  ChannelInaccessibleError,
  MessageNotFoundError,
  MetadataCache,
  NoThumbnailError,
  NotADocumentError,
  Worker,
  docInfoFromMessage,
  type DocInfo,
} from '../src/telegram';
import type { EmulatorStats } from '../src/emulator/types';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { ManualClock } from './helpers/manual-clock';
import { expectRejects } from './helpers/assertions';

const run = promisify(execFile);

/** 160×90 baseline JPEG header and end marker: enough for the emulator to read its size. */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x5a, 0x00, 0xa0, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
const NOTES = Buffer.from('tgvfs notes\n'.repeat(50));

// Message ids in name order, thumbnails skipped: clip.mp4 1, notes.txt 2, plain.bin 3.
const CLIP = 1;
const NOTES_ID = 2;
const PLAIN = 3;

const UPSTREAM = ['channels.getMessages', 'channels.getChannels', 'auth.importBotAuthorization'] as const;

function counts(s: EmulatorStats): Record<string, number> {
  return Object.fromEntries(UPSTREAM.map((m) => [m, s.calls[m] ?? 0]));
}

function delta(before: EmulatorStats, after: EmulatorStats): Record<string, number> {
  const a = counts(after);
  const b = counts(before);
  return Object.fromEntries(UPSTREAM.map((m) => [m, a[m]! - b[m]!]));
}

async function postMembership(f: EmulatorFixture, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${f.emu.adminUrl}/membership`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Worker.getDoc and getThumbnail', () => {
  let f: EmulatorFixture;
  let ch = 0;
  const caches: MetadataCache[] = [];
  /** The emulator's time: file reference epochs move when the test says. */
  const clock = new ManualClock();

  before(async () => {
    f = await startFixture({
      'one/clip.mp4': 100_000,
      'one/clip.jpg': JPEG, // the thumbnail of clip.mp4, not a message
      'one/notes.txt': NOTES,
      'one/plain.bin': 5000,
    }, { clock });
    ch = channelId(f, 'one');
  });

  after(async () => {
    await Promise.all(f.workers.map((w) => w.stop().catch(() => undefined)));
    for (const c of caches) await c.close().catch(() => undefined);
    await f.close();
  });

  async function openCache(name: string): Promise<{ url: string; cache: MetadataCache }> {
    const url = `sqlite://${path.join(f.dir, 'caches', name)}`;
    const cache = await MetadataCache.open(url);
    caches.push(cache);
    return { url, cache };
  }

  async function startWorker(bot: number, cache?: MetadataCache): Promise<Worker> {
    const cfg = f.emu.config;
    const w = await Worker.start({
      token: cfg.bots[bot]!,
      apiId: cfg.apiId,
      apiHash: cfg.apiHash,
      sessionDir: cfg.sessionDir,
      telegram: cfg.telegram,
      requestTimeoutMs: 20_000,
      cache,
    });
    f.workers.push(w);
    return w;
  }

  it('getDoc fields match the source files', async () => {
    const w = await startWorker(0);
    const clip = await w.getDoc(ch, CLIP);
    const src = await stat(path.join(f.dataDir, 'one', 'clip.mp4'));
    assert.equal(clip.channel, ch);
    assert.equal(clip.msgId, CLIP);
    assert.equal(clip.name, 'clip.mp4');
    assert.equal(clip.size, 100_000);
    assert.equal(clip.mimeType, 'video/mp4');
    assert.equal(clip.date, Math.floor(src.mtimeMs / 1000));
    assert.equal(clip.dcId, 2);
    assert.match(clip.id, /^\d+$/);
    assert.match(clip.accessHash, /^-?\d+$/);
    assert.ok(Buffer.from(clip.fileReference, 'base64').length > 0);
    // Only the downloadable size; the stripped one is inline.
    assert.deepEqual(clip.thumbs, [{ type: 'm', w: 160, h: 90, size: JPEG.length }]);
    // Plain JSON: survives a round trip unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(clip)), clip);

    const notes = await w.getDoc(ch, NOTES_ID);
    assert.equal(notes.name, 'notes.txt');
    assert.equal(notes.size, NOTES.length);
    assert.equal(notes.mimeType, 'text/plain');
    assert.deepEqual(notes.thumbs, []);
    assert.equal((await w.getDoc(ch, PLAIN)).mimeType, 'application/octet-stream');
  });

  it('known documents cost no call; concurrent fetches share one; fresh asks again', async () => {
    const { cache } = await openCache('shared.sqlite');
    const w = await startWorker(1, cache);
    const s0 = f.emu.stats();
    const [a, b, c] = await Promise.all([w.getDoc(ch, CLIP), w.getDoc(ch, CLIP), w.getDoc(ch, CLIP)]);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    const s1 = f.emu.stats();
    assert.equal(delta(s0, s1)['channels.getMessages'], 1);
    await w.getDoc(ch, CLIP);
    const s2 = f.emu.stats();
    assert.equal(delta(s1, s2)['channels.getMessages'], 0);
    assert.deepEqual(await cache.getDoc(w.id, ch, CLIP), a, 'written to the cache');

    const fresh = await w.getDoc(ch, CLIP, { fresh: true });
    assert.equal(delta(s2, f.emu.stats())['channels.getMessages'], 1);
    assert.equal(fresh.id, a.id);

    await w.invalidateDoc(ch, CLIP);
    assert.equal(await cache.getDoc(w.id, ch, CLIP), undefined);
    const s3 = f.emu.stats();
    await w.getDoc(ch, CLIP);
    assert.equal(delta(s3, f.emu.stats())['channels.getMessages'], 1);

    const ac = new AbortController();
    ac.abort();
    await assert.rejects(w.getDoc(ch, NOTES_ID, { signal: ac.signal }), { name: 'AbortError' });
  });

  it('a restarted process answers getDoc from the session and cache: no upstream call', async () => {
    const { url, cache } = await openCache('restart.sqlite');
    const w = await startWorker(2, cache);
    const first: DocInfo[] = [await w.getDoc(ch, CLIP), await w.getDoc(ch, NOTES_ID)];
    await w.stop();
    await cache.close();

    const cfg = f.emu.config;
    const opts = { token: cfg.bots[2]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: cfg.sessionDir, telegram: cfg.telegram };
    const entry = path.resolve(__dirname, '../src/telegram/index.js');
    const script = `
      const { Worker, MetadataCache } = require(${JSON.stringify(entry)});
      (async () => {
        const { opts, url, reads } = JSON.parse(process.env.TGVFS_TEST_CHILD);
        const cache = await MetadataCache.open(url);
        const w = await Worker.start({ ...opts, cache });
        const docs = [];
        for (const [channel, msgId] of reads) docs.push(await w.getDoc(channel, msgId));
        await w.stop();
        await cache.close();
        process.stdout.write(JSON.stringify({ loginKind: w.loginKind, docs }));
      })().catch((e) => { process.stderr.write(String((e && e.stack) || e)); process.exit(3); });
    `;
    const before = f.emu.stats();
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: { ...process.env, TGVFS_TEST_CHILD: JSON.stringify({ opts, url, reads: [[ch, CLIP], [ch, NOTES_ID]] }) },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as { loginKind: string; docs: DocInfo[] };
    assert.equal(out.loginKind, 'reused');
    assert.deepEqual(out.docs, first);
    assert.deepEqual(delta(before, f.emu.stats()), {
      'channels.getMessages': 0,
      'channels.getChannels': 0,
      'auth.importBotAuthorization': 0,
    });
  });

  it('a cached channel access hash that Telegram refuses is resolved again, once', async () => {
    const { cache } = await openCache('stale-hash.sqlite');
    const botId = Number(f.emu.config.bots[0]!.split(':')[0]);
    await cache.setChannelHash(botId, ch, '1234567');
    const w = await startWorker(0, cache);
    const before = f.emu.stats();
    assert.equal((await w.getDoc(ch, PLAIN)).size, 5000);
    assert.equal(delta(before, f.emu.stats())['channels.getChannels'], 1);
    assert.notEqual(await cache.getChannelHash(botId, ch), '1234567');
  });

  it('getThumbnail: exactly the jpg beside the mp4; NoThumbnailError without one', async () => {
    const w = await startWorker(0);
    const bytes = await w.getThumbnail(ch, CLIP);
    assert.ok(bytes.equals(JPEG), `got ${bytes.toString('hex')}`);

    for (const msgId of [PLAIN, NOTES_ID]) {
      const err = await expectRejects(w.getThumbnail(ch, msgId), NoThumbnailError);
      assert.equal(err.code, 'NO_THUMBNAIL');
      assert.deepEqual(err.context, { channel: ch, msgId, worker: w.id });
    }
  });

  it('a missing message is MessageNotFoundError; a message without a document NotADocumentError', async () => {
    const w = await startWorker(0);
    const missing = await expectRejects(w.getDoc(ch, 999), MessageNotFoundError);
    assert.deepEqual(missing.context, { channel: ch, msgId: 999, worker: w.id });
    await expectRejects(w.getThumbnail(ch, 999), MessageNotFoundError);

    // Every emulator message has a document; a text post is built by hand.
    const text = new Api.Message({ id: 5, peerId: new Api.PeerChannel({ channelId: bigInt(1) }), date: 1, message: 'hi' });
    const err = await expectRejects(Promise.resolve().then(() => docInfoFromMessage(ch, text, { worker: 1 })), NotADocumentError);
    assert.equal(err.code, 'NOT_A_DOCUMENT');
    assert.deepEqual(err.context, { worker: 1, channel: ch, msgId: 5 });
  });

  it('a bot that is not a member: ChannelInaccessibleError naming the channel', async () => {
    const botId = Number(f.emu.config.bots[1]!.split(':')[0]);
    const member = await startWorker(1);
    await member.getDoc(ch, CLIP); // channel resolved while still a member

    const bad = await postMembership(f, { bot: botId, channel: 5, member: false });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /channel/);
    assert.equal((await postMembership(f, { bot: botId, channel: ch, member: 'no' })).status, 400);
    assert.equal((await postMembership(f, { bot: 1, channel: ch, member: false })).status, 400);
    assert.equal((await postMembership(f, { bot: botId, channel: -1009999999999, member: false })).status, 400);

    const ok = await postMembership(f, { bot: botId, channel: ch, member: false });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    try {
      // A worker that knew the channel (getChannels done) fails on getMessages…
      const e1 = await expectRejects(member.getDoc(ch, NOTES_ID, { fresh: true }), ChannelInaccessibleError);
      assert.equal(e1.reason, 'CHANNEL_PRIVATE');
      assert.ok(e1.message.includes(String(ch)), e1.message);
      assert.deepEqual(e1.context, { channel: ch, msgId: NOTES_ID, worker: botId });
      // …and a new one on getChannels.
      const fresh = await startWorker(1);
      const e2 = await expectRejects(fresh.getDoc(ch, CLIP), ChannelInaccessibleError);
      assert.ok(e2.message.includes(String(ch)), e2.message);
      await expectRejects(fresh.getThumbnail(ch, CLIP), ChannelInaccessibleError);
      // Other bots are not affected.
      assert.equal((await (await startWorker(0)).getDoc(ch, NOTES_ID, { fresh: true })).name, 'notes.txt');
    } finally {
      f.emu.setMembership(botId, ch, true);
    }
    assert.equal((await member.getDoc(ch, NOTES_ID, { fresh: true })).name, 'notes.txt');
    assert.throws(() => f.emu.setMembership(botId, -1009999999999, false), RangeError);
  });

  it('a thumbnail whose cached file reference expired is refreshed and still fetched', async () => {
    const { cache } = await openCache('expire.sqlite');
    const w = await startWorker(0, cache);
    f.emu.setFaults({ expireRefs: 1 });
    try {
      const doc = await w.getDoc(ch, CLIP, { fresh: true });
      clock.advance(1000); // the next reference epoch; the refresh and retry happen within it
      const expiredBefore = f.emu.stats().faults.FILE_REFERENCE_EXPIRED ?? 0;
      const bytes = await w.getThumbnail(ch, CLIP);
      assert.ok(bytes.equals(JPEG));
      assert.equal((f.emu.stats().faults.FILE_REFERENCE_EXPIRED ?? 0) - expiredBefore, 1, 'the first try hit the expired reference');
      const cached = await cache.getDoc(w.id, ch, CLIP);
      assert.ok(cached);
      assert.notEqual(cached.fileReference, doc.fileReference, 'the cache holds the new reference');
    } finally {
      f.emu.setFaults({ expireRefs: 0 });
    }
  });
});
