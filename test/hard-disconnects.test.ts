// Hard case: clients that hang up. 100 clients start a large GET (the whole file, `bytes=N-` as
// players send, or several ranges), read a few KiB to a MiB and destroy their socket mid-stream.
// Afterwards upstream work stops (the emulator's getFile count stops growing, and what was fetched
// is a small fraction of what the 100 GETs asked for), nothing leaks (open streams in /metrics,
// engine readers, fetches, queued parts and server connections all back to 0; no test-side socket
// left), and the server still answers a normal request with the right bytes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { keystream, MiB } from '../support/bytes';
import { metricValue, metrics, rawRequest } from './helpers/hard-cases';
import { until } from './helpers/eventually';
import { upstreamLedger } from './helpers/upstream-ledger';
import { prng } from '../support/prng';

const SIZES: Record<string, number> = {
  'dc/a.bin': 64 * MiB,
  'dc/b.bin': 40 * MiB + 3,
};
const CLIENTS = 100;
const SEED = process.env.TGVFS_DISCONNECT_SEED ?? 'disconnects-1';

interface Hangup {
  rel: string;
  /** Request header lines besides Host. */
  headers: string[];
  /** Bytes to receive (head included) before destroying the socket. */
  after: number;
  /** Bytes the whole GET would have sent. */
  wouldSend: number;
}

function plan(rand: () => number): Hangup[] {
  const files = Object.keys(SIZES);
  return Array.from({ length: CLIENTS }, (_, i) => {
    const rel = files[i % files.length]!;
    const size = SIZES[rel]!;
    const start = Math.floor(rand() * (size - 16 * MiB));
    const after = 2048 + Math.floor(rand() * rand() * MiB);
    switch (i % 4) {
      case 0:
        return { rel, headers: [], after, wouldSend: size };
      case 3: {
        const ranges = [[start, start + 4 * MiB], [start + 6 * MiB, start + 14 * MiB]];
        return { rel, headers: [`Range: bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(',')}`], after, wouldSend: 12 * MiB };
      }
      default:
        return { rel, headers: [`Range: bytes=${start}-`], after, wouldSend: size - start };
    }
  });
}

/** Sends the GET, waits for `after` bytes, then destroys the socket; resolves with bytes received. */
function hangUp(port: number, h: Hangup, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = 0;
    let status = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${h.rel} ${h.headers.join(' ')}: only ${got} bytes within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      if (got === 0) status = d.subarray(0, 12).toString('latin1');
      got += d.length;
      if (got >= h.after) {
        clearTimeout(timer);
        sock.destroy();
        if (!/^HTTP\/1\.1 20[06]$/.test(status)) reject(new Error(`${h.rel}: status line ${status}`));
        else resolve(got);
      }
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.once('close', () => {
      clearTimeout(timer);
      if (got < h.after) reject(new Error(`${h.rel}: the server closed after ${got} bytes`));
    });
    sock.write(`GET /${h.rel} HTTP/1.1\r\nHost: 127.0.0.1\r\n${h.headers.map((l) => `${l}\r\n`).join('')}\r\n`);
  });
}

const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('hard case: disconnects', { timeout: 90_000 }, () => {
  let f: EmulatorFixture;
  let server: RunningServer;

  before(async () => {
    const files = Object.fromEntries(Object.entries(SIZES).map(([rel, size]) => [rel, keystream(size, rel)]));
    // A little latency, as over a real network: clients hang up while parts are on their way.
    f = await startFixture(files, { watch: false, faults: { latencyMs: 15 } });
    server = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await server.indexed();
  });
  after(async () => {
    await server?.close();
    await f?.close();
  });

  it(`${CLIENTS} clients hang up mid-stream: upstream work stops, nothing leaks, the server still serves`, async () => {
    const port = server.address.port;
    const ledger = await upstreamLedger({ addObserver: (o) => server.pool.addObserver(o), engine: server.engine }, f.emu);
    const sockets0 = tcpHandles();
    const upstream0 = f.emu.stats().bytesServed;
    const jobs = plan(prng(SEED));
    const received = await Promise.all(jobs.map((h) => hangUp(port, h, 30_000)));
    const atHangup = ledger.served();

    // Every stream and reader closes, every fetch ends or is dropped.
    const idle = async (): Promise<boolean> => {
      const e = server.engine.stats();
      const text = await metrics(server.url);
      const conns = await new Promise<number>((r, j) => server.http.server.getConnections((err, n) => (err ? j(err) : r(n))));
      // The /metrics request itself is the one connection allowed (it may linger until closed).
      return metricValue(text, 'tgvfs_http_open_streams') === 0 && e.openReaders === 0 && e.blocksInFlight === 0 &&
        e.partsRunning === 0 && e.partsQueued === 0 && conns <= 1;
    };
    await until(idle, 5000, () => `still busy: ${JSON.stringify(server.engine.stats())}`);
    // The getFile calls on the wire at the last hang-up land (the emulator counts them, the pool
    // hears their answers); then nothing is outstanding and nothing is left that could ask more.
    const settled = await ledger.settled();
    assert.equal(ledger.answered(), settled, 'getFile calls go on after every client left');
    ledger.close();
    assert.ok(settled - atHangup <= 2 * 3 * 2, `${settled - atHangup} getFile calls after the last hang-up (at most the parts running then)`);

    const upstream = f.emu.stats().bytesServed - upstream0;
    const asked = jobs.reduce((n, h) => n + h.wouldSend, 0);
    const got = received.reduce((a, b) => a + b, 0);
    console.log(`# disconnects: clients received ${(got / MiB).toFixed(1)} MiB of ${(asked / MiB).toFixed(0)} MiB asked; upstream fetched ${(upstream / MiB).toFixed(1)} MiB; ${settled - atHangup} getFile after the last hang-up`);
    // What the clients read plus, per client, what the ramp-up lets a fresh stream push ahead into
    // socket buffers (512 KiB, then doubling every 50 ms) and the part in flight: about 1 MiB.
    const why = `upstream fetched ${(upstream / MiB).toFixed(1)} MiB for clients that asked ${(asked / MiB).toFixed(0)} MiB and read ${(got / MiB).toFixed(1)}`;
    assert.ok(upstream < asked / 10, why);
    assert.ok(upstream <= got + CLIENTS * MiB, why);

    // No socket left on this side (the server's and the clients' ends are in this process).
    await until(() => tcpHandles() <= sockets0, 5000, () => `TCP handles ${tcpHandles()} > ${sockets0} before the clients`);

    // A normal request afterwards: exact bytes.
    const src = f.files.get('dc/b.bin')!;
    const r = await rawRequest(port, '/dc/b.bin', { headers: [['Range', 'bytes=1000000-3099999']], timeoutMs: 10_000 });
    assert.equal(r.status, 206);
    assert.ok(r.body.equals(src.subarray(1_000_000, 3_100_000)), 'bytes after the disconnects');
    const text = await metrics(server.url);
    assert.equal(metricValue(text, 'tgvfs_http_open_streams'), 0);
    assert.equal(metricValue(text, 'tgvfs_engine_open_readers'), 0);
  });
});
