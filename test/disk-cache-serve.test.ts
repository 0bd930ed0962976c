// The disk cache in `serve` against the emulator, counted with its /stats: a file read once is
// read again after a restart byte-exact with no upstream getFile; an edited file (the emulator
// pushes the edit with a new document) is served with its new bytes; a second instance on the
// same cache folder says the folder is in use and serves from Telegram; a file's first open
// fetches its head and tail blocks.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import { validateConfig } from '../src/config/config-file';
import type { TgvfsConfig } from '../src/config/schema';
import { filesWhen } from './helpers/catalog-wait';
import { eventually } from './helpers/eventually';
import { MiB, channelId, content, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const getFiles = (f: EmulatorFixture): number => f.emu.stats().calls['upload.getFile'] ?? 0;

async function get(s: RunningServer, rel: string): Promise<Buffer> {
  const r = await fetch(`${s.url}/${rel}`);
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

describe('disk cache in serve', () => {
  let f: EmulatorFixture;
  let config: TgvfsConfig;
  const size = 2 * MiB + 4321;

  before(async () => {
    f = await startFixture({ 'films/a.bin': size, 'films/b.bin': 3 * MiB });
    // As `tgvfs serve --config` reads it: the disk cache on, in the session folder.
    config = validateConfig(JSON.parse(JSON.stringify(f.emu.config)), path.join(f.dir, 'config.json'));
  });
  after(async () => {
    await f?.close();
  });

  it('defaults to a folder in the session folder for an emulator config', () => {
    assert.deepEqual(config.diskCache, { dir: path.join(config.sessionDir, 'blocks') });
  });

  it('a read after a restart is byte-exact with no upstream getFile', async () => {
    const s1 = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s1.indexed();
      assert.ok((await get(s1, 'films/a.bin')).equals(f.files.get('films/a.bin')!));
    } finally {
      await s1.close();
    }
    const calls = getFiles(f);
    const bytes = f.emu.stats().bytesServed;
    const lines: string[] = [];
    const s2 = await startServer(config, { listen: { host: '127.0.0.1', port: 0 }, log: (l) => lines.push(l) });
    try {
      await s2.indexed();
      assert.ok(lines.some((l) => /^disk cache: .*blocks, [\d.]+ MiB in 9 block\(s\), budget /.test(l)), lines.join('\n'));
      assert.ok((await get(s2, 'films/a.bin')).equals(f.files.get('films/a.bin')!));
      const r = await fetch(`${s2.url}/films/a.bin`, { headers: { Range: 'bytes=1000000-1999999' } });
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(f.files.get('films/a.bin')!.subarray(1_000_000, 2_000_000)));
      assert.equal(getFiles(f), calls);
      assert.ok(f.emu.stats().bytesServed - bytes < 64 * 1024, 'no file bytes upstream');
      assert.equal(s2.engine.stats().fetchedBytes, 0);
      assert.match(await (await fetch(`${s2.url}/metrics`)).text(), /^tgvfs_engine_disk_hits (9|1\d)$/m);
    } finally {
      await s2.close();
    }
  });

  it('a second instance on the same folder says it is in use, and serves from Telegram', async () => {
    const s1 = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
    const lines: string[] = [];
    try {
      const s2 = await startServer(config, { listen: { host: '127.0.0.1', port: 0 }, log: (l) => lines.push(l) });
      try {
        await s2.indexed();
        assert.ok(lines.some((l) => /^disk cache .*blocks is in use by process \d+ .*; running without a disk cache$/.test(l)), lines.join('\n'));
        const calls = getFiles(f);
        assert.ok((await get(s2, 'films/a.bin')).equals(f.files.get('films/a.bin')!));
        assert.ok(getFiles(f) > calls);
      } finally {
        await s2.close();
      }
    } finally {
      await s1.close();
    }
  });

  it('an edit (new document) is served with its new bytes, never the cached old ones', async () => {
    const s = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      assert.ok((await get(s, 'films/a.bin')).equals(f.files.get('films/a.bin')!));
      const [old] = (await s.catalog.files(channelId(f, 'films'))).filter((x) => x.name === 'a.bin');
      const edited = content(size, 'edited');
      await writeFile(path.join(f.dataDir, 'films', 'a.bin'), edited);
      await f.emu.rescan();
      await filesWhen(s.catalog, channelId(f, 'films'), (files) => files.some((x) => x.name === 'a.bin' && x.docId !== old!.docId));
      assert.ok((await get(s, 'films/a.bin')).equals(edited));
    } finally {
      await s.close();
    }
  });

  it('the first open of a file fetches its head and tail blocks', async () => {
    const s = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      const dir = config.diskCache ? config.diskCache.dir : '';
      const before = (await readdir(dir)).length;
      const r = await fetch(`${s.url}/films/b.bin`, { headers: { Range: 'bytes=0-99' } });
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(f.files.get('films/b.bin')!.subarray(0, 100)));
      // The head asked for, and the tail nobody asked for yet: both stored.
      await eventually(async () => assert.equal((await readdir(dir)).length, before + 2));
      const calls = getFiles(f);
      const tail = await fetch(`${s.url}/films/b.bin`, { headers: { Range: `bytes=${3 * MiB - 100}-` } });
      assert.ok(Buffer.from(await tail.arrayBuffer()).equals(f.files.get('films/b.bin')!.subarray(3 * MiB - 100)));
      assert.equal(getFiles(f), calls, 'the tail was there before it was asked for');
    } finally {
      await s.close();
    }
  });
});
