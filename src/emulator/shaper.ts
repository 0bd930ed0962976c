// Outgoing traffic of one connection, shaped as the fault settings say: a fixed delay before each
// response (latency), a token bucket (bandwidth), and a hard close after N bytes (drop-every).
// Delays are in the emulator's clock (clock.ts).
import type { Socket } from 'node:net';
import type { EmulatorClock } from './clock';
import type { FaultSettings } from './types';

interface Pending {
  parts: Buffer[];
  due: number;
  /** Close the connection once these parts are written (a transport error's last word). */
  thenClose?: boolean;
}

export class Shaper {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private sent = 0;
  private tokens = 0;
  private lastRefill: number;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly faults: () => FaultSettings,
    private readonly onDrop: () => void,
    private readonly clock: EmulatorClock,
  ) {
    this.lastRefill = clock.now();
    socket.once('close', () => {
      this.closed = true;
      this.queue.length = 0;
    });
  }

  send(parts: Buffer[], thenClose = false): void {
    if (this.closed) return;
    this.queue.push({ parts, due: this.clock.now() + this.faults().latencyMs, thenClose });
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length && !this.closed) {
        const head = this.queue[0]!;
        const wait = head.due - this.clock.now();
        if (wait > 0) await this.clock.sleep(wait);
        this.queue.shift();
        for (const part of head.parts) {
          if (this.closed) return;
          await this.write(part);
        }
        if (head.thenClose) {
          this.closed = true;
          this.socket.end();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async write(buf: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buf.length && !this.closed) {
      const { bandwidth, dropEvery } = this.faults();
      let n = buf.length - offset;
      if (bandwidth > 0) {
        const burst = Math.max(16384, Math.floor(bandwidth / 50));
        const now = this.clock.now();
        this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) * bandwidth) / 1000);
        this.lastRefill = now;
        if (this.tokens < 1) {
          await this.clock.sleep(Math.max(1, Math.ceil(((Math.min(n, burst) - this.tokens) * 1000) / bandwidth)));
          continue;
        }
        n = Math.min(n, Math.floor(this.tokens));
        this.tokens -= n;
      }
      if (dropEvery > 0 && this.sent + n >= dropEvery) {
        n = Math.max(0, dropEvery - this.sent);
        if (n) this.socket.write(buf.subarray(offset, offset + n));
        this.closed = true;
        this.onDrop();
        this.socket.destroy();
        return;
      }
      const chunk = offset === 0 && n === buf.length ? buf : buf.subarray(offset, offset + n);
      offset += n;
      this.sent += n;
      if (!this.socket.write(chunk)) await drained(this.socket);
    }
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
