// No secret anywhere a person or a client can see it: the real `bin/tgvfs serve` on an emulator
// config with basic auth answers every kind of request (401s, a wrong password, 404, 400, 403,
// 405, /healthz with and without credentials, /metrics, PROPFIND, ranges, the HTML listing),
// and fails in every way we can provoke (an invalid config, a bad bot token among good ones,
// only bad tokens, a proxy with a password that cannot be reached, listening in the open without
// auth, a malformed password hash). No bot token or its secret, no api hash, no session string,
// no password (nor its hash, nor the Authorization header sent) may appear in any response
// status line, header or body, nor in the command's stdout or stderr.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import { hashPassword } from '../src/config/credentials';
import { startCli, type CliProcess } from '../support/cli-process';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { freePort } from '../support/net';

const USER = 'operator';
const PASSWORD = 'Pa55-word-that-must-never-show';
const PROXY_PASSWORD = 'proxy-pw-never-shown-93ad';

describe('no secret in any response, header or output', () => {
  let f: EmulatorFixture;
  let passwordHash: string;
  let config: TgvfsConfig;
  const seen: { what: string; text: string }[] = [];

  before(async () => {
    f = await startFixture({ 'docs/hello.txt': Buffer.from('hello\n'), 'docs/data.bin': 70_000 });
    passwordHash = await hashPassword(PASSWORD);
    config = { ...f.emu.config, auth: { type: 'basic', user: USER, passwordHash } };
  });
  after(async () => {
    await f?.close();
  });

  /** Every secret, with a name for the failure message; session strings are added once they exist. */
  async function secrets(extra: Record<string, string> = {}): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    out.set('apiHash', config.apiHash);
    config.bots.forEach((t, i) => {
      out.set(`bots[${i}]`, t);
      out.set(`bots[${i}] secret`, t.slice(t.indexOf(':') + 1));
    });
    out.set('password', PASSWORD);
    out.set('passwordHash', passwordHash);
    out.set('passwordHash key', passwordHash.split('$').pop()!);
    out.set('Authorization header', Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    let files: string[] = [];
    try {
      files = await readdir(config.sessionDir);
    } catch {
      /* none yet */
    }
    for (const file of files.filter((n) => n.endsWith('.session'))) {
      const text = (await readFile(path.join(config.sessionDir, file), 'utf8')).trim();
      out.set(`session ${file}`, text);
      // A long stretch of it is as good as all of it.
      out.set(`session ${file} (middle)`, text.slice(text.length / 2 - 20, text.length / 2 + 20));
    }
    for (const [k, v] of Object.entries(extra)) out.set(k, v);
    return out;
  }

  async function assertNoSecret(extra: Record<string, string> = {}): Promise<void> {
    const all = await secrets(extra);
    for (const { what, text } of seen) {
      for (const [name, secret] of all) {
        assert.ok(secret.length >= 6, `${name} is a meaningful secret`);
        assert.ok(!text.includes(secret), `${name} appears in ${what}:\n${text.slice(0, 2000)}`);
      }
    }
  }

  async function writeConfig(name: string, c: unknown): Promise<string> {
    const file = path.join(f.dir, name);
    await writeFile(file, JSON.stringify(c, null, 2), { mode: 0o600 });
    return file;
  }

  async function record(what: string, r: Response): Promise<Response> {
    const headers = [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
    seen.push({ what, text: `${r.status} ${r.statusText}\n${headers}\n\n${await r.clone().text()}` });
    return r;
  }

  it('serve with auth: every kind of answer, then SIGTERM', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const cli: CliProcess = startCli(['serve', '--config', await writeConfig('auth.json', config), '--listen', `127.0.0.1:${port}`]);
    const good = { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
    const bad = { Authorization: `Basic ${Buffer.from(`${USER}:not-${PASSWORD}`).toString('base64')}` };
    try {
      await cli.waitForLine(/serve ready/, 30_000);
      // Wait for the index (with credentials /healthz tells per channel).
      const deadline = Date.now() + 30_000;
      for (;;) {
        const h = (await (await fetch(`${url}/healthz`, { headers: good })).json()) as { channels?: { indexed: boolean }[] };
        if (h.channels?.every((c) => c.indexed)) break;
        assert.ok(Date.now() < deadline, 'indexed in time');
        await new Promise((r) => setTimeout(r, 100));
      }
      const ch = channelId(f, 'docs');
      const requests: [string, string, RequestInit][] = [
        ['GET /healthz, no credentials', '/healthz', {}],
        ['GET /healthz, credentials', '/healthz', { headers: good }],
        ['GET /, no credentials', '/', {}],
        ['GET /metrics, no credentials', '/metrics', {}],
        ['GET /docs/hello.txt, wrong password', '/docs/hello.txt', { headers: bad }],
        ['PROPFIND /, wrong password', '/', { method: 'PROPFIND', headers: { ...bad, Depth: '1' } }],
        ['GET /stream, no credentials', `/stream/${ch}/1`, {}],
        ['GET /docs/data.bin range', '/docs/data.bin', { headers: { ...good, Range: 'bytes=100-199' } }],
        ['GET /docs/hello.txt', '/docs/hello.txt', { headers: good }],
        ['GET / as HTML', '/', { headers: { ...good, Accept: 'text/html' } }],
        ['PROPFIND / depth 1', '/', { method: 'PROPFIND', headers: { ...good, Depth: '1' } }],
        ['PROPFIND /docs/ depth 1', '/docs/', { method: 'PROPFIND', headers: { ...good, Depth: '1' } }],
        ['OPTIONS /', '/', { method: 'OPTIONS', headers: good }],
        ['GET /metrics', '/metrics', { headers: good }],
        ['GET missing file', '/docs/missing.txt', { headers: good }],
        ['GET bad path', '/docs/a%2Fb', { headers: good }],
        ['PUT', '/docs/new.txt', { method: 'PUT', body: 'x', headers: good }],
        ['POST /healthz', '/healthz', { method: 'POST', headers: good }],
        ['GET /stream unknown message', `/stream/${ch}/999`, { headers: good }],
        ['GET /stream unknown channel', '/stream/-1009999999999/1', { headers: good }],
        ['GET /thumb without thumbnail', `/thumb/${ch}/1`, { headers: good }],
        ['GET range not satisfiable', '/docs/hello.txt', { headers: { ...good, Range: 'bytes=999-' } }],
      ];
      const statuses: Record<string, number> = {};
      for (const [what, p, init] of requests) statuses[what] = (await record(what, await fetch(`${url}${p}`, init))).status;
      // The answers are the ones a user expects (so that the no-secret check saw real answers).
      assert.equal(statuses['GET /healthz, no credentials'], 200);
      assert.equal(statuses['GET /, no credentials'], 401);
      assert.equal(statuses['GET /docs/hello.txt, wrong password'], 401);
      assert.equal(statuses['GET /docs/data.bin range'], 206);
      assert.equal(statuses['GET /metrics'], 200);
      assert.equal(statuses['GET missing file'], 404);
      assert.equal(statuses['GET bad path'], 400);
      assert.equal(statuses['PUT'], 403);
      assert.equal(statuses['GET range not satisfiable'], 416);

      cli.child.kill('SIGTERM');
      assert.equal((await cli.exit(15_000)).code, 0, cli.stderr());
    } finally {
      await cli.kill();
    }
    seen.push({ what: 'serve stdout', text: cli.stdout() }, { what: 'serve stderr', text: cli.stderr() });
    const s = await secrets();
    assert.ok([...s.keys()].some((k) => k.startsWith('session ')), 'session files were written (and are checked)');
    await assertNoSecret();
  });

  it('failures: invalid config, bad tokens, unreachable proxy with a password, open listener, bad hash', { timeout: 120_000 }, async () => {
    const botId = (t: string): string => t.slice(0, t.indexOf(':'));
    const wrongSecret = 'AAwrongSecretThatMustNeverShow_123456';
    const wrongToken = `${botId(config.bots[0]!)}:${wrongSecret}`;
    const malformed = `not-a-token-${wrongSecret}`;
    const cases: [string, unknown, string[]][] = [
      ['invalid config', { ...config, apiId: 'x', channels: [{ id: 5, name: 'a/b' }], bots: [...config.bots, malformed] }, []],
      // Its own session folder: with a saved session for that bot id, the token is not sent at all.
      ['only a bad token', { ...config, bots: [wrongToken], sessionDir: path.join(f.dir, 'bad-token-sessions'), cache: 'memory://' }, []],
      ['a proxy that cannot be reached', { ...config, proxy: `socks5://user:${PROXY_PASSWORD}@127.0.0.1:1` }, []],
      ['a malformed password hash', { ...config, auth: { type: 'basic', user: USER, passwordHash: `scrypt$1$${passwordHash}` } }, []],
      ['an open listener without auth', { ...config, auth: undefined }, ['--listen', '0.0.0.0:0']],
    ];
    for (const [what, c, args] of cases) {
      // Not spawnSync: the emulator answers from this process's event loop.
      const p = startCli(['serve', '--config', await writeConfig(`${what.replace(/\W+/g, '-')}.json`, c), '--listen', '127.0.0.1:0', ...args]);
      try {
        const { code } = await p.exit(60_000);
        assert.ok(code !== 0 && code !== null, `${what}: fails (exit ${code})`);
      } finally {
        await p.kill();
      }
      assert.ok(p.stderr().trim() !== '', `${what}: says why`);
      seen.push({ what: `${what}: stdout`, text: p.stdout() }, { what: `${what}: stderr`, text: p.stderr() });
    }

    // A bad token among good ones: serve runs on the good ones, and says which bot failed.
    const port = await freePort();
    const oneBad = { ...config, bots: [...config.bots, `${botId(config.bots[0]!)}1:${wrongSecret}`] };
    const cli = startCli(['serve', '--config', await writeConfig('one-bad.json', oneBad), '--listen', `127.0.0.1:${port}`]);
    try {
      await cli.waitForLine(/serve ready/, 30_000);
      const r = await fetch(`http://127.0.0.1:${port}/docs/hello.txt`, { headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
      assert.equal(await r.text(), 'hello\n');
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exit(15_000)).code, 0, cli.stderr());
    } finally {
      await cli.kill();
    }
    seen.push({ what: 'one bad token: stdout', text: cli.stdout() }, { what: 'one bad token: stderr', text: cli.stderr() });
    await assertNoSecret({ 'wrong token secret': wrongSecret, 'malformed token': malformed, 'proxy password': PROXY_PASSWORD });
  });
});
