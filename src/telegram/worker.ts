// One bot account, one GramJS client. Logs in once per bot (the session is persisted and reused:
// repeated auth.importBotAuthorization earns a long FLOOD_WAIT), resolves channels and messages,
// and fetches file parts, following FILE_MIGRATE to the DC that holds a file. GramJS never
// sleeps on FLOOD_WAIT here (floodSleepThreshold 0): callers see every one as FloodWaitError.
// What it learns about channels and documents is kept in memory and, with `cache`, in a
// MetadataCache that outlives the process: a restarted worker makes no upstream call for them.
// What the catalog asks (messages by id, channel differences, pushed updates) it answers in plain
// data (channel-updates.ts); GramJS's internals are patched in gramjs/ only.
import { createHash } from 'node:crypto';
import bigInt from 'big-integer';
import { LRUCache } from 'lru-cache';
import { Api, TelegramClient, Logger } from 'telegram';
import { LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPAbridged, ConnectionTCPFull } from 'telegram/network';
import { StringSession } from 'telegram/sessions';
import type { TelegramClientParams } from 'telegram/client/telegramBaseClient';
import type { DcAddress } from '../config/schema';
import { raceWithDeadline, raceWithSignal, throwIfAborted } from '../util/abort';
import { mtprotoChannelId } from '../util/channel-id';
import { largestThumb } from '../util/media';
import { tlMethodName } from '../util/tl-names';
import { parseBotId } from './bot-token';
import { ChannelUpdateFeed, channelDifference, channelMessage, type ChannelDifference, type ChannelMessage, type ChannelUpdate } from './channel-updates';
import { docInfoFromMessage, fileLocation, type DocInfo, type MediaFileLocation } from './doc-info';
import { ChannelInaccessibleError, DEAD_AUTH_KEY, DeadAuthKeyError, FloodWaitError, InvalidTokenError, MessageNotFoundError, NoThumbnailError, NotADocumentError, TelegramConnectionError, TelegramRpcError, TOKEN_REFUSED, WorkerStoppedError, isFileReferenceExpired } from './errors';
import { TgvfsError, type ErrorContext } from '../util/errors';
import type { MetadataCache } from './metadata-cache';
import type { UpstreamCall } from './call-observer';
import { destroyClient } from './gramjs/client-shutdown';
import { ExportedSenders } from './gramjs/exported-senders';
import { PerDcSession } from './gramjs/per-dc-session';
import { installFastDecrypt } from './gramjs/fast-decrypt';
import { installFastIge } from './gramjs/fast-ige';
import { observeInvoke } from './gramjs/invoke-observer';
import { trustRsaKey } from './gramjs/rsa-keys';
import { installSenderRequeue } from './gramjs/sender-requeue';
import { rememberSelf } from './gramjs/self-peer';
import { fileMigrateDc, rpcErrorParts, toTgvfsError } from './gramjs/translate-error';
import { WorkerNetwork } from './network';
import { registerSecret, registerToken } from '../util/secrets';
import { SessionStore } from './session-store';

export interface WorkerOptions {
  /** `<bot id>:<secret>`. The secret never appears in logs, errors or file names. */
  token: string;
  apiId: number;
  apiHash: string;
  /** Sessions live in `<sessionDir>/<botId>.session` (unless `session` is given). */
  sessionDir: string;
  /**
   * A GramJS StringSession to start from instead of the session file ('' : log in). When given,
   * no session file is read or written: the caller keeps the session (e.g. in an env var).
   */
  session?: string;
  /** Overrides Telegram's DCs and RSA keys (the emulator). */
  telegram?: { dcs: DcAddress[]; rsaPublicKeys: string[] };
  /** `socks5://user:pass@host:port`, `mtproxy://<secret>@host:port` or `tg://proxy?…` (config/proxy-url.ts). */
  proxy?: string;
  /** Telegram's DCs at their IPv6 addresses (ignored with `telegram.dcs`). @default false */
  ipv6?: boolean;
  /** Receives one line per notable event (login, session reuse). Never sees a secret. */
  log?: (line: string) => void;
  /**
   * Persistent channel access hashes and DocInfos (shared by the workers of a pool; keys carry
   * the bot id). Without it the worker remembers them for its own lifetime only.
   */
  cache?: MetadataCache;
  /**
   * MTProto transport framing.
   * @default 'abridged'
   */
  transport?: 'abridged' | 'full';
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
  /** Hears of every upstream request this worker's client sends (metrics). */
  onCall?: (e: UpstreamCall) => void;
  /**
   * How the worker waits out a FLOOD_WAIT it honours itself (auth.exportAuthorization /
   * importAuthorization for another DC): `ms`, or reject with `signal.reason`. Tests step it.
   * @default setTimeout
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * With `session`: hears the session (a secret) whose auth key a login that earned FLOOD_WAIT
   * kept, to start from it after the wait (without `session` it is saved in the session file).
   */
  onKeptSession?: (session: string) => void;
  /** @internal Tests only: the local address every connection is made from (AUTH_KEY_DUPLICATED tests). */
  localAddress?: string;
}

/** Where a document's bytes are, and what they are. */
export interface DocumentLocation {
  /** inputPhotoFileLocation (largest size) for a photo, inputDocumentFileLocation otherwise. */
  location: MediaFileLocation;
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
  /** The file's location (photo or document) with `thumbSize` set to the size's type (e.g. 'm'). */
  location: MediaFileLocation;
  /** Bytes, as the server announced them. */
  size: number;
  dcId: number;
  width: number;
  height: number;
  /** Thumbnails are JPEG. */
  mimeType: 'image/jpeg';
}

export interface GetDocOptions {
  signal?: AbortSignal;
  /**
   * Ask Telegram even when the document is known (e.g. its file reference expired); the
   * answer replaces what the caches held.
   * @default false
   */
  fresh?: boolean;
}

export interface GetFilePartOptions {
  /** 1 KiB granularity instead of 4 KiB (upload.getFile's `precise` flag). */
  precise?: boolean;
  /** DC to ask first (e.g. DocumentLocation.dcId); FILE_MIGRATE is followed regardless. */
  dcId?: number;
  signal?: AbortSignal;
}

const MAX_REMEMBERED_LOCATIONS = 10_000;
const MAX_REMEMBERED_DOCS = 10_000;
const MiB = 1 << 20;
/** Thumbnails are a few KiB; anything this large is a server bug, not a thumbnail. */
const MAX_THUMBNAIL_BYTES = 8 * MiB;

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

  /** Null when the session came from `WorkerOptions.session`: nothing is persisted. */
  private readonly store: SessionStore | null;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  private readonly cache: MetadataCache | undefined;
  private readonly channels = new Map<number, Promise<Api.InputChannel>>();
  /** Channels whose access hash came from the persistent cache (it may have gone stale). */
  private readonly channelsFromCache = new Set<number>();
  private readonly locationDc = new LRUCache<string, number>({ max: MAX_REMEMBERED_LOCATIONS });
  /** In-process front of the cache (getDoc runs once per file part): `channel:msgId` → DocInfo. */
  private readonly docs = new LRUCache<string, DocInfo>({ max: MAX_REMEMBERED_DOCS });
  /** Upstream document fetches in flight, shared by concurrent callers. */
  private readonly docFetches = new Map<string, Promise<DocInfo>>();
  private readonly updates: ChannelUpdateFeed;
  private readonly network: WorkerNetwork;
  private stopping: Promise<void> | undefined;
  /** Our senders to foreign DCs, their keys kept in the session (gramjs/exported-senders.ts). */
  private exported: ExportedSenders | undefined;
  /** Session saves, one after another (a later save holds every key an earlier one did). */
  private saving: Promise<void> = Promise.resolve();
  private login_: 'reused' | 'imported' = 'imported';
  private loggedIn = false;

  private constructor(id: number, client: TelegramClient, network: WorkerNetwork, store: SessionStore | null, opts: WorkerOptions) {
    this.id = id;
    this.client = client;
    this.network = network;
    this.store = store;
    this.log = opts.log ?? (() => undefined);
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.cache = opts.cache;
    this.updates = new ChannelUpdateFeed(client, id, this.log);
  }

  /** Connects and logs in (reusing the saved session when it is still authorized). */
  static async start(opts: WorkerOptions): Promise<Worker> {
    registerToken(opts.token);
    registerSecret(opts.apiHash);
    if (opts.session) registerSecret(opts.session.trim());
    const botId = parseBotId(opts.token);
    installFastIge();
    installFastDecrypt();
    installSenderRequeue();
    for (const pem of opts.telegram?.rsaPublicKeys ?? []) trustRsaKey(pem);

    const store = opts.session === undefined ? new SessionStore(opts.sessionDir) : null;
    const log = opts.log ?? (() => undefined);
    let session: StringSession | undefined;
    const saved = store ? await store.load(botId) : opts.session!.trim() || undefined;
    if (saved !== undefined) {
      try {
        session = new PerDcSession(saved);
      } catch {
        log(`bot ${botId}: ignoring unreadable session ${store ? `file ${store.pathFor(botId)}` : 'string'}`);
      }
    }
    const hadSession = session !== undefined;
    session ??= new PerDcSession('');
    const network = new WorkerNetwork({ dcs: opts.telegram?.dcs, proxy: opts.proxy, ipv6: opts.ipv6, localAddress: opts.localAddress });
    const moved = network.prepareSession(session, opts.homeDc ?? 2);
    if (moved) log(`bot ${botId}: ${moved}`);

    const client = new TelegramClient(session, opts.apiId, opts.apiHash, clientParams(opts, network));
    network.attach(client);
    if (opts.onCall) observeInvoke(client, botId, opts.onCall);
    const worker = new Worker(botId, client, network, store, opts);
    worker.exported = ExportedSenders.install(client, {
      worker: botId, sleep: opts.sleep, log, onAuthorized: () => void worker.saveSessionLater(),
    });
    try {
      await worker.connect();
      await worker.login(opts, hadSession);
      worker.loggedIn = true;
      await worker.saveSession();
    } catch (err) {
      // A login FLOOD_WAIT is waited out with the same auth key: a new key per attempt is what
      // Telegram counts against a client.
      if (err instanceof FloodWaitError) await worker.keepKey(opts).catch(() => undefined);
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

  /**
   * How this worker reaches its home DC, for a person: `TCP to 149.154.167.51:443 (IPv4)`,
   * `SOCKS5 proxy 10.0.0.1:1080 to …`, `MTProxy 1.2.3.4:443 (obfuscated, IPv4)`.
   */
  get transport(): string {
    return this.network.describe(this.homeDcId);
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * A fingerprint of the home DC's auth key (16 hex digits of its SHA-256; the key cannot be got
   * back from it), to tell whether another instance presents the same key (session-claims.ts).
   */
  get authKeyFingerprint(): string | undefined {
    const key = this.client.session.getAuthKey()?.getKey();
    return key ? createHash('sha256').update(key).digest('hex').slice(0, 16) : undefined;
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
    void this.dropChannel(channelId);
  }

  /**
   * The message `msgId` of a channel; MessageNotFoundError when deleted or absent,
   * ChannelInaccessibleError when this bot cannot see the channel.
   */
  async getMessage(channelId: number, msgId: number, signal?: AbortSignal): Promise<Api.Message> {
    try {
      return await this.fetchMessage(channelId, msgId, signal);
    } catch (err) {
      // An access hash from an earlier run may be stale: ask for the channel again, once.
      if (!(err instanceof ChannelInaccessibleError && err.reason === 'CHANNEL_INVALID' && this.channelsFromCache.has(channelId))) {
        throw err;
      }
      this.log(`bot ${this.id}: cached access hash of channel ${channelId} refused; resolving it again`);
      await this.dropChannel(channelId);
      return this.fetchMessage(channelId, msgId, signal);
    }
  }

  /**
   * The document of message `msgId`: from memory or the cache when known (unless `fresh`),
   * else from Telegram (then cached). MessageNotFoundError, NotADocumentError,
   * ChannelInaccessibleError as for getMessage.
   */
  async getDoc(channelId: number, msgId: number, opts: GetDocOptions = {}): Promise<DocInfo> {
    const { signal, fresh = false } = opts;
    throwIfAborted(signal);
    const key = docKey(channelId, msgId);
    if (!fresh) {
      const known = this.docs.get(key);
      if (known) return known;
    }
    // A fetch in flight is at least as fresh as one this caller would start now.
    const inFlight = this.docFetches.get(key);
    if (inFlight) return raceWithSignal(inFlight, signal);
    if (!fresh && this.cache) {
      const cache = this.cache;
      const hit = await raceWithSignal(this.cacheRead(() => cache.getDoc(this.id, channelId, msgId)), signal);
      if (hit) {
        this.docs.set(key, freezeDoc(hit));
        return hit;
      }
    }
    let pending = this.docFetches.get(key);
    if (!pending) {
      // Shared by concurrent callers, so fetched without any one caller's signal.
      const started = this.fetchDoc(channelId, msgId);
      pending = started;
      this.docFetches.set(key, started);
      const done = (): void => {
        if (this.docFetches.get(key) === started) this.docFetches.delete(key);
      };
      started.then(done, done);
    }
    return raceWithSignal(pending, signal);
  }

  /** Forgets a document (memory and cache), e.g. after its message was deleted. */
  async invalidateDoc(channelId: number, msgId: number): Promise<void> {
    this.docs.delete(docKey(channelId, msgId));
    const cache = this.cache;
    if (cache) await this.cacheWrite(() => cache.deleteDoc(this.id, channelId, msgId));
  }

  /**
   * The bytes of the document's largest thumbnail (JPEG); NoThumbnailError when it has none.
   * A file reference that expired is refreshed once.
   */
  async getThumbnail(channelId: number, msgId: number, signal?: AbortSignal): Promise<Buffer> {
    const doc = await this.getDoc(channelId, msgId, { signal });
    try {
      return await this.downloadThumbnail(doc, signal);
    } catch (err) {
      if (!isFileReferenceExpired(err)) throw err;
      const fresh = await this.getDoc(channelId, msgId, { signal, fresh: true });
      return this.downloadThumbnail(fresh, signal);
    }
  }

  private async fetchMessage(channelId: number, msgId: number, signal?: AbortSignal): Promise<Api.Message> {
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

  /** The document of a message as a file location, always asked of Telegram (a fresh reference). */
  async getDocumentLocation(channelId: number, msgId: number, signal?: AbortSignal): Promise<DocumentLocation> {
    const doc = await this.getDoc(channelId, msgId, { signal, fresh: true });
    return {
      location: fileLocation(doc),
      size: doc.size,
      dcId: doc.dcId,
      mimeType: doc.mimeType,
      fileName: doc.name ?? undefined,
      documentId: doc.id,
    };
  }

  /**
   * The location of the message's largest thumbnail, always asked of Telegram (a fresh
   * reference); NoThumbnailError when it has none. `getThumbnail` fetches the bytes.
   */
  async getThumbnailLocation(channelId: number, msgId: number, signal?: AbortSignal): Promise<ThumbnailLocation> {
    const doc = await this.getDoc(channelId, msgId, { signal, fresh: true });
    const thumb = largestThumb(doc.thumbs);
    if (!thumb) throw new NoThumbnailError({ channel: channelId, msgId, worker: this.id });
    return {
      location: fileLocation(doc, thumb.type),
      size: thumb.size,
      dcId: doc.dcId,
      width: thumb.w,
      height: thumb.h,
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
      const migrateTo = fileMigrateDc(err);
      if (migrateTo === undefined) throw this.translate(err, ctx, opts.signal);
      dcId = migrateTo;
      if (key !== undefined) this.locationDc.set(key, dcId);
      res = await this.call(request(), ctx, dcId, opts.signal);
    }
    if (!(res instanceof Api.upload.File)) {
      throw new TelegramRpcError('CDN_REDIRECT_UNSUPPORTED', 0, 'upload.getFile', { worker: this.id });
    }
    return res.bytes;
  }

  /**
   * channels.getMessages for up to 100 ids of a channel, as plain data: one entry per message the
   * server returned (deleted ids come back as messageEmpty, without a document). An access hash
   * the server refuses (CHANNEL_INVALID) is fetched again, once.
   */
  async getMessages(channelId: number, ids: readonly number[], signal?: AbortSignal): Promise<ChannelMessage[]> {
    const res = await this.channelRequest(
      channelId,
      (channel) => new Api.channels.GetMessages({ channel, id: ids.map((id) => new Api.InputMessageID({ id })) }),
      signal,
    );
    if (res instanceof Api.messages.MessagesNotModified) return [];
    return res.messages.map((m) => channelMessage(channelId, m, this.id));
  }

  /**
   * updates.getChannelDifference from `pts` (1 when lower), at most `limit` events, as plain data.
   * A pts the server does not know fails with a TelegramRpcError (PERSISTENT_TIMESTAMP_…); an
   * access hash it refuses is fetched again, once, as for getMessages.
   */
  async getChannelDifference(channelId: number, pts: number, limit: number, signal?: AbortSignal): Promise<ChannelDifference> {
    const diff = await this.channelRequest(
      channelId,
      (channel) => new Api.updates.GetChannelDifference({ channel, filter: new Api.ChannelMessagesFilterEmpty(), pts: Math.max(1, pts), limit, force: true }),
      signal,
    );
    return channelDifference(channelId, diff, this.id);
  }

  /**
   * Calls `listener` with the channel updates Telegram pushes to this bot from now on, and with
   * `reconnected` once a dropped connection is back. Returns the unsubscribe.
   */
  onUpdate(listener: (u: ChannelUpdate) => void): () => void {
    return this.updates.subscribe(listener);
  }

  /** Disconnects every connection of this worker; afterwards the process can exit. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---- internals ---------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const before = this.network.connections;
    // The session's DC and address are GramJS's to settle (a new session gets its default DC
    // during connect): read them when a failure is described.
    const failed = (timedOut: boolean): TelegramConnectionError => {
      const { dcId, serverAddress } = this.client.session;
      const why = this.network.unreachable(dcId, serverAddress, before, timedOut ? this.timeoutMs : undefined);
      return new TelegramConnectionError(why, { worker: this.id });
    };
    // GramJS's connect sends help.getConfig with the saved key: a key Telegram refuses fails here.
    const ok = await raceWithDeadline(this.client.connect(), this.timeoutMs, () => failed(true)).catch((err: unknown) => {
      throw this.deadKey(err) ?? err;
    });
    if (!ok) throw failed(false);
  }

  /** DeadAuthKeyError when `err` says Telegram refuses this key for good (not AUTH_KEY_UNREGISTERED: log in with it again). */
  private deadKey(err: unknown): DeadAuthKeyError | undefined {
    const rpc = rpcErrorParts(err);
    if (!rpc || rpc.message === 'AUTH_KEY_UNREGISTERED' || !DEAD_AUTH_KEY.has(rpc.message)) return undefined;
    return new DeadAuthKeyError(rpc.message, { worker: this.id }, { cause: err });
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
          rememberSelf(this.client, self);
          this.login_ = 'reused';
          return;
        }
        this.log(`bot ${this.id}: saved session belongs to another account; logging in again`);
      } catch (err) {
        // 401 AUTH_KEY_UNREGISTERED: the key is no longer logged in (log in with it again);
        // SESSION_REVOKED, AUTH_KEY_DUPLICATED: the key itself is refused (a new one is needed).
        const dead = this.deadKey(err);
        if (dead) throw dead;
        const rpc = rpcErrorParts(err);
        if (!rpc || rpc.rpcCode !== 401) throw this.translate(err, { worker: this.id, method: 'users.getUsers' });
        this.log(`bot ${this.id}: saved session is no longer authorized (${rpc.message}); logging in again`);
      }
    }
    try {
      const auth = await this.call(
        new Api.auth.ImportBotAuthorization({ flags: 0, apiId: opts.apiId, apiHash: opts.apiHash, botAuthToken: opts.token }),
        { worker: this.id, method: 'auth.importBotAuthorization' },
        undefined,
        undefined,
        false,
      );
      if (auth instanceof Api.auth.Authorization) rememberSelf(this.client, auth.user);
    } catch (err) {
      const dead = this.deadKey(err);
      if (dead) throw dead;
      const rpc = rpcErrorParts(err);
      if (rpc && (TOKEN_REFUSED.has(rpc.message) || rpc.rpcCode === 401)) throw new InvalidTokenError(this.id, rpc.message);
      throw this.translate(err, { worker: this.id, method: 'auth.importBotAuthorization' });
    }
    this.login_ = 'imported';
  }

  /** Keeps the (not logged in) auth key for the next login: in the session file, else told to the caller. */
  private async keepKey(opts: WorkerOptions): Promise<void> {
    if (this.store) return this.saveSession();
    const session = this.sessionString();
    if (session) opts.onKeptSession?.(session);
  }

  private async saveSession(): Promise<void> {
    const session = this.client.session;
    if (this.store && session instanceof StringSession) await this.store.save(this.id, session);
  }

  /** Saves the session after the saves already started (a new DC key); failures are logged. */
  private saveSessionLater(): Promise<void> {
    if (!this.loggedIn) return this.saving;
    this.saving = this.saving.then(() => this.saveSession()).catch((err: unknown) => {
      this.log(`bot ${this.id}: cannot save the session: ${err instanceof Error ? err.message : String(err)}`);
    });
    return this.saving;
  }

  /** The current session as a StringSession string (a secret: to keep, e.g. in TGVFS_SESSIONS). */
  sessionString(): string {
    const session = this.client.session;
    return session instanceof StringSession ? session.save() : '';
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

  /**
   * A channel request with this account's access hash, translated into tgvfs errors (FLOOD_WAIT
   * becomes FloodWaitError, so that a pool moves the call). An access hash that the server
   * refuses is fetched again, once; an abort rejects with `signal.reason`.
   */
  private async channelRequest<R extends Api.AnyRequest>(
    channelId: number,
    build: (input: Api.InputChannel) => R,
    signal: AbortSignal | undefined,
  ): Promise<R['__response']> {
    const ctx: ErrorContext = { channel: channelId, worker: this.id };
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new WorkerStoppedError(ctx);
      const request = build(await this.resolveChannel(channelId, signal));
      try {
        return await raceWithSignal(this.client.invoke(request), signal);
      } catch (err) {
        throwIfAborted(signal);
        const e = toTgvfsError(err, { ...ctx, method: tlMethodName(request.className) });
        if (attempt === 0 && e instanceof ChannelInaccessibleError && e.reason === 'CHANNEL_INVALID') {
          this.forgetChannel(channelId);
          continue;
        }
        throw e;
      }
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
    const cache = this.cache;
    const saved = cache ? await this.cacheRead(() => cache.getChannelHash(this.id, channelId)) : undefined;
    if (saved !== undefined) {
      this.channelsFromCache.add(channelId);
      return new Api.InputChannel({ channelId: id, accessHash: bigInt(saved) });
    }
    const res = await this.call(
      new Api.channels.GetChannels({ id: [new Api.InputChannel({ channelId: id, accessHash: bigInt.zero })] }),
      { ...ctx, method: 'channels.getChannels' },
      undefined,
      undefined,
    );
    const chat = res.chats.find((c) => c.id.equals(id));
    if (chat instanceof Api.Channel) {
      const accessHash = chat.accessHash ?? bigInt.zero;
      this.channelsFromCache.delete(channelId);
      if (cache) await this.cacheWrite(() => cache.setChannelHash(this.id, channelId, accessHash.toString()));
      return new Api.InputChannel({ channelId: id, accessHash });
    }
    throw new ChannelInaccessibleError(chat instanceof Api.ChannelForbidden ? 'channelForbidden' : 'not returned', ctx);
  }

  /** Forgets a channel's access hash here and in the cache. */
  private async dropChannel(channelId: number): Promise<void> {
    this.channels.delete(channelId);
    this.channelsFromCache.delete(channelId);
    const cache = this.cache;
    if (cache) await this.cacheWrite(() => cache.deleteChannelHash(this.id, channelId));
  }

  /** getMessage → DocInfo → memory and cache; a message that is gone is forgotten too. */
  private async fetchDoc(channelId: number, msgId: number): Promise<DocInfo> {
    let doc: DocInfo;
    try {
      doc = freezeDoc(docInfoFromMessage(channelId, await this.getMessage(channelId, msgId), { worker: this.id }));
    } catch (err) {
      if (err instanceof MessageNotFoundError || err instanceof NotADocumentError) await this.invalidateDoc(channelId, msgId);
      throw err;
    }
    this.docs.set(docKey(channelId, msgId), doc);
    const cache = this.cache;
    if (cache) await this.cacheWrite(() => cache.setDoc(this.id, channelId, msgId, doc));
    return doc;
  }

  /** The largest thumbnail, in whole 1 MiB parts from offset 0 until a short one. */
  private async downloadThumbnail(doc: DocInfo, signal: AbortSignal | undefined): Promise<Buffer> {
    const thumb = largestThumb(doc.thumbs);
    const ctx: ErrorContext = { channel: doc.channel, msgId: doc.msgId, worker: this.id };
    if (!thumb) throw new NoThumbnailError(ctx);
    const location = fileLocation(doc, thumb.type);
    const parts: Buffer[] = [];
    for (let offset = 0; ; offset += MiB) {
      if (offset >= MAX_THUMBNAIL_BYTES) {
        throw new TgvfsError('THUMBNAIL_TOO_LARGE', `thumbnail ${thumb.type} exceeds ${MAX_THUMBNAIL_BYTES} bytes`, ctx);
      }
      const part = await this.getFilePart(location, offset, MiB, { dcId: doc.dcId, signal });
      parts.push(part);
      if (part.length < MiB) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** A cache read that fails is a miss (logged): the cache never makes a request fail. */
  private async cacheRead<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
    try {
      return await read();
    } catch (err) {
      this.log(`bot ${this.id}: metadata cache read failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** A cache write that fails is logged and otherwise ignored. */
  private async cacheWrite(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.log(`bot ${this.id}: metadata cache write failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async shutdown(): Promise<void> {
    this.exported?.close();
    if (this.loggedIn) await this.saveSessionLater();
    await destroyClient(this.client);
  }
}

function docKey(channelId: number, msgId: number): string {
  return `${channelId}:${msgId}`;
}

/** DocInfos are shared between callers (memory front, in-flight fetches): nobody may edit one. */
function freezeDoc(doc: DocInfo): DocInfo {
  for (const t of doc.thumbs) Object.freeze(t);
  Object.freeze(doc.thumbs);
  return Object.freeze(doc);
}

function stripMethod(ctx: ErrorContext & { method?: string }): ErrorContext {
  const { method: _method, ...rest } = ctx;
  return rest;
}

function clientParams(opts: WorkerOptions, network: WorkerNetwork): TelegramClientParams {
  // Abridged framing has no per-packet CRC32 (which GramJS computes in JS over every byte);
  // TCP already checksums. GramJS's own abridged codec needs the exact reads dc-socket gives.
  const framing = (opts.transport ?? 'abridged') === 'abridged' ? ConnectionTCPAbridged : ConnectionTCPFull;
  return {
    connectionRetries: opts.connectionRetries ?? 3,
    retryDelay: 500,
    floodSleepThreshold: 0,
    useWSS: false,
    autoReconnect: true,
    deviceModel: 'tgvfs',
    appVersion: '0.1.0',
    baseLogger: new Logger(LogLevel.NONE),
    ...network.clientParams(framing),
  };
}
