// The block cache's byte budget is the memory it keeps. A part source may hand a part over as a
// view of a much larger buffer (GramJS's answer is cut out of the whole decrypted MTProto message);
// a cached block that were a view of it would keep all of it alive while the cache counts 256 KiB.
// Here every part is a view into an 8 MiB buffer of its own, 20 readers read 20 files and stay
// open holding their last chunk, and the external memory left after a GC must stay within the
// cache budget + the parts the readers hold + a fixed slack. The cache's own accounting counts
// each buffer its blocks keep alive once, whatever the number of blocks in it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BLOCK, MiB } from '../src/stream/planner';
import { BlockCache } from '../src/stream/block-cache';
import { StreamEngine } from '../src/stream/stream-engine';
import type { FileRef, PartSource } from '../src/stream/types';
import { content } from './helpers/emulator-fixture';

/** What a decrypted message could weigh around one part. */
const PARENT = 8 * MiB;
const READERS = 20;
const FILE_SIZE = 3 * MiB;
const BUDGET = 4 * MiB;
/** Allocator and bookkeeping noise, independent of how many parts were fetched. */
const SLACK = 4 * MiB;

function gcNow(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * `process.memoryUsage()` once a full GC has really freed what it found: V8 sweeps ArrayBuffers
 * concurrently after a GC, so external memory goes down a little later. GC until two readings agree.
 */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    gcNow();
    await new Promise((r) => setTimeout(r, 25));
    const m = process.memoryUsage();
    if (m.arrayBuffers === last) return m;
    last = m.arrayBuffers;
  }
  return process.memoryUsage();
}

/** Every part as a view into a fresh 8 MiB buffer (its other bytes never touched). */
class MessageViewSource implements PartSource {
  parts = 0;
  constructor(private readonly files: Map<string, Buffer>) {}

  capacity(): number {
    return 8;
  }

  async getPart(file: FileRef, offset: number, limit: number): Promise<Buffer> {
    this.parts++;
    const bytes = this.files.get(file.key)!.subarray(offset, offset + limit);
    const message = Buffer.allocUnsafeSlow(PARENT);
    const at = PARENT / 2;
    bytes.copy(message, at);
    return message.subarray(at, at + bytes.length);
  }
}

describe('stream engine memory', () => {
  it(`${READERS} readers holding blocks keep external memory within the cache budget + a fixed slack`, async () => {
    const files = new Map<string, Buffer>();
    const refs: FileRef[] = [];
    for (let i = 0; i < READERS; i++) {
      files.set(`f${i}`, content(FILE_SIZE, `f${i}`));
      refs.push({ key: `f${i}`, size: FILE_SIZE });
    }
    const src = new MessageViewSource(files);
    const engine = new StreamEngine(src, { cacheBytes: BUDGET, maxReadAhead: 1 });
    const base = await settledMemory();

    const readers = refs.map((ref) => engine.open(ref));
    const held = await Promise.all(readers.map(async (reader, k) => {
      const want = files.get(refs[k]!.key)!;
      // Sequentially through the first 1.5 MiB (read-ahead: whole MiB parts), then a jump (one block).
      let last: Buffer = Buffer.alloc(0);
      for (let pos = 0; pos < 1.5 * MiB; pos += BLOCK) {
        last = await reader.read(pos, BLOCK);
        assert.ok(last.equals(want.subarray(pos, pos + BLOCK)), `f${k} at ${pos}`);
      }
      const at = 2 * MiB + 4096 * (k + 1);
      last = await reader.read(at, 1000);
      assert.ok(last.equals(want.subarray(at, at + 1000)), `f${k} at ${at}`);
      return last;
    }));
    for (let i = 0; i < 200 && engine.stats().blocksInFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.stats().blocksInFlight, 0, 'every fetch ended');
    const after = await settledMemory();

    const grown = after.arrayBuffers - base.arrayBuffers;
    // A chunk a reader holds is a view of its part (at most 1 MiB, 4 blocks): it keeps that part
    // alive, never the 8 MiB message the part came in.
    const bound = BUDGET + held.length * MiB + SLACK;
    console.log(`# ${src.parts} parts (${(src.parts * PARENT / MiB).toFixed(0)} MiB of 8 MiB messages); cache ${(engine.stats().cachedBytes / MiB).toFixed(2)} MiB of ${BUDGET / MiB}; ` +
      `external memory +${(grown / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(1)}), rss +${((after.rss - base.rss) / MiB).toFixed(1)} MiB`);
    assert.ok(engine.stats().cachedBytes <= BUDGET, 'the cache keeps to its budget');
    assert.ok(grown < bound, `external memory grew by ${(grown / MiB).toFixed(1)} MiB, more than the cache budget + the parts of ${held.length} held chunks + slack (${(bound / MiB).toFixed(1)} MiB)`);
    for (const r of readers) r.close();
  });

  it('the cache counts the buffers its blocks keep alive, each once, until its last block goes', () => {
    const cache = new BlockCache(2 * MiB);
    const part = Buffer.alloc(MiB);
    for (let i = 0; i < 4; i++) cache.set(`p#${i}`, part.subarray(i * BLOCK, (i + 1) * BLOCK));
    assert.equal(cache.bytes, MiB, 'four blocks of one part: the part once');
    const other = Buffer.alloc(MiB);
    cache.set('q#0', other.subarray(0, BLOCK));
    assert.equal(cache.bytes, 2 * MiB, 'one block of another part keeps all of that part alive');
    cache.set('r#0', Buffer.alloc(BLOCK));
    assert.ok(cache.bytes <= 2 * MiB, `over budget: ${cache.bytes}`);
    assert.equal(cache.has('p#0'), false, 'the least recently used part went first');
    for (let i = 1; i < 4; i++) assert.equal(cache.has(`p#${i}`), false, `p#${i} went with its part's memory`);
    assert.equal(cache.bytes, MiB + BLOCK, 'what is left: the other part and the new block');
    cache.set('huge', Buffer.alloc(3 * MiB).subarray(0, BLOCK));
    assert.equal(cache.has('huge'), false, 'a block of a buffer larger than the budget is not kept');
  });
});
