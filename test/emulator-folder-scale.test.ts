// The emulator scales with the data folder: adding one file to a folder of 50,000 costs a few
// stats and one journal line (not a stat per file and a rewrite of state.json), and the post is
// pushed to the bots as soon as fs.watch tells.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../src/emulator';
import type { EmulatorHandle } from '../src/emulator/types';
import { Worker } from '../src/telegram';
import type { ChannelUpdate } from '../src/telegram/channel-updates';

const FILES = 50_000;

describe('a folder of 50,000 files', () => {
  let dir: string;
  let emu: EmulatorHandle;
  let worker: Worker;

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tgvfs-test-'));
    const big = path.join(dir, 'data', 'big');
    fs.mkdirSync(big, { recursive: true });
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(big, `f${String(i).padStart(6, '0')}.txt`), 'x');
    emu = await startEmulator({ dataDir: path.join(dir, 'data'), bots: 1, configOut: path.join(dir, 'config.json') });
    const c = emu.config;
    worker = await Worker.start({ token: c.bots[0]!, apiId: c.apiId, apiHash: c.apiHash, sessionDir: path.join(dir, 'sessions'), telegram: c.telegram });
  });

  after(async () => {
    await worker?.stop();
    await emu?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('a new file costs a few stats and a journal line, and is pushed', async (t) => {
    const channel = emu.config.channels[0]!.id;
    const stateDir = path.join(dir, 'data', '.tgvfs-emulator');
    const snapshot = fs.statSync(path.join(stateDir, 'state.json'));
    const pushed = new Promise<ChannelUpdate>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the new post was not pushed in 20 s')), 20_000);
      const off = worker.onUpdate((u) => {
        if (u.kind !== 'changes' || u.channel !== channel) return;
        clearTimeout(timer);
        off();
        resolve(u);
      });
    });
    // Every stat the emulator makes goes through fs/promises' stat (looked up at each call).
    const promises = fsp as { stat: typeof fsp.stat };
    const realStat = promises.stat;
    let stats = 0;
    promises.stat = ((...args: Parameters<typeof fsp.stat>) => {
      stats++;
      return realStat(...args);
    }) as typeof fsp.stat;
    try {
      const start = performance.now();
      fs.writeFileSync(path.join(dir, 'data', 'big', 'new-post.txt'), 'hello');
      const u = await pushed;
      t.diagnostic(`pushed ${(performance.now() - start).toFixed(0)} ms after the write (200 ms of it the watcher's quiet period), ${stats} stat calls`);
      assert.equal(u.kind, 'changes');
      if (u.kind === 'changes') {
        assert.equal(u.changes.length, 1);
        const c = u.changes[0]!;
        assert.equal(c.kind === 'upsert' ? c.msgId : 0, FILES + 1);
        assert.equal(c.kind === 'upsert' ? c.doc?.name : '', 'new-post.txt');
      }
      assert.ok(stats <= 10, `stat calls for one new file: ${stats}`);
    } finally {
      promises.stat = realStat;
    }
    // state.json untouched; the change is one line of the journal.
    assert.equal(fs.statSync(path.join(stateDir, 'state.json')).mtimeMs, snapshot.mtimeMs);
    const journal = fs.readFileSync(path.join(stateDir, 'state.journal'), 'utf8').trim().split('\n');
    assert.equal(journal.length, 1);
    assert.match(journal[0]!, /"new-post\.txt":\[50001,/);
  });

  it('a restart replays the journal: the new file keeps its message id', async (t) => {
    await worker.stop();
    await emu.close();
    emu = await startEmulator({ dataDir: path.join(dir, 'data'), bots: 1, configOut: path.join(dir, 'config.json'), watch: false });
    const c = emu.config;
    worker = await Worker.start({ token: c.bots[0]!, apiId: c.apiId, apiHash: c.apiHash, sessionDir: path.join(dir, 'sessions'), telegram: c.telegram });
    const msgs = await worker.getMessages(c.channels[0]!.id, [FILES, FILES + 1, FILES + 2]);
    // For comparison (a figure, not a bound): reading the whole folder, as POST /rescan does.
    const start = performance.now();
    await emu.rescan();
    t.diagnostic(`a whole-folder rescan of ${FILES + 1} files: ${(performance.now() - start).toFixed(0)} ms`);
    assert.deepEqual(msgs.map((m) => [m.msgId, m.doc?.name ?? null]), [[FILES, 'f049999.txt'], [FILES + 1, 'new-post.txt'], [FILES + 2, null]]);
  });
});
