// pool.stream while the emulator drops every connection after a few MB (`dropEvery`): the calls in
// flight at each drop are sent again by GramJS on the new connection (gramjs/sender-requeue.ts),
// so every read is byte-exact and no call waits for the pool's call timeout, with no lost-call
// guessing in the pool. (Without the patch, a call invoked during a reconnect never settles: the
// pool then logs "got no answer in …" for it and moves it on only after the timeout.)
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { WorkerPool } from '../src/index';
import { channelId, MiB, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

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
});
