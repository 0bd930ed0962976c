// A webdav-server v2 FileSystem over the VFS: what PROPFIND, OPTIONS and LOCK need. Every method
// is a few lines over `vfs`; errors go through status.ts. GET/HEAD are ours (get-handler.ts), and
// writes are refused before they get here (http-server.ts); the write hooks below only answer
// the paths webdav-server takes on its own (a LOCK of a missing resource creates it).
import { v2 as webdav } from 'webdav-server';
import type { Vfs, VfsStat } from '../vfs/vfs';
import { VfsError } from '../vfs/errors';
import { davError } from './status';

type Path = webdav.Path;
type Callback<T> = webdav.ReturnCallback<T>;

/** Quota of a read-only tree: nothing is available; used is what the folder holds. */
const QUOTA_AVAILABLE = 'DAV:quota-available-bytes';
const QUOTA_USED = 'DAV:quota-used-bytes';
/**
 * webdav-server writes a property's name as the element name: `DAV:quota-used-bytes` needs the
 * `DAV` prefix bound to the `DAV:` namespace on the element itself to be well-formed XML.
 */
const DAV_NS = { 'xmlns:DAV': 'DAV:' };

class NoSerializer implements webdav.FileSystemSerializer {
  uid(): string {
    return 'tgvfs-vfs-1';
  }
  serialize(_fs: webdav.FileSystem, callback: Callback<unknown>): void {
    callback(undefined, {});
  }
  unserialize(_data: unknown, callback: Callback<webdav.FileSystem>): void {
    callback(new Error('the tgvfs file system is not serialisable'));
  }
}

/** Locks of one path, kept in a map shared by the file system; no entry while there is no lock. */
class PathLockManager implements webdav.ILockManager {
  constructor(private readonly all: Map<string, webdav.LocalLockManager>, private readonly key: string) {}

  private get(create: boolean): webdav.LocalLockManager | undefined {
    let lm = this.all.get(this.key);
    if (!lm && create) {
      lm = new webdav.LocalLockManager();
      this.all.set(this.key, lm);
    }
    return lm;
  }

  getLocks(callback: Callback<webdav.Lock[]>): void {
    const lm = this.get(false);
    if (lm) lm.getLocks(callback);
    else callback(undefined, []);
  }
  setLock(lock: webdav.Lock, callback: webdav.SimpleCallback): void {
    this.get(true)!.setLock(lock, callback);
  }
  removeLock(uuid: string, callback: Callback<boolean>): void {
    const lm = this.get(false);
    if (!lm) return callback(undefined, false);
    lm.removeLock(uuid, (e, removed) => {
      if (lm.locks.length === 0) this.all.delete(this.key);
      callback(e, removed);
    });
  }
  getLock(uuid: string, callback: Callback<webdav.Lock>): void {
    const lm = this.get(false);
    if (lm) lm.getLock(uuid, callback);
    else callback(undefined, undefined);
  }
  refresh(uuid: string, timeoutSeconds: number, callback: Callback<webdav.Lock>): void {
    const lm = this.get(false);
    if (lm) lm.refresh(uuid, timeoutSeconds, callback);
    else callback(undefined, undefined);
  }
}

/** Read-only properties: quota on folders (RFC 4331). */
class QuotaPropertyManager implements webdav.IPropertyManager {
  constructor(private readonly usedBytes: (() => Promise<number>) | null) {}

  setProperty(_n: string, _v: webdav.ResourcePropertyValue, _a: webdav.PropertyAttributes, callback: webdav.SimpleCallback): void {
    callback(davError(new VfsError('EROFS')));
  }
  removeProperty(_n: string, callback: webdav.SimpleCallback): void {
    callback(davError(new VfsError('EROFS')));
  }
  getProperty(name: string, callback: webdav.Return2Callback<webdav.ResourcePropertyValue, webdav.PropertyAttributes>): void {
    this.getProperties((e, bag) => {
      const p = bag?.[name];
      if (e || !p) return callback(e ?? webdav.Errors.PropertyNotFound);
      callback(undefined, p.value, p.attributes);
    });
  }
  getProperties(callback: Callback<webdav.PropertyBag>): void {
    if (!this.usedBytes) return callback(undefined, {});
    this.usedBytes().then(
      (used) => callback(undefined, {
        [QUOTA_AVAILABLE]: { value: '0', attributes: { ...DAV_NS } },
        [QUOTA_USED]: { value: String(used), attributes: { ...DAV_NS } },
      }),
      (err: unknown) => callback(davError(err)),
    );
  }
}

export class VfsDavFileSystem extends webdav.FileSystem {
  private readonly locks = new Map<string, webdav.LocalLockManager>();

  constructor(private readonly vfs: Vfs) {
    super(new NoSerializer());
    this.doNotSerialize();
  }

  /**
   * Is a lock held on `segments`, on a folder above it or on an entry of it? Such a PROPFIND's
   * lockdiscovery is webdav-server's to answer (http-server.ts); a map look-up per lock.
   */
  hasLocksNear(segments: readonly string[]): boolean {
    if (this.locks.size === 0) return false;
    const self = `/${segments.join('/')}`;
    const inside = self === '/' ? '/' : `${self}/`;
    for (const key of this.locks.keys()) {
      if (key === self || key === '/' || self.startsWith(`${key}/`) || key.startsWith(inside)) return true;
    }
    return false;
  }

  /**
   * Stats per request: webdav-server asks for the same path's type, size, dates, etag, locks…
   * separately (about ten times per PROPFIND entry); one look-up each also gives every answer of
   * a request the same snapshot of the catalog.
   */
  private readonly perRequest = new WeakMap<webdav.RequestContext, Map<string, Promise<VfsStat>>>();

  private stat(path: Path, info: webdav.IContextInfo, callback: Callback<VfsStat>): void {
    let memo = this.perRequest.get(info.context);
    if (!memo) this.perRequest.set(info.context, (memo = new Map()));
    const key = path.toString();
    let p = memo.get(key);
    if (!p) memo.set(key, (p = this.vfs.stat(path.paths)));
    p.then((s) => callback(undefined, s), (err: unknown) => callback(davError(err)));
  }

  private with<T>(path: Path, info: webdav.IContextInfo, callback: Callback<T>, pick: (s: VfsStat) => T): void {
    this.stat(path, info, (e, s) => (e || !s ? callback(e) : callback(undefined, pick(s))));
  }

  protected override _type(path: Path, ctx: webdav.TypeInfo, callback: Callback<webdav.ResourceType>): void {
    this.with(path, ctx, callback, (s) => (s.type === 'directory' ? webdav.ResourceType.Directory : webdav.ResourceType.File));
  }

  protected override _size(path: Path, ctx: webdav.SizeInfo, callback: Callback<number>): void {
    this.with(path, ctx, callback, (s) => s.size);
  }

  protected override _mimeType(path: Path, ctx: webdav.MimeTypeInfo, callback: Callback<string>): void {
    this.with(path, ctx, callback, (s) => s.mimeType);
  }

  protected override _lastModifiedDate(path: Path, ctx: webdav.LastModifiedDateInfo, callback: Callback<number>): void {
    this.with(path, ctx, callback, (s) => s.mtimeMs);
  }

  protected override _creationDate(path: Path, ctx: webdav.CreationDateInfo, callback: Callback<number>): void {
    this.with(path, ctx, callback, (s) => s.mtimeMs);
  }

  protected override _etag(path: Path, ctx: webdav.ETagInfo, callback: Callback<string>): void {
    this.with(path, ctx, callback, (s) => etagOf(s));
  }

  protected override _readDir(path: Path, _ctx: webdav.ReadDirInfo, callback: Callback<string[] | Path[]>): void {
    this.vfs.readdirNames(path.paths).then((names) => callback(undefined, names), (err: unknown) => callback(davError(err)));
  }

  protected override _lockManager(path: Path, ctx: webdav.LockManagerInfo, callback: Callback<webdav.ILockManager>): void {
    this.with(path, ctx, callback, () => new PathLockManager(this.locks, path.toString()));
  }

  protected override _propertyManager(path: Path, ctx: webdav.PropertyManagerInfo, callback: Callback<webdav.IPropertyManager>): void {
    this.with(path, ctx, callback, (s) => new QuotaPropertyManager(s.type === 'directory' ? () => this.vfs.usage(path.paths) : null));
  }

  // ---- writes: the tree is read-only --------------------------------------------------------

  protected override _create(_path: Path, _ctx: webdav.CreateInfo, callback: webdav.SimpleCallback): void {
    callback(davError(new VfsError('EROFS')));
  }
  protected override _delete(_path: Path, _ctx: webdav.DeleteInfo, callback: webdav.SimpleCallback): void {
    callback(davError(new VfsError('EROFS')));
  }
  protected override _openWriteStream(_path: Path, _ctx: webdav.OpenWriteStreamInfo, callback: Callback<import('node:stream').Writable>): void {
    callback(davError(new VfsError('EROFS')));
  }
  protected override _move(_from: Path, _to: Path, _ctx: webdav.MoveInfo, callback: Callback<boolean>): void {
    callback(davError(new VfsError('EROFS')));
  }
  protected override _copy(_from: Path, _to: Path, _ctx: webdav.CopyInfo, callback: Callback<boolean>): void {
    callback(davError(new VfsError('EROFS')));
  }
  protected override _rename(_from: Path, _name: string, _ctx: webdav.RenameInfo, callback: Callback<boolean>): void {
    callback(davError(new VfsError('EROFS')));
  }
}

/** The quoted ETag of a stat: `"<version>"` for files (`"<docId>-<size>"`), mtime-based for folders. */
export function etagOf(s: VfsStat): string {
  return s.version !== null ? `"${s.version}"` : `"dir-${Math.floor(s.mtimeMs / 1000)}"`;
}
