// names.ts: safe, unique, deterministic names from catalog data alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignChannelNames,
  assignFileNames,
  fallbackName,
  isFinderProbe,
  nameKey,
  sanitizeName,
  type NameSource,
} from '../src/vfs/names';

const f = (msgId: number, name: string | null, mimeType = 'application/octet-stream'): NameSource => ({ msgId, name, mimeType });

/** True when a name is safe on Linux, macOS and Windows. */
function isSafe(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  if (/[\u0000-\u001f\u007f-\u009f/\\<>:"|?*]/.test(name)) return false;
  if (/[ .]$/.test(name) || /^\s/.test(name)) return false;
  const stem = name.split('.')[0]!.replace(/ +$/, '');
  if (/^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i.test(stem)) return false;
  if (Buffer.byteLength(name) > 255) return false;
  return name === name.normalize('NFC');
}

describe('sanitizeName', () => {
  const table: [string, string][] = [
    ['movie.mp4', 'movie.mp4'],
    ['a/b\\c.txt', 'a_b_c.txt'],
    ['tab\there\nnl\u0000nul\u007fdel\u0085c1.bin', 'tab_here_nl_nul_del_c1.bin'],
    ['what? <yes>: "no" | * .txt', 'what_ _yes__ _no_ _ _ .txt'],
    ['trailing dots...', 'trailing dots'],
    ['trailing space.txt  ', 'trailing space.txt'],
    ['  leading.txt', 'leading.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['Nul.tar.gz', '_Nul.tar.gz'],
    ['COM1.mp4', '_COM1.mp4'],
    ['lpt9', '_lpt9'],
    ['COM¹.txt', '_COM¹.txt'],
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['COM10.txt', 'COM10.txt'],
    ['.DS_Store', '_.DS_Store'],
    ['._movie.mp4', '_._movie.mp4'],
    ['.thumbnails', '_.thumbnails'],
    ['.metadata_never_index', '_.metadata_never_index'],
    ['.bashrc', '.bashrc'],
    ['.', ''],
    ['..', ''],
    ['...', ''],
    ['   ', ''],
    ['e\u0301te\u0301.txt', 'été.txt'],
  ];
  for (const [input, want] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
      assert.equal(sanitizeName(input), want);
      if (want !== '') assert.ok(isSafe(want), `${want} is safe`);
      assert.equal(sanitizeName(sanitizeName(input)), sanitizeName(input), 'idempotent');
    });
  }

  it('cuts long names to 230 UTF-8 bytes, keeping the extension and whole code points', () => {
    const long = `${'ж'.repeat(200)}😀😀.mkv`;
    const s = sanitizeName(long);
    assert.ok(Buffer.byteLength(s) <= 230, `${Buffer.byteLength(s)} bytes`);
    assert.ok(s.endsWith('.mkv'));
    assert.ok(isSafe(s));
    assert.ok(!s.includes('\ufffd'));
  });
});

describe('fallbackName', () => {
  const table: [number, string, string][] = [
    [123, 'video/mp4', 'video_123.mp4'],
    [5, 'video/x-matroska', 'video_5.mkv'],
    [6, 'audio/mpeg', 'audio_6.mp3'],
    [7, 'image/jpeg', 'photo_7.jpg'],
    [8, 'application/pdf', 'file_8.pdf'],
    [9, 'application/octet-stream', 'file_9.bin'],
    [10, 'video/x-flv', 'video_10.flv'],
    [11, 'application/vnd.weird+thing', 'file_11.bin'],
    [12, '', 'file_12.bin'],
    [13, 'VIDEO/MP4; codecs="avc1"', 'video_13.mp4'],
  ];
  for (const [id, mime, want] of table) it(`${id} ${JSON.stringify(mime)} → ${want}`, () => assert.equal(fallbackName(id, mime), want));
});

describe('assignFileNames', () => {
  it('keeps unique names as they are', () => {
    const names = assignFileNames([f(1, 'a.mp4'), f(2, 'b.mp4')]);
    assert.deepEqual([...names], [[1, 'a.mp4'], [2, 'b.mp4']]);
  });

  it('a clash becomes "name (msgId).ext"; the lowest message id keeps the plain name', () => {
    const names = assignFileNames([f(9, 'x.mp4'), f(3, 'x.mp4'), f(5, 'x.mp4')]);
    assert.equal(names.get(3), 'x.mp4');
    assert.equal(names.get(5), 'x (5).mp4');
    assert.equal(names.get(9), 'x (9).mp4');
  });

  it('clashes ignore case and Unicode normalisation', () => {
    const names = assignFileNames([f(1, 'Movie.MP4'), f(2, 'movie.mp4'), f(3, 'e\u0301.txt'), f(4, 'é.txt')]);
    assert.equal(names.get(1), 'Movie.MP4');
    assert.equal(names.get(2), 'movie (2).mp4');
    assert.equal(names.get(3), 'é.txt');
    assert.equal(names.get(4), 'é (4).txt');
  });

  it('names that sanitise alike clash too', () => {
    const names = assignFileNames([f(1, 'a?b.txt'), f(2, 'a*b.txt'), f(3, 'a_b.txt')]);
    assert.deepEqual([names.get(1), names.get(2), names.get(3)], ['a_b.txt', 'a_b (2).txt', 'a_b (3).txt']);
  });

  it('a suffixed name never takes a name another file really has', () => {
    const names = assignFileNames([f(1, 'x.mp4'), f(5, 'x.mp4'), f(7, 'x (5).mp4')]);
    assert.equal(names.get(1), 'x.mp4');
    assert.equal(names.get(7), 'x (5).mp4');
    assert.equal(names.get(5), 'x (5) (2).mp4');
  });

  it('files without a (usable) name get one from type and id; those can clash with real names', () => {
    const names = assignFileNames([f(1, 'video_2.mp4', 'video/mp4'), f(2, null, 'video/mp4'), f(3, '...', 'audio/ogg'), f(4, null)]);
    assert.equal(names.get(1), 'video_2.mp4');
    assert.equal(names.get(2), 'video_2 (2).mp4');
    assert.equal(names.get(3), 'audio_3.ogg');
    assert.equal(names.get(4), 'file_4.bin');
  });

  it('no extension: the suffix goes at the end; dotfiles keep their dot', () => {
    const names = assignFileNames([f(1, 'README'), f(2, 'readme'), f(3, '.env'), f(4, '.env')]);
    assert.deepEqual([names.get(2), names.get(4)], ['readme (2)', '.env (4)']);
  });

  it('is deterministic (input order does not matter), unique and safe', () => {
    const files: NameSource[] = [];
    const pool = ['a.mp4', 'A.mp4', 'con', 'CON.txt', null, '', ' x ', 'x', 'x.', '..', 'a (2).mp4', '._x', 'b/c', 'b\\c'];
    for (let i = 1; i <= 200; i++) files.push(f(i * 3, pool[i % pool.length]!, i % 2 ? 'video/mp4' : 'image/png'));
    const a = assignFileNames(files);
    const b = assignFileNames([...files].reverse());
    assert.deepEqual([...a].sort(), [...b].sort());
    const keys = new Set([...a.values()].map(nameKey));
    assert.equal(keys.size, files.length, 'unique ignoring case');
    for (const name of a.values()) assert.ok(isSafe(name), `safe: ${JSON.stringify(name)}`);
  });

  it('adding a newer file never renames an older one', () => {
    const before = assignFileNames([f(1, 'x.mp4'), f(2, 'x.mp4'), f(3, null, 'video/mp4')]);
    const after = assignFileNames([f(1, 'x.mp4'), f(2, 'x.mp4'), f(3, null, 'video/mp4'), f(4, 'x.mp4'), f(5, 'video_3.mp4')]);
    for (const [id, name] of before) assert.equal(after.get(id), name);
  });
});

describe('assignChannelNames', () => {
  it('sanitises, de-duplicates by id, and names empty ones', () => {
    const names = assignChannelNames([
      { id: -1001, name: 'Films' }, { id: -1002, name: 'films' }, { id: -1003, name: 'a/b' }, { id: -1004, name: '...' },
      { id: -1005, name: '.metadata_never_index' },
    ]);
    assert.deepEqual([...names.values()], ['Films', 'films (-1002)', 'a_b', 'channel_-1004', '_.metadata_never_index']);
  });
});

describe('isFinderProbe', () => {
  it('matches ._* and .DS_Store only', () => {
    assert.ok(isFinderProbe('._movie.mp4'));
    assert.ok(isFinderProbe('.DS_Store'));
    assert.ok(isFinderProbe('.ds_store'));
    assert.ok(!isFinderProbe('_._movie.mp4'));
    assert.ok(!isFinderProbe('.metadata_never_index'));
    assert.ok(!isFinderProbe('movie.mp4'));
  });
});
