// /metrics of `serve` (and of demo's WebDAV + FUSE in one registry) against the emulator: every
// figure is checked against what happened — bytes received by the client, the emulator's own
// /stats call and fault counts — not just its presence.
import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCore } from '../src/app/core';
import { startMount } from '../src/app/mount';
import { startServer, type RunningServer } from '../src/app/server';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { fuseMissing, makeMountDir, removeMountDir } from '../support/fuse-mount';
import { eventually } from './helpers/eventually';
import { scrape } from './helpers/metrics';

async function getBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
}

describe('/metrics', () => {
  let f: EmulatorFixture;
  let s: RunningServer;
  let one: number;

  before(async () => {
    f = await startFixture({
      'one/a.bin': 3 * MiB + 5000,
      'one/b.bin': 2 * MiB + 777,
      'one/big.bin': 24 * MiB,
      'one/c.txt': Buffer.from('hello'),
    });
    one = channelId(f, 'one');
    s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await s.indexed();
  });
  after(async () => {
    await s?.close();
    await f?.close();
  });

  it('names every series with a help text, labels workers by bot id, shows no secret', async () => {
    const m = await scrape(s.url);
    for (const name of [
      'tgvfs_bytes_served_total', 'tgvfs_open_streams', 'tgvfs_upstream_calls_total', 'tgvfs_upstream_errors_total',
      'tgvfs_flood_waits_total', 'tgvfs_flood_wait_seconds_total', 'tgvfs_cache_hit_ratio', 'tgvfs_catalog_files',
      'tgvfs_catalog_bytes', 'tgvfs_http_bytes_served_total', 'tgvfs_http_open_streams',
    ]) {
      assert.match(m.text, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), name);
      assert.match(m.text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
    }
    const botIds = new Set(f.emu.config.bots.map((t) => t.split(':')[0]!));
    const workers = new Set(m.samples.filter((x) => x.labels.worker !== undefined).map((x) => x.labels.worker!));
    assert.ok(workers.size > 0, 'logins and indexing were counted');
    for (const w of workers) assert.ok(botIds.has(w), `worker label ${w} is a bot id`);
    for (const token of f.emu.config.bots) assert.ok(!m.text.includes(token.split(':')[1]!), 'no token secret');
    assert.ok(!m.text.includes(f.emu.config.apiHash), 'no api hash');
    // Logins went through the observer too (it is connected before the pool starts).
    const logins = m.sum('tgvfs_upstream_calls_total', { method: 'auth.importBotAuthorization' }) + m.sum('tgvfs_upstream_calls_total', { method: 'users.getUsers' });
    assert.equal(logins, f.emu.config.bots.length);
    // Catalog: files and bytes per channel.
    assert.equal(m.sum('tgvfs_catalog_files', { channel: 'one' }), 4);
    const size = [...f.files.entries()].filter(([k]) => k.startsWith('one/')).reduce((n, [, b]) => n + b.length, 0);
    assert.equal(m.sum('tgvfs_catalog_bytes', { channel: 'one' }), size);
  });

  it('counts bytes per front-end and upstream calls as the emulator saw them, flood waits included', async () => {
    const m0 = await scrape(s.url);
    const e0 = f.emu.stats();

    // WebDAV: a whole file, and a range.
    const a = f.files.get('one/a.bin')!;
    const whole = await getBytes(`${s.url}/one/a.bin`);
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(a));
    const range = await getBytes(`${s.url}/one/a.bin`, { Range: 'bytes=1000000-2100000' });
    assert.equal(range.status, 206);
    assert.ok(range.body.equals(a.subarray(1_000_000, 2_100_001)));
    // /stream: a range of the small file (message ids in name order: a.bin 1, b.bin 2, big.bin 3, c.txt 4).
    const st = await getBytes(`${s.url}/stream/${one}/4`, { Range: 'bytes=1-3' });
    assert.equal(st.body.toString(), 'ell');

    // FLOOD_WAIT on every second getFile of each bot, through the emulator's admin endpoint.
    const faults = await fetch(`${f.emu.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ floodWait: { every: 2, seconds: 1 } }) });
    assert.equal(faults.status, 200);
    let b: { status: number; body: Buffer };
    try {
      b = await getBytes(`${s.url}/one/b.bin`);
    } finally {
      await fetch(`${f.emu.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ floodWait: null }) });
    }
    assert.equal(b.status, 200);
    assert.ok(b.body.equals(f.files.get('one/b.bin')!), 'exact bytes despite FLOOD_WAIT');

    await eventually(async () => {
      const m = await scrape(s.url);
      const e = f.emu.stats();
      const delta = (name: string, match: Record<string, string> = {}): number => m.sum(name, match) - m0.sum(name, match);
      assert.equal(delta('tgvfs_bytes_served_total', { frontend: 'webdav' }), whole.body.length + range.body.length + b.body.length);
      assert.equal(delta('tgvfs_bytes_served_total', { frontend: 'stream' }), 3);
      assert.equal(delta('tgvfs_http_bytes_served_total'), whole.body.length + range.body.length + b.body.length + 3);
      const getFile = (e.calls['upload.getFile'] ?? 0) - (e0.calls['upload.getFile'] ?? 0);
      assert.ok(getFile > 0);
      assert.equal(delta('tgvfs_upstream_calls_total', { method: 'upload.getFile' }), getFile);
      const floods = (e.faults.FLOOD_WAIT ?? 0) - (e0.faults.FLOOD_WAIT ?? 0);
      assert.ok(floods > 0, 'the emulator answered FLOOD_WAIT');
      assert.equal(delta('tgvfs_upstream_errors_total', { method: 'upload.getFile', error: 'FLOOD_WAIT' }), floods);
      assert.equal(delta('tgvfs_flood_waits_total'), floods);
      // Every wait the emulator asked for was 1 s (its `every` rule and the rest of a 1 s wait).
      assert.equal(delta('tgvfs_flood_wait_seconds_total'), floods);
      // Nothing else failed.
      assert.equal(delta('tgvfs_upstream_errors_total'), floods);
      // Every series by method is also per worker, and the workers add up.
      const perWorker = m.samples.filter((x) => x.name === 'tgvfs_upstream_calls_total' && x.labels.method === 'upload.getFile');
      assert.ok(perWorker.length >= 2, 'calls spread over workers');
    });

    // A cached re-read: hits, and the ratio is hits / (hits + misses).
    const again = await getBytes(`${s.url}/one/a.bin`, { Range: 'bytes=0-99999' });
    assert.ok(again.body.equals(a.subarray(0, 100_000)));
    const m = await scrape(s.url);
    const hits = m.sum('tgvfs_engine_cache_hits');
    const misses = m.sum('tgvfs_engine_cache_misses');
    assert.ok(hits > 0 && misses > 0);
    const ratio = m.sum('tgvfs_cache_hit_ratio');
    assert.ok(ratio > 0 && ratio < 1, `ratio ${ratio}`);
    assert.ok(Math.abs(ratio - hits / (hits + misses)) < 1e-9);
    assert.equal(m.sum('tgvfs_open_streams', { frontend: 'webdav' }), 0);
    assert.equal(m.sum('tgvfs_open_streams', { frontend: 'stream' }), 0);
  });

  it('open streams count responses under way and fall back to 0 when clients hang up', async () => {
    const paths = ['/one/big.bin', `/stream/${one}/3`];
    const reqs: http.ClientRequest[] = [];
    try {
      // Two clients that read the first bytes, then stop reading (the server is held by backpressure).
      await Promise.all(paths.map((p) => new Promise<void>((resolve, reject) => {
        const req = http.get(`${s.url}${p}`, (res) => {
          res.once('data', () => {
            res.pause();
            resolve();
          });
          res.once('error', () => undefined);
        });
        req.once('error', reject);
        reqs.push(req);
      })));
      const m = await scrape(s.url);
      assert.equal(m.sum('tgvfs_open_streams', { frontend: 'webdav' }), 1);
      assert.equal(m.sum('tgvfs_open_streams', { frontend: 'stream' }), 1);
      assert.equal(m.sum('tgvfs_http_open_streams'), 2);
    } finally {
      for (const r of reqs) r.destroy();
    }
    await eventually(async () => {
      const m = await scrape(s.url);
      assert.equal(m.sum('tgvfs_open_streams', { frontend: 'webdav' }), 0);
      assert.equal(m.sum('tgvfs_open_streams', { frontend: 'stream' }), 0);
      assert.equal(m.sum('tgvfs_engine_open_readers'), 0);
    });
  });
});

describe('/metrics with a FUSE mount beside the HTTP server (demo --mount)', () => {
  let f: EmulatorFixture;
  let missing: string | null = null;
  let dir = '';

  before(async () => {
    missing = await fuseMissing();
    f = await startFixture({ 'one/a.bin': 1 * MiB + 123 });
    if (!missing) dir = await makeMountDir();
  });
  after(async () => {
    if (dir) await removeMountDir(dir);
    await f?.close();
  });

  it('shows the mount\'s bytes and open handles as frontend="fuse"', async (t) => {
    // Skipped without FUSE, except under CI=true (as .ci/run sets it), where that is a failure.
    if (missing && process.env.CI === 'true') throw new Error(`${missing}; CI=true: FUSE must be there (.ci/run installs fuse)`);
    if (missing) return t.skip(missing);
    const core = await startCore(f.emu.config);
    try {
      const server = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 }, core });
      const mount = await startMount(f.emu.config, dir, { core, metrics: server.http.metrics });
      try {
        core.startIndexing();
        await core.indexed();
        const m0 = await scrape(server.url);
        assert.equal(m0.sum('tgvfs_open_streams', { frontend: 'fuse' }), 0);
        assert.ok(m0.has('tgvfs_bytes_served_total', { frontend: 'fuse' }));
        const file = path.join(dir, 'one', 'a.bin');
        // fs.promises: the mount is served by this process's event loop.
        const bytes = await readFile(file);
        assert.ok(bytes.equals(f.files.get('one/a.bin')!));
        const handle = await open(file, 'r');
        try {
          const m1 = await scrape(server.url);
          assert.equal(m1.sum('tgvfs_open_streams', { frontend: 'fuse' }), 1);
          assert.equal(m1.sum('tgvfs_bytes_served_total', { frontend: 'fuse' }) - m0.sum('tgvfs_bytes_served_total', { frontend: 'fuse' }), bytes.length);
          // FUSE bytes are not HTTP bytes.
          assert.equal(m1.sum('tgvfs_http_bytes_served_total'), m0.sum('tgvfs_http_bytes_served_total'));
        } finally {
          await handle.close();
        }
        await eventually(async () => {
          assert.equal((await scrape(server.url)).sum('tgvfs_open_streams', { frontend: 'fuse' }), 0);
        });
      } finally {
        await mount.close();
        await server.close();
      }
    } finally {
      await core.close();
    }
  });
});
