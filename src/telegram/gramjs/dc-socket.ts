// GramJS's network socket, replaced where it costs: (1) GramJS dials the main connection on
// port 80 and every other on 443, whatever the session or help.getConfig says; when the DCs are
// configured (the emulator), each DC has its own host, so the host alone tells which port to
// use. (2) Its receive path appends every TCP chunk to one growing Buffer under a process-wide
// mutex (quadratic copying for 1 MiB answers); here chunks are queued and each packet is copied
// once. (3) Nagle is off: GramJS writes an ack and a request as two small packets, and with
// Nagle the second waits for the delayed ACK of the first (~40 ms per call). (4) Without a proxy
// the socket reads through `onread` (Node reads into buffers we hand it): a large packet that is
// awaited is read by the kernel straight into the packet's own buffer (from packet-pool.ts), with
// no 64 KiB chunk allocated per read and no copy (only what arrived before the read was asked
// for is copied).
//
// Replaces (telegram 2.26.22): extensions/PromisedNetSockets.js, class PromisedNetSockets:
// connect, receive, read, readExactly, readAll and close (write and toString stay GramJS's).
// Relies on: GramJS builds one `new networkSocket(proxy)` per connection and calls
// connect(port, ip) with the DC's address (network/connection/Connection.js: constructor, _connect); its
// write() and close() use only the fields `client` and `closed`, which the direct connect sets as
// GramJS's own connect does (with `stream`, `canRead` and `resolveRead`); its connect() with a
// proxy calls this.receive() once the SOCKS handshake is done; the packet codecs read through
// read(n) or readExactly(n) and need all n bytes (AbridgedPacketCodec.readPacket uses read).
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import type { DcAddress } from '../../config/schema';
import { packetBuffer } from './packet-pool';

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

  /** The port to dial for `ip` when GramJS asks for `asked` (createDcSocketClass overrides it). */
  protected portFor(_ip: string, asked: number): number {
    return asked;
  }

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
    const target = this.portFor(ip, port);
    return this.userReads ? this.connectDirect(target, ip) : this.connectThroughProxy(target, ip);
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
      client.connect(port, ip, () => {
        void this.receive();
        resolve(this);
      });
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

/** Host → port of the configured DCs; a host with two ports cannot tell its DC. */
function portsByHost(dcs: readonly DcAddress[]): Map<string, number> {
  const ports = new Map<string, number>();
  for (const dc of dcs) {
    const known = ports.get(dc.host);
    if (known !== undefined && known !== dc.port) {
      throw new Error(`DC host ${dc.host} is configured with two ports (${known}, ${dc.port}); each DC needs its own host`);
    }
    ports.set(dc.host, dc.port);
  }
  return ports;
}

/** A `networkSocket` class for GramJS (see the file comment) dialling the DCs of `dcs`. */
export function createDcSocketClass(dcs: readonly DcAddress[] = []): typeof PromisedNetSockets {
  const ports = portsByHost(dcs);
  return class ConfiguredDcSocket extends DcSocket {
    protected override portFor(ip: string, asked: number): number {
      return ports.get(ip) ?? asked;
    }
  };
}
