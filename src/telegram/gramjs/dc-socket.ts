// GramJS's network socket, replaced where it costs: (1) GramJS dials the main connection on
// port 80 and every other on 443, whatever the session or help.getConfig says. Telegram's DCs
// are dialled on 443 (port 80 is dropped on some networks); configured DCs (the emulator) at
// their configured address, found by the DC id the connection hands the socket
// (connection-dc-id.ts), else by host; an MTProxy connection dials the proxy as GramJS asks.
// Each connection made is reported (`onConnect`: doctor says which transport it used). (2) Its
// receive path appends every TCP chunk to one growing Buffer under a process-wide mutex
// (quadratic copying for 1 MiB answers); here chunks are queued and each packet is copied once.
// (3) Nagle is off: GramJS writes an ack and a request as two small packets, and with Nagle the
// second waits for the delayed ACK of the first (~40 ms per call). (4) Without a proxy the
// socket reads through `onread` (Node reads into buffers we hand it): a large packet that is
// awaited is read by the kernel straight into the packet's own buffer (from packet-pool.ts),
// with no 64 KiB chunk allocated per read and no copy (only what arrived before the read was
// asked for is copied). (5) Tests may name the local address connections are made from
// (`localAddress`: one session used from two hosts, AUTH_KEY_DUPLICATED).
//
// Replaces (telegram 2.26.22): extensions/PromisedNetSockets.js, class PromisedNetSockets:
// connect, receive, read, readExactly, readAll and close (write and toString stay GramJS's).
// Relies on: GramJS builds one `new networkSocket(proxy)` per connection and calls
// connect(port, ip) with the DC's address, or with the proxy's for an MTProxy connection
// (network/connection/Connection.js: constructor, _connect; TCPMTProxy.js: constructor); its
// write() and close() use only the fields `client` and `closed`, which the direct connect sets as
// GramJS's own connect does (with `stream`, `canRead` and `resolveRead`); its connect() with a
// proxy calls this.receive() once the SOCKS handshake is done; the packet codecs read through
// read(n) or readExactly(n) and need all n bytes (AbridgedPacketCodec.readPacket uses read).
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import type { ProxyInterface } from 'telegram/network/connection/TCPMTProxy';
import type { DcAddress } from '../../config/schema';
import { packetBuffer } from './packet-pool';

/** The port of Telegram's DCs for every connection (GramJS asks 80 for the main one). */
export const TELEGRAM_PORT = 443;

/** How a connection reaches its DC. */
export type DcRoute = 'direct' | 'socks4' | 'socks5' | 'mtproxy';

/** One connection made: where the socket dialled (the proxy's address for a proxy), and how. */
export interface DcDial {
  /** The DC, when the connection told the socket (every connection but an MTProxy one). */
  dcId: number | undefined;
  /** The address dialled: the DC's, or the proxy's. */
  host: string;
  port: number;
  route: DcRoute;
  /** With a SOCKS proxy: the DC's address the proxy was asked to reach. */
  target?: { host: string; port: number };
}

export interface DcSocketOptions {
  /** Hears of every connection once it is established. */
  onConnect?: (dial: DcDial) => void;
  /** Tests only: the local address direct connections are made from (e.g. 127.0.0.10). */
  localAddress?: string;
}

const closedError = (): Error => new Error('NetSocket was closed');

/** Reads this large or larger go straight into their own buffer when the bytes are not in yet. */
const DIRECT_MIN = 64 * 1024;
/** Where the kernel reads to when no large read is waiting (Node's own read size). */
const SCRATCH = 64 * 1024;

/** GramJS's PromisedNetSockets fields that its connect() sets and its other methods read. */
interface GramJsSocketFields {
  client?: Socket;
  proxy?: unknown;
  stream: Buffer;
  canRead?: Promise<boolean>;
  resolveRead?: (value: boolean) => void;
  closed: boolean;
}

/** The receive side of one connection: queued chunks, and the large read under way. */
class DcSocket extends PromisedNetSockets {
  /** Set by the connection that owns this socket (connection-dc-id.ts). */
  dcId: number | undefined;
  protected readonly route: DcRoute;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private waiters: (() => void)[] = [];
  /** True when the socket reads through onread (no proxy): then `direct` reads are possible. */
  private userReads = false;
  private scratch: Buffer | null = null;
  /** The large read under way: the packet's buffer and how much of it has arrived. */
  private direct: { buf: Buffer; filled: number } | null = null;
  /** Whether the buffer handed to Node for the next read is a slice of `direct.buf`. */
  private handedDirect = false;

  constructor(proxy?: ProxyInterface) {
    super(proxy);
    this.route = !proxy ? 'direct' : 'MTProxy' in proxy ? 'mtproxy' : proxy.socksType === 4 ? 'socks4' : 'socks5';
  }

  /** Where to dial when GramJS asks for `ip`:`asked` (createDcSocketClass overrides it). */
  protected targetFor(ip: string, asked: number): { host: string; port: number } {
    return { host: ip, port: asked };
  }

  /** The local address to dial from (createDcSocketClass overrides it). */
  protected localAddress(): string | undefined {
    return undefined;
  }

  /** Hears of each established connection (createDcSocketClass overrides it). */
  protected connected(_dial: DcDial): void {}

  /** GramJS's fields, which its typings declare private. */
  private get gram(): GramJsSocketFields {
    return this as unknown as GramJsSocketFields;
  }

  /** GramJS keeps its net.Socket in `client`. */
  private get socket(): Socket | undefined {
    return this.gram.client;
  }

  override async connect(port: number, ip: string): Promise<unknown> {
    this.chunks = [];
    this.buffered = 0;
    this.ended = false;
    this.direct = null;
    this.handedDirect = false;
    this.userReads = !this.gram.proxy;
    const target = this.route === 'mtproxy' ? { host: ip, port } : this.targetFor(ip, port);
    const result = await (this.userReads ? this.connectDirect(target.port, target.host) : this.connectThroughProxy(target.port, target.host));
    this.connected(this.dialOf(target));
    return result;
  }

  private dialOf(target: { host: string; port: number }): DcDial {
    const proxy = this.gram.proxy as { ip: string; port: number } | undefined;
    if (this.route === 'direct' || this.route === 'mtproxy' || !proxy) return { dcId: this.dcId, ...target, route: this.route };
    return { dcId: this.dcId, host: proxy.ip, port: proxy.port, route: this.route, target };
  }

  /** GramJS's own connect (SOCKS), then Nagle off. */
  private async connectThroughProxy(port: number, ip: string): Promise<unknown> {
    const result = await super.connect(port, ip);
    this.socket?.setNoDelay?.(true);
    return result;
  }

  /** GramJS's connect() without a proxy, with a socket that reads through onread. */
  private connectDirect(port: number, ip: string): Promise<unknown> {
    // Node's Socket constructor takes onread (lib/net.js); @types/node declares it on connect only.
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      onread: { buffer: () => this.nextReadBuffer(), callback: (n, buf) => this.onRead(n, buf) },
    };
    const client = new Socket(options);
    client.setNoDelay(true);
    const self = this.gram;
    self.stream = Buffer.alloc(0);
    self.client = client;
    self.canRead = new Promise((resolve) => (self.resolveRead = resolve));
    self.closed = false;
    return new Promise((resolve, reject) => {
      const localAddress = this.localAddress();
      const onConnect = (): void => {
        void this.receive();
        resolve(this);
      };
      if (localAddress) client.connect({ port, host: ip, localAddress }, onConnect);
      else client.connect(port, ip, onConnect);
      client.on('error', reject);
      client.on('close', () => {
        if (self.client?.destroyed) {
          self.resolveRead?.(false);
          self.closed = true;
        }
      });
    });
  }

  /** Node asks this before every read: the rest of the awaited packet, or the scratch buffer. */
  private nextReadBuffer(): Buffer {
    const d = this.direct;
    this.handedDirect = d !== null && d.filled < d.buf.length;
    if (this.handedDirect) return d!.buf.subarray(d!.filled);
    return (this.scratch ??= Buffer.allocUnsafe(SCRATCH));
  }

  /** `n` bytes were read into the buffer nextReadBuffer handed out. */
  private onRead(n: number, buf: Uint8Array): true {
    const d = this.direct;
    if (this.handedDirect && d) {
      d.filled += n;
    } else {
      let at = 0;
      if (d && d.filled < d.buf.length) {
        at = Math.min(n, d.buf.length - d.filled);
        d.buf.set(buf.subarray(0, at), d.filled);
        d.filled += at;
      }
      if (at < n) {
        this.chunks.push(Buffer.from(buf.subarray(at, n)));
        this.buffered += n - at;
      }
    }
    this.wake();
    return true;
  }

  override async receive(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    socket.on('data', (data: Buffer) => {
      this.chunks.push(data);
      this.buffered += data.length;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  override async readExactly(n: number): Promise<Buffer> {
    if (this.buffered < n && this.userReads && n >= DIRECT_MIN && !this.ended) return this.readDirect(n);
    while (this.buffered < n) {
      if (this.ended) throw closedError();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.take(n);
  }

  /** A large read: what is queued is copied in, the rest is read by the kernel in place. */
  private async readDirect(n: number): Promise<Buffer> {
    const have = this.buffered;
    const d = { buf: have > 0 ? this.takeInto(packetBuffer(n), have) : packetBuffer(n), filled: have };
    this.direct = d;
    try {
      while (d.filled < n) {
        if (this.ended) throw closedError();
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
      return d.buf;
    } finally {
      this.direct = null;
    }
  }

  /** GramJS's abridged codec reads a packet with read(n) and needs all n bytes. */
  override read(n: number): Promise<Buffer> {
    return this.readExactly(n);
  }

  override async readAll(): Promise<Buffer> {
    await this.readExactly(1).then((first) => this.unshift(first));
    return this.take(this.buffered);
  }

  override async close(): Promise<void> {
    await super.close();
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private unshift(b: Buffer): void {
    this.chunks.unshift(b);
    this.buffered += b.length;
  }

  private take(n: number): Buffer {
    const head = this.chunks[0];
    if (head && head.length >= n) {
      this.buffered -= n;
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
      return head.subarray(0, n);
    }
    return this.takeInto(Buffer.allocUnsafe(n), n);
  }

  /** Moves the first `n` queued bytes to the start of `out`. */
  private takeInto(out: Buffer, n: number): Buffer {
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** Where each configured DC is, by id and by host (a host shared by two DCs tells neither). */
function configuredRoutes(dcs: readonly DcAddress[]): { byId: Map<number, DcAddress>; byHost: Map<string, DcAddress | null> } {
  const byId = new Map<number, DcAddress>();
  const byHost = new Map<string, DcAddress | null>();
  for (const dc of dcs) {
    byId.set(dc.id, dc);
    const known = byHost.get(dc.host);
    byHost.set(dc.host, known === undefined || (known !== null && known.port === dc.port) ? dc : null);
  }
  return { byId, byHost };
}

/**
 * A `networkSocket` class for GramJS (see the file comment). Without configured DCs it dials
 * Telegram: the address GramJS asks for, on port 443. With them, a DC's configured address;
 * an address that is none of theirs (a test's own server) as asked.
 */
export function createDcSocketClass(dcs: readonly DcAddress[] = [], options: DcSocketOptions = {}): typeof PromisedNetSockets {
  const { byId, byHost } = configuredRoutes(dcs);
  const telegram = dcs.length === 0;
  const { onConnect, localAddress } = options;
  return class ConfiguredDcSocket extends DcSocket {
    protected override localAddress(): string | undefined {
      return localAddress;
    }

    protected override targetFor(ip: string, asked: number): { host: string; port: number } {
      if (telegram) return { host: ip, port: TELEGRAM_PORT };
      const dc = (this.dcId === undefined ? undefined : byId.get(Math.abs(this.dcId))) ?? byHost.get(ip);
      return dc ? { host: dc.host, port: dc.port } : { host: ip, port: asked };
    }

    protected override connected(dial: DcDial): void {
      onConnect?.(dial);
    }
  };
}

/** Tells a socket of ours which DC its connection is for (other sockets are left alone). */
export function tellSocketItsDc(socket: unknown, dcId: number): void {
  if (socket instanceof DcSocket) socket.dcId = dcId;
}
