// The pool while the emulator drops connections (`dropEvery`): the calls in flight at a drop, and
// the calls a worker is given while it reconnects, are sent by GramJS on the new connection
// (gramjs/sender-requeue.ts), so every read is byte-exact and no call waits for the pool's call
// timeout, with no lost-call guessing in the pool. (Without the patch, the second test's calls
// asked during the reconnect never settle: the pool logs "got no answer in …" for each and tries
// again only after the timeout.)
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { Api } from 'telegram';
import { WorkerPool } from '../src/index';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { until } from './helpers/eventually';

const SIZE = 12 * MiB;
/** Bytes the emulator sends on one connection before it closes it: a few drops per read. */
const DROP_EVERY = 1_500_000;
/** Long enough that a reconnect (GramJS waits 1 s, then dials) never reaches it; short enough that a lost call shows. */
const CALL_TIMEOUT_MS = 15_000;

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('pool.stream through dropped connections', () => {
  let f: EmulatorFixture | undefined;
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    await f?.close();
    f = undefined;
  });

  it('three concurrent reads are byte-exact, with drops and no call waiting for the call timeout', { timeout: 120_000 }, async () => {
    f = await startFixture({ 'one/big.bin': SIZE });
    const log: string[] = [];
    pool = await WorkerPool.create({ ...f.emu.config, callTimeoutMs: CALL_TIMEOUT_MS, log: (l) => log.push(l) });
    f.emu.setFaults({ dropEvery: DROP_EVERY });
    const ch = channelId(f, 'one');
    const src = f.files.get('one/big.bin')!;
    // Three readers of different stretches: parts are in flight on every worker at each drop.
    const ranges: [number, number][] = [[0, SIZE - 1], [3 * MiB + 17, SIZE - 1], [MiB - 1, 9 * MiB]];
    const got = await Promise.all(ranges.map(([a, b]) => collect(pool!.stream(ch, 1, a, b))));
    ranges.forEach(([a, b], i) => assert.equal(sha256(got[i]!), sha256(src.subarray(a, b + 1)), `bytes ${a}-${b}`));

    const s = f.emu.stats();
    assert.ok((s.faults.DROP ?? 0) >= 3, `connections were dropped: ${JSON.stringify(s.faults)}`);
    const timeouts = log.filter((l) => /got no answer in/.test(l));
    assert.deepEqual(timeouts, [], 'calls waited for the call timeout');
  });

  it('parts asked of a worker while its connection is re-established are answered without waiting for the call timeout', { timeout: 60_000 }, async () => {
    f = await startFixture({ 'one/big.bin': 4 * MiB });
    const log: string[] = [];
    const cfg = f.emu.config;
    // One bot: the pool has no other worker to give the parts to.
    pool = await WorkerPool.create({ ...cfg, bots: [cfg.bots[0]!], callTimeoutMs: CALL_TIMEOUT_MS, log: (l) => log.push(l) });
    const ch = channelId(f, 'one');
    const src = f.files.get('one/big.bin')!;
    assert.ok((await pool.fetchPart(ch, 1, 0, MiB)).equals(src.subarray(0, MiB)));
    const worker = pool.workers[0]!;
    const sender = (worker.client as unknown as { _sender: { isReconnecting: boolean; _sendLoopHandle?: unknown } })._sender;

    // The server drops the connection on its answer to one request; GramJS waits 1 s, then dials.
    f.emu.setFaults({ dropEvery: 1 });
    const cut = worker.client.invoke(new Api.updates.GetState());
    await until(() => (f!.emu.stats().faults.DROP ?? 0) > 0, 5000, () => 'the emulator dropped the connection');
    f.emu.setFaults({ dropEvery: 0 });
    await until(() => sender.isReconnecting, 5000, () => 'GramJS saw the connection close');
    // Meanwhile the pool, which saw no failure, gives the worker a part (which wakes GramJS's old
    // send loop: it leaves), then two more (queued with no send loop running).
    const ask = (i: number): Promise<Buffer> => pool!.fetchPart(ch, 1, i * MiB, MiB);
    const first = ask(1);
    await until(() => sender._sendLoopHandle === undefined, 5000, () => 'the old send loop returned');
    const parts = await Promise.all([first, ask(2), ask(3)]);
    parts.forEach((p, i) => assert.ok(p.equals(src.subarray((i + 1) * MiB, (i + 2) * MiB)), `part ${i + 1} exact`));
    assert.ok((await cut) instanceof Api.updates.State);
    assert.deepEqual(log.filter((l) => /got no answer in/.test(l)), [], 'calls waited for the call timeout');
  });
});
