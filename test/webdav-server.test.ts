// The HTTP front-end (WebDAV tree, /stream, /thumb, /healthz, /metrics) against the emulator
// through a real worker pool and stream engine, with an in-memory catalog built from the fixture
// (so that what is measured here is the front-end, not indexing). Requests use Node's fetch, and
// raw http.request where a path must reach the server un-normalised.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { poolFileSource } from '../src/app/server';
import type { CatalogFile } from '../src/catalog/types';
import { WorkerPool } from '../src/index';
import { sanitizeName } from '../src/vfs/names';
import { Vfs } from '../src/vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../src/webdav/http-server';
import { channelId, MiB } from './helpers/emulator-fixture';
import { SparseChecker, stampsOf, startStreamFixture, type StreamFixture } from './helpers/stream-fixture';
import { until } from './helpers/eventually';
import { upstreamLedger } from './helpers/upstream-ledger';
import { MemoryCatalog } from './helpers/vfs-memory';

/** 160×90 baseline JPEG header and end marker: enough for the emulator to read its size. */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x5a, 0x00, 0xa0, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);

const BIG = 'media/big.bin';
const BIG_SIZE = 3 * MiB + 4321;
const HUGE = 'media/huge.bin';
const HUGE_SIZE = 256 * MiB;
const REAL: Record<string, Buffer | number> = {
  [BIG]: BIG_SIZE,
  'media/small.txt': Buffer.from('hello world\n'),
  'media/clip.mp4': 100_000,
  'media/clip.jpg': JPEG,
  'media/weird #?;name.txt': Buffer.from('weird'),
  'other/x.bin': 1000,
};

interface Got {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function upstreamCalls(f: StreamFixture): number {
  return Object.values(f.emu.stats().calls).reduce((n, c) => n + c, 0);
}

/** A multipart/byteranges body → its parts (headers lower-cased, data exact). */
function parseMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; data: Buffer }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  assert.ok(boundary, `a boundary in ${contentType}`);
  const delim = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; data: Buffer }[] = [];
  let at = body.indexOf(delim);
  assert.equal(at, 0, 'the body starts with the first boundary');
  for (;;) {
    at += delim.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    assert.equal(body.subarray(at, at + 2).toString(), '\r\n');
    const headEnd = body.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at + 2, headEnd).toString().split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    assert.ok(next > 0, 'a closing boundary');
    parts.push({ headers, data: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}

describe('WebDAV/HTTP front-end over the emulator', () => {
  let f: StreamFixture;
  let pool: WorkerPool;
  let front: HttpFrontEnd;
  let base: string;
  let port: number;
  let media: number;
  const files = new Map<string, CatalogFile>();

  before(async () => {
    f = await startStreamFixture(REAL, { [HUGE]: HUGE_SIZE });
    pool = await WorkerPool.create({ ...f.emu.config });
    const catalogFiles: CatalogFile[] = [];
    for (const rel of Object.keys(REAL).filter((r) => !r.endsWith('.jpg')).concat(HUGE)) {
      const channel = channelId(f, rel.split('/')[0]!);
      const d = await pool.getDoc(channel, f.msgId(rel));
      const file: CatalogFile = { channel, msgId: d.msgId, docId: d.id, size: d.size, mimeType: d.mimeType, name: d.name, date: d.date, thumbs: d.thumbs };
      files.set(rel, file);
      catalogFiles.push(file);
    }
    media = channelId(f, 'media');
    const catalog = new MemoryCatalog(f.emu.config.channels.map((c) => ({ id: c.id, name: c.name })), catalogFiles);
    const vfs = new Vfs(catalog, poolFileSource(pool, pool.engine));
    front = createHttpFrontEnd({ vfs });
    port = (await front.listen('127.0.0.1', 0)).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await front?.close();
    await pool?.close();
    await f?.close();
  });

  async function req(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
    const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
    const body = Buffer.from(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { status: res.status, headers, body };
  }

  /** A request whose path is sent as is (no URL normalisation). */
  function raw(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      });
      r.on('error', reject);
      r.end();
    });
  }

  const src = (rel: string): Buffer => f.files.get(rel)!;
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  describe('GET ranges of a file, byte-exact', () => {
    const size = BIG_SIZE;
    const table: { name: string; range?: string; status: number; want?: [number, number] }[] = [
      { name: 'no Range: the whole file', status: 200, want: [0, size - 1] },
      { name: 'first byte', range: 'bytes=0-0', status: 206, want: [0, 0] },
      { name: 'last byte', range: `bytes=${size - 1}-${size - 1}`, status: 206, want: [size - 1, size - 1] },
      { name: 'across a 1 MiB boundary', range: `bytes=${MiB - 100}-${MiB + 99}`, status: 206, want: [MiB - 100, MiB + 99] },
      { name: 'across two boundaries', range: `bytes=${MiB - 1}-${2 * MiB}`, status: 206, want: [MiB - 1, 2 * MiB] },
      { name: 'suffix', range: 'bytes=-1000', status: 206, want: [size - 1000, size - 1] },
      { name: 'open-ended', range: `bytes=${2 * MiB + 5}-`, status: 206, want: [2 * MiB + 5, size - 1] },
      { name: 'end past the end is clipped', range: `bytes=${size - 10}-${size + 1000}`, status: 206, want: [size - 10, size - 1] },
      { name: 'malformed: ignored, whole file', range: 'bytes=5-2', status: 200, want: [0, size - 1] },
      { name: 'another unit: ignored', range: 'items=0-5', status: 200, want: [0, size - 1] },
      { name: 'past the end: 416', range: `bytes=${size}-`, status: 416 },
    ];
    for (const c of table) {
      it(`${c.name}${c.range ? ` (${c.range})` : ''}`, async () => {
        const r = await req(`/media/big.bin`, { headers: c.range ? { Range: c.range } : {} });
        assert.equal(r.status, c.status);
        assert.equal(r.headers['accept-ranges'], 'bytes');
        assert.equal(r.headers.etag, `"${files.get(BIG)!.docId}-${size}"`);
        assert.equal(r.headers['last-modified'], new Date(files.get(BIG)!.date * 1000).toUTCString());
        if (c.status === 416) {
          assert.equal(r.headers['content-range'], `bytes */${size}`);
          return;
        }
        const [a, b] = c.want!;
        assert.equal(r.headers['content-type'], 'application/octet-stream');
        assert.equal(Number(r.headers['content-length']), b - a + 1);
        assert.equal(r.headers['content-range'], c.status === 206 ? `bytes ${a}-${b}/${size}` : undefined);
        assert.equal(r.body.length, b - a + 1);
        assert.equal(sha(r.body), sha(src(BIG).subarray(a, b + 1)));
      });
    }

    it('two ranges: multipart/byteranges, each part exact', async () => {
      const ranges: [number, number][] = [[0, 99], [MiB - 50, MiB + 49], [size - 5, size - 1]];
      const r = await req('/media/big.bin', { headers: { Range: `bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(',')}` } });
      assert.equal(r.status, 206);
      assert.match(r.headers['content-type']!, /^multipart\/byteranges; boundary=/);
      assert.equal(Number(r.headers['content-length']), r.body.length);
      const parts = parseMultipart(r.body, r.headers['content-type']!);
      assert.equal(parts.length, 3);
      parts.forEach((p, i) => {
        const [a, b] = ranges[i]!;
        assert.equal(p.headers['content-range'], `bytes ${a}-${b}/${size}`);
        assert.equal(p.headers['content-type'], 'application/octet-stream');
        assert.ok(p.data.equals(src(BIG).subarray(a, b + 1)), `part ${i}`);
      });
    });

    it('a small text file has its own Content-Type; a 200 for an empty Range list', async () => {
      const r = await req('/media/small.txt');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.ok(r.body.equals(src('media/small.txt')));
      assert.equal((await req('/media/small.txt', { headers: { Range: 'bytes=' } })).status, 200);
    });

    it('HEAD sends exactly the header fields GET sends', async () => {
      for (const range of [undefined, 'bytes=0-0', `bytes=-5`, 'bytes=0-1,10-11', `bytes=${size}-`, 'bytes=x']) {
        const headers = range ? { Range: range } : undefined;
        const g = await req('/media/big.bin', { headers });
        const h = await req('/media/big.bin', { method: 'HEAD', headers });
        assert.equal(h.status, g.status, `${range}`);
        assert.equal(h.body.length, 0);
        // Date ticks; undici closes the connection after a HEAD (it sends `Connection: close`).
        for (const k of ['date', 'connection', 'keep-alive']) {
          delete g.headers[k];
          delete h.headers[k];
        }
        assert.deepEqual(h.headers, g.headers, `${range}`);
      }
    });

    it('If-Range: a matching ETag or date keeps the range, anything else sends the whole file', async () => {
      const etag = `"${files.get(BIG)!.docId}-${size}"`;
      const date = new Date(files.get(BIG)!.date * 1000).toUTCString();
      assert.equal((await req('/media/big.bin', { headers: { Range: 'bytes=0-9', 'If-Range': etag } })).status, 206);
      assert.equal((await req('/media/big.bin', { headers: { Range: 'bytes=0-9', 'If-Range': date } })).status, 206);
      const stale = await req('/media/big.bin', { headers: { Range: 'bytes=0-9', 'If-Range': '"1-2"' } });
      assert.equal(stale.status, 200);
      assert.equal(stale.body.length, size);
      assert.equal((await req('/media/big.bin', { headers: { Range: 'bytes=0-9', 'If-Range': `W/${etag}` } })).status, 200);
    });

    it('If-Match (VLC), If-None-Match, If-Modified-Since', async () => {
      const etag = `"${files.get(BIG)!.docId}-${size}"`;
      const ok = await req('/media/big.bin', { headers: { Range: `bytes=${MiB}-`, 'If-Match': etag } });
      assert.equal(ok.status, 206);
      assert.equal(ok.body.length, size - MiB);
      assert.equal((await req('/media/big.bin', { headers: { Range: 'bytes=0-', 'If-Match': '"other"' } })).status, 412);
      const nm = await req('/media/big.bin', { headers: { 'If-None-Match': etag } });
      assert.equal(nm.status, 304);
      assert.equal(nm.headers.etag, etag);
      assert.equal((await req('/media/big.bin', { headers: { 'If-Modified-Since': new Date(Date.now() + 86_400_000).toUTCString() } })).status, 304);
    });
  });

  describe('WebDAV', () => {
    it('PROPFIND Depth 0 and 1: sizes, dates, types and quota from the catalog, no upstream call', async () => {
      const before = upstreamCalls(f);
      const d0 = await req('/media/', { method: 'PROPFIND', headers: { Depth: '0' } });
      assert.equal(d0.status, 207);
      const x0 = d0.body.toString();
      assert.equal((x0.match(/<D:response>/g) ?? []).length, 1);
      assert.match(x0, /<D:collection\/>/);
      assert.match(x0, /quota-used-bytes xmlns:DAV="DAV:">\d+</);

      const d1 = await req('/media/', { method: 'PROPFIND', headers: { Depth: '1' } });
      assert.equal(d1.status, 207);
      const responses = d1.body.toString().split('<D:response>').slice(1);
      const byHref = new Map(responses.map((r) => [/<D:href>([^<]*)<\/D:href>/.exec(r)![1]!, r]));
      for (const [rel, file] of files) {
        if (!rel.startsWith('media/')) continue;
        const href = `${base}/media/${encodeURIComponent(sanitizeName(file.name!))}`;
        const r = byHref.get(href);
        assert.ok(r, `${href} listed (hrefs: ${[...byHref.keys()].join(' ')})`);
        assert.match(r, new RegExp(`<D:getcontentlength>${file.size}</D:getcontentlength>`));
        assert.match(r, new RegExp(`<D:getlastmodified>${new Date(file.date * 1000).toUTCString()}</D:getlastmodified>`));
        assert.match(r, new RegExp(`<D:getetag>"${file.docId}-${file.size}"</D:getetag>`));
      }
      // The thumbnail folder of clip.mp4, and nothing for the .jpg beside it.
      assert.ok(byHref.has(`${base}/media/.thumbnails/`));
      assert.equal(responses.length, 1 + 1 + 5);
      for (const href of byHref.keys()) assert.doesNotMatch(href.slice(base.length), /[#? ;]/, 'hrefs are %-encoded');
      assert.match(d1.body.toString(), /<D:displayname>weird #_;name.txt<\/D:displayname>/);
      assert.equal(upstreamCalls(f), before, 'no upstream call for a listing');
    });

    it('PROPFIND of the root lists the channels and .metadata_never_index; Depth infinity is refused', async () => {
      const r = await req('/', { method: 'PROPFIND', headers: { Depth: '1' } });
      assert.equal(r.status, 207);
      const xml = r.body.toString();
      for (const p of ['/media/', '/other/', '/.metadata_never_index']) assert.ok(xml.includes(`<D:href>${base}${p}</D:href>`), p);
      assert.equal((await req('/', { method: 'PROPFIND', headers: { Depth: 'infinity' } })).status, 403);
      const marker = await req('/.metadata_never_index');
      assert.equal(marker.status, 200);
      assert.equal(marker.body.length, 0);
    });

    it("Finder's ._* and .DS_Store probes: 404 with no upstream call", async () => {
      const before = upstreamCalls(f);
      for (const p of ['/._media', '/.DS_Store', '/media/.DS_Store', '/media/._big.bin', '/media/._.', '/media/.thumbnails/._clip.mp4.jpg']) {
        for (const method of ['GET', 'HEAD', 'PROPFIND']) assert.equal((await req(p, { method })).status, 404, `${method} ${p}`);
      }
      assert.equal(upstreamCalls(f), before);
    });

    it('OPTIONS: DAV and MS-Author-Via headers, read methods only, no authentication challenge', async () => {
      const r = await req('/media/big.bin', { method: 'OPTIONS' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.dav, '1,2');
      assert.equal(r.headers['ms-author-via'], 'DAV');
      assert.equal(r.headers['www-authenticate'], undefined);
      assert.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS: web pages must not read the files');
      assert.deepEqual(r.headers.allow!.split(',').sort(), ['GET', 'HEAD', 'LOCK', 'OPTIONS', 'PROPFIND', 'UNLOCK']);
    });

    it('writes are refused with 403, never 500; LOCK of an existing file works', async () => {
      for (const [method, path, body] of [
        ['PUT', '/media/new.txt', 'data'], ['PUT', '/media/big.bin', 'data'], ['DELETE', '/media/big.bin'], ['MKCOL', '/media/dir'],
        ['MOVE', '/media/big.bin'], ['COPY', '/media/big.bin'], ['PROPPATCH', '/media/big.bin', '<x/>'], ['POST', '/media/big.bin', 'x'],
        ['DELETE', '/media/'], ['PUT', '/new-channel/x', 'x'],
      ] as [string, string, string?][]) {
        const r = await req(path, { method, body, headers: method === 'MOVE' || method === 'COPY' ? { Destination: `${base}/media/moved.bin` } : {} });
        assert.equal(r.status, 403, `${method} ${path}`);
      }
      const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
      assert.equal((await req('/media/new-file.txt', { method: 'LOCK', body: lockBody })).status, 403);
      const lock = await req('/media/small.txt', { method: 'LOCK', body: lockBody });
      assert.equal(lock.status, 200);
      const token = lock.headers['lock-token']!;
      assert.ok(token);
      assert.equal((await req('/media/small.txt', { method: 'UNLOCK', headers: { 'Lock-Token': `<${token}>` } })).status, 204);
    });

    it('paths with .., an encoded / or \\, NUL or a bad escape: 400; missing ones 404', async () => {
      for (const p of ['/media/../media/big.bin', '/media/%2e%2e/media/big.bin', '/media%2Fbig.bin', '/media/big%2F.bin', '/media/a%5Cb', '/media/big.bin%00', '/media/%E0%A4%A', '/./media/big.bin']) {
        for (const method of ['GET', 'PROPFIND']) assert.equal((await raw(p, method)).status, 400, `${method} ${p}`);
      }
      assert.equal((await raw('/media/nope.bin')).status, 404);
      assert.equal((await raw('/nope/')).status, 404);
      assert.equal((await raw('/media/big.bin/x')).status, 404);
      assert.equal((await raw('/media/big.bin?x=1')).status, 200);
    });

    it('GET of a folder: a small HTML index', async () => {
      const r = await req('/media/');
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type']!, /^text\/html/);
      assert.ok(r.body.toString().includes('href="weird%20%23_%3Bname.txt"'));
    });
  });

  describe('/stream, /thumb, /healthz, /metrics', () => {
    it('/stream/<channel>/<msgId> with the same range rules', async () => {
      const id = files.get(BIG)!.msgId;
      const r = await req(`/stream/${media}/${id}`, { headers: { Range: `bytes=${MiB - 3}-${MiB + 3}` } });
      assert.equal(r.status, 206);
      assert.ok(r.body.equals(src(BIG).subarray(MiB - 3, MiB + 4)));
      assert.match(r.headers['content-disposition']!, /^inline; filename="big.bin"/);
      assert.equal((await req(`/stream/${media}/${id}`, { headers: { Range: `bytes=${BIG_SIZE}-` } })).status, 416);
      const whole = await req(`/stream/${media}/${files.get('media/small.txt')!.msgId}`);
      assert.ok(whole.body.equals(src('media/small.txt')));
      assert.equal((await req(`/stream/${media}/999`)).status, 404);
      assert.equal((await req(`/stream/-1009999999999/1`)).status, 404);
      assert.equal((await req(`/stream/${media}/${id}`, { method: 'PUT', body: 'x' })).status, 405);
    });

    it('/thumb/<channel>/<msgId>: the JPEG beside the video, ranges too; 404 without one', async () => {
      const clip = files.get('media/clip.mp4')!;
      const r = await req(`/thumb/${media}/${clip.msgId}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'image/jpeg');
      assert.ok(r.body.equals(JPEG));
      const part = await req(`/thumb/${media}/${clip.msgId}`, { headers: { Range: 'bytes=-2' } });
      assert.equal(part.status, 206);
      assert.ok(part.body.equals(JPEG.subarray(-2)));
      const dav = await req('/media/.thumbnails/clip.mp4.jpg');
      assert.ok(dav.body.equals(JPEG));
      assert.equal((await req(`/thumb/${media}/${files.get(BIG)!.msgId}`)).status, 404);
    });

    it('/healthz and /metrics', async () => {
      const h = await req('/healthz');
      assert.equal(h.status, 200);
      assert.equal(JSON.parse(h.body.toString()).ready, true);
      const m = await req('/metrics');
      assert.equal(m.status, 200);
      const text = m.body.toString();
      assert.match(text, /^# HELP /);
      assert.match(text, /^# TYPE tgvfs_http_bytes_served_total counter$/m);
      assert.match(text, /^tgvfs_http_open_streams 0$/m);
      const served = Number(/^tgvfs_http_bytes_served_total (\d+)$/m.exec(text)?.[1]);
      assert.ok(served > BIG_SIZE, `bytes served ${served}`);
    });
  });

  describe('clients that go away', () => {
    it('a client that disconnects mid-GET stops the stream: openReaders back to 0, getFile calls stop', async () => {
      const check = new SparseChecker(stampsOf(HUGE, HUGE_SIZE), 0);
      let received = 0;
      const ledger = await upstreamLedger(pool, f.emu);
      const r = http.get({ host: '127.0.0.1', port, path: '/media/huge.bin' });
      await new Promise<void>((resolve, reject) => {
        r.on('error', reject);
        r.on('response', (res) => {
          assert.equal(res.statusCode, 200);
          res.on('data', (c: Buffer) => {
            check.check(c);
            received += c.length;
            // Stop reading after a few MiB; the server's writes then block on a full socket.
            if (received >= 4 * MiB) {
              res.pause();
              resolve();
            }
          });
        });
      });
      assert.equal(pool.engine.stats().openReaders, 1);
      r.destroy();
      await until(() => pool.engine.stats().openReaders === 0, 5000, () => JSON.stringify(pool.engine.stats()));
      await until(() => pool.engine.stats().blocksInFlight === 0 && pool.engine.stats().partsRunning === 0, 5000, () => JSON.stringify(pool.engine.stats()));
      // Requests already on the wire still land; then every getFile the emulator served is one the
      // pool had answered, and the engine holds no reader, part or block that could ask for more.
      const calls = await ledger.settled();
      assert.equal(ledger.answered(), calls, 'no getFile outstanding after the client left');
      ledger.close();
      assert.ok(pool.engine.stats().fetchedBytes < 64 * MiB, `fetched ${pool.engine.stats().fetchedBytes} of a 256 MiB file`);
      const m = await req('/metrics');
      assert.match(m.body.toString(), /^tgvfs_http_open_streams 0$/m);
    });

    it('a multipart GET abandoned mid-way also releases its reader', async () => {
      const r = http.get({ host: '127.0.0.1', port, path: '/media/huge.bin', headers: { Range: `bytes=0-9,${100 * MiB}-${200 * MiB}` } });
      await new Promise<void>((resolve, reject) => {
        r.on('error', reject);
        let got = 0;
        r.on('response', (res) => res.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= 2 * MiB) {
            res.pause();
            resolve();
          }
        }));
      });
      r.destroy();
      await until(() => pool.engine.stats().openReaders === 0, 5000, () => JSON.stringify(pool.engine.stats()));
    });
  });
});
