import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Tests compile to dist/test/, so the repo root is two levels up.
const root = path.resolve(__dirname, '../..');
const bin = path.resolve(__dirname, '../../bin/tgvfs');

function tgvfs(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS = ['demo', 'emulator', 'serve', 'mount', 'index', 'doctor', 'hash-password'];

test('tgvfs --help lists every command, the variables and the exit codes, and exits 0', () => {
  const r = tgvfs('--help');
  assert.equal(r.status, 0, r.stderr);
  for (const cmd of COMMANDS) {
    assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), `--help lists ${cmd}:\n${r.stdout}`);
  }
  assert.match(r.stdout, /TGVFS_API_ID/);
  assert.match(r.stdout, /Exit codes:/);
  // Every command works: nothing in the help says otherwise.
  assert.doesNotMatch(r.stdout, /not there yet/);
});

test('every command has --help (exit 0, a usage line)', () => {
  for (const cmd of COMMANDS) {
    const r = tgvfs(cmd, '--help');
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: tgvfs ${cmd}\\b`, 'm'), `${cmd} --help:\n${r.stdout}`);
  }
});

test('tgvfs mount --help shows DIR and --config and exits 0', () => {
  const r = tgvfs('mount', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /DIR/);
  assert.ok(r.stdout.includes('--config'), r.stdout);
  assert.doesNotMatch(r.stdout, /not there yet/);
});

test('tgvfs mount without DIR or with a missing config is a usage error (exit 2, one line)', () => {
  const u = tgvfs('mount');
  assert.equal(u.status, 2, u.stderr);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgvfs-cli-'));
  try {
    const missing = path.join(dir, 'missing.json');
    const r = tgvfs('mount', path.join(dir, 'nowhere'), '--config', missing);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stderr, `tgvfs mount: ${missing}: no such file\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tgvfs emulator --help shows every flag', () => {
  const r = tgvfs('emulator', '--help');
  assert.equal(r.status, 0, r.stderr);
  for (const flag of ['--data', '--listen', '--bots', '--config-out', '--latency', '--bandwidth', '--flood-wait',
    '--drop-every', '--expire-refs', '--rpc-timeouts', '--internal-errors', '--strict-offsets', '--file-dc', '--auth-flood', '--difference-slice']) {
    assert.ok(r.stdout.includes(flag), `emulator --help shows ${flag}`);
  }
  assert.doesNotMatch(r.stdout, /not there yet/);
});

test('usage errors exit 2 with one line naming the flag', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgvfs-cli-'));
  try {
    const cfg = path.join(dir, 'cfg.json');
    const base = ['emulator', '--data', dir, '--config-out', cfg];
    const cases: [string[], RegExp][] = [
      [['emulator', '--config-out', cfg], /--data/],
      [['emulator', '--data', dir], /--config-out/],
      [[...base, '--flood-wait', 'x'], /--flood-wait must be EVERY:SECONDS.*got "x"/],
      [[...base, '--bots', '0'], /--bots must be a positive integer, got "0"/],
      [[...base, '--listen', 'nowhere'], /--listen must be HOST:PORT/],
      [[...base, '--latency', '-5'], /--latency/],
      [[...base, '--bandwidth', '1MB'], /--bandwidth/],
      [[...base, '--drop-every', 'x'], /--drop-every/],
      [[...base, '--expire-refs', '1.5'], /--expire-refs/],
      [[...base, '--rpc-timeouts', '1.5'], /--rpc-timeouts/],
      [[...base, '--internal-errors', 'half'], /--internal-errors/],
      [[...base, '--auth-flood', 'x'], /--auth-flood/],
      [[...base, '--difference-slice', '-1'], /--difference-slice/],
      [[...base, '--file-dc', '9'], /--file-dc/],
      [['emulator', '--data', path.join(dir, 'missing'), '--config-out', cfg], /--data must be an existing directory/],
      [['emulator', '--data', dir, '--config-out', path.join(dir, 'no', 'cfg.json')], /--config-out/],
      [[...base, '--no-such-flag'], /--no-such-flag/],
      [['no-such-command'], /no-such-command/],
      [[], /Usage: tgvfs/],
    ];
    for (const [args, re] of cases) {
      const r = tgvfs(...args);
      assert.equal(r.status, 2, `tgvfs ${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, re, `tgvfs ${args.join(' ')}`);
      if (args.length > 0) assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(fs.existsSync(cfg), false, 'no config written on a usage error');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
