// startServer (pool + real Catalog + VFS + HTTP) and `tgvfs serve` against the emulator:
// indexing in the background, a restart that lists from the store, clean close, and the command's
// exit codes (0 on SIGTERM, 1 with one line for a bad config or a port in use).
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../src/app/server';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { runCli, startCli } from '../support/cli-process';

describe('startServer and tgvfs serve', () => {
  let f: EmulatorFixture;

  before(async () => {
    f = await startFixture({ 'one/a.bin': 300_000, 'one/b.txt': Buffer.from('b'), 'two/c.bin': 5000 });
  });
  after(async () => {
    await f?.close();
  });

  it('indexes in the background, serves the tree, and closes cleanly', async () => {
    const s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      assert.deepEqual(s.health().map((h) => [h.name, h.indexed]), [['one', true], ['two', true]]);
      const health = await (await fetch(`${s.url}/healthz`)).json() as { ready: boolean; channels: { indexed: boolean }[] };
      assert.equal(health.ready, true);
      const r = await fetch(`${s.url}/one/a.bin`, { headers: { Range: 'bytes=1000-1999' } });
      assert.equal(r.status, 206);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(f.files.get('one/a.bin')!.subarray(1000, 2000)));
      const list = await fetch(`${s.url}/two/`, { method: 'PROPFIND', headers: { Depth: '1' } });
      assert.match(await list.text(), /<D:getcontentlength>5000<\/D:getcontentlength>/);
      const s2 = await fetch(`${s.url}/stream/${channelId(f, 'one')}/2`);
      assert.equal(await s2.text(), 'b');
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /^tgvfs_catalog_files\{channel="one"\} 2$/m);
      assert.match(metrics, /^tgvfs_engine_open_readers 0$/m);
    } finally {
      await s.close();
    }
    await assert.rejects(fetch(`${s.url}/healthz`), 'closed');
  });

  it('a channel no bot can read: the others are served, health and the log say what to do', async () => {
    const g = await startFixture({ 'open/a.bin': 1000, 'closed/b.bin': 1000 });
    const lines: string[] = [];
    try {
      for (const token of g.emu.config.bots) g.emu.setMembership(Number(token.split(':')[0]), channelId(g, 'closed'), false);
      const s = await startServer(g.emu.config, { listen: { host: '127.0.0.1', port: 0 }, log: (l) => lines.push(l) });
      try {
        await s.indexed();
        const open = s.health().find((h) => h.name === 'open');
        const closed = s.health().find((h) => h.name === 'closed');
        assert.equal(open!.indexed, true);
        assert.equal(closed!.indexed, false);
        assert.match(closed!.error ?? '', /^channel "closed" \(-100\d+\): .*add every bot to the channel as an administrator/);
        assert.ok(lines.some((l) => l.includes('closed: indexing failed: channel "closed"')), lines.join('\n'));
        assert.equal((await fetch(`${s.url}/open/a.bin`)).status, 200);
      } finally {
        await s.close();
      }
    } finally {
      await g.close();
    }
  });

  it('a restart lists from the store without indexing', async () => {
    const s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 }, index: false });
    try {
      const before = f.emu.stats().calls['channels.getMessages'] ?? 0;
      const r = await fetch(`${s.url}/one/`, { method: 'PROPFIND', headers: { Depth: '1' } });
      const xml = await r.text();
      assert.ok(xml.includes('/one/a.bin</D:href>') && xml.includes('/one/b.txt</D:href>'), xml);
      assert.equal(f.emu.stats().calls['channels.getMessages'] ?? 0, before);
    } finally {
      await s.close();
    }
  });

  it('a port in use: one clear error, nothing left running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startServer(f.emu.config, { listen: { host: '127.0.0.1', port } }), /cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
    } finally {
      blocker.close();
    }
  });

  it('tgvfs serve: ready line, /healthz, exit 0 on SIGTERM', async () => {
    const configFile = path.join(f.dir, 'config.json');
    const p = startCli(['serve', '--config', configFile, '--listen', '127.0.0.1:0']);
    try {
      const m = await p.waitForLine(/serve ready: (http:\/\/[^/\s]+)\//, 30_000);
      assert.equal((await fetch(`${m[1]}/healthz`)).status, 200);
      p.child.kill('SIGTERM');
      const { code } = await p.exit(10_000);
      assert.equal(code, 0, p.stderr());
    } finally {
      await p.kill();
    }
  });

  it('tgvfs serve: a missing config exits 2, a port in use 1, each with one line', async () => {
    const bad = runCli(['serve', '--config', path.join(f.dir, 'missing.json')]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^tgvfs serve: .*missing\.json: no such file$/m);

    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      // Asynchronously: the emulator runs in this process and must keep answering.
      const inUse = startCli(['serve', '--config', path.join(f.dir, 'config.json'), '--listen', `127.0.0.1:${port}`]);
      try {
        const { code } = await inUse.exit(60_000);
        assert.equal(code, 1);
        assert.match(inUse.stderr().trim().split('\n').pop()!, /^tgvfs serve: cannot listen on 127\.0\.0\.1:\d+: the address is already in use: stop what listens there or choose another address/);
      } finally {
        await inUse.kill();
      }
    } finally {
      blocker.close();
    }
    assert.equal(runCli(['serve', '--listen', 'nope']).status, 2);
  });
});
