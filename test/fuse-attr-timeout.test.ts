// `tgvfs mount --attr-timeout <SECONDS>` / TGVFS_ATTR_TIMEOUT: how long the kernel caches names and
// attributes (config/attr-timeout.ts says why a long cache is safe). The flag wins over the
// environment; a bad value is a usage error (exit 2, one line) before anything is mounted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ATTR_TIMEOUT_SECONDS, resolveAttrTimeout } from '../src/config/attr-timeout';
import { runCli } from '../support/cli-process';

describe('--attr-timeout', () => {
  it('flag, then TGVFS_ATTR_TIMEOUT, then the default of 60 s', () => {
    assert.equal(DEFAULT_ATTR_TIMEOUT_SECONDS, 60);
    assert.equal(resolveAttrTimeout(undefined, {}), 60);
    assert.equal(resolveAttrTimeout(undefined, { TGVFS_ATTR_TIMEOUT: '300' }), 300);
    assert.equal(resolveAttrTimeout('0.5', { TGVFS_ATTR_TIMEOUT: '300' }), 0.5);
    assert.equal(resolveAttrTimeout('0', {}), 0);
    assert.throws(() => resolveAttrTimeout('-1', {}), /--attr-timeout must be a number of seconds/);
    assert.throws(() => resolveAttrTimeout(undefined, { TGVFS_ATTR_TIMEOUT: 'soon' }), /TGVFS_ATTR_TIMEOUT must be/);
  });

  it('tgvfs mount: listed in --help, a bad value exits 2 naming the flag', () => {
    const help = runCli(['mount', '--help']);
    assert.match(help.stdout, /--attr-timeout <SECONDS>/);
    const bad = runCli(['mount', '/nonexistent-tgvfs-mnt', '--attr-timeout', 'forever']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--attr-timeout must be a number of seconds from 0 to 31536000, got "forever"/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  });
});
