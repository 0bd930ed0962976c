// Reads file content from disk per request, straight into the outgoing message buffer. Open
// handles are kept in a small LRU, so that a 1 MiB part costs one pread; a handle the LRU drops
// while a read is using it is closed when that read ends.
import { open, type FileHandle } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';

interface Entry {
  fh: Promise<FileHandle>;
  users: number;
  evicted: boolean;
}

export class FileReader {
  private readonly closing = new Set<Promise<void>>();
  private readonly entries: LRUCache<string, Entry>;

  constructor(maxOpen = 64) {
    this.entries = new LRUCache<string, Entry>({
      max: maxOpen,
      dispose: (e) => {
        e.evicted = true;
        if (e.users === 0) this.closeHandle(e);
      },
    });
  }

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
      if (--entry.users === 0 && entry.evicted) this.closeHandle(entry);
    }
  }

  private acquire(path: string): Entry {
    let e = this.entries.get(path);
    if (!e) {
      const opened: Entry = { fh: open(path, 'r'), users: 0, evicted: false };
      opened.fh.catch(() => this.entries.peek(path) === opened && this.entries.delete(path));
      this.entries.set(path, opened);
      e = opened;
    }
    e.users++;
    return e;
  }

  private closeHandle(e: Entry): void {
    const done = e.fh.then((fh) => fh.close()).catch(() => undefined);
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }

  async close(): Promise<void> {
    this.entries.clear();
    await Promise.all([...this.closing]);
  }
}
