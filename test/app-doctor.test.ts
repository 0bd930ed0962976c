// app/doctor.ts: each check's verdict and detail, against the emulator for the network ones.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import {
  FUSE_INSTALL_HINT,
  checkCacheStore,
  checkConfigFile,
  checkFuse,
  clockRow,
  describeStoreUrl,
  hasFailure,
  loginFailureDetail,
  runDoctor,
  type CheckRow,
} from '../src/app/doctor';
import { FloodWaitError, InvalidTokenError, TelegramConnectionError } from '../src/telegram/errors';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const row = (rows: CheckRow[], check: string, target?: string): CheckRow => {
  const r = rows.find((x) => x.check === check && (target === undefined || x.target === target));
  assert.ok(r, `no ${check} row${target ? ` for ${target}` : ''} in ${JSON.stringify(rows)}`);
  return r;
};

describe('doctor: FUSE', () => {
  it('fails each part with the install hint when /dev/fuse, fusermount or libfuse is missing', async () => {
    const rows = await checkFuse({
      devicePath: '/nonexistent/fuse',
      env: { PATH: '/nonexistent' },
      loadFuseNative: () => {
        throw new Error('libfuse.so.2: cannot open shared object file: No such file or directory');
      },
    });
    assert.deepEqual(rows.map((r) => [r.target, r.status]), [['/nonexistent/fuse', 'FAIL'], ['fusermount', 'FAIL'], ['libfuse.so.2', 'FAIL']]);
    for (const r of rows) assert.ok(r.detail.includes(FUSE_INSTALL_HINT), r.detail);
    assert.match(rows[0]!.detail, /^missing: install libfuse2 and fuse \(apt-get install -y libfuse2 fuse\)/);
    assert.match(rows[2]!.detail, /cannot open shared object file/);
  });

  it('fails a device path that is not a character device', async () => {
    const [dev] = await checkFuse({ devicePath: os.tmpdir(), loadFuseNative: () => ({}) });
    assert.equal(dev!.status, 'FAIL');
    assert.match(dev!.detail, /not a character device/);
  });
});

describe('doctor: cache store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-doctor-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets, reads back and deletes a probe key in a sqlite store, and says how long it took', async () => {
    const r = await checkCacheStore(`sqlite://${path.join(dir, 'ok', 'cache.sqlite')}`, 5000);
    assert.equal(r.status, 'OK', r.detail);
    assert.match(r.detail, /^opened in [\d.]+ ms, set\/get\/delete in [\d.]+ ms$/);
    assert.equal(r.target, `sqlite://${path.join(dir, 'ok', 'cache.sqlite')}`);
  });

  it('fails a sqlite path that cannot be created (a file where a folder should be)', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await checkCacheStore(`sqlite://${file}/cache.sqlite`, 5000);
    assert.equal(r.status, 'FAIL');
    assert.match(r.detail, /a-file\/cache\.sqlite: E(EXIST|NOTDIR)/);
  });

  it('fails a scheme with no adapter, naming the scheme and never the credentials', async () => {
    const r = await checkCacheStore('ftp://user:s3cretpass@example.invalid/x', 5000);
    assert.equal(r.status, 'FAIL');
    assert.match(r.detail, /ftp/);
    assert.equal(r.target, 'ftp://example.invalid/x');
    assert.ok(!JSON.stringify(r).includes('s3cretpass'));
  });

  it('describes store URLs without credentials or query', () => {
    assert.equal(describeStoreUrl('redis://:hunter22@127.0.0.1:6379/0?x=1'), 'redis://127.0.0.1:6379/0');
    assert.equal(describeStoreUrl('rediss://u:p@cache.example:6380'), 'rediss://cache.example:6380');
    assert.equal(describeStoreUrl('memory://'), 'memory://');
    assert.equal(describeStoreUrl('no-scheme'), '(not a URL)');
  });
});

describe('doctor: verdicts', () => {
  it('grades clock skew: OK up to 10 s, WARN up to 60 s, FAIL beyond, either direction', () => {
    assert.deepEqual([0, 400, 9_900, -9_900].map((ms) => clockRow(ms, 't').status), ['OK', 'OK', 'OK', 'OK']);
    assert.deepEqual([10_100, -30_000, 60_000].map((ms) => clockRow(ms, 't').status), ['WARN', 'WARN', 'WARN']);
    assert.deepEqual([60_100, -120_000].map((ms) => clockRow(ms, 't').status), ['FAIL', 'FAIL']);
    assert.equal(clockRow(-120_000, 't').detail, "local clock 120.0 s behind Telegram's: set the time (e.g. enable NTP: timedatectl set-ntp true)");
    assert.equal(clockRow(200, 't').detail, "local clock within 1 s of Telegram's");
  });

  it('says what to do about a failed login, without the token', () => {
    assert.equal(loginFailureDetail(new InvalidTokenError(123, 'ACCESS_TOKEN_INVALID')), 'token refused by Telegram (ACCESS_TOKEN_INVALID): check it with @BotFather');
    assert.equal(
      loginFailureDetail(new FloodWaitError(2820, 'auth.importBotAuthorization', { worker: 123 })),
      'flood wait: Telegram asks this bot to wait 47 min before logging in again (2820 s)',
    );
    assert.equal(loginFailureDetail(new TelegramConnectionError('cannot reach DC 2 at 1.2.3.4', { worker: 5 })), 'Telegram unreachable: cannot reach DC 2 at 1.2.3.4');
    assert.equal(hasFailure([{ check: 'a', target: 'b', status: 'WARN', detail: '' }]), false);
    assert.equal(hasFailure([{ check: 'a', target: 'b', status: 'FAIL', detail: '' }]), true);
  });

  it('reads a config file: invalid fields become FAIL rows; a file others can read, a WARN', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-doctor-cfg-'));
    try {
      const bad = path.join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ apiId: 'x', apiHash: 'h', bots: [], channels: [{ id: 5, name: 'a' }], sessionDir: '.' }));
      const r = await checkConfigFile(bad);
      assert.equal(r.config, undefined);
      assert.ok(r.rows.length >= 3 && r.rows.every((x) => x.status === 'FAIL' && x.check === 'config' && x.target === bad));
      assert.ok(r.rows.some((x) => x.detail.startsWith('apiId')));
      assert.ok(r.rows.some((x) => x.detail.startsWith('channels[0].id')));

      const none = await checkConfigFile(path.join(dir, 'none.json'));
      assert.deepEqual(none.rows.map((x) => x.detail), ['no such file (give --config FILE, or set TGVFS_CONFIG)']);

      const open = path.join(dir, 'open.json');
      await writeFile(open, JSON.stringify({ apiId: 1, apiHash: 'h', bots: ['123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], channels: [{ id: -1001000000001, name: 'a' }], sessionDir: '.' }), { mode: 0o644 });
      const o = await checkConfigFile(open);
      assert.ok(o.config);
      assert.equal(o.rows[0]!.status, 'WARN');
      assert.match(o.rows[0]!.detail, /^1 bot\(s\), 1 channel\(s\); it holds bot tokens and others can read it \(mode 0644\): chmod 600 /);
      assert.ok(!JSON.stringify(o.rows).includes('AAAAAAAAAAAAAAAAAAAA'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('doctor: against the emulator', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'films/a.mp4': 5000, 'docs/b.txt': 10 }, { watch: false });
  });
  after(async () => {
    await f?.close();
  });

  it('passes every check, with bot usernames, and stops every worker it started', async () => {
    const rows = await runDoctor(f.emu.config, { fuse: false, timeoutMs: 10_000 });
    assert.deepEqual(rows.filter((r) => r.status !== 'OK'), []);
    const cfg = f.emu.config;
    // store + 3 bots + 2 channels × 3 bots + clock
    assert.equal(rows.length, 1 + 3 + 6 + 1);
    const botId = cfg.bots[0]!.split(':')[0]!;
    // The transport it used: serve-mtproxy.test.ts has the MTProxy case.
    const home = cfg.telegram!.dcs.find((d) => d.id === 2)!;
    assert.match(row(rows, 'bot', `bot ${botId}`).detail, new RegExp(`^@tgvfs_emu_${botId}_bot, DC 2, TCP to 127\\.0\\.0\\.2:${home.port} \\(IPv4\\), `));
    assert.match(row(rows, 'channel', `films via bot ${botId}`).detail, /can read it \(message 1 read\)$/);
    assert.equal(row(rows, 'clock').detail, "local clock within 1 s of Telegram's");
    const calls = f.emu.stats().calls;
    assert.ok((calls['help.getConfig'] ?? 0) >= 1);
    assert.ok((calls['channels.getMessages'] ?? 0) >= 6);
  });

  it('warns about a clock 30 s off and fails one 2 minutes off', async () => {
    const cfg: TgvfsConfig = { ...f.emu.config, bots: f.emu.config.bots.slice(0, 1), channels: f.emu.config.channels.slice(0, 1) };
    const ahead = await runDoctor(cfg, { fuse: false, now: () => Date.now() + 30_000 });
    assert.equal(row(ahead, 'clock').status, 'WARN');
    assert.match(row(ahead, 'clock').detail, /^local clock (29|30|31)\.\d s ahead of Telegram's/);
    const behind = await runDoctor(cfg, { fuse: false, now: () => Date.now() - 120_000 });
    assert.equal(row(behind, 'clock').status, 'FAIL');
    assert.match(row(behind, 'clock').detail, /^local clock (119|120|121)\.\d s behind Telegram's/);
  });

  it('fails every bot, pointing at my.telegram.org, when the api hash is wrong', async () => {
    const apiHash = 'f'.repeat(32);
    const cfg: TgvfsConfig = { ...f.emu.config, apiHash, sessionDir: path.join(f.dir, 'sessions-wrong-hash'), bots: f.emu.config.bots.slice(0, 2) };
    const rows = await runDoctor(cfg, { fuse: false });
    assert.deepEqual(
      rows.filter((r) => r.check === 'bot').map((r) => [r.status, r.detail]),
      Array(2).fill(['FAIL', 'apiId/apiHash refused by Telegram (API_ID_INVALID): check them at my.telegram.org']),
    );
    assert.ok(!JSON.stringify(rows).includes(apiHash));
  });

  it('fails a bot taken out of a channel, naming the bot and the channel; its other channel stays OK', async () => {
    const cfg = f.emu.config;
    const botId = Number(cfg.bots[1]!.split(':')[0]);
    const films = cfg.channels.find((c) => c.name === 'films')!;
    f.emu.setMembership(botId, films.id, false);
    try {
      const rows = await runDoctor(cfg, { fuse: false });
      const r = row(rows, 'channel', `films via bot ${botId}`);
      assert.equal(r.status, 'FAIL');
      assert.equal(r.detail, `add bot @tgvfs_emu_${botId}_bot as an admin of channel films (Telegram says CHANNEL_PRIVATE)`);
      assert.equal(row(rows, 'channel', `docs via bot ${botId}`).status, 'OK');
      assert.deepEqual(rows.filter((x) => x.status !== 'OK').map((x) => x.target), [`films via bot ${botId}`]);
    } finally {
      f.emu.setMembership(botId, films.id, true);
    }
  });
});

describe('doctor: an unreachable Telegram', () => {
  it('fails every bot within the timeout when the DC accepts connections and never answers', async () => {
    const f = await startFixture({ 'films/a.bin': 10 }, { watch: false });
    const silent = net.createServer(() => undefined);
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    try {
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      const cfg: TgvfsConfig = {
        ...f.emu.config,
        sessionDir: path.join(f.dir, 'fresh-sessions'),
        telegram: { ...f.emu.config.telegram!, dcs: f.emu.config.telegram!.dcs.map((d) => ({ ...d, host: '127.0.0.1', port })) },
        bots: f.emu.config.bots.slice(0, 2),
      };
      const t0 = performance.now();
      const rows = await runDoctor(cfg, { fuse: false, timeoutMs: 1000 });
      const ms = performance.now() - t0;
      assert.ok(ms < 5000, `took ${ms} ms`);
      const bots = rows.filter((r) => r.check === 'bot');
      assert.equal(bots.length, 2);
      for (const b of bots) {
        assert.equal(b.status, 'FAIL');
        assert.match(b.detail, /^Telegram unreachable: /);
      }
      assert.deepEqual(rows.filter((r) => r.check === 'channel').map((r) => r.status), ['WARN', 'WARN']);
      assert.deepEqual([row(rows, 'clock').status, row(rows, 'clock').detail], ['WARN', 'not checked: no bot could log in']);
      assert.equal(row(rows, 'cache').status, 'OK');
      assert.equal(f.emu.stats().calls['auth.importBotAuthorization'] ?? 0, 0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await f.close();
    }
  });
});
