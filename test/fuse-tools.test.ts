// `tgvfs mount` against the emulator, exercised by real tools run as child processes (issue 7,
// "Tests"): cp and rsync -a of a channel (sha256 of every file), dd skip=/count= at the first, last
// and a 1 MiB-crossing offset, head/tail -c, ffprobe of a 100+ MB moov-at-end mp4 (< 4 MB
// upstream), VLC headless from past the middle (as nobody), four concurrent cats, SIGTERM unmounts,
// and after a SIGKILL the next mount of the same folder recovers. No test leaves a mount behind.
//
// The emulator runs in this process (its stats count upstream bytes); the mount is
// `node bin/tgvfs mount DIR --config FILE` in a child process. This process never touches the
// mount itself (every read is a tool's): fs calls here go through libuv's 4-thread pool, which the
// in-process emulator also needs to read its data folder.
//
// Needs: /dev/fuse, fusermount (fuse, libfuse2), rsync, coreutils, ffmpeg/ffprobe, vlc-bin +
// vlc-plugin-base (cvlc), util-linux's setpriv.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiB } from './helpers/emulator-fixture';
import { forceUnmount, fuseMissing, makeMountDir, mountAt, removeMountDir, startMount, type MountProcess } from '../support/fuse-mount';
import { callsBetween, settledStats, startWebdavFixture, type SourceFile, type WebdavFixture } from './helpers/webdav-fixture';
import { keystream } from '../support/bytes';
import { testVideo, type TestVideo } from './helpers/webdav-media';
import { findProgram, requireProgram, run } from '../support/programs';
import { asUnprivileged, sha256File } from './helpers/webdav-tools';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BASE_MS = Date.UTC(2024, 5, 1, 9, 0, 0);
const at = (s: number): Date => new Date(BASE_MS + s * 1000);
const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;

/** The `docs` channel: copied with cp and rsync; dd/head/tail on a.bin. */
const DOCS: Record<string, number> = {
  'a.bin': 3 * MiB + 12345,
  'b.bin': MiB,
  'c.txt': 1000,
  'd.bin': 5 * MiB + 1,
  'e.bin': 4095,
  'f.bin': 1,
};
/** The `cats` channel: four files read at once (not read by anything before). */
const CATS: Record<string, number> = { 'w.bin': 2 * MiB + 1, 'x.bin': 3 * MiB - 7, 'y.bin': 1234567, 'z.bin': 4 * MiB };

describe('real tools on a tgvfs FUSE mount', { timeout: 240_000 }, () => {
  let f: WebdavFixture | undefined;
  let video: TestVideo | null = null;
  let tmp: string;
  let mnt: string | undefined;
  let mount: MountProcess | undefined;
  const src = new Map<string, Buffer>();
  const extraDirs: string[] = [];

  before(async () => {
    const missing = await fuseMissing();
    if (missing) throw new Error(missing);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-fuse-tools-'));
    if (findProgram('ffmpeg')) video = await testVideo({ seconds: 60, bitrate: 15_000_000, minBytes: 100 * 1000 * 1000 });
    const files: Record<string, SourceFile> = {};
    let k = 0;
    for (const [ch, table] of [['docs', DOCS], ['cats', CATS]] as const) {
      for (const [name, size] of Object.entries(table)) {
        const rel = `${ch}/${name}`;
        const bytes = keystream(size, `fuse/${rel}`);
        src.set(rel, bytes);
        files[rel] = { bytes, mtime: at(1000 * k++) };
      }
    }
    if (video) files['media/video.mp4'] = { copyFrom: video.path, mtime: at(99_000) };
    f = await startWebdavFixture(files);
    mnt = await makeMountDir();
    mount = await startMount(f.configPath, mnt);
  });

  after(async () => {
    const r = await mount?.stop().catch((e: Error) => ({ code: null, signal: null, leftover: e.message }));
    if (mnt) await removeMountDir(mnt).catch(() => undefined);
    for (const d of extraDirs) await removeMountDir(d).catch(() => undefined);
    await f?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    const left = (await Promise.all([mnt, ...extraDirs].filter((d): d is string => !!d).map(mountAt))).filter(Boolean);
    assert.deepEqual(left, [], 'no mount left behind');
    if (r && r.code !== 0) throw new Error(`tgvfs mount exited with ${r.code ?? r.signal} on SIGTERM (${r.leftover})`);
  });

  const fail = (what: string, err: unknown): never => {
    throw new Error(`${what}: ${(err as Error).message}\n--- tgvfs mount stderr (tail) ---\n${mount?.logTail(15) ?? ''}`);
  };
  const onMount = (rel: string): string => path.join(mnt!, rel);

  it('mounts: the `mounted` line and the tree (ls)', async (ctx) => {
    assert.ok(mount, 'mounted');
    ctx.diagnostic(`${mount.line} (after ${mount.readyMs.toFixed(0)} ms)`);
    assert.ok(await mountAt(mnt!), `${mnt} is in /proc/mounts`);
    const ls = await run('ls', ['-1', mnt!], { timeoutMs: 10_000 }).catch((e: unknown) => fail('ls', e));
    const names = ls.stdout.toString().split('\n').filter(Boolean).sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('.')), video ? ['cats', 'docs', 'media'] : ['cats', 'docs']);
  });

  it('cp -r of a channel: sha256 of every file equals the source', { timeout: 60_000 }, async (ctx) => {
    const dest = path.join(tmp, 'cp-docs');
    const r = await run('cp', ['-r', onMount('docs'), dest], { timeoutMs: 45_000 }).catch((e: unknown) => fail('cp', e));
    const names = (await readdir(dest)).sort();
    assert.deepEqual(names, Object.keys(DOCS).sort());
    for (const n of names) assert.equal(await sha256File(path.join(dest, n)), sha256(src.get(`docs/${n}`)!), `sha256 of docs/${n}`);
    ctx.diagnostic(`cp -r docs (${mb(Object.values(DOCS).reduce((a, b) => a + b, 0))}): ${r.ms.toFixed(0)} ms`);
  });

  it('rsync -a of a channel: sha256 of every file equals the source, mtimes = message dates', { timeout: 60_000 }, async (ctx) => {
    const rsync = requireProgram('rsync');
    const dest = path.join(tmp, 'rsync-docs');
    const r = await run(rsync, ['-a', `${onMount('docs')}/`, `${dest}/`], { timeoutMs: 45_000 }).catch((e: unknown) => fail('rsync -a', e));
    const names = (await readdir(dest)).sort();
    assert.deepEqual(names, Object.keys(DOCS).sort());
    const order = Object.keys(DOCS);
    for (const n of names) {
      assert.equal(await sha256File(path.join(dest, n)), sha256(src.get(`docs/${n}`)!), `sha256 of docs/${n}`);
      assert.equal((await stat(path.join(dest, n))).mtimeMs, at(1000 * order.indexOf(n)).getTime(), `mtime of docs/${n} (rsync -a keeps it)`);
    }
    ctx.diagnostic(`rsync -a docs: ${r.ms.toFixed(0)} ms`);
  });

  it('dd bs=4096 skip=K count=N at the first, last and a 1 MiB-crossing offset: exact', { timeout: 60_000 }, async () => {
    const bytes = src.get('docs/a.bin')!;
    const S = bytes.length;
    const lastBlock = Math.floor((S - 1) / 4096);
    const cases = [
      { name: 'first', skip: 0, count: 4 },
      { name: 'last', skip: lastBlock, count: 1 },
      { name: 'last two, past the end', skip: lastBlock - 1, count: 5 },
      { name: 'across 1 MiB', skip: MiB / 4096 - 1, count: 2 },
      { name: 'across 2 MiB, 64 blocks', skip: (2 * MiB) / 4096 - 32, count: 64 },
    ];
    for (const c of cases) {
      const r = await run('dd', [`if=${onMount('docs/a.bin')}`, 'bs=4096', `skip=${c.skip}`, `count=${c.count}`, 'status=none'], { timeoutMs: 20_000 })
        .catch((e: unknown) => fail(`dd ${c.name}`, e));
      const want = bytes.subarray(c.skip * 4096, Math.min(S, (c.skip + c.count) * 4096));
      assert.equal(r.stdout.length, want.length, `dd ${c.name}: length`);
      assert.ok(r.stdout.equals(want), `dd ${c.name} (skip=${c.skip} count=${c.count}): bytes differ`);
    }
  });

  it('head -c 1000 and tail -c 1000: exact', { timeout: 30_000 }, async () => {
    for (const rel of ['docs/a.bin', 'docs/d.bin', 'docs/e.bin']) {
      const bytes = src.get(rel)!;
      const h = await run('head', ['-c', '1000', onMount(rel)], { timeoutMs: 15_000 }).catch((e: unknown) => fail(`head ${rel}`, e));
      assert.ok(h.stdout.equals(bytes.subarray(0, 1000)), `head -c 1000 ${rel}`);
      const t = await run('tail', ['-c', '1000', onMount(rel)], { timeoutMs: 15_000 }).catch((e: unknown) => fail(`tail ${rel}`, e));
      assert.ok(t.stdout.equals(bytes.subarray(bytes.length - 1000)), `tail -c 1000 ${rel}`);
    }
  });

  it('four concurrent cats of different files: all exact', { timeout: 60_000 }, async (ctx) => {
    const t0 = performance.now();
    const results = await Promise.all(Object.keys(CATS).map((n) =>
      run('cat', [onMount(`cats/${n}`)], { timeoutMs: 45_000 }).catch((e: unknown) => fail(`cat cats/${n}`, e))));
    Object.keys(CATS).forEach((n, i) => {
      const got = results[i]!.stdout;
      assert.equal(got.length, CATS[n], `cat cats/${n}: length`);
      assert.equal(sha256(got), sha256(src.get(`cats/${n}`)!), `cat cats/${n}: sha256`);
    });
    ctx.diagnostic(`4 cats (${mb(Object.values(CATS).reduce((a, b) => a + b, 0))}): ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('ffprobe: a 100+ MB mp4 with moov at the end; right duration, under 4 MB upstream', { timeout: 60_000 }, async (ctx) => {
    const ffprobe = requireProgram('ffprobe');
    assert.ok(video, 'the test video (made with ffmpeg)');
    assert.ok(video.size >= 100e6 && video.moovStart > video.mdat.start, 'a 100+ MB video, moov at the end');
    const before = await settledStats(f!);
    const r = await run(ffprobe, ['-v', 'error', '-show_entries', 'format=duration,size', '-of', 'json', onMount('media/video.mp4')], { timeoutMs: 45_000 })
      .catch((e: unknown) => fail('ffprobe', e));
    const afterStats = await settledStats(f!);
    const out = JSON.parse(r.stdout.toString()) as { format?: { duration?: string; size?: string } };
    const duration = Number(out.format?.duration);
    const upstream = afterStats.bytesServed - before.bytesServed;
    ctx.diagnostic(`ffprobe of ${mb(video.size)} (moov at ${video.moovStart}): ${r.ms.toFixed(0)} ms, ${mb(upstream)} upstream, calls ${JSON.stringify(callsBetween(before, afterStats))}`);
    assert.ok(Math.abs(duration - video.duration) <= 0.5, `duration ${duration}, encoded ${video.duration}`);
    assert.equal(Number(out.format?.size), video.size, 'size ffprobe saw');
    assert.ok(upstream < 4e6, `ffprobe made tgvfs fetch ${upstream} bytes upstream (limit 4 MB)`);
  });

  it('VLC (cvlc, dummy outputs, as nobody) plays 2 s from a start time past the middle', { timeout: 90_000 }, async (ctx) => {
    const cvlc = requireProgram('cvlc');
    assert.ok(video, 'the test video (made with ffmpeg)');
    const file = onMount('media/video.mp4');
    // A FUSE mount made by root is reachable by root alone unless it was mounted with allow_other.
    const probe = asUnprivileged('head', ['-c', '16', file]);
    const can = await run(probe.program, probe.args, { timeoutMs: 15_000, check: false });
    assert.equal(can.code, 0, `the unprivileged user cannot read ${file} (${can.stderr.trim()}): the mount needs ` +
      `allow_other (and default_permissions) for VLC, which refuses to run as root. /proc/mounts: ${JSON.stringify(await mountAt(mnt!))}`);
    const home = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-vlc-home-'));
    await chmod(home, 0o777);
    try {
      const startTime = Math.round((video.duration * 2) / 3);
      const before = await settledStats(f!);
      const { program, args } = asUnprivileged(cvlc, [
        '--intf', 'dummy', '--vout', 'dummy', '--aout', 'dummy', '--no-video-title-show',
        '--play-and-exit', '--start-time', String(startTime), '--run-time', '2', `file://${file}`,
      ]);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home, LANG: 'C.UTF-8' };
      const r = await run(program, args, { timeoutMs: 60_000, env, check: false });
      const afterStats = await settledStats(f!);
      const log = r.stderr;
      const where = `\nVLC stderr (tail):\n${log.trim().split('\n').slice(-15).join('\n')}`;
      const upstream = afterStats.bytesServed - before.bytesServed;
      ctx.diagnostic(`VLC from ${startTime} s: exit ${r.code} in ${r.ms.toFixed(0)} ms; upstream ${mb(upstream)}`);
      assert.equal(r.code, 0, `cvlc exit code${where}`);
      const cannot = log.split('\n').filter((l) => /(can ?not|can't|unable to|failed to) open|input can't be opened|access error|no suitable (access|demux) module|Permission denied/i.test(l));
      assert.deepEqual(cannot, [], `VLC says it could not open the file${where}`);
      // Playing 2 s at 15 Mb/s from 40 s needs ≥ 1 MB past the middle; starting from 0 instead
      // would have read over half the file.
      assert.ok(upstream >= 1e6, `upstream ${upstream} bytes: VLC played nothing?${where}`);
      assert.ok(upstream < video.size / 2, `upstream ${upstream} bytes: VLC read from the start rather than seeking${where}`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('SIGTERM unmounts (exit 0, not in /proc/mounts afterwards)', { timeout: 90_000 }, async (ctx) => {
    const dir = await makeMountDir();
    extraDirs.push(dir);
    const m = await startMount(f!.configPath, dir);
    try {
      assert.ok(await mountAt(dir), 'mounted');
      const ls = await run('ls', [path.join(dir, 'docs')], { timeoutMs: 10_000 });
      assert.ok(ls.stdout.toString().includes('a.bin'));
      m.cli.child.kill('SIGTERM');
      const t0 = performance.now();
      const ex = await m.cli.exit(15_000);
      ctx.diagnostic(`SIGTERM → exit ${ex.code ?? ex.signal} in ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(ex.code, 0, `exit code on SIGTERM; stderr:\n${m.logTail()}`);
      assert.equal(await mountAt(dir), null, `${dir} still in /proc/mounts after SIGTERM`);
    } finally {
      const r = await m.stop();
      assert.equal(r.leftover, '', 'nothing to clean after a SIGTERM');
    }
  });

  it('after SIGKILL the next `tgvfs mount` of the same folder recovers and works', { timeout: 90_000 }, async (ctx) => {
    const dir = await makeMountDir();
    extraDirs.push(dir);
    const first = await startMount(f!.configPath, dir);
    first.cli.child.kill('SIGKILL');
    await first.cli.exit(10_000);
    const stale = await mountAt(dir);
    ctx.diagnostic(`after SIGKILL: ${stale ? `stale mount left (${stale.fstype})` : 'no mount left (the kernel cleaned it)'}`);
    let second: MountProcess | undefined;
    try {
      second = await startMount(f!.configPath, dir);
      ctx.diagnostic(`second mount: ${second.line} (after ${second.readyMs.toFixed(0)} ms)`);
      const h = await run('head', ['-c', '1000', path.join(dir, 'docs/a.bin')], { timeoutMs: 15_000 });
      assert.ok(h.stdout.equals(src.get('docs/a.bin')!.subarray(0, 1000)), 'head -c 1000 on the recovered mount');
      const r = await second.stop();
      assert.equal(r.code, 0, `exit code on SIGTERM; stderr:\n${second.logTail()}`);
      assert.equal(r.leftover, '', 'no mount left after SIGTERM');
    } catch (err) {
      await second?.stop().catch(() => undefined);
      const cleaned = await forceUnmount(dir);
      throw new Error(`${(err as Error).message}${cleaned ? ` (cleanup: ${cleaned})` : ''}`);
    }
  });
});
