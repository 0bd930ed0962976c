// Catching up a channel that changed while the catalog was not following, against an emulator
// that slices getChannelDifference as Telegram does: the catalog asks with a bot's limit, follows
// every slice to the end (no round cap), reads no message again, reports progress in updates
// applied, an abort keeps what was applied (the next run goes on from there), and a burst pushed
// as updateChannelTooLong is caught up while following. After channelDifferenceTooLong (an
// emulator restarted: its log starts again) the known files are read again, with progress. Against a fake
// worker: no cap on rounds, and an answer that does not move the pts on is an error.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog, CATALOG_NAMESPACE, type IndexProgress } from '../src/catalog';
import { startEmulator } from '../src/emulator';
import type { ChannelDifference } from '../src/telegram';
import { openKeyvStore } from '../src/telegram/metadata-cache';
import { WorkerPool } from '../src/telegram/worker-pool';
import type { TgvfsError } from '../src/util/errors';
import { PUSH_LIMIT } from '../src/emulator/channel-updates';
import { filesWhen } from './helpers/catalog-wait';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

/** Calls per TL method made between two snapshots. */
function callsSince(before: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

function name(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(4, '0')}.txt`;
}

describe('catalog catch-up over sliced differences', () => {
  let f: EmulatorFixture;
  let pool: WorkerPool;
  let catalog: Catalog;
  let ch: number;
  /** The file names the channel holds now, in message order. */
  let expected: string[];

  const names = async (): Promise<string[]> => (await catalog.files(ch)).map((x) => String(x.name));
  /** Writes `n` new files named `prefix…` and rescans: n new-message events. */
  const post = async (prefix: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await writeFile(path.join(f.dataDir, 'ch', name(prefix, i)), `${prefix}${i}`);
    for (let i = 0; i < n; i++) expected.push(name(prefix, i));
  };

  before(async () => {
    f = await startFixture({ 'ch/a.txt': 5, 'ch/b.txt': 6, 'ch/c.txt': 7 }, { watch: false });
    pool = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
    catalog = await Catalog.open({ store: 'memory://', channels: f.emu.config.channels, pool });
    ch = channelId(f, 'ch');
    await catalog.index(ch);
    expected = ['a.txt', 'b.txt', 'c.txt'];
    assert.deepEqual(await names(), expected);
  });

  after(async () => {
    await catalog?.close();
    await pool?.close();
    await f?.close();
  });

  it('with --difference-slice 7, 50 changes come in exactly ceil(50/7) = 8 calls, no message read again', async () => {
    f.emu.setFaults({ differenceSlice: 7 });
    try {
      // One deletion event (two messages) and 49 new posts: 50 events.
      await rm(path.join(f.dataDir, 'ch', 'a.txt'));
      await rm(path.join(f.dataDir, 'ch', 'b.txt'));
      expected = ['c.txt'];
      await post('s', 49);
      await f.emu.rescan();
      const before = f.emu.stats().calls;
      const progress: IndexProgress[] = [];
      const result = await catalog.index(ch, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(callsSince(before, f.emu.stats().calls), { 'updates.getChannelDifference': 8 });
      assert.deepEqual([result.differenceCalls, result.updates, result.getMessagesCalls, result.files], [8, 50, 0, 50]);
      assert.deepEqual(await names(), expected);
      // One progress report per slice, in updates applied; the total is known once caught up.
      assert.deepEqual(progress.map((p) => [p.stage, p.done, p.total]), [
        ['updates', 7, 0], ['updates', 14, 0], ['updates', 21, 0], ['updates', 28, 0],
        ['updates', 35, 0], ['updates', 42, 0], ['updates', 49, 0], ['updates', 50, 50],
      ]);
    } finally {
      f.emu.setFaults({ differenceSlice: 0 });
    }
  });

  it('with no slice, 150 changes behind come in one answer (no TooLong, no getMessages)', async () => {
    await post('n', 150);
    await f.emu.rescan();
    const before = f.emu.stats().calls;
    const result = await catalog.index(ch);
    assert.deepEqual(callsSince(before, f.emu.stats().calls), { 'updates.getChannelDifference': 1 });
    assert.deepEqual([result.updates, result.files], [150, 200]);
    assert.deepEqual(await names(), expected);
  });

  it('an abort mid catch-up keeps the slices applied; the next run asks only for the rest', async () => {
    f.emu.setFaults({ differenceSlice: 5 });
    try {
      await post('x', 30);
      await f.emu.rescan();
      const stop = new AbortController();
      const before = f.emu.stats().calls;
      // Aborted after the second slice is applied: 10 of 30 updates in.
      await assert.rejects(catalog.index(ch, {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.done >= 10) stop.abort();
        },
      }), { name: 'AbortError' });
      assert.deepEqual(callsSince(before, f.emu.stats().calls), { 'updates.getChannelDifference': 2 });
      assert.equal((await catalog.files(ch)).length, 210);
      const rest = f.emu.stats().calls;
      const result = await catalog.index(ch);
      assert.deepEqual(callsSince(rest, f.emu.stats().calls), { 'updates.getChannelDifference': 4 });
      assert.deepEqual([result.updates, result.files], [20, 230]);
      assert.deepEqual(await names(), expected);
    } finally {
      f.emu.setFaults({ differenceSlice: 0 });
    }
  });

  it(`a burst of more than ${PUSH_LIMIT} posts is pushed as updateChannelTooLong; the follower catches up with differences`, async () => {
    const stop = catalog.follow();
    try {
      const n = PUSH_LIMIT + 1;
      await post('z', n);
      const before = f.emu.stats().calls;
      const caughtUp = filesWhen(catalog, ch, (files) => files.length === 230 + n, 60_000);
      await f.emu.rescan();
      const files = await caughtUp;
      assert.deepEqual(files.map((x) => String(x.name)), expected);
      const calls = callsSince(before, f.emu.stats().calls);
      // Each of the 3 bots was told "too long": one catch-up, or a few when they came apart
      // (a later one finds nothing new). Nothing read by id.
      assert.ok(calls['updates.getChannelDifference']! >= 1 && calls['updates.getChannelDifference']! <= 3, JSON.stringify(calls));
      assert.equal(calls['channels.getMessages'], undefined);
    } finally {
      stop();
    }
  });
});

/** A pool of one fake worker whose getChannelDifference answers what `answer` says (no network). */
function fakePool(answer: (pts: number) => ChannelDifference): { pool: WorkerPool; asked: number[] } {
  const asked: number[] = [];
  const worker = {
    id: 1,
    getChannelDifference: async (_channel: number, pts: number): Promise<ChannelDifference> => {
      asked.push(pts);
      return answer(pts);
    },
  };
  const pool = {
    workers: [],
    run: <T>(_ctx: unknown, fn: (w: unknown, s: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> => fn(worker, signal),
  };
  // Only what the indexer touches while catching up: run() and workers.
  return { pool: pool as unknown as WorkerPool, asked };
}

describe('catalog catch-up: no round cap, but every answer must move on', () => {
  const channel = -1001000000001;
  const channels = [{ id: channel, name: 'ch' }];

  it('follows 2,000 slices of one update each to the end (the old cap stopped at 1,000)', async () => {
    const { pool, asked } = fakePool((pts) => ({ kind: 'difference', pts: pts + 1, final: pts + 1 === 2001, changes: [{ kind: 'delete', ids: [pts] }], newest: 0 }));
    const catalog = await Catalog.open({ store: 'memory://', channels, pool });
    try {
      const result = await catalog.index(channel);
      assert.deepEqual([result.differenceCalls, result.updates, result.pts], [2000, 2000, 2001]);
      assert.deepEqual([asked[0], asked.at(-1)], [1, 2000]);
    } finally {
      await catalog.close();
    }
  });

  it('a difference that does not move the pts on is CATALOG_NO_PROGRESS, not a loop', async () => {
    const { pool, asked } = fakePool(() => ({ kind: 'difference', pts: 5, final: false, changes: [], newest: 0 }));
    const catalog = await Catalog.open({ store: 'memory://', channels, pool });
    try {
      await assert.rejects(catalog.index(channel), (err: TgvfsError) => {
        assert.equal(err.code, 'CATALOG_NO_PROGRESS');
        assert.match(err.message, /from pts 5 .* at pts 5/);
        return true;
      });
      // From 1 to 5 was progress; from 5 to 5 is not.
      assert.deepEqual(asked, [1, 5]);
    } finally {
      await catalog.close();
    }
  });

  it('so is a TooLong that sends us back to the pts we asked from', async () => {
    const { pool, asked } = fakePool(() => ({ kind: 'tooLong', pts: 1, top: 0 }));
    const catalog = await Catalog.open({ store: 'memory://', channels, pool });
    try {
      await assert.rejects(catalog.index(channel), { code: 'CATALOG_NO_PROGRESS' });
      assert.deepEqual(asked, [1]);
    } finally {
      await catalog.close();
    }
  });
});

describe('catalog after channelDifferenceTooLong (the emulator restarted: its log starts again)', () => {
  it('reads the known files again (deletions in the gap), walks the new ids, reports both', async () => {
    const f = await startFixture({ 'ch/a.txt': 5, 'ch/b.txt': 6, 'ch/c.txt': 7 }, { watch: false });
    const { keyv } = await openKeyvStore('memory://', CATALOG_NAMESPACE);
    try {
      const ch = channelId(f, 'ch');
      const first = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
      const indexed = await Catalog.open({ store: keyv, channels: f.emu.config.channels, pool: first });
      await indexed.index(ch);
      await indexed.close();
      await first.close();

      // Changed while the emulator was down: what happened is in no log it keeps.
      await f.emu.close();
      await rm(path.join(f.dataDir, 'ch', 'a.txt'));
      await writeFile(path.join(f.dataDir, 'ch', 'd.txt'), 'd');
      f.emu = await startEmulator({ dataDir: f.dataDir, bots: 3, configOut: path.join(f.dir, 'config.json'), watch: false });
      const pool = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
      const catalog = await Catalog.open({ store: keyv, channels: f.emu.config.channels, pool });
      try {
        const before = f.emu.stats().calls;
        const progress: IndexProgress[] = [];
        const result = await catalog.index(ch, { onProgress: (p) => progress.push(p) });
        assert.deepEqual((await catalog.files(ch)).map((x) => x.name), ['b.txt', 'c.txt', 'd.txt']);
        // Too long, then nothing new; one call to read the 3 known files again, one to walk id 4.
        const calls = callsSince(before, f.emu.stats().calls);
        assert.deepEqual([calls['updates.getChannelDifference'], calls['channels.getMessages']], [2, 2]);
        assert.deepEqual([result.differenceCalls, result.getMessagesCalls, result.updates], [2, 2, 0]);
        assert.deepEqual(progress.map((p) => [p.stage, p.done, p.total]), [['recheck', 3, 3], ['ids', 0, 1], ['ids', 1, 1]]);
      } finally {
        await catalog.close();
        await pool.close();
      }
    } finally {
      await keyv.disconnect();
      await f.close();
    }
  });
});
