// The VFS over an in-memory catalog and a fake byte source: tree, names, errors, caching of the
// name index, handles and streams, thumbnails, id-addressed look-ups; stat/readdir never touch
// the byte source.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { VfsError, isVfsError, type VfsErrorCode } from '../src/vfs/errors';
import { Vfs, pathSegments } from '../src/vfs/vfs';
import { catalogFile, FakeFileSource, fakeBytes, MemoryCatalog } from './helpers/vfs-memory';

const A = -1001000000001;
const B = -1001000000002;

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: VfsErrorCode): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (err: unknown) => {
    assert.ok(isVfsError(err), `a VfsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

const THUMB = Buffer.from('fake-jpeg-bytes-0123456789');

function setup(): { catalog: MemoryCatalog; source: FakeFileSource; vfs: Vfs } {
  const catalog = new MemoryCatalog(
    [{ id: A, name: 'Films' }, { id: B, name: 'docs/misc' }],
    [
      catalogFile(A, 1, { name: 'movie.mp4', mimeType: 'video/mp4', size: 5000, thumbs: [{ type: 's', w: 90, h: 90, size: 5 }, { type: 'm', w: 320, h: 180, size: THUMB.length }] }),
      catalogFile(A, 2, { name: 'movie.mp4', mimeType: 'video/mp4', size: 300 }),
      catalogFile(A, 4, { name: null, mimeType: 'video/mp4', size: 77 }),
      catalogFile(A, 3, { name: 'CON.txt', mimeType: 'text/plain', size: 0 }),
      catalogFile(B, 10, { name: 'été.pdf', mimeType: 'application/pdf', size: 42 }),
    ],
  );
  const source = new FakeFileSource();
  source.thumbs.set(`${A}:1`, THUMB);
  return { catalog, source, vfs: new Vfs(catalog, source, { now: () => 1_800_000_000_000 }) };
}

describe('Vfs', () => {
  it('/ lists the never-index marker and the channels by (safe) configured name', async () => {
    const { vfs, source } = setup();
    const root = await vfs.readdir('/');
    assert.deepEqual(root.map((e) => [e.name, e.stat.type]), [
      ['.metadata_never_index', 'file'], ['Films', 'directory'], ['docs_misc', 'directory'],
    ]);
    const st = await vfs.stat('/');
    assert.equal(st.type, 'directory');
    assert.equal(st.kind, 'root');
    const marker = await vfs.stat('/.metadata_never_index');
    assert.equal(marker.size, 0);
    assert.equal((await collect(await vfs.createReadStream('/.metadata_never_index', 0, -1))).length, 0);
    // The channel folder's mtime is its newest message.
    assert.equal(root[1]!.stat.mtimeMs, (1_700_000_000 + 4) * 1000);
    assert.deepEqual(source.calls, { open: 0, stream: 0, thumbnail: 0, describe: 0, read: 0 });
  });

  it('a channel lists its files in message-id order with safe, unique names and catalog stats', async () => {
    const { vfs, source } = setup();
    const list = await vfs.readdir('/Films');
    assert.deepEqual(list.map((e) => e.name), ['.thumbnails', 'movie.mp4', 'movie (2).mp4', '_CON.txt', 'video_4.mp4']);
    const movie = list[1]!.stat;
    assert.deepEqual(
      { size: movie.size, mtimeMs: movie.mtimeMs, mimeType: movie.mimeType, version: movie.version, channel: movie.channel, msgId: movie.msgId, type: movie.type },
      { size: 5000, mtimeMs: 1_700_000_001_000, mimeType: 'video/mp4', version: '1001-5000', channel: A, msgId: 1, type: 'file' },
    );
    assert.deepEqual(await vfs.stat('/Films/movie (2).mp4'), list[2]!.stat);
    assert.deepEqual((await vfs.readdir('/docs_misc')).map((e) => e.name), ['été.pdf']);
    assert.deepEqual(source.calls, { open: 0, stream: 0, thumbnail: 0, describe: 0, read: 0 });
  });

  it('errors: ENOENT, ENOTDIR, EISDIR, EINVAL', async () => {
    const { vfs } = setup();
    await rejectsWith(vfs.stat('/Nope'), 'ENOENT');
    await rejectsWith(vfs.stat('/Films/nope.mp4'), 'ENOENT');
    await rejectsWith(vfs.stat('/films/movie.mp4'), 'ENOENT'); // exact names
    await rejectsWith(vfs.stat('/Films/movie.mp4/x'), 'ENOTDIR');
    await rejectsWith(vfs.readdir('/Films/movie.mp4'), 'ENOTDIR');
    await rejectsWith(vfs.readdir('/.metadata_never_index'), 'ENOTDIR');
    await rejectsWith(vfs.open('/Films'), 'EISDIR');
    await rejectsWith(vfs.createReadStream('/', 0, 0), 'EISDIR');
    await rejectsWith(vfs.stat('/Films/../Films'), 'EINVAL');
    await rejectsWith(vfs.stat('/Films/./movie.mp4'), 'EINVAL');
    await rejectsWith(vfs.stat('/Films/mo\0vie.mp4'), 'EINVAL');
    await rejectsWith(vfs.stat(['Films', 'a/b']), 'EINVAL'); // an encoded slash
    await rejectsWith(vfs.stat(['Films', 'a\\b']), 'EINVAL');
    await rejectsWith(vfs.stat(['..']), 'EINVAL');
    assert.throws(() => pathSegments('/a/../b'), VfsError);
    assert.deepEqual(pathSegments('//Films///movie.mp4/'), ['Films', 'movie.mp4']);
  });

  it("Finder's ._* and .DS_Store probes are ENOENT without a catalog call", async () => {
    const { vfs, catalog } = setup();
    const before = { ...catalog.calls };
    for (const p of ['/._Films', '/.DS_Store', '/Films/._movie.mp4', '/Films/.DS_Store', '/Films/.thumbnails/._movie.mp4.jpg']) {
      await rejectsWith(vfs.stat(p), 'ENOENT');
    }
    assert.deepEqual(catalog.calls, before);
  });

  it('names are found in NFC whatever form the path uses', async () => {
    const { vfs } = setup();
    const nfd = '/docs_misc/e\u0301te\u0301.pdf';
    assert.equal((await vfs.stat(nfd)).size, 42);
  });

  it('the name index is built once per channel and rebuilt on catalog changes', async () => {
    const { vfs, catalog } = setup();
    await vfs.readdir('/Films');
    await vfs.stat('/Films/movie.mp4');
    await vfs.stat('/Films/video_4.mp4');
    await vfs.readdir('/Films');
    assert.equal(catalog.calls.files, 1);
    const mtimeBefore = (await vfs.stat('/Films')).mtimeMs;

    catalog.put(catalogFile(A, 7, { name: 'new.mkv', date: 1_600_000_000 }));
    assert.equal((await vfs.stat('/Films/new.mkv')).msgId, 7);
    assert.equal(catalog.calls.files, 2);
    // An old post appearing (indexing) changes the folder's mtime even though it is not newer.
    assert.ok((await vfs.stat('/Films')).mtimeMs > mtimeBefore);

    catalog.remove(A, 1);
    await rejectsWith(vfs.stat('/Films/movie (2).mp4'), 'ENOENT');
    assert.equal((await vfs.stat('/Films/movie.mp4')).msgId, 2, 'the survivor of a clash takes the plain name');
    // Another channel's index is untouched.
    await vfs.readdir('/docs_misc');
    await vfs.readdir('/docs_misc');
    assert.equal(catalog.calls.files, 4);
  });

  it('close() stops following the catalog', () => {
    const { vfs, catalog } = setup();
    assert.equal(catalog.listenerCount, 1);
    vfs.close();
    assert.equal(catalog.listenerCount, 0);
  });

  it('open → read at offsets → close releases the reader', async () => {
    const { vfs, source } = setup();
    const h = await vfs.open('/Films/movie.mp4');
    assert.equal(h.stat.size, 5000);
    const src = fakeBytes(1, 5000);
    assert.ok((await h.read(0, 100)).equals(src.subarray(0, 100)));
    assert.ok((await h.read(4990, 100)).equals(src.subarray(4990)));
    assert.equal((await h.read(5000, 10)).length, 0);
    assert.equal((await h.read(0, 0)).length, 0);
    await rejectsWith(h.read(-1, 5), 'EINVAL');
    assert.equal(source.calls.open, 1, 'one reader per handle');
    assert.equal(source.openReaders, 1);
    h.close();
    assert.equal(source.openReaders, 0);
    await rejectsWith(h.read(0, 1), 'EINVAL');
  });

  it('createReadStream gives exact bytes and checks its range', async () => {
    const { vfs } = setup();
    const src = fakeBytes(1, 5000);
    assert.ok((await collect(await vfs.createReadStream('/Films/movie.mp4', 0, 4999))).equals(src));
    assert.ok((await collect(await vfs.createReadStream('/Films/movie.mp4', 1234, 1234))).equals(src.subarray(1234, 1235)));
    assert.equal((await collect(await vfs.createReadStream('/Films/_CON.txt', 0, -1))).length, 0);
    await rejectsWith(vfs.createReadStream('/Films/movie.mp4', 0, 5000), 'EINVAL');
    await rejectsWith(vfs.createReadStream('/Films/movie.mp4', 10, 8), 'EINVAL');
    await rejectsWith(vfs.createReadStream('/Films/movie.mp4', 0.5, 8), 'EINVAL');
  });

  it('thumbnails: /<channel>/.thumbnails/<file>.jpg, largest size, fetched once', async () => {
    const { vfs, source } = setup();
    assert.deepEqual((await vfs.readdir('/Films/.thumbnails')).map((e) => e.name), ['movie.mp4.jpg']);
    const st = await vfs.stat('/Films/.thumbnails/movie.mp4.jpg');
    assert.deepEqual([st.size, st.mimeType, st.kind, st.version], [THUMB.length, 'image/jpeg', 'thumbnail', '1001-m-26']);
    assert.equal(source.calls.thumbnail, 0, 'stat fetches nothing');
    assert.ok((await collect(await vfs.createReadStream('/Films/.thumbnails/movie.mp4.jpg', 0, THUMB.length - 1))).equals(THUMB));
    const h = await vfs.open('/Films/.thumbnails/movie.mp4.jpg');
    assert.ok((await h.read(5, 4)).equals(THUMB.subarray(5, 9)));
    h.close();
    assert.equal(source.calls.thumbnail, 1);
    // No thumbnails in a channel: no folder.
    assert.ok(!(await vfs.readdir('/docs_misc')).some((e) => e.name === '.thumbnails'));
    await rejectsWith(vfs.stat('/docs_misc/.thumbnails'), 'ENOENT');
  });

  it('thumbnails can be turned off', async () => {
    const { catalog, source } = setup();
    const vfs = new Vfs(catalog, source, { thumbnails: false, neverIndexMarker: false });
    assert.ok(!(await vfs.readdir('/Films')).some((e) => e.name === '.thumbnails'));
    assert.ok(!(await vfs.readdir('/')).some((e) => e.name === '.metadata_never_index'));
  });

  it('message(): from the catalog, else from upstream (describe), else ENOENT', async () => {
    const { vfs, source } = setup();
    const known = await vfs.message(A, 2);
    assert.equal(known.stat.name, 'movie (2).mp4');
    assert.equal(known.path, '/Films/movie (2).mp4');
    assert.equal(source.calls.describe, 0);
    source.upstream.set(`${A}:9`, catalogFile(A, 9, { name: 'late.bin', size: 9 }));
    const late = await vfs.message(A, 9);
    assert.equal(late.stat.size, 9);
    assert.ok((await collect(late.createReadStream(0, 8))).equals(fakeBytes(9, 9)));
    await rejectsWith(vfs.message(A, 99), 'ENOENT');
    await rejectsWith(vfs.message(-1009999, 1), 'ENOENT'); // not a configured channel
    await rejectsWith(vfs.message(A, 0), 'ENOENT');
    assert.equal((await vfs.messageThumbnail(A, 1)).stat.size, THUMB.length);
    await rejectsWith(vfs.messageThumbnail(A, 2), 'ENOENT');
  });

  it('usage(): bytes under a folder', async () => {
    const { vfs } = setup();
    assert.equal(await vfs.usage('/Films'), 5000 + 300 + 77 + 0);
    assert.equal(await vfs.usage('/'), 5000 + 300 + 77 + 42);
    await rejectsWith(vfs.usage('/Films/movie.mp4'), 'ENOTDIR');
  });

  it('a 10,000-file channel: readdir and stat answer from the catalog; a warm listing reuses the name index', async () => {
    // How fast a warm listing is: bench/webdav-propfind's readdir_10k_warm_ms (target < 50 ms).
    const files = Array.from({ length: 10_000 }, (_, i) => catalogFile(A, i + 1, { name: `clip ${i % 5000}.mp4`, size: i }));
    const catalog = new MemoryCatalog([{ id: A, name: 'big' }], files);
    const source = new FakeFileSource();
    const vfs = new Vfs(catalog, source);
    const cold = await vfs.readdir('/big');
    assert.equal(cold.length, 10_000);
    assert.equal(new Set(cold.map((e) => e.name.toLowerCase())).size, 10_000);
    assert.equal(catalog.calls.files, 1, 'the cold listing read the channel once');
    const warm = await vfs.readdir('/big');
    assert.deepEqual(warm.map((e) => e.name), cold.map((e) => e.name));
    assert.equal(catalog.calls.files, 1, 'the warm listing read nothing: the name index (one per catalog read) was reused');
    assert.equal((await vfs.stat('/big/clip 1 (5002).mp4')).msgId, 5002);
    assert.equal(catalog.calls.files, 1);
    assert.equal(catalog.calls.file, 0);
    // A change does rebuild it, once.
    catalog.put(catalogFile(A, 10_001, { name: 'late.mp4' }));
    assert.equal((await vfs.readdir('/big')).length, 10_001);
    await vfs.readdir('/big');
    assert.equal(catalog.calls.files, 2);
    assert.deepEqual(source.calls, { open: 0, stream: 0, thumbnail: 0, describe: 0, read: 0 });
  });
});
