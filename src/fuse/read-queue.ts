// One open file's reads, one at a time, in offset order. The kernel sends a handle's reads
// concurrently (its own read-ahead, from several libfuse threads, not always in order), but the
// engine's Reader behind a VFS handle expects one read at a time: a read that starts elsewhere
// is a jump and drops what the previous one still waits for. So reads queue here, and the next
// one to run is the one that continues where the last ended (else the lowest offset); runs start
// on the next turn of the event loop, so reads that arrive together are sorted first.
import type { VfsHandle } from '../vfs/vfs';

interface Pending {
  offset: number;
  length: number;
  signal: AbortSignal;
  resolve(buf: Buffer): void;
  reject(err: unknown): void;
}

export class ReadQueue {
  private readonly pending: Pending[] = [];
  private running = false;
  private scheduled = false;
  private nextPos = -1;

  constructor(readonly handle: VfsHandle) {}

  read(offset: number, length: number, signal: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.push({ offset, length, signal, resolve, reject });
      this.schedule();
    });
  }

  close(): void {
    this.handle.close();
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.runNext();
    });
  }

  private take(): Pending | undefined {
    let best = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.offset === this.nextPos) {
        best = i;
        break;
      }
      if (best < 0 || p.offset < this.pending[best]!.offset) best = i;
    }
    return best < 0 ? undefined : this.pending.splice(best, 1)[0];
  }

  private async runNext(): Promise<void> {
    const p = this.take();
    if (!p) return;
    this.running = true;
    try {
      // Gave up while queued (its deadline passed): nothing to do.
      if (p.signal.aborted) {
        p.reject(p.signal.reason);
        return;
      }
      this.nextPos = p.offset + p.length;
      p.resolve(await this.handle.read(p.offset, p.length, p.signal));
    } catch (err) {
      p.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
