// GramJS's network socket, replaced where it costs: (1) GramJS dials the main connection on
// port 80 and every other on 443, whatever the session or help.getConfig says; when the DCs are
// configured (the emulator), each DC has its own host, so the host alone tells which port to
// use. (2) Its receive path appends every TCP chunk to one growing Buffer under a process-wide
// mutex (quadratic copying for 1 MiB answers); here chunks are queued and each packet is copied
// once. (3) Nagle is off: GramJS writes an ack and a request as two small packets, and with
// Nagle the second waits for the delayed ACK of the first (~40 ms per call).
import type { Socket } from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import type { DcAddress } from '../app/config';

const closedError = (): Error => new Error('NetSocket was closed');

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

    /** GramJS keeps its net.Socket in a field its typings declare private. */
    private get socket(): Socket | undefined {
      return (this as unknown as { client?: Socket }).client;
    }

    override async connect(port: number, ip: string): Promise<unknown> {
      this.chunks = [];
      this.buffered = 0;
      this.ended = false;
      const result = await super.connect(portByHost.get(ip) ?? port, ip);
      this.socket?.setNoDelay?.(true);
      return result;
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
      while (this.buffered < n) {
        if (this.ended) throw closedError();
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
      return this.take(n);
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
      const out = Buffer.allocUnsafe(n);
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
