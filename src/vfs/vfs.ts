// The one filesystem both front-ends (WebDAV, FUSE) use. Paths and listings are answered from the
// catalog only (no upstream call for stat/readdir); bytes come from a FileSource (the stream
// engine over the worker pool), which the VFS knows only through the four methods below.
//
// Tree:
//   /                                   channels, by configured name (names.ts makes them safe)
//   /.metadata_never_index              empty file: tells macOS Spotlight not to index the volume
//   /<channel>/                         the channel's files, in message-id order
//   /<channel>/<file>                   one document (name rules: names.ts)
//   /<channel>/.thumbnails/             hidden folder, present when a file of the channel has a thumbnail
//   /<channel>/.thumbnails/<file>.jpg   the largest thumbnail of <file> (image/jpeg)
//
// Thumbnails live in a hidden per-channel folder rather than beside the files so that a plain
// listing (`ls`, Finder, `rclone lsl`) shows exactly the channel's documents, while tools that want
// previews (a gallery, `rclone copy --include '.thumbnails/**'`) can still reach them by path; the
// name is the file's name plus `.jpg`, so a thumbnail is found from its file without a lookup table.
//
// Finder's probes (`._*` AppleDouble files and `.DS_Store`) are answered ENOENT before any catalog
// access: no VFS name ever looks like one (names.ts prefixes such names with `_`).
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { CatalogChannel, CatalogFile, CatalogReader, CatalogThumb } from '../catalog/types';
import type { FileRef } from '../stream/types';
import { fileKey, largestThumb } from '../util/media';
import { VfsError, isVfsError } from './errors';
import { FolderIndex, type IndexEntry } from './folder-index';
import {
  NEVER_INDEX_MARKER,
  THUMBNAILS_DIR,
  assignChannelNames,
  assignFileNames,
  isFinderProbe,
  thumbnailName,
} from './names';

/** A file as the stream engine sees it, plus where it lives (the pool's PoolFile has this shape). */
export interface VfsFileRef extends FileRef {
  channel: number;
  msgId: number;
  /** The document listed: the bytes read are this document's, never an edit's other one. */
  docId: string;
}

/** A positional reader of one file (the stream engine's Reader satisfies it). */
export interface FileReader {
  /** Up to `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
  close(): void;
}

/** Where the bytes come from: all the VFS needs of the pool and its stream engine. */
export interface FileSource {
  /** A reader that keeps its own read-ahead state (one per open handle). */
  open(ref: VfsFileRef): FileReader;
  /** Exact bytes start…endInclusive; destroying the stream or aborting `signal` stops upstream work. */
  stream(ref: VfsFileRef, start: number, endInclusive: number, signal?: AbortSignal): Readable;
  /** The largest thumbnail of a message's document (rejects when it has none). */
  thumbnail(channel: number, msgId: number, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Optional upstream look-up of a message the catalog does not know (yet). Used only by the
   * id-addressed `message()`/`messageThumbnail()` (e.g. `/stream/<channel>/<msgId>` while the
   * catalog is still indexing), never by paths, stat or readdir.
   */
  describe?(channel: number, msgId: number, signal?: AbortSignal): Promise<CatalogFile>;
}

export type VfsNodeKind = 'root' | 'channel' | 'thumbnails' | 'file' | 'thumbnail' | 'marker';

export interface VfsStat {
  /** Name in its folder ('' for the root). */
  name: string;
  type: 'file' | 'directory';
  kind: VfsNodeKind;
  /** Bytes; 0 for folders. */
  size: number;
  /** Last modification, epoch ms (a file's message date; a folder's newest file or last change). */
  mtimeMs: number;
  /** Content type of a file; `inode/directory` for folders. */
  mimeType: string;
  /**
   * Changes whenever the content does: `<docId>-<size>` for a file, `<docId>-<thumb type>-<size>`
   * for a thumbnail; null for folders. WebDAV quotes it as the ETag.
   */
  version: string | null;
  /** The message behind a file or thumbnail, or the channel of a channel folder. */
  channel?: number;
  msgId?: number;
}

export interface VfsDirEntry {
  name: string;
  stat: VfsStat;
}

/** An open file: positional reads; `close()` releases its read-ahead. */
export interface VfsHandle {
  readonly stat: VfsStat;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
  close(): void;
}

/** A resolved path: its stat, and the bytes of a file. */
export interface VfsNode {
  readonly path: string;
  readonly stat: VfsStat;
  /** Exact bytes start…endInclusive (endInclusive = start − 1: empty). EISDIR on folders. */
  createReadStream(start: number, endInclusive: number, signal?: AbortSignal): Readable;
  /** EISDIR on folders. */
  open(): VfsHandle;
}

/** A path as a string (`/a/b`) or as decoded names (`['a', 'b']`, e.g. from a URL's segments). */
export type VfsPath = string | readonly string[];

export interface VfsOptions {
  /** Offer `/<channel>/.thumbnails/`. @default true */
  thumbnails?: boolean;
  /** Offer `/.metadata_never_index`. @default true */
  neverIndexMarker?: boolean;
  /** Thumbnails kept in memory (they are small; a gallery asks for each more than once). @default 128 */
  thumbnailCacheEntries?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  now?: () => number;
}

interface ChannelInfo {
  id: number;
  name: string;
}

type FileEntry = IndexEntry;

interface ThumbEntry {
  name: string;
  file: CatalogFile;
  thumb: CatalogThumb;
}

type ChannelIndex = FolderIndex;

const THUMB_SUFFIX = '.jpg';

type Target =
  | { kind: 'root' }
  | { kind: 'marker' }
  | { kind: 'channel'; channel: ChannelInfo }
  | { kind: 'thumbnails'; channel: ChannelInfo }
  | { kind: 'file'; channel: ChannelInfo; entry: FileEntry }
  | { kind: 'thumbnail'; channel: ChannelInfo; entry: ThumbEntry };

/** The engine's view of a catalog file: built from the catalog alone (no getDoc). */
export function fileRef(file: CatalogFile): VfsFileRef {
  return { key: fileKey(file.channel, file.msgId, file.docId), size: file.size, channel: file.channel, msgId: file.msgId, docId: file.docId };
}

/**
 * Splits and checks a path: `..`, `.`, NUL, or a separator inside a name (an encoded `/` or `\`)
 * → EINVAL. Empty segments (`//`, a trailing `/`) are ignored.
 */
export function pathSegments(path: VfsPath): string[] {
  const shown = typeof path === 'string' ? path : `/${path.join('/')}`;
  const parts = typeof path === 'string' ? path.split('/') : [...path];
  const out: string[] = [];
  for (const p of parts) {
    if (p === '') continue;
    if (p === '.' || p === '..') throw new VfsError('EINVAL', shown, `"${p}" is not allowed in a path`);
    if (p.includes('\0')) throw new VfsError('EINVAL', shown, 'NUL in a path');
    if (p.includes('/') || p.includes('\\')) throw new VfsError('EINVAL', shown, 'a path separator inside a name');
    out.push(p.normalize('NFC'));
  }
  return out;
}

function checkRange(path: string, size: number, start: number, endInclusive: number): void {
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(endInclusive) && start >= 0 &&
    endInclusive >= start - 1 && endInclusive < size;
  if (!ok) throw new VfsError('EINVAL', path, `bytes ${start}-${endInclusive} are not within a file of ${size} bytes`);
}

function dirStat(name: string, kind: VfsNodeKind, mtimeMs: number, channel?: number): VfsStat {
  return { name, type: 'directory', kind, size: 0, mtimeMs, mimeType: 'inode/directory', version: null, channel };
}

function emptyStream(): Readable {
  return Readable.from([]);
}

/** Bytes of a buffer that is loaded when first read. */
class BufferStream extends Readable {
  private started = false;

  constructor(private readonly load: () => Promise<Buffer>, private readonly start: number, private readonly end: number, private readonly path: string) {
    super();
  }

  override _read(): void {
    if (this.started) return;
    this.started = true;
    this.load().then(
      (buf) => {
        if (this.destroyed) return;
        if (buf.length <= this.end) {
          this.destroy(new VfsError('EIO', this.path, `expected at least ${this.end + 1} bytes, got ${buf.length}`));
          return;
        }
        this.push(buf.subarray(this.start, this.end + 1));
        this.push(null);
      },
      (err: unknown) => this.destroy(toIoError(err, this.path)),
    );
  }
}

function toIoError(err: unknown, path: string): Error {
  if (isVfsError(err)) return err;
  return new VfsError('EIO', path, err instanceof Error ? err.message : String(err), { cause: err });
}

/** The thumbnail named `name` (`<file name>.jpg`): found from its file, no table of its own. */
function thumbEntry(idx: FolderIndex, name: string): ThumbEntry | undefined {
  if (!name.endsWith(THUMB_SUFFIX)) return undefined;
  const e = idx.byName(name.slice(0, -THUMB_SUFFIX.length));
  const thumb = e && largestThumb(e.file.thumbs);
  return e && thumb ? { name: thumbnailName(e.name), file: e.file, thumb } : undefined;
}

/** The thumbnails of a folder, in its files' order. */
function thumbEntries(idx: FolderIndex): ThumbEntry[] {
  const out: ThumbEntry[] = [];
  for (const e of idx.entries) {
    const thumb = largestThumb(e.file.thumbs);
    if (thumb) out.push({ name: thumbnailName(e.name), file: e.file, thumb });
  }
  return out;
}

export class Vfs {
  private readonly options: Required<Omit<VfsOptions, 'now'>>;
  private readonly now: () => number;
  private readonly startedMs: number;
  private channelList: ChannelInfo[] | null = null;
  private channelByName = new Map<string, ChannelInfo>();
  /** The index of each channel as of its last update (or that update, under way). */
  private readonly indexes = new Map<number, Promise<ChannelIndex>>();
  private readonly generations = new Map<number, number>();
  /** Built indexes, updated in place on a change. */
  private readonly built = new Map<number, ChannelIndex>();
  /** Indexes with no change since their last update (answered synchronously by statNow). */
  private readonly current = new Map<number, ChannelIndex>();
  /** When a channel's listing last really changed (epoch ms), for folder mtimes. */
  private readonly changedAt = new Map<number, number>();
  /** Thumbnail bytes (or their fetch under way) by file key; null when `thumbnailCacheEntries` is 0. */
  private readonly thumbCache: LRUCache<string, Promise<Buffer>> | null;
  private readonly unsubscribe: () => void;

  constructor(private readonly catalog: CatalogReader, private readonly source: FileSource, options: VfsOptions = {}) {
    this.options = {
      thumbnails: options.thumbnails ?? true,
      neverIndexMarker: options.neverIndexMarker ?? true,
      thumbnailCacheEntries: options.thumbnailCacheEntries ?? 128,
    };
    const entries = this.options.thumbnailCacheEntries;
    this.thumbCache = entries >= 1 ? new LRUCache<string, Promise<Buffer>>({ max: Math.floor(entries) }) : null;
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
    this.unsubscribe = catalog.onChange((channel) => this.invalidate(channel));
  }

  /**
   * Builds every channel's folder index now (in the background of a mount's start), so that the
   * first `ls -l` of a large folder finds it ready instead of paying for it. Never rejects.
   */
  async warm(): Promise<void> {
    for (const ch of this.channels()) await this.index(ch.id).catch(() => undefined);
  }

  /** Stops following the catalog. */
  close(): void {
    this.unsubscribe();
  }

  // ---- path API ----------------------------------------------------------------------------

  /** The node at `path`: ENOENT, ENOTDIR, or EINVAL for a path that can never be valid. */
  async resolve(path: VfsPath): Promise<VfsNode> {
    const segments = pathSegments(path);
    const shown = `/${segments.join('/')}`;
    const target = await this.find(segments, shown);
    return this.node(shown, target);
  }

  async stat(path: VfsPath): Promise<VfsStat> {
    return (await this.resolve(path)).stat;
  }

  /** Names and stats of a folder's entries, in a stable order. ENOTDIR on a file. */
  async readdir(path: VfsPath): Promise<VfsDirEntry[]> {
    return [...(await this.entries(path))];
  }

  /**
   * A folder's entries as readdir gives them, each stat made only when iterated (a 100k-file
   * folder is never held as 100k stats at once). The listing is the folder's at the call.
   */
  async entries(path: VfsPath): Promise<Iterable<VfsDirEntry>> {
    const segments = pathSegments(path);
    const shown = `/${segments.join('/')}`;
    const target = await this.find(segments, shown);
    switch (target.kind) {
      case 'root': {
        const out: VfsDirEntry[] = [];
        if (this.options.neverIndexMarker) out.push({ name: NEVER_INDEX_MARKER, stat: this.markerStat() });
        for (const ch of this.channels()) {
          const idx = await this.index(ch.id);
          out.push({ name: ch.name, stat: this.channelStat(ch, idx) });
        }
        return out;
      }
      case 'channel': {
        const idx = await this.index(target.channel.id);
        const head: VfsDirEntry[] = [];
        if (this.options.thumbnails && idx.thumbCount > 0) {
          head.push({ name: THUMBNAILS_DIR, stat: this.thumbsDirStat(target.channel, idx) });
        }
        return this.lazyEntries(head, idx.entries, (e) => this.fileStat(e));
      }
      case 'thumbnails': {
        const idx = await this.index(target.channel.id);
        return this.lazyEntries([], thumbEntries(idx), (e) => this.thumbStat(e));
      }
      default:
        throw new VfsError('ENOTDIR', shown);
    }
  }

  /** Only the names of a folder's entries, in readdir's order (FUSE: the kernel asks getattr apart). */
  async readdirNames(path: VfsPath): Promise<string[]> {
    const segments = pathSegments(path);
    const shown = `/${segments.join('/')}`;
    const target = await this.find(segments, shown);
    if (target.kind !== 'channel') return (await this.readdir(segments)).map((e) => e.name);
    const idx = await this.index(target.channel.id);
    const names: string[] = this.options.thumbnails && idx.thumbCount > 0 ? [THUMBNAILS_DIR] : [];
    for (const e of idx.entries) names.push(e.name);
    return names;
  }

  /**
   * The stat of `path` when it can be answered without waiting (the folder index is current), else
   * undefined (use stat()). Errors (ENOENT…) are thrown as by stat(). Lets FUSE answer the
   * getattr storm of `ls -l` without a promise and a deadline timer per file.
   */
  statNow(path: string): VfsStat | undefined {
    const segments = pathSegments(path);
    if (segments.length < 2 || segments.length > 3 || segments.some(isFinderProbe)) return undefined;
    this.channels();
    const channel = this.channelByName.get(segments[0]!);
    const idx = channel && this.current.get(channel.id);
    if (!channel || !idx) return undefined;
    const missing = (): never => {
      throw new VfsError('ENOENT', `/${segments.join('/')}`);
    };
    if (segments[1] === THUMBNAILS_DIR && this.options.thumbnails && idx.thumbCount > 0) {
      if (segments.length === 2) return this.thumbsDirStat(channel, idx);
      const thumb = thumbEntry(idx, segments[2]!);
      return thumb ? this.thumbStat(thumb) : missing();
    }
    if (segments.length === 3) return undefined; // ENOTDIR or ENOENT: stat() says which
    const entry = idx.byName(segments[1]!);
    return entry ? this.fileStat(entry) : missing();
  }

  private *lazyEntries<T>(head: VfsDirEntry[], items: readonly T[], stat: (e: T) => VfsStat): Generator<VfsDirEntry> {
    yield* head;
    for (const e of items) {
      const s = stat(e);
      yield { name: s.name, stat: s };
    }
  }

  async open(path: VfsPath): Promise<VfsHandle> {
    return (await this.resolve(path)).open();
  }

  async createReadStream(path: VfsPath, start: number, endInclusive: number, signal?: AbortSignal): Promise<Readable> {
    return (await this.resolve(path)).createReadStream(start, endInclusive, signal);
  }

  /** Bytes of the files under a folder (the whole tree for `/`), from the catalog. */
  async usage(path: VfsPath): Promise<number> {
    const segments = pathSegments(path);
    const shown = `/${segments.join('/')}`;
    const target = await this.find(segments, shown);
    switch (target.kind) {
      case 'root': {
        let total = 0;
        for (const ch of this.channels()) total += (await this.index(ch.id)).bytes;
        return total;
      }
      case 'channel':
        return (await this.index(target.channel.id)).bytes;
      case 'thumbnails':
        return (await this.index(target.channel.id)).thumbBytes;
      default:
        throw new VfsError('ENOTDIR', shown);
    }
  }

  // ---- id-addressed API (/stream/<channel>/<msgId>, /thumb/<channel>/<msgId>) ---------------

  /**
   * The file of a message of a configured channel, by id: from the catalog, or (when the catalog
   * does not know it yet and the source can describe it) from upstream. ENOENT otherwise.
   */
  async message(channel: number, msgId: number, signal?: AbortSignal): Promise<VfsNode> {
    const { ch, entry } = await this.messageEntry(channel, msgId, signal);
    return this.node(`/${ch.name}/${entry.name}`, { kind: 'file', channel: ch, entry });
  }

  /** The largest thumbnail of a message's document, by id. ENOENT when it has none. */
  async messageThumbnail(channel: number, msgId: number, signal?: AbortSignal): Promise<VfsNode> {
    const { ch, entry } = await this.messageEntry(channel, msgId, signal);
    const thumb = largestThumb(entry.file.thumbs);
    const shown = `/${ch.name}/${THUMBNAILS_DIR}/${thumbnailName(entry.name)}`;
    if (!thumb) throw new VfsError('ENOENT', shown, 'the file has no thumbnail');
    return this.node(shown, { kind: 'thumbnail', channel: ch, entry: { name: thumbnailName(entry.name), file: entry.file, thumb } });
  }

  // ---- internals ---------------------------------------------------------------------------

  private channels(): ChannelInfo[] {
    if (!this.channelList) {
      const configured: CatalogChannel[] = this.catalog.channels();
      const names = assignChannelNames(configured);
      this.channelList = configured.map((c) => ({ id: c.id, name: names.get(c.id)! }));
      this.channelByName = new Map(this.channelList.map((c) => [c.name, c]));
    }
    return this.channelList;
  }

  private invalidate(channel: number): void {
    this.generations.set(channel, (this.generations.get(channel) ?? 0) + 1);
    this.indexes.delete(channel);
    this.current.delete(channel);
  }

  /** The channel's name index, brought up to date (in place) once per catalog change. */
  private index(channel: number): Promise<ChannelIndex> {
    let p = this.indexes.get(channel);
    if (!p) {
      const generation = this.generations.get(channel) ?? 0;
      p = this.catalog.files(channel).then((files) => {
        const existing = this.built.get(channel);
        const latest = (this.generations.get(channel) ?? 0) === generation;
        // A list read before a later change must not overwrite the newer one applied meanwhile.
        if (existing && !latest) return existing;
        const idx = existing ?? new FolderIndex();
        if (idx.update(files) && existing) this.changedAt.set(channel, this.now());
        this.built.set(channel, idx);
        if (latest) this.current.set(channel, idx);
        return idx;
      });
      this.indexes.set(channel, p);
      // A failed build, or one overtaken by a change while it ran, is not kept.
      p.then(
        () => {
          if ((this.generations.get(channel) ?? 0) !== generation && this.indexes.get(channel) === p) this.indexes.delete(channel);
        },
        () => {
          if (this.indexes.get(channel) === p) this.indexes.delete(channel);
        },
      );
    }
    return p;
  }

  private async find(segments: string[], shown: string): Promise<Target> {
    // Finder's probes never exist: answered before touching the catalog.
    if (segments.some(isFinderProbe)) throw new VfsError('ENOENT', shown);
    if (segments.length === 0) return { kind: 'root' };
    const [first, second, third, ...rest] = segments as [string, string | undefined, string | undefined, ...string[]];
    if (first === NEVER_INDEX_MARKER && this.options.neverIndexMarker) {
      if (segments.length > 1) throw new VfsError('ENOTDIR', shown);
      return { kind: 'marker' };
    }
    this.channels();
    const channel = this.channelByName.get(first);
    if (!channel) throw new VfsError('ENOENT', shown);
    if (second === undefined) return { kind: 'channel', channel };
    const idx = await this.index(channel.id);
    if (second === THUMBNAILS_DIR && this.options.thumbnails && idx.thumbCount > 0) {
      if (third === undefined) return { kind: 'thumbnails', channel };
      const entry = thumbEntry(idx, third);
      if (!entry) throw new VfsError('ENOENT', shown);
      if (rest.length > 0) throw new VfsError('ENOTDIR', shown);
      return { kind: 'thumbnail', channel, entry };
    }
    const entry = idx.byName(second);
    if (!entry) throw new VfsError('ENOENT', shown);
    if (third !== undefined) throw new VfsError('ENOTDIR', shown);
    return { kind: 'file', channel, entry };
  }

  private async messageEntry(channel: number, msgId: number, signal?: AbortSignal): Promise<{ ch: ChannelInfo; entry: FileEntry }> {
    const shown = `channel ${channel} message ${msgId}`;
    const ch = this.channels().find((c) => c.id === channel);
    if (!ch || !Number.isSafeInteger(msgId) || msgId <= 0) throw new VfsError('ENOENT', shown);
    const idx = await this.index(channel);
    const known = idx.byMsgId(msgId);
    if (known) return { ch, entry: known };
    const fromCatalog = await this.catalog.file(channel, msgId);
    let file = fromCatalog;
    if (!file && this.source.describe) {
      try {
        file = await this.source.describe(channel, msgId, signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw new VfsError('ENOENT', shown, err instanceof Error ? err.message : String(err), { cause: err });
      }
    }
    if (!file) throw new VfsError('ENOENT', shown);
    // Not in the listing yet: named as it would be alone (a clash suffix needs the listing).
    const name = assignFileNames([file]).get(msgId)!;
    return { ch, entry: { name, file } };
  }

  private markerStat(): VfsStat {
    return { name: NEVER_INDEX_MARKER, type: 'file', kind: 'marker', size: 0, mtimeMs: this.startedMs, mimeType: 'application/octet-stream', version: 'marker-0' };
  }

  private channelMtime(ch: ChannelInfo, idx: ChannelIndex): number {
    return Math.max(idx.newestMs, this.changedAt.get(ch.id) ?? 0) || this.startedMs;
  }

  private channelStat(ch: ChannelInfo, idx: ChannelIndex): VfsStat {
    return dirStat(ch.name, 'channel', this.channelMtime(ch, idx), ch.id);
  }

  private thumbsDirStat(ch: ChannelInfo, idx: ChannelIndex): VfsStat {
    return dirStat(THUMBNAILS_DIR, 'thumbnails', this.channelMtime(ch, idx), ch.id);
  }

  private fileStat(e: FileEntry): VfsStat {
    const f = e.file;
    return {
      name: e.name, type: 'file', kind: 'file', size: f.size, mtimeMs: f.date * 1000,
      mimeType: f.mimeType || 'application/octet-stream', version: `${f.docId}-${f.size}`, channel: f.channel, msgId: f.msgId,
    };
  }

  private thumbStat(e: ThumbEntry): VfsStat {
    const f = e.file;
    return {
      name: e.name, type: 'file', kind: 'thumbnail', size: e.thumb.size, mtimeMs: f.date * 1000,
      mimeType: 'image/jpeg', version: `${f.docId}-${e.thumb.type}-${e.thumb.size}`, channel: f.channel, msgId: f.msgId,
    };
  }

  private async rootStat(): Promise<VfsStat> {
    return dirStat('', 'root', this.startedMs);
  }

  private thumbnailBytes(file: CatalogFile): Promise<Buffer> {
    const key = fileKey(file.channel, file.msgId, file.docId);
    const cached = this.thumbCache?.get(key);
    if (cached) return cached;
    const p = this.source.thumbnail(file.channel, file.msgId);
    this.thumbCache?.set(key, p);
    // A failed fetch is not remembered: the next read asks again.
    p.catch(() => {
      if (this.thumbCache?.peek(key) === p) this.thumbCache.delete(key);
    });
    return p;
  }

  private node(path: string, target: Target): Promise<VfsNode> | VfsNode {
    const notAFile = (): never => {
      throw new VfsError('EISDIR', path);
    };
    const dir = (stat: VfsStat): VfsNode => ({ path, stat, createReadStream: notAFile, open: notAFile });
    switch (target.kind) {
      case 'root':
        return this.rootStat().then(dir);
      case 'channel':
        return this.index(target.channel.id).then((idx) => dir(this.channelStat(target.channel, idx)));
      case 'thumbnails':
        return this.index(target.channel.id).then((idx) => dir(this.thumbsDirStat(target.channel, idx)));
      case 'marker': {
        const stat = this.markerStat();
        return {
          path, stat,
          createReadStream: (start, end) => {
            checkRange(path, 0, start, end);
            return emptyStream();
          },
          open: () => ({ stat, read: async () => Buffer.alloc(0), close: () => undefined }),
        };
      }
      case 'file':
        return this.fileNode(path, target.entry);
      case 'thumbnail':
        return this.thumbNode(path, target.entry);
    }
  }

  private fileNode(path: string, entry: FileEntry): VfsNode {
    const stat = this.fileStat(entry);
    const ref = fileRef(entry.file);
    return {
      path, stat,
      createReadStream: (start, end, signal) => {
        checkRange(path, stat.size, start, end);
        if (end < start) return emptyStream();
        return this.source.stream(ref, start, end, signal);
      },
      open: () => {
        let reader: FileReader | null = null;
        let closed = false;
        return {
          stat,
          read: async (offset, length, signal) => {
            if (closed) throw new VfsError('EINVAL', path, 'read on a closed handle');
            if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
              throw new VfsError('EINVAL', path, `bad read of ${length} bytes at ${offset}`);
            }
            if (offset >= stat.size || length === 0) return Buffer.alloc(0);
            reader ??= this.source.open(ref);
            try {
              return await reader.read(offset, Math.min(length, stat.size - offset), signal);
            } catch (err) {
              if (signal?.aborted) throw signal.reason;
              throw toIoError(err, path);
            }
          },
          close: () => {
            closed = true;
            reader?.close();
            reader = null;
          },
        };
      },
    };
  }

  private thumbNode(path: string, entry: ThumbEntry): VfsNode {
    const stat = this.thumbStat(entry);
    return {
      path, stat,
      createReadStream: (start, end) => {
        checkRange(path, stat.size, start, end);
        if (end < start) return emptyStream();
        return new BufferStream(() => this.thumbnailBytes(entry.file), start, end, path);
      },
      open: () => {
        let closed = false;
        return {
          stat,
          read: async (offset, length) => {
            if (closed) throw new VfsError('EINVAL', path, 'read on a closed handle');
            if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
              throw new VfsError('EINVAL', path, `bad read of ${length} bytes at ${offset}`);
            }
            let buf: Buffer;
            try {
              buf = await this.thumbnailBytes(entry.file);
            } catch (err) {
              throw toIoError(err, path);
            }
            return buf.subarray(Math.min(offset, buf.length), Math.min(offset + length, buf.length, stat.size));
          },
          close: () => {
            closed = true;
          },
        };
      },
    };
  }
}
