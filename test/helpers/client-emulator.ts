// The emulator as a stranger meets it: `tgvfs emulator` in its own process, for MTProto clients
// that share no code with tgvfs (mtcute, Telethon). A client gets what a user of real Telegram
// gets and nothing more: the home DC's address and the key published in --config-out. A child
// process rather than startEmulator(): a packet that brings the emulator down must fail that
// client's test with the emulator's last words, not take the test runner with it.
//
// Every step a client takes runs through ClientRun, which turns any failure into one message
// naming the client, the step, the client's error and log, and what the emulator saw (calls per
// TL method, faults, its log, or how it exited), with the bot token and api hash scrubbed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config-file';
import type { DcAddress, TgvfsConfig } from '../../src/config/schema';
import type { EmulatorStats } from '../../src/emulator/types';
import { withDeadline } from '../../src/util/abort';
import { mtprotoChannelId } from '../../src/util/channel-id';
import { registerSecret, registerToken, scrubSecrets } from '../../src/util/secrets';
import { keystream, MiB } from '../../support/bytes';
import { startCli, type CliProcess } from '../../support/cli-process';

/** The DC every client is pointed at (the only address it is given). */
export const HOME_DC = 2;
/** The DC that holds the files in the "another DC" runs (`--file-dc`). */
export const FOREIGN_DC = 4;
export const CHANNEL = 'shelf';
/**
 * Message ids a client asks for, as a bot lists a channel: one call's worth (Telegram's limit of
 * 100), the posts and then ids with no message (messageEmpty). 100 ids make a request big enough
 * that both clients send it as gzip_packed: mtcute in zlib format, Telethon in gzip format.
 */
export const LIST_IDS = Array.from({ length: 100 }, (_, i) => i + 1);

/** One post of the channel as the emulator numbers it (files in name order, thumbnails skipped). */
export interface Post {
  id: number;
  name: string;
  bytes: Buffer;
}

/** What a client reports for one message of the channel. */
export interface Listed {
  id: number;
  name: string;
  size: number;
  dcId: number;
}

/** A byte range of a post, `length` bytes from `offset` (to the end when `length` is null). */
export interface ByteRange {
  what: string;
  msgId: number;
  offset: number;
  length: number | null;
}

const BIG = { id: 1, name: 'big 2.3 MiB.bin', size: 2 * MiB + 300 * 1024 + 17 };
const VIDEO = { id: 2, name: 'clip.mp4', size: 700_001 };
const EXACT = { id: 3, name: 'exact-1MiB.bin', size: MiB };
const NOTES = { id: 4, name: 'notes – é.txt', size: 1_000 };
/** The ids of LIST_IDS past the last post. */
export const ABSENT_IDS = LIST_IDS.filter((id) => id > NOTES.id);

/** The channel: parts and a short last part, a video with a thumbnail, a part-sized file, a small one. */
export function channelPosts(): Post[] {
  return [BIG, VIDEO, EXACT, NOTES].map((p) => ({ id: p.id, name: p.name, bytes: keystream(p.size, `client-emulator:${p.name}`) }));
}

/**
 * Ranges every client can ask with its own API: unaligned inside one MiB, an aligned tail to the
 * end of the file, and one across a MiB boundary (a client's ranged API may not reach that one:
 * each test says which it uses). The unaligned offset keeps `offset % 1024 <= 512`: mtcute
 * 0.30.3's downloadChunk asks too few bytes past that (its own bug, not the server's).
 */
export const RANGES: Record<'inside' | 'tail' | 'across', ByteRange> = {
  inside: { what: 'an unaligned range inside the second MiB', msgId: BIG.id, offset: MiB + 300, length: 5000 },
  tail: { what: 'the tail from an aligned offset to the end', msgId: BIG.id, offset: 3 * 512 * 1024, length: null },
  across: { what: 'a range across the first MiB boundary', msgId: BIG.id, offset: MiB - 3000, length: 7000 },
};

/** The bytes a range should hold. */
export function rangeBytes(posts: Post[], r: ByteRange): Buffer {
  const post = posts.find((p) => p.id === r.msgId);
  if (!post) throw new Error(`no post ${r.msgId}`);
  return post.bytes.subarray(r.offset, r.length === null ? undefined : r.offset + r.length);
}

/** A JPEG header with a 160×90 frame: all the emulator reads of a thumbnail. */
function fakeJpeg(): Buffer {
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x5a, 0x00, 0xa0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Buffer.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

/** Fails with the first differing offset rather than two megabytes of hex. */
export function sameBytes(actual: Uint8Array, expected: Buffer, what: string): void {
  const got = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (got.equals(expected)) return;
  let at = 0;
  while (at < got.length && at < expected.length && got[at] === expected[at]) at++;
  throw new Error(`${what}: got ${got.length} bytes, expected ${expected.length}; first difference at byte ${at}`);
}

export interface ClientEmulator {
  readonly fileDc: number;
  readonly config: TgvfsConfig;
  /** The home DC's address, as a client is given it. */
  readonly home: DcAddress;
  /** `telegram.rsaPublicKeys[0]` of --config-out, as published. */
  readonly rsaPublicKey: string;
  readonly botToken: string;
  readonly botId: number;
  /** The channel's MTProto id (what inputChannel carries). */
  readonly channelId: number;
  readonly posts: Post[];
  stats(): Promise<EmulatorStats>;
  /** What the emulator saw, for a failure message: calls, faults and log, or how it ended. */
  report(): Promise<string>;
  close(): Promise<void>;
}

const READY = /^emulator ready: admin (\S+), DCs /;

async function writeChannel(dataDir: string, posts: Post[]): Promise<void> {
  const dir = path.join(dataDir, CHANNEL);
  await mkdir(dir, { recursive: true });
  for (const p of posts) await writeFile(path.join(dir, p.name), p.bytes);
  await writeFile(path.join(dir, 'clip.jpg'), fakeJpeg());
}

function exitOf(cli: CliProcess): string | null {
  const { exitCode, signalCode } = cli.child;
  if (exitCode === null && signalCode === null) return null;
  return signalCode ? `was killed by ${signalCode}` : `exited with code ${exitCode}`;
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).map((l) => `    ${l.slice(0, 400)}`).join('\n');
}

/** `tgvfs emulator` on a fresh data folder holding CHANNEL, its files on `fileDc`. */
export async function startClientEmulator(fileDc: number): Promise<ClientEmulator> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-clients-'));
  const posts = channelPosts();
  await writeChannel(path.join(dir, 'data'), posts);
  const configOut = path.join(dir, 'config.json');
  const cli = startCli(['emulator', '--data', path.join(dir, 'data'), '--config-out', configOut, '--file-dc', String(fileDc), '--log-level', 'debug']);
  const abandon = async (): Promise<void> => {
    await cli.kill();
    await rm(dir, { recursive: true, force: true });
  };
  let adminUrl: string;
  let config: TgvfsConfig;
  try {
    adminUrl = (await cli.waitForLine(READY, 20_000))[1]!;
    config = await loadConfig(configOut);
  } catch (err) {
    await abandon();
    throw err;
  }
  const home = config.telegram?.dcs.find((d) => d.id === HOME_DC);
  const rsaPublicKey = config.telegram?.rsaPublicKeys[0];
  const botToken = config.bots[0];
  const channel = config.channels.find((c) => c.name === CHANNEL);
  if (!home || !rsaPublicKey || !botToken || !channel) {
    await abandon();
    throw new Error(`--config-out lacks DC ${HOME_DC}, a key, a bot or channel ${CHANNEL}`);
  }
  registerToken(botToken);
  registerSecret(config.apiHash);

  const stats = async (): Promise<EmulatorStats> =>
    (await (await fetch(`${adminUrl}/stats`, { signal: AbortSignal.timeout(5000) })).json()) as EmulatorStats;
  return {
    fileDc, config, home, rsaPublicKey, botToken, posts,
    botId: Number(botToken.slice(0, botToken.indexOf(':'))),
    channelId: mtprotoChannelId(channel.id),
    stats,
    async report() {
      const head = `emulator (files on DC ${fileDc})`;
      const ended = exitOf(cli);
      if (ended) return `${head} ${ended}; its stderr:\n${tail(cli.stderr(), 25)}`;
      let seen = '';
      try {
        const s = await stats();
        seen = `  calls: ${JSON.stringify(s.calls)}\n  faults: ${JSON.stringify(s.faults)}\n`;
      } catch (err) {
        seen = `  GET /stats failed: ${(err as Error).message}\n`;
      }
      return `${head} still running\n${seen}  log (last lines):\n${tail(cli.stderr(), 12)}`;
    },
    async close() {
      if (!exitOf(cli)) {
        cli.child.kill('SIGTERM');
        await cli.exit(10_000).catch(() => cli.kill());
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Step deadlines that together stay within one test file's time (< 60 s whatever happens). */
export class TimeBudget {
  private end = 0;

  constructor(private readonly totalMs: number) {}

  /** `wanted` ms, or what is left of the budget when that is less (the budget starts on first use). */
  ms(wanted: number): number {
    if (this.end === 0) this.end = Date.now() + this.totalMs;
    return Math.max(1, Math.min(wanted, this.end - Date.now()));
  }
}

/** The error's message whole, then where it came from (a few frames), then its cause. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 4);
  const cause = err.cause instanceof Error ? [`caused by ${err.cause.name}: ${err.cause.message}`] : [];
  return [`${err.name}: ${err.message}`, ...frames.map((f) => f.trim()), ...cause].join('\n');
}

/**
 * One client's session against one emulator, step by step. A step that fails (its own error, a
 * failed check, or its deadline) is reported with both sides' view; the steps after it fail at
 * once as not reached, so one broken login reads as one failure and not five timeouts.
 */
export class ClientRun {
  private failedStep: string | null = null;

  constructor(
    readonly client: string,
    readonly emulator: ClientEmulator,
    private readonly clientLog: () => string,
    private readonly budget: TimeBudget,
  ) {}

  async step<T>(name: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.failedStep !== null) throw new Error(`${this.client}: "${name}" not reached: "${this.failedStep}" failed`);
    const limit = this.budget.ms(ms);
    try {
      return await withDeadline(limit, () => new Error(`no result within ${limit} ms`), fn);
    } catch (err) {
      this.failedStep = name;
      throw new Error(await this.explain(name, err));
    }
  }

  private async explain(name: string, err: unknown): Promise<string> {
    const text = [
      `${this.client}, step "${name}" failed:`,
      `  ${describeError(err).split('\n').join('\n  ')}`,
      await this.emulator.report(),
      `${this.client}'s log (last lines):`,
      tail(this.clientLog(), 40),
    ].join('\n');
    return scrubSecrets(text);
  }
}

/** Faults of `kind` between two /stats snapshots. */
export function faultsBetween(before: EmulatorStats, after: EmulatorStats, kind: string): number {
  return (after.faults[kind] ?? 0) - (before.faults[kind] ?? 0);
}

/** The listing a client should report: every post with its name, size and the DC of its file. */
export function expectedListing(emu: ClientEmulator): Listed[] {
  return emu.posts.map((p) => ({ id: p.id, name: p.name, size: p.bytes.length, dcId: emu.fileDc }));
}
