// folder-index.ts: a folder index changed in place names and orders files exactly as a rebuild
// from scratch (names.ts assignFileNames), under random adds, removes and edits that force clashes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogFile } from '../src/catalog/types';
import { FolderIndex } from '../src/vfs/folder-index';
import { NameKeyMap, keyHash } from '../src/vfs/name-key-map';
import { assignFileNames } from '../src/vfs/names';
import { Vfs } from '../src/vfs/vfs';
import { FakeFileSource, MemoryCatalog, catalogFile } from './helpers/vfs-memory';
import { prng } from '../support/prng';

// Few names, varying case, and names that look like clash suffixes: clashes on every step.
const NAMES = ['a.txt', 'A.txt', 'a (5).txt', 'a (5) (2).txt', 'b.bin', 'B.BIN', 'a (7).txt', null, 'photo_3.jpg', 'CON'];

function randomFile(rnd: () => number, msgId: number, gen: number): CatalogFile {
  const name = NAMES[Math.floor(rnd() * NAMES.length)]!;
  const thumbs = rnd() < 0.3 ? [{ type: 'm', w: 320, h: 320, size: 100 + msgId }] : [];
  return catalogFile(1, msgId, { name, docId: `${msgId}-${gen}`, mimeType: rnd() < 0.5 ? 'image/jpeg' : 'text/plain', thumbs, media: rnd() < 0.2 ? 'photo' : undefined });
}

function expected(files: Map<number, CatalogFile>): [number, string][] {
  const sorted = [...files.values()].sort((a, b) => a.msgId - b.msgId);
  const names = assignFileNames(sorted);
  return sorted.map((f) => [f.msgId, names.get(f.msgId)!]);
}

function actual(idx: FolderIndex): [number, string][] {
  return idx.entries.map((e) => [e.file.msgId, e.name]);
}

describe('FolderIndex', () => {
  it('random changes applied in place name and order files as a rebuild does', () => {
    for (let seed = 1; seed <= 80; seed++) {
      const rnd = prng(seed);
      const files = new Map<number, CatalogFile>();
      // Odd seeds: never the one-pass renaming (the in-place paths alone); even: the default.
      const idx = seed % 2 ? new FolderIndex(Infinity) : new FolderIndex();
      for (let step = 0; step < 60; step++) {
        const ops = 1 + Math.floor(rnd() * 4);
        if (rnd() < 0.4) {
          // New posts only, after every known one (the in-place fast path).
          const top = Math.max(0, ...files.keys());
          for (let k = 1; k <= ops; k++) files.set(top + k, randomFile(rnd, top + k, step));
        } else for (let k = 0; k < ops; k++) {
          const msgId = 1 + Math.floor(rnd() * 40);
          const r = rnd();
          if (r < 0.5) files.set(msgId, randomFile(rnd, msgId, step));
          else if (r < 0.8) files.delete(msgId);
          else if (files.has(msgId)) files.set(msgId, { ...files.get(msgId)!, size: step });
        }
        const before = actual(idx).join('/');
        const changed = idx.update([...files.values()].sort((a, b) => a.msgId - b.msgId));
        const want = expected(files);
        assert.deepEqual(actual(idx), want, `seed ${seed} step ${step}`);
        for (const [msgId, name] of want) assert.equal(idx.byName(name)?.file.msgId, msgId, `seed ${seed}: byName ${name}`);
        for (const [msgId] of want) assert.equal(idx.byMsgId(msgId)?.file.msgId, msgId);
        if (before !== want.join('/')) assert.equal(changed, true, `seed ${seed} step ${step}: a renamed listing is a change`);
        const all = [...files.values()];
        assert.equal(idx.bytes, all.reduce((n, f) => n + f.size, 0));
        assert.equal(idx.newestMs, all.reduce((m, f) => Math.max(m, f.date * 1000), 0));
        assert.equal(idx.thumbCount, all.filter((f) => f.thumbs.length > 0).length);
      }
    }
  });

  it('an unchanged list is no change, and removing the first claimant hands its name on', () => {
    const idx = new FolderIndex();
    const a = catalogFile(1, 1, { name: 'x.txt' });
    const b = catalogFile(1, 2, { name: 'X.txt' });
    assert.equal(idx.update([a, b]), true);
    assert.deepEqual(actual(idx), [[1, 'x.txt'], [2, 'X (2).txt']]);
    assert.equal(idx.update([a, b]), false);
    assert.equal(idx.update([{ ...a }, { ...b }]), false);
    assert.equal(idx.update([b]), true);
    assert.deepEqual(actual(idx), [[2, 'X.txt']]);
  });

  it('a new post whose name an older clash was given renames that older file, as a rebuild does', () => {
    const idx = new FolderIndex(Infinity);
    const files = [catalogFile(1, 1, { name: 'a.txt' }), catalogFile(1, 5, { name: 'a.txt' })];
    idx.update(files);
    assert.deepEqual(actual(idx), [[1, 'a.txt'], [5, 'a (5).txt']]);
    const grown = [...files, catalogFile(1, 6, { name: 'a (5).txt' })];
    assert.equal(idx.update(grown), true);
    assert.deepEqual(actual(idx), [[1, 'a.txt'], [5, 'a (5) (2).txt'], [6, 'a (5).txt']]);
    assert.deepEqual(actual(idx), [...assignFileNames(grown)]);
  });
});

describe('NameKeyMap', () => {
  it('tells apart names whose hashes collide, and ignores case like nameKey', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `File ${i}.bin`;
      const other = seen.get(keyHash(name));
      if (other !== undefined) pair = [other, name];
      else seen.set(keyHash(name), name);
    }
    const [a, b] = pair;
    const map = new NameKeyMap<{ name: string }>();
    const ea = { name: a };
    const eb = { name: b };
    map.set(ea);
    assert.equal(map.get(b), undefined, `${a} and ${b} share a hash, not a name`);
    map.set(eb);
    assert.equal(map.get(a.toUpperCase()), ea);
    assert.equal(map.get(b.toLowerCase()), eb);
    map.delete(ea);
    assert.equal(map.get(a), undefined);
    assert.equal(map.get(b), eb);
    assert.equal(keyHash('Ünïcödé.TXT'), keyHash('ünïcödé.txt'));
    assert.equal(keyHash('\u212A.txt'), keyHash('k.txt'), 'the Kelvin sign lower-cases to k, as in nameKey');
  });
});

describe('Vfs on a changing catalog', () => {
  it('a new post is listed after a change without re-reading names of the others', async () => {
    const files = Array.from({ length: 2000 }, (_, i) => catalogFile(-1001, i + 1, { name: i % 2 ? `dup.bin` : `f${i}.bin` }));
    const catalog = new MemoryCatalog([{ id: -1001, name: 'ch' }], files);
    const vfs = new Vfs(catalog, new FakeFileSource());
    try {
      const first = await vfs.readdirNames('/ch');
      assert.equal(first.length, 2000);
      assert.equal(first[1], 'dup.bin');
      assert.equal(first[3], 'dup (4).bin');
      catalog.put(catalogFile(-1001, 5000, { name: 'dup.bin' }));
      catalog.remove(-1001, 2);
      const names = await vfs.readdirNames('/ch');
      assert.equal(names.length, 2000);
      assert.equal(names[2], 'dup.bin', 'the next claimant (message 4) takes the freed name');
      assert.equal(names.at(-1), 'dup (5000).bin');
      assert.deepEqual(names, [...assignFileNames(await catalog.files(-1001)).values()]);
      assert.equal(vfs.statNow('/ch/dup (5000).bin')?.msgId, 5000, 'answered synchronously once current');
      assert.throws(() => vfs.statNow('/ch/nope.bin'), { code: 'ENOENT' });
      for (const p of ['/ch/dup (5000).bin', '/ch/f0.bin', '/ch', '/']) {
        const now = vfs.statNow(p);
        if (now) assert.deepEqual(now, await vfs.stat(p), `statNow ${p} is stat()'s answer`);
      }
      const listing = await vfs.entries('/ch');
      catalog.remove(-1001, 5000);
      assert.equal(vfs.statNow('/ch/dup (5000).bin'), undefined, 'not current after a change: the caller awaits stat()');
      assert.equal((await vfs.readdirNames('/ch')).length, 1999);
      assert.equal([...listing].length, 2000, 'a listing under way (PROPFIND) keeps the folder as it was when it began');
      await assert.rejects(vfs.stat('/ch/dup (5000).bin'), { code: 'ENOENT' });
    } finally {
      vfs.close();
    }
  });

  it('statNow answers files, thumbnails and the thumbnails folder as stat() does', async () => {
    const thumbs = [{ type: 'm', w: 320, h: 180, size: 77 }];
    const catalog = new MemoryCatalog([{ id: -1001, name: 'ch' }], [
      catalogFile(-1001, 1, { name: 'a.mp4', thumbs }),
      catalogFile(-1001, 2, { name: 'b.mp4' }),
    ]);
    const vfs = new Vfs(catalog, new FakeFileSource());
    try {
      assert.equal(vfs.statNow('/ch/a.mp4'), undefined, 'nothing is current before the first listing');
      await vfs.warm();
      assert.equal(catalog.calls.files, 1, 'warm() built the index');
      for (const p of ['/ch/a.mp4', '/ch/b.mp4', '/ch/.thumbnails', '/ch/.thumbnails/a.mp4.jpg']) {
        assert.deepEqual(vfs.statNow(p), await vfs.stat(p), p);
      }
      assert.throws(() => vfs.statNow('/ch/.thumbnails/b.mp4.jpg'), { code: 'ENOENT' });
      assert.equal(vfs.statNow('/ch/a.mp4/x'), undefined, 'ENOTDIR is left to stat()');
      await assert.rejects(vfs.stat('/ch/a.mp4/x'), { code: 'ENOTDIR' });
    } finally {
      vfs.close();
    }
  });
});
