// `tgvfs doctor`: checks what tgvfs needs (the config, FUSE, the cache store, every bot token,
// every channel as seen by every bot, the clock against Telegram's) and returns one row per
// check. No terminal code here: cli/doctor-command.ts prints the rows. No row ever holds a
// secret: bots are named by id (and @username), store URLs lose their credentials.
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { raceWithDeadline } from '../util/abort';
import { describeBot, readServerClock } from '../telegram/diagnostics';
import { ChannelInaccessibleError, FloodWaitError, InvalidTokenError, MessageNotFoundError, TelegramConnectionError, TelegramRpcError } from '../telegram/errors';
import { TgvfsError, errorLine } from '../util/errors';
import { openKeyvStore } from '../telegram/metadata-cache';
import { parseBotId } from '../telegram/bot-token';
import { Worker } from '../telegram/worker';
import type { ChannelConfig, TgvfsConfig } from '../config/schema';
import { ConfigError, loadConfig } from '../config/config-file';
import { findExecutable } from './find-executable';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

/** One line of the doctor's table. */
export interface CheckRow {
  /** What kind of check: `config`, `fuse`, `cache`, `bot`, `channel`, `clock`. */
  check: string;
  /** What was checked, e.g. `/dev/fuse`, `bot 123`, `films via bot 123`. Never a secret. */
  target: string;
  status: CheckStatus;
  /** The finding, or what to do about it. One line. */
  detail: string;
}

export interface FuseProbeOptions {
  /** @default '/dev/fuse' */
  devicePath?: string;
  /** Where `fusermount` is looked for. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Loads fuse-native (which loads libfuse.so.2). @default require('fuse-native') */
  loadFuseNative?: () => unknown;
}

export interface DoctorOptions {
  /**
   * Longest wait for each network check (a bot's login, a channel, the store, the clock).
   * @default 15000
   */
  timeoutMs?: number;
  /** FUSE checks: false skips them (a WebDAV-only host). @default true */
  fuse?: boolean | FuseProbeOptions;
  /** The local clock in ms, compared with Telegram's. @default Date.now */
  now?: () => number;
  /** Lines from the workers (logins, session reuse); never a secret. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export const FUSE_INSTALL_HINT = 'install libfuse2 and fuse (apt-get install -y libfuse2 fuse)';
/** Clock skew (seconds) above which the clock row warns, and above which it fails. */
export const CLOCK_WARN_S = 10;
export const CLOCK_FAIL_S = 60;
/** A store round trip slower than this is worth a warning. */
const SLOW_STORE_MS = 1000;
const DEFAULT_TIMEOUT_MS = 15_000;

/** True when any row FAILs (the doctor's exit code is then 1). */
export function hasFailure(rows: readonly CheckRow[]): boolean {
  return rows.some((r) => r.status === 'FAIL');
}

class DeadlineError extends TgvfsError {
  constructor(what: string, ms: number) {
    super('TIMEOUT', `no answer within ${Math.round(ms / 1000)} s (${what})`);
  }
}

/** `promise` within `ms`; what it yields after giving up goes to `dispose` (closed, not leaked). */
function within<T>(promise: Promise<T>, ms: number, what: string, dispose: (late: T) => unknown, signal?: AbortSignal): Promise<T> {
  return raceWithDeadline(promise, ms, () => new DeadlineError(what, ms), { signal, dispose });
}

// ---- config -------------------------------------------------------------------------------

/**
 * Loads the config file and returns its rows (one per problem when invalid) and the config
 * (undefined when it cannot be used). A file others can read holds bot tokens: a warning.
 * `load` may merge other sources (flags, TGVFS_* variables); it gets the file's absolute path.
 */
export async function checkConfigFile(
  file: string,
  load: (file: string) => Promise<TgvfsConfig> = loadConfig,
): Promise<{ rows: CheckRow[]; config: TgvfsConfig | undefined }> {
  file = path.resolve(file);
  let config: TgvfsConfig;
  try {
    config = await load(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      const hint = (p: string): string => (p.endsWith('no such file') ? `${p} (give --config FILE, or set TGVFS_CONFIG)` : p);
      const target = err.file ?? file;
      // The target column names the file already: drop the `<file>: ` the problem lines start with.
      const bare = (p: string): string => (p.startsWith(`${target}: `) ? p.slice(target.length + 2) : p);
      return { rows: err.problems.map((p) => ({ check: 'config', target, status: 'FAIL', detail: hint(bare(p)) })), config: undefined };
    }
    return { rows: [{ check: 'config', target: file, status: 'FAIL', detail: errorLine(err) }], config: undefined };
  }
  const detail = `${config.bots.length} bot(s), ${config.channels.length} channel(s)`;
  const mode = await stat(file).then((s) => s.mode & 0o777, () => undefined);
  // A loader that reads TGVFS_* variables may need no file at all.
  if (mode === undefined) return { rows: [{ check: 'config', target: 'environment', status: 'OK', detail }], config };
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    return { rows: [{ check: 'config', target: file, status: 'WARN', detail: `${detail}; it holds bot tokens and others can read it (mode ${octal}): chmod 600 ${file}` }], config };
  }
  return { rows: [{ check: 'config', target: file, status: 'OK', detail }], config };
}

// ---- FUSE ---------------------------------------------------------------------------------

/** /dev/fuse present and openable, fusermount on PATH, fuse-native (libfuse.so.2) loadable. */
export async function checkFuse(options: FuseProbeOptions = {}): Promise<CheckRow[]> {
  const device = options.devicePath ?? '/dev/fuse';
  const rows: CheckRow[] = [];
  try {
    const st = await stat(device);
    if (!st.isCharacterDevice()) throw Object.assign(new Error('not a character device'), { code: 'ENODEV' });
    await (await open(device, fsConstants.O_RDWR)).close();
    rows.push({ check: 'fuse', target: device, status: 'OK', detail: 'present and openable' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'not openable by this user (permission denied)' : errorLine(err);
    const container = code === 'ENOENT' ? '; in a container, also pass --device /dev/fuse --cap-add SYS_ADMIN' : '';
    rows.push({ check: 'fuse', target: device, status: 'FAIL', detail: `${why}: ${FUSE_INSTALL_HINT}${container}` });
  }
  const fusermount = findExecutable('fusermount', options.env ?? process.env);
  rows.push(
    fusermount
      ? { check: 'fuse', target: 'fusermount', status: 'OK', detail: fusermount }
      : { check: 'fuse', target: 'fusermount', status: 'FAIL', detail: `not on PATH: ${FUSE_INSTALL_HINT}` },
  );
  try {
    // Loading fuse-native loads libfuse.so.2 (dlopen): a missing library throws here.
    (options.loadFuseNative ?? ((): unknown => require('fuse-native')))();
    rows.push({ check: 'fuse', target: 'libfuse.so.2', status: 'OK', detail: 'fuse-native loads' });
  } catch (err) {
    rows.push({ check: 'fuse', target: 'libfuse.so.2', status: 'FAIL', detail: `fuse-native does not load (${errorLine(err)}): ${FUSE_INSTALL_HINT}` });
  }
  return rows;
}

// ---- cache store --------------------------------------------------------------------------

/** A keyv URL for people: a sqlite path, or scheme://host:port without credentials or query. */
export function describeStoreUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return '(not a URL)';
  if (scheme === 'sqlite' || scheme === 'memory') return url;
  try {
    const u = new URL(url);
    return `${scheme}://${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return `${scheme}://…`;
  }
}

/** Opens the store, sets, reads back and deletes a probe key, timed. */
export async function checkCacheStore(url: string, timeoutMs = DEFAULT_TIMEOUT_MS, signal?: AbortSignal): Promise<CheckRow> {
  const target = describeStoreUrl(url);
  const t0 = performance.now();
  let keyv: Awaited<ReturnType<typeof openKeyvStore>>['keyv'] | undefined;
  const swallow = (): void => undefined;
  try {
    ({ keyv } = await within(openKeyvStore(url, 'tgvfs-doctor'), timeoutMs, 'opening the store', (late) => late.keyv.disconnect(), signal));
    // Connection errors are reported by the calls below; keyv's emitter must not throw them.
    keyv.on('error', swallow);
    const opened = performance.now();
    const key = `probe:${randomBytes(8).toString('hex')}`;
    const value = { at: Date.now(), nonce: randomBytes(8).toString('hex') };
    const store = keyv;
    const step = <T>(p: Promise<T>, what: string): Promise<T> => within(p, timeoutMs, what, () => undefined, signal);
    await step(store.set(key, value), 'set');
    const back: unknown = await step(store.get(key), 'get');
    const deleted = await step(store.delete(key), 'delete');
    const after: unknown = await step(store.get(key), 'get after delete');
    const ms = performance.now() - opened;
    const same = typeof back === 'object' && back !== null && JSON.stringify(back) === JSON.stringify(value);
    if (!same) return { check: 'cache', target, status: 'FAIL', detail: 'a value written could not be read back' };
    if (!deleted || after !== undefined) return { check: 'cache', target, status: 'FAIL', detail: 'a value could not be deleted' };
    const timing = `opened in ${fmtMs(opened - t0)}, set/get/delete in ${fmtMs(ms)}`;
    if (ms > SLOW_STORE_MS) return { check: 'cache', target, status: 'WARN', detail: `slow: ${timing}` };
    return { check: 'cache', target, status: 'OK', detail: timing };
  } catch (err) {
    return { check: 'cache', target, status: 'FAIL', detail: withoutUrlSecrets(errorLine(err), url) };
  } finally {
    if (keyv) {
      await keyv.disconnect().catch(() => undefined);
      keyv.off('error', swallow);
    }
  }
}

/** `text` with the URL's password, user and query (which may hold a token) replaced by `***`. */
function withoutUrlSecrets(text: string, url: string): string {
  let parts: string[] = [];
  try {
    const u = new URL(url);
    parts = [u.password, decodeURIComponent(u.password), u.username, u.search.slice(1)];
  } catch {
    // not a URL: nothing in it is known to be secret
  }
  let out = text.split(url).join(describeStoreUrl(url));
  for (const p of parts) if (p.length >= 3) out = out.split(p).join('***');
  return out;
}

function fmtMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

// ---- bots ---------------------------------------------------------------------------------

/** A failed login, as what to do about it. */
export function loginFailureDetail(err: unknown): string {
  if (err instanceof InvalidTokenError) return `token refused by Telegram (${err.reason}): check it with @BotFather`;
  if (err instanceof FloodWaitError) {
    return `flood wait: Telegram asks this bot to wait ${formatDuration(err.waitSeconds)} before logging in again (${err.waitSeconds} s)`;
  }
  if (err instanceof TelegramRpcError && (err.code === 'API_ID_INVALID' || err.code === 'API_ID_PUBLISHED_FLOOD')) {
    return `apiId/apiHash refused by Telegram (${err.code}): check them at my.telegram.org`;
  }
  if (err instanceof TelegramConnectionError || err instanceof DeadlineError) return unreachable(err);
  return errorLine(err);
}

/** A connection failure without the parts the row already says (which worker, "connection"). */
function unreachable(err: TgvfsError): string {
  const why = errorLine(err).replace(/^connection to Telegram failed: /, '').replace(/ \[[^\]]*\]$/, '');
  return `Telegram unreachable: ${why}`;
}

/** `47 min`, `2 h 5 min`, `30 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.ceil((seconds % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

interface BotResult {
  id: number;
  row: CheckRow;
  worker?: Worker;
  username?: string;
}

async function checkBot(config: TgvfsConfig, token: string, session: string | undefined, timeoutMs: number, log: (line: string) => void, signal?: AbortSignal): Promise<BotResult> {
  let id: number;
  try {
    id = parseBotId(token);
  } catch (err) {
    return { id: 0, row: { check: 'bot', target: 'bot ?', status: 'FAIL', detail: loginFailureDetail(err) } };
  }
  const target = `bot ${id}`;
  let worker: Worker | undefined;
  try {
    const starting = Worker.start({
      token, session, apiId: config.apiId, apiHash: config.apiHash, sessionDir: config.sessionDir, telegram: config.telegram,
      proxy: config.proxy, ipv6: config.ipv6, log, requestTimeoutMs: timeoutMs, connectionRetries: 1,
    });
    worker = await within(starting, timeoutMs, 'logging in', (late) => late.stop(), signal);
    const me = await within(describeBot(worker, timeoutMs, signal), timeoutMs, 'users.getUsers', () => undefined, signal);
    const who = me.username ? `@${me.username}` : 'no username';
    const login = worker.loginKind === 'reused' ? 'saved session' : 'new login (session saved)';
    const detail = `${who}, DC ${worker.homeDcId}, ${worker.transport}, ${login}`;
    return { id, worker, username: me.username, row: { check: 'bot', target, status: 'OK', detail } };
  } catch (err) {
    await worker?.stop().catch(() => undefined);
    if (signal?.aborted) throw err;
    return { id, row: { check: 'bot', target, status: 'FAIL', detail: loginFailureDetail(err) } };
  }
}

// ---- channels -----------------------------------------------------------------------------

function botName(bot: BotResult): string {
  return bot.username ? `@${bot.username}` : `bot ${bot.id}`;
}

/** Why a bot cannot read a channel, as what to do about it. */
export function channelFailureDetail(err: unknown, bot: string, channel: ChannelConfig): string {
  if (err instanceof ChannelInaccessibleError) {
    const idHint = err.reason === 'CHANNEL_INVALID' ? `, or the channel id ${channel.id} is wrong` : '';
    return `add bot ${bot} as an admin of channel ${channel.name} (Telegram says ${err.reason}${idHint})`;
  }
  if (err instanceof FloodWaitError) return `flood wait: Telegram asks this bot to wait ${formatDuration(err.waitSeconds)} (${err.waitSeconds} s)`;
  if (err instanceof TelegramConnectionError || err instanceof DeadlineError) return unreachable(err);
  return errorLine(err);
}

async function checkChannel(bot: BotResult, channel: ChannelConfig, timeoutMs: number, signal?: AbortSignal): Promise<CheckRow> {
  const target = `${channel.name} via bot ${bot.id}`;
  const worker = bot.worker;
  if (!worker) return { check: 'channel', target, status: 'WARN', detail: `not checked: bot ${bot.id} did not log in` };
  try {
    // channels.getChannels (the bot's access hash), then channels.getMessages of one id: what
    // indexing and every read need. A deleted or empty message 1 still proves access.
    await within(worker.resolveChannel(channel.id, signal), timeoutMs, 'channels.getChannels', () => undefined, signal);
    const found = await within(
      worker.getMessage(channel.id, 1, signal).then(() => true, (err: unknown) => {
        if (err instanceof MessageNotFoundError) return false;
        throw err;
      }),
      timeoutMs,
      'channels.getMessages',
      () => undefined,
      signal,
    );
    const first = found ? 'message 1 read' : 'message 1 is no post: deleted, or a service message';
    return { check: 'channel', target, status: 'OK', detail: `${botName(bot)} can read it (${first})` };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { check: 'channel', target, status: 'FAIL', detail: channelFailureDetail(err, botName(bot), channel) };
  }
}

// ---- clock --------------------------------------------------------------------------------

/**
 * The clock row for a measured skew (ms; positive: the local clock is ahead). MTProto refuses
 * messages more than ~300 s off; logins and file references misbehave well before.
 */
export function clockRow(skewMs: number, target: string): CheckRow {
  const s = Math.abs(skewMs) / 1000;
  const side = skewMs > 0 ? 'ahead of' : 'behind';
  const text = s < 1 ? 'local clock within 1 s of Telegram\'s' : `local clock ${s.toFixed(1)} s ${side} Telegram's`;
  if (s > CLOCK_FAIL_S) return { check: 'clock', target, status: 'FAIL', detail: `${text}: set the time (e.g. enable NTP: timedatectl set-ntp true)` };
  if (s > CLOCK_WARN_S) return { check: 'clock', target, status: 'WARN', detail: `${text} (over ${CLOCK_WARN_S} s): enable NTP (timedatectl set-ntp true)` };
  return { check: 'clock', target, status: 'OK', detail: text };
}

async function checkClock(bots: BotResult[], timeoutMs: number, now: () => number, signal?: AbortSignal): Promise<CheckRow> {
  const worker = bots.find((b) => b.worker)?.worker;
  if (!worker) return { check: 'clock', target: 'Telegram', status: 'WARN', detail: 'not checked: no bot could log in' };
  const target = `Telegram DC ${worker.homeDcId}`;
  try {
    const c = await within(readServerClock(worker, timeoutMs, now, signal), timeoutMs, 'help.getConfig', () => undefined, signal);
    // Config.date is whole seconds: the server's time is somewhere in [date, date + 1).
    const serverMs = c.serverSeconds * 1000 + 500;
    const localMs = (c.sentAtMs + c.receivedAtMs) / 2;
    return clockRow(localMs - serverMs, target);
  } catch (err) {
    if (signal?.aborted) throw err;
    return { check: 'clock', target, status: 'FAIL', detail: `cannot read Telegram's time: ${errorLine(err)}` };
  }
}

// ---- all of it ----------------------------------------------------------------------------

/** Every check over a loaded config: FUSE, the store, bots, channels × bots, the clock. */
export async function runDoctor(config: TgvfsConfig, options: DoctorOptions = {}): Promise<CheckRow[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = options.log ?? ((): void => undefined);
  const { signal } = options;
  const fuse = options.fuse ?? true;
  const [fuseRows, cacheRow, bots] = await Promise.all([
    fuse === false ? Promise.resolve([]) : checkFuse(fuse === true ? {} : fuse),
    checkCacheStore(config.cache, timeoutMs, signal),
    Promise.all(config.bots.map((t, i) => checkBot(config, t, config.sessions?.[i], timeoutMs, log, signal))),
  ]);
  try {
    // Each bot's channels one after another (a real account should not burst), bots in parallel.
    const perBot = await Promise.all(bots.map(async (bot) => {
      const rows: CheckRow[] = [];
      for (const channel of config.channels) rows.push(await checkChannel(bot, channel, timeoutMs, signal));
      return rows;
    }));
    const channelRows = config.channels.flatMap((_, c) => perBot.map((rows) => rows[c]!));
    const clock = await checkClock(bots, timeoutMs, options.now ?? Date.now, signal);
    return [...fuseRows, cacheRow, ...bots.map((b) => b.row), ...channelRows, clock];
  } finally {
    await Promise.all(bots.map((b) => b.worker?.stop().catch(() => undefined)));
  }
}

/**
 * The config row(s) then, when the config can be used, every other check; with an unusable
 * config, the FUSE checks still run (they need no config).
 */
export async function diagnoseConfigFile(
  file: string,
  options: DoctorOptions & { load?: (file: string) => Promise<TgvfsConfig> } = {},
): Promise<CheckRow[]> {
  const { rows, config } = await checkConfigFile(file, options.load);
  if (!config) {
    const fuse = options.fuse ?? true;
    return [...rows, ...(fuse === false ? [] : await checkFuse(fuse === true ? {} : fuse))];
  }
  return [...rows, ...(await runDoctor(config, options))];
}
