// Reads file content from disk per request, straight into the outgoing message buffer. Open
// handles are kept in a small LRU (never closing one that a read is using), so that a 1 MiB
// part costs one pread.
import { open, type FileHandle } from 'node:fs/promises';

interface Entry {
  fh: Promise<FileHandle>;
  users: number;
}

export class FileReader {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxOpen = 64) {}

  /** Reads up to `length` bytes at `position` into `target` at `offset`; returns bytes read. */
  async read(path: string, position: number, target: Buffer, offset: number, length: number): Promise<number> {
    const entry = this.acquire(path);
    try {
      const fh = await entry.fh;
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(target, offset + done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    } finally {
      entry.users--;
      this.evict();
    }
  }

  private acquire(path: string): Entry {
    let e = this.entries.get(path);
    if (e) this.entries.delete(path);
    else {
      e = { fh: open(path, 'r'), users: 0 };
      e.fh.catch(() => this.entries.get(path) === e && this.entries.delete(path));
    }
    this.entries.set(path, e);
    e.users++;
    return e;
  }

  private evict(): void {
    for (const [path, e] of this.entries) {
      if (this.entries.size <= this.maxOpen) return;
      if (e.users > 0) continue;
      this.entries.delete(path);
      void e.fh.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.fh.then((fh) => fh.close()).catch(() => undefined)));
  }
}
