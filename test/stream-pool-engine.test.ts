// The streaming engine behind `pool.stream`, against the emulator (3 bots, one fixture for the
// whole file): seeded random ranges are exact; two readers of one file fetch it once; a reader
// that leaves stops upstream calls within its window; memory stays under the cache budget with
// many streams; a seek answers after one round trip (in an emulator whose clock the test steps)
// and a nearby seek from the cache; abort and destroy leave no reader or fetch behind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, afterEach, before, describe, it } from 'node:test';
import { WorkerPool, type WorkerPoolOptions } from '../src/index';
import { channelId, MiB, sha256 } from './helpers/emulator-fixture';
import { SparseChecker, stampsOf, startStreamFixture, type StreamFixture } from './helpers/stream-fixture';
import { prng } from '../support/prng';
import { until } from './helpers/eventually';
import { ManualClock } from './helpers/manual-clock';
import { upstreamLedger } from './helpers/upstream-ledger';

const GiB = 1024 * MiB;
const SEED = Number(process.env.TGVFS_TEST_SEED ?? 0x5eed);

// Engine defaults (src/stream/stream-engine.ts), used to derive bounds below.
const MAX_READ_AHEAD = 8;
const SEEK_FANOUT = 4;
/** Extra parts a read-ahead window can need to keep every part aligned to its own size. */
const ALIGN_SPLITS = 3;


async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const upstreamCalls = (f: StreamFixture): number => Object.values(f.emu.stats().calls).reduce((n, c) => n + c, 0);

/** The rest of an iteration's chunks. */
async function drain(chunks: AsyncIterator<unknown>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let r = await chunks.next(); !r.done; r = await chunks.next()) out.push(r.value as Buffer);
  return out;
}

const REAL: Record<string, number> = {
  'r/a-1': 1,
  'r/b-4095': 4095,
  'r/c-1m': MiB,
  'r/d-1m+1': MiB + 1,
  'r/e-5m+777': 5 * MiB + 777,
  'r/f-17m': 17 * MiB,
  'two/x-16m': 16 * MiB,
};
/** The seek test's file, in an emulator of its own whose clock the test steps. */
const SEEK = 'seek/v-32m';
const SPARSE: Record<string, number> = {
  'huge/g-1g': GiB,
  ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`many/s${i}`, 256 * MiB])),
};

describe('stream engine through the worker pool', () => {
  let f: StreamFixture;
  let pools: WorkerPool[] = [];

  before(async () => {
    f = await startStreamFixture(REAL, SPARSE);
  });
  afterEach(async () => {
    await Promise.all(pools.map((p) => p.close()));
    pools = [];
    f.emu.setFaults({ latencyMs: 0 });
  });
  after(async () => {
    await f?.close();
  });

  async function pool(extra: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
    const p = await WorkerPool.create({ ...f.emu.config, ...extra });
    pools.push(p);
    return p;
  }

  const where = (rel: string): [number, number] => [channelId(f, rel.split('/')[0]!), f.msgId(rel)];

  // First in the file: RSS is a high-water mark, and later tests would raise it beforehand.
  it('memory stays under the cache budget while 12 streams run', async (t) => {
    const budget = 16 * MiB;
    const p = await pool({ cacheBytes: budget });
    const files = Object.keys(SPARSE).filter((n) => n.startsWith('many/'));
    const length = 32 * MiB;
    const jobs = Array.from({ length: 12 }, (_, k) => {
      const rel = files[k % files.length]!;
      const start = (k < files.length ? 0 : 128 * MiB) + k * 12_345;
      return { rel, start, end: start + length - 1 };
    });
    for (const w of p.workers) for (const j of jobs) await w.getDoc(...where(j.rel));
    gcNow();
    const base = process.memoryUsage.rss();
    const baseBuffers = process.memoryUsage().arrayBuffers;
    let peakBuffers = baseBuffers;
    const servedBefore = f.emu.stats().bytesServed;
    let peakRss = base;
    let peakCache = 0;
    let samples = 0;
    const sample = (): void => {
      samples++;
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      peakCache = Math.max(peakCache, p.engine.stats().cachedBytes);
    };
    const timer = setInterval(sample, 20);
    const t0 = performance.now();
    try {
      await Promise.all(jobs.map(async ({ rel, start, end }) => {
        const check = new SparseChecker(stampsOf(rel, SPARSE[rel]!), start);
        for await (const c of p.stream(...where(rel), start, end)) check.check(c as Buffer);
        assert.equal(check.pos, end + 1, `${rel} from ${start}: all bytes`);
      }));
    } finally {
      clearInterval(timer);
    }
    sample();
    const ms = performance.now() - t0;
    const served = f.emu.stats().bytesServed - servedBefore;
    const growth = peakRss - base;
    t.diagnostic(`12 × 32 MiB in ${Math.round(ms)} ms (${(12 * 32 / (ms / 1000)).toFixed(0)} MiB/s), ${samples} samples: ` +
      `peak cache ${(peakCache / MiB).toFixed(1)} MiB, peak RSS +${(growth / MiB).toFixed(1)} MiB over ${(base / MiB).toFixed(0)} MiB, ` +
      `peak Buffers +${((peakBuffers - baseBuffers) / MiB).toFixed(1)} MiB, upstream ${(served / MiB).toFixed(0)} MiB for ${12 * 32} MiB read`);
    assert.ok(samples >= 5, 'sampled while the streams ran');
    assert.ok(peakCache <= budget, `cache held ${peakCache} bytes over a budget of ${budget}`);
    // Measured, not assumed. The emulator runs in this process too, so the bound covers both
    // ends of the wire: the cache budget; per stream its pending block and the chunk its
    // consumer holds (2 MiB × 12); the parts in flight (capacity 2 × 3 workers, each 1 MiB
    // alive up to 4 times: file read, encrypted frame, received frame, decrypted answer); and
    // 64 MiB for garbage not yet collected (GC runs late when the CPU is busy). Measured: 62–77
    // MiB alone, 84–90 MiB with a second copy of this file running on the same 2 cores; the
    // same streams with a 128 MiB cache grow ~180 MiB, so the bound does see the budget.
    const RSS_BOUND = budget + 12 * 2 * MiB + 6 * 4 * MiB + 64 * MiB;
    assert.ok(growth <= RSS_BOUND, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB; bound ${RSS_BOUND / MiB} MiB`);
    assert.ok(peakBuffers - baseBuffers <= RSS_BOUND, `Buffers grew by ${((peakBuffers - baseBuffers) / MiB).toFixed(1)} MiB; bound ${RSS_BOUND / MiB} MiB`);
  });

  it('a few hundred seeded random ranges over files of several sizes are byte-exact', async (t) => {
    // Two pools: the defaults, and a cache smaller than the read-ahead window so blocks are
    // evicted and fetched again mid-stream.
    const roomy = await pool();
    const tight = await pool({ cacheBytes: 3 * MiB, readAheadBlocks: 4 });
    const rand = prng(SEED);
    const int = (n: number): number => Math.floor(rand() * n);
    const names = Object.keys(REAL).filter((n) => n.startsWith('r/'));
    const ranges: { rel: string; kind: string; a: number; b: number }[] = [];
    for (let k = 0; k < 300; k++) {
      const rel = names[k % names.length]!;
      const size = REAL[rel]!;
      const roll = rand();
      let kind: string;
      let a: number;
      let b: number;
      if (roll < 0.15) {
        kind = 'single byte';
        a = b = int(size);
      } else if (roll < 0.45) {
        kind = 'short';
        a = int(size);
        b = Math.min(size - 1, a + int(16_384));
      } else if (roll < 0.6) {
        kind = 'to the last byte';
        a = int(size);
        b = size - 1;
      } else if (roll < 0.8) {
        kind = 'long';
        a = int(size);
        b = a + int(size - a);
      } else if (roll < 0.85) {
        kind = 'whole file';
        a = 0;
        b = size - 1;
      } else {
        kind = 'across a MiB boundary';
        const m = Math.max(1, int(Math.ceil(size / MiB))) * MiB;
        a = Math.max(0, Math.min(size - 1, m - 1 - int(5000)));
        b = Math.min(size - 1, Math.max(a, m + int(5000)));
      }
      ranges.push({ rel, kind, a, b });
    }
    const t0 = performance.now();
    let next = 0;
    let bytes = 0;
    // Four ranges at a time, so readers of one file also meet in the cache and in flights.
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < ranges.length) {
        const k = next++;
        const { rel, kind, a, b } = ranges[k]!;
        const [ch, msg] = where(rel);
        const got = await collect((k % 2 ? tight : roomy).stream(ch, msg, a, b));
        const want = f.files.get(rel)!.subarray(a, b + 1);
        if (!got.equals(want)) {
          let i = 0;
          while (i < Math.min(got.length, want.length) && got[i] === want[i]) i++;
          assert.fail(`range #${k} (${kind}) of ${rel}: bytes ${a}-${b}, seed ${SEED}, pool ${k % 2 ? 'tight' : 'roomy'}: ` +
            `got ${got.length} bytes, want ${want.length}; first difference at byte ${a + i}`);
        }
        bytes += got.length;
      }
    }));
    const kinds = new Map<string, number>();
    for (const r of ranges) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    t.diagnostic(`${ranges.length} ranges (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${(bytes / MiB).toFixed(1)} MiB in ${Math.round(performance.now() - t0)} ms`);
    for (const p of [roomy, tight]) {
      assert.equal(p.engine.stats().openReaders, 0, 'every finished stream closed its reader');
    }
  });

  it('two readers of one 16 MiB file at once fetch it from upstream once', async (t) => {
    const p = await pool();
    const rel = 'two/x-16m';
    const [ch, msg] = where(rel);
    const size = REAL[rel]!;
    const before = f.emu.stats().bytesServed;
    const [a, b] = await Promise.all([collect(p.stream(ch, msg, 0, size - 1)), collect(p.stream(ch, msg, 0, size - 1))]);
    const want = sha256(f.files.get(rel)!);
    assert.equal(sha256(a), want, 'first reader exact');
    assert.equal(sha256(b), want, 'second reader exact');
    const served = f.emu.stats().bytesServed - before;
    t.diagnostic(`upstream served ${(served / MiB).toFixed(2)} MiB for two readers of ${size / MiB} MiB`);
    assert.ok(served >= size, 'sanity: the file was fetched');
    assert.ok(served <= 1.25 * size, `upstream served ${served} bytes, more than 1.25 copies of ${size}`);
  });

  it('a reader that leaves a 1 GiB file stops upstream calls within its read-ahead window', async (t) => {
    const p = await pool();
    const rel = 'huge/g-1g';
    const [ch, msg] = where(rel);
    const stamps = stampsOf(rel, GiB);
    // A reader that has consumed k MiB has issued at most k+1 reads; the last one wants blocks
    // up to k + window, so at most k + 1 + MAX_READ_AHEAD blocks were ever asked for: the first
    // (a seek) in up to SEEK_FANOUT parts, every other block as one part; plus ALIGN_SPLITS, as
    // a run of blocks that does not start on a multiple of its own size is cut into smaller
    // parts (every part keeps offset % limit == 0, as Telegram's clients do).
    const bound = (k: number): { calls: number; bytes: number } => ({
      calls: k + 1 + MAX_READ_AHEAD + (SEEK_FANOUT - 1) + ALIGN_SPLITS,
      bytes: (k + 1 + MAX_READ_AHEAD) * MiB,
    });
    for (const { start, consume } of [{ start: 0, consume: 1 }, { start: 512 * MiB + 4096 * 3, consume: 24 }]) {
      const ledger = await upstreamLedger(p, f.emu);
      const before = f.emu.stats();
      const s = p.stream(ch, msg, start, GiB - 1);
      const check = new SparseChecker(stamps, start);
      let got = 0;
      for await (const c of s) {
        check.check(c as Buffer);
        got += (c as Buffer).length;
        if (got >= consume * MiB) break; // leaves the loop: the stream is destroyed
      }
      if (!s.closed) await once(s, 'close');
      // Requests already on the wire when the reader left still reach the emulator, which counts
      // them on arrival, and their answers reach the pool, whose call observer counts them: wait
      // until both ends agree and the engine holds no reader, block or part.
      const calls = await ledger.settled();
      const bytes = f.emu.stats().bytesServed - before.bytesServed;
      const b = bound(Math.ceil(got / MiB));
      t.diagnostic(`read ${(got / MiB).toFixed(2)} MiB from ${start}: ${calls} getFile calls (bound ${b.calls}), ${(bytes / MiB).toFixed(2)} MiB served (bound ${b.bytes / MiB})`);
      assert.ok(calls <= b.calls, `${calls} getFile calls after reading ${got} bytes; at most ${b.calls} expected`);
      assert.ok(bytes <= b.bytes, `${bytes} bytes served after reading ${got} bytes; at most ${b.bytes} expected`);
      // And nothing more for nobody: every call served was answered, none is outstanding, and
      // nothing is left in the engine that could make another.
      assert.equal(ledger.answered(), calls, 'no getFile after the reader left');
      ledger.close();
    }
  });

  it('a seek answers after one round trip (latency 50 ms), a nearby one from the cache without any', async (t) => {
    // An emulator of its own, whose clock the test steps: a round trip is one step of 50 ms of
    // it, however busy the machine is. (How fast in real time: bench/stream's seek_ms.)
    const clock = new ManualClock();
    const g = await startStreamFixture({ [SEEK]: 32 * MiB }, {}, { clock });
    try {
      const p = await WorkerPool.create({ ...g.emu.config });
      pools.push(p);
      const [ch, msg] = [channelId(g, 'seek'), g.msgId(SEEK)];
      const src = g.files.get(SEEK)!;
      for (const w of p.workers) await w.getDoc(ch, msg); // metadata is not what this checks
      const latency = 50;
      g.emu.setFaults({ latencyMs: latency });
      const one = await clock.runUntil(p.fetchPart(ch, msg, 0, 4096));
      assert.deepEqual([one.steps, one.elapsedMs], [1, latency], 'one getFile is one round trip');
      const rand = prng(SEED ^ 0xbeef);
      // Five seeks into distinct blocks far apart, so none is in the cache from an earlier one.
      const blocks = [3, 9, 15, 21, 27].sort(() => rand() - 0.5);
      const trips: number[] = [];
      for (const blk of blocks) {
        const a = blk * MiB + Math.floor(rand() * (MiB - 300_000));
        const b = a + 200_000;
        const chunks = p.stream(ch, msg, a, b)[Symbol.asyncIterator]();
        const first = await clock.runUntil(chunks.next());
        trips.push(first.steps);
        assert.equal(first.steps, 1, `the first byte after a seek to ${a} took ${first.steps} round trips`);
        const rest = await clock.runUntil(drain(chunks));
        assert.ok(Buffer.concat([first.value.value as Buffer, ...rest.value]).equals(src.subarray(a, b + 1)), `seek to ${a} exact`);
        // Nearby (inside the bytes just read, so in blocks already fetched): from the cache,
        // without a single upstream call or a round trip.
        const calls = upstreamCalls(g);
        const c0 = a + Math.floor(rand() * 100_000);
        const near = await clock.runUntil(collect(p.stream(ch, msg, c0, c0 + 50_000)));
        assert.ok(near.value.equals(src.subarray(c0, c0 + 50_001)), `nearby seek to ${c0} exact`);
        assert.equal(upstreamCalls(g), calls, `a seek to ${c0}, in block ${blk} already read, asked upstream`);
        assert.equal(near.steps, 0, `a cached seek to ${c0} waited for a round trip`);
      }
      t.diagnostic(`round trips to the first byte of each seek: ${trips.join(', ')}; cached seeks: 0`);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      pools = [];
      await g.close();
    }
  });

  it('abort through an AbortSignal or destroy() mid-stream leaves no reader or fetch behind', async (t) => {
    const p = await pool();
    const rel = 'huge/g-1g';
    const [ch, msg] = where(rel);
    const stamps = stampsOf(rel, GiB);
    f.emu.setFaults({ latencyMs: 20 }); // parts stay in flight long enough to be caught mid-way
    const modes = [['signal', 3 * MiB + 5], ['destroy', 300 * MiB + 7], ['signal before the first byte', 600 * MiB + 9]] as const;
    for (const [how, start] of modes) { // starts far apart: nothing comes from the cache
      const ac = new AbortController();
      const s = p.stream(ch, msg, start, GiB - 1, { signal: ac.signal });
      const check = new SparseChecker(stamps, start);
      let got = 0;
      let inFlightAtStop = -1;
      let error: unknown = null;
      s.on('error', (err) => (error = err));
      const stop = (): void => {
        inFlightAtStop = p.engine.stats().blocksInFlight;
        if (how === 'destroy') s.destroy();
        else ac.abort();
      };
      s.on('data', (c: Buffer) => {
        check.check(c);
        got += c.length;
        if (how !== 'signal before the first byte' && got >= 4 * MiB && inFlightAtStop < 0) stop();
      });
      if (how === 'signal before the first byte') {
        await until(() => p.engine.stats().blocksInFlight > 0, 5000, () => 'the first block never started');
        stop();
      }
      // (events.once would reject on the 'error' an abort emits; 'close' is what we wait for.)
      await new Promise((r) => s.once('close', r));
      const st = p.engine.stats();
      t.diagnostic(`${how}: ${(got / MiB).toFixed(2)} MiB read, ${inFlightAtStop} block(s) in flight at the abort; at 'close': ${JSON.stringify(st)}`);
      assert.ok(inFlightAtStop > 0, 'the abort happened with fetches in flight');
      if (how === 'signal before the first byte') assert.equal(got, 0);
      if (how !== 'destroy') assert.equal((error as Error | null)?.name, 'AbortError', `the stream fails with the abort: ${String(error)}`);
      else assert.equal(error, null, 'destroy() without an error is not an error');
      assert.equal(st.openReaders, 0, 'reader closed by the time the stream closed');
      assert.equal(st.blocksInFlight, 0, 'no block is still being fetched for nobody');
      await until(() => p.engine.stats().partsRunning === 0 && p.engine.stats().partsQueued === 0, 2000,
        () => `parts still scheduled: ${JSON.stringify(p.engine.stats())}`);
    }
  });
});
