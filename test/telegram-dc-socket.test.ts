import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import { createDcSocketClass } from '../src/telegram/gramjs/dc-socket';
import { recyclePacket } from '../src/telegram/gramjs/packet-pool';

async function echoServer(host: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, port: addr.port };
}

test('connect(port, ip) dials the configured port of the DC on that host', async () => {
  const { server, port } = await echoServer('127.0.0.1');
  try {
    const Socket = createDcSocketClass([{ id: 1, host: '127.0.0.1', port }, { id: 2, host: '127.0.0.2', port: 1 }]);
    const s = new Socket();
    assert.ok(s instanceof PromisedNetSockets);
    await s.connect(80, '127.0.0.1'); // GramJS asks for 80 (main) or 443 (others)
    s.write(Buffer.from('ping'));
    assert.equal((await s.readExactly(4)).toString(), 'ping');
    await s.close();
  } finally {
    server.close();
  }
});

test('unknown hosts keep the port GramJS asked for', async () => {
  const { server, port } = await echoServer('127.0.0.1');
  try {
    const Socket = createDcSocketClass([{ id: 2, host: '127.0.0.2', port: 1 }]);
    const s = new Socket();
    await s.connect(port, '127.0.0.1');
    s.write(Buffer.from('pong'));
    assert.equal((await s.readExactly(4)).toString(), 'pong');
    await s.close();
  } finally {
    server.close();
  }
});

test('a host two DCs share tells neither: without the DC id, the port GramJS asked for', async () => {
  const { server, port } = await echoServer('127.0.0.1');
  try {
    // telegram-network.test.ts: with the DC id (from the connection), each DC's own port.
    const Socket = createDcSocketClass([{ id: 1, host: '127.0.0.1', port: 1 }, { id: 2, host: '127.0.0.1', port: 2 }]);
    const s = new Socket();
    await s.connect(port, '127.0.0.1');
    s.write(Buffer.from('both'));
    assert.equal((await s.readExactly(4)).toString(), 'both');
    await s.close();
  } finally {
    server.close();
  }
});

/** A server whose one accepted socket the test writes to by hand. */
async function manualServer(): Promise<{ server: net.Server; port: number; peer: Promise<net.Socket> }> {
  const server = net.createServer();
  const peer = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, port: addr.port, peer };
}

const written = (s: net.Socket, b: Buffer): Promise<void> => new Promise((resolve, reject) => s.write(b, (err) => (err ? reject(err) : resolve())));

test('large packets are read in place, exact, whatever arrived before they were asked for', async () => {
  const { server, port, peer } = await manualServer();
  const Socket = createDcSocketClass([{ id: 1, host: '127.0.0.1', port }]);
  const s = new Socket();
  try {
    await s.connect(443, '127.0.0.1');
    const srv = await peer;
    const big = randomBytes(1 << 20);
    const next = randomBytes(100_000);
    // A header and the first 10,000 bytes of the packet arrive before the client asks for it.
    await written(srv, Buffer.concat([Buffer.from([1, 2, 3, 4]), big.subarray(0, 10_000)]));
    assert.deepEqual([...(await s.readExactly(4))], [1, 2, 3, 4]);
    await new Promise((r) => setImmediate(r));
    const pending = s.readExactly(big.length);
    const direct = (s as unknown as { direct: { buf: Buffer; filled: number } | null }).direct;
    assert.ok(direct, 'a large read that is not in yet is read in place');
    assert.equal(direct.buf.length, big.length);
    // The rest of the packet and the whole next one, in pieces.
    const rest = Buffer.concat([big.subarray(10_000), next]);
    for (let at = 0; at < rest.length; at += 200_000) await written(srv, rest.subarray(at, at + 200_000));
    const got = await pending;
    assert.ok(got.equals(big), 'packet bytes differ');
    assert.equal((s as unknown as { direct: unknown }).direct, null);
    const got2 = await s.readExactly(next.length);
    assert.ok(got2.equals(next), 'the bytes after the packet were not kept for the next read');
  } finally {
    await s.close();
    server.close();
  }
});

test('a large read rejects when the connection closes under it', async () => {
  const { server, port, peer } = await manualServer();
  const Socket = createDcSocketClass([{ id: 1, host: '127.0.0.1', port }]);
  const s = new Socket();
  try {
    await s.connect(443, '127.0.0.1');
    const srv = await peer;
    const pending = s.readExactly(1 << 20);
    await written(srv, randomBytes(300_000));
    srv.destroy();
    await assert.rejects(pending, /NetSocket was closed/);
  } finally {
    await s.close();
    server.close();
  }
});

test('a recycled packet buffer is reused by the next large read; other buffers are ignored', async () => {
  const { server, port, peer } = await manualServer();
  const Socket = createDcSocketClass([{ id: 1, host: '127.0.0.1', port }]);
  const s = new Socket();
  try {
    await s.connect(443, '127.0.0.1');
    const srv = await peer;
    const n = 300_000;
    const first = s.readExactly(n);
    const a = randomBytes(n);
    await written(srv, a);
    const got = await first;
    assert.ok(got.equals(a));
    recyclePacket(Buffer.alloc(n)); // not a packet of ours: no effect
    recyclePacket(got);
    const b = randomBytes(n);
    const second = s.readExactly(n);
    await written(srv, b);
    const got2 = await second;
    assert.equal(got2.buffer, got.buffer, 'the recycled buffer was not reused');
    assert.ok(got2.equals(b), 'bytes of the second packet differ');
    // Without recycling, a third read gets a buffer of its own.
    const third = s.readExactly(n);
    await written(srv, a);
    const got3 = await third;
    assert.notEqual(got3.buffer, got2.buffer);
    assert.ok(got3.equals(a));
    assert.ok(got2.equals(b), 'a packet not recycled was overwritten');
  } finally {
    await s.close();
    server.close();
  }
});
