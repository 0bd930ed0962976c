// tgvfs against real Telegram's getFile habits, through the emulator (3 bots): with -503 Timeout
// and 500 on a quarter of getFile calls each, reads through pool.stream and WebDAV GET are
// byte-exact with no failed request, each failed call moved to another worker that is not set
// aside; with --strict-offsets every read pattern (odd offsets, seeks over cached blocks) is
// served; a bot taken out of a channel stops being used for that channel only (one log line,
// /healthz), and reads go on with the others.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { startServer } from '../src/app/server';
import type { EmulatorStats } from '../src/emulator/types';
import { WorkerPool, type WorkerPoolOptions } from '../src/index';
import type { UpstreamCall } from '../src/telegram';
import { prng } from '../support/prng';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { closeAfterEach } from './helpers/close-after-each';

const BIG = 9 * MiB + 777;

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const getFiles = (s: EmulatorStats, bot: number | string): number => s.botCalls[String(bot)]?.['upload.getFile'] ?? 0;
const botIds = (f: EmulatorFixture): number[] => f.emu.config.bots.map((t) => Number(t.split(':')[0]));

describe('getFile habits through the pool', () => {
  let f: EmulatorFixture | undefined;
  const pools = closeAfterEach<WorkerPool>(() => f, () => (f = undefined));

  async function pool(extra: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
    const p = await WorkerPool.create({ ...f!.emu.config, ...extra });
    pools.push(p);
    return p;
  }

  it('-503 Timeout and 500 on a quarter of getFile calls each: pool.stream is byte-exact, every failed call retried', async () => {
    f = await startFixture({ 'one/big.bin': BIG }, { faults: { rpcTimeouts: 0.25, internalErrors: 0.25 } });
    const lines: string[] = [];
    const p = await pool({ log: (l) => lines.push(l) });
    const ch = channelId(f, 'one');
    const src = f.files.get('one/big.bin')!;
    assert.ok((await collect(p.stream(ch, 1, 0, BIG - 1))).equals(src), 'whole file');
    const rnd = prng('habits');
    for (let k = 0; k < 6; k++) {
      const start = Math.floor(rnd() * BIG);
      const end = Math.min(BIG - 1, start + Math.floor(rnd() * 3 * MiB));
      assert.ok((await collect(p.stream(ch, 1, start, end))).equals(src.subarray(start, end + 1)), `${start}…${end}`);
    }
    const s = f.emu.stats();
    const failed = (s.faults.Timeout ?? 0) + (s.faults.INTERNAL_SERVER_ERROR ?? 0);
    assert.ok((s.faults.Timeout ?? 0) >= 2 && (s.faults.INTERNAL_SERVER_ERROR ?? 0) >= 2, JSON.stringify(s.faults));
    assert.equal(lines.filter((l) => l.includes('Telegram said try again')).length, failed, 'each failed call moved on once');
    assert.ok(!lines.some((l) => /set aside/.test(l)), `no worker set aside:\n${lines.join('\n')}`);
  });

  it('a call Telegram answers "try again" moves to another worker; the failing worker serves again at once', async () => {
    f = await startFixture({ 'one/a.bin': MiB }, { faults: { rpcTimeouts: 0.25, internalErrors: 0.25 } });
    const calls: UpstreamCall[] = [];
    const p = await pool({ observer: { onCall: (e) => calls.push(e) } });
    const ch = channelId(f, 'one');
    const src = f.files.get('one/a.bin')!;
    const PART = 64 * 1024;
    // One part at a time, so the upstream calls come in order.
    for (let i = 0; i < 2 * MiB / PART; i++) {
      const offset = (i * PART) % MiB;
      assert.ok((await p.fetchPart(ch, 1, offset, PART)).equals(src.subarray(offset, offset + PART)), `part ${i}`);
    }
    const parts = calls.filter((c) => c.method === 'upload.getFile');
    const failedAt = parts.flatMap((c, k) => (c.error ? [k] : []));
    assert.ok(failedAt.length >= 4, JSON.stringify(parts));
    for (const k of failedAt) {
      assert.match(parts[k]!.error!, /^(Timeout|INTERNAL_SERVER_ERROR)$/);
      assert.notEqual(parts[k + 1]?.worker, parts[k]!.worker, `retry of call ${k} on another worker`);
      assert.ok(parts.slice(k + 1, k + 4).some((c) => c.worker === parts[k]!.worker), `worker of call ${k} used again within 3 calls`);
    }
  });

  it('WebDAV GET with -503 and 500 on a quarter of getFile calls each: 200 and 206, byte-exact', async () => {
    f = await startFixture({ 'one/big.bin': BIG });
    const s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      f.emu.setFaults({ rpcTimeouts: 0.25, internalErrors: 0.25 });
      const src = f.files.get('one/big.bin')!;
      const whole = await fetch(`${s.url}/one/big.bin`);
      assert.equal(whole.status, 200);
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(src));
      const part = await fetch(`${s.url}/one/big.bin`, { headers: { Range: 'bytes=300001-5000000' } });
      assert.equal(part.status, 206);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(src.subarray(300001, 5000001)));
      const faults = f.emu.stats().faults;
      assert.ok((faults.Timeout ?? 0) >= 2 && (faults.INTERNAL_SERVER_ERROR ?? 0) >= 2, JSON.stringify(faults));
    } finally {
      await s.close();
    }
  });

  it('--strict-offsets: odd offsets, seeks and reads around cached blocks are all served byte-exact', async () => {
    f = await startFixture({ 'one/big.bin': BIG }, { faults: { strictOffsets: true } });
    const p = await pool();
    const ch = channelId(f, 'one');
    const src = f.files.get('one/big.bin')!;
    const K = 256 * 1024;
    // Block 1 alone first: then 1…3 missing from 1 (once 512 KiB at 256 KiB), whole-file reads over cached blocks, seeks.
    const ranges: [number, number][] = [[K + 1, K + 100], [K + 1, MiB - 1], [0, BIG - 1], [3 * MiB - 5, 3 * MiB + 5]];
    const rnd = prng('strict');
    for (let k = 0; k < 8; k++) {
      const start = Math.floor(rnd() * BIG);
      ranges.push([start, Math.min(BIG - 1, start + Math.floor(rnd() * 2 * MiB))]);
    }
    for (const [start, end] of ranges) {
      assert.ok((await collect(p.stream(ch, 1, start, end))).equals(src.subarray(start, end + 1)), `${start}…${end}`);
    }
    // A fresh pool (empty cache) reading from an odd block on.
    const q = await pool();
    assert.ok((await collect(q.stream(ch, 1, 3 * K + 7, 7 * MiB))).equals(src.subarray(3 * K + 7, 7 * MiB + 1)));
    assert.equal(f.emu.stats().faults.OFFSET_INVALID, undefined, 'no part refused');
  });

  it('a bot removed from a channel: reads go on, it makes no getFile for that channel after its CHANNEL_PRIVATE, one log line, /healthz says so', async () => {
    f = await startFixture({ 'one/a.bin': 4 * MiB, 'one/b.bin': 4 * MiB, 'two/c.bin': 4 * MiB });
    const lines: string[] = [];
    const s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 }, log: (l) => lines.push(l) });
    try {
      await s.indexed();
      const [one, two] = [channelId(f, 'one'), channelId(f, 'two')];
      const gone = botIds(f)[1]!;
      const r = await fetch(`${f.emu.adminUrl}/membership`, { method: 'POST', body: JSON.stringify({ bot: gone, channel: one, member: false }) });
      assert.equal(r.status, 200);
      const get = async (rel: string): Promise<void> => {
        const res = await fetch(`${s.url}/${rel}`);
        assert.equal(res.status, 200, rel);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(f!.files.get(rel)!), rel);
      };
      await get('one/a.bin');
      const removedLines = lines.filter((l) => l.includes(`worker ${gone}: removed from channel ${one} (CHANNEL_PRIVATE)`));
      assert.equal(removedLines.length, 1, lines.join('\n'));
      const before = f.emu.stats();
      await get('one/b.bin');
      const after = f.emu.stats();
      assert.equal(getFiles(after, gone) - getFiles(before, gone), 0, 'the removed bot is not asked for channel one');
      assert.equal((after.botCalls[gone]?.['channels.getMessages'] ?? 0) - (before.botCalls[gone]?.['channels.getMessages'] ?? 0), 0);
      await get('two/c.bin');
      assert.ok(getFiles(f.emu.stats(), gone) > getFiles(after, gone), 'the removed bot still serves channel two');
      assert.deepEqual(s.health().map((h) => [h.id, h.removedBots]), [[one, [gone]], [two, undefined]]);
      const health = (await (await fetch(`${s.url}/healthz`)).json()) as { channels: { id: number; removedBots?: number[] }[] };
      assert.deepEqual(health.channels.find((c) => c.id === one)?.removedBots, [gone]);
      assert.equal(lines.filter((l) => l.includes('removed from channel')).length, 1, 'said once');
    } finally {
      await s.close();
    }
  });
});
