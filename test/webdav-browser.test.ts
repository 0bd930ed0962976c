// A browser is a client too: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against a real startServer on the emulator, over a channel holding an H.264 mp4
// made by ffmpeg at test time (with a jpg thumbnail) and a few other files. It opens the root and a
// channel listing (names, sizes, links, thumbnails that really load), checks a screenshot (PNG
// size, the thumbnail's region not blank), then opens the video from the listing in the browser's
// own player, seeks to 70% and checks the position and that the server answered Range requests.
//
// Chromium missing: the suite is skipped with a message, except under CI=true, where it fails.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../src/app/server';
import { startEmulator } from '../src/emulator';
import type { EmulatorHandle } from '../src/emulator/types';
import { decodePng, pixelStats, pngSize } from './helpers/png';
import { requireProgram, run } from '../support/programs';

// Debian's chromium; TGVFS_CHROMIUM points elsewhere (another build, or a missing path to see the skip).
const CHROMIUM = process.env.TGVFS_CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
const skip = missing && process.env.CI !== 'true'
  ? `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it): browser tests skipped`
  : false;

const VIDEO = 'clip.mp4';
const SECONDS = 60;
// Message dates (the emulator takes a file's mtime): the listing shows them.
const DATE = new Date('2024-05-01T13:45:00Z');
const ODD_NAME = 'Notes & ideas #1 – ü.txt';

interface Seen {
  path: string;
  range: string | undefined;
  /** The answer's status once its head is sent (0 before). */
  readonly status: number;
}

describe('a browser as a client (headless Chromium)', { skip, timeout: 60_000 }, () => {
  let dir = '';
  let emu: EmulatorHandle | null = null;
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const seen: Seen[] = [];
  const sizes = new Map<string, number>();

  before(async () => {
    if (missing) throw new Error(`${CHROMIUM} is missing and CI=true: apt-get install -y chromium (.ci/run installs it)`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-browser-'));
    const videos = path.join(dir, 'data', 'videos');
    const docs = path.join(dir, 'data', 'docs');
    await mkdir(videos, { recursive: true });
    await mkdir(docs, { recursive: true });
    const ffmpeg = requireProgram('ffmpeg');
    // 60 s of testsrc at a constant 2 Mbit/s (about 15 MB: Chromium buffers about 10 s ahead, so
    // a seek to 70% is a new range request rather than bytes already buffered), moov at the start,
    // plus a 160×120 frame as the thumbnail the emulator attaches to the video (`clip.jpg` beside
    // `clip.mp4`).
    const rate = '2000000';
    await run(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', String(SECONDS),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline',
      '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', rate, '-x264-params', 'nal-hrd=cbr',
      '-movflags', '+faststart', path.join(videos, VIDEO),
    ], { timeoutMs: 30_000 });
    await run(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-y', '-ss', '1', '-i', path.join(videos, VIDEO), '-frames:v', '1',
      '-vf', 'scale=160:120', path.join(videos, 'clip.jpg'),
    ], { timeoutMs: 30_000 });
    await writeFile(path.join(videos, ODD_NAME), 'odd name\n');
    await writeFile(path.join(videos, 'plain.bin'), Buffer.alloc(150_000, 7));
    await writeFile(path.join(docs, 'readme.txt'), 'hello\n');
    for (const rel of [`videos/${VIDEO}`, 'videos/clip.jpg', `videos/${ODD_NAME}`, 'videos/plain.bin', 'docs/readme.txt']) {
      const file = path.join(dir, 'data', rel);
      await utimes(file, DATE, DATE);
      sizes.set(rel, (await stat(file)).size);
    }

    emu = await startEmulator({ dataDir: path.join(dir, 'data'), bots: 2, configOut: path.join(dir, 'config.json'), watch: false });
    server = await startServer(emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await server.indexed();
    // Every request the browser makes, with its Range header and final status.
    server.http.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      seen.push({
        path: decodeURIComponent((req.url ?? '').split('?')[0]!),
        range: req.headers.range,
        get status() {
          return res.headersSent ? res.statusCode : 0;
        },
      });
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
    page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await emu?.close();
    if (dir && process.env.TGVFS_KEEP_SCREENSHOTS !== '1') await rm(dir, { recursive: true, force: true });
  });

  /** Text and href of every name link of the listing on the page, in order. */
  async function rows(): Promise<{ text: string; href: string; abs: string; title: string | null }[]> {
    return page.evaluate<{ text: string; href: string; abs: string; title: string | null }[]>(`
      [...document.querySelectorAll('tbody tr')].map((tr) => {
        const a = tr.querySelector('td.n a');
        return { text: a.textContent, href: a.getAttribute('href'), abs: a.href, title: tr.querySelector('td.s').getAttribute('title') };
      })`);
  }

  it('the root lists the channels as folders, with no hidden files', async () => {
    const r = await page.goto(`${server!.url}/`);
    assert.equal(r?.status(), 200);
    assert.equal(r?.headers()['content-type'], 'text/html; charset=utf-8');
    assert.deepEqual((await rows()).map((x) => [x.text, x.href]), [['docs/', 'docs/'], ['videos/', 'videos/']]);
    assert.equal(await page.title(), '/ - tgvfs');
  });

  it('a channel: names, sizes, links and thumbnails that load; a screenshot that shows them', async (t) => {
    // Reached the way a person does: a click on the folder's link.
    await page.click('a[href="videos/"]');
    await page.waitForURL(`${server!.url}/videos/`);
    const list = await rows();
    const base = `${server!.url}/videos/`;
    assert.deepEqual(list.map((x) => x.text), ['../', '.thumbnails/', VIDEO, ODD_NAME, 'plain.bin']);
    assert.deepEqual(list.map((x) => x.abs), [
      `${server!.url}/`, `${base}.thumbnails/`, `${base}${VIDEO}`, `${base}${encodeURIComponent(ODD_NAME)}`, `${base}plain.bin`,
    ]);
    // Exact bytes in the size cell's title.
    assert.deepEqual(list.slice(2).map((x) => x.title), [
      `${sizes.get(`videos/${VIDEO}`)} bytes`, `${sizes.get(`videos/${ODD_NAME}`)} bytes`, '150000 bytes',
    ]);
    assert.match(await page.innerText('tbody'), /146 KiB\s+2024-05-01 13:45 UTC/);
    // A link with `&`, `#`, a space and non-ASCII in its name leads to the file's exact bytes.
    const odd = await fetch(list[3]!.abs);
    assert.equal(await odd.text(), 'odd name\n');

    // One thumbnail (the video's), loaded: its natural size is the jpg's.
    // A function, not a string: a string predicate that has to poll is eval'd in the page, which
    // the listing's Content-Security-Policy (rightly) forbids.
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { images: ArrayLike<{ complete: boolean }> } }).document;
      return Array.from(doc.images).every((i) => i.complete);
    });
    const imgs = await page.evaluate<{ src: string; w: number; h: number; row: string }[]>(`
      [...document.images].map((i) => ({ src: i.src, w: i.naturalWidth, h: i.naturalHeight, row: i.closest('tr').querySelector('td.n a').textContent }))`);
    const { channel, msgId } = await server!.vfs.stat(['videos', VIDEO]);
    assert.deepEqual(imgs, [{ src: `${server!.url}/thumb/${channel}/${msgId}`, w: 160, h: 120, row: VIDEO }]);
    const thumbGets = seen.filter((s) => s.path.startsWith('/thumb/'));
    assert.deepEqual(thumbGets.map((s) => s.status), [200]);

    // The screenshot: the page's size, and the thumbnail's box drawn (not a blank square).
    const shotPath = path.join(dir, 'listing.png');
    const png = await page.screenshot({ path: shotPath, fullPage: true });
    t.diagnostic(`screenshot: ${shotPath}${process.env.TGVFS_KEEP_SCREENSHOTS === '1' ? '' : ' (removed after the run; TGVFS_KEEP_SCREENSHOTS=1 keeps it)'}`);
    assert.equal(pngSize(png).width, 900);
    assert.ok(pngSize(png).height >= 600);
    const box = await page.locator('img').boundingBox();
    assert.ok(box && box.width >= 32 && box.height >= 24, `thumbnail box ${JSON.stringify(box)}`);
    const thumbShot = decodePng(await page.screenshot({ clip: box }));
    const drawn = pixelStats(thumbShot);
    assert.ok(drawn.lumaStdDev > 20 && drawn.distinctColours > 50, `thumbnail region looks blank: ${JSON.stringify(drawn)}`);
    // The same box one row down (a row without a thumbnail) is nearly uniform: the check can fail.
    const blank = pixelStats(decodePng(await page.screenshot({ clip: { ...box, y: box.y + box.height + 20 } })));
    assert.ok(blank.lumaStdDev < 10, `control region ${JSON.stringify(blank)}`);
  });

  it('a video opens in the browser\'s own player and seeks with Range requests', async () => {
    const size = sizes.get(`videos/${VIDEO}`)!;
    const firstVideoRequest = seen.length;
    await page.click(`a[href="${VIDEO}"]`);
    await page.waitForURL(`${server!.url}/videos/${VIDEO}`);
    // Chromium's media document: one <video> whose source is the file's plain URL.
    const meta = await page.evaluate<{ duration: number; src: string; error: number | null }>(`(async () => {
      const v = document.querySelector('video');
      if (!v) throw new Error('no <video> element: the file did not open in the media player');
      if (v.readyState < 1) {
        await new Promise((resolve, reject) => {
          v.addEventListener('loadedmetadata', resolve, { once: true });
          v.addEventListener('error', () => reject(new Error('media error ' + (v.error && v.error.code))), { once: true });
        });
      }
      return { duration: v.duration, src: v.currentSrc, error: v.error && v.error.code };
    })()`);
    assert.equal(meta.src, `${server!.url}/videos/${VIDEO}`);
    assert.equal(meta.error, null);
    assert.ok(Math.abs(meta.duration - SECONDS) < 0.2, `duration ${meta.duration}`);

    const beforeSeek = seen.length;
    const pos = await page.evaluate<{ target: number; at: number; readyState: number }>(`(async () => {
      const v = document.querySelector('video');
      v.pause();
      const target = v.duration * 0.7;
      const seeked = new Promise((resolve) => v.addEventListener('seeked', resolve, { once: true }));
      v.currentTime = target;
      await seeked;
      if (v.readyState < 2) await new Promise((resolve) => v.addEventListener('loadeddata', resolve, { once: true }));
      return { target, at: v.currentTime, readyState: v.readyState };
    })()`);
    assert.ok(Math.abs(pos.at - pos.target) < 0.05, `position ${pos.at} after a seek to ${pos.target}`);
    assert.ok(pos.readyState >= 2, `readyState ${pos.readyState}: no frame at the new position`);

    const gets = seen.slice(firstVideoRequest).filter((s) => s.path === `/videos/${VIDEO}`);
    const ranged = gets.filter((s) => s.range !== undefined);
    assert.ok(ranged.length >= 1, `no Range request for the video: ${JSON.stringify(gets)}`);
    for (const g of ranged) assert.equal(g.status, 206, `a Range request answered ${g.status}: ${JSON.stringify(g)}`);
    // The seek itself was a Range request far into the file (the first request read from 0).
    const afterSeek = seen.slice(beforeSeek).filter((s) => s.path === `/videos/${VIDEO}` && s.range);
    const starts = afterSeek.map((s) => Number(/^bytes=(\d+)-/.exec(s.range!)?.[1] ?? -1));
    assert.ok(starts.some((s) => s >= size * 0.4), `no Range request past 40% of ${size} bytes after the seek: ${JSON.stringify(afterSeek)} (all: ${JSON.stringify(gets)})`);
  });
});

