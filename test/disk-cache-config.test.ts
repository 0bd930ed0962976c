// The disk cache's settings: `diskCache` in the file, TGVFS_CACHE_DIR/TGVFS_CACHE_MAX, and
// --cache-dir/--cache-max/--no-disk-cache, merged field by field (flags > env > file), sizes as
// people write them, problems naming what was written, and the default folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, defaultDiskCacheDir } from '../src/config/config-file';
import { resolveConfig } from '../src/config/config-sources';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tgvfs-disk-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function configFile(extra: Record<string, unknown>): string {
  const file = path.join(tmp, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({
    apiId: 1, apiHash: 'f00d', bots: ['1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'],
    channels: [{ id: -1001234567890, name: 'v' }], sessionDir: 'state', ...extra,
  }));
  return file;
}

async function problems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('no ConfigError');
}

describe('disk cache settings', () => {
  it('on by default under the user cache folder; the file sets dir (from its folder) and maxBytes', async () => {
    const plain = await resolveConfig({ file: configFile({}), env: {} });
    assert.deepEqual(plain.diskCache, { dir: defaultDiskCacheDir() });
    assert.equal(defaultDiskCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/tgvfs/blocks');
    assert.equal(defaultDiskCacheDir({}), path.join(os.homedir(), '.cache', 'tgvfs', 'blocks'));
    const set = await resolveConfig({ file: configFile({ diskCache: { dir: 'blocks', maxBytes: '1G' } }), env: {} });
    assert.deepEqual(set.diskCache, { dir: path.join(tmp, 'blocks'), maxBytes: 1024 ** 3 });
    const off = await resolveConfig({ file: configFile({ diskCache: false }), env: {} });
    assert.equal(off.diskCache, false);
  });

  it('variables and flags override field by field; --no-disk-cache turns it off', async () => {
    const file = configFile({ diskCache: { dir: '/from/file', maxBytes: 1000000 } });
    const env = await resolveConfig({ file, env: { TGVFS_CACHE_MAX: '500M' }, cwd: '/w' });
    assert.deepEqual(env.diskCache, { dir: '/from/file', maxBytes: 500 * 1024 ** 2 });
    const flags = await resolveConfig({ file, env: { TGVFS_CACHE_MAX: '500M', TGVFS_CACHE_DIR: 'env-dir' }, cwd: '/w', flags: { cacheMax: '2G' } });
    assert.deepEqual(flags.diskCache, { dir: '/w/env-dir', maxBytes: 2 * 1024 ** 3 });
    const cli = await resolveConfig({ file, env: {}, cwd: '/w', flags: { cacheDir: 'here' } });
    assert.deepEqual(cli.diskCache, { dir: '/w/here', maxBytes: 1000000 });
    const off = await resolveConfig({ file, env: { TGVFS_CACHE_DIR: '/e' }, flags: { diskCache: false, cacheDir: '/ignored' } });
    assert.equal(off.diskCache, false);
    // commander's default for --no-disk-cache (true) changes nothing.
    const on = await resolveConfig({ file, env: {}, flags: { diskCache: true } });
    assert.deepEqual(on.diskCache, { dir: '/from/file', maxBytes: 1000000 });
  });

  it('a bad size or shape is named where it was written', async () => {
    assert.deepEqual(await problems(resolveConfig({ file: configFile({}), env: {}, flags: { cacheMax: 'lots' } })),
      ['--cache-max must be a size in bytes, or with a K/M/G suffix (e.g. 512M, 2G), got "lots"']);
    assert.deepEqual(await problems(resolveConfig({ file: configFile({}), env: { TGVFS_CACHE_MAX: '-3' } })),
      ['TGVFS_CACHE_MAX must be a size in bytes, or with a K/M/G suffix (e.g. 512M, 2G), got "-3"']);
    const file = configFile({ diskCache: 'yes' });
    assert.deepEqual(await problems(resolveConfig({ file, env: {} })), [`${file}: diskCache must be false or an object { "dir", "maxBytes" }, got string`]);
  });
});
