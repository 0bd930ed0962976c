// Every fault the emulator injects reaches the client as the real thing: FLOOD_WAIT_N (and the
// bot refused until it ends), FILE_REFERENCE_EXPIRED, FILE_MIGRATE_N (followed to the other DC),
// a dropped connection, latency, a bandwidth cap, and an rpc_error for an unknown method. Time is
// the emulator's own (a ManualClock the test steps): no test sleeps or bounds wall time.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { Api } from 'telegram';
import { FloodWaitError, TelegramRpcError } from '../src/telegram';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { ManualClock } from './helpers/manual-clock';

describe('emulator faults', () => {
  let f: EmulatorFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('FLOOD_WAIT every N-th getFile of a bot; the bot is refused until the wait ends; other bots go on', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': 2 * MiB }, { faults: { floodWait: { every: 3, seconds: 1 } }, clock });
    const [a, b] = [await f.startWorker(0), await f.startWorker(1)];
    const doc = await a.getDocumentLocation(channelId(f, 'one'), 1);
    await a.getFilePart(doc.location, 0, 4096);
    await a.getFilePart(doc.location, 4096, 4096);
    await assert.rejects(a.getFilePart(doc.location, 8192, 4096), (err: unknown) => {
      assert.ok(err instanceof FloodWaitError, String(err));
      assert.equal(err.waitSeconds, 1);
      return true;
    });
    await assert.rejects(a.getFilePart(doc.location, 8192, 4096), FloodWaitError, 'still refused during the wait');
    clock.advance(999);
    await assert.rejects(a.getFilePart(doc.location, 8192, 4096), FloodWaitError, 'still refused 1 ms before the wait ends');
    const docB = await b.getDocumentLocation(channelId(f, 'one'), 1);
    assert.equal((await b.getFilePart(docB.location, 0, 4096)).length, 4096, 'another bot is not affected');
    clock.advance(1);
    assert.equal((await a.getFilePart(doc.location, 8192, 4096)).length, 4096, 'served again once the wait is over');
    assert.equal(f.emu.stats().faults.FLOOD_WAIT, 3);
  });

  it('FILE_REFERENCE_EXPIRED when references rotate, and for another bot\'s reference', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': MiB }, { clock });
    const [a, b] = [await f.startWorker(0), await f.startWorker(1)];
    const doc = await a.getDocumentLocation(channelId(f, 'one'), 1);
    await assert.rejects(b.getFilePart(doc.location, 0, 4096), (err: unknown) => err instanceof TelegramRpcError && err.code === 'FILE_REFERENCE_EXPIRED');
    f.emu.setFaults({ expireRefs: 1 });
    const fresh = await a.getDocumentLocation(channelId(f, 'one'), 1);
    assert.ok((await a.getFilePart(fresh.location, 0, 4096)).length === 4096, 'good within its second');
    clock.advance(1000); // the next reference epoch, whatever the clock's millisecond
    await assert.rejects(a.getFilePart(fresh.location, 0, 4096), (err: unknown) => err instanceof TelegramRpcError && err.code === 'FILE_REFERENCE_EXPIRED');
    const again = await a.getDocumentLocation(channelId(f, 'one'), 1);
    assert.ok(again.location.fileReference.equals(fresh.location.fileReference) === false, 'a new reference');
    assert.ok((await a.getFilePart(again.location, 0, 4096)).equals(f.files.get('one/a.bin')!.subarray(0, 4096)));
    assert.equal(f.emu.stats().faults.FILE_REFERENCE_EXPIRED, 2);
  });

  it('FILE_MIGRATE_N on the home DC is followed to DC N (exported authorization)', async () => {
    f = await startFixture({ 'one/a.bin': MiB }, { fileDc: 4 });
    const w = await f.startWorker(0);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    assert.equal(doc.dcId, 4);
    const got = await w.getFilePart(doc.location, 0, 65536);
    assert.ok(got.equals(f.files.get('one/a.bin')!.subarray(0, 65536)));
    const s = f.emu.stats();
    assert.equal(s.faults.FILE_MIGRATE, 1);
    assert.equal(s.calls['auth.exportAuthorization'], 1);
    assert.equal(s.calls['auth.importAuthorization'], 1);
    await w.getFilePart(doc.location, 65536, 65536);
    assert.equal(f.emu.stats().faults.FILE_MIGRATE, 1, 'the DC is remembered: no second migrate');
  });

  it('--drop-every closes the connection after that many bytes; the client reconnects and gets its bytes', async () => {
    f = await startFixture({ 'one/a.bin': MiB });
    const w = await f.startWorker(0);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    f.emu.setFaults({ dropEvery: 150_000 });
    const src = f.files.get('one/a.bin')!;
    for (let off = 0; off < 4 * 65536; off += 65536) {
      assert.ok((await w.getFilePart(doc.location, off, 65536)).equals(src.subarray(off, off + 65536)), `part at ${off}`);
    }
    assert.ok((f.emu.stats().faults.DROP ?? 0) >= 1);
  });

  it('a raw connection is closed after exactly --drop-every bytes', async () => {
    f = await startFixture({ 'one/a.bin': 4096 }, { faults: { dropEvery: 10 } });
    const dc = f.emu.config.telegram!.dcs.find((d) => d.id === 2)!;
    const sock = net.connect(dc.port, dc.host);
    await once(sock, 'connect');
    // An intermediate-transport req_pq_multi: the 84-byte resPQ answer is cut at 10 bytes.
    const body = Buffer.alloc(20 + 20);
    body.writeBigUInt64LE(BigInt(Date.now()) << 22n, 8);
    body.writeUInt32LE(20, 16);
    body.writeUInt32LE(0xbe7e8ef1, 20);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(0xeeeeeeee, 0);
    head.writeUInt32LE(body.length, 4);
    sock.write(Buffer.concat([head, body]));
    let got = 0;
    sock.on('data', (d: Buffer) => (got += d.length));
    await once(sock, 'close');
    assert.equal(got, 10);
  });

  it('--latency delays every answer; --bandwidth caps a connection (in the emulator\'s time)', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': MiB }, { clock });
    const w = await f.startWorker(0);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    f.emu.setFaults({ latencyMs: 120 });
    const served = f.emu.stats().calls['upload.getFile'] ?? 0;
    const answer = w.getFilePart(doc.location, 0, 4096);
    // The call arrives and its answer waits for the clock: 120 ms of it.
    assert.equal(await clock.nextWake(), 120);
    assert.equal(f.emu.stats().calls['upload.getFile'], served + 1, 'the request was served');
    const late = await clock.runUntil(answer);
    assert.equal(late.value.length, 4096);
    assert.ok(late.elapsedMs >= 120 && late.elapsedMs < 240, `answer after ${late.elapsedMs} ms of the emulator's clock`);
    f.emu.setFaults({ latencyMs: 0, bandwidth: 2 * MiB });
    const capped = await clock.runUntil(w.getFilePart(doc.location, 0, MiB));
    assert.ok(capped.value.equals(f.files.get('one/a.bin')!));
    // 1 MiB at 2 MiB/s: 500 ms, less the one burst (B / 50) the bucket may hold when it starts.
    const ms = capped.elapsedMs;
    assert.ok(ms >= 480 && ms <= 520, `1 MiB at 2 MiB/s took ${ms} ms of the emulator's clock (${capped.steps} waits)`);
  });

  it('an unknown method gets an rpc_error, not a hang; bots get BOT_METHOD_INVALID for getHistory', async () => {
    f = await startFixture({ 'one/a.bin': 4096 });
    const w = await f.startWorker(0);
    await assert.rejects(
      w.client.invoke(new Api.contacts.GetContacts({ hash: (await import('big-integer')).default(0) })),
      (err: unknown) => /INPUT_METHOD_INVALID/.test(String((err as { errorMessage?: string }).errorMessage)),
    );
    const channel = await w.resolveChannel(channelId(f, 'one'));
    await assert.rejects(
      w.client.invoke(new Api.messages.GetHistory({ peer: new Api.InputPeerChannel({ channelId: channel.channelId, accessHash: channel.accessHash }), limit: 10 })),
      (err: unknown) => (err as { errorMessage?: string }).errorMessage === 'BOT_METHOD_INVALID',
    );
    assert.equal(f.emu.stats().calls['messages.getHistory'], 1);
  });
});
