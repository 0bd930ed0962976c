// Figures of the VFS folder index at scale (issue 14), on synthetic catalog entries (no emulator):
//   node --expose-gc dist/support/vfs-index-memory.js [FILES]     (default 100000)
// Prints the index build time, its heap per file (besides the catalog's own records), the cost of
// one new post (change + next access) and of a full readdir, and where the bytes per file go.
import { FolderIndex } from '../src/vfs/folder-index';
import { Vfs } from '../src/vfs/vfs';
import { SYNTHETIC_CHANNEL, syntheticFiles } from '../test/helpers/synthetic-mount';
import { FakeFileSource, MemoryCatalog } from '../test/helpers/vfs-memory';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  const n = Number(process.argv[2] ?? 100_000);
  const files = syntheticFiles(n);
  const h0 = heap();
  const catalog = new MemoryCatalog([{ id: -1001, name: SYNTHETIC_CHANNEL }], files);
  const hCatalog = heap();
  const vfs = new Vfs(catalog, new FakeFileSource());
  let t = performance.now();
  await vfs.readdirNames(`/${SYNTHETIC_CHANNEL}`);
  const buildMs = performance.now() - t;
  const hIndex = heap();
  t = performance.now();
  catalog.put({ ...files[0]!, msgId: n + 1 });
  await vfs.stat(`/${SYNTHETIC_CHANNEL}`);
  const changeMs = performance.now() - t;
  t = performance.now();
  const listed = (await vfs.readdir(`/${SYNTHETIC_CHANNEL}`)).length;
  const readdirMs = performance.now() - t;
  // The index alone on one change (no catalog read): the in-place update.
  const idx = new FolderIndex();
  idx.update(files);
  const grown = [...files, { ...files[1]!, msgId: n + 2 }];
  t = performance.now();
  idx.update(grown);
  const updateMs = performance.now() - t;
  const perFile = (b: number): string => `${(b / n).toFixed(0)} B/file`;
  const lines = [
    `${n} files (${listed} listed)`,
    `MemoryCatalog's map (CatalogFile objects made before): ${perFile(hCatalog - h0)}`,
    `folder index: ${perFile(hIndex - hCatalog)}, built in ${buildMs.toFixed(0)} ms`,
    `one new post: change + next access ${changeMs.toFixed(1)} ms (MemoryCatalog sorts its files on every read), FolderIndex.update alone ${updateMs.toFixed(1)} ms`,
    `readdir with stats: ${readdirMs.toFixed(0)} ms`,
    `rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  vfs.close();
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
