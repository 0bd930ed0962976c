// An in-memory CatalogReader and a fake FileSource for VFS and WebDAV tests: no network, every
// call counted, so a test can prove that stat/readdir never reach the byte source.
import { Readable } from 'node:stream';
import type { CatalogChannel, CatalogFile, CatalogReader } from '../../src/catalog/types';
import type { FileReader, FileSource, VfsFileRef } from '../../src/vfs/vfs';

export class MemoryCatalog implements CatalogReader {
  private readonly byChannel = new Map<number, Map<number, CatalogFile>>();
  private readonly listeners = new Set<(channel: number) => void>();
  /** Calls of files() and file(), per channel. */
  readonly calls = { files: 0, file: 0 };

  constructor(private readonly configured: CatalogChannel[], files: CatalogFile[] = []) {
    for (const c of configured) this.byChannel.set(c.id, new Map());
    for (const f of files) this.byChannel.get(f.channel)!.set(f.msgId, f);
  }

  channels(): CatalogChannel[] {
    return this.configured.map((c) => ({ ...c }));
  }

  async files(channel: number): Promise<CatalogFile[]> {
    this.calls.files++;
    return [...(this.byChannel.get(channel)?.values() ?? [])].sort((a, b) => a.msgId - b.msgId);
  }

  async file(channel: number, msgId: number): Promise<CatalogFile | undefined> {
    this.calls.file++;
    return this.byChannel.get(channel)?.get(msgId);
  }

  onChange(listener: (channel: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Adds or replaces a file and tells the listeners. */
  put(file: CatalogFile): void {
    this.byChannel.get(file.channel)!.set(file.msgId, file);
    for (const l of this.listeners) l(file.channel);
  }

  remove(channel: number, msgId: number): void {
    this.byChannel.get(channel)!.delete(msgId);
    for (const l of this.listeners) l(channel);
  }
}

/** A CatalogFile with defaults. */
export function catalogFile(channel: number, msgId: number, over: Partial<CatalogFile> = {}): CatalogFile {
  return {
    channel, msgId, docId: String(1000 + msgId), size: 10, mimeType: 'application/octet-stream',
    name: `file${msgId}.bin`, date: 1_700_000_000 + msgId, thumbs: [], ...over,
  };
}

/** Deterministic bytes of a file: byte i is (i * 7 + msgId) & 255. */
export function fakeBytes(msgId: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + msgId) & 255;
  return b;
}

/** Bytes from fakeBytes (or `thumbs`), with every call counted and every reader tracked. */
export class FakeFileSource implements FileSource {
  readonly calls = { open: 0, stream: 0, thumbnail: 0, describe: 0, read: 0 };
  openReaders = 0;
  openStreams = 0;
  /** Thumbnail bytes by `${channel}:${msgId}`. */
  readonly thumbs = new Map<string, Buffer>();
  /** Files `describe` knows (upstream but not in the catalog). */
  readonly upstream = new Map<string, CatalogFile>();

  open(ref: VfsFileRef): FileReader {
    this.calls.open++;
    this.openReaders++;
    let closed = false;
    return {
      read: async (offset, length) => {
        this.calls.read++;
        return fakeBytes(ref.msgId, ref.size).subarray(offset, Math.min(ref.size, offset + length));
      },
      close: () => {
        if (!closed) this.openReaders--;
        closed = true;
      },
    };
  }

  stream(ref: VfsFileRef, start: number, endInclusive: number, signal?: AbortSignal): Readable {
    this.calls.stream++;
    this.openStreams++;
    const bytes = fakeBytes(ref.msgId, ref.size).subarray(start, endInclusive + 1);
    const r = Readable.from([bytes], { objectMode: false });
    let done = false;
    const finish = (): void => {
      if (!done) this.openStreams--;
      done = true;
    };
    r.once('close', finish);
    signal?.addEventListener('abort', () => r.destroy(), { once: true });
    return r;
  }

  async thumbnail(channel: number, msgId: number): Promise<Buffer> {
    this.calls.thumbnail++;
    const t = this.thumbs.get(`${channel}:${msgId}`);
    if (!t) throw new Error(`no thumbnail for ${channel}:${msgId}`);
    return t;
  }

  async describe(channel: number, msgId: number): Promise<CatalogFile> {
    this.calls.describe++;
    const f = this.upstream.get(`${channel}:${msgId}`);
    if (!f) throw new Error(`message ${msgId} not found`);
    return f;
  }
}
