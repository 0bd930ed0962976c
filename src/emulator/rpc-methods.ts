// One small handler per TL method, each enforcing Telegram's rules for that method
// (DESIGN.md, "Telegram rules"). Handlers throw RpcFault for rpc_error answers.
import { randomBytes } from 'node:crypto';
import type { DcAddress } from '../config/schema';
import type { AuthFloodMethod, AuthFloodState } from './auth-flood';
import type { AuthKeyRecord, AuthKeyStore } from './auth-keys';
import { unixSeconds, type EmulatorClock } from './clock';
import type { FileReader } from './file-reader';
import { getFileFault, MISALIGNED, misaligned } from './getfile-faults';
import type { Stats } from './stats';
import { tl, type TlObject, type TlValue } from './tl';
import { channelDifference } from './channel-difference';
import { messageObject } from './content-objects';
import { resolveLocation } from './file-locations';
import { channelObject, emptyMessage, NOTIFY_SETTINGS, userObject } from './tl-objects';
import { tlBytesHeader, tlBytesPadding } from './tl-bytes';
import type { FaultSettings } from './types';
import { World, type Bot, type EmuChannel } from './world';

export class RpcFault extends Error {
  constructor(readonly errorCode: number, readonly errorMessage: string) {
    super(`${errorCode} ${errorMessage}`);
  }
}

/** A result written straight into the outgoing message (file content: no intermediate copy). */
export interface RawResult {
  readonly kind: 'raw';
  readonly length: number;
  fill(target: Buffer, offset: number): Promise<void>;
}

/** A handler's answer: a TL value written as the method's result type says, or raw bytes. */
export type RpcResult = TlValue | RawResult;

export function isRawResult(r: RpcResult): r is RawResult {
  return typeof r === 'object' && r !== null && (r as Partial<RawResult>).kind === 'raw';
}

export interface RpcContext {
  world: World;
  stats: Stats;
  faults: FaultSettings;
  clock: EmulatorClock;
  dcId: number;
  dcs: DcAddress[];
  /** The API layer the client declared (answers are written in it). */
  layer: number;
  authKey: AuthKeyRecord;
  authKeys: AuthKeyStore;
  files: FileReader;
  /** Authorization bytes exported on one DC, to be imported on another: hex → bot id. */
  exported: Map<string, number>;
  /** Waits and counts of `--auth-flood`. */
  authFlood: AuthFloodState;
}

/** A request as read by the TL codec: the method's fields by their schema names. */
type Request = TlObject;
type Handler = (req: Request, ctx: RpcContext) => Promise<RpcResult> | RpcResult;

const handlers = new Map<string, Handler>();

/** Registers the handler of one TL method, by its schema name (`upload.getFile`). */
function method(name: string, fn: Handler): void {
  handlers.set(name, fn);
}

export function findHandler(name: string): Handler | undefined {
  return handlers.get(name);
}

function bigintOf(v: TlValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new RpcFault(400, 'INPUT_FETCH_ERROR');
}

function objectOf(v: TlValue): TlObject | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) ? (v as TlObject) : null;
}

function listOf(v: TlValue): TlValue[] {
  return Array.isArray(v) ? v : [];
}

function loggedIn(ctx: RpcContext): Bot {
  const bot = ctx.authKey.userId === null ? undefined : ctx.world.botById(ctx.authKey.userId);
  if (!bot) throw new RpcFault(401, 'AUTH_KEY_UNREGISTERED');
  return bot;
}

/** The file reference epoch at `nowMs` (references rotate with `--expire-refs`). */
export function referenceEpoch(faults: FaultSettings, nowMs: number): number {
  return faults.expireRefs > 0 ? Math.floor(nowMs / 1000 / faults.expireRefs) : 0;
}

function refEpoch(ctx: RpcContext): number {
  return referenceEpoch(ctx.faults, ctx.clock.now());
}

/**
 * Resolves an InputChannel the way Telegram does for a bot: a member may pass hash 0 or its own
 * hash; a bot that is not a member of the private channel gets CHANNEL_PRIVATE, whatever the hash.
 */
function inputChannel(ctx: RpcContext, bot: Bot, value: TlValue): EmuChannel {
  const input = objectOf(value);
  if (input?._ !== 'inputChannel') throw new RpcFault(400, 'CHANNEL_INVALID');
  const channel = ctx.world.channels.get(Number(bigintOf(input.channel_id)));
  if (!channel) throw new RpcFault(400, 'CHANNEL_INVALID');
  const hash = bigintOf(input.access_hash);
  if (hash !== 0n && hash !== ctx.world.channelAccessHash(bot, channel.id)) throw new RpcFault(400, 'CHANNEL_INVALID');
  if (!ctx.world.isMember(bot, channel.id)) throw new RpcFault(400, 'CHANNEL_PRIVATE');
  return channel;
}

method('help.getConfig', (_req, ctx) => {
  const now = unixSeconds(ctx.clock);
  return {
    _: 'config', date: now, expires: now + 3600, test_mode: false, this_dc: ctx.dcId,
    dc_options: ctx.dcs.map((d) => ({ _: 'dcOption', id: d.id, ip_address: d.host, port: d.port, ipv6: d.host.includes(':') || undefined })),
    dc_txt_domain_name: 'emulator.invalid', chat_size_max: 200, megagroup_size_max: 200000, forwarded_count_max: 100,
    online_update_period_ms: 210000, offline_blur_timeout_ms: 5000, offline_idle_timeout_ms: 30000, online_cloud_timeout_ms: 300000,
    notify_cloud_delay_ms: 30000, notify_default_delay_ms: 1500, push_chat_period_ms: 60000, push_chat_limit: 2, saved_gifs_limit: 200,
    edit_time_limit: 172800, revoke_time_limit: 172800, revoke_pm_time_limit: 172800, rating_e_decay: 2419200, stickers_recent_limit: 200,
    stickers_faved_limit: 5, channels_read_media_period: 604800, pinned_dialogs_count_max: 5, pinned_infolder_count_max: 100,
    call_receive_timeout_ms: 20000, call_ring_timeout_ms: 90000, call_connect_timeout_ms: 30000, call_packet_timeout_ms: 10000,
    me_url_prefix: 'https://t.me/', caption_length_max: 1024, message_length_max: 4096, webfile_dc_id: 4,
  };
});

/**
 * A bot's common update state (private messages, which the emulator has none of): pts 1 for
 * ever; updates.getDifference agrees with it. Channel events go through getChannelDifference.
 */
function commonState(ctx: RpcContext): TlObject {
  return { _: 'updates.state', pts: COMMON_PTS, qts: 0, date: unixSeconds(ctx.clock), seq: 0, unread_count: 0 };
}

const COMMON_PTS = 1;

method('updates.getState', (_req, ctx) => {
  loggedIn(ctx);
  return commonState(ctx);
});

/** As Telegram answers a bot with nothing new: differenceEmpty at the current pts; a pts from the future is refused. */
method('updates.getDifference', (req, ctx) => {
  loggedIn(ctx);
  const pts = Number(req.pts);
  if (pts > COMMON_PTS) throw new RpcFault(400, 'PERSISTENT_TIMESTAMP_INVALID');
  const state = commonState(ctx);
  if (pts === COMMON_PTS) return { _: 'updates.differenceEmpty', date: state.date, seq: state.seq };
  return { _: 'updates.difference', new_messages: [], new_encrypted_messages: [], other_updates: [], chats: [], users: [], state };
});

method('auth.importBotAuthorization', (req, ctx) => {
  if (req.api_id !== ctx.world.apiId || req.api_hash !== ctx.world.apiHash) throw new RpcFault(400, 'API_ID_INVALID');
  const bot = ctx.world.botByToken(String(req.bot_auth_token));
  if (!bot) throw new RpcFault(400, 'ACCESS_TOKEN_INVALID');
  ctx.authKeys.bind(ctx.authKey, bot.id);
  return { _: 'auth.authorization', user: userObject(bot, true) };
});

/** `--auth-flood`: FLOOD_WAIT for every other export/import of an authorization (auth-flood.ts). */
function authFlood(ctx: RpcContext, method: AuthFloodMethod, botId: number): void {
  const wait = ctx.authFlood.check(method, botId, ctx.faults.authFlood, ctx.clock);
  if (wait <= 0) return;
  ctx.stats.fault('FLOOD_WAIT');
  throw new RpcFault(420, `FLOOD_WAIT_${wait}`);
}

method('auth.exportAuthorization', (req, ctx) => {
  const bot = loggedIn(ctx);
  if (!ctx.dcs.some((d) => d.id === req.dc_id)) throw new RpcFault(400, 'DC_ID_INVALID');
  authFlood(ctx, 'auth.exportAuthorization', bot.id);
  const bytes = randomBytes(32);
  ctx.exported.set(bytes.toString('hex'), bot.id);
  return { _: 'auth.exportedAuthorization', id: BigInt(bot.id), bytes };
});

method('auth.importAuthorization', (req, ctx) => {
  const key = Buffer.isBuffer(req.bytes) ? req.bytes.toString('hex') : '';
  const botId = ctx.exported.get(key);
  if (botId === undefined || BigInt(botId) !== bigintOf(req.id)) throw new RpcFault(400, 'AUTH_BYTES_INVALID');
  // Refused bytes stay valid: the client imports them again once the wait is over.
  authFlood(ctx, 'auth.importAuthorization', botId);
  ctx.exported.delete(key);
  const bot = ctx.world.botById(botId);
  if (!bot) throw new RpcFault(400, 'AUTH_BYTES_INVALID');
  ctx.authKeys.bind(ctx.authKey, bot.id);
  return { _: 'auth.authorization', user: userObject(bot, true) };
});

method('users.getUsers', (req, ctx) => {
  const me = loggedIn(ctx);
  const out: TlObject[] = [];
  for (const u of listOf(req.id).map(objectOf)) {
    if (u?._ === 'inputUserSelf') out.push(userObject(me, true));
    else if (u?._ === 'inputUser') {
      const other = ctx.world.botById(Number(bigintOf(u.user_id)));
      out.push(other ? userObject(other, other.id === me.id) : { _: 'userEmpty', id: bigintOf(u.user_id) });
    }
  }
  return out;
});

method('channels.getChannels', (req, ctx) => {
  const bot = loggedIn(ctx);
  const chats = listOf(req.id).map((input) => channelObject(ctx.world, inputChannel(ctx, bot, input), bot));
  return { _: 'messages.chats', chats };
});

method('channels.getFullChannel', (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  return {
    _: 'messages.chatFull',
    full_chat: {
      _: 'channelFull', id: BigInt(channel.id), about: '', participants_count: ctx.world.bots.length + 1,
      read_inbox_max_id: channel.topMessage, read_outbox_max_id: channel.topMessage, unread_count: 0,
      chat_photo: { _: 'photoEmpty', id: 0n }, notify_settings: NOTIFY_SETTINGS, bot_info: [], pts: channel.pts,
    },
    chats: [channelObject(ctx.world, channel, bot)],
    users: [],
  };
});

method('channels.getMessages', (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  const ids = listOf(req.id);
  if (ids.length > 100) throw new RpcFault(400, 'LIMIT_INVALID');
  const epoch = refEpoch(ctx);
  const messages = ids.map((value) => {
    const input = objectOf(value);
    const id = input?._ === 'inputMessageID' ? Number(input.id) : 0;
    const msg = channel.messages.get(id);
    return msg ? messageObject(ctx.world, bot, channel, msg, epoch) : emptyMessage(channel, id);
  });
  return {
    _: 'messages.channelMessages', pts: channel.pts, count: messages.length, messages, topics: [],
    chats: [channelObject(ctx.world, channel, bot)], users: [],
  };
});

method('messages.getHistory', (_req, ctx) => {
  loggedIn(ctx);
  throw new RpcFault(400, 'BOT_METHOD_INVALID');
});

/**
 * As Telegram answers a bot that is a channel admin (channel-difference.ts): empty, a slice of
 * the events after `pts` (`final: false` until caught up), or TooLong for a pts older than the
 * channel's log. A pts from the future is PERSISTENT_TIMESTAMP_INVALID.
 */
method('updates.getChannelDifference', (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  const pts = Number(req.pts);
  if (pts > channel.pts) throw new RpcFault(400, 'PERSISTENT_TIMESTAMP_INVALID');
  return channelDifference({ world: ctx.world, bot, channel, pts, limit: Number(req.limit), slice: ctx.faults.differenceSlice, epoch: refEpoch(ctx) });
});

const MiB = 1 << 20;

/** Telegram's getFile rules: 4 KiB alignment (1 KiB with precise), at most 1 MiB, within one MiB. */
export function checkGetFileRange(offset: number, limit: number, precise: boolean): string | null {
  const unit = precise ? 1024 : 4096;
  if (offset < 0 || offset % unit !== 0) return 'OFFSET_INVALID';
  if (limit <= 0 || limit % unit !== 0 || limit > MiB) return 'LIMIT_INVALID';
  if (!precise && MiB % limit !== 0) return 'LIMIT_INVALID';
  if (Math.floor(offset / MiB) !== Math.floor((offset + limit - 1) / MiB)) return 'LIMIT_INVALID';
  return null;
}

method('upload.getFile', (req, ctx) => {
  const bot = loggedIn(ctx);
  const now = ctx.clock.now();
  if (bot.floodUntil > now) {
    ctx.stats.fault('FLOOD_WAIT');
    throw new RpcFault(420, `FLOOD_WAIT_${Math.ceil((bot.floodUntil - now) / 1000)}`);
  }
  bot.getFileCalls++;
  const flood = ctx.faults.floodWait;
  if (flood && flood.every > 0 && bot.getFileCalls % flood.every === 0) {
    bot.floodUntil = now + flood.seconds * 1000;
    ctx.stats.fault('FLOOD_WAIT');
    throw new RpcFault(420, `FLOOD_WAIT_${flood.seconds}`);
  }
  const offset = Number(bigintOf(req.offset));
  const limit = Number(req.limit);
  const bad = checkGetFileRange(offset, limit, req.precise === true);
  if (bad) throw new RpcFault(400, bad);
  if (misaligned(ctx.faults, offset, limit)) {
    ctx.stats.fault(MISALIGNED.message);
    throw new RpcFault(MISALIGNED.code, MISALIGNED.message);
  }
  const source = resolveLocation(ctx.world, bot, objectOf(req.location), refEpoch(ctx), ctx.dcId);
  if ('error' in source) {
    if (source.fault) ctx.stats.fault(source.fault);
    throw new RpcFault(source.error, source.message);
  }
  const fault = getFileFault(ctx.world, ctx.faults, bot.id, ctx.dcId);
  if (fault) {
    ctx.stats.fault(fault.message);
    throw new RpcFault(fault.code, fault.message);
  }
  const count = Math.max(0, Math.min(limit, source.size - offset));
  ctx.stats.served(count);
  return fileResult(ctx, source, offset, count, source.mtime);
});

/** upload.file written straight into the outgoing message (ids of the client's layer). */
function fileResult(ctx: RpcContext, src: { path: string; type: string }, offset: number, count: number, mtime: number): RawResult {
  const header = tlBytesHeader(count);
  const length = 12 + header.length + count + tlBytesPadding(count);
  const uploadFile = tl().pick('upload.file', ctx.layer).id;
  const fileType = tl().pick(src.type, ctx.layer).id;
  return {
    kind: 'raw',
    length,
    async fill(target, at) {
      target.writeUInt32LE(uploadFile, at);
      target.writeUInt32LE(fileType, at + 4);
      target.writeInt32LE(mtime, at + 8);
      header.copy(target, at + 12);
      const start = at + 12 + header.length;
      const got = count ? await ctx.files.read(src.path, offset, target, start, count) : 0;
      // A file that shrank under us: pad with zeros rather than send garbage.
      target.fill(0, start + got, at + length);
    },
  };
}
