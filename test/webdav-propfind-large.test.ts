// PROPFIND Depth 1 of a large folder (issue 14): streamed from the folder index in chunks with
// backpressure, each entry's stat made as its XML is written, so the server's memory does not grow
// with the folder. The client here counts responses as the bytes arrive and keeps none of them.
// Size via TGVFS_LARGE_FOLDER_FILES (default 20,000; the figures are at 100,000).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Vfs } from '../src/vfs/vfs';
import { createHttpFrontEnd, type HttpFrontEnd } from '../src/webdav/http-server';
import { SYNTHETIC_CHANNEL, syntheticFiles } from './helpers/synthetic-mount';
import { FakeFileSource, MemoryCatalog } from './helpers/vfs-memory';

const COUNT = Number(process.env.TGVFS_LARGE_FOLDER_FILES ?? 20_000);
const END_TAG = '</D:response>';

interface Counted {
  status: number;
  responses: number;
  bytes: number;
  tail: string;
  chunked: boolean;
}

/** PROPFIND Depth 1, counting `</D:response>` across chunk boundaries without keeping the body. */
function propfindCount(port: number, path: string): Promise<Counted> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'PROPFIND', headers: { Depth: '1' } }, (res) => {
      const out: Counted = { status: res.statusCode ?? 0, responses: 0, bytes: 0, tail: '', chunked: res.headers['transfer-encoding'] === 'chunked' };
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        out.bytes += Buffer.byteLength(s);
        const text = carry + s;
        for (let i = text.indexOf(END_TAG); i !== -1; i = text.indexOf(END_TAG, i + END_TAG.length)) out.responses++;
        carry = text.slice(-(END_TAG.length - 1));
        out.tail = text.slice(-400);
      });
      res.on('end', () => resolve(out));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('PROPFIND timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe(`PROPFIND Depth 1 of a ${COUNT}-file folder`, { timeout: 120_000 }, () => {
  let front: HttpFrontEnd;
  let port: number;
  let vfs: Vfs;

  before(async () => {
    const catalog = new MemoryCatalog([{ id: -1001, name: SYNTHETIC_CHANNEL }], syntheticFiles(COUNT));
    vfs = new Vfs(catalog, new FakeFileSource());
    front = createHttpFrontEnd({ vfs });
    port = (await front.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await front?.close();
    vfs?.close();
  });

  it('streams every entry with RSS growth far below the size of the answer', async () => {
    await propfindCount(port, `/${SYNTHETIC_CHANNEL}/`); // builds the index and warms the code
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const t0 = performance.now();
    let r: Counted;
    try {
      r = await propfindCount(port, `/${SYNTHETIC_CHANNEL}/`);
    } finally {
      clearInterval(timer);
    }
    const ms = performance.now() - t0;
    const growth = Math.max(peak, process.memoryUsage().rss) - base;
    process.stdout.write(`# ${COUNT} files: PROPFIND ${(r.bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms, RSS growth ${(growth / 1e6).toFixed(1)} MB\n`);
    assert.equal(r.status, 207);
    assert.equal(r.chunked, true, 'sent as it is written, not as one buffer with a length');
    assert.equal(r.responses, COUNT + 1, 'the folder itself and each of its files');
    const last = COUNT % 100 === 0 ? `Clip (${COUNT}).MP4` : `Holiday Video ${String(COUNT).padStart(6, '0')}.mp4`;
    assert.ok(r.tail.includes(`<D:displayname>${last}</D:displayname>`) && r.tail.endsWith('</D:multistatus>'), r.tail);
    // The answer is ~0.8 kB per file; the memory it may cost is bounded whatever the folder's size.
    assert.ok(growth < Math.min(100e6, 20e6 + r.bytes / 4), `RSS grew ${(growth / 1e6).toFixed(1)} MB for ${(r.bytes / 1e6).toFixed(1)} MB of XML`);
  });
});
