// mtcute (npm @mtcute/node 0.30.3, TL layer 227), an MTProto client that shares no code with tgvfs,
// against the emulator, configured through its public API only: the home DC's address as
// `defaultDcs` and the published key through `addPublicKey` (@mtcute/node/utils.js), nothing else.
// It logs in with a bot token, lists the channel the way a bot can (mtcute's getMessages resolves
// the channel with channels.getChannels, then calls channels.getMessages over ids), downloads every
// file whole and byte ranges, byte-exact; then, against an emulator whose files live on DC 4, it
// downloads through auth.exportAuthorization/importAuthorization and follows FILE_MIGRATE.
// Each step has a deadline and fails with mtcute's error and log and the emulator's view.
//
// mtcute missing: skipped with a message, except under CI=true, where it fails.
import assert from 'node:assert/strict';
import { format } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Message, RawDocument, TelegramClient } from '@mtcute/node';
import {
  ABSENT_IDS, ClientRun, expectedListing, faultsBetween, FOREIGN_DC, HOME_DC, LIST_IDS, RANGES, rangeBytes, sameBytes,
  startClientEmulator, TimeBudget, type ByteRange, type ClientEmulator, type Listed,
} from './helpers/client-emulator';
import { callsBetween } from './helpers/webdav-fixture';

type Mtcute = typeof import('@mtcute/node');
type MtcuteUtils = typeof import('@mtcute/node/utils.js');

const CLIENT = 'mtcute 0.30.3';
const missing = ((): string | null => {
  try {
    require.resolve('@mtcute/node');
    return null;
  } catch (err) {
    return `@mtcute/node is not installed (${(err as Error).message.split('\n')[0]}): npm ci installs it (devDependencies)`;
  }
})();
const skip = missing && process.env.CI !== 'true' ? `${missing}; mtcute tests skipped` : false;

const LOG_NAMES = ['', 'ERR', 'WRN', 'INF', 'DBG', 'VRB'];
const VERBOSE = 5;

/** mtcute's log lines (verbose: every TL object sent and received), the last few hundred. */
class ClientLog {
  private readonly lines: string[] = [];

  add(level: number, tag: string, fmt: string, args: unknown[]): void {
    this.lines.push(`${LOG_NAMES[level] ?? level} [${tag}] ${format(fmt, ...args)}`.slice(0, 600));
    if (this.lines.length > 300) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** One mtcute client against one emulator: its run of steps, its log, the errors it reported. */
class MtcuteSession {
  readonly log = new ClientLog();
  readonly run: ClientRun;
  readonly errors: Error[] = [];
  tg: TelegramClient | null = null;
  readonly docs = new Map<number, RawDocument>();

  constructor(private readonly lib: { mt: Mtcute; utils: MtcuteUtils }, readonly emu: ClientEmulator, budget: TimeBudget) {
    this.run = new ClientRun(CLIENT, emu, () => this.log.text(), budget);
  }

  /** The published key, as it is: mtcute parses PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`). */
  addKey(): void {
    const { utils } = this.lib;
    utils.addPublicKey(new utils.NodeCryptoProvider(), this.emu.rsaPublicKey);
  }

  /** A client with in-memory storage whose only DC is the home DC's address. */
  open(): TelegramClient {
    const { mt } = this.lib;
    const dc = { id: this.emu.home.id, ipAddress: this.emu.home.host, port: this.emu.home.port };
    const tg = new mt.TelegramClient({
      apiId: this.emu.config.apiId,
      apiHash: this.emu.config.apiHash,
      storage: new mt.MemoryStorage(),
      defaultDcs: { main: dc, media: dc },
      logLevel: VERBOSE,
    });
    tg.log.mgr.handler = (_color, level, tag, fmt, args) => this.log.add(level, tag, fmt, args);
    tg.onError.add((err) => this.errors.push(err));
    this.tg = tg;
    return tg;
  }

  client(): TelegramClient {
    if (!this.tg) throw new Error('no client: the login step did not run');
    return this.tg;
  }

  /** Lists LIST_IDS; keeps each post's document for the downloads. */
  async list(): Promise<{ listed: Listed[]; absent: number[] }> {
    const chatId = this.emu.config.channels[0]!.id;
    const msgs: (Message | null)[] = await this.client().getMessages(chatId, LIST_IDS);
    const listed: Listed[] = [];
    const absent: number[] = [];
    for (const [i, m] of msgs.entries()) {
      if (!m) {
        absent.push(LIST_IDS[i]!);
        continue;
      }
      const doc = m.media;
      if (!(doc instanceof this.lib.mt.RawDocument)) throw new Error(`message ${m.id} has no document (media: ${doc?.type ?? 'none'})`);
      this.docs.set(m.id, doc);
      listed.push({ id: m.id, name: doc.fileName ?? '(no name)', size: doc.fileSize ?? -1, dcId: doc.dcId ?? -1 });
    }
    return { listed, absent };
  }

  doc(msgId: number): RawDocument {
    const d = this.docs.get(msgId);
    if (!d) throw new Error(`message ${msgId} was not listed`);
    return d;
  }

  async close(): Promise<void> {
    const tg = this.tg;
    this.tg = null;
    if (tg) await Promise.race([tg.destroy(), new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => undefined);
  }
}

async function loadMtcute(): Promise<{ mt: Mtcute; utils: MtcuteUtils }> {
  if (missing) throw new Error(`${missing}; CI=true: mtcute must be there`);
  return { mt: await import('@mtcute/node'), utils: await import('@mtcute/node/utils.js') };
}

/** A range with mtcute's ranged calls: downloadChunk (precise, within one part) or an offset download. */
async function downloadRange(s: MtcuteSession, r: ByteRange, signal: AbortSignal): Promise<void> {
  const doc = s.doc(r.msgId);
  const got = r.length === null
    ? await s.client().downloadAsBuffer(doc, { offset: r.offset, abortSignal: signal })
    : await s.client().downloadChunk({ location: doc, offset: r.offset, limit: r.length, dcId: doc.dcId, abortSignal: signal });
  sameBytes(got, rangeBytes(s.emu.posts, r), `${r.what} of message ${r.msgId}`);
}

/** The steps every run takes: the key, the login (once), the listing. */
function loginAndList(session: () => MtcuteSession): void {
  it('takes the published key as it is (addPublicKey with telegram.rsaPublicKeys[0])', async () => {
    const s = session();
    await s.run.step('take the published key', 2000, async () => s.addKey());
  });

  it('logs in with the bot token, once (auth.importBotAuthorization)', async () => {
    const s = session();
    await s.run.step('log in with the bot token', 15_000, async () => {
      const me = await s.open().start({ botToken: s.emu.botToken });
      assert.equal(me.id, s.emu.botId, 'logged in as the bot of the token');
      assert.equal(me.isBot, true);
      const calls = (await s.emu.stats()).calls;
      assert.equal(calls['auth.importBotAuthorization'], 1, 'one bot login for one start()');
    });
  });

  it('lists the channel: channels.getChannels, then channels.getMessages over ids (names, sizes, DC)', async () => {
    const s = session();
    await s.run.step('list the channel', 8000, async () => {
      const before = await s.emu.stats();
      const { listed, absent } = await s.list();
      assert.deepEqual(listed, expectedListing(s.emu));
      assert.deepEqual(absent, ABSENT_IDS, 'ids past the last post are messageEmpty');
      const calls = callsBetween(before, await s.emu.stats());
      assert.ok((calls['channels.getChannels'] ?? 0) >= 1 && (calls['channels.getMessages'] ?? 0) >= 1, JSON.stringify(calls));
    });
  });
}

/** mtcute reported no error to the application (a server that speaks MTProto as Telegram does). */
function reportsNoError(session: () => MtcuteSession): void {
  it('reported no error to the application (onError)', async () => {
    const s = session();
    await s.run.step('report no error', 1000, async () => {
      assert.deepEqual(s.errors.map((e) => `${e.name}: ${e.message}`), []);
    });
  });
}

describe(`${CLIENT} (layer 227) against the emulator, given only the DC address and the published key`, { skip }, () => {
  const budget = new TimeBudget(55_000);

  describe(`files on the home DC ${HOME_DC}`, () => {
    let emu: ClientEmulator | null = null;
    let s: MtcuteSession | null = null;
    const session = (): MtcuteSession => s ?? assert.fail('no session: the emulator did not start');

    before(async () => {
      const lib = await loadMtcute();
      emu = await startClientEmulator(HOME_DC);
      s = new MtcuteSession(lib, emu, budget);
    });
    after(async () => {
      await s?.close();
      await emu?.close();
    });

    loginAndList(session);

    it('downloads every file whole, byte-exact', async () => {
      const ss = session();
      await ss.run.step('download every file whole', 10_000, async (signal) => {
        for (const p of ss.emu.posts) {
          sameBytes(await ss.client().downloadAsBuffer(ss.doc(p.id), { abortSignal: signal }), p.bytes, `message ${p.id} (${p.name})`);
        }
      });
    });

    it('downloads byte ranges, byte-exact (downloadChunk inside a part, an offset download to the end)', async () => {
      const ss = session();
      await ss.run.step('download byte ranges', 8000, async (signal) => {
        for (const r of [RANGES.inside, RANGES.tail]) await downloadRange(ss, r, signal);
      });
    });

    reportsNoError(session);
  });

  describe(`files on another DC (--file-dc ${FOREIGN_DC}): exported authorization, FILE_MIGRATE`, () => {
    let emu: ClientEmulator | null = null;
    let s: MtcuteSession | null = null;
    const session = (): MtcuteSession => s ?? assert.fail('no session: the emulator did not start');

    before(async () => {
      const lib = await loadMtcute();
      emu = await startClientEmulator(FOREIGN_DC);
      s = new MtcuteSession(lib, emu, budget);
    });
    after(async () => {
      await s?.close();
      await emu?.close();
    });

    loginAndList(session);

    it(`downloads whole files from DC ${FOREIGN_DC} (auth.exportAuthorization, auth.importAuthorization), byte-exact`, async () => {
      const ss = session();
      await ss.run.step(`download whole files from DC ${FOREIGN_DC}`, 10_000, async (signal) => {
        for (const p of ss.emu.posts) {
          sameBytes(await ss.client().downloadAsBuffer(ss.doc(p.id), { abortSignal: signal }), p.bytes, `message ${p.id} (${p.name})`);
        }
        const calls = (await ss.emu.stats()).calls;
        assert.ok((calls['auth.exportAuthorization'] ?? 0) >= 1 && (calls['auth.importAuthorization'] ?? 0) >= 1, JSON.stringify(calls));
      });
    });

    it(`follows FILE_MIGRATE_${FOREIGN_DC} when it asks the home DC first, byte-exact`, async () => {
      const ss = session();
      await ss.run.step('follow FILE_MIGRATE', 8000, async (signal) => {
        const before = await ss.emu.stats();
        const big = ss.emu.posts[0]!;
        sameBytes(await ss.client().downloadAsBuffer(ss.doc(big.id), { dcId: HOME_DC, abortSignal: signal }), big.bytes, `message ${big.id} asked at DC ${HOME_DC}`);
        assert.ok(faultsBetween(before, await ss.emu.stats(), 'FILE_MIGRATE') >= 1, 'the home DC answered FILE_MIGRATE');
      });
    });

    it(`downloads byte ranges from DC ${FOREIGN_DC}, byte-exact`, async () => {
      const ss = session();
      await ss.run.step(`download byte ranges from DC ${FOREIGN_DC}`, 8000, async (signal) => {
        for (const r of [RANGES.inside, RANGES.tail]) await downloadRange(ss, r, signal);
      });
    });

    reportsNoError(session);
  });
});
