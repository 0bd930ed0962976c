// One bot account, one GramJS client. Logs in once per bot (the session is persisted and reused:
// repeated auth.importBotAuthorization earns a long FLOOD_WAIT), resolves channels and messages,
// and fetches file parts, following FILE_MIGRATE to the DC that holds a file. GramJS never
// sleeps on FLOOD_WAIT here (floodSleepThreshold 0): callers see every one as FloodWaitError.
import bigInt from 'big-integer';
import { Api, TelegramClient, Logger, errors as gramErrors } from 'telegram';
import { LogLevel } from 'telegram/extensions/Logger';
import { StringSession } from 'telegram/sessions';
import type { TelegramClientParams } from 'telegram/client/telegramBaseClient';
import type { DcAddress } from '../app/config';
import { raceWithDeadline, raceWithSignal, throwIfAborted } from './abort';
import { parseBotId } from './bot-token';
import { createDcSocketClass } from './dc-socket';
import {
  ChannelInaccessibleError,
  InvalidTokenError,
  MessageNotFoundError,
  NoThumbnailError,
  NotADocumentError,
  TelegramConnectionError,
  TelegramRpcError,
  TOKEN_REFUSED,
  WorkerStoppedError,
  rpcErrorParts,
  toTgvfsError,
  type ErrorContext,
} from './errors';
import { destroyClient } from './client-shutdown';
import { installFastIge } from './fast-ige';
import { parseProxyUrl } from './proxy';
import { registerSecret, registerToken } from './redact';
import { trustRsaKey } from './rsa-keys';
import { SessionStore } from './session-store';

export interface WorkerOptions {
  /** `<bot id>:<secret>`. The secret never appears in logs, errors or file names. */
  token: string;
  apiId: number;
  apiHash: string;
  /** Sessions live in `<sessionDir>/<botId>.session`. */
  sessionDir: string;
  /** Overrides Telegram's DCs and RSA keys (the emulator). */
  telegram?: { dcs: DcAddress[]; rsaPublicKeys: string[] };
  /** `socks5://user:pass@host:port`. */
  proxy?: string;
  /** Receives one line per notable event (login, session reuse). Never sees a secret. */
  log?: (line: string) => void;
  /**
   * DC a new session starts on.
   * @default 2
   */
  homeDc?: number;
  /**
   * Connection attempts before a connect fails.
   * @default 3
   */
  connectionRetries?: number;
  /**
   * Longest wait for any single call (login, getMessages, getFile); 0 disables.
   * GramJS itself never times a request out.
   * @default 60000
   */
  requestTimeoutMs?: number;
}

/** Where a document's bytes are, and what they are. */
export interface DocumentLocation {
  location: Api.InputDocumentFileLocation;
  size: number;
  /** DC that stores the file (Document.dc_id). */
  dcId: number;
  mimeType: string;
  fileName: string | undefined;
  /** Document id, decimal. */
  documentId: string;
}

/** The largest downloadable thumbnail of a document. */
export interface ThumbnailLocation {
  /** InputDocumentFileLocation with `thumbSize` set to the size's type (e.g. 'm'). */
  location: Api.InputDocumentFileLocation;
  /** Bytes, as the server announced them. */
  size: number;
  dcId: number;
  width: number;
  height: number;
  /** Thumbnails are JPEG. */
  mimeType: 'image/jpeg';
}

export interface GetFilePartOptions {
  /** 1 KiB granularity instead of 4 KiB (upload.getFile's `precise` flag). */
  precise?: boolean;
  /** DC to ask first (e.g. DocumentLocation.dcId); FILE_MIGRATE is followed regardless. */
  dcId?: number;
  signal?: AbortSignal;
}

const CHANNEL_ID_OFFSET = 1_000_000_000_000;
const MAX_REMEMBERED_LOCATIONS = 10_000;

/** `-100…` Bot API channel id → MTProto channel id. */
export function mtprotoChannelId(channelId: number): number {
  if (!Number.isSafeInteger(channelId) || channelId >= -CHANNEL_ID_OFFSET) {
    throw new RangeError(`channel id ${channelId} is not a -100… channel id`);
  }
  return -channelId - CHANNEL_ID_OFFSET;
}

/** A stable key for a file location, to remember which DC serves it. */
function locationKey(location: Api.TypeInputFileLocation): string | undefined {
  if (location instanceof Api.InputDocumentFileLocation) return `doc:${location.id.toString()}:${location.thumbSize}`;
  if (location instanceof Api.InputPhotoFileLocation) return `photo:${location.id.toString()}`;
  return undefined;
}

export class Worker {
  /** Bot id (the token's prefix). */
  readonly id: number;
  readonly client: TelegramClient;

  private readonly store: SessionStore;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  private readonly channels = new Map<number, Promise<Api.InputChannel>>();
  private readonly locationDc = new Map<string, number>();
  private stopping: Promise<void> | undefined;
  private login_: 'reused' | 'imported' = 'imported';
  private loggedIn = false;

  private constructor(id: number, client: TelegramClient, store: SessionStore, opts: WorkerOptions) {
    this.id = id;
    this.client = client;
    this.store = store;
    this.log = opts.log ?? (() => undefined);
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
  }

  /** Connects and logs in (reusing the saved session when it is still authorized). */
  static async start(opts: WorkerOptions): Promise<Worker> {
    registerToken(opts.token);
    registerSecret(opts.apiHash);
    const botId = parseBotId(opts.token);
    installFastIge();
    for (const pem of opts.telegram?.rsaPublicKeys ?? []) trustRsaKey(pem);

    const store = new SessionStore(opts.sessionDir);
    const log = opts.log ?? (() => undefined);
    let session: StringSession | undefined;
    const saved = await store.load(botId);
    if (saved !== undefined) {
      try {
        session = new StringSession(saved);
      } catch {
        log(`bot ${botId}: ignoring unreadable session file ${store.pathFor(botId)}`);
      }
    }
    const hadSession = session !== undefined;
    if (!session) {
      session = new StringSession('');
      const dcs = opts.telegram?.dcs ?? [];
      const home = dcs.find((d) => d.id === (opts.homeDc ?? 2)) ?? dcs[0];
      if (home) session.setDC(home.id, home.host, home.port);
    }

    const client = new TelegramClient(session, opts.apiId, opts.apiHash, clientParams(opts));
    const worker = new Worker(botId, client, store, opts);
    try {
      await worker.connect();
      await worker.login(opts, hadSession);
      worker.loggedIn = true;
      await worker.saveSession();
    } catch (err) {
      await worker.stop().catch(() => undefined);
      throw err;
    }
    log(`bot ${botId}: ready on DC ${client.session.dcId} (${worker.loginKind === 'reused' ? 'saved session' : 'new login'})`);
    return worker;
  }

  /** Whether `start` reused a saved session or called auth.importBotAuthorization. */
  get loginKind(): 'reused' | 'imported' {
    return this.login_;
  }

  /** The DC this worker's account lives on. */
  get homeDcId(): number {
    return this.client.session.dcId;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** The channel's InputChannel with this account's access hash; cached per worker. */
  resolveChannel(channelId: number, signal?: AbortSignal): Promise<Api.InputChannel> {
    throwIfAborted(signal);
    const cached = this.channels.get(channelId);
    if (cached) return raceWithSignal(cached, signal);
    // Shared by concurrent callers, so fetched without any one caller's signal.
    const pending = this.fetchChannel(channelId);
    this.channels.set(channelId, pending);
    pending.catch(() => this.channels.delete(channelId));
    return raceWithSignal(pending, signal);
  }

  /** Forgets a cached channel (e.g. after CHANNEL_INVALID with a stale access hash). */
  forgetChannel(channelId: number): void {
    this.channels.delete(channelId);
  }

  /** The message `msgId` of a channel; MessageNotFoundError when deleted or absent. */
  async getMessage(channelId: number, msgId: number, signal?: AbortSignal): Promise<Api.Message> {
    const ctx: ErrorContext = { channel: channelId, msgId, worker: this.id };
    const channel = await this.resolveChannel(channelId, signal);
    const res = await this.call(
      new Api.channels.GetMessages({ channel, id: [new Api.InputMessageID({ id: msgId })] }),
      { ...ctx, method: 'channels.getMessages' },
      undefined,
      signal,
    );
    if (res instanceof Api.messages.MessagesNotModified) throw new MessageNotFoundError(ctx);
    const msg = res.messages.find((m) => m.id === msgId);
    if (!(msg instanceof Api.Message)) throw new MessageNotFoundError(ctx);
    return msg;
  }

  /** The document of a message as a file location; NotADocumentError when there is none. */
  async getDocumentLocation(channelId: number, msgId: number, signal?: AbortSignal): Promise<DocumentLocation> {
    const msg = await this.getMessage(channelId, msgId, signal);
    const doc = msg.media instanceof Api.MessageMediaDocument ? msg.media.document : undefined;
    if (!(doc instanceof Api.Document)) throw new NotADocumentError({ channel: channelId, msgId, worker: this.id });
    const nameAttr = doc.attributes.find((a): a is Api.DocumentAttributeFilename => a instanceof Api.DocumentAttributeFilename);
    return {
      location: new Api.InputDocumentFileLocation({
        id: doc.id,
        accessHash: doc.accessHash,
        fileReference: doc.fileReference,
        thumbSize: '',
      }),
      size: doc.size.toJSNumber(),
      dcId: doc.dcId,
      mimeType: doc.mimeType,
      fileName: nameAttr?.fileName,
      documentId: doc.id.toString(),
    };
  }

  /** The message's largest document thumbnail; NoThumbnailError when it has none. */
  async getThumbnailLocation(channelId: number, msgId: number, signal?: AbortSignal): Promise<ThumbnailLocation> {
    const msg = await this.getMessage(channelId, msgId, signal);
    const ctx: ErrorContext = { channel: channelId, msgId, worker: this.id };
    const doc = msg.media instanceof Api.MessageMediaDocument ? msg.media.document : undefined;
    if (!(doc instanceof Api.Document)) throw new NotADocumentError(ctx);
    let best: { type: string; size: number; w: number; h: number } | undefined;
    for (const t of doc.thumbs ?? []) {
      let size: number;
      if (t instanceof Api.PhotoSize) size = t.size;
      else if (t instanceof Api.PhotoSizeProgressive) size = Math.max(0, ...t.sizes);
      else continue; // stripped, cached and path sizes are inline, not downloadable
      if (!best || t.w * t.h > best.w * best.h) best = { type: t.type, size, w: t.w, h: t.h };
    }
    if (!best) throw new NoThumbnailError(ctx);
    return {
      location: new Api.InputDocumentFileLocation({
        id: doc.id,
        accessHash: doc.accessHash,
        fileReference: doc.fileReference,
        thumbSize: best.type,
      }),
      size: best.size,
      dcId: doc.dcId,
      width: best.w,
      height: best.h,
      mimeType: 'image/jpeg',
    };
  }

  /**
   * `upload.getFile` for `limit` bytes at `offset` (the caller keeps to Telegram's alignment
   * rules). Follows FILE_MIGRATE_N once and remembers the DC for this location.
   */
  async getFilePart(
    location: Api.TypeInputFileLocation,
    offset: number,
    limit: number,
    opts: GetFilePartOptions = {},
  ): Promise<Buffer> {
    const key = locationKey(location);
    let dcId = opts.dcId ?? (key !== undefined ? this.locationDc.get(key) : undefined);
    const ctx = { worker: this.id, method: 'upload.getFile' };
    const request = (): Api.upload.GetFile =>
      new Api.upload.GetFile({ location, offset: bigInt(offset), limit, precise: opts.precise || undefined });
    let res: Api.upload.TypeFile;
    try {
      res = await this.call(request(), ctx, dcId, opts.signal, false);
    } catch (err) {
      if (!(err instanceof gramErrors.FileMigrateError)) throw this.translate(err, ctx, opts.signal);
      dcId = err.newDc;
      if (key !== undefined) this.rememberDc(key, dcId);
      res = await this.call(request(), ctx, dcId, opts.signal);
    }
    if (!(res instanceof Api.upload.File)) {
      throw new TelegramRpcError('CDN_REDIRECT_UNSUPPORTED', 0, 'upload.getFile', { worker: this.id });
    }
    return res.bytes;
  }

  /** Disconnects every connection of this worker; afterwards the process can exit. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---- internals ---------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const { dcId, serverAddress } = this.client.session;
    const ok = await raceWithDeadline(
      this.client.connect(),
      this.timeoutMs,
      () => new TelegramConnectionError(`connecting to DC ${dcId} timed out`, { worker: this.id }),
    );
    if (!ok) {
      throw new TelegramConnectionError(`cannot reach DC ${dcId || 'default'} at ${serverAddress ?? 'default address'}`, {
        worker: this.id,
      });
    }
  }

  private async login(opts: WorkerOptions, hadSession: boolean): Promise<void> {
    if (hadSession) {
      try {
        const me = await this.call(
          new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }),
          { worker: this.id, method: 'users.getUsers' },
          undefined,
          undefined,
          false,
        );
        const self = me[0];
        if (self instanceof Api.User && self.id.toString() === String(this.id)) {
          this.login_ = 'reused';
          return;
        }
        this.log(`bot ${this.id}: saved session belongs to another account; logging in again`);
      } catch (err) {
        // 401 (AUTH_KEY_UNREGISTERED, SESSION_REVOKED, …): the key is no longer authorized.
        const rpc = rpcErrorParts(err);
        if (!rpc || rpc.rpcCode !== 401) throw this.translate(err, { worker: this.id, method: 'users.getUsers' });
        this.log(`bot ${this.id}: saved session is no longer authorized (${rpc.message}); logging in again`);
      }
    }
    try {
      await this.call(
        new Api.auth.ImportBotAuthorization({ flags: 0, apiId: opts.apiId, apiHash: opts.apiHash, botAuthToken: opts.token }),
        { worker: this.id, method: 'auth.importBotAuthorization' },
        undefined,
        undefined,
        false,
      );
    } catch (err) {
      const rpc = rpcErrorParts(err);
      if (rpc && (TOKEN_REFUSED.has(rpc.message) || rpc.rpcCode === 401)) throw new InvalidTokenError(this.id, rpc.message);
      throw this.translate(err, { worker: this.id, method: 'auth.importBotAuthorization' });
    }
    this.login_ = 'imported';
  }

  private async saveSession(): Promise<void> {
    const session = this.client.session;
    if (session instanceof StringSession) await this.store.save(this.id, session);
  }

  /**
   * Invokes a request on the home DC (dcId undefined or home) or on another DC through GramJS's
   * exported senders, with the worker's deadline and the caller's signal. With `translate`
   * false the raw GramJS error is rethrown (the caller inspects it); aborts always reject with
   * `signal.reason`.
   */
  private async call<R extends Api.AnyRequest>(
    request: R,
    ctx: ErrorContext & { method: string },
    dcId: number | undefined,
    signal: AbortSignal | undefined,
    translate = true,
  ): Promise<R['__response']> {
    if (this.stopping) throw new WorkerStoppedError({ worker: this.id });
    throwIfAborted(signal);
    const onHome = dcId === undefined || dcId === this.client.session.dcId;
    const pending: Promise<R['__response']> = onHome ? this.client.invoke(request) : this.client.invoke(request, dcId);
    try {
      return await raceWithDeadline(
        pending,
        this.timeoutMs,
        () => new TelegramConnectionError(`${ctx.method} timed out after ${this.timeoutMs} ms`, stripMethod(ctx)),
        signal,
      );
    } catch (err) {
      if (!translate) throw err;
      throw this.translate(err, ctx, signal);
    }
  }

  /** toTgvfsError, except that an abort keeps the caller's reason. */
  private translate(err: unknown, ctx: ErrorContext & { method?: string }, signal?: AbortSignal): unknown {
    if (signal?.aborted && err === signal.reason) return err;
    return toTgvfsError(err, ctx);
  }

  private async fetchChannel(channelId: number): Promise<Api.InputChannel> {
    const ctx: ErrorContext = { channel: channelId, worker: this.id };
    const id = bigInt(mtprotoChannelId(channelId));
    const res = await this.call(
      new Api.channels.GetChannels({ id: [new Api.InputChannel({ channelId: id, accessHash: bigInt.zero })] }),
      { ...ctx, method: 'channels.getChannels' },
      undefined,
      undefined,
    );
    const chat = res.chats.find((c) => c.id.equals(id));
    if (chat instanceof Api.Channel) {
      return new Api.InputChannel({ channelId: id, accessHash: chat.accessHash ?? bigInt.zero });
    }
    throw new ChannelInaccessibleError(chat instanceof Api.ChannelForbidden ? 'channelForbidden' : 'not returned', ctx);
  }

  private rememberDc(key: string, dcId: number): void {
    this.locationDc.delete(key);
    this.locationDc.set(key, dcId);
    if (this.locationDc.size > MAX_REMEMBERED_LOCATIONS) {
      const oldest = this.locationDc.keys().next();
      if (!oldest.done) this.locationDc.delete(oldest.value);
    }
  }

  private async shutdown(): Promise<void> {
    if (this.loggedIn) await this.saveSession().catch(() => undefined);
    await destroyClient(this.client);
  }
}

function stripMethod(ctx: ErrorContext & { method?: string }): ErrorContext {
  const { method: _method, ...rest } = ctx;
  return rest;
}

function clientParams(opts: WorkerOptions): TelegramClientParams {
  const dcs = opts.telegram?.dcs;
  const params: TelegramClientParams = {
    connectionRetries: opts.connectionRetries ?? 3,
    retryDelay: 500,
    floodSleepThreshold: 0,
    useWSS: false,
    autoReconnect: true,
    deviceModel: 'tgvfs',
    appVersion: '0.1.0',
    baseLogger: new Logger(LogLevel.NONE),
  };
  params.networkSocket = createDcSocketClass(dcs ?? []);
  if (opts.proxy) {
    const proxy = parseProxyUrl(opts.proxy);
    if (proxy.password) registerSecret(proxy.password);
    params.proxy = proxy;
  }
  return params;
}
