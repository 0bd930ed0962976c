// The demo's sample channels: videos made with ffmpeg (moov at the end, and +faststart), each
// with a 320-pixel-wide JPEG thumbnail; documents of fixed sizes with deterministic content;
// plain files when ffmpeg is missing, replaced once it is there; reuse; abort.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultDemoDir, ensureDemoData } from '../src/app/demo-data';
import { findExecutable } from '../src/app/find-executable';
import { jpegSize } from '../src/emulator/media-types';
import { until } from './helpers/eventually';

const FFMPEG_MISSING = 'ffmpeg is not installed: run "apt-get install -y ffmpeg" (.ci/run installs it)';

/** Types of an mp4's top-level boxes, in file order. */
function topLevelBoxes(b: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    let size = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(b.readBigUInt64BE(at + 8));
    else if (size === 0) size = b.length - at;
    assert.ok(size >= 8, `box ${type} at ${at} has size ${size}`);
    types.push(type);
    at += size;
  }
  return types;
}

async function listing(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('the demo folder follows XDG_CACHE_HOME, else ~/.cache', () => {
  assert.equal(defaultDemoDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/tgvfs/demo');
  assert.equal(defaultDemoDir({}), path.join(os.homedir(), '.cache', 'tgvfs', 'demo'));
  assert.equal(defaultDemoDir({ XDG_CACHE_HOME: 'relative' }), path.join(os.homedir(), '.cache', 'tgvfs', 'demo'));
});

test('ffmpeg is on PATH', () => {
  assert.ok(findExecutable('ffmpeg'), FFMPEG_MISSING);
});

describe('ensureDemoData', () => {
  let tmp = '';

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-demo-data-'));
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('without ffmpeg: plain files in videos, then real videos once ffmpeg is there, then reuse', async () => {
    const ffmpeg = findExecutable('ffmpeg');
    assert.ok(ffmpeg, FFMPEG_MISSING);
    const dir = path.join(tmp, 'demo');
    const lines: string[] = [];
    const plain = await ensureDemoData({ dir, ffmpeg: false, log: (l) => lines.push(l) });
    assert.equal(plain.dataDir, path.join(dir, 'channels'));
    assert.equal(plain.videos, 'plain files');
    assert.ok(lines.some((l) => /ffmpeg is not on PATH/.test(l)), lines.join('\n'));
    assert.deepEqual(await listing(path.join(plain.dataDir, 'videos')), ['no-ffmpeg.txt', 'placeholder-3MiB.bin', 'placeholder-5MB.bin']);

    const docsDir = path.join(plain.dataDir, 'documents');
    const sizes = Object.fromEntries(
      await Promise.all((await listing(docsDir)).map(async (n) => [n, (await fs.stat(path.join(docsDir, n))).size] as const)),
    );
    assert.deepEqual(sizes, {
      'hello.txt': sizes['hello.txt'],
      'large-50MiB.bin': 50 * 1024 * 1024 + 777,
      'lines-64KiB.txt': 64 * 1024,
      'one-MiB-plus-one.bin': 1024 * 1024 + 1,
      'table-1MB.csv': 1_000_000,
    });
    assert.match(await fs.readFile(path.join(docsDir, 'hello.txt'), 'utf8'), /tgvfs demo/);
    assert.match(await fs.readFile(path.join(docsDir, 'table-1MB.csv'), 'utf8'), /^id,name,value,checksum\n1,item-000001,/);

    const made = await ensureDemoData({ dir, ffmpeg });
    assert.equal(made.videos, 'ffmpeg');
    const videosDir = path.join(made.dataDir, 'videos');
    assert.deepEqual(await listing(videosDir), [
      'smptebars-moov-at-end.jpg', 'smptebars-moov-at-end.mp4',
      'testsrc-moov-at-end.jpg', 'testsrc-moov-at-end.mp4',
      'testsrc2-faststart.jpg', 'testsrc2-faststart.mp4',
    ], 'placeholders replaced by videos with thumbnails');
    assert.ok(made.created.every((p) => p.startsWith('videos/')), `documents were reused: ${made.created.join(', ')}`);

    for (const name of ['testsrc-moov-at-end', 'smptebars-moov-at-end', 'testsrc2-faststart']) {
      const boxes = topLevelBoxes(await fs.readFile(path.join(videosDir, `${name}.mp4`)));
      assert.equal(boxes[0], 'ftyp', `${name}: ${boxes.join(' ')}`);
      const moov = boxes.indexOf('moov');
      const mdat = boxes.indexOf('mdat');
      assert.ok(moov > 0 && mdat > 0, `${name}: ${boxes.join(' ')}`);
      if (name.endsWith('faststart')) assert.ok(moov < mdat, `${name}: moov first: ${boxes.join(' ')}`);
      else assert.equal(boxes[boxes.length - 1], 'moov', `${name}: moov at the end: ${boxes.join(' ')}`);
      const thumb = jpegSize(await fs.readFile(path.join(videosDir, `${name}.jpg`)));
      assert.deepEqual(thumb, { w: 320, h: 180 }, `${name}.jpg`);
    }

    const mtimes = async (): Promise<number[]> =>
      Promise.all(
        [...(await listing(videosDir)).map((n) => path.join(videosDir, n)), ...(await listing(docsDir)).map((n) => path.join(docsDir, n))].map(
          async (p) => (await fs.stat(p)).mtimeMs,
        ),
      );
    const before = await mtimes();
    const again = await ensureDemoData({ dir, ffmpeg });
    assert.deepEqual(again.created, [], 'a second run reuses everything');
    assert.deepEqual(await mtimes(), before);
  });

  test('document content is deterministic', async () => {
    const a = await ensureDemoData({ dir: path.join(tmp, 'a'), ffmpeg: false });
    const b = await ensureDemoData({ dir: path.join(tmp, 'b'), ffmpeg: false });
    for (const name of ['one-MiB-plus-one.bin', 'large-50MiB.bin', 'table-1MB.csv']) {
      const x = await fs.readFile(path.join(a.dataDir, 'documents', name));
      const y = await fs.readFile(path.join(b.dataDir, 'documents', name));
      assert.equal(sha(x), sha(y), name);
    }
    await fs.rm(path.join(tmp, 'a'), { recursive: true });
    await fs.rm(path.join(tmp, 'b'), { recursive: true });
  });

  test('an aborted run rejects with the reason and leaves no partial file', async () => {
    const ffmpeg = findExecutable('ffmpeg');
    assert.ok(ffmpeg, FFMPEG_MISSING);
    const dir = path.join(tmp, 'aborted');
    const ac = new AbortController();
    const reason = new Error('stop');
    // Abort while ffmpeg makes the first video: once its partial file is there.
    let watching = false;
    const log = (line: string): void => {
      const m = /^making (\S+) /.exec(line);
      if (!m || watching) return;
      watching = true;
      const partial = path.join(dir, 'channels', 'videos', `.${m[1]}.partial`);
      const there = (): Promise<boolean> => fs.stat(partial).then(() => true, () => false);
      void until(there, 30_000, () => `${partial} never appeared`).then(() => ac.abort(reason), (err: Error) => ac.abort(err));
    };
    const run = ensureDemoData({ dir, ffmpeg, signal: ac.signal, log });
    await assert.rejects(run, (err: unknown) => err === reason);
    for (const channel of ['videos', 'documents']) {
      const names = await listing(path.join(dir, 'channels', channel));
      assert.deepEqual(names.filter((n) => n.startsWith('.')), [], `${channel}: ${names.join(', ')}`);
    }
  });
});
