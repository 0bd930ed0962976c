// `tgvfs index --config FILE` against the emulator: exit codes, summary, and a catalog that a
// later process lists without asking Telegram.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog } from '../src/catalog';
import { startCli } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

async function runIndex(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(['index', ...args]);
  try {
    const { code } = await p.exit(30_000);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    await p.kill();
  }
}

describe('tgvfs index', () => {
  let f: EmulatorFixture;
  let configFile: string;

  before(async () => {
    const files: Record<string, number> = { 'docs/one.pdf': 100, 'docs/two.txt': 5, 'docs/three.bin': 7 };
    for (let i = 0; i < 250; i++) files[`media/clip${String(i).padStart(3, '0')}.mp4`] = 64;
    f = await startFixture(files, { watch: false });
    configFile = path.join(f.dir, 'config.json');
  });

  after(async () => {
    await f?.close();
  });

  it('indexes every channel, exits 0, and a second catalog lists the files with no upstream call', async () => {
    const r = await runIndex(['--config', configFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^docs: 3 files$/m);
    assert.match(r.stdout, /^media: 250 files$/m);
    assert.match(r.stdout, /^indexed 2 of 2 channel\(s\), 253 files$/m);
    // Not a terminal: plain progress lines.
    assert.match(r.stderr, /tgvfs index: media: 250\/250 ids read, 250 files/);
    assert.equal(f.emu.stats().calls['channels.getMessages'], 1 + 3);

    const cfg = f.emu.config;
    const before = f.emu.stats().calls;
    const catalog = await Catalog.open({ store: cfg.cache, channels: cfg.channels });
    try {
      const media = await catalog.files(cfg.channels.find((c) => c.name === 'media')!.id);
      assert.equal(media.length, 250);
      assert.deepEqual([media[0]!.name, media[0]!.size, media[0]!.mimeType], ['clip000.mp4', 64, 'video/mp4']);
      const docs = await catalog.files(cfg.channels.find((c) => c.name === 'docs')!.id);
      assert.deepEqual(docs.map((d) => d.name), ['one.pdf', 'three.bin', 'two.txt']);
    } finally {
      await catalog.close();
    }
    assert.deepEqual(f.emu.stats().calls, before);

    // Again: the saved sessions and pts make it one getChannelDifference per channel.
    f.emu.resetStats();
    const again = await runIndex(['--config', configFile]);
    assert.equal(again.code, 0, again.stderr);
    const calls = f.emu.stats().calls;
    assert.equal(calls['channels.getMessages'], undefined);
    assert.equal(calls['updates.getChannelDifference'], 2);
    assert.equal(calls['auth.importBotAuthorization'], undefined);
  });

  it('catches up over sliced differences and says how many updates it applied', async () => {
    for (let i = 0; i < 12; i++) await writeFile(path.join(f.dataDir, 'media', `late${String(i).padStart(2, '0')}.mp4`), 'late');
    await f.emu.rescan();
    f.emu.setFaults({ differenceSlice: 5 });
    try {
      f.emu.resetStats();
      const r = await runIndex(['--config', configFile]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^media: 262 files$/m);
      assert.match(r.stderr, /tgvfs index: media: 12 updates applied, caught up, 262 files/);
      // docs: nothing new (one call); media: slices of 5, 5 and 2.
      assert.deepEqual(f.emu.stats().calls['updates.getChannelDifference'], 1 + 3);
      assert.equal(f.emu.stats().calls['channels.getMessages'], undefined);
    } finally {
      f.emu.setFaults({ differenceSlice: 0 });
    }
  });

  it('a bad config exits 2 with one line per problem, never showing a token', async () => {
    const bad = path.join(f.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ apiId: 'x', apiHash: 'h', bots: ['12345:short-secret-value'], channels: [{ id: 5, name: 'a/b' }], sessionDir: 's' }));
    const r = await runIndex(['--config', bad]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.some((l) => /apiId must be a positive integer/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /bots\[0\] must be a bot token/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /channels\[0\]\.id must be/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /channels\[0\]\.name must be/.test(l)), r.stderr);
    assert.ok(!r.stderr.includes('short-secret-value'));
    assert.equal(r.stdout, '');

    const missing = await runIndex(['--config', path.join(f.dir, 'nowhere.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nowhere\.json: no such file/);
  });

  it('a runtime failure is one line and exit 1, with no token secret', async () => {
    const cfg = { ...f.emu.config, bots: ['7999999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] };
    const wrong = path.join(f.dir, 'wrong-token.json');
    await writeFile(wrong, JSON.stringify(cfg));
    const r = await runIndex(['--config', wrong]);
    assert.equal(r.code, 1, r.stderr);
    // Log lines (a worker that could not start) come first; the error is the last line.
    const lines = r.stderr.trim().split('\n');
    assert.equal(
      lines.at(-1),
      'tgvfs index: no bot could log in: bot 1 (id 7999999999): the token was refused by Telegram (ACCESS_TOKEN_INVALID): check it with @BotFather (/mybots → API Token)',
    );
    assert.equal(lines.filter((l) => /no bot could log in/.test(l)).length, 1, r.stderr);
    // Every other line is a JSON log line (stderr is not a terminal).
    for (const l of lines.slice(0, -1)) assert.equal(typeof (JSON.parse(l) as { msg: unknown }).msg, 'string', l);
    assert.ok(!r.stderr.includes('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
  });
});
