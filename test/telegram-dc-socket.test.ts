import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import { createDcSocketClass } from '../src/telegram/dc-socket';

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

test('one host with two ports is refused', () => {
  assert.throws(
    () => createDcSocketClass([{ id: 1, host: '127.0.0.1', port: 1000 }, { id: 2, host: '127.0.0.1', port: 1001 }]),
    /two ports/,
  );
});
