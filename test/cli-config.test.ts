// Settings through the real bin/tgvfs: --listen beats TGVFS_LISTEN beats the config's `listen`
// (seen from the URL `serve` prints and its /healthz), logs are JSON lines without secrets,
// and each failure is one line a person can act on, with its exit code.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/net';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

/** The environment of the test runner without any TGVFS_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TGVFS_')) env[k] = v;
  return { ...env, ...extra };
}

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(args, { env });
  try {
    const { code } = await p.exit(30_000);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    await p.kill();
  }
}

describe('tgvfs serve: flags > env > config file', () => {
  let f: EmulatorFixture;
  let configFile: string;
  const running: CliProcess[] = [];

  before(async () => {
    f = await startFixture({ 'docs/a.txt': Buffer.from('hello\n') }, { bots: 2, watch: false });
    configFile = path.join(f.dir, 'config.json');
  });

  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await f?.close();
  });

  /** Starts serve, returns the port of the URL it prints after checking /healthz there. */
  async function servePort(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
    const p = startCli(['serve', ...args], { env });
    running.push(p);
    const m = await p.waitForLine(/^serve ready: (http:\/\/127\.0\.0\.1:(\d+))\//, 30_000);
    const health = await fetch(`${m[1]}/healthz`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    p.child.kill('SIGTERM');
    const { code } = await p.exit(15_000);
    assert.equal(code, 0, p.stderr());
    // Runtime logs: JSON lines (stderr is a pipe), none holding a token secret or the api hash.
    const lines = p.stderr().split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const entry = JSON.parse(line) as { msg: string; cmd: string };
      assert.equal(entry.cmd, 'serve');
      assert.equal(typeof entry.msg, 'string');
    }
    for (const token of f.emu.config.bots) assert.ok(!p.stderr().includes(token.split(':')[1]!), 'no token secret in the logs');
    assert.ok(!p.stderr().includes(f.emu.config.apiHash), 'no api hash in the logs');
    return Number(m[2]);
  }

  it('the config file, then TGVFS_LISTEN, then --listen decides where serve listens', async () => {
    const [pFile, pEnv, pFlag] = [await freePort(), await freePort(), await freePort()];
    const withListen = path.join(f.dir, 'with-listen.json');
    await writeFile(withListen, JSON.stringify({ ...f.emu.config, listen: `127.0.0.1:${pFile}` }));

    assert.equal(await servePort(['--config', withListen], cleanEnv()), pFile);
    assert.equal(await servePort(['--config', withListen], cleanEnv({ TGVFS_LISTEN: `127.0.0.1:${pEnv}` })), pEnv);
    assert.equal(await servePort(['--config', withListen, '--listen', `127.0.0.1:${pFlag}`], cleanEnv({ TGVFS_LISTEN: `127.0.0.1:${pEnv}` })), pFlag);
    // TGVFS_CONFIG names the file when --config is absent.
    assert.equal(await servePort([], cleanEnv({ TGVFS_CONFIG: withListen, TGVFS_LISTEN: `127.0.0.1:${pEnv}` })), pEnv);
  });

  it('--log-level beats TGVFS_LOG_LEVEL: "error" leaves no info line', async () => {
    const port = await freePort();
    const p = startCli(['serve', '--config', configFile, '--listen', `127.0.0.1:${port}`, '--log-level', 'error'], { env: cleanEnv({ TGVFS_LOG_LEVEL: 'debug' }) });
    running.push(p);
    await p.waitForLine(/^serve ready: /, 30_000);
    p.child.kill('SIGTERM');
    assert.equal((await p.exit(15_000)).code, 0);
    assert.equal(p.stderr(), '');
  });

  it('a bad value exits 2 with one line naming the flag or variable', async () => {
    const flag = await run(['serve', '--config', configFile, '--listen', 'nowhere'], cleanEnv());
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, 'tgvfs serve: --listen must be HOST:PORT (e.g. 127.0.0.1:8080), got "nowhere"\n');
    const env = await run(['serve', '--config', configFile], cleanEnv({ TGVFS_API_ID: 'abc' }));
    assert.equal(env.code, 2);
    assert.equal(env.stderr, 'tgvfs serve: TGVFS_API_ID must be a positive integer (from my.telegram.org), got "abc"\n');
    const level = await run(['serve', '--config', configFile, '--log-level', 'loud'], cleanEnv());
    assert.equal(level.code, 2);
    assert.equal(level.stderr, 'tgvfs serve: --log-level must be one of trace, debug, info, warn, error, fatal, silent\n');
    assert.equal(flag.stdout + env.stdout + level.stdout, '');
  });

  it('no config file and no env: exit 2, naming the file looked for and the variables that would do', async () => {
    const home = path.join(f.dir, 'home');
    const r = await run(['serve'], cleanEnv({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') }));
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `tgvfs serve: no config: ${path.join(home, '.config', 'tgvfs', 'config.json')} does not exist (give --config FILE or TGVFS_CONFIG), and the environment lacks TGVFS_API_ID, TGVFS_API_HASH, TGVFS_BOTS, TGVFS_CHANNELS, TGVFS_SESSION_DIR (set them all to run without a file)\n`,
    );
  });

  it('a refused token: exit 1, one line naming the bot by position and id, never the secret', async () => {
    const secret = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const wrong = path.join(f.dir, 'wrong-token.json');
    await writeFile(wrong, JSON.stringify({ ...f.emu.config, bots: [`7999999999:${secret}`] }));
    const r = await run(['serve', '--config', wrong, '--listen', '127.0.0.1:0'], cleanEnv());
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(
      lines.at(-1),
      'tgvfs serve: no bot could log in: bot 1 (id 7999999999): the token was refused by Telegram (ACCESS_TOKEN_INVALID): check it with @BotFather (/mybots → API Token)',
    );
    assert.equal(lines.filter((l) => !l.startsWith('{')).length, 1, r.stderr);
    assert.ok(!r.stderr.includes(secret));
  });

  it('a port in use: exit 1, one line saying what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await run(['serve', '--config', configFile, '--listen', `127.0.0.1:${port}`], cleanEnv());
      assert.equal(r.code, 1, r.stderr);
      const plain = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
      assert.deepEqual(plain, [
        `tgvfs serve: cannot listen on 127.0.0.1:${port}: the address is already in use: stop what listens there or choose another address (--listen, TGVFS_LISTEN or "listen")`,
      ]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('a channel no bot can read: tgvfs index says to add the bots as administrators (exit 1)', async () => {
    const docs = f.emu.config.channels.find((c) => c.name === 'docs')!;
    const botIds = f.emu.config.bots.map((t) => Number(t.split(':')[0]));
    for (const id of botIds) f.emu.setMembership(id, docs.id, false);
    try {
      const r = await run(['index', '--config', configFile], cleanEnv());
      assert.equal(r.code, 1, r.stderr);
      // Not JSON log lines, nor progress (`docs: 0/1 ids read`, when an earlier run left the channel's state).
      const plain = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{') && !/ ids read, /.test(l));
      assert.equal(plain.length, 1, r.stderr);
      assert.match(plain[0]!, new RegExp(`^tgvfs index: channel "docs" \\(${docs.id}\\): (bot id \\d+|the bots) cannot read it \\(CHANNEL_PRIVATE\\): add every bot to the channel as an administrator, and check the id$`));
    } finally {
      for (const id of botIds) f.emu.setMembership(id, docs.id, true);
    }
  });
});
