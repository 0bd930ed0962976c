// Opens the disk block cache a config asks for. The cache speeds things up but is never
// required: a folder in use by another process, or one that cannot be created, leaves this
// process on its memory cache, with one line saying why.
import type { TgvfsConfig } from '../config/schema';
import { formatSize } from '../config/sizes';
import { DiskCache } from '../stream/disk-cache';
import { DiskCacheInUseError } from '../stream/disk-lock';
import { errorLine } from '../util/errors';

export async function openDiskCache(config: TgvfsConfig, log: (line: string) => void): Promise<DiskCache | null> {
  if (!config.diskCache) return null;
  try {
    const disk = await DiskCache.open({ dir: config.diskCache.dir, maxBytes: config.diskCache.maxBytes, log });
    const s = disk.stats();
    log(`disk cache: ${s.dir}, ${formatSize(s.bytes)} in ${s.files} block(s), budget ${formatSize(s.budget)}`);
    return disk;
  } catch (err) {
    const why = err instanceof DiskCacheInUseError ? err.message : `disk cache ${config.diskCache.dir}: ${errorLine(err)}`;
    log(`${why}; running without a disk cache`);
    return null;
  }
}
