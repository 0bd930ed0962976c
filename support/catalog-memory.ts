// Memory the catalog keeps per file: fills a sqlite catalog store with N synthetic files of one
// channel (names, MIME types, thumbnails and kinds as a media channel has them), opens a
// Catalog on it, lists the channel, and prints heap and RSS growth per 100,000 files after a
// full GC. Run: node --expose-gc dist/support/catalog-memory.js [files=100000]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from '../src/catalog';
import { CATALOG_NAMESPACE, CatalogStore, PAGE_IDS } from '../src/catalog/store';
import type { CatalogFile } from '../src/catalog/types';
import { openKeyvStore } from '../src/telegram/metadata-cache';

const CHANNEL = -1001000000001;
const KINDS = [
  { ext: 'mp4', mime: 'video/mp4', media: 'video' as const },
  { ext: 'mp3', mime: 'audio/mpeg', media: 'audio' as const },
  { ext: 'pdf', mime: 'application/pdf', media: undefined },
  { ext: 'jpg', mime: 'image/jpeg', media: 'photo' as const },
];

export function syntheticFile(msgId: number): CatalogFile {
  const kind = KINDS[msgId % KINDS.length]!;
  const f: CatalogFile = {
    channel: CHANNEL, msgId, docId: String(5_000_000_000_000_000_000n + BigInt(msgId) * 7919n), size: 1000 + ((msgId * 2654435761) % 2_000_000_000),
    mimeType: kind.mime, name: kind.media === 'photo' ? null : `File number ${msgId}.${kind.ext}`, date: 1_700_000_000 + msgId,
    thumbs: kind.media === 'video' || kind.media === 'photo' ? [{ type: 'm', w: 320, h: 180, size: 9000 + (msgId % 1000) }] : [],
  };
  if (kind.media) f.media = kind.media;
  if (msgId % 10 === 0) f.caption = `A caption for post ${msgId}`;
  return f;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  g();
  g();
}

async function fill(url: string, count: number): Promise<void> {
  const { keyv } = await openKeyvStore(url, CATALOG_NAMESPACE, {});
  const store = new CatalogStore(keyv);
  const pages = new Map<number, CatalogFile[]>();
  for (let id = 1; id <= count; id++) {
    const n = Math.floor(id / PAGE_IDS);
    let page = pages.get(n);
    if (!page) pages.set(n, (page = []));
    page.push(syntheticFile(id));
  }
  await store.save(CHANNEL, { pts: count + 1, walked: count, target: count, pages: [...pages.keys()], content: 2 }, pages);
  await keyv.disconnect();
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-catmem-'));
  try {
    const url = `sqlite://${path.join(dir, 'catalog.sqlite')}`;
    await fill(url, count);
    const catalog = await Catalog.open({ store: url, channels: [{ id: CHANNEL, name: 'ch' }], refreshMs: 0 });
    gc();
    const before = process.memoryUsage();
    let listed = (await catalog.files(CHANNEL)).length;
    gc();
    const after = process.memoryUsage();
    listed = (await catalog.files(CHANNEL)).length; // kept alive across the measurement
    const per100k = (b: number, a: number): string => `${(((a - b) / count) * 100_000 / 2 ** 20).toFixed(1)} MiB`;
    console.log(`files ${listed}: heap +${per100k(before.heapUsed, after.heapUsed)} per 100k files (${((after.heapUsed - before.heapUsed) / count).toFixed(0)} B/file), RSS +${per100k(before.rss, after.rss)} per 100k`);
    await catalog.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
