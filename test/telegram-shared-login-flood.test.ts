// A login FLOOD_WAIT belongs to the bot account: when one instance is told to wait before logging
// a bot in, another instance on the same store (one sqlite file here, as a redis would be) does
// not log that bot in meanwhile, since each login during the wait makes it longer; its other bots
// log in and serve.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkerPool, type WorkerPoolOptions } from '../src/index';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { closeAfterEach } from './helpers/close-after-each';
import { LogLines } from './helpers/log-lines';

const botOf = (token: string): number => Number(token.split(':')[0]);
const imports = (f: EmulatorFixture): number => f.emu.stats().calls['auth.importBotAuthorization'] ?? 0;

describe('login FLOOD_WAIT shared between instances', () => {
  let f: EmulatorFixture | undefined;
  const pools = closeAfterEach<WorkerPool>(() => f, () => (f = undefined));

  async function pool(name: string, extra: Partial<WorkerPoolOptions>): Promise<WorkerPool> {
    // Every instance has its own session folder; the store (`cache` of the emulator's config) is one.
    const p = await WorkerPool.create({ ...f!.emu.config, sessionDir: path.join(f!.dir, name), ...extra });
    pools.push(p);
    return p;
  }

  it('instance B does not log in a bot A was told to wait for, and reads with its other bot', { timeout: 60_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 2 * MiB }, { bots: 2, faults: { loginFlood: { count: 2, seconds: 600 } } });
    const [bot1, bot2] = f.emu.config.bots as [string, string];
    assert.match(String(f.emu.config.cache), /^sqlite:/, 'one store for every instance');
    // Bot 1's first two logins (two instances gone since), then A's: FLOOD_WAIT_600 for that
    // one; bot 2 logs in once at A and once at B, within the 2 logins Telegram allows it.
    await (await pool('first', { bots: [bot1] })).close();
    await (await pool('second', { bots: [bot1] })).close();
    const logsA = new LogLines();
    await pool('a', { bots: [bot1, bot2], log: logsA.log });
    await logsA.waitFor(new RegExp(`worker ${botOf(bot1)}: login FLOOD_WAIT of 600 s`));
    assert.equal(f.emu.stats().faults.LOGIN_FLOOD_WAIT, 1);
    const before = imports(f);

    const logsB = new LogLines();
    const b = await pool('b', { bots: [bot1, bot2], log: logsB.log });
    await logsB.waitFor(new RegExp(`worker ${botOf(bot1)}: another instance was told a login FLOOD_WAIT for this bot; not logging in for 6\\d\\d\\.\\d s`));
    assert.equal(imports(f) - before, 1, "only bot 2 logged in; bot 1's wait was not made longer");
    assert.equal(f.emu.stats().faults.LOGIN_FLOOD_WAIT, 1);
    assert.deepEqual(b.workers.map((w) => w.id), [botOf(bot2)]);
    const part = await b.fetchPart(channelId(f, 'one'), 1, 0, MiB);
    assert.equal(sha256(part), sha256(f.files.get('one/a.bin')!.subarray(0, MiB)));
  });
});
