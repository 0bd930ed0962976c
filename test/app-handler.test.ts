// createHandler(config) inside a plain http.createServer against the emulator: one lazy start
// shared by concurrent first requests, exact ranges, PROPFIND; a second handler over the same
// sqlite store lists at once with no channels.getMessages; a failed start answers 503 in one line
// and a later request starts it; close() ends streams and later requests get 503.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import { createHandler, type TgvfsHandler } from '../src/index';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { eventually } from './helpers/eventually';

interface Mounted {
  url: string;
  handler: TgvfsHandler;
  server: http.Server;
  close(): Promise<void>;
}

/** The handler in a plain Node HTTP server on a free loopback port. */
async function mountHandler(handler: TgvfsHandler): Promise<Mounted> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handler,
    server,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function propfind(url: string): Promise<{ status: number; xml: string }> {
  const r = await fetch(url, { method: 'PROPFIND', headers: { Depth: '1' } });
  return { status: r.status, xml: await r.text() };
}

describe('createHandler', () => {
  let f: EmulatorFixture;
  let config: TgvfsConfig;

  before(async () => {
    f = await startFixture({ 'one/a.bin': MiB + 70_000, 'one/b.txt': Buffer.from('bee'), 'two/c.bin': 5000, 'two/big.bin': 24 * MiB });
    config = { ...f.emu.config, cache: `sqlite://${path.join(f.dir, 'handler-store.sqlite')}` };
  });
  after(async () => {
    await f?.close();
  });

  it('starts once on concurrent first requests, serves ranges and PROPFIND, and a second instance lists from the store alone', async () => {
    const logins = (): number => {
      const c = f.emu.stats().calls;
      return (c['auth.importBotAuthorization'] ?? 0) + (c['users.getUsers'] ?? 0);
    };
    const a = f.files.get('one/a.bin')!;
    const first = await mountHandler(createHandler(config));
    try {
      assert.equal(logins(), 0, 'nothing starts before the first request');
      // Five first requests at once: one start behind them all.
      const answers = await Promise.all([
        fetch(`${first.url}/healthz`),
        fetch(`${first.url}/stream/${channelId(f, 'one')}/1`, { headers: { Range: 'bytes=1048000-1048999' } }),
        fetch(`${first.url}/`, { method: 'PROPFIND', headers: { Depth: '1' } }),
        fetch(`${first.url}/metrics`),
        fetch(`${first.url}/healthz`),
      ]);
      assert.deepEqual(answers.map((r) => r.status), [200, 206, 207, 200, 200]);
      const range = Buffer.from(await answers[1]!.arrayBuffer());
      assert.ok(range.equals(a.subarray(1_048_000, 1_049_000)), 'exact bytes across the 1 MiB boundary');
      assert.match(await answers[2]!.text(), /\/one\/<\/D:href>/);
      assert.equal(logins(), config.bots.length, 'one login per bot');

      // The tree fills while indexing runs; then a range over WebDAV.
      await eventually(async () => {
        const { status, xml } = await propfind(`${first.url}/one/`);
        assert.equal(status, 207);
        assert.ok(xml.includes('/one/a.bin</D:href>') && xml.includes('/one/b.txt</D:href>'), xml);
      });
      const r = await fetch(`${first.url}/one/a.bin`, { headers: { Range: 'bytes=-70000' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get('content-range'), `bytes ${a.length - 70_000}-${a.length - 1}/${a.length}`);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(a.subarray(a.length - 70_000)));
      const metrics = await (await fetch(`${first.url}/metrics`)).text();
      assert.match(metrics, /^tgvfs_catalog_files\{channel="one"\} 2$/m);
      assert.match(metrics, /^tgvfs_bytes_served_total\{frontend="webdav"\} 70000$/m);
      assert.match(metrics, /^tgvfs_bytes_served_total\{frontend="stream"\} 1000$/m);
    } finally {
      await first.close();
    }

    const getMessages = (): number => f.emu.stats().calls['channels.getMessages'] ?? 0;
    const imports = (): number => f.emu.stats().calls['auth.importBotAuthorization'] ?? 0;
    const before = { getMessages: getMessages(), imports: imports() };
    const second = await mountHandler(createHandler(config));
    try {
      // Its very first request: the listing comes from the store.
      const one = await propfind(`${second.url}/one/`);
      assert.equal(one.status, 207);
      assert.ok(one.xml.includes('/one/a.bin</D:href>') && one.xml.includes('/one/b.txt</D:href>'), one.xml);
      assert.match(one.xml, new RegExp(`<D:getcontentlength>${a.length}</D:getcontentlength>`));
      const two = await propfind(`${second.url}/two/`);
      assert.ok(two.xml.includes('/two/c.bin</D:href>'), two.xml);
      assert.equal(getMessages() - before.getMessages, 0, 'no channels.getMessages for the listing');
      assert.equal(imports() - before.imports, 0, 'sessions reused: no new login');
    } finally {
      await second.close();
    }
    // Its background indexing (one getChannelDifference per channel) needed none either.
    assert.equal(getMessages() - before.getMessages, 0);
  });

  it('a failed start answers 503 in one line; a later request starts it', async () => {
    // The session folder is a file: every worker fails before any network call.
    const sessionDir = path.join(f.dir, 'not-a-dir');
    await writeFile(sessionDir, 'x');
    const m = await mountHandler(createHandler({ ...config, sessionDir, cache: `sqlite://${path.join(f.dir, 'retry.sqlite')}` }, { retryDelayMs: 0 }));
    try {
      const [r1, r2] = await Promise.all([fetch(`${m.url}/healthz`), fetch(`${m.url}/one/`, { method: 'PROPFIND', headers: { Depth: '1' } })]);
      for (const r of [r1, r2]) {
        assert.equal(r.status, 503);
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        const text = await r.text();
        assert.match(text, /^503 tgvfs is not available: cannot start: no worker could start: .*not-a-dir.*\n$/);
        assert.equal(text.split('\n').length, 2, 'one line');
        for (const token of config.bots) assert.ok(!text.includes(token.split(':')[1]!), 'no token secret');
      }
      // Fixed: the next request starts the core.
      await rm(sessionDir);
      const ok = await fetch(`${m.url}/healthz`);
      assert.equal(ok.status, 200);
    } finally {
      await m.close();
    }
  });

  it('close() ends responses under way; later requests get 503', async () => {
    const m = await mountHandler(createHandler(config));
    let closed = false;
    try {
      // A response held open by a client that stops reading (big.bin is message 1 of two).
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(`${m.url}/stream/${channelId(f, 'two')}/1`, resolve);
        req.once('error', reject);
      });
      assert.equal(res.statusCode, 200);
      res.pause();
      res.once('error', () => undefined);
      await m.handler.close();
      closed = true;
      // Reading on, the client finds the body cut short (not the whole 24 MiB, not complete).
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.resume();
      await new Promise<void>((resolve) => res.once('close', () => resolve()));
      assert.equal(res.complete, false);
      assert.ok(received < 24 * MiB, `${received} bytes`);
      const after = await fetch(`${m.url}/healthz`);
      assert.equal(after.status, 503);
      assert.equal(await after.text(), '503 tgvfs is not available: shutting down\n');
    } finally {
      if (!closed) await m.handler.close();
      await m.close();
    }
  });
});
