// mount/mount.tgvfs, the mount(8) helper, and the systemd units beside it (issue 14, "Always-on
// mounts"), against the emulator: `mount -t tgvfs CONFIG DIR -o …` (through a temporary
// /sbin/mount.tgvfs symlink when none is installed, else by calling the helper the way mount(8)
// does) returns once the tree is served, a file reads byte-exact, `umount DIR` unmounts and the
// detached tgvfs process exits cleanly; an fstab line mounts the same way (mount --fstab); a bad config fails with a clear message, a non-zero exit
// and no mount; the mount unit's own commands (ExecStartPre, ExecStart, ExecStop, ExecStopPost)
// run in systemd's order mount and stop with exit 0; -o options become tgvfs flags only when `tgvfs mount --help` has them; the units
// pass `systemd-analyze verify` (where systemd is installed) and our own syntax check (always).
//
// The emulator runs in this process, so this process never reads the mount itself (cat does):
// fs calls here share libuv's thread pool with the emulator reading its data folder.
// Needs: /dev/fuse, fusermount (fuse, libfuse2), mount/umount (mount), coreutils; root for the
// /sbin symlink (else the helper is called directly).
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keystream } from '../support/bytes';
import { repoRoot, startCli } from '../support/cli-process';
import { forceUnmount, fuseMissing, makeMountDir, mountAt, removeMountDir } from '../support/fuse-mount';
import { findProgram, requireProgram, run, type RunResult } from '../support/programs';
import { MiB } from './helpers/emulator-fixture';
import { until } from './helpers/eventually';
import { startWebdavFixture, type WebdavFixture } from './helpers/webdav-fixture';
import { checkUnitSyntax } from './helpers/unit-syntax';

const HELPER = path.join(repoRoot, 'mount/mount.tgvfs');
const UNITS = ['tgvfs-serve.service', 'tgvfs-mount@.service'];
const A_BIN = keystream(3 * MiB + 4321, 'mount-helper/a.bin');
const B_TXT = Buffer.from('hello from a channel\n');

/** Is process `pid` alive? (It is the helper's detached grandchild: no exit event reaches us.) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid the helper wrote to the log (`mount.tgvfs: pid N: mounted …`), or null. */
async function loggedPid(log: string): Promise<number | null> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const m = /mount\.tgvfs: pid (\d+): mounted /.exec(text);
  return m ? Number(m[1]) : null;
}

/** Stops a tgvfs the helper left running (a failed test) and removes any mount; for finally. */
async function cleanUp(log: string, dir: string): Promise<void> {
  const pid = await loggedPid(log);
  if (pid !== null && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid), 15_000, () => `tgvfs ${pid} still running after SIGTERM`).catch(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
  }
  await forceUnmount(dir);
}

const SBIN_LINK = '/sbin/mount.tgvfs';

/**
 * Why mount(8) itself cannot be used here (then the helper is called the way mount(8) calls it),
 * or null: it needs /sbin/mount.tgvfs, which the test may only create (as root) when none is
 * installed.
 */
async function noMount8(): Promise<string | null> {
  if (!findProgram('mount')) return 'mount(8) is not installed';
  if (process.getuid?.() !== 0) return 'not root: cannot create /sbin/mount.tgvfs';
  if (await lstat(SBIN_LINK).then(() => true, () => false)) return `${SBIN_LINK} is already installed; not replacing it`;
  return null;
}

/** Runs `fn` with /sbin/mount.tgvfs → the helper, removed afterwards (only if still ours). */
async function withSbinLink<T>(fn: () => Promise<T>): Promise<T> {
  await symlink(HELPER, SBIN_LINK);
  try {
    return await fn();
  } finally {
    if ((await readlink(SBIN_LINK).catch(() => '')) === HELPER) await unlink(SBIN_LINK);
  }
}

/** `mount -t tgvfs CONFIG DIR -o OPTS` through a temporary /sbin/mount.tgvfs, else the helper directly. */
async function mountTgvfs(config: string, dir: string, opts: string): Promise<RunResult & { via: string }> {
  const why = await noMount8();
  if (why) {
    const r = await run(HELPER, [config, dir, '-o', opts], { check: false, timeoutMs: 120_000 });
    return { ...r, via: `the helper called directly (${why})` };
  }
  const r = await withSbinLink(() => run(findProgram('mount')!, ['-t', 'tgvfs', config, dir, '-o', opts], { check: false, timeoutMs: 120_000 }));
  return { ...r, via: 'mount -t tgvfs' };
}

describe('mount.tgvfs: mount -t tgvfs and umount', { timeout: 240_000 }, () => {
  let f: WebdavFixture | undefined;
  let tmp = '';
  const dirs: string[] = [];

  before(async () => {
    const missing = await fuseMissing();
    if (missing) throw new Error(missing);
    requireProgram('umount');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-mount-helper-'));
    const mtime = new Date(Date.UTC(2024, 5, 1, 9, 0, 0));
    f = await startWebdavFixture({ 'docs/a.bin': { bytes: A_BIN, mtime }, 'docs/b.txt': { bytes: B_TXT, mtime } }, 2);
  });

  after(async () => {
    for (const d of dirs) await removeMountDir(d).catch(() => undefined);
    await f?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('mounts until ready, reads byte-exact, and umount DIR unmounts and ends tgvfs cleanly', async (t) => {
    const dir = await makeMountDir();
    dirs.push(dir);
    const log = path.join(tmp, 'ok.log');
    try {
      const r = await mountTgvfs(f!.configPath, dir, `log=${log},ro,_netdev,nofail,x-systemd.automount,x-systemd.mount-timeout=90,ready_timeout=90`);
      t.diagnostic(`mounted with ${r.via} in ${Math.round(r.ms)} ms`);
      assert.equal(r.code, 0, `${r.via} failed: ${r.stderr}\nlog:\n${await readFile(log, 'utf8').catch(() => '')}`);
      // Ready means served: the mount is in the table when the helper returns.
      const entry = await mountAt(dir);
      assert.equal(entry?.fstype, 'fuse.tgvfs', `${r.via}: not mounted on return`);
      const pid = await loggedPid(log);
      assert.ok(pid !== null && alive(pid), `no running tgvfs logged in ${log}`);

      const ls = await run(requireProgram('ls'), [path.join(dir, 'docs')]);
      assert.deepEqual(ls.stdout.toString().trim().split('\n').sort(), ['a.bin', 'b.txt']);
      const cat = await run(requireProgram('cat'), [path.join(dir, 'docs/a.bin')], { timeoutMs: 60_000 });
      assert.ok(cat.stdout.equals(A_BIN), `a.bin through the mount: ${cat.stdout.length} bytes, not the ${A_BIN.length} posted`);
      const txt = await run(requireProgram('cat'), [path.join(dir, 'docs/b.txt')]);
      assert.equal(txt.stdout.toString(), B_TXT.toString());

      const um = await run(requireProgram('umount'), [dir], { check: false });
      assert.equal(um.code, 0, `umount ${dir}: ${um.stderr}`);
      assert.equal(await mountAt(dir), null, 'still mounted after umount');
      await until(() => !alive(pid!), 15_000, () => `tgvfs ${pid} still running after umount ${dir}`);
      const text = await readFile(log, 'utf8');
      assert.match(text, /was unmounted from outside \(umount\); stopping/);
      assert.match(text, /SIGTERM, closing/);
      assert.doesNotMatch(text, /close failed|exiting without a clean close/);
    } finally {
      await cleanUp(log, dir);
    }
  });

  it('an /etc/fstab line mounts (mount --fstab FILE DIR) and umount unmounts', async (t) => {
    const why = await noMount8();
    if (why) {
      t.skip(`mount(8) with an fstab needs /sbin/mount.tgvfs: ${why}`);
      return;
    }
    const dir = await makeMountDir();
    dirs.push(dir);
    const log = path.join(tmp, 'fstab.log');
    const fstab = path.join(tmp, 'fstab');
    await writeFile(fstab, `# as in /etc/fstab\n${f!.configPath}  ${dir}  tgvfs  _netdev,nofail,noauto,x-systemd.automount,log=${log}  0 0\n`);
    try {
      const r = await withSbinLink(() => run(findProgram('mount')!, ['--fstab', fstab, dir], { check: false, timeoutMs: 120_000 }));
      assert.equal(r.code, 0, `mount --fstab: ${r.stderr}\nlog:\n${await readFile(log, 'utf8').catch(() => '')}`);
      assert.equal((await mountAt(dir))?.fstype, 'fuse.tgvfs');
      const pid = await loggedPid(log);
      assert.ok(pid !== null && alive(pid), `no running tgvfs logged in ${log}`);
      const txt = await run(requireProgram('cat'), [path.join(dir, 'docs/b.txt')]);
      assert.equal(txt.stdout.toString(), B_TXT.toString());
      const um = await run(requireProgram('umount'), [dir], { check: false });
      assert.equal(um.code, 0, `umount ${dir}: ${um.stderr}`);
      assert.equal(await mountAt(dir), null);
      await until(() => !alive(pid!), 15_000, () => `tgvfs ${pid} still running after umount ${dir}`);
    } finally {
      await cleanUp(log, dir);
    }
  });

  it('tgvfs-mount@.service\'s commands, run in systemd\'s order, mount and stop cleanly (exit 0, nothing left)', async () => {
    const unit = await readFile(path.join(repoRoot, 'mount/tgvfs-mount@.service'), 'utf8');
    const dir = path.join(tmp, 'unit-mnt'); // absent: ExecStartPre creates it
    dirs.push(dir);
    // systemd's %f is the unescaped instance; the installed paths point at this checkout.
    const argv = (key: string): string[] => {
      const m = new RegExp(`^${key}=-?(.*)$`, 'm').exec(unit);
      assert.ok(m, `no ${key}= in the unit`);
      return m[1]!.split(' ').map((w) => (w === '%f' ? dir : w === '/etc/tgvfs/config.json' ? f!.configPath : w));
    };
    const exec = async (key: string): Promise<RunResult> => {
      const [cmd, ...args] = argv(key);
      return run(cmd!, args, { check: false, timeoutMs: 30_000 });
    };
    assert.equal((await exec('ExecStartPre')).code, 0);
    const [bin, ...args] = argv('ExecStart');
    assert.equal(bin, '/usr/local/bin/tgvfs');
    const cli = startCli(args);
    try {
      await cli.waitForLine(/^mounted /, 90_000);
      const txt = await run(requireProgram('cat'), [path.join(dir, 'docs/b.txt')]);
      assert.equal(txt.stdout.toString(), B_TXT.toString());
      const stop = await exec('ExecStop');
      assert.equal(stop.code, 0, `ExecStop: ${stop.stderr}`);
      // Unmounted from outside, tgvfs ends by itself, cleanly: no SIGTERM needed from systemd.
      assert.deepEqual(await cli.exit(15_000), { code: 0, signal: null });
      assert.match(cli.stderr(), /was unmounted from outside/);
      await exec('ExecStopPost'); // its failure is ignored (`-`): nothing is left to detach
      assert.equal(await mountAt(dir), null);
    } finally {
      await cli.kill();
      await forceUnmount(dir);
    }
  });

  it('a bad config fails with tgvfs\'s own message, exit 32 and nothing mounted', async () => {
    const dir = await makeMountDir();
    dirs.push(dir);
    const log = path.join(tmp, 'bad.log');
    const bad = path.join(tmp, 'bad-config.json');
    await writeFile(bad, JSON.stringify({ apiId: 'not a number', bots: [] }));
    try {
      const r = await run(HELPER, [bad, dir, '-o', `log=${log}`], { check: false, timeoutMs: 60_000 });
      assert.equal(r.code, 32, `exit ${r.code}; stderr: ${r.stderr}`);
      assert.match(r.stderr, /^mount\.tgvfs: tgvfs mount .* failed \(exit 2\); see /m);
      // The config's problem itself, as `tgvfs mount` printed it.
      assert.match(r.stderr, /tgvfs mount: .*apiId/);
      assert.equal(await mountAt(dir), null);
      assert.equal(await loggedPid(log), null);
    } finally {
      await cleanUp(log, dir);
    }
  });

  it('env.NAME=VALUE reaches tgvfs (a bad TGVFS_LOG_LEVEL fails the mount with its message)', async () => {
    const dir = await makeMountDir();
    dirs.push(dir);
    const log = path.join(tmp, 'env.log');
    try {
      const r = await run(HELPER, [f!.configPath, dir, '-o', `log=${log},env.TGVFS_LOG_LEVEL=chatty`], { check: false, timeoutMs: 60_000 });
      assert.equal(r.code, 32, r.stderr);
      assert.match(r.stderr, /^ {2}tgvfs mount: TGVFS_LOG_LEVEL must be one of /m);
      // The log names the variable, never its value (env. may carry a token).
      assert.match(await readFile(log, 'utf8'), /\(environment: TGVFS_LOG_LEVEL\)$/m);
      assert.equal(await mountAt(dir), null);
    } finally {
      await cleanUp(log, dir);
    }
  });

  it('a missing config or mount point fails before starting anything', async () => {
    const dir = await makeMountDir();
    dirs.push(dir);
    const log = path.join(tmp, 'missing.log');
    const noConfig = await run(HELPER, [path.join(tmp, 'nope.json'), dir, '-o', `log=${log}`], { check: false });
    assert.equal(noConfig.code, 32);
    assert.match(noConfig.stderr, /^mount\.tgvfs: config file .*nope\.json not found$/m);
    const noDir = await run(HELPER, [f!.configPath, path.join(tmp, 'no-such-dir'), '-o', `log=${log}`], { check: false });
    assert.equal(noDir.code, 32);
    assert.match(noDir.stderr, /mount point .*no-such-dir does not exist/);
    const usage = await run(HELPER, [f!.configPath], { check: false });
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /usage: mount\.tgvfs CONFIG DIR/);
    assert.equal(await mountAt(dir), null);
  });

  it('-o options become tgvfs mount flags only when tgvfs mount has them (-f -v: a dry run)', async () => {
    const dir = await makeMountDir();
    dirs.push(dir);
    const help = (await run(process.execPath, [path.join(repoRoot, 'bin/tgvfs'), 'mount', '--help'])).stdout.toString();
    const opts = 'rw,_netdev,allow_other,x-systemd.requires=network-online.target,log_level=debug,ipv6,attr_timeout=30,made_up=1,env.TGVFS_BOTS=1:secret';
    const r = await run(HELPER, [f!.configPath, dir, '-f', '-v', '-o', opts], { check: false });
    assert.equal(r.code, 0, r.stderr);
    const line = /would run: (.*)$/m.exec(r.stderr)?.[1] ?? '';
    const attr = help.includes('--attr-timeout') ? ' --attr-timeout 30' : '';
    assert.ok(line.endsWith(`mount ${dir} --config ${f!.configPath} --log-level debug --ipv6${attr} (environment: TGVFS_BOTS)`), line);
    assert.doesNotMatch(r.stderr, /secret/);
    assert.doesNotMatch(line, /_netdev|x-systemd|allow|made|--rw/);
    assert.equal(await mountAt(dir), null);
  });
});

describe('systemd units in mount/', () => {
  it('pass our syntax check: sections, known keys, restart, network-online, clean stop', async () => {
    for (const name of UNITS) {
      const text = await readFile(path.join(repoRoot, 'mount', name), 'utf8');
      assert.deepEqual(checkUnitSyntax(text), [], name);
      assert.match(text, /^Restart=on-failure$/m, name);
      assert.match(text, /^After=network-online\.target$/m, name);
      assert.match(text, /^Wants=network-online\.target$/m, name);
      assert.match(text, /^KillSignal=SIGTERM$/m, name);
    }
    const mountUnit = await readFile(path.join(repoRoot, 'mount/tgvfs-mount@.service'), 'utf8');
    assert.match(mountUnit, /^ExecStop=-\/bin\/fusermount -u %f$/m);
    assert.match(mountUnit, /^ExecStart=\/usr\/local\/bin\/tgvfs mount %f --config /m);
  });

  it('our syntax check finds what is wrong in a broken unit', () => {
    const problems = checkUnitSyntax('Description=x\n[Unit]\nDescripton=typo\n[Service]\nExecStart=tgvfs serve\nRestart=sometimes\n[Bogus]\n');
    assert.deepEqual(problems, [
      'line 1: Description= outside a section',
      'line 3: unknown key Descripton= in [Unit]',
      'line 5: ExecStart= needs an absolute path, got "tgvfs serve"',
      'line 6: Restart=sometimes is not one of no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always',
      'line 7: unknown section [Bogus]',
    ]);
  });

  it('pass systemd-analyze verify', async (t) => {
    const analyze = findProgram('systemd-analyze');
    if (!analyze) {
      // .ci/run does not install systemd (too heavy for a container); our own check above runs.
      t.skip('systemd-analyze is not installed (package systemd); the units were checked by our own syntax check only');
      return;
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-units-'));
    try {
      // verify checks that ExecStart's program exists: point it at this checkout's bin/tgvfs, as
      // an installer pointing the units at its tgvfs would; an instance for the template.
      const bin = path.join(repoRoot, 'bin/tgvfs');
      const files: string[] = [];
      for (const name of UNITS) {
        const text = (await readFile(path.join(repoRoot, 'mount', name), 'utf8')).replaceAll('/usr/local/bin/tgvfs', bin);
        const file = path.join(dir, name.replace('@.', '@mnt-tg.'));
        await writeFile(file, text);
        files.push(file);
      }
      const r = await run(analyze, ['verify', ...files], { check: false, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'systemd-analyze verify warned');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
