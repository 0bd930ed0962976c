// bench/stream's memory phase, in its own process so that its RSS is that of a process doing
// only this (not of the bench, whose own buffers and earlier phases would inflate it): start a
// pool, open one pool.stream per file at once, drop the data as it comes, for `seconds` (or
// until every stream ends), sampling RSS every 50 ms.
// Usage: node memory-streams.js '{"configFile":…,"channel":-100…,"msgIds":[…],"size":…,"seconds":20,"cacheBytes":…}'
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Readable } from 'node:stream';
import type { TgvfsConfig } from '../../src/config/schema';
import { WorkerPool } from '../../src/index';

interface Args {
  configFile: string;
  channel: number;
  msgIds: number[];
  size: number;
  seconds: number;
  cacheBytes?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as Args;
  const cfg = JSON.parse(readFileSync(args.configFile, 'utf8')) as TgvfsConfig;
  let peak = 0;
  const sample = (): number => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    return rss;
  };
  const sampler = setInterval(sample, 50);
  const options = { ...cfg, ...(args.cacheBytes !== undefined ? { cacheBytes: args.cacheBytes } : {}) };
  const pool = await WorkerPool.create(options);
  try {
    try {
      v8.setFlagsFromString('--expose-gc');
      (vm.runInNewContext('gc') as () => void)();
    } catch {
      /* no explicit GC */
    }
    await sleep(300);
    const base = process.memoryUsage.rss();
    peak = base;
    const heapBase = process.memoryUsage().heapUsed;
    const got = new Array<number>(args.msgIds.length).fill(0);
    const errors: string[] = [];
    const streams: Readable[] = [];
    let ended = 0;
    let stopping = false;
    const t0 = performance.now();
    const allEnded = new Promise<void>((resolve) => {
      args.msgIds.forEach((msgId, i) => {
        const s = pool.stream(args.channel, msgId, 0, args.size - 1);
        s.on('data', (c: Buffer) => void (got[i]! += c.length));
        s.on('error', (e) => {
          if (!stopping) errors.push(`message ${msgId}: ${e.message}`);
        });
        s.on('end', () => {
          if (++ended === args.msgIds.length) resolve();
        });
        streams.push(s);
      });
    });
    await Promise.race([sleep(args.seconds * 1000), allEnded]);
    const seconds = (performance.now() - t0) / 1000;
    stopping = true;
    for (const s of streams) s.destroy();
    await sleep(500);
    sample();
    const heapPeakNow = process.memoryUsage().heapUsed;
    process.stdout.write(
      JSON.stringify({
        baseRss: base,
        peakRss: peak,
        heapBase,
        heapEnd: heapPeakNow,
        seconds,
        bytes: got.reduce((a, b) => a + b, 0),
        minStream: Math.min(...got),
        maxStream: Math.max(...got),
        full: ended === args.msgIds.length,
        errors,
      }) + '\n',
    );
  } finally {
    clearInterval(sampler);
    await Promise.race([pool.close(), sleep(10_000)]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`memory-streams: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
