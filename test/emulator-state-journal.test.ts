// The emulator's state as a snapshot plus a journal (state-journal.ts): a change is one line,
// a restart replays the lines of the snapshot's generation, a line torn by a crash is dropped,
// and lines a snapshot already holds (a crash before the journal was emptied) are not replayed.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StateJournal, type JournalledState } from '../src/emulator/state-journal';

describe('emulator state journal', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-test-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fresh = (): JournalledState => ({ channels: { ch: { id: 1, files: { 'a.txt': 1 }, top: 1, pts: 2, stamps: { 'a.txt': '1:1' } } } });

  it('a change is one line; a restart sees it; a torn last line is dropped', async () => {
    const j = new StateJournal(dir);
    const state = fresh();
    await j.snapshot(state);
    const ch = state.channels.ch!;
    ch.files['b.txt'] = 2;
    ch.stamps!['b.txt'] = '5:9';
    ch.top = 2;
    ch.pts = 3;
    await j.record(state, 'ch', ['b.txt']);
    delete ch.files['a.txt'];
    ch.pts = 4;
    await j.record(state, 'ch', ['a.txt']);
    const lines = (await readFile(path.join(dir, 'state.journal'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2);
    await appendFile(path.join(dir, 'state.journal'), '{"g":1,"c":"ch","id":1,"top":9,"pts":99,"f":{"z.txt":[9,');

    const loaded = await new StateJournal(dir).load<JournalledState>();
    assert.deepEqual(loaded?.channels.ch, { id: 1, files: { 'b.txt': 2 }, top: 2, pts: 4, stamps: { 'b.txt': '5:9' } });
    assert.equal(loaded?.gen, 1);
  });

  it('lines of an older generation are not replayed over a newer snapshot', async () => {
    const j = new StateJournal(dir);
    const state = fresh();
    await j.snapshot(state); // gen 1
    const journal = await readFile(path.join(dir, 'state.journal'), 'utf8');
    // A journal line of generation 0 left behind by a crash between rename and truncation.
    await writeFile(path.join(dir, 'state.journal'), `${journal}{"g":0,"c":"ch","id":1,"top":1,"pts":7,"f":{"a.txt":null}}\n`);
    const loaded = await new StateJournal(dir).load<JournalledState>();
    assert.deepEqual(loaded?.channels.ch?.files, { 'a.txt': 1 });
    assert.equal(loaded?.channels.ch?.pts, 2);
  });

  it('a journal that outgrows the snapshot is folded into a new one', async () => {
    const j = new StateJournal(dir);
    const state = fresh();
    await j.snapshot(state);
    const gen = state.gen!;
    const ch = state.channels.ch!;
    // Lines of ~2 KiB each: past 1 MiB the journal becomes a snapshot.
    const long = 'x'.repeat(2000);
    for (let i = 0; i < 600; i++) {
      ch.files[`${long}${i}`] = i + 10;
      await j.record(state, 'ch', [`${long}${i}`]);
    }
    assert.ok(state.gen! > gen, 'a new snapshot was taken');
    const loaded = await new StateJournal(dir).load<JournalledState>();
    assert.equal(Object.keys(loaded!.channels.ch!.files).length, 601);
  });
});
