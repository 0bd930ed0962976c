// The stream engine over an in-memory part source: exact bytes, legal parts only, shared
// fetches, read-ahead bounded by the window, nothing fetched for readers that left, and a cache
// that stays within its budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK, groupRuns, isLegalPart, MiB } from '../src/stream/planner';
import { StreamEngine } from '../src/stream/stream-engine';
import type { FileRef, PartSource } from '../src/stream/types';
import { content } from './helpers/emulator-fixture';

/** A part source over buffers that checks every request is legal and can be held back. */
class FakeSource implements PartSource {
  calls: { key: string; offset: number; limit: number }[] = [];
  aborted = 0;
  gate: Promise<void> = Promise.resolve();
  constructor(readonly files: Map<string, Buffer>, private readonly cap = 8) {}

  capacity(): number {
    return this.cap;
  }

  async getPart(file: FileRef, offset: number, limit: number, signal: AbortSignal): Promise<Buffer> {
    assert.ok(isLegalPart(offset, limit), `illegal part ${offset}+${limit}`);
    this.calls.push({ key: file.key, offset, limit });
    await this.gate;
    if (signal.aborted) {
      this.aborted++;
      throw signal.reason;
    }
    return this.files.get(file.key)!.subarray(offset, offset + limit);
  }
}

async function readAll(engine: StreamEngine, file: FileRef, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of engine.createReadStream(file, start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function setup(sizes: number[], cacheBytes = 64 * MiB): { engine: StreamEngine; src: FakeSource; files: FileRef[] } {
  const map = new Map<string, Buffer>();
  const files = sizes.map((size, i) => {
    map.set(`f${i}`, content(size, `f${i}`));
    return { key: `f${i}`, size };
  });
  const src = new FakeSource(map);
  return { engine: new StreamEngine(src, { cacheBytes }), src, files };
}

describe('stream engine', () => {
  it('random ranges are exact and every part is legal', async () => {
    const sizes = [1, 4095, MiB, MiB + 1, 5 * MiB + 777];
    const { engine, src, files } = setup(sizes, 4 * MiB);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const f = files[i % files.length]!;
      const a = rnd(f.size);
      const b = Math.min(f.size - 1, a + (i % 3 === 0 ? rnd(3 * MiB) : rnd(9000)));
      const got = await readAll(engine, f, a, b);
      assert.ok(got.equals(src.files.get(f.key)!.subarray(a, b + 1)), `range ${a}-${b} of ${f.size}`);
    }
    assert.ok(engine.stats().cachedBytes <= 4 * MiB);
  });

  it('a fresh seek asks only the 256 KiB block under the reader; sequential reading widens to whole MiB parts', async () => {
    const { engine, src, files } = setup([8 * MiB]);
    const reader = engine.open(files[0]!);
    await reader.read(3 * MiB + 100, 10);
    assert.deepEqual(src.calls.map((c) => [c.offset, c.limit]), [[3 * MiB, BLOCK]]);
    let pos = 3 * MiB + 110;
    for (let i = 0; i < 6; i++) pos += (await reader.read(pos, BLOCK)).length;
    assert.ok(src.calls.some((c) => c.limit === MiB && c.offset % MiB === 0), 'read-ahead asks whole MiB parts');
    reader.close();
  });

  it('groupRuns makes legal runs of 1, 2 or 4 blocks within a MiB', () => {
    assert.deepEqual(groupRuns([0, 1, 2, 3, 4, 5]), [{ start: 0, count: 4 }, { start: 4, count: 2 }]);
    for (const list of [[1, 2, 3, 4], [3, 5, 6, 7], [9, 10, 11, 12, 13, 14, 15, 16, 17], [2, 3, 4, 5, 6, 7, 8]]) {
      const runs = groupRuns(list);
      const covered = runs.flatMap((r) => Array.from({ length: r.count }, (_, k) => r.start + k));
      assert.deepEqual(covered, list, 'covers exactly the blocks asked');
      for (const r of runs) assert.ok(isLegalPart(r.start * BLOCK, r.count * BLOCK), `${r.start}+${r.count}`);
    }
  });

  it('two readers of one file share one fetch per block', async () => {
    const { engine, src, files } = setup([6 * MiB]);
    const [a, b] = await Promise.all([readAll(engine, files[0]!, 0, 6 * MiB - 1), readAll(engine, files[0]!, 0, 6 * MiB - 1)]);
    assert.ok(a.equals(b) && a.equals(src.files.get('f0')!));
    const bytes = src.calls.reduce((n, c) => n + c.limit, 0);
    assert.equal(bytes, 6 * MiB, 'each byte asked once');
  });

  it('read-ahead never runs more than the window ahead of a reader that stopped', async () => {
    const { engine, src, files } = setup([64 * MiB]);
    const reader = engine.open(files[0]!);
    let pos = 0;
    for (let i = 0; i < 4; i++) {
      const b = await reader.read(pos, MiB);
      pos += b.length;
    }
    await new Promise((r) => setImmediate(r));
    const highest = Math.max(...src.calls.map((c) => c.offset + c.limit));
    assert.ok(highest <= pos + engine.maxAheadBlocks * BLOCK + MiB, `fetched up to ${highest / MiB} MiB, read ${pos / MiB} MiB`);
    reader.close();
  });

  it('a reader that leaves drops its queued parts and abandons fetches nobody else wants', async () => {
    const map = new Map([['f', content(32 * MiB, 'f')]]);
    const src = new FakeSource(map, 1);
    const engine = new StreamEngine(src);
    const file = { key: 'f', size: 32 * MiB };
    const reader = engine.open(file);
    let pos = 0;
    for (let i = 0; i < 8; i++) pos += (await reader.read(pos, BLOCK)).length;
    let open!: () => void;
    src.gate = new Promise((r) => (open = r));
    // A large read: several parts, one running (capacity 1), the rest queued.
    const pending = reader.read(pos + 4 * MiB, 3 * MiB).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    assert.ok(engine.stats().partsRunning >= 1);
    assert.ok(engine.stats().partsQueued > 0, 'read-ahead queued behind the running parts');
    const asked = src.calls.length;
    reader.close();
    assert.equal(engine.stats().partsQueued, 0, 'queued parts dropped');
    assert.equal(engine.stats().blocksInFlight, 0);
    open();
    await pending;
    await new Promise((r) => setImmediate(r));
    assert.equal(src.calls.length, asked, 'no new part asked after the reader left');
  });

  it('a bounded range reads ahead no further than its end', async () => {
    const { engine, src, files } = setup([64 * MiB]);
    const got = await readAll(engine, files[0]!, 0, 4 * MiB - 1);
    assert.equal(got.length, 4 * MiB);
    await new Promise((r) => setImmediate(r));
    assert.equal(src.calls.reduce((n, c) => n + c.limit, 0), 4 * MiB, 'exactly the range was fetched');
  });

  it('a reader closed while its file resolves starts no fetch', async () => {
    const map = new Map([['f', content(4 * MiB, 'f')]]);
    const src = new FakeSource(map);
    const engine = new StreamEngine(src);
    let resolve!: (f: FileRef) => void;
    const reader = engine.open(new Promise<FileRef>((r) => (resolve = r)));
    const pending = reader.read(0, MiB);
    reader.close();
    resolve({ key: 'f', size: 4 * MiB });
    await assert.rejects(pending, { code: 'CLOSED' });
    assert.equal(src.calls.length, 0);
  });

  it('the cache stays within its budget', async () => {
    const { engine, files } = setup([10 * MiB, 10 * MiB, 10 * MiB], 3 * MiB);
    let peak = 0;
    await Promise.all(files.map(async (f) => {
      const r = engine.open(f);
      for (let pos = 0; pos < f.size; pos += 256 * 1024) {
        await r.read(pos, 256 * 1024);
        peak = Math.max(peak, engine.stats().cachedBytes);
      }
      r.close();
    }));
    assert.ok(peak <= 3 * MiB, `peak ${peak}`);
    assert.equal(engine.stats().openReaders, 0);
  });

  it('bad ranges fail with a code', async () => {
    const { engine, files } = setup([1000]);
    await assert.rejects(readAll(engine, files[0]!, 0, 1000), { code: 'RANGE_NOT_SATISFIABLE' });
    await assert.rejects(readAll(engine, files[0]!, 5, 4), { code: 'RANGE_INVALID' });
    assert.equal(engine.stats().openReaders, 0);
  });
});
