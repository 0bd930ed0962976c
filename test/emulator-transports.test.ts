// The emulator speaks every TCP transport GramJS has: full (its default), abridged and
// obfuscated (abridged inside AES-CTR). An unmodified TelegramClient logs in over each and
// reads file bytes. GramJS's plain abridged codec reads a packet with `read(n)`, which may
// return fewer bytes than asked when a large answer arrives in pieces (its other codecs use
// readExactly), so over plain abridged only a small part is read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bigInt from 'big-integer';
import { Api, TelegramClient } from 'telegram';
import { ConnectionTCPAbridged, ConnectionTCPFull, ConnectionTCPObfuscated } from 'telegram/network';
import { StringSession } from 'telegram/sessions';
import { createDcSocketClass, destroyClient, installFastIge, trustRsaKey } from '../src/telegram';
import { mtprotoChannelId } from '../src/util/channel-id';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

describe('emulator transports', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'one/a.bin': 300_000 });
    installFastIge();
    for (const pem of f.emu.config.telegram!.rsaPublicKeys) trustRsaKey(pem);
  });
  after(() => f?.close());

  const transports = [['full', ConnectionTCPFull, true], ['abridged', ConnectionTCPAbridged, false], ['obfuscated', ConnectionTCPObfuscated, true]] as const;
  for (const [name, connection, whole] of transports) {
    it(`${name}: login and ${whole ? 'downloadFile' : 'one small getFile'}`, async () => {
      const cfg = f.emu.config;
      const home = cfg.telegram!.dcs.find((d) => d.id === 2)!;
      const session = new StringSession('');
      session.setDC(2, home.host, home.port);
      const client = new TelegramClient(session, cfg.apiId, cfg.apiHash, {
        connection, networkSocket: createDcSocketClass(cfg.telegram!.dcs), connectionRetries: 1, floodSleepThreshold: 0,
      });
      client.setLogLevel('none' as Parameters<typeof client.setLogLevel>[0]);
      try {
        await client.start({ botAuthToken: cfg.bots[2]! });
        const channelId = bigInt(mtprotoChannelId(cfg.channels[0]!.id));
        const res = await client.invoke(new Api.channels.GetMessages({
          channel: new Api.InputChannel({ channelId, accessHash: bigInt.zero }),
          id: [new Api.InputMessageID({ id: 1 })],
        }));
        assert.ok(res instanceof Api.messages.ChannelMessages);
        const doc = ((res.messages[0] as Api.Message).media as Api.MessageMediaDocument).document as Api.Document;
        const location = new Api.InputDocumentFileLocation({ id: doc.id, accessHash: doc.accessHash, fileReference: doc.fileReference, thumbSize: '' });
        const src = f.files.get('one/a.bin')!;
        if (whole) {
          const bytes = await client.downloadFile(location, { dcId: doc.dcId, fileSize: doc.size });
          assert.ok(Buffer.isBuffer(bytes) && bytes.equals(src));
        } else {
          const part = await client.invoke(new Api.upload.GetFile({ location, offset: bigInt(4096), limit: 4096 }));
          assert.ok(part instanceof Api.upload.File && part.bytes.equals(src.subarray(4096, 8192)));
        }
      } finally {
        await destroyClient(client);
      }
    });
  }
});
