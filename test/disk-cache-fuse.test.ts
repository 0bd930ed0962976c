// The disk cache through FUSE: `tgvfs mount` reads a file, is stopped, and a new mount on the
// same config reads it again byte-exact with no upstream getFile; a `tgvfs serve` started while
// the mount holds the cache folder says it is in use and serves from Telegram.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliProcess } from '../support/cli-process';
import { fuseMissing, makeMountDir, removeMountDir, startMount, type MountProcess } from '../support/fuse-mount';
import { freePort } from '../support/net';
import { MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

describe('disk cache through FUSE', async () => {
  const missing = await fuseMissing();
  let f: EmulatorFixture;
  let cfg = '';
  let dir = '';
  const mounts: MountProcess[] = [];
  const others: CliProcess[] = [];

  before(async () => {
    if (missing) return;
    f = await startFixture({ 'films/a.bin': 3 * MiB + 5 });
    cfg = path.join(f.dir, 'config.json');
    dir = await makeMountDir();
  });
  after(async () => {
    await Promise.all(others.map((p) => p.kill()));
    for (const m of mounts) await m.stop().catch(() => undefined);
    if (dir) await removeMountDir(dir);
    await f?.close();
  });

  it('a file read through one mount is read from disk by the next; a serve meanwhile is told it is in use', { skip: missing ?? false, timeout: 180_000 }, async () => {
    const source = f.files.get('films/a.bin')!;
    const getFile = (): number => f.emu.stats().calls['upload.getFile'] ?? 0;
    const first = await startMount(cfg, dir);
    mounts.push(first);
    assert.ok((await readFile(path.join(dir, 'films', 'a.bin'))).equals(source));

    const port = await freePort();
    const serve = startCli(['serve', '--config', cfg, '--listen', `127.0.0.1:${port}`]);
    others.push(serve);
    await serve.waitForLine(/^serve ready/, 30_000);
    assert.match(serve.stderr(), new RegExp(`is in use by process ${first.cli.child.pid} \\(another tgvfs serve or mount\\)`));
    await serve.kill();

    const stopped = await first.stop();
    assert.equal(stopped.code, 0);
    const calls = getFile();
    const second = await startMount(cfg, dir);
    mounts.push(second);
    assert.ok((await readFile(path.join(dir, 'films', 'a.bin'))).equals(source));
    assert.equal(getFile(), calls, 'no upstream getFile: every block from the disk cache');
  });
});
