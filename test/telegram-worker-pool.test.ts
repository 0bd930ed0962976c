// The worker pool against the emulator with 3 bots: failover under FLOOD_WAIT and dropped
// connections, exact ranges, flood waits over the threshold, bad tokens, restart from the
// session and cache dirs, expiring file references, FILE_MIGRATE, thumbnails, abort.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { FloodWaitTooLongError, NoThumbnailError } from '../src/telegram';
import { PoolStartError, WorkerPool, type WorkerPoolOptions } from '../src/index';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { closeAfterEach } from './helpers/close-after-each';
import { ManualClock } from './helpers/manual-clock';
import { upstreamLedger } from './helpers/upstream-ledger';

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function tinyJpeg(): Buffer {
  return Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 90, 0x00, 160, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
}

describe('WorkerPool', () => {
  let f: EmulatorFixture | undefined;
  const pools = closeAfterEach<WorkerPool>(() => f, () => (f = undefined));

  async function pool(extra: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
    const cfg = f!.emu.config;
    const p = await WorkerPool.create({ ...cfg, ...extra });
    pools.push(p);
    return p;
  }

  it('streams 30 MiB byte-exact through FLOOD_WAIT 5:3 and drops every 4 MB', async () => {
    f = await startFixture({ 'one/big.bin': 30 * MiB }, { faults: { floodWait: { every: 5, seconds: 3 }, dropEvery: 4_000_000 } });
    const p = await pool();
    const ch = channelId(f, 'one');
    const got = await collect(p.stream(ch, 1, 0, 30 * MiB - 1));
    assert.equal(got.length, 30 * MiB);
    assert.equal(sha256(got), sha256(f.files.get('one/big.bin')!));
    const s = f.emu.stats();
    assert.ok((s.faults.FLOOD_WAIT ?? 0) > 0, 'FLOOD_WAITs were hit');
    assert.ok((s.faults.DROP ?? 0) > 0, 'connections were dropped');
    assert.ok((s.calls['upload.getFile'] ?? 0) >= 30, 'and the stream went on');
  });

  it('every range class is exact', async () => {
    const size = 5 * MiB + 777;
    f = await startFixture({ 'one/a.bin': size });
    const p = await pool();
    const ch = channelId(f, 'one');
    const src = f.files.get('one/a.bin')!;
    const ranges: [string, number, number][] = [
      ['first byte', 0, 0], ['last byte', size - 1, size - 1], ['across 1 MiB', MiB - 100, MiB + 100],
      ['one byte mid-file', 3 * MiB + 5, 3 * MiB + 5], ['whole file', 0, size - 1], ['start == end', 4096, 4096],
      ['unaligned long', 12345, 4 * MiB + 4321],
    ];
    for (const [name, a, b] of ranges) {
      const got = await collect(p.stream(ch, 1, a, b));
      assert.ok(got.equals(src.subarray(a, b + 1)), name);
    }
    await assert.rejects(collect(p.stream(ch, 1, size - 1, size)), { code: 'RANGE_NOT_SATISFIABLE' });
    await assert.rejects(collect(p.stream(ch, 1, 10, 5)), { code: 'RANGE_INVALID' });
  });

  it('nextWorker spreads calls round-robin and skips a worker in FLOOD_WAIT', { timeout: 20_000 }, async () => {
    f = await startFixture({ 'one/a.bin': MiB }, { faults: { floodWait: { every: 1, seconds: 30 } } });
    const p = await pool({ floodWaitThreshold: 60 });
    const ids = new Set([p.nextWorker().id, p.nextWorker().id, p.nextWorker().id]);
    assert.equal(ids.size, 3);
    // The first getFile of each bot earns FLOOD_WAIT_30: the pool tries each once, then gives up
    // at once when the threshold is lower than the wait (waiting would outlast the test's 20 s).
    const strict = await pool({ floodWaitThreshold: 1 });
    const before = f.emu.stats();
    await assert.rejects(strict.fetchPart(channelId(f, 'one'), 1, 0, 4096), (err: unknown) => {
      assert.ok(err instanceof FloodWaitTooLongError, String(err));
      assert.ok(err.waitSeconds > 1);
      return true;
    });
    const after = f.emu.stats();
    assert.equal((after.calls['upload.getFile'] ?? 0) - (before.calls['upload.getFile'] ?? 0), 3, 'one getFile per bot, no retry');
    assert.equal((after.faults.FLOOD_WAIT ?? 0) - (before.faults.FLOOD_WAIT ?? 0), 3);
  });

  it('one wrong token of three: starts with two; all wrong: one clear error without secrets', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const cfg = f.emu.config;
    const bad = cfg.bots[1]!.replace(/:.*/, ':WRONGsecretWRONGsecretWRONG');
    const p = await pool({ bots: [cfg.bots[0]!, bad, cfg.bots[2]!], sessionDir: path.join(f.dir, 's1') });
    assert.equal(p.workers.length, 2);
    assert.ok((await p.fetchPart(channelId(f, 'one'), 1, 0, 4096)).equals(f.files.get('one/a.bin')!));
    const allBad = cfg.bots.map((t) => t.replace(/:.*/, ':NOPEsecretNOPEsecret'));
    await assert.rejects(WorkerPool.create({ ...cfg, bots: allBad, sessionDir: path.join(f.dir, 's2') }), (err: unknown) => {
      assert.ok(err instanceof PoolStartError);
      assert.equal(err.reasons.length, 3);
      assert.match(err.message, /ACCESS_TOKEN_INVALID/);
      assert.doesNotMatch(err.message + err.stack, /NOPEsecret/);
      return true;
    });
  });

  it('a restart with the same session and cache dirs logs in 0 times and refetches no cached document', async () => {
    f = await startFixture({ 'one/a.bin': 100_000, 'one/b.bin': 200_000 });
    const ch = channelId(f, 'one');
    const first = await pool();
    for (const w of first.workers) for (const id of [1, 2]) await w.getDoc(ch, id);
    await first.close();
    pools.length = 0;
    const before = f.emu.stats().calls;
    const second = await pool();
    for (const w of second.workers) for (const id of [1, 2]) await w.getDoc(ch, id);
    const got = await collect(second.stream(ch, 2, 0, 199_999));
    assert.ok(got.equals(f.files.get('one/b.bin')!));
    const after = f.emu.stats().calls;
    assert.equal(after['auth.importBotAuthorization'], before['auth.importBotAuthorization'], 'no new login');
    assert.equal(after['channels.getMessages'], before['channels.getMessages'], 'no document refetched');
  });

  it('a stream that outlives its file references (--expire-refs 2) completes byte-exact', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': 12 * MiB }, { faults: { expireRefs: 2 }, clock });
    const p = await pool();
    const chunks: Buffer[] = [];
    let got = 0;
    let lifetimes = 0;
    for await (const c of p.stream(channelId(f, 'one'), 1, 0, 12 * MiB - 1)) {
      chunks.push(c as Buffer);
      got += (c as Buffer).length;
      // A reference's lifetime goes by after the first chunk and again at half the file.
      if ((lifetimes === 0 && got > 0) || (lifetimes === 1 && got >= 6 * MiB)) {
        clock.advance(2000);
        lifetimes++;
      }
    }
    assert.equal(lifetimes, 2, 'the stream lasted longer than a reference');
    assert.equal(sha256(Buffer.concat(chunks)), sha256(f.files.get('one/a.bin')!));
    assert.ok((f.emu.stats().faults.FILE_REFERENCE_EXPIRED ?? 0) > 0);
  });

  it('--file-dc 4: streams are served by DC 4 (exported authorization)', async () => {
    f = await startFixture({ 'one/a.bin': 3 * MiB }, { fileDc: 4 });
    const p = await pool();
    const got = await collect(p.stream(channelId(f, 'one'), 1, 100, 3 * MiB - 1));
    assert.ok(got.equals(f.files.get('one/a.bin')!.subarray(100)));
    // The document says dc_id 4, so workers ask DC 4 directly (a worker given no DC follows
    // FILE_MIGRATE_4 instead: see emulator-faults and telegram-worker tests).
    assert.ok((f.emu.stats().calls['auth.importAuthorization'] ?? 0) >= 1);
  });

  it('a channel only some bots can see is served by those; none: a clear error naming the channel', async () => {
    f = await startFixture({ 'one/a.bin': 100_000 });
    const p = await pool();
    const ch = channelId(f, 'one');
    const [b1, b2, b3] = p.workers.map((w) => w.id);
    f.emu.setMembership(b1!, ch, false);
    f.emu.setMembership(b2!, ch, false);
    for (let i = 0; i < 3; i++) {
      assert.ok((await p.fetchPart(ch, 1, 0, 4096)).equals(f.files.get('one/a.bin')!.subarray(0, 4096)));
    }
    f.emu.setMembership(b3!, ch, false);
    await p.close();
    pools.length = 0;
    const fresh = await pool({ sessionDir: path.join(f.dir, 'fresh'), cache: 'memory://' });
    await assert.rejects(fresh.getDoc(ch, 1), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'CHANNEL_INACCESSIBLE');
      assert.match(String(err), new RegExp(String(ch)));
      return true;
    });
  });

  it('getThumbnail with and without a thumbnail', async () => {
    f = await startFixture({ 'v/clip.mp4': 50_000, 'v/clip.jpg': tinyJpeg(), 'v/notes.txt': 10 });
    const p = await pool();
    const ch = channelId(f, 'v');
    assert.ok((await p.getThumbnail(ch, 1)).equals(tinyJpeg()));
    await assert.rejects(p.getThumbnail(ch, 2), NoThumbnailError);
  });

  it('abort mid-stream: no upload.getFile after the abort settles', async () => {
    f = await startFixture({ 'one/a.bin': 30 * MiB }, { faults: { bandwidth: 4 * MiB } });
    const p = await pool();
    const ledger = await upstreamLedger(p, f.emu);
    const ac = new AbortController();
    const s = p.stream(channelId(f, 'one'), 1, 0, 30 * MiB - 1, { signal: ac.signal });
    s.on('error', () => undefined);
    await once(s, 'data');
    ac.abort();
    await new Promise((resolve) => s.once('close', resolve));
    assert.ok(s.errored, 'the reader sees the abort');
    const calls = ledger.served();
    // Every getFile made has landed (the emulator served what the pool had answered) and the
    // engine holds no reader, part or block that could ask for another.
    assert.equal(await ledger.settled(), calls, 'no getFile after the abort settled');
    assert.ok(calls < 10, `only the parts under way were asked (${calls})`);
    ledger.close();
  });
});
