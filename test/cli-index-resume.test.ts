// `tgvfs index` killed with SIGKILL midway goes on where it stopped: the walk position is saved
// after every round of channels.getMessages, so the second run reads only the ids the first did
// not save, and the two runs together read each id about once (100 per call).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog } from '../src/catalog';
import { startCli, type CliProcess } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const MESSAGES = 3000;
/** Calls in flight per round: two per bot (indexer.ts), 3 bots. */
const ROUND = 6;

/** Resolves with the first stderr line matching `re`; rejects on exit or after `timeoutMs`. */
function stderrLine(p: CliProcess, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      for (const line of p.stderr().split('\n')) {
        const m = re.exec(line);
        if (m) return finish(() => resolve(m));
      }
    };
    const finish = (f: () => void): void => {
      clearTimeout(timer);
      p.child.stderr!.off('data', onData);
      p.child.off('exit', onExit);
      f();
    };
    const onData = (): void => void setImmediate(check);
    const onExit = (): void => finish(() => reject(new Error(`tgvfs exited before printing ${re}; stderr:\n${p.stderr()}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`no stderr line ${re} in ${timeoutMs} ms:\n${p.stderr()}`))), timeoutMs);
    p.child.stderr!.on('data', onData);
    p.child.once('exit', onExit);
  });
}

describe('tgvfs index resumes after a kill', () => {
  let f: EmulatorFixture;
  let configFile: string;

  before(async () => {
    const files: Record<string, number> = {};
    for (let i = 0; i < MESSAGES; i++) files[`big/f${String(i).padStart(5, '0')}.bin`] = 1;
    f = await startFixture(files, { watch: false, bots: 3 });
    configFile = path.join(f.dir, 'config.json');
  });

  after(async () => {
    await f?.close();
  });

  it(`${MESSAGES} messages: killed midway, the rerun reads only the rest; ≤ ${MESSAGES / 100} + one round of getMessages in all`, async (t) => {
    // Slow answers, so that the kill lands while ids are still being walked.
    f.emu.setFaults({ latencyMs: 150 });
    const first = startCli(['index', '--config', configFile]);
    let walked: number;
    try {
      const m = await stderrLine(first, /tgvfs index: big: ([1-9]\d*)\/3000 ids read/, 60_000);
      walked = Number(m[1]);
      first.child.kill('SIGKILL');
      const { signal } = await first.exit(10_000);
      assert.equal(signal, 'SIGKILL', 'the first run was killed, not finished');
    } finally {
      await first.kill();
    }
    assert.ok(walked < MESSAGES, `killed at ${walked}`);
    const firstCalls = f.emu.stats().calls['channels.getMessages'] ?? 0;
    f.emu.setFaults({ latencyMs: 0 });
    f.emu.resetStats();

    const second = startCli(['index', '--config', configFile]);
    try {
      const { code } = await second.exit(60_000);
      assert.equal(code, 0, second.stderr());
      assert.match(second.stdout(), new RegExp(`^big: ${MESSAGES} files$`, 'm'));
      // It started where the first run's last save was, not from 1.
      const start = /tgvfs index: big: 0\/(\d+) ids read/.exec(second.stderr());
      assert.ok(start && Number(start[1]) <= MESSAGES - walked, `second run walked ${start?.[1]} ids after ${walked}:\n${second.stderr()}`);
    } finally {
      await second.kill();
    }
    const secondCalls = f.emu.stats().calls['channels.getMessages'] ?? 0;
    assert.ok(secondCalls < MESSAGES / 100, `second run: ${secondCalls} getMessages calls`);
    assert.ok(firstCalls + secondCalls <= MESSAGES / 100 + ROUND, `both runs: ${firstCalls} + ${secondCalls} getMessages calls`);

    t.diagnostic(`killed after ${walked} ids; getMessages calls: ${firstCalls} + ${secondCalls}`);
    const cfg = f.emu.config;
    const catalog = await Catalog.open({ store: cfg.cache, channels: cfg.channels });
    try {
      const files = await catalog.files(cfg.channels[0]!.id);
      assert.equal(files.length, MESSAGES);
      assert.deepEqual(files.map((x) => x.msgId), Array.from({ length: MESSAGES }, (_, i) => i + 1));
    } finally {
      await catalog.close();
    }
  });
});
