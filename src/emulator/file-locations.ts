// Which bytes an upload.getFile location names, with Telegram's checks in Telegram's order: the
// location kind, the file (id and access hash), the file reference, the DC that holds it, then
// the size asked for. Documents (the file, or a video's `m` thumbnail) and photos (one of their
// sizes; each size is the file's first `size` bytes) follow the same rules.
import type { TlObject, TlValue } from './tl';
import { removedFromFile } from './getfile-faults';
import { checkFileReference } from './tl-objects';
import type { Bot, World } from './world';

/** Bytes to serve: `size` bytes of `path` from its start, as storage `type`. */
export interface FileSource {
  path: string;
  size: number;
  /** storage.FileType constructor name. */
  type: string;
  mtime: number;
}

/** An rpc_error to answer; `fault` is counted in /stats when set. */
export interface LocationError {
  error: number;
  message: string;
  fault?: string;
}

function long(v: TlValue): bigint | null {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : null;
}

export function resolveLocation(world: World, bot: Bot, loc: TlObject | null, epoch: number, dcId: number): FileSource | LocationError {
  const isDocument = loc?._ === 'inputDocumentFileLocation';
  if (!loc || (!isDocument && loc._ !== 'inputPhotoFileLocation')) return { error: 400, message: 'LOCATION_INVALID' };
  const id = long(loc.id);
  const hash = long(loc.access_hash);
  if (id === null || hash === null) return { error: 400, message: 'INPUT_FETCH_ERROR' };
  const file = isDocument ? world.document(id) : world.photo(id);
  if (!file || hash !== file.accessHash) return { error: 400, message: 'FILE_ID_INVALID' };
  const ref = checkFileReference(world, bot, file, Buffer.isBuffer(loc.file_reference) ? loc.file_reference : Buffer.alloc(0), epoch);
  if (ref === 'invalid') return { error: 400, message: 'FILE_REFERENCE_INVALID' };
  if (removedFromFile(world, bot, file.id)) return { error: 400, message: 'CHANNEL_PRIVATE' };
  if (ref === 'expired') return { error: 400, message: 'FILE_REFERENCE_EXPIRED', fault: 'FILE_REFERENCE_EXPIRED' };
  if (file.dcId !== dcId) return { error: 303, message: `FILE_MIGRATE_${file.dcId}`, fault: 'FILE_MIGRATE' };
  const thumb = typeof loc.thumb_size === 'string' ? loc.thumb_size : '';
  if ('sizes' in file) {
    const size = file.sizes.find((s) => s.type === thumb);
    return size ? { path: file.path, size: size.size, type: 'storage.fileJpeg', mtime: file.mtime } : { error: 400, message: 'LOCATION_INVALID' };
  }
  if (!thumb) return { path: file.path, size: file.size, type: 'storage.filePartial', mtime: file.mtime };
  if (thumb === 'm' && file.thumb) return { path: file.thumb.path, size: file.thumb.size, type: 'storage.fileJpeg', mtime: file.mtime };
  return { error: 400, message: 'LOCATION_INVALID' };
}
