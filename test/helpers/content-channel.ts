// A channel folder with a `.messages.json` holding every kind of post a real channel has, for the
// emulator content tests: a service message first, a captioned document, an album of a photo and
// a nameless video, a gap (id 5), audio, voice, a round video, text, a pin, a poll, a web page,
// a repost of the document and a title change. clip.jpg, not listed, is the video's thumbnail.
import { content } from './emulator-fixture';

/** A JPEG head (SOI, SOF0 of 1280×960) followed by deterministic bytes: 70,000 bytes in all. */
export function fakeJpeg(seed: string, size = 70_000): Buffer {
  const head = Buffer.from('ffd8ffc000110803c0050003012200021101031101', 'hex');
  return Buffer.concat([head, content(size - head.length, seed)]);
}

export const MANIFEST = [
  { id: 1, kind: 'service' },
  { id: 2, kind: 'document', file: 'report.pdf', caption: 'The report' },
  { id: 3, kind: 'photo', file: 'pic.jpg', caption: 'A photo', grouped: 77 },
  { id: 4, kind: 'video', file: 'clip.mp4', name: null, grouped: 77 },
  { id: 6, kind: 'audio', file: 'Artist - Song.mp3' },
  { id: 7, kind: 'voice', file: 'note.ogg' },
  { id: 8, kind: 'round', file: 'round.mp4', date: 1700000000 },
  { id: 9, kind: 'text', caption: 'Hello, channel' },
  { id: 10, kind: 'service' },
  { id: 11, kind: 'poll', caption: 'Like it?' },
  { id: 12, kind: 'webpage', caption: 'See https://example.com/page' },
  { id: 13, kind: 'document', file: 'report.pdf', caption: 'again' },
  { id: 14, kind: 'service', caption: 'New title' },
];

/** Fixture files of channel `name` (startFixture's map), manifest included. */
export function contentChannel(name: string, manifest: unknown = MANIFEST): Record<string, Buffer | number> {
  return {
    [`${name}/report.pdf`]: 5000,
    [`${name}/pic.jpg`]: fakeJpeg(`${name}/pic`),
    [`${name}/clip.mp4`]: 9000,
    [`${name}/clip.jpg`]: fakeJpeg(`${name}/clip thumb`, 5000),
    [`${name}/Artist - Song.mp3`]: 8000,
    [`${name}/note.ogg`]: 3000,
    [`${name}/round.mp4`]: 6000,
    [`${name}/unlisted.bin`]: 100,
    [`${name}/.messages.json`]: Buffer.from(JSON.stringify(manifest)),
  };
}
