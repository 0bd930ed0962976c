// The exact answers to GET/HEAD of the WebDAV tree: status line, every header line in order (only
// Date's value masked) and body. Two checks: literal pins for a file, a folder, a 404, a 400 and
// a Finder probe; and, for every tree path that passes http-server.ts's checks, equality with the
// answer of the same front-end's `dav.executeRequest` (webdav-server's dispatch: its own DAV,
// MS-Author-Via, Server and Allow headers around our handler), while the front-end itself routes
// GET/HEAD to our handler without webdav-server. Over raw sockets, so that nothing normalises the
// target.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Vfs } from '../src/vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../src/webdav/http-server';
import { rawRequest, requestText } from './helpers/raw-http';
import { catalogFile, FakeFileSource, MemoryCatalog } from './helpers/vfs-memory';

const DOCS = -1001000000001;
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

interface Answer {
  /** The status line, then each header line as sent; Date's value is `<date>`. */
  head: string[];
  body: string;
}

async function answer(port: number, method: string, target: string, extra: Record<string, string> = {}): Promise<Answer> {
  const r = await rawRequest(port, requestText(method, target, port, extra, 'localhost:8080'));
  const end = r.raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `a complete head for ${method} ${target}`);
  const head = r.raw.subarray(0, end).toString('latin1').split('\r\n').map((l) => (/^date:/i.test(l) ? 'Date: <date>' : l));
  return { head, body: r.body.toString('latin1') };
}

/** What webdav-server 2.6.3 added to every GET/HEAD answer it framed (Allow: a path that exists). */
const DAV_FOUND = ['DAV: 1,2', 'MS-Author-Via: DAV', 'Server: tgvfs/1', 'Allow: PROPFIND,OPTIONS,UNLOCK,LOCK,HEAD,GET'];
/** The same for a path that does not resolve. */
const DAV_MISSING = ['DAV: 1,2', 'MS-Author-Via: DAV', 'Server: tgvfs/1', 'Allow: OPTIONS,LOCK'];
const TAIL = ['Date: <date>', 'Connection: close'];
const NOSNIFF = 'X-Content-Type-Options: nosniff';

describe('GET/HEAD of the WebDAV tree: exact answers', () => {
  let front: HttpFrontEnd;
  let reference: http.Server;
  let port: number;
  let refPort: number;
  /** Requests webdav-server dispatched (its beforeRequest hooks run for each). */
  let davDispatches = 0;

  before(async () => {
    const catalog = new MemoryCatalog([{ id: DOCS, name: 'docs' }], [
      catalogFile(DOCS, 1, { name: 'a.txt', mimeType: 'text/plain', size: 10, date: 1_700_000_001 }),
      catalogFile(DOCS, 2, { name: 'b.bin', size: 0, date: 1_700_000_002 }),
    ]);
    const vfs = new Vfs(catalog, new FakeFileSource(), { now: () => NOW });
    front = createHttpFrontEnd({ vfs });
    port = (await front.listen('127.0.0.1', 0)).port;
    front.dav.beforeRequest((_ctx, next) => {
      davDispatches++;
      next();
    });
    // webdav-server's dispatch, as http-server.ts used it for GET/HEAD (after the access checks'
    // one header).
    reference = http.createServer((req, res) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      front.dav.executeRequest(req, res);
    });
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    refPort = (reference.address() as AddressInfo).port;
  });

  after(async () => {
    reference?.closeAllConnections();
    await new Promise((resolve) => reference?.close(resolve));
    await front?.close();
  });

  it('a file: GET and HEAD', async () => {
    const fileHead = [
      NOSNIFF, ...DAV_FOUND,
      'Accept-Ranges: bytes', 'ETag: "1001-10"', 'Last-Modified: Tue, 14 Nov 2023 22:13:21 GMT',
      'Content-Type: text/plain', 'Content-Length: 10', ...TAIL,
    ];
    const get = await answer(port, 'GET', '/docs/a.txt');
    assert.deepEqual(get.head, ['HTTP/1.1 200 OK', ...fileHead]);
    assert.equal(get.body, '\u0001\u0008\u000f\u0016\u001d$+29@');
    assert.deepEqual(await answer(port, 'HEAD', '/docs/a.txt'), { head: ['HTTP/1.1 200 OK', ...fileHead], body: '' });
  });

  it('a folder: GET and HEAD', async () => {
    const folderHead = (length: number): string[] => [
      'HTTP/1.1 200 OK', NOSNIFF, ...DAV_FOUND, 'Content-Type: text/html; charset=utf-8', 'Vary: Accept', `Content-Length: ${length}`, ...TAIL,
    ];
    const get = await answer(port, 'GET', '/docs/');
    assert.deepEqual(get.head, folderHead(get.body.length));
    assert.match(get.body, /a\.txt/);
    assert.deepEqual(await answer(port, 'HEAD', '/docs/'), { head: folderHead(get.body.length), body: '' });
  });

  it('a missing file: 404, with the Allow of a missing path', async () => {
    const notFound = (length: number): string[] => [
      'HTTP/1.1 404 Not Found', NOSNIFF, ...DAV_MISSING, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${length}`, ...TAIL,
    ];
    const get = await answer(port, 'GET', '/docs/nope.txt');
    assert.deepEqual(get.head, notFound(get.body.length));
    assert.match(get.body, /^404 /);
    assert.deepEqual(await answer(port, 'HEAD', '/docs/nope.txt'), { head: notFound(get.body.length), body: '' });
  });

  it('a path that can never be valid: 400 before any WebDAV framing', async () => {
    for (const target of ['/docs/%2e%2e/a.txt', '/docs/a%zz', '/docs/a%2Fb', '/docs/a%00']) {
      const get = await answer(port, 'GET', target);
      const head = ['HTTP/1.1 400 Bad Request', NOSNIFF, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${get.body.length}`, ...TAIL];
      assert.deepEqual(get.head, head, target);
      assert.match(get.body, /^400 /);
      assert.deepEqual(await answer(port, 'HEAD', target), { head, body: '' }, target);
    }
  });

  it("Finder's probes: 404 before any WebDAV framing", async () => {
    for (const target of ['/docs/.DS_Store', '/._docs', '/docs/._a.txt']) {
      const get = await answer(port, 'GET', target);
      const head = ['HTTP/1.1 404 Not Found', NOSNIFF, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${get.body.length}`, ...TAIL];
      assert.deepEqual(get.head, head, target);
      assert.deepEqual(await answer(port, 'HEAD', target), { head, body: '' }, target);
    }
  });

  it("every answer webdav-server framed is the same as its dispatch's, byte for byte", async () => {
    const cases: [string, Record<string, string>?][] = [
      ['/docs/a.txt'],
      ['/docs/a.txt?download=1'],
      [`http://localhost:8080/docs/a.txt`],
      ['/docs/b.bin'],
      ['/docs/a.txt', { Range: 'bytes=2-5' }],
      ['/docs/a.txt', { Range: 'bytes=0-1,4-5' }],
      ['/docs/a.txt', { Range: 'bytes=99-' }],
      ['/docs/a.txt', { 'If-None-Match': '"1001-10"' }],
      ['/docs/a.txt', { 'If-Match': '"other"' }],
      ['/docs/a.txt', { 'If-Range': '"other"', 'Range': 'bytes=0-1' }],
      ['/docs'],
      ['/docs/'],
      ['/docs/', { Accept: 'text/html' }],
      ['/'],
      ['/', { Accept: 'text/html,application/xhtml+xml' }],
      ['/.metadata_never_index'],
      ['/docs/nope.txt'],
      ['/nope/'],
      ['/nope/a.txt'],
      ['/docs/a.txt/x'],
      ['//docs///a.txt'],
      ['/docs/%61.txt'],
    ];
    for (const method of ['GET', 'HEAD']) {
      for (const [target, extra] of cases) {
        const dispatched = davDispatches;
        const ours = await answer(port, method, target, extra);
        assert.equal(davDispatches, dispatched, `${method} ${target}: routed to our handler, not through webdav-server`);
        const theirs = await answer(refPort, method, target, extra);
        assert.equal(davDispatches, dispatched + 1, `${method} ${target}: the reference went through webdav-server`);
        assert.deepEqual(ours, theirs, `${method} ${target} ${JSON.stringify(extra ?? {})}`);
        assert.ok(ours.head.includes('DAV: 1,2'), `${method} ${target}: framed`);
      }
    }
  });

  it("a target webdav-server cannot parse, on the methods it still answers: 400, and the server goes on", async () => {
    for (const method of ['OPTIONS', 'LOCK', 'UNLOCK']) {
      for (const target of ['http://a%/docs/a.txt', 'http://[x/docs/a.txt']) {
        const r = await answer(port, method, target);
        assert.equal(r.head[0], 'HTTP/1.1 400 Bad Request', `${method} ${target}`);
      }
    }
    const after = await answer(port, 'GET', '/docs/a.txt');
    assert.equal(after.head[0], 'HTTP/1.1 200 OK');
  });
});
