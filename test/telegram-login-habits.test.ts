// Telegram's login habits against the pool, through the emulator (auth-habits.ts): a login
// FLOOD_WAIT is waited out with the same auth key; a revoked or duplicated key is dropped and the
// worker logs in once with a new one, out of rotation meanwhile, while reads go on elsewhere.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../src/app/server';
import { WorkerPool, type WorkerPoolOptions } from '../src/index';
import type { WorkerHealth, WorkerPool as BasePool } from '../src/telegram/worker-pool';
import type { EmulatorStats } from '../src/emulator';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { closeAfterEach } from './helpers/close-after-each';
import { LogLines } from './helpers/log-lines';
import { ManualClock } from './helpers/manual-clock';

function since(before: EmulatorStats, after: EmulatorStats): { imports: number; keys: number; faults: Record<string, number> } {
  const faults: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.faults)) if (v !== (before.faults[k] ?? 0)) faults[k] = v - (before.faults[k] ?? 0);
  return {
    imports: (after.calls['auth.importBotAuthorization'] ?? 0) - (before.calls['auth.importBotAuthorization'] ?? 0),
    keys: after.authKeysCreated - before.authKeysCreated,
    faults,
  };
}

const botOf = (token: string): number => Number(token.split(':')[0]);

describe('login habits', () => {
  let f: EmulatorFixture | undefined;
  const pools = closeAfterEach<WorkerPool>(() => f, () => (f = undefined));

  async function pool(extra: Partial<WorkerPoolOptions>): Promise<WorkerPool> {
    const p = await WorkerPool.create({ ...f!.emu.config, ...extra });
    pools.push(p);
    return p;
  }

  /** Reads the whole file `times` times, its 1 MiB parts at once, through the pool (no block cache: every read is upstream). */
  async function readsExact(p: BasePool, times: number): Promise<void> {
    const ch = channelId(f!, 'one');
    const want = sha256(f!.files.get('one/a.bin')!);
    for (let i = 0; i < times; i++) {
      const parts = await Promise.all(Array.from({ length: 6 }, (_, k) => p.fetchPart(ch, 1, k * MiB, MiB)));
      assert.equal(sha256(Buffer.concat(parts)), want, `read ${i + 1}`);
    }
  }

  for (const mode of ['session files', 'session strings'] as const) {
    it(`waits a login FLOOD_WAIT out (plus jitter) with the same auth key, one login during the wait (${mode})`, { timeout: 60_000 }, async () => {
      const clock = new ManualClock();
      f = await startFixture({ 'one/a.bin': 6 * MiB }, { clock, faults: { loginFlood: { count: 1, seconds: 600 } } });
      const { bots } = f.emu.config;
      const strings = mode === 'session strings';
      const first = await pool({ bots: [bots[0]!], sessionDir: path.join(f.dir, 'first'), ...(strings ? { sessions: [''] } : {}) });
      await first.close();
      pools.length = 0;

      const before = f.emu.stats();
      const logs = new LogLines();
      const sessionDir = path.join(f.dir, 'second');
      const p = await pool({ sessionDir, loginTimer: clock, log: logs.log, ...(strings ? { sessions: ['', '', ''] } : {}) });
      await logs.waitFor(/login FLOOD_WAIT of 600 s; keeping its auth key/);
      assert.deepEqual(p.workers.map((w) => w.id).sort(), [botOf(bots[1]!), botOf(bots[2]!)].sort());
      assert.deepEqual(since(before, f.emu.stats()), { imports: 3, keys: 3, faults: { LOGIN_FLOOD_WAIT: 1 } });
      const kept = readFile(path.join(sessionDir, `${botOf(bots[0]!)}.session`), 'utf8');
      if (strings) await assert.rejects(kept, { code: 'ENOENT' }, 'with session strings no file is written');
      else assert.ok(await kept, 'the unauthorized key is kept in the session file');
      assert.deepEqual(p.health().find((h) => h.bot === botOf(bots[0]!))?.state, 'logging-in');
      await readsExact(p, 1);

      // The pool sleeps the 600 s it was given plus a little jitter, and nothing logs in meanwhile.
      const wait = await clock.nextWake();
      assert.ok(wait >= 600_000 && wait <= 605_250, `waits ${wait} ms`);
      clock.advance(599_000);
      assert.equal(clock.sleeping, 1, 'still waiting one second before the end');
      assert.equal(since(before, f.emu.stats()).imports, 3);
      clock.advance(wait - 599_000);
      await logs.waitFor(new RegExp(`bot ${botOf(bots[0]!)}: ready`));
      await new Promise((r) => setImmediate(r)); // the pool takes the worker once its start resolves

      assert.deepEqual(since(before, f.emu.stats()), { imports: 4, keys: 3, faults: { LOGIN_FLOOD_WAIT: 1 } }, 'one more login, with the key it kept');
      assert.equal(p.workers.length, 3, logs.lines.join('\n'));
      await readsExact(p, 1);
    });
  }

  it('a revoked bot logs in again once with a new key; reads are byte-exact throughout', { timeout: 60_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 6 * MiB });
    const logs = new LogLines();
    const p = await pool({ restartDelayMs: 50, log: logs.log });
    await readsExact(p, 1);
    const victim = botOf(f.emu.config.bots[0]!);
    const session = path.join(f.emu.config.sessionDir, `${victim}.session`);
    const oldKey = await readFile(session, 'utf8');
    const before = f.emu.stats();
    assert.equal(f.emu.revokeBot(victim), 1);

    const back = logs.waitFor(new RegExp(`worker ${victim}: logged in again with a new auth key after SESSION_REVOKED; back in rotation`));
    await readsExact(p, 3);
    await back;
    await readsExact(p, 1);

    const d = since(before, f.emu.stats());
    assert.equal(d.imports, 1, 'one new login');
    assert.equal(d.keys, 1, 'with one new key');
    assert.ok((d.faults.SESSION_REVOKED ?? 0) >= 1);
    assert.ok(logs.lines.some((l) => l.includes(`worker ${victim}: Telegram refuses its auth key (SESSION_REVOKED); out of rotation`)));
    assert.notEqual(await readFile(session, 'utf8'), oldKey, 'the revoked key is not kept');
    assert.ok(p.health().every((h) => h.state === 'ready'), JSON.stringify(p.health()));
  });

  it('one saved session used from two addresses: AUTH_KEY_DUPLICATED, each pool logs in again with its own key', { timeout: 60_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 6 * MiB });
    const { bots } = f.emu.config;
    const shared = botOf(bots[0]!);
    const dirA = path.join(f.dir, 'a');
    const dirB = path.join(f.dir, 'b');
    const logsA = new LogLines();
    const a = await pool({ bots: [bots[0]!, bots[1]!], sessionDir: dirA, localAddress: '127.0.0.10', restartDelayMs: 50, log: logsA.log });
    await readsExact(a, 1);
    const copied = await readFile(path.join(dirA, `${shared}.session`), 'utf8');
    await mkdir(dirB, { recursive: true });
    await copyFile(path.join(dirA, `${shared}.session`), path.join(dirB, `${shared}.session`));

    const before = f.emu.stats();
    const logsB = new LogLines();
    const b = await pool({ bots: [bots[0]!, bots[2]!], sessionDir: dirB, localAddress: '127.0.0.11', restartDelayMs: 50, log: logsB.log });
    assert.equal(b.workers.length, 2, `pool B starts with both bots:\n${logsB.lines.join('\n')}`);
    assert.ok(logsB.lines.some((l) => l.includes(`worker ${shared}: saved auth key refused (AUTH_KEY_DUPLICATED)`)), logsB.lines.join('\n'));
    const keyB = await readFile(path.join(dirB, `${shared}.session`), 'utf8');
    assert.notEqual(keyB, copied, 'B logged in with its own key');
    await readsExact(b, 1);

    // A's next calls with the shared key are refused too: it logs in again, its reads go on.
    const backA = logsA.waitFor(new RegExp(`worker ${shared}: logged in again with a new auth key after AUTH_KEY_DUPLICATED`));
    await readsExact(a, 3);
    await backA;
    await readsExact(a, 1);
    await readsExact(b, 1);
    const keyA = await readFile(path.join(dirA, `${shared}.session`), 'utf8');
    assert.ok(keyA !== copied && keyA !== keyB, 'A has a key of its own too');

    const d = since(before, f.emu.stats());
    assert.equal(d.imports, 3, "B's two logins and A's one new login");
    assert.equal(d.keys, 3);
    assert.ok((d.faults.AUTH_KEY_DUPLICATED ?? 0) >= 2, JSON.stringify(d.faults));
  });

  it('a new login that fails leaves the worker out of rotation, with a log line and a /healthz entry; reads go on', { timeout: 60_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 6 * MiB });
    const clock = new ManualClock();
    const logs = new LogLines();
    const s = await startServer({ ...f.emu.config, loginTimer: clock, restartDelayMs: 1000 } as typeof f.emu.config, { listen: { host: '127.0.0.1', port: 0 }, log: logs.log });
    try {
      const victim = botOf(f.emu.config.bots[0]!);
      f.emu.revokeBot(victim);
      const refused = logs.waitFor(new RegExp(`worker ${victim}: Telegram refuses its auth key \\(SESSION_REVOKED\\)`));
      await readsExact(s.pool, 2); // parts go to every worker: the victim's are refused and moved
      await refused;
      // Its one new login cannot connect (every connection dropped at its first answer).
      f.emu.setFaults({ dropEvery: 1 });
      clock.advance(await clock.nextWake());
      await logs.waitFor(new RegExp(`worker ${victim}: logging in again after SESSION_REVOKED failed: .*; stays out of rotation`));
      f.emu.setFaults({ dropEvery: 0 });

      const health = (await (await fetch(`${s.url}/healthz`)).json()) as { ready: boolean; workers: WorkerHealth[] };
      assert.equal(health.ready, true);
      const entry = health.workers.find((w) => w.bot === victim);
      assert.equal(entry?.state, 'out', JSON.stringify(health.workers));
      assert.match(entry?.reason ?? '', /^logging in again after SESSION_REVOKED failed: /);
      assert.equal(health.workers.filter((w) => w.state !== 'out').length, 2);
      await readsExact(s.pool, 2);
      assert.deepEqual(s.pool.workers.map((w) => w.id).includes(victim), false);
      assert.equal(clock.sleeping, 0, 'no further login is planned');
    } finally {
      await s.close();
    }
  });
});
