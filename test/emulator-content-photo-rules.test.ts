// A photo follows the rules of a document in upload.getFile: held on another DC it answers
// FILE_MIGRATE (the worker follows it), its file reference expires with --expire-refs, and each
// count shows in /stats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Api } from 'telegram';
import { channelId, startFixture } from './helpers/emulator-fixture';
import { contentChannel } from './helpers/content-channel';
import { ManualClock } from './helpers/manual-clock';

describe('emulator content: photo downloads follow the document rules', () => {
  it('FILE_MIGRATE to the file DC, then FILE_REFERENCE_EXPIRED once references rotate', async () => {
    const clock = new ManualClock();
    const f = await startFixture(contentChannel('real'), { watch: false, fileDc: 4, faults: { expireRefs: 60 }, clock });
    try {
      const w = await f.startWorker(0);
      const msg = await w.getMessage(channelId(f, 'real'), 3);
      const photo = (msg.media as Api.MessageMediaPhoto).photo as Api.Photo;
      assert.equal(photo.dcId, 4);
      const m = photo.sizes.find((s) => s.type === 'm') as Api.PhotoSize;
      const location = new Api.InputPhotoFileLocation({ id: photo.id, accessHash: photo.accessHash, fileReference: photo.fileReference, thumbSize: 'm' });
      const before = f.emu.stats().faults;
      const bytes = await w.getFilePart(location, 0, 16384);
      assert.ok(Buffer.from(bytes).equals(f.files.get('real/pic.jpg')!.subarray(0, m.size)), `size m: ${m.size} bytes from DC 4`);
      assert.equal((f.emu.stats().faults.FILE_MIGRATE ?? 0) - (before.FILE_MIGRATE ?? 0), 1);
      clock.advance(60_000);
      await assert.rejects(w.getFilePart(location, 0, 16384), /FILE_REFERENCE_EXPIRED/);
      assert.equal((f.emu.stats().faults.FILE_REFERENCE_EXPIRED ?? 0) - (before.FILE_REFERENCE_EXPIRED ?? 0), 1);
      const again = await w.getMessage(channelId(f, 'real'), 3);
      const fresh = ((again.media as Api.MessageMediaPhoto).photo as Api.Photo).fileReference;
      const renewed = new Api.InputPhotoFileLocation({ id: photo.id, accessHash: photo.accessHash, fileReference: fresh, thumbSize: 'm' });
      assert.equal((await w.getFilePart(renewed, 0, 16384)).length, m.size);
    } finally {
      await f.close();
    }
  });
});
