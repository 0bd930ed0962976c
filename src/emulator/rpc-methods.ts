// One small handler per TL method, each enforcing Telegram's rules for that method
// (DESIGN.md, "Telegram rules"). Handlers throw RpcFault for rpc_error answers.
import { randomBytes } from 'node:crypto';
import { Api } from 'telegram';
import type { DcAddress } from '../config/schema';
import type { AuthKeyRecord, AuthKeyStore } from './auth-keys';
import { unixSeconds, type EmulatorClock } from './clock';
import type { FileReader } from './file-reader';
import type { Stats } from './stats';
import { channelObject, checkFileReference, emptyMessage, long, messageObject, userObject } from './tl-objects';
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
  readonly length: number;
  fill(target: Buffer, offset: number): Promise<void>;
}

export type RpcResult = { getBytes(): Buffer } | RawResult;

export interface RpcContext {
  world: World;
  stats: Stats;
  faults: FaultSettings;
  clock: EmulatorClock;
  dcId: number;
  dcs: DcAddress[];
  authKey: AuthKeyRecord;
  authKeys: AuthKeyStore;
  files: FileReader;
  /** Authorization bytes exported on one DC, to be imported on another: hex → bot id. */
  exported: Map<string, number>;
}

type Handler<T> = (req: T, ctx: RpcContext) => Promise<RpcResult> | RpcResult;
interface TlClass<T> {
  CONSTRUCTOR_ID: number;
  new (...args: never[]): T;
}

const handlers = new Map<number, Handler<never>>();

function method<T>(cls: TlClass<T>, fn: Handler<T>): void {
  handlers.set(cls.CONSTRUCTOR_ID, fn as Handler<never>);
}

export function findHandler(constructorId: number): Handler<unknown> | undefined {
  return handlers.get(constructorId) as Handler<unknown> | undefined;
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
function inputChannel(ctx: RpcContext, bot: Bot, input: unknown): EmuChannel {
  if (!(input instanceof Api.InputChannel)) throw new RpcFault(400, 'CHANNEL_INVALID');
  const channel = ctx.world.channels.get(Number(input.channelId.toString()));
  if (!channel) throw new RpcFault(400, 'CHANNEL_INVALID');
  const hash = BigInt(input.accessHash.toString());
  if (hash !== 0n && hash !== ctx.world.channelAccessHash(bot, channel.id)) throw new RpcFault(400, 'CHANNEL_INVALID');
  if (!ctx.world.isMember(bot, channel.id)) throw new RpcFault(400, 'CHANNEL_PRIVATE');
  return channel;
}

method(Api.help.GetConfig, (_req, ctx) => {
  const now = unixSeconds(ctx.clock);
  return new Api.Config({
    date: now, expires: now + 3600, testMode: false, thisDc: ctx.dcId,
    dcOptions: ctx.dcs.map((d) => new Api.DcOption({ id: d.id, ipAddress: d.host, port: d.port })),
    dcTxtDomainName: 'emulator.invalid', chatSizeMax: 200, megagroupSizeMax: 200000, forwardedCountMax: 100,
    onlineUpdatePeriodMs: 210000, offlineBlurTimeoutMs: 5000, offlineIdleTimeoutMs: 30000, onlineCloudTimeoutMs: 300000,
    notifyCloudDelayMs: 30000, notifyDefaultDelayMs: 1500, pushChatPeriodMs: 60000, pushChatLimit: 2, editTimeLimit: 172800,
    revokeTimeLimit: 172800, revokePmTimeLimit: 172800, ratingEDecay: 2419200, stickersRecentLimit: 200,
    channelsReadMediaPeriod: 604800, callReceiveTimeoutMs: 20000, callRingTimeoutMs: 90000, callConnectTimeoutMs: 30000,
    callPacketTimeoutMs: 10000, meUrlPrefix: 'https://t.me/', captionLengthMax: 1024, messageLengthMax: 4096, webfileDcId: 4,
  });
});

method(Api.updates.GetState, (_req, ctx) => {
  loggedIn(ctx);
  return new Api.updates.State({ pts: 1, qts: 0, date: unixSeconds(ctx.clock), seq: 0, unreadCount: 0 });
});

method(Api.auth.ImportBotAuthorization, (req, ctx) => {
  if (req.apiId !== ctx.world.apiId || req.apiHash !== ctx.world.apiHash) throw new RpcFault(400, 'API_ID_INVALID');
  const bot = ctx.world.botByToken(req.botAuthToken);
  if (!bot) throw new RpcFault(400, 'ACCESS_TOKEN_INVALID');
  ctx.authKeys.bind(ctx.authKey, bot.id);
  return new Api.auth.Authorization({ user: userObject(bot, true) });
});

method(Api.auth.ExportAuthorization, (req, ctx) => {
  const bot = loggedIn(ctx);
  if (!ctx.dcs.some((d) => d.id === req.dcId)) throw new RpcFault(400, 'DC_ID_INVALID');
  const bytes = randomBytes(32);
  ctx.exported.set(bytes.toString('hex'), bot.id);
  return new Api.auth.ExportedAuthorization({ id: long(bot.id), bytes });
});

method(Api.auth.ImportAuthorization, (req, ctx) => {
  const key = req.bytes.toString('hex');
  const botId = ctx.exported.get(key);
  if (botId === undefined || botId !== Number(req.id.toString())) throw new RpcFault(400, 'AUTH_BYTES_INVALID');
  ctx.exported.delete(key);
  const bot = ctx.world.botById(botId);
  if (!bot) throw new RpcFault(400, 'AUTH_BYTES_INVALID');
  ctx.authKeys.bind(ctx.authKey, bot.id);
  return new Api.auth.Authorization({ user: userObject(bot, true) });
});

method(Api.users.GetUsers, (req, ctx) => {
  const me = loggedIn(ctx);
  const out: Api.TypeUser[] = [];
  for (const u of req.id) {
    if (u instanceof Api.InputUserSelf) out.push(userObject(me, true));
    else if (u instanceof Api.InputUser) {
      const other = ctx.world.botById(Number(u.userId.toString()));
      out.push(other ? userObject(other, other.id === me.id) : new Api.UserEmpty({ id: u.userId }));
    }
  }
  return vector(out);
});

method(Api.channels.GetChannels, (req, ctx) => {
  const bot = loggedIn(ctx);
  const chats = req.id.map((input) => channelObject(ctx.world, inputChannel(ctx, bot, input), bot));
  return new Api.messages.Chats({ chats });
});

method(Api.channels.GetFullChannel, (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  return new Api.messages.ChatFull({
    fullChat: new Api.ChannelFull({
      id: long(channel.id), about: '', participantsCount: ctx.world.bots.length + 1, readInboxMaxId: channel.topMessage,
      readOutboxMaxId: channel.topMessage, unreadCount: 0, chatPhoto: new Api.PhotoEmpty({ id: long(0) }),
      notifySettings: new Api.PeerNotifySettings({}), botInfo: [], pts: channel.pts,
    }),
    chats: [channelObject(ctx.world, channel, bot)],
    users: [],
  });
});

method(Api.channels.GetMessages, (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  if (req.id.length > 100) throw new RpcFault(400, 'LIMIT_INVALID');
  const epoch = refEpoch(ctx);
  const messages = req.id.map((input) => {
    const id = input instanceof Api.InputMessageID ? input.id : 0;
    const msg = channel.messages.get(id);
    return msg ? messageObject(ctx.world, bot, channel, msg, epoch) : emptyMessage(channel, id);
  });
  return new Api.messages.ChannelMessages({
    pts: channel.pts, count: messages.length, messages, topics: [], chats: [channelObject(ctx.world, channel, bot)], users: [],
  });
});

method(Api.messages.GetHistory, (_req, ctx) => {
  loggedIn(ctx);
  throw new RpcFault(400, 'BOT_METHOD_INVALID');
});

/** Events a difference may carry; a client further behind is told to start over (TooLong). */
const DIFFERENCE_LIMIT = 100;

/**
 * As Telegram answers a bot that is a channel admin: `channelDifferenceEmpty` when `pts` is
 * current; `channelDifference` (new messages, deletions, the new pts; `final` unless `limit`
 * cut it short) when the events after `pts` are still known and at most 100; otherwise
 * `channelDifferenceTooLong`, whose dialog has the newest message id and the current pts.
 * A pts from the future is PERSISTENT_TIMESTAMP_INVALID.
 */
method(Api.updates.GetChannelDifference, (req, ctx) => {
  const bot = loggedIn(ctx);
  const channel = inputChannel(ctx, bot, req.channel);
  if (req.pts > channel.pts) throw new RpcFault(400, 'PERSISTENT_TIMESTAMP_INVALID');
  if (req.pts === channel.pts) return new Api.updates.ChannelDifferenceEmpty({ final: true, pts: channel.pts, timeout: 30 });
  const after = channel.log.filter((e) => e.pts > req.pts);
  if (req.pts <= 0 || req.pts < channel.logBase || after.length > DIFFERENCE_LIMIT) return differenceTooLong(ctx, bot, channel);
  const limit = req.limit > 0 ? Math.min(req.limit, DIFFERENCE_LIMIT) : DIFFERENCE_LIMIT;
  const events = after.slice(0, limit);
  const epoch = refEpoch(ctx);
  const newMessages: Api.TypeMessage[] = [];
  const otherUpdates: Api.TypeUpdate[] = [];
  for (const e of events) {
    if (e.kind === 'new') {
      const msg = channel.messages.get(e.msgId);
      if (msg) newMessages.push(messageObject(ctx.world, bot, channel, msg, epoch));
    } else {
      otherUpdates.push(new Api.UpdateDeleteChannelMessages({ channelId: long(channel.id), messages: e.msgIds, pts: e.pts, ptsCount: e.ptsCount }));
    }
  }
  return new Api.updates.ChannelDifference({
    final: events.length === after.length, pts: events[events.length - 1]!.pts, timeout: 30,
    newMessages, otherUpdates, chats: [channelObject(ctx.world, channel, bot)], users: [],
  });
});

function differenceTooLong(ctx: RpcContext, bot: Bot, channel: EmuChannel): Api.updates.ChannelDifferenceTooLong {
  const top = World.newestMessage(channel);
  const topMsg = channel.messages.get(top);
  return new Api.updates.ChannelDifferenceTooLong({
    final: true,
    timeout: 30,
    dialog: new Api.Dialog({
      peer: new Api.PeerChannel({ channelId: long(channel.id) }), topMessage: top, readInboxMaxId: top,
      readOutboxMaxId: top, unreadCount: 0, unreadMentionsCount: 0, unreadReactionsCount: 0,
      notifySettings: new Api.PeerNotifySettings({}), pts: channel.pts,
    }),
    messages: topMsg ? [messageObject(ctx.world, bot, channel, topMsg, refEpoch(ctx))] : [],
    chats: [channelObject(ctx.world, channel, bot)], users: [],
  });
}

const MiB = 1 << 20;
const UPLOAD_FILE = 0x096a18d5;
const STORAGE_FILE_PARTIAL = 0x40bc6f52;
const STORAGE_FILE_JPEG = 0x007efe0e;

/** Telegram's getFile rules: 4 KiB alignment (1 KiB with precise), at most 1 MiB, within one MiB. */
export function checkGetFileRange(offset: number, limit: number, precise: boolean): string | null {
  const unit = precise ? 1024 : 4096;
  if (offset < 0 || offset % unit !== 0) return 'OFFSET_INVALID';
  if (limit <= 0 || limit % unit !== 0 || limit > MiB) return 'LIMIT_INVALID';
  if (!precise && MiB % limit !== 0) return 'LIMIT_INVALID';
  if (Math.floor(offset / MiB) !== Math.floor((offset + limit - 1) / MiB)) return 'LIMIT_INVALID';
  return null;
}

method(Api.upload.GetFile, (req, ctx) => {
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
  const offset = Number(req.offset.toString());
  const bad = checkGetFileRange(offset, req.limit, req.precise === true);
  if (bad) throw new RpcFault(400, bad);
  const loc = req.location;
  if (!(loc instanceof Api.InputDocumentFileLocation)) throw new RpcFault(400, 'LOCATION_INVALID');
  const doc = ctx.world.document(BigInt(loc.id.toString()));
  if (!doc || BigInt(loc.accessHash.toString()) !== doc.accessHash) throw new RpcFault(400, 'FILE_ID_INVALID');
  const ref = checkFileReference(ctx.world, bot, doc, loc.fileReference, refEpoch(ctx));
  if (ref === 'invalid') throw new RpcFault(400, 'FILE_REFERENCE_INVALID');
  if (ref === 'expired') {
    ctx.stats.fault('FILE_REFERENCE_EXPIRED');
    throw new RpcFault(400, 'FILE_REFERENCE_EXPIRED');
  }
  if (doc.dcId !== ctx.dcId) {
    ctx.stats.fault('FILE_MIGRATE');
    throw new RpcFault(303, `FILE_MIGRATE_${doc.dcId}`);
  }
  let source: { path: string; size: number; type: number };
  if (!loc.thumbSize) source = { path: doc.path, size: doc.size, type: STORAGE_FILE_PARTIAL };
  else if (loc.thumbSize === 'm' && doc.thumb) source = { path: doc.thumb.path, size: doc.thumb.size, type: STORAGE_FILE_JPEG };
  else throw new RpcFault(400, 'LOCATION_INVALID');
  const count = Math.max(0, Math.min(req.limit, source.size - offset));
  ctx.stats.served(count);
  return fileResult(ctx, source, offset, count, doc.mtime);
});

function fileResult(ctx: RpcContext, src: { path: string; type: number }, offset: number, count: number, mtime: number): RawResult {
  const header = tlBytesHeader(count);
  const length = 12 + header.length + count + tlBytesPadding(count);
  return {
    length,
    async fill(target, at) {
      target.writeUInt32LE(UPLOAD_FILE, at);
      target.writeUInt32LE(src.type, at + 4);
      target.writeInt32LE(mtime, at + 8);
      header.copy(target, at + 12);
      const start = at + 12 + header.length;
      const got = count ? await ctx.files.read(src.path, offset, target, start, count) : 0;
      // A file that shrank under us: pad with zeros rather than send garbage.
      target.fill(0, start + got, at + length);
    },
  };
}

/** A bare TL vector of objects (the result type of users.getUsers). */
function vector(items: { getBytes(): Buffer }[]): { getBytes(): Buffer } {
  return {
    getBytes() {
      const head = Buffer.alloc(8);
      head.writeUInt32LE(0x1cb5c415, 0);
      head.writeInt32LE(items.length, 4);
      return Buffer.concat([head, ...items.map((i) => i.getBytes())]);
    },
  };
}
