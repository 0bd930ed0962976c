// GramJS's sender across a dropped connection (src/telegram/gramjs/sender-requeue.ts): a request
// whose answer the drop cut off, and requests invoked while the sender reconnects, are all
// answered on the new connection, each sent once more at most; when the sender cannot reconnect,
// they are rejected as connection failures. GramJS 2.26.22 on its own leaves a request invoked
// during the reconnect waiting for ever (the second test hangs without the patch).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Api } from 'telegram';
import { TelegramConnectionError } from '../src/telegram/errors';
import type { Worker } from '../src/telegram';
import { isSenderRequeueInstalled } from '../src/telegram/gramjs/sender-requeue';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { until } from './helpers/eventually';

/** What the test watches of the worker's GramJS sender (network/MTProtoSender.js). */
interface SenderView {
  isReconnecting: boolean;
  _sendLoopHandle?: Promise<void>;
}

function senderOf(w: Worker): SenderView {
  return (w.client as unknown as { _sender: SenderView })._sender;
}

/** A request only these tests send (GramJS and the worker never call it on their own). */
function getState(w: Worker): Promise<unknown> {
  return w.client.invoke(new Api.updates.GetState());
}

describe('GramJS sender: requests across a reconnect', () => {
  let f: EmulatorFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  /** Makes the server drop the worker's connection on the answer to one request; returns that request (boxed: not awaited). */
  async function dropOnNextAnswer(w: Worker): Promise<{ cut: Promise<unknown> }> {
    const emu = f!.emu;
    const drops = emu.stats().faults.DROP ?? 0;
    emu.setFaults({ dropEvery: 1 });
    const cut = getState(w);
    await until(() => (emu.stats().faults.DROP ?? 0) > drops, 5000, () => 'the emulator dropped the connection');
    // The new connection must not drop: GramJS waits 1 s before it dials again.
    emu.setFaults({ dropEvery: 0 });
    await until(() => senderOf(w).isReconnecting, 5000, () => 'GramJS saw the connection close');
    return { cut };
  }

  it('a request pending when the socket closes, and requests invoked while reconnecting, are all answered', { timeout: 30_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const w = await f.startWorker(0);
    assert.ok(isSenderRequeueInstalled(), 'Worker.start installs the patch');
    const sender = senderOf(w);
    await getState(w);
    const before = f.emu.stats().calls['updates.getState'] ?? 0;

    const { cut } = await dropOnNextAnswer(w);
    // The first request wakes the old send loop, which then leaves (GramJS's own version takes the
    // request with it); the second one is queued with no loop running at all.
    const first = getState(w);
    await until(() => sender._sendLoopHandle === undefined, 5000, () => `the old send loop returned (${JSON.stringify({ r: sender.isReconnecting, h: sender._sendLoopHandle !== undefined })})`);
    const second = getState(w);

    const answers = await Promise.all([cut, first, second]);
    for (const a of answers) assert.ok(a instanceof Api.updates.State, `an updates.State, not ${String(a)}`);
    // The cut-off request went twice (once per connection), the two others once each.
    assert.equal((f.emu.stats().calls['updates.getState'] ?? 0) - before, 4);
    // And the sender keeps working on the new connection.
    assert.ok((await getState(w)) instanceof Api.updates.State);
  });

  it('when the DC cannot be reached again, a request waiting for the reconnect is rejected as a connection failure', { timeout: 30_000 }, async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const w = await f.startWorker(0);
    await getState(w);
    await f.emu.close();
    await until(() => senderOf(w).isReconnecting, 5000, () => 'GramJS saw the connection close');
    const err = await getState(w).then(
      () => assert.fail('answered by a closed emulator'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TelegramConnectionError, `a TelegramConnectionError, not ${String(err)}`);
    assert.equal(err.code, 'CONNECTION');
    assert.match(err.message, /could not be reached again.*updates\.GetState was not answered/);
  });
});
