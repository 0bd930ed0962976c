// Our own export/import of a bot's authorization to a foreign DC (gramjs/exported-senders.ts) and
// the per-DC keys kept in the session (gramjs/per-dc-session.ts), through the emulator with every
// document on DC 4 (fileDc: FILE_MIGRATE from the home DC 2):
// - `--auth-flood 3`: the 2nd export and the 2nd import answer FLOOD_WAIT_3; the worker waits the
//   3 s of the (manual) clock, once each, and asks again: exactly 3 exports and 3 imports in all,
//   2 FLOOD_WAITs, 6 s of Telegram time, bytes exact. A client that spun would make more calls
//   (the emulator refuses every call of a bot's wait, and its clock does not move by itself);
// - a restarted worker reads DC 4 with the key its saved session holds: 0 exports, 0 imports;
// - a session saved in GramJS's own format still loads (no new login) and gains DC 4's key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';
import { Api } from 'telegram';
import { StringSession } from 'telegram/sessions';
import { parseFaults } from '../src/emulator/faults';
import { Worker } from '../src/telegram';
import { PerDcSession, SESSION_PREFIX } from '../src/telegram/gramjs/per-dc-session';
import { SessionStore } from '../src/telegram/session-store';
import { raceWithSignal } from '../src/util/abort';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { ManualClock } from './helpers/manual-clock';

const SIZE = 200_000;
const PART = 256 * 1024;
const EXPORT = 'auth.exportAuthorization';
const IMPORT = 'auth.importAuthorization';

let f: EmulatorFixture | undefined;

afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** A worker of bot `index` whose own FLOOD_WAITs are waited on `clock`. */
async function startWorker(fx: EmulatorFixture, index: number, clock: ManualClock, log?: (line: string) => void): Promise<Worker> {
  const cfg = fx.emu.config;
  const w = await Worker.start({
    token: cfg.bots[index]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: cfg.sessionDir, telegram: cfg.telegram,
    requestTimeoutMs: 20_000, sleep: (ms, signal) => raceWithSignal(clock.sleep(ms), signal), log,
  });
  fx.workers.push(w);
  return w;
}

/** The whole file, read by `w` from DC 4 (one part: FILE_MIGRATE, then DC 4). */
async function readFile4(fx: EmulatorFixture, w: Worker): Promise<Buffer> {
  const doc = await w.getDocumentLocation(channelId(fx, 'one'), 1);
  assert.equal(doc.dcId, 4);
  return w.getFilePart(doc.location, 0, PART);
}

function calls(fx: EmulatorFixture, method: string): number {
  return fx.emu.stats().calls[method] ?? 0;
}

describe('export/import authorization: FLOOD_WAIT honoured, per-DC keys kept in the session', { timeout: 120_000 }, () => {
  it('--auth-flood 3: the 2nd export and import are waited 3 s each (not spun), then the read is byte-exact', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { fileDc: 4, clock, faults: { authFlood: 3 } });
    const src = f.files.get('one/a.bin')!;
    const a = await startWorker(f, 0, clock);
    assert.ok((await readFile4(f, a)).equals(src), 'first bot: byte-exact');
    assert.deepEqual([calls(f, EXPORT), calls(f, IMPORT)], [1, 1], 'the 1st export and import pass');

    const lines: string[] = [];
    const b = await startWorker(f, 1, clock, (l) => lines.push(l));
    const run = await clock.runUntil(readFile4(f, b));
    assert.ok(run.value.equals(src), 'second bot: byte-exact after the waits');
    const stats = f.emu.stats();
    assert.equal(stats.calls[EXPORT], 3, 'export: 1st ok, 2nd FLOOD_WAIT_3, 3rd after the wait');
    assert.equal(stats.calls[IMPORT], 3, 'import: 1st ok, 2nd FLOOD_WAIT_3, 3rd after the wait');
    assert.equal(stats.faults.FLOOD_WAIT, 2);
    assert.equal(run.elapsedMs, 6000, 'two waits of 3 s of Telegram time');
    assert.equal(run.steps, 2, 'one wait per FLOOD_WAIT, no 1 s polling');
    assert.ok(lines.some((l) => l.includes(`${EXPORT} for DC 4: FLOOD_WAIT of 3 s`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes(`${IMPORT} for DC 4: FLOOD_WAIT of 3 s`)), lines.join('\n'));
  });

  it('a FLOOD_WAIT being waited releases a caller that aborts, and ends when the worker stops', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { fileDc: 4, clock, faults: { authFlood: 30 } });
    await readFile4(f, await startWorker(f, 0, clock));
    const b = await startWorker(f, 1, clock);
    const doc = await b.getDocumentLocation(channelId(f, 'one'), 1);
    const reader = new AbortController();
    const read = b.getFilePart(doc.location, 0, PART, { dcId: 4, signal: reader.signal });
    assert.equal(await clock.nextWake(), 30_000, 'the worker waits the 30 s it was given');
    reader.abort(new Error('the reader went away'));
    await assert.rejects(read, /the reader went away/);
    const next = assert.rejects(b.getFilePart(doc.location, 0, PART, { dcId: 4 }), /worker stopped/);
    await b.stop();
    await next;
    assert.equal(calls(f, EXPORT), 2, 'no export after the FLOOD_WAIT: the wait was never over');
    assert.equal(calls(f, IMPORT), 1);
  });

  it('a restart with the saved session reads DC 4 with 0 exports and 0 imports', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { fileDc: 4, clock });
    const src = f.files.get('one/a.bin')!;
    const first = await startWorker(f, 0, clock);
    assert.ok((await readFile4(f, first)).equals(src));
    assert.deepEqual([calls(f, EXPORT), calls(f, IMPORT)], [1, 1]);
    await first.stop();

    const store = new SessionStore(f.emu.config.sessionDir);
    const saved = (await store.load(first.id))!;
    assert.ok(saved.startsWith(SESSION_PREFIX), 'the session is saved in the tgvfs1 format');
    const parsed = new PerDcSession(saved);
    await parsed.load();
    assert.deepEqual(parsed.foreignDcs, [4], 'it holds DC 4\'s key besides the home DC\'s');

    f.emu.resetStats();
    const again = await startWorker(f, 0, clock);
    assert.equal(again.loginKind, 'reused');
    assert.ok((await readFile4(f, again)).equals(src), 'byte-exact after the restart');
    const stats = f.emu.stats();
    assert.equal(stats.calls[EXPORT] ?? 0, 0, 'no export after a restart');
    assert.equal(stats.calls[IMPORT] ?? 0, 0, 'no import after a restart');
    assert.equal(stats.calls['auth.importBotAuthorization'] ?? 0, 0, 'no new login');
  });

  it('a dropped connection to DC 4 reconnects with the same key: no second export', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': 1 << 20 }, { fileDc: 4, clock });
    const src = f.files.get('one/a.bin')!;
    const w = await startWorker(f, 0, clock);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    f.emu.setFaults({ dropEvery: 150_000 });
    for (let off = 0; off < 8 * 65536; off += 65536) {
      assert.ok((await w.getFilePart(doc.location, off, 65536, { dcId: 4 })).equals(src.subarray(off, off + 65536)), `part at ${off}`);
    }
    const stats = f.emu.stats();
    assert.ok((stats.faults.DROP ?? 0) >= 2, `connections dropped: ${JSON.stringify(stats.faults)}`);
    assert.deepEqual([stats.calls[EXPORT], stats.calls[IMPORT]], [1, 1], 'authorized once, whatever the drops');
  });

  it('a saved DC key the DC no longer knows (404) is replaced: one export and import, then the read', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { fileDc: 4, clock });
    const src = f.files.get('one/a.bin')!;
    const first = await startWorker(f, 1, clock);
    assert.ok((await readFile4(f, first)).equals(src));
    await first.stop();
    const store = new SessionStore(f.emu.config.sessionDir);
    const json = JSON.parse(Buffer.from((await store.load(first.id))!.slice(SESSION_PREFIX.length), 'base64').toString('utf8')) as { keys: Record<string, string> };
    const forgotten = randomBytes(256).toString('base64');
    json.keys['4'] = forgotten;
    await store.save(first.id, SESSION_PREFIX + Buffer.from(JSON.stringify(json)).toString('base64'));

    f.emu.resetStats();
    const lines: string[] = [];
    const again = await startWorker(f, 1, clock, (l) => lines.push(l));
    assert.ok((await readFile4(f, again)).equals(src), 'byte-exact with a new DC 4 key');
    assert.deepEqual([calls(f, EXPORT), calls(f, IMPORT)], [1, 1], 'authorized again, once');
    assert.ok(lines.some((l) => /saved key of DC 4 is no longer authorized/.test(l)), lines.join('\n'));
    await again.stop();
    const after = new PerDcSession((await store.load(first.id))!);
    await after.load();
    assert.notEqual(after.getAuthKey(4)!.getKey()!.toString('base64'), forgotten, 'the new key replaced the forgotten one');
  });

  it('a session saved in GramJS\'s own StringSession format still loads, and gains DC 4\'s key', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { fileDc: 4, clock });
    const src = f.files.get('one/a.bin')!;
    const first = await startWorker(f, 2, clock);
    await first.stop();
    const store = new SessionStore(f.emu.config.sessionDir);
    const ours = new PerDcSession((await store.load(first.id))!);
    await ours.load();
    const legacy = new StringSession('');
    legacy.setDC(ours.dcId, ours.serverAddress!, ours.port!);
    legacy.setAuthKey(ours.getAuthKey());
    const legacyText = legacy.save();
    assert.ok(legacyText.startsWith('1'), 'GramJS format');
    await writeFile(store.pathFor(first.id), legacyText, { mode: 0o600 });

    f.emu.resetStats();
    const again = await startWorker(f, 2, clock);
    assert.equal(again.loginKind, 'reused', 'the old session is used, no new login');
    assert.equal(calls(f, 'auth.importBotAuthorization'), 0);
    assert.ok((await readFile4(f, again)).equals(src));
    assert.deepEqual([calls(f, EXPORT), calls(f, IMPORT)], [1, 1], 'DC 4 authorized once');
    await again.stop();
    const now = await readFile(store.pathFor(first.id), 'utf8');
    assert.ok(now.startsWith(SESSION_PREFIX), 'saved again in the tgvfs1 format');
    const reread = new PerDcSession(now);
    await reread.load();
    assert.deepEqual(reread.foreignDcs, [4]);
    assert.ok(reread.getAuthKey()!.getKey()!.equals(ours.getAuthKey()!.getKey()!), 'same home key');
  });
});

describe('a second sender to the home DC (GramJS\'s uploads ask for one)', { timeout: 60_000 }, () => {
  it('uses the home key: no export, no import, and the session keeps its key', async () => {
    const clock = new ManualClock();
    f = await startFixture({ 'one/a.bin': SIZE }, { clock });
    const w = await startWorker(f, 0, clock);
    const home = w.homeDcId;
    const key = w.client.session.getAuthKey()!.getKey()!;
    const me = await w.client.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }), home);
    assert.equal(me[0]?.id.toString(), String(w.id));
    assert.deepEqual([calls(f, EXPORT), calls(f, IMPORT)], [0, 0]);
    assert.ok(w.client.session.getAuthKey()!.getKey()!.equals(key));
    assert.ok(w.sessionString().startsWith(SESSION_PREFIX));
  });
});

describe('PerDcSession strings', () => {
  it('refuses strings in neither format, as StringSession does', () => {
    assert.throws(() => new PerDcSession('nonsense'), /Not a valid string/);
    assert.throws(() => new PerDcSession(`${SESSION_PREFIX}${Buffer.from('{"homeDc":2}').toString('base64')}`), /Not a valid string/);
    assert.throws(() => new PerDcSession(`${SESSION_PREFIX}!!!`), /Not a valid string/);
  });
});

describe('--auth-flood through POST /faults', () => {
  it('parses authFlood seconds and refuses a negative one', () => {
    assert.deepEqual(parseFaults({ authFlood: 3 }), { authFlood: 3 });
    assert.throws(() => parseFaults({ authFlood: -1 }), /authFlood must be a number/);
  });
});
