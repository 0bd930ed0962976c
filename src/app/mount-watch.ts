// Notices that a FUSE mount was taken away from outside (`umount DIR`, `fusermount -u DIR`, the
// stop of a systemd mount unit) so that `tgvfs mount` can exit instead of serving nothing forever.
// fuse-native gives no event for it: its FUSE thread just leaves its loop. The kernel publishes no
// change notification Node can wait on (poll() on /proc/self/mountinfo needs POLLPRI), so the
// mount table is read every `intervalMs`, asynchronously: a few kilobytes, once a second.
import fs from 'node:fs/promises';

export interface MountWatchOptions {
  /** How often the mount table is read, in ms. @default 1000 */
  intervalMs?: number;
  /** The table to read (tests). @default '/proc/self/mountinfo' */
  table?: string;
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
 * Calls `onGone` once when `dir` (absolute) stops being a mount point; returns a function that
 * stops watching. A table that cannot be read counts as "still mounted" (never a false alarm).
 */
export function watchMountGone(dir: string, onGone: () => void, options: MountWatchOptions = {}): () => void {
  const table = options.table ?? '/proc/self/mountinfo';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const check = async (): Promise<void> => {
    const text = await fs.readFile(table, 'utf8').catch(() => null);
    if (stopped) return;
    if (text !== null && !mountPointsOf(text).has(dir)) {
      stopped = true;
      onGone();
      return;
    }
    schedule();
  };
  const schedule = (): void => {
    timer = setTimeout(() => void check(), options.intervalMs ?? 1000);
    // Never the reason the process stays alive.
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
