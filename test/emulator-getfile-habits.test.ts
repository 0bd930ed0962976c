// Real Telegram's getFile habits in the emulator: -503 Timeout and 500 INTERNAL_SERVER_ERROR on a
// deterministic fraction of each bot's upload.getFile calls (exactly every 1/FRACTION-th), set by
// option, by POST /faults and by the CLI flags; --strict-offsets refusing a part whose offset is
// not a multiple of its limit; a bot taken out of a channel refused that channel's files.
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { emulatorOptionsFromFlags } from '../src/cli/main';
import { FractionGate } from '../src/emulator/getfile-faults';
import { ChannelInaccessibleError, TelegramRpcError, TelegramServerError } from '../src/telegram';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

/** Which of `n` calls of `fn` (1-based) failed, and with what. */
async function failures(n: number, fn: (i: number) => Promise<unknown>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 1; i <= n; i++) {
    try {
      await fn(i);
    } catch (err) {
      assert.ok(err instanceof TelegramRpcError, String(err));
      out.set(i, `${err.rpcCode} ${err.code}${err instanceof TelegramServerError ? ' (server)' : ''}`);
    }
  }
  return out;
}

async function postFaults(f: EmulatorFixture, body: unknown): Promise<Response> {
  return fetch(`${f.emu.adminUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('emulator getFile habits', () => {
  let f: EmulatorFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('a fraction fires exactly every 1/FRACTION-th time, never at 0', () => {
    const count = (fraction: number, n: number): number[] => {
      const g = new FractionGate();
      return Array.from({ length: n }, (_, i) => i + 1).filter(() => g.fire(fraction));
    };
    assert.deepEqual(count(0.25, 12), [4, 8, 12]);
    assert.deepEqual(count(0.1, 30), [10, 20, 30], 'float sums of 0.1 still fire on the 10th');
    assert.deepEqual(count(1, 3), [1, 2, 3]);
    assert.deepEqual(count(0, 10), []);
    assert.equal(count(1 / 3, 300).length, 100);
  });

  it('-503 Timeout on every 4th getFile of a bot (per bot), 500 on every 2nd of the rest; counted in /stats', async () => {
    f = await startFixture({ 'one/a.bin': MiB }, { faults: { rpcTimeouts: 0.25 } });
    const [a, b] = [await f.startWorker(0), await f.startWorker(1)];
    const doc = await a.getDocumentLocation(channelId(f, 'one'), 1);
    const got = await failures(8, (i) => a.getFilePart(doc.location, (i - 1) * 4096, 4096));
    assert.deepEqual([...got], [[4, '-503 Timeout (server)'], [8, '-503 Timeout (server)']]);
    const docB = await b.getDocumentLocation(channelId(f, 'one'), 1);
    assert.deepEqual([...(await failures(3, () => b.getFilePart(docB.location, 0, 4096)))], [], 'bot b counts its own calls');
    assert.equal((await postFaults(f, { rpcTimeouts: 0, internalErrors: 0.5 })).status, 200);
    const got500 = await failures(4, (i) => a.getFilePart(doc.location, i * 4096, 4096));
    assert.deepEqual([...got500], [[2, '500 INTERNAL_SERVER_ERROR (server)'], [4, '500 INTERNAL_SERVER_ERROR (server)']]);
    const stats = f.emu.stats();
    assert.equal(stats.faults.Timeout, 2);
    assert.equal(stats.faults.INTERNAL_SERVER_ERROR, 2);
    assert.equal(stats.calls['upload.getFile'], 15);
    const [botA, botB] = f.emu.config.bots.map((t) => t.split(':')[0]!);
    assert.equal(stats.botCalls[botA!]!['upload.getFile'], 12, 'per-bot call counts');
    assert.equal(stats.botCalls[botB!]!['upload.getFile'], 3);
  });

  it('--strict-offsets refuses offset % limit != 0 (OFFSET_INVALID), aligned parts pass; off, the same part is served', async () => {
    f = await startFixture({ 'one/a.bin': 2 * MiB }, { faults: { strictOffsets: true } });
    const w = await f.startWorker(0);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    const src = f.files.get('one/a.bin')!;
    await assert.rejects(w.getFilePart(doc.location, 256 * 1024, 512 * 1024), (err: unknown) => {
      assert.ok(err instanceof TelegramRpcError && !(err instanceof TelegramServerError), String(err));
      assert.equal(err.rpcCode, 400);
      assert.equal(err.code, 'OFFSET_INVALID');
      return true;
    });
    assert.ok((await w.getFilePart(doc.location, 512 * 1024, 512 * 1024)).equals(src.subarray(512 * 1024, MiB)));
    assert.ok((await w.getFilePart(doc.location, 12 * 4096, 4096)).equals(src.subarray(12 * 4096, 13 * 4096)));
    assert.equal(f.emu.stats().faults.OFFSET_INVALID, 1);
    assert.equal((await postFaults(f, { strictOffsets: false })).status, 200);
    assert.ok((await w.getFilePart(doc.location, 256 * 1024, 512 * 1024)).equals(src.subarray(256 * 1024, 768 * 1024)));
  });

  it('POST /faults validates the new settings', async () => {
    f = await startFixture({ 'one/a.bin': 1000 });
    for (const bad of [{ rpcTimeouts: 1.5 }, { internalErrors: -0.1 }, { rpcTimeouts: '0.5' }, { strictOffsets: 1 }]) {
      const r = await postFaults(f, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(((await r.json()) as { error: string }).error, /rpcTimeouts|internalErrors|strictOffsets/);
    }
    const ok = (await (await postFaults(f, { rpcTimeouts: 0.5, internalErrors: 0.1, strictOffsets: true })).json()) as Record<string, unknown>;
    assert.deepEqual([ok.rpcTimeouts, ok.internalErrors, ok.strictOffsets], [0.5, 0.1, true]);
  });

  it('the CLI flags --rpc-timeouts, --internal-errors, --strict-offsets', async () => {
    f = await startFixture({ 'one/a.bin': 1000 });
    const base = { data: f.dataDir, listen: '127.0.0.1:0', configOut: path.join(f.dir, 'c.json'), latency: '0', bandwidth: '0', dropEvery: '0', expireRefs: '0' };
    const o = emulatorOptionsFromFlags({ ...base, rpcTimeouts: '0.25', internalErrors: '.5', strictOffsets: true });
    assert.deepEqual([o.faults?.rpcTimeouts, o.faults?.internalErrors, o.faults?.strictOffsets], [0.25, 0.5, true]);
    const off = emulatorOptionsFromFlags({ ...base, rpcTimeouts: '0', internalErrors: '0' });
    assert.equal(off.faults?.strictOffsets, false);
    assert.throws(() => emulatorOptionsFromFlags({ ...base, rpcTimeouts: '2', internalErrors: '0' }), /--rpc-timeouts must be a fraction from 0 to 1/);
    assert.throws(() => emulatorOptionsFromFlags({ ...base, rpcTimeouts: '0', internalErrors: 'x' }), /--internal-errors must be a fraction/);
  });

  it('a bot taken out of a channel is refused its files (CHANNEL_PRIVATE), even with its reference; its other channels are served', async () => {
    f = await startFixture({ 'one/a.bin': 8192, 'two/b.bin': 8192 });
    const w = await f.startWorker(0);
    const one = await w.getDocumentLocation(channelId(f, 'one'), 1);
    const two = await w.getDocumentLocation(channelId(f, 'two'), 1);
    const r = await fetch(`${f.emu.adminUrl}/membership`, {
      method: 'POST', body: JSON.stringify({ bot: w.id, channel: channelId(f, 'one'), member: false }),
    });
    assert.equal(r.status, 200);
    await assert.rejects(w.getFilePart(one.location, 0, 4096), (err: unknown) => err instanceof ChannelInaccessibleError && err.reason === 'CHANNEL_PRIVATE');
    assert.ok((await w.getFilePart(two.location, 0, 4096)).equals(f.files.get('two/b.bin')!.subarray(0, 4096)));
  });
});
