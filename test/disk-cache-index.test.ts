// The disk cache's pure parts: LRU eviction under a byte budget, the block file format refusing
// torn, corrupt or foreign files, and sizes as people write them (--cache-max 2G).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockFileName, decodeBlock, encodeHeader } from '../src/stream/block-file';
import { DiskIndex, onDisk } from '../src/stream/disk-index';
import { parseSize } from '../src/config/sizes';

describe('disk cache index', () => {
  it('evicts least recently used first, just enough to fit the incoming bytes', () => {
    const index = DiskIndex.from(10 * 4096, [
      { name: 'c', bytes: 4 * 4096, used: 30 },
      { name: 'a', bytes: 4 * 4096, used: 10 },
      { name: 'b', bytes: 2 * 4096, used: 20 },
    ]);
    assert.equal(index.bytes, 10 * 4096);
    assert.deepEqual(index.victims(0).map((e) => e.name), []);
    assert.deepEqual(index.victims(1).map((e) => e.name), ['a']);
    assert.deepEqual(index.victims(5 * 4096).map((e) => e.name), ['a', 'b']);
    assert.equal(index.touch('a', 40), 10);
    assert.deepEqual(index.victims(5 * 4096).map((e) => e.name), ['b', 'c']);
    assert.equal(index.touch('zz', 50), undefined);
  });

  it('add replaces, remove frees, fits says whether a file may ever be kept', () => {
    const index = new DiskIndex(8192);
    index.add({ name: 'a', bytes: 4096, used: 1 });
    index.add({ name: 'a', bytes: 8192, used: 2 });
    assert.equal(index.bytes, 8192);
    assert.equal(index.size, 1);
    assert.equal(index.remove('a')?.bytes, 8192);
    assert.equal(index.bytes, 0);
    assert.equal(index.fits(8192), true);
    assert.equal(index.fits(8193), false);
    assert.equal(onDisk(1), 4096);
    assert.equal(onDisk(4096), 4096);
    assert.equal(onDisk(262_144 + 60), 266_240);
  });
});

describe('block file format', () => {
  const key = '-1001:7:123456#3';
  const data = Buffer.from('exactly these bytes');
  const file = Buffer.concat([encodeHeader(key, data), data]);

  it('reads back exactly what was written', () => {
    const r = decodeBlock(file, key, data.length);
    assert.ok('data' in r);
    assert.ok(r.data.equals(data));
    assert.match(blockFileName(key), /^[0-9a-f]{40}\.blk$/);
    assert.notEqual(blockFileName(key), blockFileName('-1001:7:999#3'));
  });

  it('refuses a torn, corrupt, foreign or short file', () => {
    assert.match((decodeBlock(file.subarray(0, file.length - 1), key, data.length) as { problem: string }).problem, /torn/);
    const flipped = Buffer.from(file);
    flipped[flipped.length - 1]! ^= 1;
    assert.match((decodeBlock(flipped, key, data.length) as { problem: string }).problem, /checksum/);
    assert.match((decodeBlock(file, '-1001:7:999#3', data.length) as { problem: string }).problem, /another block/);
    assert.match((decodeBlock(file, key, data.length + 1) as { problem: string }).problem, /expected/);
    assert.match((decodeBlock(Buffer.alloc(10), key, 10) as { problem: string }).problem, /not a block file/);
    assert.match((decodeBlock(Buffer.alloc(0), key, 0) as { problem: string }).problem, /not a block file/);
  });
});

describe('sizes', () => {
  it('reads bytes and K/M/G suffixes, refuses the rest', () => {
    assert.equal(parseSize('2G'), 2 * 1024 ** 3);
    assert.equal(parseSize('500M'), 500 * 1024 ** 2);
    assert.equal(parseSize('512k'), 512 * 1024);
    assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('123'), 123);
    assert.equal(parseSize(4096), 4096);
    for (const bad of ['', 'G', '-1', '2X', 'lots', -5, 1.5, null]) assert.equal(parseSize(bad), undefined, String(bad));
  });
});
