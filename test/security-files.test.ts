// What `tgvfs serve` leaves on disk is private: the session files, the sqlite cache and its
// -wal/-shm files are mode 0600 and their folders 0700, whatever the umask, on a fresh start and
// when the folders and files already existed with looser modes.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import { startCli } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { freePort } from '../support/net';

const mode = async (p: string): Promise<string> => ((await stat(p)).mode & 0o777).toString(8).padStart(4, '0');

describe('files written by serve are private', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'docs/a.bin': 100_000, 'docs/b.txt': Buffer.from('b\n') });
  });
  after(async () => {
    await f?.close();
  });

  /** Runs serve on `config` with a loose umask until indexed, calls `whileRunning`, stops it. */
  async function serveOnce(name: string, config: TgvfsConfig, whileRunning: () => Promise<void>): Promise<void> {
    const file = path.join(f.dir, `${name}.json`);
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    const port = await freePort();
    // umask 0: any file or folder created without an explicit mode would be world-readable.
    const cli = startCli(['serve', '--config', file, '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(__dirname, 'helpers', 'umask-zero.js')}` },
    });
    try {
      await cli.waitForLine(/serve ready/, 30_000);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { channels?: { indexed: boolean }[] };
        if (h.channels?.every((c) => c.indexed)) break;
        assert.ok(Date.now() < deadline, 'indexed in time');
        await new Promise((r) => setTimeout(r, 100));
      }
      // A read, so the metadata cache and the catalog have both written.
      const r = await fetch(`http://127.0.0.1:${port}/docs/a.bin`, { headers: { Range: 'bytes=0-9' } });
      assert.equal(r.status, 206);
      await r.arrayBuffer();
      await whileRunning();
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exit(15_000)).code, 0, cli.stderr());
    } finally {
      await cli.kill();
    }
  }

  async function expectPrivate(sessionDir: string, cacheFile: string, atLeastWalShm: boolean): Promise<void> {
    const sessions = (await readdir(sessionDir)).filter((n) => n.endsWith('.session'));
    assert.equal(sessions.length, f.emu.config.bots.length, `one session file per bot in ${sessionDir}`);
    assert.equal(await mode(sessionDir), '0700', sessionDir);
    for (const s of sessions) assert.equal(await mode(path.join(sessionDir, s)), '0600', s);
    assert.equal(await mode(path.dirname(cacheFile)), '0700', path.dirname(cacheFile));
    const cacheFiles = (await readdir(path.dirname(cacheFile))).filter((n) => n.startsWith(path.basename(cacheFile)));
    if (atLeastWalShm) {
      assert.deepEqual(cacheFiles.sort(), [path.basename(cacheFile), `${path.basename(cacheFile)}-shm`, `${path.basename(cacheFile)}-wal`].sort());
    }
    for (const c of cacheFiles) assert.equal(await mode(path.join(path.dirname(cacheFile), c)), '0600', c);
    // Nothing else in those folders is readable by others either (temp files, journals).
    for (const dir of new Set([sessionDir, path.dirname(cacheFile)])) {
      for (const n of await readdir(dir)) {
        const p = path.join(dir, n);
        assert.equal((await stat(p)).mode & 0o077, 0, `${p} is ${await mode(p)}`);
      }
    }
  }

  it('a fresh start: sessions, cache and its -wal/-shm 0600, folders 0700', { timeout: 60_000 }, async () => {
    const base = path.join(f.dir, 'fresh', 'state');
    const config: TgvfsConfig = { ...f.emu.config, sessionDir: path.join(base, 'sessions'), cache: `sqlite://${path.join(base, 'cache', 'cache.sqlite')}` };
    await serveOnce('fresh', config, () => expectPrivate(config.sessionDir, path.join(base, 'cache', 'cache.sqlite'), true));
    await expectPrivate(config.sessionDir, path.join(base, 'cache', 'cache.sqlite'), false);
  });

  it('folders and files that existed with loose modes are tightened', { timeout: 60_000 }, async () => {
    const base = path.join(f.dir, 'loose');
    const sessionDir = path.join(base, 'sessions');
    const cacheFile = path.join(sessionDir, 'cache.sqlite');
    await mkdir(sessionDir, { recursive: true });
    await chmod(sessionDir, 0o755);
    await writeFile(cacheFile, '');
    await chmod(cacheFile, 0o644);
    // The default cache lives in the session folder.
    const config: TgvfsConfig = { ...f.emu.config, sessionDir, cache: `sqlite://${cacheFile}` };
    await serveOnce('loose', config, () => expectPrivate(sessionDir, cacheFile, true));
    // Sessions saved on a second run (re-used) keep their modes.
    await serveOnce('loose', config, () => expectPrivate(sessionDir, cacheFile, true));
  });
});
