// The pool while the emulator drops connections (`dropEvery`): the calls in flight at a drop, and
// the calls a worker is given while it reconnects, are sent by GramJS on the new connection
// (gramjs/sender-requeue.ts), so every read is byte-exact and no call waits for the pool's call
// timeout, with no lost-call guessing in the pool. (Without the patch, the second test's calls
// asked during the reconnect never settle: the pool logs "got no answer in …" for each and tries
// again only after the timeout.)
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { WorkerPool } from '../src/index';
import type { Worker } from '../src/telegram';
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

/** What the tests watch of a GramJS sender (network/MTProtoSender.js). */
interface SenderView {
  isReconnecting: boolean;
  _sendLoopHandle?: unknown;
  _dcId: number;
}

/** The worker's GramJS sender for `dc`: its home sender, or the one GramJS exported to that DC. */
async function senderFor(w: Worker, dc: number | undefined): Promise<SenderView> {
  const client = w.client as unknown as { _sender: SenderView; _exportedSenderPromises: Map<number, Promise<SenderView>> };
  if (dc === undefined) return client._sender;
  const exported = client._exportedSenderPromises.get(dc);
  assert.ok(exported, `GramJS has a sender for DC ${dc}`);
  return exported;
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

  /**
   * One bot: the server drops the connection that serves the file's DC on its answer to a part;
   * while GramJS reconnects (it waits 1 s, then dials), the pool, which saw no failure, gives the
   * worker a part (which wakes GramJS's old send loop: it leaves), then two more (queued with no
   * send loop running). Every part is answered, none after the call timeout.
   */
  async function partsDuringReconnect(fileDc: number | undefined): Promise<void> {
    f = await startFixture({ 'one/big.bin': 5 * MiB }, fileDc === undefined ? {} : { fileDc });
    const log: string[] = [];
    const cfg = f.emu.config;
    pool = await WorkerPool.create({ ...cfg, bots: [cfg.bots[0]!], callTimeoutMs: CALL_TIMEOUT_MS, log: (l) => log.push(l) });
    const ch = channelId(f, 'one');
    const src = f.files.get('one/big.bin')!;
    const ask = (i: number): Promise<Buffer> => pool!.fetchPart(ch, 1, i * MiB, MiB);
    const exact = (got: Buffer, i: number): void => assert.ok(got.equals(src.subarray(i * MiB, (i + 1) * MiB)), `part ${i} exact`);
    exact(await ask(4), 4);
    const sender = await senderFor(pool.workers[0]!, fileDc);

    f.emu.setFaults({ dropEvery: 1 });
    const cut = ask(0);
    await until(() => (f!.emu.stats().faults.DROP ?? 0) > 0, 5000, () => 'the emulator dropped the connection');
    f.emu.setFaults({ dropEvery: 0 });
    await until(() => sender.isReconnecting, 5000, () => 'GramJS saw the connection close');
    const first = ask(1);
    await until(() => sender._sendLoopHandle === undefined, 5000, () => 'the old send loop returned');
    const parts = await Promise.all([cut, first, ask(2), ask(3)]);
    parts.forEach(exact);
    assert.deepEqual(log.filter((l) => /got no answer in/.test(l)), [], 'calls waited for the call timeout');
  }

  it('parts asked of a worker while its connection is re-established are answered without waiting for the call timeout', { timeout: 60_000 }, async () => {
    await partsDuringReconnect(undefined);
  });

  it('--file-dc 4: the same through the exported sender of DC 4', { timeout: 60_000 }, async () => {
    await partsDuringReconnect(4);
  });
});
