// The emulator's login and auth key habits (auth-habits.ts), seen by single workers and through the
// admin endpoint: login FLOOD_WAIT after N logins (longer when retried during it), revoked
// sessions, AUTH_KEY_DUPLICATED and its switch, and the --login-flood flag.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { emulatorOptionsFromFlags } from '../src/cli/main';
import { FloodWaitError, TgvfsError, Worker } from '../src/telegram';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { ManualClock } from './helpers/manual-clock';

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('emulator auth habits', () => {
  let f: EmulatorFixture | undefined;
  const extra: Worker[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((w) => w.stop()));
    await f?.close();
    f = undefined;
  });

  /** A worker of bot `index` from its own session dir (a new auth key) and local address. */
  async function start(index: number, dir: string, localAddress?: string): Promise<Worker> {
    const cfg = f!.emu.config;
    const w = await Worker.start({
      token: cfg.bots[index]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: path.join(f!.dir, dir), telegram: cfg.telegram,
      requestTimeoutMs: 20_000, localAddress,
    });
    extra.push(w);
    return w;
  }

  it('login FLOOD_WAIT after N logins in 10 minutes; a retry during it earns a longer one', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': 4096 }, { clock, faults: { loginFlood: { count: 2, seconds: 100 } } });
    await start(0, 's1');
    await start(0, 's2');
    await assert.rejects(start(0, 's3'), (e: unknown) => e instanceof FloodWaitError && e.waitSeconds === 100);
    clock.advance(10_000);
    await assert.rejects(start(0, 's3'), (e: unknown) => e instanceof FloodWaitError && e.waitSeconds === 190, 'the wait grew by 100 s');
    await start(1, 'other'); // another bot is not concerned
    clock.advance(190_000);
    await start(0, 's3');
    const s = f.emu.stats();
    assert.equal(s.faults.LOGIN_FLOOD_WAIT, 2);
    assert.equal(s.calls['auth.importBotAuthorization'], 6);
  });

  it('POST /faults sets loginFlood and authKeyDuplicated; bad values are 400', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const url = `${f.emu.adminUrl}/faults`;
    assert.deepEqual((await post(url, { loginFlood: '3:60' })).json.loginFlood, { count: 3, seconds: 60 });
    assert.deepEqual((await post(url, { loginFlood: { count: 5, seconds: 1200 } })).json.loginFlood, { count: 5, seconds: 1200 });
    assert.equal((await post(url, { loginFlood: null })).json.loginFlood, null);
    assert.equal((await post(url, { loginFlood: '0:5' })).status, 400);
    assert.equal((await post(url, { authKeyDuplicated: 'no' })).status, 400);
    assert.equal((await post(url, { authKeyDuplicated: false })).json.authKeyDuplicated, false);
  });

  it('POST /revoke: every key of the bot answers 401 SESSION_REVOKED; a new key logs in again', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const w = await start(0, 'a');
    const ch = channelId(f, 'one');
    await w.getMessage(ch, 1);
    const bot = w.id;
    assert.equal((await post(`${f.emu.adminUrl}/revoke`, { bot: 12345 })).status, 400);
    assert.equal((await post(`${f.emu.adminUrl}/revoke`, { bot: '1' })).status, 400);
    assert.deepEqual((await post(`${f.emu.adminUrl}/revoke`, { bot })).json, { bot, revoked: 1 });
    await assert.rejects(w.getMessages(ch, [1]), (e: unknown) => e instanceof TgvfsError && e.code === 'SESSION_REVOKED');
    await w.stop();
    // The saved session's key is refused at connect: a DeadAuthKeyError, never a refused token.
    await assert.rejects(start(0, 'a'), (e: unknown) => e instanceof TgvfsError && e.code === 'AUTH_KEY_DEAD');
    const fresh = await start(0, 'b');
    assert.equal((await fresh.getMessages(ch, [1])).length, 1);
    assert.ok((f.emu.stats().faults.SESSION_REVOKED ?? 0) >= 2);
  });

  it('AUTH_KEY_DUPLICATED for one key from two addresses at once, for both; not when switched off', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const ch = channelId(f, 'one');
    const a = await start(0, 'a', '127.0.0.10');
    await mkdir(path.join(f.dir, 'b'));
    await copyFile(path.join(f.dir, 'a', `${a.id}.session`), path.join(f.dir, 'b', `${a.id}.session`));
    // Same address: one host, two connections (allowed).
    const same = await start(0, 'b', '127.0.0.10');
    await same.getMessages(ch, [1]);
    await same.stop();
    f.emu.setFaults({ authKeyDuplicated: false });
    const off = await start(0, 'b', '127.0.0.11');
    await off.getMessages(ch, [1]);
    await off.stop();
    f.emu.setFaults({ authKeyDuplicated: true });
    await assert.rejects(start(0, 'b', '127.0.0.11'), (e: unknown) => e instanceof TgvfsError && e.code === 'AUTH_KEY_DEAD');
    await assert.rejects(a.getMessages(ch, [1]), (e: unknown) => e instanceof TgvfsError && e.code === 'AUTH_KEY_DUPLICATED', 'the first host is refused too');
    assert.equal(f.emu.stats().faults.AUTH_KEY_DUPLICATED, 2);
  });

  it('--login-flood N:SECONDS', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const flags = { data: f.dataDir, listen: '127.0.0.1:0', configOut: path.join(f.dir, 'c.json'), latency: '0', bandwidth: '0', dropEvery: '0', expireRefs: '0', rpcTimeouts: '0', internalErrors: '0' };
    assert.deepEqual(emulatorOptionsFromFlags({ ...flags, loginFlood: '5:1200' }).faults?.loginFlood, { count: 5, seconds: 1200 });
    assert.equal(emulatorOptionsFromFlags(flags).faults?.loginFlood, null);
    assert.throws(() => emulatorOptionsFromFlags({ ...flags, loginFlood: '0:5' }), /--login-flood must be/);
  });
});
