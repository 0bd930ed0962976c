// Telethon (Debian's python3-telethon 1.25.1, TL layer 144), an MTProto client that shares no code
// with tgvfs, against the emulator: test/helpers/telethon-client.py, run with /usr/bin/python3,
// configures it through its public API only (telethon.crypto.rsa.add_key for the published key,
// session.set_dc for the home DC's address), logs in with a bot token, lists the channel the way
// a bot can (channels.getChannels, then channels.getMessages over ids), downloads every file whole
// and byte ranges; then, against an emulator whose files live on DC 4, follows FILE_MIGRATE
// (download_media and download_file ask the home DC) and downloads ranges straight from DC 4
// (iter_download takes the document's dc_id), both through an exported authorization. The
// script reports each step; each test here checks one step (bytes compared here, with the data
// folder's), with Telethon's error and log and the emulator's view when it fails.
//
// Telethon missing: skipped with a message, except under CI=true, where it fails.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../support/cli-process';
import { run } from '../support/programs';
import {
  ABSENT_IDS, ClientRun, expectedListing, FOREIGN_DC, HOME_DC, LIST_IDS, RANGES, rangeBytes, sameBytes, startClientEmulator,
  TimeBudget, type ByteRange, type ClientEmulator, type Listed,
} from './helpers/client-emulator';

const PYTHON = '/usr/bin/python3';
const TELETHON = '/usr/lib/python3/dist-packages/telethon/__init__.py';
const SCRIPT = path.join(repoRoot, 'test/helpers/telethon-client.py');
const CLIENT = "Debian's Telethon 1.25.1";
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing (apt-get install -y python3 python3-telethon; .ci/run installs them)`
  : !existsSync(TELETHON) ? `Debian's Telethon is missing (apt-get install -y python3-telethon; .ci/run installs it)` : null;
const skip = missing && process.env.CI !== 'true' ? `${missing}: Telethon tests skipped` : false;

/** The script's fixed steps (telethon-client.py names them the same). */
const KEY = 'take the published key';
const LOGIN = 'log in with the bot token';
const LIST = 'list the channel';

interface Outcome {
  step: string;
  ok: boolean;
  data?: unknown;
  error?: string;
  trace?: string;
}

interface Download {
  step: string;
  kind: 'whole' | 'range' | 'home';
  msgId: number;
  offset?: number;
  length?: number | null;
}

function wholeSteps(emu: ClientEmulator): Download[] {
  return emu.posts.map((p) => ({ step: `download message ${p.id} whole`, kind: 'whole', msgId: p.id }));
}

function rangeStep(r: ByteRange): Download {
  return { step: `download ${r.what}`, kind: 'range', msgId: r.msgId, offset: r.offset, length: r.length };
}

/** One run of the script against one emulator, then what it reported, step by step. */
class TelethonRun {
  private readonly outcomes = new Map<string, Outcome>();
  private log = '';
  private ended = '';
  readonly run: ClientRun;

  constructor(readonly emu: ClientEmulator, private readonly budget: TimeBudget) {
    this.run = new ClientRun(CLIENT, emu, () => this.log, budget);
  }

  /** Runs the whole plan; never throws for what Telethon did (each test reads its step). */
  async execute(downloads: Download[], outDir: string): Promise<void> {
    const ms = this.budget.ms(25_000);
    const plan = {
      dc: this.emu.home, rsa_public_key: this.emu.rsaPublicKey, api_id: this.emu.config.apiId, api_hash: this.emu.config.apiHash,
      bot_token: this.emu.botToken, channel_id: this.emu.channelId, list_ids: LIST_IDS, downloads, out_dir: outDir,
      // Each step's deadline, within what is left for the whole run (the script keeps 4 s to start and close).
      seconds: { key: 2, login: 15, list: 8, download: 8, total: Math.max(1, (ms - 4000) / 1000) },
    };
    try {
      const r = await run(PYTHON, [SCRIPT], { input: JSON.stringify(plan), timeoutMs: ms, check: false });
      this.log = r.stderr;
      this.ended = `the script exited with ${r.code ?? r.signal}`;
      for (const line of r.stdout.toString('utf8').split('\n')) {
        if (line.startsWith('{')) {
          const o = JSON.parse(line) as Outcome;
          this.outcomes.set(o.step, o);
        }
      }
    } catch (err) {
      this.ended = (err as Error).message;
    }
  }

  /** What the script reported for `step`; throws Telethon's error when the step failed or never ran. */
  data(step: string): unknown {
    const o = this.outcomes.get(step);
    if (!o) throw new Error(`the script did not reach this step (${this.ended})`);
    if (!o.ok) {
      const trace = (o.trace ?? '').trim().split('\n').slice(-8).join('\n');
      throw new Error(`Telethon: ${o.error ?? 'failed'}\nits traceback (innermost last):\n${trace}`);
    }
    return o.data;
  }

  /** Checks the bytes a download step saved against `expected`. */
  async saved(step: string, expected: Buffer): Promise<void> {
    const { file } = this.data(step) as { file: string };
    sameBytes(await readFile(file), expected, step);
  }
}

/** Starts the emulator, runs the script with `downloads` and keeps what it reported. */
function telethonRun(fileDc: number, budget: TimeBudget, downloads: (emu: ClientEmulator) => Download[]): () => TelethonRun {
  let emu: ClientEmulator | null = null;
  let outDir = '';
  let t: TelethonRun | null = null;
  before(async () => {
    if (missing) throw new Error(`${missing}; CI=true: Telethon must be there`);
    emu = await startClientEmulator(fileDc);
    outDir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-telethon-'));
    t = new TelethonRun(emu, budget);
    await t.execute(downloads(emu), outDir);
  });
  after(async () => {
    await emu?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });
  return () => t ?? assert.fail('no run: the emulator did not start');
}

/** The steps every run takes: the key, the login (once), the listing. */
function loginAndList(session: () => TelethonRun): void {
  it('takes the published key as it is (telethon.crypto.rsa.add_key)', async () => {
    const t = session();
    await t.run.step(KEY, 1000, async () => void t.data(KEY));
  });

  it('logs in with the bot token, once (auth.importBotAuthorization)', async () => {
    const t = session();
    await t.run.step(LOGIN, 1000, async () => {
      assert.deepEqual(t.data(LOGIN), { id: t.emu.botId, bot: true });
      assert.equal((await t.emu.stats()).calls['auth.importBotAuthorization'], 1, 'one bot login');
    });
  });

  it('lists the channel: channels.getChannels, then channels.getMessages over ids (names, sizes, DC)', async () => {
    const t = session();
    await t.run.step(LIST, 1000, async () => {
      const { listed, absent } = t.data(LIST) as { listed: Listed[]; absent: number[] };
      assert.deepEqual(listed, expectedListing(t.emu));
      assert.deepEqual(absent, ABSENT_IDS, 'ids past the last post are messageEmpty');
      const calls = (await t.emu.stats()).calls;
      assert.ok((calls['channels.getChannels'] ?? 0) >= 1 && (calls['channels.getMessages'] ?? 0) >= 1, JSON.stringify(calls));
    });
  });
}

async function checkWhole(t: TelethonRun): Promise<void> {
  for (const [i, d] of wholeSteps(t.emu).entries()) await t.saved(d.step, t.emu.posts[i]!.bytes);
}

async function checkRanges(t: TelethonRun, ranges: ByteRange[]): Promise<void> {
  for (const r of ranges) await t.saved(rangeStep(r).step, rangeBytes(t.emu.posts, r));
}

const ALL_RANGES = [RANGES.inside, RANGES.tail, RANGES.across];
const HOME_DOWNLOAD: Download = { step: `download message 1 asking DC ${HOME_DC}`, kind: 'home', msgId: 1 };

describe(`${CLIENT} (layer 144) against the emulator, given only the DC address and the published key`, { skip }, () => {
  const budget = new TimeBudget(55_000);

  describe(`files on the home DC ${HOME_DC}`, () => {
    const session = telethonRun(HOME_DC, budget, (emu) => [...wholeSteps(emu), ...ALL_RANGES.map(rangeStep)]);

    loginAndList(session);

    it('downloads every file whole, byte-exact (download_media)', async () => {
      const t = session();
      await t.run.step('download every file whole', 2000, async () => checkWhole(t));
    });

    it('downloads byte ranges, byte-exact (iter_download with an offset)', async () => {
      const t = session();
      await t.run.step('download byte ranges', 2000, async () => checkRanges(t, ALL_RANGES));
    });
  });

  describe(`files on another DC (--file-dc ${FOREIGN_DC}): exported authorization, FILE_MIGRATE`, () => {
    const session = telethonRun(FOREIGN_DC, budget, (emu) => [HOME_DOWNLOAD, ...wholeSteps(emu), ...ALL_RANGES.map(rangeStep)]);

    loginAndList(session);

    it(`follows FILE_MIGRATE_${FOREIGN_DC} when it asks the home DC (download_file), byte-exact`, async () => {
      const t = session();
      await t.run.step('follow FILE_MIGRATE', 2000, async () => {
        await t.saved(HOME_DOWNLOAD.step, t.emu.posts[0]!.bytes);
        assert.ok(((await t.emu.stats()).faults.FILE_MIGRATE ?? 0) >= 1, 'the home DC answered FILE_MIGRATE');
      });
    });

    it(`downloads whole files stored on DC ${FOREIGN_DC} (download_media; auth.exportAuthorization, auth.importAuthorization), byte-exact`, async () => {
      const t = session();
      await t.run.step(`download whole files from DC ${FOREIGN_DC}`, 2000, async () => {
        await checkWhole(t);
        const calls = (await t.emu.stats()).calls;
        assert.ok((calls['auth.exportAuthorization'] ?? 0) >= 1 && (calls['auth.importAuthorization'] ?? 0) >= 1, JSON.stringify(calls));
      });
    });

    it(`downloads byte ranges straight from DC ${FOREIGN_DC} (iter_download with the document's dc_id), byte-exact`, async () => {
      const t = session();
      await t.run.step(`download byte ranges from DC ${FOREIGN_DC}`, 2000, async () => checkRanges(t, ALL_RANGES));
    });
  });
});
