// An MTProxy in front of the emulator's DCs, as Telegram's MTProxy stands in front of Telegram's.
// A client's connection opens with a 64-byte obfuscation header whose keys are mixed with the
// proxy's 16-byte secret (transport.ts, openObfuscatedHeader) and which names the DC the client
// wants; the proxy connects to that DC and relays the MTProto transport inside, decrypting what
// the client sends and encrypting what the DC answers. The DC sees an ordinary unobfuscated
// connection from the proxy's address. A header that does not open with the secret (a wrong
// secret, or no MTProxy client) closes the connection, as MTProxy does. A `dd` secret (random
// padding asked for) is the same 16 bytes: the proxy accepts every framing either way.
import net from 'node:net';
import { pipeline } from 'node:stream';
import type { DcAddress } from '../config/schema';
import { mtproxySecretHex } from '../config/proxy-url';
import { openObfuscatedHeader, transportPreamble, type ObfuscatedHeader } from './transport';

const HEADER = 64;

export interface MtProxyOptions {
  /** 32 hex digits, or `dd` + 32 (also base64): the secret clients must know. */
  secret: string;
  /** Where the proxy listens; port 0 picks a free one. */
  host: string;
  port: number;
  /** The DCs it relays to, by id. */
  dcs: () => readonly DcAddress[];
  log: (line: string) => void;
}

/** Connections relayed to each DC, and those refused (wrong secret, unknown DC). */
export interface MtProxyCounts {
  relayed: Record<number, number>;
  refused: number;
}

export class MtProxyError extends Error {
  readonly code = 'EMU_MTPROXY';
}

/** The secret's 16 key bytes; throws MtProxyError (never showing the secret) when malformed. */
export function mtproxyKey(secret: string): Buffer {
  let hex: string;
  try {
    hex = mtproxySecretHex(secret);
  } catch {
    throw new MtProxyError('--mtproxy-secret must be 32 hex digits, or dd followed by 32 (value not shown)');
  }
  return Buffer.from(hex.length === 34 ? hex.slice(2) : hex, 'hex');
}

export class MtProxyServer {
  readonly counts: MtProxyCounts = { relayed: {}, refused: 0 };
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly key: Buffer,
    private readonly options: MtProxyOptions,
  ) {}

  static async start(options: MtProxyOptions): Promise<MtProxyServer> {
    const key = mtproxyKey(options.secret);
    const server = net.createServer();
    const proxy = new MtProxyServer(server, key, options);
    server.on('connection', (s) => proxy.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** Where clients reach it. */
  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: this.options.host, port: a.port };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  /** Reads the client's header, then relays to the DC it names. */
  private accept(client: net.Socket): void {
    this.track(client);
    client.setNoDelay(true);
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < HEADER) return;
      client.off('data', onData);
      client.pause();
      const all = Buffer.concat(chunks, have);
      this.open(client, all.subarray(0, HEADER), all.subarray(HEADER));
    };
    client.on('data', onData);
  }

  private open(client: net.Socket, raw: Buffer, rest: Buffer): void {
    let header: ObfuscatedHeader;
    try {
      header = openObfuscatedHeader(raw, this.key);
    } catch (err) {
      return this.refuse(client, (err as Error).message);
    }
    const dcId = Math.abs(header.dcId);
    const dc = this.options.dcs().find((d) => d.id === dcId);
    if (!dc) return this.refuse(client, `no DC ${header.dcId}`);
    this.counts.relayed[dcId] = (this.counts.relayed[dcId] ?? 0) + 1;
    const upstream = net.connect(dc.port, dc.host);
    this.track(upstream);
    upstream.setNoDelay(true);
    upstream.write(transportPreamble(header.kind));
    if (rest.length > 0) header.decipher.write(rest);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
    };
    pipeline(client, header.decipher, upstream, done);
    pipeline(upstream, header.cipher, client, done);
    client.resume();
  }

  private refuse(client: net.Socket, why: string): void {
    this.counts.refused++;
    this.options.log(`mtproxy: closing a connection from ${client.remoteAddress ?? '?'}: ${why}`);
    client.destroy();
  }
}
