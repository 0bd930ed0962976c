// `ls -l` of a warmed real mount (`startMount` over an emulator channel, catalog filled by its
// indexing) answers every getattr at once from the folder index (Vfs.statNow), none the
// asynchronous way (a promise, a deadline timer and a catalog read per file): the count a slow
// cold listing would show first if the index were not current (issue 14).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMount, type RunningMount } from '../src/app/mount';
import { fuseMissing, makeMountDir, removeMountDir } from '../support/fuse-mount';
import { run } from '../support/programs';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const COUNT = 300;

describe('getattr of a warmed real mount', async () => {
  const missing = await fuseMissing();
  let f: EmulatorFixture | undefined;
  let dir = '';
  let mount: RunningMount | undefined;

  before(async () => {
    if (missing) return;
    const files: Record<string, number> = {};
    for (let i = 1; i <= COUNT; i++) files[`big/f${String(i).padStart(4, '0')}.bin`] = 1;
    f = await startFixture(files);
    dir = await makeMountDir('tgvfs-getattr-');
  });
  after(async () => {
    await mount?.close();
    if (dir) await removeMountDir(dir);
    await f?.close();
  });

  it('ls -l answers every file\'s getattr at once, none asynchronously', { skip: missing ?? false, timeout: 120_000 }, async () => {
    mount = await startMount(f!.emu.config, dir, { cacheSeconds: 60 });
    await mount.indexed();
    await mount.vfs.warm();
    const before = mount.getattrCounts();
    // A child process: this process serves the mount.
    const ls = await run('ls', ['-l', path.join(dir, 'big')], { timeoutMs: 60_000 });
    const lines = ls.stdout.toString().trim().split('\n');
    assert.equal(lines.length, COUNT + 1, 'a "total" line and one per file');
    assert.match(lines[1]!, /^-r--r--r-- +1 +\S+ +\S+ +1 .* f0001\.bin$/);
    const counts = mount.getattrCounts();
    // statNow answers paths inside a channel; the root and the channel folder (`/`, `/big`) go the
    // asynchronous way: at most those two, never one per file.
    assert.ok(counts.waited - before.waited <= 2, `${counts.waited - before.waited} getattr answered the asynchronous way`);
    assert.ok(counts.now - before.now >= COUNT, `${counts.now - before.now} getattr answered at once for ${COUNT} files`);
  });
});
