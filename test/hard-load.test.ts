// Hard case: load. 100 concurrent HTTP clients each read a few random ranges of four files (300
// KB to 64 MiB; a third of the ranges start at shared hot spots so that readers overlap and share
// fetches and cached blocks) from `tgvfs serve` running as a child process, while the test samples
// the server's resident set size. Every byte is compared with the source as it arrives.
//
// The RSS bound: the server's own baseline (measured after start-up, before the load) plus the
// block cache budget (64 MiB, the default) plus 128 MiB for what is in flight — getFile parts
// (2 per worker × 3 workers × 1 MiB, each copied a few times on the way: TCP receive, decrypt,
// TL bytes, block slices), 100 responses' socket write buffers, and V8 garbage between
// collections — and in any case under 400 MB. A leak per request or per stream (100 × several
// MiB), or a cache that ignores its budget, crosses it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { keystream, MiB } from '../support/bytes';
import { rssOf } from '../support/proc';
import { metricValue, metrics } from './helpers/hard-cases';
import { until } from './helpers/eventually';
import { startServe, type ServeProcess } from './helpers/webdav-fixture';
import { prng } from '../support/prng';

const SIZES: Record<string, number> = {
  'ld/huge.bin': 64 * MiB,
  'ld/large.bin': 24 * MiB + 5,
  'ld/medium.bin': 3 * MiB - 1,
  'ld/small.bin': 300_001,
};
const CLIENTS = 100;
const REQUESTS_PER_CLIENT = 8;
const CACHE_BUDGET = 64 * MiB;
const IN_FLIGHT_SLACK = 128 * MiB;
const ABSOLUTE_RSS = 400 * 1e6;
const SEED = process.env.TGVFS_LOAD_SEED ?? 'load-1';

interface Job {
  rel: string;
  start: number;
  end: number;
}

/** Ranges of mixed lengths; a third start at one of a few hot spots per file (overlaps). */
function plan(rand: () => number): Job[][] {
  const files = Object.keys(SIZES);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: CLIENTS }, () =>
    Array.from({ length: REQUESTS_PER_CLIENT }, () => {
      const rel = pick(files);
      const size = SIZES[rel]!;
      const r = rand();
      const length = Math.max(1, Math.floor(r < 0.5 ? rand() * 64 * 1024 : r < 0.85 ? rand() * 2 * MiB : rand() * 12 * MiB));
      const hot = [0, Math.floor(size / 3), size - 1024 * 1024];
      const start = rand() < 0.33 ? Math.max(0, pick(hot)) : Math.floor(rand() * size);
      return { rel, start, end: Math.min(size - 1, start + length - 1) };
    }),
  );
}

/** GET with a closed Range, streamed and compared chunk by chunk; resolves with the byte count. */
function checkedRange(agent: http.Agent, base: string, job: Job, src: Buffer): Promise<number> {
  const what = `GET /${job.rel} bytes=${job.start}-${job.end}`;
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/${job.rel}`, { agent, headers: { Range: `bytes=${job.start}-${job.end}` } }, (res) => {
      const fail = (why: string): void => {
        reject(new Error(`${what}: ${why}`));
        req.destroy();
      };
      if (res.statusCode !== 206) return fail(`status ${res.statusCode}`);
      if (res.headers['content-range'] !== `bytes ${job.start}-${job.end}/${src.length}`) return fail(`Content-Range ${res.headers['content-range']}`);
      let pos = job.start;
      res.on('data', (chunk: Buffer) => {
        if (pos + chunk.length > job.end + 1 || src.compare(chunk, 0, chunk.length, pos, pos + chunk.length) !== 0) {
          return fail(`wrong bytes in ${pos}…${pos + chunk.length - 1}`);
        }
        pos += chunk.length;
      });
      res.once('error', (e) => fail(e.message));
      res.once('end', () => (pos === job.end + 1 ? resolve(pos - job.start) : fail(`ended at ${pos}`)));
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${what}: no data for 60 s`)));
    req.once('error', reject);
  });
}

describe('hard case: load', { timeout: 90_000 }, () => {
  let f: EmulatorFixture;
  let serve: ServeProcess | undefined;

  before(async () => {
    const files = Object.fromEntries(Object.entries(SIZES).map(([rel, size]) => [rel, keystream(size, rel)]));
    f = await startFixture(files, { watch: false });
  });
  after(async () => {
    await serve?.stop();
    await f?.close();
  });

  it(`${CLIENTS} concurrent clients reading random ranges: every byte exact, server RSS bounded`, async () => {
    serve = await startServe(`${f.dir}/config.json`);
    const pid = serve.cli.child.pid!;
    const base = serve.url;
    // Warm-up (one small request) so the baseline includes the code paths of a GET.
    const warm = await fetch(`${base}/ld/small.bin`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(warm.status, 206);
    await warm.arrayBuffer();
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid));
      } catch {
        /* the process is gone: the reads fail and say so */
      }
    }, 50);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const t0 = Date.now();
    let bytes = 0;
    try {
      const jobs = plan(prng(SEED));
      const failures: string[] = [];
      await Promise.all(jobs.map(async (list) => {
        for (const job of list) {
          try {
            const n = await checkedRange(agent, base, job, f.files.get(job.rel)!);
            bytes += n;
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }));
      assert.deepEqual(failures, [], `failed reads (seed ${SEED}); server log:\n${serve.logTail()}`);
    } finally {
      clearInterval(sampler);
      agent.destroy();
    }
    const ms = Date.now() - t0;
    const bound = Math.min(ABSOLUTE_RSS, baseline + CACHE_BUDGET + IN_FLIGHT_SLACK);
    const mb = (n: number): string => (n / 1e6).toFixed(0);
    console.log(`# load: ${CLIENTS}×${REQUESTS_PER_CLIENT} ranges, ${(bytes / MiB).toFixed(0)} MiB in ${(ms / 1000).toFixed(1)} s; server RSS ${mb(baseline)} → peak ${mb(peak)} MB (bound ${mb(bound)} MB); upstream ${(f.emu.stats().bytesServed / MiB).toFixed(0)} MiB`);
    assert.ok(peak < bound, `server RSS peaked at ${mb(peak)} MB, over ${mb(bound)} MB (baseline ${mb(baseline)} MB + cache + in-flight)`);
    // Everything closed: no response still streaming, no engine reader left.
    await until(async () => {
      const text = await metrics(base);
      return metricValue(text, 'tgvfs_http_open_streams') === 0 && metricValue(text, 'tgvfs_engine_open_readers') === 0;
    }, 5000, () => 'open streams / readers back to 0');
    const text = await metrics(base);
    assert.ok(metricValue(text, 'tgvfs_engine_cached_bytes')! <= CACHE_BUDGET, 'the block cache keeps to its budget');
    assert.equal(metricValue(text, 'tgvfs_engine_cache_budget_bytes'), CACHE_BUDGET);
  });
});
