// A FUSE mount of a Vfs over N synthetic catalog files, served by THIS process (run it as a child:
// `node dist/test/helpers/synthetic-mount.js DIR COUNT ATTR_TIMEOUT`), for listing tests and
// figures without an emulator. Prints `mounted <rss bytes>` when up; on a line `rss` on stdin
// answers `rss <now> <peak> <getattr calls so far>`; SIGTERM unmounts and exits.
import Fuse from 'fuse-native';
import { createFuseOps } from '../../src/fuse/fuse-ops';
import { Vfs } from '../../src/vfs/vfs';
import { FakeFileSource, MemoryCatalog, catalogFile } from './vfs-memory';

export const SYNTHETIC_CHANNEL = 'big';

/** The synthetic files: realistic names, every 100th a clash, sizes and dates varying. */
export function syntheticFiles(count: number): ReturnType<typeof catalogFile>[] {
  return Array.from({ length: count }, (_, i) => catalogFile(-1001, i + 1, {
    name: i % 100 === 99 ? 'Clip.MP4' : `Holiday Video ${String(i + 1).padStart(6, '0')}.mp4`,
    size: 1 + ((i * 7919) % 5_000_000),
    mimeType: 'video/mp4',
    docId: String(5_000_000_000_000_000 + i),
  }));
}

function main(): void {
  const [dir, countArg, attrArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: synthetic-mount DIR COUNT ATTR_TIMEOUT');
  const catalog = new MemoryCatalog([{ id: -1001, name: SYNTHETIC_CHANNEL }], syntheticFiles(Number(countArg ?? 1000)));
  const vfs = new Vfs(catalog, new FakeFileSource());
  const ops = createFuseOps(vfs, { log: (l) => process.stderr.write(`${l}\n`) });
  let getattrs = 0;
  const getattr = ops.ops.getattr;
  if (getattr) {
    ops.ops.getattr = (p, cb) => {
      getattrs++;
      getattr(p, cb);
    };
  }
  const attr = Number(attrArg ?? 60);
  const fuse = new Fuse(dir, ops.ops, { timeout: false, fsname: 'tgvfs', subtype: 'tgvfs', entryTimeout: attr, attrTimeout: attr, autoCache: true });
  let peak = 0;
  const sample = (): number => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    return rss;
  };
  const timer = setInterval(sample, 50);
  process.stdin.on('data', () => process.stdout.write(`rss ${sample()} ${peak} ${getattrs}\n`));
  fuse.mount((err) => {
    if (err) {
      process.stderr.write(`mount failed: ${err.message}\n`);
      process.exit(1);
    }
    // As `tgvfs mount` does: the name index is built in the background right after mounting.
    void vfs.warm().then(() => process.stdout.write(`mounted ${sample()}\n`));
  });
  process.once('SIGTERM', () => {
    clearInterval(timer);
    fuse.unmount(() => process.exit(0));
  });
}

if (require.main === module) main();
