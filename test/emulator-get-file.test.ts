// upload.getFile against the emulator over TCP: Telegram's alignment rules and exact errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TelegramRpcError, type DocumentLocation, type Worker } from '../src/telegram';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const SIZE = 3 * MiB + 12345;

describe('upload.getFile rules', () => {
  let f: EmulatorFixture;
  let w: Worker;
  let doc: DocumentLocation;
  let src: Buffer;

  before(async () => {
    f = await startFixture({ 'one/a.bin': SIZE });
    w = await f.startWorker(0);
    doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    src = f.files.get('one/a.bin')!;
  });
  after(() => f?.close());

  const cases: { offset: number; limit: number; precise?: boolean; error?: string; note: string }[] = [
    { offset: 0, limit: 4096, note: 'first 4 KiB' },
    { offset: 0, limit: MiB, note: 'a whole MiB' },
    { offset: MiB, limit: MiB, note: 'second MiB' },
    { offset: 4096, limit: 8192, note: '8 KiB at 4 KiB' },
    { offset: 512 * 1024, limit: 512 * 1024, note: 'second half of a MiB' },
    { offset: 3 * MiB, limit: MiB, note: 'last part, short' },
    { offset: 4 * MiB, limit: 4096, note: 'past the end: empty' },
    { offset: 1, limit: 4096, error: 'OFFSET_INVALID', note: 'unaligned offset' },
    { offset: 2048, limit: 4096, error: 'OFFSET_INVALID', note: '1 KiB-aligned offset without precise' },
    { offset: 0, limit: 1000, error: 'LIMIT_INVALID', note: 'unaligned limit' },
    { offset: 0, limit: 12288, error: 'LIMIT_INVALID', note: 'limit not dividing 1 MiB' },
    { offset: 0, limit: 2 * MiB, error: 'LIMIT_INVALID', note: 'limit over 1 MiB' },
    { offset: MiB - 4096, limit: 8192, error: 'LIMIT_INVALID', note: 'crossing a MiB boundary' },
    { offset: 1024, limit: 3072, precise: true, note: 'precise: 1 KiB granularity' },
    { offset: MiB - 1024, limit: 1024, precise: true, note: 'precise: last KiB of a MiB' },
    { offset: 1024, limit: 12288, precise: true, note: 'precise: limit need not divide 1 MiB' },
    { offset: 1024, limit: MiB, precise: true, error: 'LIMIT_INVALID', note: 'precise: crossing a MiB boundary' },
    { offset: 512, limit: 1024, precise: true, error: 'OFFSET_INVALID', note: 'precise: offset not 1 KiB-aligned' },
    { offset: 0, limit: 1000, precise: true, error: 'LIMIT_INVALID', note: 'precise: limit not 1 KiB-aligned' },
  ];

  for (const c of cases) {
    it(`${c.note}: offset ${c.offset}, limit ${c.limit}${c.precise ? ', precise' : ''} → ${c.error ?? 'bytes'}`, async () => {
      const call = w.getFilePart(doc.location, c.offset, c.limit, { precise: c.precise, dcId: doc.dcId });
      if (c.error) {
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof TelegramRpcError, String(err));
          assert.equal(err.code, c.error);
          assert.equal(err.rpcCode, 400);
          return true;
        });
      } else {
        const got = await call;
        assert.ok(got.equals(src.subarray(c.offset, Math.min(SIZE, c.offset + c.limit))), `bytes of ${c.note}`);
      }
    });
  }

  it('a location with a wrong access hash gets FILE_ID_INVALID', async () => {
    const { Api } = await import('telegram');
    const bigInt = (await import('big-integer')).default;
    const bad = new Api.InputDocumentFileLocation({ ...doc.location, accessHash: bigInt(12345) });
    await assert.rejects(w.getFilePart(bad, 0, 4096), (err: unknown) => err instanceof TelegramRpcError && err.code === 'FILE_ID_INVALID');
  });

  it('counts calls and served bytes in /stats', async () => {
    const before = f.emu.stats();
    await w.getFilePart(doc.location, 0, 65536, { dcId: doc.dcId });
    const res = await fetch(`${f.emu.adminUrl}/stats`);
    const stats = (await res.json()) as { calls: Record<string, number>; bytesServed: number };
    assert.equal(stats.calls['upload.getFile'], (before.calls['upload.getFile'] ?? 0) + 1);
    assert.equal(stats.bytesServed, before.bytesServed + 65536);
  });
});
