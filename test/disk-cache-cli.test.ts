// The disk cache between `tgvfs serve` processes on one config (so one cache folder): the second
// says the folder is in use by the first (naming its pid) and still serves byte-exact; a serve
// killed with SIGKILL in the middle of a read leaves a stale lock that the next one takes over,
// no temporary file, and nothing wrong served: the next serve reads the file byte-exact.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/net';
import { waitUntilIndexed } from '../support/serve-ready';
import { MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

describe('disk cache between tgvfs serve processes', () => {
  let f: EmulatorFixture;
  let cfg = '';
  const running: CliProcess[] = [];

  before(async () => {
    f = await startFixture({ 'films/big.bin': 6 * MiB });
    cfg = path.join(f.dir, 'config.json');
  });
  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await f?.close();
  });

  async function serve(): Promise<{ p: CliProcess; url: string }> {
    const port = await freePort();
    const p = startCli(['serve', '--config', cfg, '--listen', `127.0.0.1:${port}`]);
    running.push(p);
    const url = `http://127.0.0.1:${port}`;
    await p.waitForLine(/^serve ready/, 30_000);
    await waitUntilIndexed(url, { exited: () => (p.child.exitCode !== null || p.child.signalCode !== null ? 'exited' : null), logTail: () => p.stderr().slice(-2000) }, 30_000);
    return { p, url };
  }

  async function getAll(url: string): Promise<Buffer> {
    const r = await fetch(`${url}/films/big.bin`);
    assert.equal(r.status, 200);
    return Buffer.from(await r.arrayBuffer());
  }

  it('a second serve is told the folder is in use; a serve killed mid-read leaves nothing wrong', { timeout: 120_000 }, async () => {
    const source = f.files.get('films/big.bin')!;
    const a = await serve();
    const b = await serve();
    assert.match(b.p.stderr(), new RegExp(`disk cache \\S+ is in use by process ${a.p.child.pid} \\(another tgvfs serve or mount\\)[^"]*running without a disk cache`));
    assert.ok((await getAll(b.url)).equals(source));
    await b.p.kill();

    // Killed with SIGKILL once 2 MiB of the file have arrived: blocks are being fetched and written.
    const r = await fetch(`${a.url}/films/big.bin`);
    const reader = r.body!.getReader();
    let got = 0;
    while (got < 2 * MiB) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value.length;
    }
    a.p.child.kill('SIGKILL');
    await a.p.exit(10_000).catch(() => undefined);
    await reader.cancel().catch(() => undefined);

    const c = await serve();
    assert.doesNotMatch(c.p.stderr(), /in use/);
    assert.match(c.p.stderr(), /disk cache: \S+blocks, [\d.]+ (MiB|KiB) in \d+ block\(s\)/);
    assert.deepEqual(await readdir(path.join(f.emu.config.sessionDir, 'blocks', 'tmp')), []);
    assert.ok((await getAll(c.url)).equals(source));
    // Stopped cleanly (its last writes land), then read by a fresh process: from disk, exact.
    c.p.child.kill('SIGTERM');
    assert.equal((await c.p.exit(20_000)).code, 0);
    const d = await serve();
    const calls = f.emu.stats().calls['upload.getFile'] ?? 0;
    assert.ok((await getAll(d.url)).equals(source));
    assert.equal(f.emu.stats().calls['upload.getFile'] ?? 0, calls);
  });
});
