// Worker against the emulator: login, session reuse, GramJS's own downloadFile over our transport
// (FastIge, DC sockets, trusted emulator key), exact parts, FILE_MIGRATE, errors, clean exit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { startEmulator } from '../src/emulator';
import { startSocks5Server } from './helpers/telegram-socks5';
import type { EmulatorHandle } from '../src/emulator/types';
import type { TgvfsConfig } from '../src/config/schema';
import {
  FloodWaitError,
  InvalidTokenError,
  MessageNotFoundError,
  NoThumbnailError,
  TelegramRpcError,
  Worker,
  isFastIgeInstalled,
  toTgvfsError,
  type WorkerOptions,
} from '../src/telegram';
import { expectRejects } from './helpers/assertions';

const MiB = 1024 * 1024;

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function workerOptions(cfg: TgvfsConfig, token: string, sessionDir: string): WorkerOptions {
  return { token, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir, telegram: cfg.telegram };
}

function importCount(emu: EmulatorHandle): number {
  return emu.stats().calls['auth.importBotAuthorization'] ?? 0;
}

function channelId(cfg: TgvfsConfig, name: string): number {
  const ch = cfg.channels.find((c) => c.name === name);
  assert.ok(ch, `channel ${name} in the emulator config`);
  return ch.id;
}

/**
 * Runs a child process that starts a worker, optionally reads one part, stops it, prints
 * "stopped" and then simply returns. Resolves with the ms between "stopped" and the exit.
 */
async function exitDelayAfterStop(opts: WorkerOptions, read?: { channel: number; msgId: number }): Promise<number> {
  const entry = path.resolve(__dirname, '../src/telegram/index.js');
  const script = `
    const { Worker } = require(${JSON.stringify(entry)});
    (async () => {
      const { opts, read } = JSON.parse(process.env.TGVFS_TEST_CHILD);
      const w = await Worker.start(opts);
      if (read) {
        const loc = await w.getDocumentLocation(read.channel, read.msgId);
        await w.getFilePart(loc.location, 0, 65536);
      }
      await w.stop();
      process.stdout.write('stopped\\n');
    })().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\\n'); process.exit(3); });
  `;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, TGVFS_TEST_CHILD: JSON.stringify({ opts, read }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stoppedAt = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    if (d.toString().includes('stopped')) stoppedAt = Date.now();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  assert.equal(code, 0, `child failed: ${stderr}`);
  assert.ok(stoppedAt > 0, 'child reported stop');
  return Date.now() - stoppedAt;
}

describe('Worker on the emulator (home DC holds the files)', () => {
  let emu: EmulatorHandle | undefined;
  let tmp = '';
  let sessionDir = '';
  let cfg: TgvfsConfig;
  let big: Buffer;
  const small = Buffer.from('hello from tgvfs\n'.repeat(300));
  const thumb = randomBytes(6_000);
  // Message ids in name order, thumbnails skipped: big.bin 1, clip.mp4 2, small.txt 3.
  const BIG = 1;
  const CLIP = 2;
  const SMALL = 3;
  const workers: Worker[] = [];

  const start = async (opts: WorkerOptions): Promise<Worker> => {
    const w = await Worker.start(opts);
    workers.push(w);
    return w;
  };

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-worker-'));
    const dataDir = path.join(tmp, 'data');
    await fs.mkdir(path.join(dataDir, 'one'), { recursive: true });
    big = randomBytes(20 * MiB);
    await fs.writeFile(path.join(dataDir, 'one', 'big.bin'), big);
    await fs.writeFile(path.join(dataDir, 'one', 'small.txt'), small);
    await fs.writeFile(path.join(dataDir, 'one', 'clip.mp4'), randomBytes(100_000));
    await fs.writeFile(path.join(dataDir, 'one', 'clip.jpg'), thumb); // the thumbnail of clip.mp4
    sessionDir = path.join(tmp, 'sessions'); // created by the store
    emu = await startEmulator({ dataDir, bots: 2 });
    cfg = emu.config;
  });

  after(async () => {
    for (const w of workers) await w.stop().catch(() => undefined);
    await emu?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('logs in with a bot token and persists the session (0600 in a 0700 dir)', async () => {
    const token = cfg.bots[0];
    assert.ok(token);
    const w = await start(workerOptions(cfg, token, sessionDir));
    assert.equal(w.id, Number(token.split(':')[0]));
    assert.equal(w.loginKind, 'imported');
    assert.equal(w.homeDcId, 2);
    assert.ok(isFastIgeInstalled());
    assert.equal(importCount(emu!), 1);

    const file = path.join(sessionDir, `${w.id}.session`);
    const st = await fs.stat(file);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal((await fs.stat(sessionDir)).mode & 0o777, 0o700);
    const secret = token.slice(token.indexOf(':') + 1);
    assert.ok(!(await fs.readFile(file, 'utf8')).includes(secret));
    for (const name of await fs.readdir(sessionDir)) assert.ok(!name.includes(secret));
  });

  test("GramJS's own downloadFile of a 20 MiB file matches the source", async () => {
    const w = workers[0]!;
    const loc = await w.getDocumentLocation(channelId(cfg, 'one'), BIG);
    assert.equal(loc.fileName, 'big.bin');
    assert.equal(loc.size, big.length);
    const got = await w.client.downloadFile(loc.location, { dcId: loc.dcId, fileSize: bigInt(loc.size) });
    assert.ok(Buffer.isBuffer(got));
    assert.equal(got.length, big.length);
    assert.equal(sha256(got), sha256(big));
  });

  test('getFilePart returns exact ranges; illegal limits are TelegramRpcError', async () => {
    const w = workers[0]!;
    const loc = await w.getDocumentLocation(channelId(cfg, 'one'), BIG);
    const part = await w.getFilePart(loc.location, 3 * MiB, MiB, { dcId: loc.dcId });
    assert.ok(part.equals(big.subarray(3 * MiB, 4 * MiB)));
    const last = await w.getFilePart(loc.location, 20 * MiB - 4096, 4096);
    assert.ok(last.equals(big.subarray(20 * MiB - 4096)));
    const precise = await w.getFilePart(loc.location, 5 * 1024, 1024, { precise: true });
    assert.ok(precise.equals(big.subarray(5 * 1024, 6 * 1024)));

    const bad = await expectRejects(w.getFilePart(loc.location, 0, 1000), TelegramRpcError);
    assert.equal(bad.code, 'LIMIT_INVALID');
    assert.equal(bad.method, 'upload.getFile');
    assert.equal(bad.context.worker, w.id);

    const s = await w.getDocumentLocation(channelId(cfg, 'one'), SMALL);
    assert.equal(s.fileName, 'small.txt');
    assert.equal(s.mimeType, 'text/plain');
    const text = await w.getFilePart(s.location, 0, 1024 * 1024);
    assert.ok(text.equals(small));
  });

  test('missing messages and aborted calls', async () => {
    const w = workers[0]!;
    const missing = await expectRejects(w.getMessage(channelId(cfg, 'one'), 999), MessageNotFoundError);
    assert.deepEqual(missing.context, { channel: channelId(cfg, 'one'), msgId: 999, worker: w.id });
    await expectRejects(w.getDocumentLocation(channelId(cfg, 'one'), 999), MessageNotFoundError);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(w.getMessage(channelId(cfg, 'one'), BIG, ac.signal), { name: 'AbortError' });
    // The access hash is cached per worker: a second resolve makes no call.
    const before = emu!.stats().calls['channels.getChannels'] ?? 0;
    await w.resolveChannel(channelId(cfg, 'one'));
    assert.equal(emu!.stats().calls['channels.getChannels'] ?? 0, before);
  });

  test('thumbnails: the largest size (location and bytes), NoThumbnailError without one', async () => {
    const w = workers[0]!;
    const t = await w.getThumbnailLocation(channelId(cfg, 'one'), CLIP);
    assert.equal(t.size, thumb.length);
    assert.equal(t.mimeType, 'image/jpeg');
    assert.ok(t.location.thumbSize);
    assert.ok((await w.getFilePart(t.location, 0, MiB, { dcId: t.dcId })).equals(thumb));
    assert.ok((await w.getThumbnail(channelId(cfg, 'one'), CLIP)).equals(thumb));
    for (const ask of [() => w.getThumbnailLocation(channelId(cfg, 'one'), BIG), () => w.getThumbnail(channelId(cfg, 'one'), BIG)]) {
      const none = await expectRejects(ask(), NoThumbnailError);
      assert.equal(none.code, 'NO_THUMBNAIL');
      assert.deepEqual(none.context, { channel: channelId(cfg, 'one'), msgId: BIG, worker: w.id });
    }
  });

  test('messages.getHistory is refused to bots with BOT_METHOD_INVALID', async () => {
    const w = workers[0]!;
    const peer = await w.resolveChannel(channelId(cfg, 'one'));
    try {
      await w.client.invoke(new Api.messages.GetHistory({ peer, limit: 10 }));
      assert.fail('getHistory should fail for a bot');
    } catch (err) {
      const e = toTgvfsError(err, { worker: w.id });
      assert.ok(e instanceof TelegramRpcError, inspect(err));
      assert.equal(e.code, 'BOT_METHOD_INVALID');
    }
  });

  test('a restarted worker reuses its session: exactly one importBotAuthorization', async () => {
    const token = cfg.bots[0]!;
    await workers[0]!.stop();
    const lines: string[] = [];
    const w = await start({ ...workerOptions(cfg, token, sessionDir), log: (l) => lines.push(l) });
    assert.equal(w.loginKind, 'reused', `the worker said:\n${lines.join('\n')}`);
    assert.equal(importCount(emu!), 1);
    const loc = await w.getDocumentLocation(channelId(cfg, 'one'), BIG);
    const part = await w.getFilePart(loc.location, 0, 4096);
    assert.ok(part.equals(big.subarray(0, 4096)));
    await w.stop();
    assert.equal(importCount(emu!), 1);
  });

  test('a stopped worker lets the process exit at once', async () => {
    const delay = await exitDelayAfterStop(workerOptions(cfg, cfg.bots[0]!, sessionDir), { channel: channelId(cfg, 'one'), msgId: BIG });
    assert.ok(delay < 3000, `process exited ${delay} ms after stop`);
  });

  test('FLOOD_WAIT reaches the caller at once as FloodWaitError (GramJS never sleeps)', async () => {
    // Bot 1: after this its account really is in FLOOD_WAIT for 30 s on the emulator.
    const w = await start(workerOptions(cfg, cfg.bots[1]!, sessionDir));
    const loc = await w.getDocumentLocation(channelId(cfg, 'one'), BIG);
    emu!.setFaults({ floodWait: { every: 2, seconds: 30 } });
    try {
      const t0 = Date.now();
      let flood: FloodWaitError | undefined;
      for (let i = 0; i < 4 && !flood; i++) {
        try {
          await w.getFilePart(loc.location, i * MiB, MiB);
        } catch (err) {
          assert.ok(err instanceof FloodWaitError, inspect(err));
          flood = err;
        }
      }
      assert.ok(flood, 'one of four calls hits FLOOD_WAIT');
      assert.equal(flood.waitSeconds, 30);
      assert.equal(flood.code, 'FLOOD_WAIT');
      assert.equal(flood.context.worker, w.id);
      assert.ok(Date.now() - t0 < 10_000, 'no sleeping inside GramJS');
    } finally {
      emu!.setFaults({ floodWait: null });
      await w.stop();
    }
  });

  test('a wrong token throws InvalidTokenError without the secret', async () => {
    const token = cfg.bots[0]!;
    const botId = token.split(':')[0]!;
    const secret = `WRONG${randomBytes(16).toString('hex')}`;
    const wrongDir = path.join(tmp, 'wrong-sessions');
    const err = await expectRejects(Worker.start(workerOptions(cfg, `${botId}:${secret}`, wrongDir)), InvalidTokenError);
    assert.equal(err.code, 'INVALID_TOKEN');
    assert.equal(err.botId, Number(botId));
    assert.match(err.message, new RegExp(`^bot ${botId} \\(token ${botId}:\\*\\*\\*\\) was refused: ACCESS_TOKEN_INVALID$`));
    for (const text of [err.message, String(err.stack), inspect(err), JSON.stringify(err)]) {
      assert.ok(!text.includes(secret), `secret leaked: ${text}`);
    }
    const files = await fs.readdir(wrongDir).catch(() => [] as string[]);
    assert.deepEqual(files, [], 'no session saved for a refused token');
  });
});

describe('Worker on the emulator (files on DC 4: FILE_MIGRATE)', () => {
  let emu: EmulatorHandle | undefined;
  let tmp = '';
  let cfg: TgvfsConfig;
  let file: Buffer;
  let worker: Worker | undefined;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-migrate-'));
    await fs.mkdir(path.join(tmp, 'data', 'two'), { recursive: true });
    file = randomBytes(3 * MiB + 123);
    await fs.writeFile(path.join(tmp, 'data', 'two', 'far.bin'), file);
    emu = await startEmulator({ dataDir: path.join(tmp, 'data'), bots: 1, fileDc: 4 });
    cfg = emu.config;
  });

  after(async () => {
    await worker?.stop();
    await emu?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('getFilePart follows FILE_MIGRATE and remembers the DC', async () => {
    worker = await Worker.start(workerOptions(cfg, cfg.bots[0]!, path.join(tmp, 'sessions')));
    const loc = await worker.getDocumentLocation(channelId(cfg, 'two'), 1);
    assert.equal(loc.dcId, 4);
    // Without a DC hint: the home DC answers FILE_MIGRATE_4, the worker follows it.
    const first = await worker.getFilePart(loc.location, 0, MiB);
    assert.ok(first.equals(file.subarray(0, MiB)));
    const calls = (): number => emu!.stats().calls['upload.getFile'] ?? 0;
    const before = calls();
    const second = await worker.getFilePart(loc.location, 3 * MiB, MiB);
    assert.ok(second.equals(file.subarray(3 * MiB)));
    assert.equal(calls() - before, 1, 'the remembered DC is asked directly');
    // With the hint from the document.
    const third = await worker.getFilePart(loc.location, MiB, MiB, { dcId: loc.dcId });
    assert.ok(third.equals(file.subarray(MiB, 2 * MiB)));
  });

  test('through a SOCKS5 proxy with credentials: every DC is dialled on its configured port', async () => {
    const proxy = await startSocks5Server({ username: 'tg user', password: 'pa:ss@word' });
    let w: Worker | undefined;
    try {
      w = await Worker.start({
        ...workerOptions(cfg, cfg.bots[0]!, path.join(tmp, 'sessions')),
        proxy: `socks5://${encodeURIComponent('tg user')}:${encodeURIComponent('pa:ss@word')}@127.0.0.1:${proxy.port}`,
      });
      const loc = await w.getDocumentLocation(channelId(cfg, 'two'), 1);
      const part = await w.getFilePart(loc.location, 2 * MiB, MiB);
      assert.ok(part.equals(file.subarray(2 * MiB, 3 * MiB)));
      const dcs = cfg.telegram!.dcs;
      const expected = (id: number) => dcs.find((d) => d.id === id)!;
      assert.ok(proxy.destinations.length >= 2, inspect(proxy.destinations));
      for (const d of proxy.destinations) {
        assert.ok(dcs.some((dc) => dc.host === d.host && dc.port === d.port), `unexpected destination ${inspect(d)}`);
      }
      assert.ok(proxy.destinations.some((d) => d.host === expected(2).host));
      assert.ok(proxy.destinations.some((d) => d.host === expected(4).host));
      assert.equal(proxy.refused, 0);
    } finally {
      await w?.stop();
      await proxy.close();
    }
  });

  test('after reading from another DC, a stopped worker still lets the process exit', async () => {
    const delay = await exitDelayAfterStop(workerOptions(cfg, cfg.bots[0]!, path.join(tmp, 'sessions')), {
      channel: channelId(cfg, 'two'),
      msgId: 1,
    });
    assert.ok(delay < 3000, `process exited ${delay} ms after stop`);
  });
});
