// One process per cache folder: a lock file holding the owner's pid. A second process finds it
// and learns who holds the folder (DiskCacheInUseError); a lock left by a process that died
// (kill -9, a crash) is taken over. Sharing one folder between processes would need an index
// both agree on; a clear "in use" is the simpler correct choice (the second runs on its memory
// cache alone).
import { readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TgvfsError } from '../util/errors';

export class DiskCacheInUseError extends TgvfsError {
  constructor(readonly dir: string, readonly pid: number) {
    super('DISK_CACHE_IN_USE', `disk cache ${dir} is in use by process ${pid}${pid === process.pid ? ' (this one)' : ' (another tgvfs serve or mount)'}; give this one its own --cache-dir, or --no-disk-cache`);
  }
}

interface LockContent {
  pid: number;
  host: string;
}

function parse(text: string): LockContent | undefined {
  const [pid, host] = text.split('\n');
  const n = Number(pid);
  return Number.isSafeInteger(n) && n > 0 ? { pid: n, host: host ?? '' } : undefined;
}

/** True while `pid` runs (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockContent | undefined> {
  try {
    return parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Folders this process holds: a second open here is refused like another process's. */
const heldHere = new Set<string>();

/** Holds `dir`'s lock file; release() gives it up. */
export class DiskLock {
  private constructor(readonly file: string) {
    heldHere.add(file);
  }

  /** Takes the lock of `dir` (an existing folder); throws DiskCacheInUseError when a live process holds it. */
  static async acquire(dir: string): Promise<DiskLock> {
    const file = path.join(dir, 'lock');
    if (heldHere.has(file)) throw new DiskCacheInUseError(dir, process.pid);
    const mine = `${process.pid}\n${os.hostname()}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(file, mine, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const held = await readLock(file);
        // Another host's pid cannot be checked from here: count it as alive.
        if (held && held.pid !== process.pid && (held.host !== os.hostname() || alive(held.pid))) throw new DiskCacheInUseError(dir, held.pid);
        await unlink(file).catch(() => undefined);
        continue;
      }
      // Two processes taking over the same stale lock: the last writer wins, the other sees it.
      const now = await readLock(file);
      if (now?.pid === process.pid) return new DiskLock(file);
      if (now) throw new DiskCacheInUseError(dir, now.pid);
    }
    throw new TgvfsError('DISK_CACHE_LOCK', `disk cache ${dir}: could not take its lock file ${file}`);
  }

  async release(): Promise<void> {
    if (!heldHere.delete(this.file)) return;
    const held = await readLock(this.file);
    if (held?.pid === process.pid) await unlink(this.file).catch(() => undefined);
  }
}
