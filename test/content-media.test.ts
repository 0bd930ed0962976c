// Channel content as real Telegram sends it, mapped to files with GramJS's own Api objects (the
// constructors real Telegram's answers decode to): a photo is a file (its largest size, read with
// inputPhotoFileLocation), nameless media are named by kind, captions that are file names name
// the file, text/service/poll/web-page posts are not files, an edit that replaces the media is a
// new file version, and a reposted document is two files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { FileChangedError, NotADocumentError, docInfoFromMessage, fileLocation, isDocInfo, type DocInfo } from '../src/telegram';
import { docOfVersion, type DocSource } from '../src/telegram/doc-version';
import { channelMessage, channelDifference } from '../src/telegram/channel-updates';
import { catalogFile } from '../src/catalog/channel-state';
import { isCatalogFile } from '../src/catalog/store';
import { assignFileNames, captionName } from '../src/vfs/names';
import { fileKey } from '../src/util/media';

const CH = -1001234567890;
const peerId = new Api.PeerChannel({ channelId: bigInt(1234567890) });

function post(id: number, media: Api.TypeMessageMedia | undefined, message = ''): Api.Message {
  return new Api.Message({ id, peerId, date: 1_700_000_000 + id, message, media });
}

function photo(id: number, sizes: Api.TypePhotoSize[]): Api.MessageMediaPhoto {
  return new Api.MessageMediaPhoto({
    photo: new Api.Photo({ id: bigInt(id), accessHash: bigInt(77), fileReference: Buffer.from([1, 2, 3]), date: 1, sizes, dcId: 2 }),
  });
}

const PHOTO_SIZES: Api.TypePhotoSize[] = [
  new Api.PhotoStrippedSize({ type: 'i', bytes: Buffer.from([1, 2, 3]) }),
  new Api.PhotoSize({ type: 's', w: 90, h: 60, size: 1500 }),
  new Api.PhotoSize({ type: 'm', w: 320, h: 213, size: 12_000 }),
  new Api.PhotoSize({ type: 'x', w: 800, h: 533, size: 60_000 }),
  new Api.PhotoSizeProgressive({ type: 'y', w: 1280, h: 853, sizes: [20_000, 70_000, 140_321] }),
];

function doc(id: number, mimeType: string, attributes: Api.TypeDocumentAttribute[], size = 5000): Api.MessageMediaDocument {
  return new Api.MessageMediaDocument({
    document: new Api.Document({
      id: bigInt(id), accessHash: bigInt(88), fileReference: Buffer.from([9]), date: 1, mimeType, size: bigInt(size), dcId: 4, attributes,
    }),
  });
}

const video = (id: number, round = false): Api.MessageMediaDocument =>
  doc(id, 'video/mp4', [new Api.DocumentAttributeVideo({ duration: 3, w: 640, h: 360, roundMessage: round || undefined })]);
const audio = (id: number, performer?: string, title?: string): Api.MessageMediaDocument =>
  doc(id, 'audio/mpeg', [new Api.DocumentAttributeAudio({ duration: 60, performer, title })]);
const voice = (id: number): Api.MessageMediaDocument => doc(id, 'audio/ogg', [new Api.DocumentAttributeAudio({ duration: 4, voice: true })]);

/** The names tgvfs lists for these messages (what is not a file is left out). */
function names(msgs: Api.TypeMessage[]): Record<number, string> {
  const files = msgs.map((m) => channelMessage(CH, m, 1).doc).filter((d) => d !== undefined).map(catalogFile);
  return Object.fromEntries(assignFileNames(files));
}

describe('a photo is a file', () => {
  it('its largest downloadable size: bytes from the size entry, progressive by its last scan', () => {
    const d = docInfoFromMessage(CH, post(10, photo(555, PHOTO_SIZES)));
    assert.equal(d.media, 'photo');
    assert.equal(d.photoSize, 'y');
    assert.equal(d.size, 140_321);
    assert.equal(d.id, '555');
    assert.equal(d.dcId, 2);
    assert.equal(d.mimeType, 'image/jpeg');
    assert.equal(d.name, null);
    // Its small sizes are its thumbnails; the 800 px one is no thumbnail.
    assert.deepEqual(d.thumbs.map((t) => t.type), ['s', 'm']);
    assert.ok(isDocInfo(JSON.parse(JSON.stringify(d))), 'a photo DocInfo survives a JSON store');
  });

  it('is read with inputPhotoFileLocation and the largest size as thumb_size; its thumbnail with its own size', () => {
    const d = docInfoFromMessage(CH, post(10, photo(555, PHOTO_SIZES)));
    const loc = fileLocation(d);
    assert.ok(loc instanceof Api.InputPhotoFileLocation);
    assert.equal(loc.id.toString(), '555');
    assert.equal(loc.accessHash.toString(), '77');
    assert.deepEqual([...loc.fileReference], [1, 2, 3]);
    assert.equal(loc.thumbSize, 'y');
    assert.equal(fileLocation(d, 'm').thumbSize, 'm');
    const docLoc = fileLocation(docInfoFromMessage(CH, post(11, video(9))));
    assert.ok(docLoc instanceof Api.InputDocumentFileLocation);
    assert.equal(docLoc.thumbSize, '');
  });

  it('a photo with no downloadable size, or past its TTL (photoEmpty), is not a file', () => {
    const onlyStripped = post(12, photo(556, [new Api.PhotoStrippedSize({ type: 'i', bytes: Buffer.from([1]) })]));
    assert.throws(() => docInfoFromMessage(CH, onlyStripped), NotADocumentError);
    const expired = post(13, new Api.MessageMediaPhoto({ photo: new Api.PhotoEmpty({ id: bigInt(5) }), ttlSeconds: 10 }));
    assert.throws(() => docInfoFromMessage(CH, expired), NotADocumentError);
  });

  it('a photo DocInfo that lost its size type is refused from the store (it could not be read)', () => {
    const d = docInfoFromMessage(CH, post(10, photo(555, PHOTO_SIZES)));
    const { photoSize: _gone, ...broken } = d;
    assert.equal(isDocInfo(JSON.parse(JSON.stringify(broken))), false);
    assert.equal(isDocInfo({ ...d, media: 'sticker' }), false);
  });
});

describe('names of files without a file name', () => {
  it('by kind, with the message id; audio by performer and title', () => {
    assert.deepEqual(
      names([
        post(1, photo(501, PHOTO_SIZES)),
        post(2, video(601)),
        post(3, video(602, true)),
        post(4, voice(603)),
        post(5, audio(604, 'Nina Simone', 'Sinnerman')),
        post(6, audio(605, undefined, 'Untitled')),
        post(7, audio(606)),
        post(8, doc(607, 'application/pdf', [])),
      ]),
      {
        1: 'photo_1.jpg',
        2: 'video_2.mp4',
        3: 'round_3.mp4',
        4: 'voice_4.ogg',
        5: 'audio_Nina Simone - Sinnerman.mp3',
        6: 'audio_Untitled.mp3',
        7: 'audio_7.mp3',
        8: 'file_8.pdf',
      },
    );
  });

  it('a document file name wins over kind and caption; a video with a name keeps it', () => {
    const named = doc(700, 'video/mp4', [new Api.DocumentAttributeVideo({ duration: 1, w: 1, h: 1 }), new Api.DocumentAttributeFilename({ fileName: 'talk.mp4' })]);
    assert.deepEqual(names([post(1, named, 'other.mp4')]), { 1: 'talk.mp4' });
  });

  it('a caption that is a file name names the file; other captions do not', () => {
    assert.deepEqual(
      names([
        post(1, photo(501, PHOTO_SIZES), 'IMG_2041.jpg'),
        post(2, photo(502, PHOTO_SIZES), 'Sunset at the beach'),
        post(3, photo(503, PHOTO_SIZES), 'see example.com'),
        post(4, photo(504, PHOTO_SIZES), 'scan.pdf'), // JPEG bytes are not a PDF
        post(5, video(601), 'Holiday 2024.mp4\nshot on a phone'),
        post(6, audio(602, 'A', 'B'), 'live set.mp3'),
        post(7, doc(603, 'application/pdf', []), 'notes 2024.pdf'),
        post(8, photo(505, PHOTO_SIZES), 'a/b.jpeg'),
      ]),
      {
        1: 'IMG_2041.jpg',
        2: 'photo_2.jpg',
        3: 'photo_3.jpg',
        4: 'photo_4.jpg',
        5: 'Holiday 2024.mp4',
        6: 'live set.mp3',
        7: 'notes 2024.pdf',
        8: 'a_b.jpeg',
      },
    );
    assert.equal(captionName('.jpg', 'photo'), '');
    assert.equal(captionName(undefined, 'photo'), '');
  });

  it('names stay unique: the later of two equal names gets its message id', () => {
    assert.deepEqual(
      names([post(3, audio(1, 'A', 'B')), post(9, audio(2, 'a', 'b')), post(4, photo(5, PHOTO_SIZES), 'x.jpg'), post(5, photo(6, PHOTO_SIZES), 'X.JPG')]),
      { 3: 'audio_A - B.mp3', 4: 'x.jpg', 5: 'X (5).JPG', 9: 'audio_a - b (9).mp3' },
    );
  });
});

describe('what is not a file', () => {
  it('text, service, poll, web page, geo and empty messages are skipped, not errors', () => {
    const poll = new Api.MessageMediaPoll({
      poll: new Api.Poll({ id: bigInt(1), question: new Api.TextWithEntities({ text: 'q?', entities: [] }), answers: [] }),
      results: new Api.PollResults({}),
    });
    const page = new Api.MessageMediaWebPage({ webpage: new Api.WebPageEmpty({ id: bigInt(1) }) });
    const msgs: Api.TypeMessage[] = [
      post(1, undefined, 'just text'),
      new Api.MessageService({ id: 2, peerId, date: 1, action: new Api.MessageActionChatEditTitle({ title: 't' }) }),
      post(3, poll),
      post(4, page, 'https://example.com'),
      post(5, new Api.MessageMediaGeo({ geo: new Api.GeoPointEmpty() })),
      new Api.MessageEmpty({ id: 6 }),
      post(7, video(601)),
    ];
    for (const m of msgs) assert.doesNotThrow(() => channelMessage(CH, m, 1));
    assert.deepEqual(msgs.map((m) => channelMessage(CH, m, 1).doc === undefined), [true, true, true, true, true, true, false]);
    assert.deepEqual(names(msgs), { 7: 'video_7.mp4' });
  });
});

describe('edits and reposts', () => {
  it('an edit in a difference (other_updates) replaces the file: new document id, size, cache key', () => {
    const diff = new Api.updates.ChannelDifference({
      pts: 20,
      final: true,
      newMessages: [post(2, photo(900, PHOTO_SIZES))],
      otherUpdates: [
        new Api.UpdateEditChannelMessage({ message: post(1, doc(801, 'video/mp4', [new Api.DocumentAttributeVideo({ duration: 1, w: 1, h: 1 })], 9999)), pts: 19, ptsCount: 1 }),
        new Api.UpdateDeleteChannelMessages({ channelId: bigInt(1234567890), messages: [3], pts: 20, ptsCount: 1 }),
      ],
      chats: [],
      users: [],
    });
    const d = channelDifference(CH, diff, 1);
    assert.equal(d.kind, 'difference');
    if (d.kind !== 'difference') return;
    const [added, edited, deleted] = d.changes;
    assert.ok(added?.kind === 'upsert' && added.doc?.media === 'photo' && added.doc.size === 140_321);
    assert.ok(edited?.kind === 'upsert' && edited.doc?.id === '801' && edited.doc.size === 9999 && edited.doc.media === 'video');
    assert.deepEqual(deleted, { kind: 'delete', ids: [3] });
    // The block cache's key of the edited file is not the old one's.
    assert.notEqual(fileKey(CH, 1, edited.doc.id), fileKey(CH, 1, '800'));
  });

  it('a reposted document (same id in two messages) is two files with two cache keys', () => {
    const a = docInfoFromMessage(CH, post(4, video(4242)));
    const b = docInfoFromMessage(CH, post(8, video(4242)));
    assert.equal(a.id, b.id);
    assert.notEqual(fileKey(CH, a.msgId, a.id), fileKey(CH, b.msgId, b.id));
    assert.deepEqual(names([post(4, video(4242)), post(8, video(4242))]), { 4: 'video_4.mp4', 8: 'video_8.mp4' });
  });

  it('a catalog file keeps kind, title and caption through a JSON store, and old entries stay valid', () => {
    const f = catalogFile(docInfoFromMessage(CH, post(5, audio(604, 'Nina Simone', 'Sinnerman'), 'live.mp3')));
    assert.deepEqual({ media: f.media, title: f.title, caption: f.caption }, { media: 'audio', title: 'Nina Simone - Sinnerman', caption: 'live.mp3' });
    assert.ok(isCatalogFile(JSON.parse(JSON.stringify(f))));
    const plain = catalogFile(docInfoFromMessage(CH, post(6, doc(1, 'application/pdf', [new Api.DocumentAttributeFilename({ fileName: 'a.pdf' })]))));
    assert.deepEqual(Object.keys(plain).sort(), ['channel', 'date', 'docId', 'mimeType', 'msgId', 'name', 'size', 'thumbs']);
    assert.equal(isCatalogFile({ ...plain, media: 'gif' }), false);
  });
});

describe('a read is for the document it was listed with', () => {
  /** A worker that remembers `remembered` and whose Telegram now holds `current`. */
  function source(remembered: string, current: string): DocSource & { fresh: number } {
    const info = (id: string): DocInfo => ({ ...docInfoFromMessage(CH, post(4, video(1))), id });
    return {
      id: 7,
      fresh: 0,
      getDoc(_c, _m, opts) {
        if (opts.fresh) this.fresh++;
        return Promise.resolve(info(opts.fresh ? current : remembered));
      },
    };
  }

  it('a remembered DocInfo of the document asked is used as is', async () => {
    const w = source('5', '6');
    assert.equal((await docOfVersion(w, CH, 4, '5')).id, '5');
    assert.equal((await docOfVersion(w, CH, 4, undefined)).id, '5');
    assert.equal(w.fresh, 0);
  });

  it('a stale remembered DocInfo (the media was replaced) is fetched again', async () => {
    const w = source('5', '6');
    assert.equal((await docOfVersion(w, CH, 4, '6')).id, '6');
    assert.equal(w.fresh, 1);
  });

  it('a listing older than the edit gets FILE_CHANGED, never the new bytes under the old key', async () => {
    const w = source('6', '6');
    const err = await docOfVersion(w, CH, 4, '5').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FileChangedError);
    assert.equal(err.code, 'FILE_CHANGED');
    assert.deepEqual(err.context, { channel: CH, msgId: 4, worker: 7 });
    assert.deepEqual([err.expected, err.actual], ['5', '6']);
  });
});
