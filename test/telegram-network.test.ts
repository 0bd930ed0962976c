// Where a worker dials with no configured DCs (real Telegram): port 443 for every connection,
// IPv4 or IPv6 addresses as `ipv6` says, a saved session moved to the family asked for. No
// packet leaves the machine: net.Socket's connect is replaced for these tests by one that records
// where it was asked to go and fails the way an unreachable host does.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthKey } from 'telegram/crypto/AuthKey';
import { StringSession } from 'telegram/sessions';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import { ConnectionTCPAbridged } from 'telegram/network';
import { Logger } from 'telegram';
import { LogLevel } from 'telegram/extensions/Logger';
import { TelegramConnectionError, Worker, type WorkerOptions } from '../src/telegram';
import { connectionTellingDcId } from '../src/telegram/gramjs/connection-dc-id';
import { createDcSocketClass, type DcDial } from '../src/telegram/gramjs/dc-socket';

const TOKEN = '12345:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const API_HASH = '0123456789abcdef0123456789abcdef';

type Dial = { host: string; port: number };

/** Replaces net.Socket#connect: records (host, port) and fails with ECONNREFUSED. */
function recordDials(): { dials: Dial[]; restore(): void } {
  const dials: Dial[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function fakeConnect(this: net.Socket, ...args: unknown[]): net.Socket {
    const [port, host] = args as [number, string];
    dials.push({ host, port });
    process.nextTick(() => this.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (test)`), { code: 'ECONNREFUSED' })));
    return this;
  } as typeof original;
  return { dials, restore: () => void (net.Socket.prototype.connect = original) };
}

/** A saved session on `dcId` at `address` with an auth key (as a logged-in worker leaves one). */
async function savedSession(dcId: number, address: string, port = 443): Promise<string> {
  const s = new StringSession('');
  s.setDC(dcId, address, port);
  const key = new AuthKey();
  await key.setKey(randomBytes(256));
  s.setAuthKey(key);
  return s.save();
}

describe('a worker without configured DCs dials Telegram', () => {
  let tmp: string;
  let rec: ReturnType<typeof recordDials>;
  const lines: string[] = [];

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-network-'));
    lines.length = 0;
    rec = recordDials();
  });
  afterEach(async () => {
    rec.restore();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const start = (extra: Partial<WorkerOptions>): Promise<Worker> =>
    Worker.start({ token: TOKEN, apiId: 1, apiHash: API_HASH, sessionDir: tmp, connectionRetries: 1, requestTimeoutMs: 20_000, log: (l) => lines.push(l), ...extra });

  const failure = async (extra: Partial<WorkerOptions>): Promise<TelegramConnectionError> => {
    const err = await start(extra).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TelegramConnectionError, String(err));
    return err;
  };

  test('a new session: GramJS\'s first DC (4) on port 443, not 80', async () => {
    const err = await failure({});
    assert.deepEqual(rec.dials, [{ host: '149.154.167.91', port: 443 }]);
    assert.match(err.message, /cannot reach DC 4 at 149\.154\.167\.91 \(port 443\)/);
  });

  test('ipv6: DC 4 at its IPv6 address, on 443', async () => {
    await failure({ ipv6: true });
    assert.equal(rec.dials.length, 1);
    assert.equal(rec.dials[0]!.port, 443);
    assert.equal(rec.dials[0]!.host.replace(/(^|:)0+(?=[0-9a-f])/g, '$1'), '2001:67c:4e8:f004:0:0:0:a');
  });

  test('a session saved on IPv4, now with ipv6: its DC\'s IPv6 address, same auth key', async () => {
    const session = await savedSession(2, '149.154.167.51');
    await failure({ ipv6: true, session });
    assert.deepEqual(rec.dials, [{ host: '2001:67c:4e8:f002::a', port: 443 }]);
    assert.ok(lines.some((l) => /session moved to DC 2's IPv6 address/.test(l)), lines.join('\n'));
  });

  test('a session saved on IPv6, now without: its DC\'s IPv4 address', async () => {
    const session = await savedSession(5, '2001:b28:f23f:f005::a');
    await failure({ session });
    assert.deepEqual(rec.dials, [{ host: '91.108.56.130', port: 443 }]);
  });

  test('a session saved with port 80 (older tgvfs) is dialled on 443', async () => {
    await failure({ session: await savedSession(2, '149.154.167.51', 80) });
    assert.deepEqual(rec.dials, [{ host: '149.154.167.51', port: 443 }]);
  });
});

describe('the DC socket', () => {
  /** Servers on 127.0.0.1 that say which one a connection reached. */
  async function namedServers(names: string[]): Promise<{ ports: number[]; close(): void }> {
    const servers = await Promise.all(names.map(async (name) => {
      const server = net.createServer((s) => s.end(name));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }));
    return { ports: servers.map((s) => (s.address() as net.AddressInfo).port), close: () => servers.forEach((s) => s.close()) };
  }

  test('configured DCs sharing one host are dialled by the DC id their connection gives', async () => {
    const srv = await namedServers(['dc2', 'dc4']);
    try {
      const dcs = [{ id: 2, host: '127.0.0.1', port: srv.ports[0]! }, { id: 4, host: '127.0.0.1', port: srv.ports[1]! }];
      const seen: DcDial[] = [];
      const Socket = createDcSocketClass(dcs, { onConnect: (d) => seen.push(d) });
      const Conn = connectionTellingDcId(ConnectionTCPAbridged);
      const logger = new Logger(LogLevel.NONE);
      for (const dcId of [4, 2]) {
        // What GramJS does for a DC: a connection to the address help.getConfig gave, on 443.
        const conn = new Conn({ ip: '127.0.0.1', port: 443, dcId, loggers: logger, socket: Socket, testServers: false });
        const s = conn.socket as PromisedNetSockets;
        await s.connect(443, '127.0.0.1');
        assert.equal((await s.readExactly(3)).toString(), `dc${dcId}`);
        await s.close();
      }
      assert.deepEqual(seen.map((d) => [d.dcId, d.port, d.route]), [[4, srv.ports[1], 'direct'], [2, srv.ports[0], 'direct']]);
    } finally {
      srv.close();
    }
  });

  test('an MTProxy connection dials the proxy as GramJS asks, whatever the DCs', async () => {
    const srv = await namedServers(['proxy']);
    try {
      const Socket = createDcSocketClass([{ id: 2, host: '127.0.0.1', port: 1 }]);
      const s = new Socket({ ip: '127.0.0.1', port: srv.ports[0]!, secret: '00'.repeat(16), MTProxy: true });
      await s.connect(srv.ports[0]!, '127.0.0.1');
      assert.equal((await s.readExactly(5)).toString(), 'proxy');
      await s.close();
    } finally {
      srv.close();
    }
  });
});
