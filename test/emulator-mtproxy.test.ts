// The emulator's MTProxy (--mtproxy-secret): the secret-keyed obfuscation header as two client
// implementations write it (GramJS's MTProxyIO; mtcute's MTProxy transport with a dd secret,
// which frames with padded intermediate), relayed to the DC the header names; a wrong secret
// closes the connection, counted, and reaches no DC.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Bytes } from '@fuman/io';
import { MtProxyTcpTransport } from '@mtcute/node';
import { NodeCryptoProvider } from '@mtcute/node/utils.js';
import { Logger } from 'telegram';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import { LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPMTProxyAbridged } from 'telegram/network/connection/TCPMTProxy';
import { mtproxyKey } from '../src/emulator/mtproxy';
import { openObfuscatedHeader } from '../src/emulator/transport';
import { runCli } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const SECRET = 'c0ffee00112233445566778899aabbcc';
const OTHER = 'c0ffee00112233445566778899aabbcd';

/** A plain-text req_pq_multi (auth_key_id 0, msg_id, length, the call), as every client opens. */
function reqPqMulti(nonce: Buffer): Buffer {
  const b = Buffer.alloc(20 + 4 + 16);
  b.writeBigUInt64LE((BigInt(Math.floor(Date.now() / 1000)) << 32n) | 4n, 8);
  b.writeUInt32LE(20, 16);
  b.writeUInt32LE(0xbe7e8ef1, 20);
  nonce.copy(b, 24);
  return b;
}

/** The header GramJS's MTProxy connection sends for DC `dcId` with `secret`, and what it encrypts `data` to. */
async function gramJsHeader(secret: string, dcId: number, data: Buffer): Promise<{ header: Buffer; sent: Buffer }> {
  const conn = new ConnectionTCPMTProxyAbridged({
    ip: '127.0.0.1', port: 1, dcId, loggers: new Logger(LogLevel.NONE), socket: PromisedNetSockets, testServers: false,
    proxy: { ip: '127.0.0.1', port: 1, secret, MTProxy: true },
  });
  const io = new conn.ObfuscatedIO(conn) as unknown as { initHeader(): Promise<void>; header: Buffer; _encrypt: { encrypt(b: Buffer): Buffer } };
  await io.initHeader();
  return { header: io.header, sent: io._encrypt.encrypt(data) };
}

describe('the emulator\'s MTProxy', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'films/a.bin': 10_000 }, { watch: false, mtproxySecret: `dd${SECRET}` });
  });
  after(() => f?.close());

  it('opens GramJS\'s header with the secret: its framing, its DC, and its bytes after', async () => {
    const payload = randomBytes(100);
    const { header, sent } = await gramJsHeader(SECRET, 4, payload);
    const opened = openObfuscatedHeader(header, mtproxyKey(SECRET));
    assert.equal(opened.kind, 'abridged');
    assert.equal(opened.dcId, 4);
    assert.ok(opened.decipher.update(sent).equals(payload));
    assert.throws(() => openObfuscatedHeader(header, mtproxyKey(OTHER)), /unknown obfuscated protocol tag .*wrong MTProxy secret/);
    assert.throws(() => openObfuscatedHeader(header), /unknown obfuscated protocol tag/, 'not a plain obfuscated header');
  });

  it('relays mtcute\'s dd connection (padded intermediate) to DC 4, which answers the handshake', async () => {
    const proxy = f.emu.mtproxy!;
    const before = proxy.counts.relayed[4] ?? 0;
    const crypto = new NodeCryptoProvider();
    await crypto.initialize();
    const transport = new MtProxyTcpTransport({ host: proxy.host, port: proxy.port, secret: `dd${SECRET}` });
    const codec = transport.packetCodec({ id: 4, ipAddress: '0.0.0.0', port: 0 });
    codec.setup!(crypto, undefined as never);
    const socket = net.connect(proxy.port, proxy.host);
    try {
      await once(socket, 'connect');
      const nonce = randomBytes(16);
      // The tag (the header) first: it sets up the ciphers encode uses.
      const tag = await codec.tag();
      const out = Bytes.alloc();
      await codec.encode(reqPqMulti(nonce), out);
      socket.write(Buffer.concat([tag, out.result()]));
      let frame: Uint8Array | null = null;
      for await (const chunk of socket) {
        frame = await codec.decode(Bytes.from(chunk as Buffer), false);
        if (frame) break;
      }
      assert.ok(frame, 'an answer through the proxy');
      const answer = Buffer.from(frame);
      assert.equal(answer.readBigUInt64LE(0), 0n, 'a plain message');
      assert.equal(answer.readUInt32LE(20).toString(16), '5162463', 'resPQ');
      assert.ok(answer.subarray(24, 40).equals(nonce), 'with our nonce');
      assert.equal(proxy.counts.relayed[4], before + 1);
    } finally {
      socket.destroy();
    }
  });

  it('closes a connection keyed with another secret, reaching no DC', async () => {
    const proxy = f.emu.mtproxy!;
    const relayed = JSON.stringify(proxy.counts.relayed);
    const refused = proxy.counts.refused;
    const { header, sent } = await gramJsHeader(OTHER, 2, Buffer.from([0x0a, ...reqPqMulti(randomBytes(16))]));
    const socket = net.connect(proxy.port, proxy.host);
    await once(socket, 'connect');
    socket.write(Buffer.concat([header, sent]));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    await once(socket, 'close');
    assert.deepEqual(received, [], 'nothing came back');
    assert.equal(proxy.counts.refused, refused + 1);
    assert.equal(JSON.stringify(proxy.counts.relayed), relayed);
  });
});

describe('tgvfs emulator --mtproxy-secret', () => {
  it('a malformed secret is a usage error (exit 2) that does not show it', () => {
    const r = runCli(['emulator', '--data', '.', '--config-out', '/tmp/x.json', '--mtproxy-secret', 'c0ffee-not-hex']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'tgvfs emulator: --mtproxy-secret must be 32 hex digits, or dd followed by 32 (value not shown)\n');
  });
});
