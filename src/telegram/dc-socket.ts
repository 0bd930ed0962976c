// GramJS's network socket, replaced where it costs: (1) GramJS dials the main connection on
// port 80 and every other on 443, whatever the session or help.getConfig says; when the DCs are
// configured (the emulator), each DC has its own host, so the host alone tells which port to
// use. (2) Its receive path appends every TCP chunk to one growing Buffer under a process-wide
// mutex (quadratic copying for 1 MiB answers); here chunks are queued and each packet is copied
// once. (3) Nagle is off: GramJS writes an ack and a request as two small packets, and with
// Nagle the second waits for the delayed ACK of the first (~40 ms per call). (4) Without a proxy
// the socket reads through `onread` (Node reads into buffers we hand it): a large packet that is
// awaited is read by the kernel straight into the packet's own buffer, with no 64 KiB chunk
// allocated per read and no copy (only what arrived before the read was asked for is copied).
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import type { DcAddress } from '../config/schema';

const closedError = (): Error => new Error('NetSocket was closed');

/** Reads this large or larger go straight into their own buffer when the bytes are not in yet. */
const DIRECT_MIN = 64 * 1024;
/** Where the kernel reads to when no large read is waiting (Node's own read size). */
const SCRATCH = 64 * 1024;

// Packet buffers of large reads, reused once their bytes are decrypted (recyclePacket): a
// fresh 1 MiB buffer per getFile answer is external memory that makes V8 collect garbage often.
const SPARE_MAX = 8;
const spare: ArrayBuffer[] = [];
const ours = new WeakSet<ArrayBuffer>();

function packetBuffer(n: number): Buffer {
  for (let i = spare.length - 1; i >= 0; i--) {
    const ab = spare[i]!;
    if (ab.byteLength >= n && ab.byteLength <= 2 * n) {
      spare.splice(i, 1);
      return Buffer.from(ab, 0, n);
    }
  }
  const buf = Buffer.allocUnsafeSlow(n);
  ours.add(buf.buffer as ArrayBuffer);
  return buf;
}

/**
 * Gives a packet's buffer back for the next large read. Only for a caller that holds the last
 * reference to `packet` (or any view of it) and drops it now: fast-decrypt.ts, once decrypted.
 */
export function recyclePacket(packet: Uint8Array): void {
  const ab = packet.buffer as ArrayBuffer;
  if (spare.length < SPARE_MAX && ours.has(ab) && !spare.includes(ab)) spare.push(ab);
}

/** GramJS's PromisedNetSockets fields that its connect() sets and its other methods read. */
interface GramJsSocketFields {
  client?: Socket;
  proxy?: unknown;
  stream: Buffer;
  canRead?: Promise<boolean>;
  resolveRead?: (value: boolean) => void;
  closed: boolean;
}

/** A `networkSocket` class for GramJS (see the file comment). */
export function createDcSocketClass(dcs: readonly DcAddress[] = []): typeof PromisedNetSockets {
  const portByHost = new Map<string, number>();
  for (const dc of dcs) {
    const known = portByHost.get(dc.host);
    if (known !== undefined && known !== dc.port) {
      throw new Error(`DC host ${dc.host} is configured with two ports (${known}, ${dc.port}); each DC needs its own host`);
    }
    portByHost.set(dc.host, dc.port);
  }
  return class DcSocket extends PromisedNetSockets {
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

    /** GramJS keeps its net.Socket in a field its typings declare private. */
    private get socket(): Socket | undefined {
      return (this as unknown as { client?: Socket }).client;
    }

    override async connect(port: number, ip: string): Promise<unknown> {
      this.chunks = [];
      this.buffered = 0;
      this.ended = false;
      this.direct = null;
      this.handedDirect = false;
      const self = this as unknown as GramJsSocketFields;
      this.userReads = !self.proxy;
      if (self.proxy) {
        const result = await super.connect(portByHost.get(ip) ?? port, ip);
        this.socket?.setNoDelay?.(true);
        return result;
      }
      // GramJS's connect() without a proxy, with a socket that reads through onread.
      // Node's Socket constructor takes onread (lib/net.js); @types/node declares it on connect only.
      const options: SocketConstructorOpts & { onread: OnReadOpts } = {
        onread: { buffer: () => this.nextReadBuffer(), callback: (n, buf) => this.onRead(n, buf) },
      };
      const client = new Socket(options);
      client.setNoDelay(true);
      self.stream = Buffer.alloc(0);
      self.client = client;
      self.canRead = new Promise((resolve) => (self.resolveRead = resolve));
      self.closed = false;
      return new Promise((resolve, reject) => {
        client.connect(portByHost.get(ip) ?? port, ip, () => {
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
  };
}
