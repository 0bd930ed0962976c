// A catalog written by a version that made files of documents only (no photos; no kind, title or
// caption kept; no `content` stamp on the record) is read again once, so an upgrade lists the
// channel's photos and names nameless media by kind; a catalog of this version is not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Catalog, CATALOG_NAMESPACE } from '../src/catalog';
import { openKeyvStore } from '../src/telegram/metadata-cache';
import { WorkerPool } from '../src/telegram/worker-pool';
import { assignFileNames } from '../src/vfs/names';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { contentChannel } from './helpers/content-channel';

type Keyv = Awaited<ReturnType<typeof openKeyvStore>>['keyv'];

/** The files tgvfs names for the channel, as `msgId name`. */
async function listing(catalog: Catalog, channel: number): Promise<string[]> {
  return [...assignFileNames(await catalog.files(channel))].map(([id, name]) => `${id} ${name}`);
}

const LISTED = ['2 report.pdf', '3 photo_3.jpg', '4 video_4.mp4', '6 audio_Artist - Song.mp3', '7 voice_7.ogg', '8 round_8.mp4', '13 report (13).pdf'];

describe('a catalog from a documents-only version', () => {
  let f: EmulatorFixture;
  let pool: WorkerPool;
  let keyv: Keyv;

  before(async () => {
    f = await startFixture(contentChannel('real'), { watch: false });
    pool = await WorkerPool.create({ ...f.emu.config });
    keyv = (await openKeyvStore('memory://', CATALOG_NAMESPACE)).keyv;
  });

  after(async () => {
    await pool?.close();
    await keyv?.disconnect();
    await f?.close();
  });

  it('is read again once: photos appear, nameless media get their kind; then no more reads', async () => {
    const ch = channelId(f, 'real');
    const first = await Catalog.open({ store: keyv, channels: f.emu.config.channels, pool });
    await first.index(ch);
    assert.deepEqual(await listing(first, ch), LISTED);
    await first.close();

    // What the older version left: no stamp, no photo, no kinds or captions.
    const record = (await keyv.get(`channel:${ch}`)) as Record<string, unknown>;
    delete record.content;
    await keyv.set(`channel:${ch}`, record);
    const page = (await keyv.get(`page:${ch}:0`)) as Record<string, unknown>[];
    const old = page.filter((p) => p.msgId !== 3).map(({ media: _m, title: _t, caption: _c, ...rest }) => rest);
    await keyv.set(`page:${ch}:0`, old);

    const lines: string[] = [];
    const upgraded = await Catalog.open({ store: keyv, channels: f.emu.config.channels, pool, log: (l) => lines.push(l) });
    try {
      const r1 = await upgraded.index(ch);
      assert.equal(r1.getMessagesCalls, 1, 'ids 1…14 read again in one call');
      assert.ok(lines.some((l) => /indexed by an older version .*reading its 14 ids again/.test(l)), lines.join('\n'));
      assert.deepEqual(await listing(upgraded, ch), LISTED);
      const r2 = await upgraded.index(ch);
      assert.equal(r2.getMessagesCalls, 0);
    } finally {
      await upgraded.close();
    }
  });
});
