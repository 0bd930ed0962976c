// tgvfs through an MTProxy (the emulator's, --mtproxy-secret), files on DC 4 so that two DCs are
// reached through it: a worker reads byte-exact and doctor names the transport; `tgvfs serve`
// given the proxy as Telegram shares it (tg://proxy?…, in TGVFS_PROXY, with a dd secret) serves
// a file byte-exact, every connection relayed by the proxy; a wrong secret ends serve with one
// line that says to check the secret, and shows no secret.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../src/app/doctor';
import { TelegramConnectionError, Worker } from '../src/telegram';
import { startCli, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/net';
import { waitUntilIndexed } from '../support/serve-ready';
import { MiB, channelId, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const SECRET = '5eca7e00112233445566778899aabbcc';
const WRONG = '0bad0000112233445566778899aabbcc';
const FILE = 'films/film.bin';
const SIZE = 2 * MiB + 4321;

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TGVFS_')) env[k] = v;
  return { ...env, ...extra };
}

describe('tgvfs through an MTProxy', () => {
  let f: EmulatorFixture;
  const running: CliProcess[] = [];
  const configFile = (): string => `${f.dir}/config.json`;

  before(async () => {
    f = await startFixture({ [FILE]: SIZE }, { bots: 2, watch: false, fileDc: 4, mtproxySecret: SECRET });
  });
  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await f?.close();
  });

  it('the config the emulator writes uses its MTProxy; a worker logs in and reads DC 4 through it', async () => {
    const cfg = f.emu.config;
    const proxy = f.emu.mtproxy!;
    assert.equal(cfg.proxy, `mtproxy://${SECRET}@127.0.0.1:${proxy.port}`);
    const w = await Worker.start({ token: cfg.bots[0]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: `${f.dir}/worker-sessions`, telegram: cfg.telegram, proxy: cfg.proxy, requestTimeoutMs: 20_000 });
    f.workers.push(w);
    assert.equal(w.transport, `MTProxy 127.0.0.1:${proxy.port} (obfuscated, IPv4)`);
    const loc = await w.getDocumentLocation(channelId(f, 'films'), 1);
    assert.equal(loc.dcId, 4);
    const part = await w.getFilePart(loc.location, MiB, MiB, { dcId: loc.dcId });
    assert.ok(part.equals(f.files.get(FILE)!.subarray(MiB, 2 * MiB)));
    assert.ok((proxy.counts.relayed[2] ?? 0) >= 1 && (proxy.counts.relayed[4] ?? 0) >= 1, JSON.stringify(proxy.counts));
  });

  it('doctor says which transport each bot used', async () => {
    const rows = await runDoctor({ ...f.emu.config, sessionDir: `${f.dir}/doctor-sessions` }, { fuse: false, timeoutMs: 20_000 });
    const bots = rows.filter((r) => r.check === 'bot');
    assert.equal(bots.length, 2);
    for (const r of bots) {
      assert.equal(r.status, 'OK', r.detail);
      assert.match(r.detail, new RegExp(`, DC 2, MTProxy 127\\.0\\.0\\.1:${f.emu.mtproxy!.port} \\(obfuscated, IPv4\\), new login`));
    }
  });

  it('serve, given a tg://proxy link with a dd secret in TGVFS_PROXY, serves the file byte-exact through the proxy', async () => {
    const proxy = f.emu.mtproxy!;
    const relayed = (proxy.counts.relayed[2] ?? 0) + (proxy.counts.relayed[4] ?? 0);
    f.emu.resetStats();
    const port = await freePort();
    const link = `tg://proxy?server=127.0.0.1&port=${proxy.port}&secret=dd${SECRET}`;
    const p = startCli(['serve', '--config', configFile(), '--listen', `127.0.0.1:${port}`], {
      env: cleanEnv({ TGVFS_PROXY: link, TGVFS_SESSION_DIR: `${f.dir}/serve-sessions` }),
    });
    running.push(p);
    const url = `http://127.0.0.1:${port}`;
    await p.waitForLine(/^serve ready: /, 60_000);
    await waitUntilIndexed(url, { exited: () => (p.child.exitCode === null ? null : `exit code ${p.child.exitCode}`), logTail: () => p.stderr().slice(-2000) }, 60_000);
    const source = f.files.get(FILE)!;
    const whole = Buffer.from(await (await fetch(`${url}/films/film.bin`)).arrayBuffer());
    assert.equal(sha256(whole), sha256(source));
    const ranged = await fetch(`${url}/films/film.bin`, { headers: { Range: `bytes=${MiB - 10}-${MiB + 9}` } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(source.subarray(MiB - 10, MiB + 10)));
    assert.ok((f.emu.stats().calls['upload.getFile'] ?? 0) >= 3, 'the bytes came from DC 4');
    const relayedNow = (proxy.counts.relayed[2] ?? 0) + (proxy.counts.relayed[4] ?? 0);
    assert.ok(relayedNow >= relayed + 2, `serve's connections went through the proxy: ${JSON.stringify(proxy.counts)}`);
    p.child.kill('SIGTERM');
    assert.equal((await p.exit(15_000)).code, 0);
    assert.ok(!p.stderr().includes(SECRET), 'the secret is not in the logs');
  });

  it('a wrong secret: serve exits 1 with one line saying to check the secret, showing none', async () => {
    const proxy = f.emu.mtproxy!;
    const refused = proxy.counts.refused;
    f.emu.resetStats();
    const p = startCli(['serve', '--config', configFile(), '--listen', `127.0.0.1:${await freePort()}`, '--log-level', 'silent'], {
      env: cleanEnv({ TGVFS_PROXY: `mtproxy://${WRONG}@127.0.0.1:${proxy.port}`, TGVFS_SESSION_DIR: `${f.dir}/wrong-sessions` }),
    });
    running.push(p);
    const { code } = await p.exit(120_000);
    assert.equal(code, 1, p.stderr());
    const lines = p.stderr().split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, p.stderr());
    const at = `127\\.0\\.0\\.1:${proxy.port}`;
    assert.match(lines[0]!, new RegExp(`^tgvfs serve: no bot could log in: bot 1: connection to Telegram failed: cannot reach DC 2 through the MTProxy at ${at}: it accepted the connection but no MTProto answer came back: check the proxy's secret \\[worker \\d+\\]; bot 2: `));
    assert.ok(!p.stderr().includes(WRONG) && !p.stderr().includes(SECRET), 'no secret shown');
    assert.ok(proxy.counts.refused > refused);
    assert.equal(f.emu.stats().calls['auth.importBotAuthorization'] ?? 0, 0, 'no login reached a DC');
  });

  it('a wrong secret through the library: TelegramConnectionError naming the proxy', async () => {
    const cfg = f.emu.config;
    const err = await Worker.start({
      token: cfg.bots[1]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: `${f.dir}/lib-wrong`, telegram: cfg.telegram,
      proxy: `mtproxy://${WRONG}@127.0.0.1:${f.emu.mtproxy!.port}`, connectionRetries: 1,
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TelegramConnectionError, String(err));
    assert.match(err.message, /through the MTProxy at 127\.0\.0\.1:\d+: it accepted the connection but no MTProto answer came back: check the proxy's secret/);
    assert.ok(!err.message.includes(WRONG));
  });
});
