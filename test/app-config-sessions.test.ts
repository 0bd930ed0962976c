// Session strings instead of session files (serverless): a pool given `sessions` logs in with
// none of them re-imported, reads bytes exactly, and writes nothing in its session folder.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configFromEnv } from '../src/config/config-sources';
import { WorkerPool } from '../src/index';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

interface Stats {
  calls: Record<string, number | undefined>;
}

async function adminStats(adminUrl: string): Promise<Stats> {
  const res = await fetch(`${adminUrl}/stats`);
  assert.equal(res.status, 200);
  return (await res.json()) as Stats;
}

async function readAll(pool: WorkerPool, channel: number, msgId: number, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of pool.stream(channel, msgId, 0, size - 1)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('config.sessions: session strings instead of files', () => {
  let f: EmulatorFixture;
  let tmp: string;
  const size = 300_000;

  before(async () => {
    f = await startFixture({ 'docs/a.bin': size }, { bots: 3, watch: false });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-sessions-'));
  });

  after(async () => {
    await f?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('a pool started from the saved strings makes no auth.importBotAuthorization call and writes no file', async () => {
    const cfg = f.emu.config;
    const adminUrl = cfg.emulator!.adminUrl;
    const channel = cfg.channels.find((c) => c.name === 'docs')!.id;
    const expected = f.files.get('docs/a.bin')!;

    // 1. File sessions, as today: one login per bot, one file per bot.
    const fileDir = path.join(tmp, 'file-sessions');
    const first = await WorkerPool.create({ ...cfg, sessionDir: fileDir, cache: 'memory://' });
    try {
      assert.ok((await readAll(first, channel, 1, size)).equals(expected));
    } finally {
      await first.close();
    }
    assert.equal((await adminStats(adminUrl)).calls['auth.importBotAuthorization'], 3);
    const sessions = await Promise.all(cfg.bots.map((t) => readFile(path.join(fileDir, `${t.split(':')[0]}.session`), 'utf8')));
    for (const s of sessions) assert.ok(s.trim().length > 100, 'a saved StringSession');

    // 2. The same strings from the environment (TGVFS_SESSIONS), an empty session folder.
    f.emu.resetStats();
    const emptyDir = path.join(tmp, 'empty');
    await mkdir(emptyDir);
    const fromEnv = configFromEnv({
      TGVFS_API_ID: String(cfg.apiId),
      TGVFS_API_HASH: cfg.apiHash,
      TGVFS_BOTS: cfg.bots.join(','),
      TGVFS_CHANNELS: cfg.channels.map((c) => `${c.id}=${c.name}`).join(','),
      TGVFS_SESSION_DIR: emptyDir,
      TGVFS_CACHE: 'memory://',
      TGVFS_SESSIONS: sessions.map((s) => s.trim()).join(','),
    });
    assert.deepEqual(fromEnv.sessions, sessions.map((s) => s.trim()));
    const second = await WorkerPool.create({ ...fromEnv, telegram: cfg.telegram });
    try {
      assert.equal(second.workers.length, 3);
      assert.deepEqual(second.workers.map((w) => w.loginKind), ['reused', 'reused', 'reused']);
      assert.ok((await readAll(second, channel, 1, size)).equals(expected));
    } finally {
      await second.close();
    }
    const calls = (await adminStats(adminUrl)).calls;
    assert.equal(calls['auth.importBotAuthorization'], undefined);
    assert.ok((calls['upload.getFile'] ?? 0) > 0, 'the bytes came from the emulator');
    assert.deepEqual(await readdir(emptyDir), []);

    // 3. An empty string logs that bot in (once), still without writing a file.
    f.emu.resetStats();
    const third = await WorkerPool.create({ ...fromEnv, telegram: cfg.telegram, sessions: ['', sessions[1]!.trim(), sessions[2]!.trim()] });
    try {
      assert.deepEqual(third.workers.map((w) => w.loginKind).sort(), ['imported', 'reused', 'reused']);
      const fresh = third.workers.find((w) => w.loginKind === 'imported')!;
      assert.ok(fresh.sessionString().length > 100, 'the new session can be read back to keep it');
    } finally {
      await third.close();
    }
    assert.equal((await adminStats(adminUrl)).calls['auth.importBotAuthorization'], 1);
    assert.deepEqual(await readdir(emptyDir), []);
  });
});
