// bench/webdav-propfind: PROPFIND Depth 1 of one folder of FILES files, answered by our propfind.ts
// and by webdav-server 2.6.3 (the same front-end's `dav`, which answered every PROPFIND before),
// over the same in-memory catalog. Each side runs in its own server process (a child of this
// one), so its peak RSS (VmHWM) is its own; RUNS requests each after one warm-up, the median
// time of a whole answer (request sent → last byte read), every answer checked for FILES + 1
// responses. No emulator: a listing must not reach upstream, and the byte source here throws.
// Also the VFS alone, in this process: a warm readdir of the same folder (the name index built by
// a first, cold one), the median of RUNS (what test/vfs.test.ts checks by counting catalog calls).
// The last line is the machine-readable summary (propfind_10k_*, readdir_10k_* when FILES is 10,000).
// Env: BENCH_FILES=10000 BENCH_RUNS=5 BENCH_DEADLINE_S=300.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { CatalogChannel, CatalogFile, CatalogReader } from '../src/catalog/types';
import { Vfs, type FileSource } from '../src/vfs/vfs';
import { createHttpFrontEnd } from '../src/webdav/http-server';
import { peakRssOf, rssOf } from '../support/proc';
import { envNum } from './helpers/env';

const FILES = Math.max(1, Math.round(envNum('BENCH_FILES', 10_000)));
const RUNS = Math.max(1, Math.round(envNum('BENCH_RUNS', 5)));
const DEADLINE_S = envNum('BENCH_DEADLINE_S', 300);
const CHANNEL = -1001234567890;
const MB = 1 << 20;

const log = (line: string): void => void process.stdout.write(`${line}\n`);

type Side = 'ours' | 'webdav-server';

/** A catalog of one channel of `count` files with the names, sizes and dates a channel has. */
class BenchCatalog implements CatalogReader {
  private readonly list: CatalogFile[] = [];
  constructor(count: number) {
    for (let i = 1; i <= count; i++) {
      this.list.push({
        channel: CHANNEL, msgId: i, docId: String(5_000_000_000 + i), size: 1_000_000 + i * 37,
        mimeType: i % 3 ? 'video/mp4' : 'application/pdf', name: `Episode ${i} – the “long” title #${i % 97}.mp4`,
        date: 1_700_000_000 + i * 60, thumbs: [],
      });
    }
  }
  channels(): CatalogChannel[] {
    return [{ id: CHANNEL, name: 'bench' }];
  }
  async files(): Promise<CatalogFile[]> {
    return this.list;
  }
  async file(_channel: number, msgId: number): Promise<CatalogFile | undefined> {
    return this.list[msgId - 1];
  }
  onChange(): () => void {
    return () => undefined;
  }
}

const noBytes: FileSource = {
  open: () => {
    throw new Error('a listing read bytes');
  },
  stream: () => {
    throw new Error('a listing read bytes');
  },
  thumbnail: () => Promise.reject(new Error('a listing read bytes')),
};

/** The server side (a child): prints its port, serves until stdin closes. */
async function serve(side: Side): Promise<void> {
  const vfs = new Vfs(new BenchCatalog(FILES), noBytes);
  const front = createHttpFrontEnd({ vfs });
  const server = side === 'ours'
    ? front.server
    : http.createServer((req, res) => {
      // What http-server.ts did before propfind.ts: every PROPFIND to webdav-server.
      if (req.headers.depth === undefined) req.headers.depth = '1';
      front.dav.executeRequest(req, res);
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  process.stdout.write(`port=${port}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => process.exit(0));
}

async function propfind(port: number): Promise<{ ms: number; responses: number; bytes: number }> {
  const t0 = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}/bench/`, { method: 'PROPFIND', headers: { Depth: '1' } });
  const text = await r.text();
  const ms = performance.now() - t0;
  if (r.status !== 207) throw new Error(`PROPFIND: ${r.status}`);
  return { ms, responses: text.split('<D:response>').length - 1, bytes: Buffer.byteLength(text) };
}

interface SideFigures {
  ms: number;
  peakMB: number;
  idleMB: number;
  bytes: number;
}

async function measure(side: Side): Promise<SideFigures> {
  const child: ChildProcess = spawn(process.execPath, [__filename, '--serve', side], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      lines.on('line', (l) => {
        const m = /^port=(\d+)$/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`${side} server exited (${code})`)));
    });
    const idleMB = rssOf(child.pid!) / MB;
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i <= RUNS; i++) {
      const r = await propfind(port);
      if (r.responses !== FILES + 1) throw new Error(`${side}: ${r.responses} responses, expected ${FILES + 1}`);
      if (i > 0) times.push(r.ms);
      bytes = r.bytes;
    }
    times.sort((a, b) => a - b);
    const figures = { ms: times[Math.floor(times.length / 2)]!, peakMB: peakRssOf(child.pid!) / MB, idleMB, bytes };
    log(`${side}: median ${figures.ms.toFixed(0)} ms of ${RUNS} (${(bytes / 1e6).toFixed(1)} MB of XML), RSS ${idleMB.toFixed(0)} MB idle, peak ${figures.peakMB.toFixed(0)} MB`);
    return figures;
  } finally {
    child.stdin!.end();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Median ms of a warm Vfs.readdir of the folder (after one cold one), in this process. */
async function warmReaddir(): Promise<number> {
  const vfs = new Vfs(new BenchCatalog(FILES), noBytes);
  const cold = await vfs.readdir('/bench');
  if (cold.length !== FILES) throw new Error(`readdir: ${cold.length} entries, expected ${FILES}`);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const warm = await vfs.readdir('/bench');
    times.push(performance.now() - t0);
    if (warm.length !== FILES) throw new Error(`readdir: ${warm.length} entries, expected ${FILES}`);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)]!;
  log(`Vfs.readdir, warm: median ${ms.toFixed(2)} ms of ${RUNS}`);
  return ms;
}

async function main(): Promise<void> {
  const timer = setTimeout(() => {
    log(`deadline of ${DEADLINE_S} s passed`);
    process.exit(1);
  }, DEADLINE_S * 1000);
  timer.unref();
  log(`PROPFIND Depth 1 of ${FILES} files, ${RUNS} runs after a warm-up, each server in its own process`);
  const ours = await measure('ours');
  const theirs = await measure('webdav-server');
  const readdirMs = await warmReaddir();
  const k = FILES === 10_000 ? '10k' : String(FILES);
  log(
    `propfind_${k}_ms=${ours.ms.toFixed(0)} propfind_${k}_peak_rss_MB=${ours.peakMB.toFixed(0)} ` +
      `webdav_server_${k}_ms=${theirs.ms.toFixed(0)} webdav_server_${k}_peak_rss_MB=${theirs.peakMB.toFixed(0)} ` +
      `propfind_speedup=${(theirs.ms / ours.ms).toFixed(1)} readdir_${k}_warm_ms=${readdirMs.toFixed(2)}`,
  );
}

if (process.argv[2] === '--serve') {
  void serve(process.argv[3] === 'webdav-server' ? 'webdav-server' : 'ours');
} else {
  main().catch((err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
