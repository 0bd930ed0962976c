// The config schema (config-file.ts) and its sources (config-sources.ts): one line per problem
// naming the field where the person wrote it, no secret in any line, and the precedence
// flags > env (TGVFS_*) > file > defaults.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, validateConfig } from '../src/config/config-file';
import { configFromEnv, resolveConfig } from '../src/config/config-sources';

const TOKEN_SECRET = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const TOKEN = `1234567:${TOKEN_SECRET}`;
const TOKEN2 = '7654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsbb';
const API_HASH = 'f00dfeedcafe0123456789abcdef0000';
const SESSION = `1${'Q'.repeat(350)}=`;
const PROXY_PASSWORD = 'pr0xy-s3cret';
const PASSWORD_HASH = 'scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2g';
const TOKEN_HASH = `sha256$${'ab'.repeat(32)}`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tgvfs-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function good(): Record<string, unknown> {
  return {
    apiId: 12345,
    apiHash: API_HASH,
    bots: [TOKEN],
    channels: [{ id: -1001234567890, name: 'videos' }],
    sessionDir: 'state',
  };
}

function writeConfig(name: string, value: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'CONFIG');
    return err.problems;
  }
  assert.fail('no ConfigError');
}

async function problemsAsync(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('no ConfigError');
}

function assertNoSecret(text: string): void {
  for (const s of [TOKEN_SECRET, TOKEN2.split(':')[1]!, API_HASH, SESSION, PROXY_PASSWORD, PASSWORD_HASH, TOKEN_HASH, 'not-a-hash']) {
    assert.ok(!text.includes(s), `a secret leaked: ${text}`);
  }
}

describe('config schema', () => {
  it('keeps the file rules: relative paths from the file folder, default sqlite cache, `tokens` alias', () => {
    const file = path.join(tmp, 'sub', 'c.json');
    const { bots, ...rest } = good();
    const c = validateConfig({ ...rest, tokens: bots, cache: 'sqlite://rel/cache.db' }, file);
    assert.equal(c.sessionDir, path.join(tmp, 'sub', 'state'));
    assert.equal(c.cache, `sqlite://${path.join(tmp, 'sub', 'rel', 'cache.db')}`);
    assert.deepEqual(c.bots, [TOKEN]);
    const d = validateConfig(good(), file);
    assert.equal(d.cache, `sqlite://${path.join(tmp, 'sub', 'state', 'cache.sqlite')}`);
    assert.equal(d.listen, undefined);
    assert.equal(d.logLevel, undefined);
  });

  it('accepts the new fields: listen, auth (basic and bearer), logLevel, sessions', () => {
    const c = validateConfig({ ...good(), listen: '[::1]:9000', auth: { type: 'basic', user: 'ann', passwordHash: PASSWORD_HASH }, logLevel: 'debug', sessions: [SESSION] }, path.join(tmp, 'c.json'));
    assert.equal(c.listen, '[::1]:9000');
    assert.deepEqual(c.auth, { type: 'basic', user: 'ann', passwordHash: PASSWORD_HASH });
    assert.equal(c.logLevel, 'debug');
    assert.deepEqual(c.sessions, [SESSION]);
    const b = validateConfig({ ...good(), auth: { type: 'bearer', tokenHash: TOKEN_HASH } }, path.join(tmp, 'c.json'));
    assert.deepEqual(b.auth, { type: 'bearer', tokenHash: TOKEN_HASH });
  });

  it('names every bad field in one line each, file first, and shows no secret', () => {
    const file = path.join(tmp, 'bad.json');
    const lines = problems(() => validateConfig({
      apiId: 'x',
      apiHash: '',
      bots: [TOKEN, `12:${TOKEN_SECRET.slice(0, 5)}`],
      channels: [{ id: -1001234567890, name: 'ok' }, { id: 5, name: 'a/b' }],
      sessionDir: 3,
      cache: 'nowhere',
      proxy: `http://u:${PROXY_PASSWORD}@h:1`,
      listen: 'nohost',
      auth: { type: 'basic', user: 'ann', passwordHash: 'not-a-hash' },
      logLevel: 'loud',
      sessions: [SESSION, 5],
    }, file));
    assert.deepEqual(lines, [
      `${file}: apiId must be a positive integer (from my.telegram.org), got "x"`,
      `${file}: apiHash must be a non-empty string (from my.telegram.org), got an empty string`,
      `${file}: bots[1] must be a bot token "<bot id>:<secret>" (value not shown)`,
      `${file}: channels[1].id must be a channel id of the form -100… (e.g. -1001234567890), got 5`,
      `${file}: channels[1].name must be a non-empty folder name without "/", "\\" or control characters`,
      `${file}: sessionDir must be a non-empty path, got number`,
      `${file}: cache must be a keyv URL such as sqlite:///absolute/path.sqlite, redis://host:6379 or memory:// (value not shown)`,
      `${file}: proxy uses http://, which tgvfs cannot use: it must be socks5://[user:pass@]host:port (or socks4://), mtproxy://<secret>@host:port or tg://proxy?server=…&port=…&secret=… (value not shown)`,
      `${file}: listen must be HOST:PORT (e.g. 127.0.0.1:8080), got "nohost"`,
      `${file}: auth.passwordHash must be a hash made by "tgvfs hash-password" (scrypt$…) (value not shown)`,
      `${file}: logLevel must be one of trace, debug, info, warn, error, fatal, silent`,
      `${file}: sessions[1] must be a session string (value not shown)`,
    ]);
    assertNoSecret(lines.join('\n'));
  });

  it('checks across fields: duplicates, one session per bot, the bearer hash form', () => {
    const file = path.join(tmp, 'dup.json');
    assert.deepEqual(problems(() => validateConfig({
      ...good(),
      bots: [TOKEN, TOKEN],
      channels: [{ id: -1001234567890, name: 'Videos' }, { id: -1001234567890, name: 'videos' }],
      sessions: [SESSION],
    }, file)), [
      `${file}: bots has the same token twice`,
      `${file}: channels[1].id repeats id -1001234567890`,
      `${file}: channels[1].name repeats the name "videos" (names are compared ignoring case)`,
      `${file}: sessions must have one entry per bot (2), got 1`,
    ]);
    assert.deepEqual(problems(() => validateConfig({ ...good(), auth: { type: 'bearer', tokenHash: 'sha256$abc' } }, file)), [
      `${file}: auth.tokenHash must be sha256$<64 hex digits>, the SHA-256 of the bearer token (value not shown)`,
    ]);
    assert.deepEqual(problems(() => validateConfig({ ...good(), auth: { type: 'digest' } }, file)), [
      `${file}: auth.type must be "basic" or "bearer"`,
    ]);
    assert.deepEqual(problems(() => validateConfig([], file)), [`${file}: must be a JSON object, got an array`]);
  });
});

describe('config sources: flags > env > file > defaults', () => {
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'xdg'), ...extra });

  it('listen and logLevel: flag beats env beats file; the file fills the rest', async () => {
    const file = writeConfig('prec.json', { ...good(), listen: '127.0.0.1:1001', logLevel: 'warn' });
    const fromFile = await resolveConfig({ file, env: env() });
    assert.equal(fromFile.listen, '127.0.0.1:1001');
    assert.equal(fromFile.logLevel, 'warn');
    const fromEnv = await resolveConfig({ file, env: env({ TGVFS_LISTEN: '127.0.0.1:1002', TGVFS_LOG_LEVEL: 'debug' }) });
    assert.equal(fromEnv.listen, '127.0.0.1:1002');
    assert.equal(fromEnv.logLevel, 'debug');
    assert.equal(fromEnv.apiId, 12345);
    const fromFlag = await resolveConfig({ file, env: env({ TGVFS_LISTEN: '127.0.0.1:1002' }), flags: { listen: '127.0.0.1:1003', logLevel: 'error' } });
    assert.equal(fromFlag.listen, '127.0.0.1:1003');
    assert.equal(fromFlag.logLevel, 'error');
    // The flag's config file wins over TGVFS_CONFIG.
    const other = writeConfig('other.json', { ...good(), listen: '127.0.0.1:2002' });
    const byFlag = await resolveConfig({ env: env({ TGVFS_CONFIG: file }), flags: { config: other } });
    assert.equal(byFlag.listen, '127.0.0.1:2002');
    const byEnv = await resolveConfig({ env: env({ TGVFS_CONFIG: file }) });
    assert.equal(byEnv.listen, '127.0.0.1:1001');
  });

  it('env replaces file fields whole (TGVFS_BOTS replaces `tokens` too); env paths start from cwd', async () => {
    const { bots, ...rest } = good();
    const file = writeConfig('alias.json', { ...rest, tokens: bots });
    const c = await resolveConfig({
      file,
      cwd: '/srv',
      env: env({
        TGVFS_BOTS: ` ${TOKEN2} `,
        TGVFS_CHANNELS: '-1001111111111=films, -1002222222222=music',
        TGVFS_SESSION_DIR: 'sessions',
        TGVFS_PROXY: `socks5://u:${PROXY_PASSWORD}@127.0.0.1:1080`,
        TGVFS_AUTH_USER: 'ann',
        TGVFS_AUTH_PASSWORD_HASH: PASSWORD_HASH,
      }),
    });
    assert.deepEqual(c.bots, [TOKEN2]);
    assert.deepEqual(c.channels, [{ id: -1001111111111, name: 'films' }, { id: -1002222222222, name: 'music' }]);
    assert.equal(c.sessionDir, '/srv/sessions');
    assert.equal(c.cache, 'sqlite:///srv/sessions/cache.sqlite');
    assert.equal(c.proxy, `socks5://u:${PROXY_PASSWORD}@127.0.0.1:1080`);
    assert.deepEqual(c.auth, { type: 'basic', user: 'ann', passwordHash: PASSWORD_HASH });
  });

  it('the environment alone is a config (no file); resolveConfig needs none either', async () => {
    const vars = {
      TGVFS_API_ID: '12345', TGVFS_API_HASH: API_HASH, TGVFS_BOTS: `${TOKEN},${TOKEN2}`,
      TGVFS_CHANNELS: '-1001234567890=videos', TGVFS_SESSION_DIR: '/var/lib/tgvfs', TGVFS_CACHE: 'redis://127.0.0.1:6379',
      TGVFS_SESSIONS: `${SESSION},`, TGVFS_AUTH_TOKEN_HASH: TOKEN_HASH, TGVFS_LISTEN: '0.0.0.0:8080',
    };
    const expected = {
      apiId: 12345, apiHash: API_HASH, bots: [TOKEN, TOKEN2], channels: [{ id: -1001234567890, name: 'videos' }],
      sessionDir: '/var/lib/tgvfs', cache: 'redis://127.0.0.1:6379', listen: '0.0.0.0:8080',
      auth: { type: 'bearer', tokenHash: TOKEN_HASH }, sessions: [SESSION, ''],
    };
    assert.deepEqual(configFromEnv(env(vars)), expected);
    assert.deepEqual(await resolveConfig({ env: env(vars) }), expected);
    // Sessions and a shared cache in the env: no session folder needed (serverless).
    const { TGVFS_SESSION_DIR: _dir, ...serverless } = vars;
    const c = configFromEnv(env(serverless));
    assert.equal(c.sessionDir, path.join(os.tmpdir(), 'tgvfs'));
    assert.equal(c.cache, 'redis://127.0.0.1:6379');
    const { TGVFS_SESSIONS: _s, ...noSessions } = serverless;
    assert.deepEqual(problems(() => configFromEnv(env(noSessions))), ['the environment lacks TGVFS_SESSION_DIR']);
  });

  it('no file and an incomplete environment: says which file was looked for and which variables would do', async () => {
    const lines = await problemsAsync(resolveConfig({ env: env({ TGVFS_API_ID: '1' }) }));
    assert.deepEqual(lines, [
      `no config: ${path.join(tmp, 'xdg', 'tgvfs', 'config.json')} does not exist (give --config FILE or TGVFS_CONFIG), and the environment lacks TGVFS_API_HASH, TGVFS_BOTS, TGVFS_CHANNELS, TGVFS_SESSION_DIR (set them all to run without a file)`,
    ]);
    const missing = path.join(tmp, 'missing.json');
    assert.deepEqual(await problemsAsync(resolveConfig({ env: env({ TGVFS_CONFIG: missing }) })), [`${missing}: no such file`]);
    assert.deepEqual(problems(() => configFromEnv(env({ TGVFS_API_ID: '1', TGVFS_BOTS: TOKEN }))), [
      'the environment lacks TGVFS_API_HASH, TGVFS_CHANNELS, TGVFS_SESSION_DIR',
    ]);
  });

  it('problems name the env var or the flag that gave the value, and no secret', async () => {
    const file = writeConfig('mixed.json', { ...good(), bots: [TOKEN, 'nope'] });
    const lines = await problemsAsync(resolveConfig({
      file,
      env: env({
        TGVFS_API_ID: '12a',
        TGVFS_CHANNELS: '-1001234567890=ok,-5=x,docs',
        TGVFS_SESSIONS: `${SESSION},b,c`,
        TGVFS_AUTH_USER: 'ann',
        TGVFS_AUTH_PASSWORD_HASH: 'not-a-hash',
        TGVFS_LOG_LEVEL: 'loud',
      }),
      flags: { listen: 'bad' },
    }));
    assert.deepEqual(lines, [
      'TGVFS_API_ID must be a positive integer (from my.telegram.org), got "12a"',
      `${file}: bots[1] must be a bot token "<bot id>:<secret>" (value not shown)`,
      'TGVFS_CHANNELS[1].id must be a channel id of the form -100… (e.g. -1001234567890), got -5',
      'TGVFS_CHANNELS[2].id must be a channel id of the form -100… (e.g. -1001234567890), got "docs"',
      'TGVFS_CHANNELS[2].name must be a non-empty folder name without "/", "\\" or control characters',
      '--listen must be HOST:PORT (e.g. 127.0.0.1:8080), got "bad"',
      'TGVFS_AUTH_PASSWORD_HASH must be a hash made by "tgvfs hash-password" (scrypt$…) (value not shown)',
      'TGVFS_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent',
    ]);
    assertNoSecret(lines.join('\n'));
    const sessions = await problemsAsync(resolveConfig({ file: writeConfig('ok.json', good()), env: env({ TGVFS_SESSIONS: `${SESSION},x` }) }));
    assert.deepEqual(sessions, ['TGVFS_SESSIONS must have one entry per bot (1), got 2']);
    const both = await problemsAsync(resolveConfig({ env: env({ TGVFS_AUTH_USER: 'a', TGVFS_AUTH_TOKEN_HASH: TOKEN_HASH }) }));
    assert.match(both[0]!, /^TGVFS_AUTH_TOKEN_HASH \(bearer\) and TGVFS_AUTH_USER\/TGVFS_AUTH_PASSWORD_HASH \(basic\) are both set/);
  });
});
