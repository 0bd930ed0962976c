// The manifest channel through mtcute's own client (npm @mtcute/node 0.30.3, layer 227), which
// shares no code with tgvfs: it logs in with a bot token given the DC address and the published
// key, sees each post as the kind it is, and downloads the photo (its largest size) byte-exact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelId, startFixture } from './helpers/emulator-fixture';
import { contentChannel } from './helpers/content-channel';

const missing = ((): string | null => {
  try {
    require.resolve('@mtcute/node');
    return null;
  } catch {
    return '@mtcute/node is not installed (npm ci installs it: devDependencies)';
  }
})();

describe('emulator content: mtcute 0.30.3 (layer 227) reads a manifest channel', { skip: missing && process.env.CI !== 'true' ? missing : false }, () => {
  it('sees every kind of post and downloads the photo byte-exact', async () => {
    const mt = await import('@mtcute/node');
    const utils = await import('@mtcute/node/utils.js');
    const f = await startFixture(contentChannel('real'), { watch: false });
    const cfg = f.emu.config;
    const home = cfg.telegram!.dcs.find((d) => d.id === 2)!;
    utils.addPublicKey(new utils.NodeCryptoProvider(), cfg.telegram!.rsaPublicKeys[0]!);
    const dc = { id: 2, ipAddress: home.host, port: home.port };
    const tg = new mt.TelegramClient({ apiId: cfg.apiId, apiHash: cfg.apiHash, storage: new mt.MemoryStorage(), defaultDcs: { main: dc, media: dc }, logLevel: 0 });
    const signal = AbortSignal.timeout(30_000);
    try {
      await tg.start({ botToken: cfg.bots[0]! });
      const msgs = await tg.getMessages(channelId(f, 'real'), Array.from({ length: 14 }, (_, i) => i + 1));
      const kinds = msgs.map((m) => (m === null ? null : m.action ? `action:${m.action.type}` : (m.media?.type ?? 'text')));
      assert.deepEqual(kinds, [
        'action:channel_created', 'document', 'photo', 'video', null, 'audio', 'voice', 'video', 'text', 'action:message_pinned', 'poll', 'webpage',
        'document', 'action:title_changed',
      ]);
      const [, report, pic, clip, , song, , round] = msgs;
      assert.equal(report!.text, 'The report');
      assert.equal((report!.media as InstanceType<typeof mt.Document>).fileName, 'report.pdf');
      assert.equal(String(pic!.groupedId), '77');
      assert.equal(String(clip!.groupedId), '77');
      assert.equal((clip!.media as InstanceType<typeof mt.Video>).fileName, null);
      assert.equal((round!.media as InstanceType<typeof mt.Video>).isRound, true);
      const audio = song!.media as InstanceType<typeof mt.Audio>;
      assert.deepEqual([audio.title, audio.performer], ['Song', 'Artist']);
      assert.equal(msgs[10]!.media?.type === 'poll' && msgs[10]!.media.question, 'Like it?');
      const photo = pic!.media as InstanceType<typeof mt.Photo>;
      assert.deepEqual([photo.width, photo.height], [1280, 960]);
      const bytes = await tg.downloadAsBuffer(photo, { abortSignal: signal });
      assert.ok(Buffer.from(bytes).equals(f.files.get('real/pic.jpg')!), `photo: ${bytes.length} bytes`);
    } finally {
      await Promise.race([tg.destroy(), new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => undefined);
      await f.close();
    }
  });
});
