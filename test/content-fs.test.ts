// A channel that looks like a real one (the emulator's `.messages.json`: a service message, a
// captioned document, an album of a photo and a nameless video, a gap, audio, voice, a round
// video, text, a poll, a web page, a repost of the document) through `tgvfs serve` (PROPFIND +
// byte-exact GET) and `tgvfs mount` (ls + cat): photos are files (their largest size), nameless
// media are named by kind, what is not a file is not listed, the repost is a second file with the
// same bytes, and an edit (new bytes for the document and the photo), a deletion and a new
// captioned photo show up with new sizes/ETags and the new bytes, never the old ones.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { content } from './helpers/emulator-fixture';
import { contentChannel, fakeJpeg, MANIFEST } from './helpers/content-channel';
import { eventually } from './helpers/eventually';
import { callsBetween, startServe, startWebdavFixture, type ServeProcess, type SourceFile, type WebdavFixture } from './helpers/webdav-fixture';
import { fuseMissing, makeMountDir, removeMountDir, startMount, type MountProcess } from '../support/fuse-mount';
import { requireProgram, run } from '../support/programs';

const CH = 'real';
const BASE_MS = Date.UTC(2024, 5, 1, 9, 0, 0);

/** What tgvfs lists for MANIFEST, and from which source file each name's bytes come. */
const LISTED: Record<string, string> = {
  'report.pdf': 'report.pdf',
  'photo_3.jpg': 'pic.jpg',
  'video_4.mp4': 'clip.mp4',
  'audio_Artist - Song.mp3': 'Artist - Song.mp3',
  'voice_7.ogg': 'note.ogg',
  'round_8.mp4': 'round.mp4',
  'report (13).pdf': 'report.pdf',
};

/** After the edit: the report and the photo get new bytes, the voice note is deleted, a photo captioned with a file name is posted. */
const EDITED = [
  ...MANIFEST.filter((p) => p.id !== 7).map((p) => (p.id === 2 ? { ...p, caption: 'Report v2' } : p)),
  { id: 15, kind: 'photo', file: 'sunset.jpg', caption: 'sunset.jpg\nfrom the beach' },
];
const LISTED_AFTER: Record<string, string> = {
  ...Object.fromEntries(Object.entries(LISTED).filter(([n]) => n !== 'voice_7.ogg')),
  'sunset.jpg': 'sunset.jpg',
};

function sourceFiles(): Record<string, SourceFile> {
  const out: Record<string, SourceFile> = {};
  let k = 0;
  for (const [rel, v] of Object.entries(contentChannel(CH))) {
    const bytes = typeof v === 'number' ? content(v, rel) : v;
    out[rel] = { bytes, mtime: new Date(BASE_MS + 1000 * k++) };
  }
  return out;
}

interface DavFile {
  size: number;
  etag: string;
}

/** name → size and ETag of the files of a PROPFIND Depth: 1 of the channel folder. */
async function propfind(url: string): Promise<Map<string, DavFile>> {
  const res = await fetch(`${url}/${CH}/`, { method: 'PROPFIND', headers: { depth: '1' } });
  assert.equal(res.status, 207);
  const xml = await res.text();
  const out = new Map<string, DavFile>();
  const re = /<([A-Za-z][\w.-]*:)?response\b[^>]*>([\s\S]*?)<\/\1?response>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const pick = (name: string): string | undefined => new RegExp(`<(?:[A-Za-z][\\w.-]*:)?${name}\\b[^>/]*>([^<]*)<`).exec(m![2]!)?.[1]?.trim();
    const size = pick('getcontentlength');
    if (size === undefined) continue; // a folder
    const href = decodeURIComponent(pick('href')!.replace(/^[a-z]+:\/\/[^/]+/i, ''));
    out.set(href.slice(`/${CH}/`.length), { size: Number(size), etag: pick('getetag')!.replace(/&quot;/g, '"') });
  }
  return out;
}

async function get(url: string, name: string, range?: string): Promise<{ status: number; body: Buffer; etag: string | null }> {
  const res = await fetch(`${url}/${CH}/${encodeURIComponent(name)}`, { headers: range ? { range } : {} });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag') };
}

/** The source bytes behind each listed name. */
async function expected(f: WebdavFixture, listed: Record<string, string>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, src] of Object.entries(listed)) out.set(name, await readFile(f.source(`${CH}/${src}`)));
  return out;
}

/** Writes the edited folder and tells the emulator (as its watcher would). */
async function editChannel(f: WebdavFixture): Promise<void> {
  const dir = path.join(f.dataDir, CH);
  await writeFile(path.join(dir, 'report.pdf'), content(6000, 'pdf v2'));
  await writeFile(path.join(dir, 'pic.jpg'), fakeJpeg('jpg v2', 80_000));
  await writeFile(path.join(dir, 'sunset.jpg'), fakeJpeg('sunset', 50_000));
  await writeFile(path.join(dir, '.messages.json'), JSON.stringify(EDITED));
  await f.emu.rescan();
}

describe('a real-looking channel through WebDAV', { timeout: 120_000 }, () => {
  let f: WebdavFixture | undefined;
  let serve: ServeProcess | undefined;

  before(async () => {
    // One bot: the bot that read the old bytes is surely the one that hears of the edit (its own
    // remembered DocInfo must not outlive it).
    f = await startWebdavFixture(sourceFiles(), 1);
    serve = await startServe(f.configPath);
  });

  after(async () => {
    await serve?.stop();
    await f?.close();
  });

  it('lists photos, nameless media by kind and the repost; skips text, service, poll and web page posts; GET is byte-exact', async () => {
    const want = await expected(f!, LISTED);
    const listed = await propfind(serve!.url);
    assert.deepEqual([...listed.keys()].sort(), [...want.keys()].sort(), serve!.logTail());
    for (const [name, bytes] of want) {
      assert.equal(listed.get(name)!.size, bytes.length, name);
      const r = await get(serve!.url, name);
      assert.equal(r.status, 200, name);
      assert.ok(r.body.equals(bytes), `${name}: ${r.body.length} bytes, not the source's ${bytes.length}`);
      assert.equal(r.etag, listed.get(name)!.etag, name);
    }
    // A range of the photo (read with inputPhotoFileLocation) and of the repost.
    const pic = want.get('photo_3.jpg')!;
    const part = await get(serve!.url, 'photo_3.jpg', 'bytes=65000-69999');
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(pic.subarray(65000, 70000)));
    // The photo's thumbnail is one of its small sizes (each the file's first bytes, in the emulator).
    const thumb = await fetch(`${serve!.url}/${CH}/.thumbnails/photo_3.jpg.jpg`);
    assert.equal(thumb.status, 200);
    const tb = Buffer.from(await thumb.arrayBuffer());
    assert.ok(tb.length > 0 && tb.length < pic.length / 2, `thumbnail of ${tb.length} bytes`);
    assert.ok(tb.equals(pic.subarray(0, tb.length)));
  });

  it('follows an edit (new sizes, ETags and bytes, never the cached old ones), a deletion and a new post', async () => {
    const before = await propfind(serve!.url);
    // Old bytes in the block cache first: the edit must not serve them.
    for (const name of ['report.pdf', 'photo_3.jpg', 'report (13).pdf']) assert.equal((await get(serve!.url, name)).status, 200);
    await editChannel(f!);
    const want = await expected(f!, LISTED_AFTER);
    let listed = new Map<string, DavFile>();
    await eventually(async () => {
      listed = await propfind(serve!.url);
      assert.deepEqual([...listed.keys()].sort(), [...want.keys()].sort());
      assert.equal(listed.get('photo_3.jpg')!.size, 80_000);
      assert.equal(listed.get('report.pdf')!.size, 6000);
      assert.equal(listed.get('report (13).pdf')!.size, 6000);
    }, 30_000);
    for (const name of ['report.pdf', 'photo_3.jpg', 'report (13).pdf']) assert.notEqual(listed.get(name)!.etag, before.get(name)!.etag, name);
    assert.equal(listed.get('video_4.mp4')!.etag, before.get('video_4.mp4')!.etag, 'an untouched file keeps its ETag');
    for (const [name, bytes] of want) {
      const r = await get(serve!.url, name);
      assert.equal(r.status, 200, name);
      assert.ok(r.body.equals(bytes), `${name}: not the new bytes`);
    }
    assert.equal((await get(serve!.url, 'voice_7.ogg')).status, 404);
  });

  it('after a restart, catches up on an edit and a deletion made meanwhile (getChannelDifference other_updates)', async () => {
    const before = await propfind(serve!.url);
    assert.equal((await serve!.stop()), 0);
    const dir = path.join(f!.dataDir, CH);
    const clip = content(12_345, 'clip v2');
    await writeFile(path.join(dir, 'clip.mp4'), clip);
    await writeFile(path.join(dir, '.messages.json'), JSON.stringify(EDITED.filter((p) => p.id !== 8)));
    await f!.emu.rescan();
    const stats0 = f!.emu.stats();
    serve = await startServe(f!.configPath);
    const listed = await propfind(serve.url);
    // Learnt from the difference alone: no message read again.
    const calls = callsBetween(stats0, f!.emu.stats());
    assert.equal(calls['channels.getMessages'], undefined, JSON.stringify(calls));
    assert.ok((calls['updates.getChannelDifference'] ?? 0) >= 1, JSON.stringify(calls));
    assert.deepEqual([...listed.keys()].sort(), Object.keys(LISTED_AFTER).filter((n) => n !== 'round_8.mp4').sort(), serve.logTail());
    assert.equal(listed.get('video_4.mp4')!.size, clip.length);
    assert.notEqual(listed.get('video_4.mp4')!.etag, before.get('video_4.mp4')!.etag);
    assert.ok((await get(serve.url, 'video_4.mp4')).body.equals(clip));
    assert.equal(listed.get('sunset.jpg')!.etag, before.get('sunset.jpg')!.etag, 'what did not change keeps its ETag');
  });
});

describe('a real-looking channel through FUSE', { timeout: 120_000 }, () => {
  let f: WebdavFixture | undefined;
  let mnt: string | undefined;
  let mount: MountProcess | undefined;

  before(async () => {
    const missing = await fuseMissing();
    if (missing) throw new Error(missing);
    f = await startWebdavFixture(sourceFiles());
    mnt = await makeMountDir();
    mount = await startMount(f.configPath, mnt);
  });

  after(async () => {
    await mount?.stop().catch(() => undefined);
    if (mnt) await removeMountDir(mnt).catch(() => undefined);
    await f?.close();
  });

  /** `ls -1` of the channel folder, by a child process (this process never touches the mount). */
  async function ls(): Promise<string[]> {
    const r = await run(requireProgram('ls'), ['-1A', path.join(mnt!, CH)]);
    return r.stdout.toString().split('\n').filter((l) => l !== '' && !l.startsWith('.')).sort();
  }

  async function cat(name: string): Promise<Buffer> {
    return (await run(requireProgram('cat'), [path.join(mnt!, CH, name)])).stdout;
  }

  it('ls shows the same files; cat reads them byte-exact, and the edited ones anew after an edit', async () => {
    const want = await expected(f!, LISTED);
    await eventually(async () => assert.deepEqual(await ls(), [...want.keys()].sort()), 30_000);
    for (const [name, bytes] of want) assert.ok((await cat(name)).equals(bytes), name);

    await editChannel(f!);
    const after = await expected(f!, LISTED_AFTER);
    await eventually(async () => {
      assert.deepEqual(await ls(), [...after.keys()].sort());
      assert.ok((await cat('photo_3.jpg')).equals(after.get('photo_3.jpg')!));
    }, 30_000);
    for (const [name, bytes] of after) assert.ok((await cat(name)).equals(bytes), `${name} after the edit`);
  });
});
