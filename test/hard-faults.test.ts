// Hard case: large reads while the emulator injects every fault at once — FLOOD_WAIT on every
// 7th getFile of each bot, connections dropped every few MiB, file references rotating every
// 2 s, and every document on another DC (fileDc: 4; FILE_MIGRATE for callers without its DC). Three files of 20–36 MiB are read whole
// through `pool.stream` and, at the same time, through the HTTP front-end (`startServer`, its
// own pool and cache): every byte is compared with the source as it arrives, no read may fail
// (three bots, so one is always healthy), and the emulator's /stats must show that each kind of
// fault really was injected. `TGVFS_HARD_LOG=FILE` writes the pool's and the server's log there.
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import type { EmulatorStats, FaultSettings } from '../src/emulator/types';
import { FloodWaitError, isFileReferenceExpired, TelegramConnectionError, type Worker } from '../src/telegram';
import { WorkerPool } from '../src/index';
import { channelId } from './helpers/emulator-fixture';
import { keystream, MiB } from '../support/bytes';
import { until } from './helpers/eventually';
import { startStreamFixture, type StreamFixture } from './helpers/stream-fixture';

const SIZES: Record<string, number> = {
  'big/a.bin': 20 * MiB + 12_345,
  'big/b.bin': 28 * MiB,
  'big/c.bin': 36 * MiB - 4097,
};
const FAULTS: Partial<FaultSettings> = {
  floodWait: { every: 7, seconds: 1 },
  dropEvery: 12 * MiB,
  expireRefs: 2,
};
/** The whole suite, set-up included, fails rather than hangs past this. */
const SUITE_MS = 90_000;

/** Checks each chunk against the source at its position: the first wrong byte fails at once. */
class ExactCheck {
  pos = 0;
  constructor(private readonly src: Buffer, private readonly what: string) {}
  add(chunk: Buffer): void {
    if (this.pos + chunk.length > this.src.length) throw new Error(`${this.what}: ${this.pos + chunk.length - this.src.length} bytes past the end`);
    if (this.src.compare(chunk, 0, chunk.length, this.pos, this.pos + chunk.length) !== 0) {
      let i = 0;
      while (chunk[i] === this.src[this.pos + i]) i++;
      throw new Error(`${this.what}: corrupted byte at offset ${this.pos + i}`);
    }
    this.pos += chunk.length;
  }
  done(): void {
    if (this.pos !== this.src.length) throw new Error(`${this.what}: ${this.pos} of ${this.src.length} bytes`);
  }
}

/**
 * The first 256 KiB of a document through `Worker.getFilePart` without the document's DC (the
 * seed's API), retrying what a caller of that API must handle itself: FLOOD_WAIT (waiting it
 * out), an expired reference or a dropped connection (asking again).
 */
async function seedApiRead(w: Worker, channel: number, msgId: number, src: Buffer, rel: string): Promise<void> {
  const length = 256 * 1024;
  for (let attempt = 1; ; attempt++) {
    try {
      const doc = await w.getDocumentLocation(channel, msgId);
      const got = await w.getFilePart(doc.location, 0, length);
      if (!got.equals(src.subarray(0, length))) throw new Error(`Worker.getFilePart ${rel}: wrong bytes`);
      return;
    } catch (err) {
      const retry = err instanceof FloodWaitError || err instanceof TelegramConnectionError || isFileReferenceExpired(err);
      if (!retry || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, err instanceof FloodWaitError ? err.waitSeconds * 1000 : 200));
    }
  }
}

async function drain(r: Readable, check: ExactCheck): Promise<void> {
  for await (const chunk of r as AsyncIterable<Buffer>) check.add(chunk);
  check.done();
}

/** GET of the whole file through node:http (no client-side retry): status 200, exact bytes. */
function httpRead(url: string, check: ExactCheck): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`GET ${url}: ${res.statusCode}`));
      }
      res.on('data', (c: Buffer) => {
        try {
          check.add(c);
        } catch (err) {
          req.destroy(err as Error);
        }
      });
      res.once('error', reject);
      res.once('end', () => {
        try {
          check.done();
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.once('error', reject);
  });
}

describe('hard case: faults', { timeout: SUITE_MS }, () => {
  let f: StreamFixture;
  let pool: WorkerPool | undefined;
  let server: RunningServer | undefined;
  const log: string[] = [];

  before(async () => {
    const files = Object.fromEntries(Object.entries(SIZES).map(([rel, size]) => [rel, keystream(size, rel)]));
    // fileDc 4: every document lives on DC 4, so each worker meets FILE_MIGRATE and must follow it.
    f = await startStreamFixture(files, {}, { fileDc: 4, watch: false });
  });
  after(async () => {
    await server?.close();
    await pool?.close();
    await f?.close();
  });

  it('3 large files through pool.stream and HTTP at once, all faults on: every byte exact, no failed read', async () => {
    const cfg = f.emu.config;
    const t0 = Date.now();
    pool = await WorkerPool.create({ ...cfg, log: (l) => log.push(`${Date.now() - t0} pool: ${l}`) });
    // The server gets sessions and a cache of its own: two independent clients of the same bots.
    const serverDir = path.join(f.dir, 'server');
    await mkdir(serverDir, { recursive: true });
    server = await startServer({ ...cfg, sessionDir: serverDir, cache: `sqlite://${serverDir}/cache.sqlite` }, {
      listen: { host: '127.0.0.1', port: 0 },
      log: (l) => log.push(`${Date.now() - t0} server: ${l}`),
    });
    await server.indexed();
    assert.deepEqual(server.health().map((h) => h.indexed), [true]);

    // Faults on through the admin endpoint, as an operator (or `tgvfs emulator` flags) would.
    const set = await fetch(`${cfg.emulator!.adminUrl}/faults`, { method: 'POST', body: JSON.stringify(FAULTS) });
    assert.equal(set.status, 200, await set.clone().text());
    const before = (await (await fetch(`${cfg.emulator!.adminUrl}/stats`)).json()) as EmulatorStats;

    const channel = channelId(f, 'big');
    const reads = Object.keys(SIZES).flatMap((rel) => {
      const src = f.files.get(rel)!;
      const name = rel.split('/')[1]!;
      return [
        drain(pool!.stream(channel, f.msgId(rel), 0, src.length - 1), new ExactCheck(src, `pool.stream ${rel}`)),
        httpRead(`${server!.url}/big/${name}`, new ExactCheck(src, `GET /${rel}`)),
      ];
    });
    // Meanwhile, the seed's library API as a caller that does not pass the document's DC: each
    // worker's first getFile of a document on DC 4 meets FILE_MIGRATE_4 and follows it.
    reads.push(...pool.workers.flatMap((w) => Object.keys(SIZES).map((rel) => seedApiRead(w, channel, f.msgId(rel), f.files.get(rel)!, rel))));
    const results = await Promise.allSettled(reads);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
    if (process.env.TGVFS_HARD_LOG) writeFileSync(process.env.TGVFS_HARD_LOG, log.join('\n'));
    assert.deepEqual(failed, [], `failed reads; last log lines:\n${log.slice(-30).join('\n')}`);
    // No part waited for the 20 s call timeout: the calls in flight at a drop, or asked during the
    // reconnect, went again on the new connection (gramjs/sender-requeue.ts).
    const stalls = log.filter((l) => /got no answer in 20000 ms/.test(l));
    assert.deepEqual(stalls, [], 'reads waited for the call timeout across a reconnect');

    const s = (await (await fetch(`${cfg.emulator!.adminUrl}/stats`)).json()) as EmulatorStats;
    const injected = (kind: string): number => (s.faults[kind] ?? 0) - (before.faults[kind] ?? 0);
    const counts = Object.fromEntries(['FLOOD_WAIT', 'DROP', 'FILE_REFERENCE_EXPIRED', 'FILE_MIGRATE'].map((k) => [k, injected(k)]));
    for (const [kind, n] of Object.entries(counts)) assert.ok(n > 0, `no ${kind} was injected during the reads: ${JSON.stringify(counts)}`);
    // Documents on DC 4: the pool asks the document's DC directly (its dc_id), as Telegram clients
    // do, so it reaches DC 4 through an exported authorization, not after a FILE_MIGRATE (only the
    // seed-API reads above meet that). Every worker of both clients had to do so during the reads.
    const calls = (m: string): number => (s.calls[m] ?? 0) - (before.calls[m] ?? 0);
    assert.ok(calls('auth.exportAuthorization') >= 6 && calls('auth.importAuthorization') >= 6, `cross-DC authorizations: ${calls('auth.exportAuthorization')}/${calls('auth.importAuthorization')}`);
    const total = Object.values(SIZES).reduce((a, b) => a + b, 0);
    assert.ok(s.bytesServed - before.bytesServed >= 2 * total, 'both paths read every byte upstream');
    // Both engines are idle again: nothing left open or in flight (the server's reader closes just
    // after its last byte reaches the client, hence the poll).
    const engines = [pool.engine, server.engine];
    await until(() => engines.every((e) => e.stats().openReaders === 0 && e.stats().blocksInFlight === 0), 5000, () => JSON.stringify(engines.map((e) => e.stats())));
    console.log(`# faults: ${(2 * total / MiB).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s; injected ${JSON.stringify(counts)}`);
  });
});
