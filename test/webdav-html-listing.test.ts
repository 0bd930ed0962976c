// The HTML listing browsers get for a folder (src/webdav/html-listing.ts): escaping of names in
// text and hrefs, sizes, dates, order, thumbnails only where they exist, relative links that work
// with and without the folder's trailing `/`; then over HTTP (startServer on the emulator): the
// Accept negotiation that keeps WebDAV clients on the bare index, HEAD, `.thumbnails/`, and no
// upstream call for any listing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import {
  acceptsHtml,
  escapeHtml,
  humanSize,
  listingDate,
  renderHtmlListing,
  renderPlainIndex,
  sortEntries,
} from '../src/webdav/html-listing';
import type { VfsDirEntry, VfsStat } from '../src/vfs/vfs';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { callsBetween } from './helpers/webdav-fixture';

const CH = -1001234567890;

function file(name: string, size: number, msgId: number, mimeType = 'application/octet-stream', date = Date.UTC(2024, 4, 1, 13, 45, 30)): VfsDirEntry {
  const stat: VfsStat = { name, type: 'file', kind: 'file', size, mtimeMs: date, mimeType, version: `d${msgId}-${size}`, channel: CH, msgId };
  return { name, stat };
}

function folder(name: string, kind: VfsStat['kind'] = 'channel'): VfsDirEntry {
  return { name, stat: { name, type: 'directory', kind, size: 0, mtimeMs: Date.UTC(2023, 0, 2, 3, 4), mimeType: 'inode/directory', version: null, channel: CH } };
}

/** The `<a href>` of every row, in order (attribute values un-escaped). */
function hrefs(html: string): string[] {
  return [...html.matchAll(/<td class="n"><a href="([^"]*)"/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))));
}

function imgSrcs(html: string): string[] {
  return [...html.matchAll(/<img [^>]*src="([^"]*)"/g)].map((m) => m[1]!);
}

describe('HTML listing', () => {
  it('acceptsHtml: browsers yes, WebDAV clients and curl no', () => {
    assert.equal(acceptsHtml('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8'), true);
    assert.equal(acceptsHtml('application/xhtml+xml'), true);
    assert.equal(acceptsHtml('TEXT/HTML; charset=utf-8'), true);
    assert.equal(acceptsHtml('*/*'), false);
    assert.equal(acceptsHtml(undefined), false);
    assert.equal(acceptsHtml(''), false);
    assert.equal(acceptsHtml('text/html;q=0, */*'), false);
    assert.equal(acceptsHtml('text/htmlx'), false);
    assert.equal(acceptsHtml('text/plain, text/html;q=0.1'), true);
  });

  it('humanSize: binary units, at most 3 significant digits, never "1024 KiB"', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(1023), '1023 B');
    assert.equal(humanSize(1024), '1.0 KiB');
    assert.equal(humanSize(1536), '1.5 KiB');
    assert.equal(humanSize(10 * 1024), '10 KiB');
    assert.equal(humanSize(1024 * 1024 - 1), '1.0 MiB');
    assert.equal(humanSize(5 * 1024 * 1024 * 1024 + 300 * 1024 * 1024), '5.3 GiB');
    assert.equal(humanSize(123_456_789), '118 MiB');
  });

  it('names with <, &, ", #, ?, %, spaces and non-ASCII: escaped in text, %-encoded in hrefs', () => {
    const nasty = ['a <b> & "c".txt', 'what#is?this 100%.bin', 'Żółw – ü.mp4', "it's.txt", 'javascript:alert(1)'];
    const html = renderHtmlListing({ segments: ['My <Channel> & co'], trailingSlash: true }, nasty.map((n, i) => file(n, 10, i + 1)));
    for (const n of nasty) {
      assert.ok(html.includes(`>${escapeHtml(n)}</a>`), `text of ${n}`);
      assert.ok(hrefs(html).includes(encodeURIComponent(n)), `href of ${n}`);
    }
    // Nothing of a name survives unescaped: no raw markup, no raw quote inside an attribute.
    assert.ok(!html.includes('<b>'));
    assert.ok(!html.includes('& "'));
    for (const h of hrefs(html)) assert.doesNotMatch(h, /[#?\s<>"&]/, `href ${h} has a character that must be %-encoded`);
    assert.ok(!html.includes('href="javascript:'), 'a name never becomes a scheme');
    assert.match(html, /<title>\/My &#60;Channel&#62; &#38; co\/ - tgvfs<\/title>/);
    assert.match(html, /<h1>\/My &#60;Channel&#62; &#38; co\/<\/h1>/);
  });

  it('sizes with exact bytes in a title, dates in UTC, folders with a trailing /', () => {
    const html = renderHtmlListing({ segments: ['ch'], trailingSlash: true }, [file('big.bin', 3_000_000, 1), folder('.thumbnails', 'thumbnails')]);
    assert.match(html, /<td class="s" title="3000000 bytes">2\.9 MiB<\/td>/);
    assert.match(html, /<time datetime="2024-05-01T13:45:30\.000Z">2024-05-01 13:45 UTC<\/time>/);
    assert.match(html, /<a href="\.thumbnails\/">\.thumbnails\/<\/a><\/td><td class="s">-<\/td>/);
    assert.equal(listingDate(0), '1970-01-01 00:00 UTC');
    assert.match(html, /<footer>1 folder, 1 file, 2\.9 MiB<\/footer>/);
  });

  it('folders first, then natural name order', () => {
    const sorted = sortEntries([file('ep10.mp4', 1, 1), folder('zeta'), file('Ep2.mp4', 1, 2), file('ep1.mp4', 1, 3), folder('Alpha'), file('b', 1, 4), file('B', 1, 5)]);
    // Case-insensitive and numeric; code-point order between names equal ignoring case.
    assert.deepEqual(sorted.map((e) => e.name), ['Alpha', 'zeta', 'B', 'b', 'ep1.mp4', 'Ep2.mp4', 'ep10.mp4']);
    const html = renderHtmlListing({ segments: ['ch'], trailingSlash: true }, [file('z.txt', 1, 1), folder('.thumbnails', 'thumbnails'), file('a.txt', 1, 2)]);
    assert.deepEqual(hrefs(html), ['../', '.thumbnails/', 'a.txt', 'z.txt']);
  });

  it('a thumbnail img only for files that have one, lazy, relative to /thumb/<channel>/<msgId>', () => {
    const entries = [file('with.mp4', 100, 7, 'video/mp4'), file('without.mp4', 100, 8, 'video/mp4'), file('doc.pdf', 5, 9, 'application/pdf')];
    const html = renderHtmlListing({ segments: ['ch'], trailingSlash: true }, entries, { thumbnails: new Set([7]) });
    assert.deepEqual(imgSrcs(html), [`../thumb/${CH}/7`]);
    assert.match(html, /<img loading="lazy" alt="" src="\.\.\/thumb\/-1001234567890\/7">/);
    assert.equal(imgSrcs(renderHtmlListing({ segments: ['ch'], trailingSlash: true }, entries)).length, 0, 'no thumbnails known: none shown');
    // The link that plays a video is its plain URL, typed.
    assert.match(html, /<a href="with\.mp4" type="video\/mp4">with\.mp4<\/a>/);
    // Inside .thumbnails/ every file is a thumbnail: each shows itself.
    const thumbs = [{ name: 'with.mp4.jpg', stat: { ...file('with.mp4.jpg', 900, 7, 'image/jpeg').stat, kind: 'thumbnail' as const } }];
    assert.deepEqual(imgSrcs(renderHtmlListing({ segments: ['ch', '.thumbnails'], trailingSlash: true }, thumbs)), [`../../thumb/${CH}/7`]);
  });

  it('relative links work with and without the trailing /; the root has no parent link', () => {
    const entries = [file('a b.txt', 1, 1)];
    const slash = renderHtmlListing({ segments: ['my ch'], trailingSlash: true }, entries, { thumbnails: new Set([1]) });
    const bare = renderHtmlListing({ segments: ['my ch'], trailingSlash: false }, entries, { thumbnails: new Set([1]) });
    const resolve = (doc: string, href: string): string => new URL(href, `http://h${doc}`).pathname;
    assert.deepEqual(hrefs(slash).map((h) => resolve('/my%20ch/', h)), ['/', '/my%20ch/a%20b.txt']);
    assert.deepEqual(hrefs(bare).map((h) => resolve('/my%20ch', h)), ['/', '/my%20ch/a%20b.txt']);
    assert.equal(resolve('/my%20ch/', imgSrcs(slash)[0]!), `/thumb/${CH}/1`);
    assert.equal(resolve('/my%20ch', imgSrcs(bare)[0]!), `/thumb/${CH}/1`);
    const root = renderHtmlListing({ segments: [], trailingSlash: true }, [folder('videos')]);
    assert.deepEqual(hrefs(root), ['videos/']);
    assert.match(root, /<h1>\/<\/h1>/);
  });

  it('self-contained: no script, no external resource', () => {
    const html = renderHtmlListing({ segments: ['ch'], trailingSlash: true }, [file('x.mp4', 1, 1, 'video/mp4')], { thumbnails: new Set([1]) });
    assert.ok(!/<script|<link|@import|url\(/i.test(html));
    assert.ok(!/(src|href)="(https?:)?\/\//i.test(html));
  });

  it('the bare index for other clients is unchanged', () => {
    const entries = [folder('sub'), file('a&b.txt', 12, 1)];
    assert.equal(
      renderPlainIndex('/ch', entries),
      '<!doctype html>\n<meta charset="utf-8"><title>/ch/</title>\n<h1>/ch/</h1>\n<table>\n' +
      '<tr><td><a href="sub/">sub/</a></td><td>-</td><td>2023-01-02T03:04:00.000Z</td></tr>\n' +
      '<tr><td><a href="a%26b.txt">a&#38;b.txt</a></td><td>12</td><td>2024-05-01T13:45:30.000Z</td></tr>\n</table>\n',
    );
  });
});

describe('HTML listing over HTTP (startServer on the emulator)', () => {
  let f: EmulatorFixture;
  let s: RunningServer;
  // A minimal JPEG header (SOI + SOF0 of 40×30): the emulator attaches `clip.jpg` to `clip.mp4`.
  const jpg = Buffer.from('ffd8' + 'ffc0000b08001e0028' + '01011100' + 'ffd9', 'hex');
  const html = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  before(async () => {
    f = await startFixture({ 'media/clip.mp4': 50_000, 'media/clip.jpg': jpg, 'media/a & b #2.txt': Buffer.from('ab'), 'other/x.bin': 10 });
    s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await s.indexed();
  });
  after(async () => {
    await s?.close();
    await f?.close();
  });

  it('Accept: text/html gets the page, with its headers; HEAD the same head; no upstream call', async () => {
    const before = f.emu.stats();
    const r = await fetch(`${s.url}/media/`, { headers: html });
    const body = await r.text();
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('vary'), 'Accept');
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'/);
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(body)));
    const { channel, msgId } = await s.vfs.stat(['media', 'clip.mp4']);
    assert.deepEqual(imgSrcs(body), [`../thumb/${channel}/${msgId}`]);
    assert.deepEqual(hrefs(body), ['../', '.thumbnails/', 'a%20%26%20b%20%232.txt', 'clip.mp4']);
    const h = await fetch(`${s.url}/media/`, { method: 'HEAD', headers: html });
    assert.equal(h.status, 200);
    assert.equal(await h.text(), '');
    for (const name of ['content-type', 'content-length', 'content-security-policy', 'vary']) assert.equal(h.headers.get(name), r.headers.get(name), name);
    assert.deepEqual(callsBetween(before, f.emu.stats()), {}, 'upstream calls for a listing');
  });

  it('every link of the page leads somewhere real: files, folders, the thumbnail', async () => {
    const body = await (await fetch(`${s.url}/media`, { headers: html })).text(); // no trailing slash
    const base = `${s.url}/media`;
    const urls = [...hrefs(body), ...imgSrcs(body)].map((h) => new URL(h, base).href);
    const { channel, msgId } = await s.vfs.stat(['media', 'clip.mp4']);
    assert.deepEqual(urls.map((u) => u.slice(s.url.length)), [
      '/', '/media/.thumbnails/', '/media/a%20%26%20b%20%232.txt', '/media/clip.mp4', `/thumb/${channel}/${msgId}`,
    ]);
    const got = await Promise.all(urls.map(async (u) => {
      const r = await fetch(u, { headers: { Range: 'bytes=0-1' } });
      return [r.status, Buffer.from(await r.arrayBuffer())] as const;
    }));
    assert.deepEqual(got.map(([st]) => st), [200, 200, 206, 206, 206]);
    assert.equal(got[2]![1].toString(), 'ab');
    assert.ok(got[3]![1].equals(f.files.get('media/clip.mp4')!.subarray(0, 2)));
    assert.ok(got[4]![1].equals(jpg.subarray(0, 2)));
  });

  it('.thumbnails/ shows each thumbnail as itself', async () => {
    const body = await (await fetch(`${s.url}/media/.thumbnails/`, { headers: html })).text();
    const { channel, msgId } = await s.vfs.stat(['media', 'clip.mp4']);
    assert.deepEqual(hrefs(body), ['../', 'clip.mp4.jpg']);
    assert.deepEqual(imgSrcs(body), [`../../thumb/${channel}/${msgId}`]);
    const img = await fetch(new URL(imgSrcs(body)[0]!, `${s.url}/media/.thumbnails/`));
    assert.ok(Buffer.from(await img.arrayBuffer()).equals(jpg));
  });

  it('without text/html in Accept (WebDAV clients, curl) the bare index stays as it was', async () => {
    for (const headers of [{}, { Accept: '*/*' }, { Accept: 'application/xml' }] as Record<string, string>[]) {
      const r = await fetch(`${s.url}/`, { headers });
      const body = await r.text();
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(r.headers.get('vary'), 'Accept');
      assert.equal(r.headers.get('content-security-policy'), null);
      assert.match(body, /^<!doctype html>\n<meta charset="utf-8"><title>\/<\/title>\n<h1>\/<\/h1>\n<table>\n/);
      // The Spotlight marker is part of the bare index (it hides only from the page for people).
      assert.deepEqual(hrefs2(body), ['.metadata_never_index', 'media/', 'other/']);
    }
    const page = await (await fetch(`${s.url}/`, { headers: html })).text();
    assert.deepEqual(hrefs(page), ['media/', 'other/']);
  });
});

/** Hrefs of the bare index's rows. */
function hrefs2(body: string): string[] {
  return [...body.matchAll(/<tr><td><a href="([^"]*)"/g)].map((m) => m[1]!);
}
