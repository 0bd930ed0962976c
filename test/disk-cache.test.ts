// The disk cache under the stream engine, over an in-memory part source that counts upstream
// calls: byte-exact after a restart with no upstream call, the budget held by eviction (in the
// folder, as `du` counts it), torn and corrupt block files dropped and refetched, an edit (a new
// document, so a new file key) never served old bytes, one process per folder (stale locks
// taken over), and a writer killed with SIGKILL leaving nothing wrong to serve.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, truncate, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiskCache } from '../src/stream/disk-cache';
import { DiskCacheInUseError } from '../src/stream/disk-lock';
import { BLOCK, MiB } from '../src/stream/planner';
import { StreamEngine } from '../src/stream/stream-engine';
import type { FileRef, PartSource } from '../src/stream/types';
import { content } from './helpers/emulator-fixture';

class CountingSource implements PartSource {
  calls = 0;
  bytes = 0;
  constructor(readonly files: Map<string, Buffer>) {}
  capacity(): number {
    return 4;
  }
  async getPart(file: FileRef, offset: number, limit: number): Promise<Buffer> {
    this.calls++;
    const part = this.files.get(file.key)!.subarray(offset, offset + limit);
    this.bytes += part.length;
    return part;
  }
}

async function readAll(engine: StreamEngine, file: FileRef): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of engine.createReadStream(file, 0, file.size - 1)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads `file` through a fresh engine (an empty memory cache) over the disk cache in `dir`, then closes the cache. */
async function readThrough(dir: string, src: CountingSource, file: FileRef, maxBytes = 64 * MiB, log?: (l: string) => void): Promise<{ bytes: Buffer; disk: DiskCache }> {
  const disk = await DiskCache.open({ dir, maxBytes, log });
  try {
    const bytes = await readAll(new StreamEngine(src, { disk }), file);
    return { bytes, disk };
  } finally {
    await disk.close();
  }
}

/** Bytes the folder's files take in 4 KiB blocks (what `du` counts, without the folders themselves). */
async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const name of await readdir(dir)) {
    const s = await stat(path.join(dir, name));
    if (s.isFile()) sum += s.blocks * 512;
  }
  return sum;
}

async function blockFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.blk')).sort();
}

describe('disk cache under the stream engine', () => {
  let root = '';
  let n = 0;
  const newDir = (): string => path.join(root, `c${++n}`);
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-disk-cache-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a read after a restart is byte-exact and costs no upstream call', async () => {
    const dir = newDir();
    const file = { key: '-1001:1:100', size: 3 * MiB + 123 };
    const src = new CountingSource(new Map([[file.key, content(file.size, 'a')]]));
    const first = await readThrough(dir, src, file);
    assert.ok(first.bytes.equals(src.files.get(file.key)!));
    assert.equal(src.bytes, file.size);
    assert.equal(first.disk.stats().files, 13);
    // Private like the sessions: the blocks are the channels' content.
    const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(path.join(dir, 'tmp')), 0o700);
    for (const name of (await blockFiles(dir)).slice(0, 3)) assert.equal(await mode(path.join(dir, name)), 0o600);
    src.calls = 0;
    src.bytes = 0;
    const second = await readThrough(dir, src, file);
    assert.ok(second.bytes.equals(src.files.get(file.key)!));
    assert.equal(src.calls, 0);
    assert.equal(second.disk.stats().hits, 13);
  });

  it('holds its budget: least recently used blocks go, the folder never grows past it', async () => {
    const dir = newDir();
    const budget = MiB;
    const files = [0, 1, 2].map((i) => ({ key: `-1001:${i + 1}:${i + 7}`, size: MiB }));
    const src = new CountingSource(new Map(files.map((f) => [f.key, content(f.size, f.key)])));
    for (const f of files) {
      const { bytes, disk } = await readThrough(dir, src, f, budget);
      assert.ok(bytes.equals(src.files.get(f.key)!));
      assert.ok(disk.stats().bytes <= budget, `${disk.stats().bytes} > ${budget}`);
      assert.ok(await folderBytes(dir) <= budget, `folder ${await folderBytes(dir)} > ${budget}`);
    }
    // 3 block files fit in 1 MiB (each a block plus its header, in 4 KiB units): the newest file's last 3.
    assert.equal((await blockFiles(dir)).length, 3);
    src.calls = 0;
    const { bytes, disk } = await readThrough(dir, src, files[2]!, budget);
    assert.ok(bytes.equals(src.files.get(files[2]!.key)!));
    // Block 0 comes upstream again; storing it evicts the least recently used of the others.
    assert.ok(src.calls >= 1, `calls ${src.calls}`);
    assert.ok(disk.stats().evictions >= 1);
    assert.ok(disk.stats().bytes <= budget);
    assert.ok(await folderBytes(dir) <= budget);
  });

  it('a torn or corrupt block file is dropped and refetched, never served', async () => {
    const dir = newDir();
    const file = { key: '-1001:4:400', size: 2 * MiB };
    const src = new CountingSource(new Map([[file.key, content(file.size, 'torn')]]));
    await readThrough(dir, src, file);
    const names = await blockFiles(dir);
    assert.equal(names.length, 8);
    await truncate(path.join(dir, names[0]!), 1000);
    const bad = await readFile(path.join(dir, names[1]!));
    bad[bad.length - 5]! ^= 0xff;
    await writeFile(path.join(dir, names[1]!), bad);
    src.calls = 0;
    const lines: string[] = [];
    const { bytes, disk } = await readThrough(dir, src, file, 64 * MiB, (l) => lines.push(l));
    assert.ok(bytes.equals(src.files.get(file.key)!));
    assert.equal(src.calls, 2);
    assert.equal(disk.stats().dropped, 2);
    assert.equal(lines.filter((l) => /^disk cache: dropped [0-9a-f]{40}\.blk \((torn|checksum mismatch)/.test(l)).length, 2, lines.join('\n'));
    // Stored again, intact: the next read costs nothing upstream.
    src.calls = 0;
    assert.ok((await readThrough(dir, src, file)).bytes.equals(src.files.get(file.key)!));
    assert.equal(src.calls, 0);
  });

  it('an edit (a new document in the same message) never serves the old bytes', async () => {
    const dir = newDir();
    const before = { key: '-1001:5:500', size: MiB + 10 };
    const edited = { key: '-1001:5:501', size: MiB + 10 };
    const src = new CountingSource(new Map([[before.key, content(before.size, 'old')], [edited.key, content(edited.size, 'new')]]));
    await readThrough(dir, src, before);
    src.calls = 0;
    const { bytes } = await readThrough(dir, src, edited);
    assert.ok(bytes.equals(src.files.get(edited.key)!));
    assert.ok(src.calls > 0);
  });

  it('a folder emptied by a person while open: blocks fetched again and stored again', async () => {
    const dir = newDir();
    const file = { key: '-1001:6:600', size: MiB + 1 };
    const src = new CountingSource(new Map([[file.key, content(file.size, 'gone')]]));
    const disk = await DiskCache.open({ dir, maxBytes: 64 * MiB });
    try {
      assert.ok((await readAll(new StreamEngine(src, { disk }), file)).equals(src.files.get(file.key)!));
      await disk.flush();
      await rm(dir, { recursive: true, force: true });
      src.calls = 0;
      assert.ok((await readAll(new StreamEngine(src, { disk }), file)).equals(src.files.get(file.key)!));
      assert.ok(src.calls > 0);
      await disk.flush();
      assert.equal((await blockFiles(dir)).length, 5);
    } finally {
      await disk.close();
    }
  });

  it('one process per folder: a second open is refused with the holder named', async () => {
    const dir = newDir();
    const a = await DiskCache.open({ dir, maxBytes: MiB });
    try {
      await assert.rejects(DiskCache.open({ dir, maxBytes: MiB }), (err: unknown) => {
        assert.ok(err instanceof DiskCacheInUseError);
        assert.equal(err.pid, process.pid);
        assert.match(err.message, /is in use by process \d+ \(this one\); give this one its own --cache-dir, or --no-disk-cache/);
        return true;
      });
    } finally {
      await a.close();
    }
    const b = await DiskCache.open({ dir, maxBytes: MiB });
    await b.close();
  });
});

const WRITER = `
const { DiskCache } = require(${JSON.stringify(path.join(__dirname, '../src/stream/disk-cache.js'))});
const BLOCK = ${BLOCK};
const block = (i) => { const b = Buffer.alloc(BLOCK, i % 251); b.writeUInt32BE(i, 0); return b; };
(async () => {
  const disk = await DiskCache.open({ dir: process.argv[1], maxBytes: 8 * BLOCK });
  for (let i = 0; ; i++) {
    disk.put('-1001:9:900#' + (i % 40), block(i % 40));
    await disk.flush();
    process.stdout.write('wrote ' + i + '\\n');
  }
})();
`;

function startWriter(dir: string): ChildProcess {
  return spawn(process.execPath, ['-e', WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves once the child has written `count` blocks. */
function wrote(child: ChildProcess, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString().split('\n').filter((l) => l.startsWith('wrote')).length;
      if (seen >= count) resolve();
    });
    child.once('exit', (code) => reject(new Error(`writer exited (${code}) after ${seen} blocks`)));
  });
}

describe('disk cache across processes', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-disk-kill-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a second process is told who holds the folder; after kill -9 mid-write, nothing wrong is served', { timeout: 60_000 }, async () => {
    const dir = path.join(root, 'cache');
    for (const stop of [30, 55, 80]) {
      const child = startWriter(dir);
      const exited = new Promise((r) => child.once('exit', r));
      try {
        await wrote(child, stop);
        await assert.rejects(DiskCache.open({ dir, maxBytes: 8 * BLOCK }), (err: unknown) => err instanceof DiskCacheInUseError && err.pid === child.pid);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      // A half-written temporary file as a kill leaves it, and files that are not the cache's.
      await writeFile(path.join(dir, 'tmp', '4242-7.tmp'), Buffer.alloc(1000, 1));
      await writeFile(path.join(dir, 'tmp', 'keep.txt'), 'not ours');
      await writeFile(path.join(dir, 'notes.txt'), 'not ours');
      // The lock of a dead process is taken over; every block served is the one written under its key.
      const disk = await DiskCache.open({ dir, maxBytes: 8 * BLOCK });
      try {
        assert.deepEqual(await readdir(path.join(dir, 'tmp')), ['keep.txt'], 'stray temporary files removed, nothing else');
        assert.equal(await readFile(path.join(dir, 'notes.txt'), 'utf8'), 'not ours');
        let served = 0;
        for (let i = 0; i < 40; i++) {
          const got = await disk.get(`-1001:9:900#${i}`, BLOCK);
          if (!got) continue;
          served++;
          const want = Buffer.alloc(BLOCK, i % 251);
          want.writeUInt32BE(i, 0);
          assert.ok(got.equals(want), `block ${i}`);
        }
        assert.ok(served > 0 && served <= 8, `served ${served}`);
        assert.ok(disk.stats().bytes <= 8 * BLOCK + 8 * 4096);
      } finally {
        await disk.close();
      }
    }
  });
});
