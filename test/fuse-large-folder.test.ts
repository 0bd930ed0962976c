// `ls -l` of a large folder through FUSE (issue 14): names and sizes exact, the warm listing
// served from the kernel's cache (almost no getattr reaches tgvfs), and the mount's memory flat. The mount is served by a child process
// (helpers/synthetic-mount.ts: a Vfs over synthetic catalog entries, no emulator); `ls` is a
// second child, so nothing here ever blocks on the mount. Size via TGVFS_LARGE_FOLDER_FILES
// (default 20,000: CI-fast; the figures are at 100,000).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fuseMissing, makeMountDir, removeMountDir } from '../support/fuse-mount';
import { run } from '../support/programs';
import { SYNTHETIC_CHANNEL, syntheticFiles } from './helpers/synthetic-mount';

const COUNT = Number(process.env.TGVFS_LARGE_FOLDER_FILES ?? 20_000);

/** Resolves with the first stdout line matching `re` (rejects on exit or after `ms`). */
function nextLine(child: ChildProcessWithoutNullStreams, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err: Error | null, line?: string): void => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => re.test(l));
      if (line) done(null, line);
    };
    const onExit = (): void => done(new Error('the mount process exited'));
    const timer = setTimeout(() => done(new Error(`no ${re} within ${ms} ms`)), ms);
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

describe(`ls -l of a ${COUNT}-file folder through FUSE`, { timeout: 120_000 }, () => {
  let mnt: string;
  let child: ChildProcessWithoutNullStreams | undefined;
  let startRss = 0;

  before(async () => {
    const missing = await fuseMissing();
    if (missing) throw new Error(missing);
    mnt = await makeMountDir('tgvfs-large-');
    const script = path.join(__dirname, 'helpers', 'synthetic-mount.js');
    child = spawn(process.execPath, ['--expose-gc', script, mnt, String(COUNT), '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    startRss = Number((await nextLine(child, /^mounted /, 30_000)).split(' ')[1]);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (mnt) await removeMountDir(mnt);
  });

  it('lists every file with its exact size, cold then warm from the kernel cache', async () => {
    const dir = path.join(mnt, SYNTHETIC_CHANNEL);
    const ls = (): ReturnType<typeof run> => run('ls', ['-l', '--time-style=+%s', dir], { timeoutMs: 60_000 });
    const probe = async (): Promise<{ rss: number; peak: number; getattrs: number }> => {
      const answer = nextLine(child!, /^rss /, 10_000);
      child!.stdin.write('rss\n');
      const [rss, peak, getattrs] = (await answer).split(' ').slice(1).map(Number);
      return { rss: rss!, peak: peak!, getattrs: getattrs! };
    };
    const before = await probe();
    const cold = await ls();
    const afterCold = await probe();
    const warm = await ls();
    const afterWarm = await probe();
    for (const r of [cold, warm]) {
      const lines = r.stdout.toString().trim().split('\n');
      assert.equal(lines.length, COUNT + 1, 'a "total" line and one per file');
      const files = syntheticFiles(COUNT);
      // ls sorts by name; check a few files by name and size.
      const bySize = new Map(lines.slice(1).map((l) => {
        const m = /^-r--r--r-- +\d+ +\S+ +\S+ +(\d+) +(\d+) (.*)$/.exec(l);
        assert.ok(m, `an ls -l line: ${l}`);
        return [m[3]!, Number(m[1])];
      }));
      assert.equal(bySize.get('Holiday Video 000001.mp4'), files[0]!.size);
      assert.equal(bySize.get(`Holiday Video ${String(COUNT - 1).padStart(6, '0')}.mp4`), files[COUNT - 2]!.size);
      assert.equal(bySize.get('Clip.MP4'), files[99]!.size);
      assert.equal(bySize.get('Clip (200).MP4'), files[199]!.size);
    }
    const coldCalls = afterCold.getattrs - before.getattrs;
    const warmCalls = afterWarm.getattrs - afterCold.getattrs;
    process.stdout.write(`# ${COUNT} files: ls -l cold ${cold.ms.toFixed(0)} ms (${coldCalls} getattr), warm ${warm.ms.toFixed(0)} ms ` +
      `(${warmCalls} getattr); mount rss ${(startRss / 1e6).toFixed(0)} MB at mount, ${(afterWarm.rss / 1e6).toFixed(0)} MB after, ` +
      `peak ${(afterWarm.peak / 1e6).toFixed(0)} MB\n`);
    // Timings are bench figures (bench/scale); here, what the kernel cache is seen to do: the cold
    // listing asks tgvfs about every file, the warm one (attr/entry timeout 60 s) about almost none.
    assert.ok(coldCalls >= COUNT, `the cold listing made ${coldCalls} getattr calls for ${COUNT} files`);
    assert.ok(warmCalls < COUNT / 100, `the warm listing made ${warmCalls} getattr calls: not served from the kernel cache`);
    assert.ok(afterWarm.peak - startRss < 150e6, `mount RSS grew ${(afterWarm.peak - startRss) / 1e6} MB during the listings`);
  });
});
