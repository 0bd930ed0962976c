// Our PROPFIND (src/webdav/propfind.ts) against the answer webdav-server gave before it: the same
// front-end's `dav` serves as the reference on a second port, and both multistatus answers are
// parsed (namespaces resolved) and compared property by property, for a file, a folder and the
// root, each request body kind and Depth 0/1/none. Then what only ours does: 400 on malformed
// bodies, 404 propstats for unknown properties, the finite-depth precondition, hrefs of awkward
// names that GET back to the same bytes and ETag, locks handed back to webdav-server, and a
// 10,000-file folder streamed from the VFS's name index with no upstream call (emulator stats) and
// no second read of the catalog (its own counts); how fast: bench/webdav-propfind.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { xml2js, type Element } from 'xml-js';
import { poolFileSource } from '../src/app/server';
import type { CatalogFile } from '../src/catalog/types';
import { StreamEngine } from '../src/stream/stream-engine';
import { WorkerPool } from '../src/telegram/worker-pool';
import { Vfs } from '../src/vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../src/webdav/http-server';
import { channelId } from './helpers/emulator-fixture';
import { startStreamFixture, type StreamFixture } from './helpers/stream-fixture';
import { MemoryCatalog, catalogFile } from './helpers/vfs-memory';

/** 160×90 baseline JPEG header and end marker: enough for the emulator to read its size. */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x5a, 0x00, 0xa0, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
const AWKWARD = 'a &<>"#?%;+ é 日本 ü.txt';
const REAL: Record<string, Buffer | number> = {
  'docs/plain.txt': Buffer.from('plain\n'),
  [`docs/${AWKWARD}`]: Buffer.from('awkward bytes\n'),
  'docs/100% #1.bin': 5000,
  'docs/clip.mp4': 20_000,
  'docs/clip.jpg': JPEG,
};
const BIG_ID = -1009999999999;
const BIG_COUNT = 10_000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** One resource of a multistatus: property values by `{ns}name`, per propstat status. */
interface Resource {
  ok: Map<string, string>;
  missing: Set<string>;
}

type NsScope = ReadonlyMap<string, string>;

function qname(el: Element, scope: NsScope): { key: string; scope: NsScope } {
  let inner = scope;
  for (const [k, v] of Object.entries(el.attributes ?? {})) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      (inner as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), String(v));
    }
  }
  const name = el.name!;
  const i = name.indexOf(':');
  const ns = inner.get(i === -1 ? '' : name.slice(0, i)) ?? '';
  return { key: `{${ns}}${i === -1 ? name : name.slice(i + 1)}`, scope: inner };
}

/** An element's content as text: child elements as `{ns}name(…)`, text as is. */
function canonical(el: Element, scope: NsScope): string {
  return (el.elements ?? []).map((c) => {
    if (c.type === 'text') return String(c.text);
    if (c.type !== 'element') return '';
    const q = qname(c, scope);
    return `${q.key}(${canonical(c, q.scope)})`;
  }).join('');
}

function children(el: Element, scope: NsScope, key: string): { el: Element; scope: NsScope }[] {
  return (el.elements ?? []).filter((c) => c.type === 'element').map((c) => ({ el: c, ...qname(c, scope) })).filter((c) => c.key === key);
}

/** A multistatus by href path (the origin cut off, which differs between the two servers). */
function parseMultistatus(xml: string): Map<string, Resource> {
  const doc = xml2js(xml, { compact: false }) as Element;
  const root = doc.elements!.find((e) => e.type === 'element')!;
  const rq = qname(root, new Map());
  assert.equal(rq.key, '{DAV:}multistatus');
  const out = new Map<string, Resource>();
  for (const r of children(root, rq.scope, '{DAV:}response')) {
    const href = canonical(children(r.el, r.scope, '{DAV:}href')[0]!.el, r.scope).replace(/^http:\/\/[^/]*/, '');
    const res: Resource = { ok: new Map(), missing: new Set() };
    for (const ps of children(r.el, r.scope, '{DAV:}propstat')) {
      const status = canonical(children(ps.el, ps.scope, '{DAV:}status')[0]!.el, ps.scope);
      for (const prop of children(ps.el, ps.scope, '{DAV:}prop')) {
        for (const p of (prop.el.elements ?? []).filter((c) => c.type === 'element')) {
          const q = qname(p, prop.scope);
          if (status === 'HTTP/1.1 200 OK') res.ok.set(q.key, canonical(p, q.scope));
          else if (status === 'HTTP/1.1 404 Not Found') res.missing.add(q.key);
          else assert.fail(`unexpected propstat status ${status}`);
        }
      }
    }
    assert.ok(!out.has(href), `${href} listed once`);
    out.set(href, res);
  }
  return out;
}

async function request(port: number, path: string, headers: Record<string, string>, body?: string, method = 'PROPFIND'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A fresh connection per request: a pooled keep-alive socket the server closes for idleness
    // while a slow test runs would reset the next request (ECONNRESET), not a server fault.
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { ...headers, ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const BODIES: Record<string, string | undefined> = {
  'empty': undefined,
  'allprop': '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
  'propname': '<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>',
  'prop': '<?xml version="1.0"?><a:propfind xmlns:a="DAV:"><a:prop><a:getcontentlength/><a:getetag/><a:resourcetype/>' +
    '<a:getlastmodified/><a:displayname/><a:quota-used-bytes/><a:quota-available-bytes/><a:lockdiscovery/></a:prop></a:propfind>',
};

describe('PROPFIND answered from the VFS', () => {
  let f: StreamFixture;
  let pool: WorkerPool;
  let front: HttpFrontEnd;
  let catalog: MemoryCatalog;
  let reference: http.Server;
  let port: number;
  let refPort: number;

  const upstreamCalls = (): number => Object.values(f.emu.stats().calls).reduce((n, c) => n + c, 0);

  before(async () => {
    f = await startStreamFixture(REAL, {});
    pool = await WorkerPool.create({ ...f.emu.config });
    const files: CatalogFile[] = [];
    for (const rel of Object.keys(REAL).filter((r) => !r.endsWith('.jpg'))) {
      const channel = channelId(f, 'docs');
      const d = await pool.getDoc(channel, f.msgId(rel));
      files.push({ channel, msgId: d.msgId, docId: d.id, size: d.size, mimeType: d.mimeType, name: d.name, date: d.date, thumbs: d.thumbs });
    }
    for (let i = 1; i <= BIG_COUNT; i++) files.push(catalogFile(BIG_ID, i, { name: `episode ${i} & “more”.mp4`, size: 1_000_000 + i }));
    catalog = new MemoryCatalog([...f.emu.config.channels.map((c) => ({ id: c.id, name: c.name })), { id: BIG_ID, name: 'big' }], files);
    front = createHttpFrontEnd({ vfs: new Vfs(catalog, poolFileSource(pool, new StreamEngine(pool))) });
    port = (await front.listen('127.0.0.1', 0)).port;
    // webdav-server as it answered every PROPFIND before propfind.ts.
    reference = http.createServer((req, res) => {
      if (req.headers.depth === undefined) req.headers.depth = '1';
      front.dav.executeRequest(req, res);
    });
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    refPort = (reference.address() as { port: number }).port;
  });

  after(async () => {
    if (reference) await new Promise<void>((resolve) => reference.close(() => resolve()));
    await front?.close();
    await pool?.close();
    await f?.close();
  });

  it('matches webdav-server property by property: file, folder, root, each body kind, Depth 0, 1 and none', async () => {
    const before = upstreamCalls();
    const awkward = `/docs/${encodeURIComponent(AWKWARD.replace(/[<>"?]/g, '_'))}`;
    let compared = 0;
    for (const path of ['/', '/docs/', '/docs', awkward, '/docs/clip.mp4', '/docs/.thumbnails/', '/.metadata_never_index']) {
      for (const depth of ['0', '1', undefined]) {
        for (const [kind, body] of Object.entries(BODIES)) {
          const headers: Record<string, string> = depth === undefined ? {} : { Depth: depth };
          const what = `${kind} ${path} Depth ${depth ?? 'none'}`;
          const [ours, theirs] = [await request(port, path, headers, body), await request(refPort, path, headers, body)];
          assert.equal(ours.status, 207, what);
          assert.equal(theirs.status, 207, what);
          assert.equal(ours.headers['content-type'], theirs.headers['content-type'], what);
          for (const h of ['dav', 'ms-author-via', 'allow', 'server']) assert.equal(ours.headers[h], theirs.headers[h], `${what}: ${h}`);
          const [a, b] = [parseMultistatus(ours.text), parseMultistatus(theirs.text)];
          assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same hrefs`);
          for (const [href, r] of a) {
            assert.deepEqual(r.ok, b.get(href)!.ok, `${what}: properties of ${href}`);
            assert.deepEqual(r.missing, b.get(href)!.missing, `${what}: 404 of ${href}`);
          }
          compared += a.size;
        }
      }
    }
    assert.ok(compared > 100, `${compared} responses compared`);
    assert.equal(upstreamCalls(), before, 'no upstream call for any listing');
  });

  it('allprop of a folder: quota pair, collection, trailing-slash hrefs; of a file: the ETag GET sends', async () => {
    const r = await request(port, '/docs/', { Depth: '1' });
    assert.equal(r.status, 207);
    const ms = parseMultistatus(r.text);
    const self = ms.get('/docs/')!;
    assert.equal(self.ok.get('{DAV:}resourcetype'), '{DAV:}collection()');
    assert.equal(self.ok.get('{DAV:}quota-available-bytes'), '0');
    assert.equal(self.ok.get('{DAV:}quota-used-bytes'), String(6 + 14 + 5000 + 20_000));
    assert.ok(ms.has('/docs/.thumbnails/'));
    assert.equal(ms.size, 1 + 4 + 1);
    for (const [href, res] of ms) {
      if (href.endsWith('/')) continue;
      const get = await fetch(`http://127.0.0.1:${port}${href}`);
      const bytes = Buffer.from(await get.arrayBuffer());
      assert.equal(get.status, 200, href);
      assert.equal(get.headers.get('etag'), res.ok.get('{DAV:}getetag'), `${href}: ETag`);
      assert.equal(String(bytes.length), res.ok.get('{DAV:}getcontentlength'), href);
      assert.equal(get.headers.get('last-modified'), res.ok.get('{DAV:}getlastmodified'), href);
    }
    // The awkward name: %-encoded in the href (no raw #, ?, ;, space), XML-escaped in displayname.
    const shown = AWKWARD.replace(/[<>"?]/g, '_');
    const href = `/docs/${encodeURIComponent(shown)}`;
    assert.ok(r.text.includes(`/docs/a%20%26___%23_%25%3B%2B%20%C3%A9%20%E6%97%A5%E6%9C%AC%20%C3%BC.txt</D:href>`), 'href exactly as encodeURIComponent per segment');
    assert.equal(ms.get(href)!.ok.get('{DAV:}displayname'), shown);
    assert.ok(r.text.includes('<D:displayname>a &amp;___#_%;+ é 日本 ü.txt</D:displayname>'));
    assert.equal(await (await fetch(`http://127.0.0.1:${port}${href}`)).text(), 'awkward bytes\n');
  });

  it('prop: known values in a 200 propstat, unknown ones (any namespace) in a 404 propstat', async () => {
    const body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:z="urn:z&amp;x"><D:prop><D:getcontentlength/><z:color/>' +
      '<D:quota-used-bytes/><plain xmlns=""/><D:getcontenttype/></D:prop></D:propfind>';
    const r = await request(port, '/docs/plain.txt', { Depth: '0' }, body);
    assert.equal(r.status, 207);
    const res = parseMultistatus(r.text).get('/docs/plain.txt')!;
    assert.deepEqual([...res.ok], [['{DAV:}getcontentlength', '6'], ['{DAV:}getcontenttype', 'text/plain']]);
    assert.deepEqual([...res.missing].sort(), ['{DAV:}quota-used-bytes', '{urn:z&x}color', '{}plain']);
    // Only missing properties: a 404 propstat and no empty 200 one.
    const none = await request(port, '/docs/', { Depth: '0' }, '<propfind xmlns="DAV:"><prop><nothing/></prop></propfind>');
    assert.equal(none.status, 207);
    assert.doesNotMatch(none.text, /200 OK/);
    assert.deepEqual([...parseMultistatus(none.text).get('/docs/')!.missing], ['{DAV:}nothing']);
  });

  it('malformed or foreign bodies: 400, nothing listed', async () => {
    for (const body of ['<propfind', '<D:propfind xmlns:D="DAV:"><D:prop></D:propfind>', '<x:propfind xmlns:x="urn:x"><x:allprop/></x:propfind>',
      '<propfind xmlns="DAV:"/>', '<D:propfind><D:allprop/></D:propfind>', 'not xml at all', '<a/><b/>']) {
      const r = await request(port, '/docs/', { Depth: '1' }, body);
      assert.equal(r.status, 400, body);
      assert.doesNotMatch(r.text, /plain\.txt/, body);
    }
    // Whitespace only is an empty body: allprop.
    assert.equal((await request(port, '/docs/', { Depth: '0' }, ' \r\n')).status, 207);
  });

  it('a chunked body (no Content-Length) over the 1 MiB limit: 413; under it: parsed', async () => {
    const send = (body: string): Promise<number> => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/docs/', method: 'PROPFIND', headers: { Depth: '0' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
      req.end();
    });
    const padded = (n: number): string => `<propfind xmlns="DAV:"><allprop/>${' '.repeat(n)}</propfind>`;
    assert.equal(await send(padded(1100 * 1024)), 413);
    assert.equal(await send(padded(900 * 1024)), 207);
  });

  it('Depth infinity: 403 with DAV:propfind-finite-depth; a missing Depth reads as 1', async () => {
    for (const depth of ['infinity', 'Infinity']) {
      const r = await request(port, '/docs/', { Depth: depth });
      assert.equal(r.status, 403);
      const doc = xml2js(r.text, { compact: false }) as Element;
      const root = doc.elements![0]!;
      assert.equal(qname(root, new Map()).key, '{DAV:}error');
      assert.equal(qname(root.elements![0]!, qname(root, new Map()).scope).key, '{DAV:}propfind-finite-depth');
    }
    const none = await request(port, '/docs/', {});
    assert.deepEqual([...parseMultistatus(none.text).keys()].sort(), [...parseMultistatus((await request(port, '/docs/', { Depth: '1' })).text).keys()].sort());
  });

  it('missing paths and Finder probes: 404; a file below a file: 404', async () => {
    const before = upstreamCalls();
    for (const p of ['/nope/', '/docs/nope.txt', '/docs/plain.txt/x', '/._docs', '/docs/.DS_Store', '/docs/._plain.txt']) {
      for (const depth of ['0', '1']) assert.equal((await request(port, p, { Depth: depth })).status, 404, `${p} Depth ${depth}`);
    }
    assert.equal(upstreamCalls(), before);
  });

  it('a lock shows in lockdiscovery (webdav-server answers near it); after UNLOCK ours answers again', async () => {
    const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>' +
      '<D:owner>tester</D:owner></D:lockinfo>';
    const lock = await request(port, '/docs/plain.txt', { Depth: '0', Timeout: 'Second-60' }, lockBody, 'LOCK');
    assert.equal(lock.status, 200, lock.text);
    const token = lock.headers['lock-token']?.replace(/^<|>$/g, '');
    assert.ok(token, lock.headers['lock-token']);
    try {
      for (const [path, depth] of [['/docs/plain.txt', '0'], ['/docs/', '1']] as const) {
        const r = await request(port, path, { Depth: depth });
        assert.equal(r.status, 207);
        const discovery = parseMultistatus(r.text).get('/docs/plain.txt')!.ok.get('{DAV:}lockdiscovery')!;
        assert.match(discovery, /\{DAV:\}activelock\(.*\{DAV:\}exclusive\(\).*tester/, `${path}: ${discovery}`);
        assert.ok(discovery.includes(token), `${path}: ${discovery}`);
      }
      assert.equal(parseMultistatus((await request(port, '/docs/clip.mp4', { Depth: '0' })).text).get('/docs/clip.mp4')!.ok.get('{DAV:}lockdiscovery'), '');
    } finally {
      assert.equal((await request(port, '/docs/plain.txt', { 'Lock-Token': `<${token}>` }, undefined, 'UNLOCK')).status, 204);
    }
    const r = await request(port, '/docs/', { Depth: '1' });
    assert.equal(parseMultistatus(r.text).get('/docs/plain.txt')!.ok.get('{DAV:}lockdiscovery'), '');
  });

  it(`Depth 1 of ${BIG_COUNT.toLocaleString('en')} files: streamed from the name index, no upstream call, no catalog re-read`, async () => {
    const before = upstreamCalls();
    await request(port, '/big/', { Depth: '1' }); // warm-up: the catalog's first look at the channel
    const reads = { ...catalog.calls };
    const r = await request(port, '/big/', { Depth: '1' });
    assert.equal(r.status, 207);
    assert.equal(r.headers['content-length'], undefined, 'written in chunks, not as one buffer');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    const ms1 = parseMultistatus(r.text);
    assert.equal(ms1.size, BIG_COUNT + 1);
    const last = ms1.get(`/big/${encodeURIComponent(`episode ${BIG_COUNT} & “more”.mp4`)}`)!;
    assert.equal(last.ok.get('{DAV:}getcontentlength'), String(1_000_000 + BIG_COUNT));
    assert.equal(last.ok.get('{DAV:}getetag'), `"${1000 + BIG_COUNT}-${1_000_000 + BIG_COUNT}"`);
    assert.deepEqual(catalog.calls, reads, 'the warm listing came from the name index the warm-up built: no catalog call');
    assert.equal(upstreamCalls(), before);
  });

  it('a client that hangs up mid-listing: the server stays up and answers the next request', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/big/', method: 'PROPFIND', headers: { Depth: '1' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    const r = await request(port, '/docs/', { Depth: '0' });
    assert.equal(r.status, 207);
  });
});
