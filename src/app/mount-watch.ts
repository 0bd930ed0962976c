// Notices that a FUSE mount was taken away from outside (`umount DIR`, `fusermount -u DIR`, the
// stop of a systemd mount unit) so that `tgvfs mount` can exit instead of serving nothing forever.
// fuse-native gives no event for it: its FUSE thread just leaves its loop. The kernel publishes no
// change notification Node can wait on (poll() on /proc/self/mountinfo needs POLLPRI), so the
// mount table is read every `intervalMs`, asynchronously: a few kilobytes, once a second.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface MountWatchOptions {
  /** How often the mount table is read, in ms. @default 1000 */
  intervalMs?: number;
  /** Reads the mount table, null when it cannot (tests). @default reads /proc/self/mountinfo */
  read?: () => Promise<string | null>;
}

/** Mount points of a /proc/<pid>/mountinfo text (field 5, octal escapes such as \040 decoded). */
export function mountPointsOf(mountinfo: string): Set<string> {
  const decode = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const target = line.split(' ')[4];
    if (target) points.add(decode(target));
  }
  return points;
}

/**
 * The path the kernel shows for a mount on `dir`: its parent's symlinks resolved (a mount through
 * /mnt/link/tg is listed at the link's target). The parent only: the folder itself is the mount.
 */
export async function mountTablePath(dir: string): Promise<string> {
  const parent = await fs.realpath(path.dirname(dir)).catch(() => path.dirname(dir));
  return path.join(parent, path.basename(dir));
}

/**
 * Calls `onGone` once when `dir` (absolute) stops being a mount point; returns a function that
 * stops watching. Never a false alarm: a table that cannot be read counts as "still mounted", and
 * only a mount point seen in the table before can be gone.
 */
export function watchMountGone(dir: string, onGone: () => void, options: MountWatchOptions = {}): () => void {
  const read = options.read ?? (() => fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => null));
  let stopped = false;
  let seen = false;
  let timer: NodeJS.Timeout | null = null;
  const target = mountTablePath(dir);
  const check = async (): Promise<void> => {
    const text = await read();
    const where = await target;
    if (stopped) return;
    const present = text === null || mountPointsOf(text).has(where);
    if (present && text !== null) seen = true;
    if (!present && seen) {
      stopped = true;
      onGone();
      return;
    }
    schedule();
  };
  const schedule = (delayMs = options.intervalMs ?? 1000): void => {
    timer = setTimeout(() => void check(), delayMs);
    // Never the reason the process stays alive.
    timer.unref();
  };
  // The first read right away: the mount is there now, and an `umount` within the first interval
  // must count (it would not if the folder had never been seen).
  schedule(0);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
