// Our own senders to foreign DCs (a file on another DC: FILE_MIGRATE), in place of GramJS's.
// GramJS exports the authorization again for every new sender, even when it holds a key for that
// DC, and retries the export/import in a `while (true)` every second whatever Telegram said:
// against a FLOOD_WAIT_N it spins for N seconds and lengthens the wait. Here:
// - a DC whose key the session holds (per-dc-session.ts) is reached with that key: one
//   initConnection(users.getUsers(self)) checks it is still authorized, and nothing is exported;
// - otherwise: a new key (handshake on that DC), auth.exportAuthorization on the home DC,
//   auth.importAuthorization on the new one, each FLOOD_WAIT waited for the seconds Telegram
//   gave (`sleep`, abortable: `close()` ends every wait), then the key goes into the session and
//   `onAuthorized` lets the owner save it at once;
// - one sender per DC, shared by every caller, kept for the client's life (no 30 s release: a
//   filesystem reads files on the same DC again and again); a key the DC forgets (404, 401) is
//   dropped and the next call authorizes again.
//
// Replaces (telegram 2.26.22): client/telegramBaseClient.js, TelegramBaseClient
// ._borrowExportedSender (and so _connectSender, _createExportedSender, _cleanupExportedSender
// and the release timers), on one client instance.
// Relies on: `invoke(request, dcId)` (client/users.js) and `getSender(dcId)` reaching a foreign
// DC only through `this._borrowExportedSender(dcId)`; senders kept in `_exportedSenderPromises`
// (a Map of DC id → Promise<MTProtoSender>) being reconnected with the main sender and closed by
// client-shutdown.ts; MTProtoSender calling `onConnectionBreak(dcId)` when a non-main sender's key
// is refused (_handleBadAuthKey); `_connection`, `_proxy`, `networkSocket`, `_initRequest`,
// `_log` as telegramBaseClient.js sets them.
import { Api, type TelegramClient } from 'telegram';
import { AuthKey } from 'telegram/crypto/AuthKey';
import { MTProtoSender } from 'telegram/network';
import { LAYER } from 'telegram/tl/AllTLObjects';
import { FloodWaitError, TelegramConnectionError, WorkerStoppedError } from '../errors';
import { raceWithSignal } from '../../util/abort';
import { rpcErrorParts, toTgvfsError } from './translate-error';

export interface ExportedSendersOptions {
  /** Bot id, for log lines and error context. */
  worker: number;
  /** Waits `ms` or rejects with `signal.reason`. @default setTimeout */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** One line per export, import, FLOOD_WAIT and reused key. Never sees a key. */
  log?: (line: string) => void;
  /** The session now holds an authorized key for `dcId` (save it). */
  onAuthorized?: (dcId: number) => void;
}

/** The private GramJS state this module works with (telegramBaseClient.js). */
interface ClientInternals {
  _borrowExportedSender: (dcId: number) => Promise<MTProtoSender>;
  _exportedSenderPromises: Map<number, Promise<MTProtoSender>>;
  _proxy?: unknown;
}

/** Most FLOOD_WAITs waited out in one authorization before giving up (each is a real wait). */
const MAX_FLOOD_WAITS = 5;

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return raceWithSignal(new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), signal);
}

export class ExportedSenders {
  private readonly internals: ClientInternals;
  private readonly life = new AbortController();
  /** Rejects the check or import in progress on a sender when its key is refused. */
  private readonly breaks = new Map<MTProtoSender, (err: Error) => void>();
  /** Senders whose key a DC refused: never connected again (their DC is authorized anew). */
  private readonly refused = new WeakSet<MTProtoSender>();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly log: (line: string) => void;

  private constructor(private readonly client: TelegramClient, private readonly opts: ExportedSendersOptions) {
    this.internals = client as unknown as ClientInternals;
    this.sleep = opts.sleep ?? defaultSleep;
    this.log = opts.log ?? (() => undefined);
  }

  /** Puts our senders in GramJS's place on `client`. */
  static install(client: TelegramClient, opts: ExportedSendersOptions): ExportedSenders {
    const senders = new ExportedSenders(client, opts);
    senders.internals._borrowExportedSender = (dcId: number) => senders.borrow(dcId);
    return senders;
  }

  /** Ends every FLOOD_WAIT being waited and refuses new senders (the client is closing). */
  close(): void {
    this.life.abort(new WorkerStoppedError({ worker: this.opts.worker }));
  }

  /**
   * The sender for `dcId`, opened (and authorized) once and shared. One whose reconnects all
   * failed is connected again, with its key (GramJS's borrow did the same).
   */
  async borrow(dcId: number): Promise<MTProtoSender> {
    const map = this.internals._exportedSenderPromises;
    const pending = map.get(dcId);
    const sender = pending ? await pending : undefined;
    if (pending && sender && (sender.isConnected() || sender.isConnecting || sender.isReconnecting)) return sender;
    // Whoever finds it gone first replaces it; later callers wait for that.
    if (map.get(dcId) !== pending) return this.borrow(dcId);
    const next = sender && !this.refused.has(sender) ? this.revive(dcId, sender) : this.open(dcId);
    map.set(dcId, next);
    next.catch(() => {
      if (map.get(dcId) === next) map.delete(dcId);
    });
    return next;
  }

  private async open(dcId: number): Promise<MTProtoSender> {
    if (this.life.signal.aborted) throw this.life.signal.reason;
    const saved = this.client.session.getAuthKey(dcId);
    // A second connection to the home DC (GramJS's uploads ask for one): the main sender's key,
    // which the login proved, is never checked nor dropped here.
    if (dcId === this.client.session.dcId && saved?.getKey()) return this.connect(dcId, this.newSender(dcId, saved));
    if (saved?.getKey()) {
      const sender = await this.connect(dcId, this.newSender(dcId, saved));
      if (await this.disconnectOnFailure(sender, this.stillAuthorized(dcId, sender))) {
        this.log(`bot ${this.opts.worker}: DC ${dcId} reached with the session's saved key (no export)`);
        return sender;
      }
      this.client.session.setAuthKey(undefined, dcId);
      await sender.disconnect().catch(() => undefined);
    }
    const sender = await this.connect(dcId, this.newSender(dcId, new AuthKey()));
    await this.disconnectOnFailure(sender, this.authorize(dcId, sender));
    this.client.session.setAuthKey(sender.authKey, dcId);
    this.opts.onAuthorized?.(dcId);
    return sender;
  }

  /** A sender whose connection is gone for good, connected again (same key: no export). */
  private async revive(dcId: number, sender: MTProtoSender): Promise<MTProtoSender> {
    if (this.life.signal.aborted) throw this.life.signal.reason;
    this.log(`bot ${this.opts.worker}: DC ${dcId} connection lost; connecting again`);
    return this.connect(dcId, sender);
  }

  /** Settles like `work`; when it fails, `sender` is disconnected first. */
  private async disconnectOnFailure<T>(sender: MTProtoSender, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      await sender.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** `sender` connected to `dcId` (an empty key: the handshake makes one); closed if we stop meanwhile. */
  private async connect(dcId: number, sender: MTProtoSender): Promise<MTProtoSender> {
    const c = this.client;
    const dc = await c.getDC(dcId, Boolean(sender.authKey.getKey()));
    const connection = new c._connection({
      ip: dc.ipAddress, port: dc.port, dcId, loggers: c._log, proxy: this.internals._proxy as never, testServers: c.testServers, socket: c.networkSocket,
    });
    const connecting = sender.connect(connection, false);
    let ok: boolean;
    try {
      ok = await raceWithSignal(connecting, this.life.signal);
    } catch (err) {
      void connecting.then(() => sender.disconnect(), () => undefined);
      throw err;
    }
    if (!ok) throw new TelegramConnectionError(`cannot reach DC ${dcId}`, { worker: this.opts.worker });
    return sender;
  }

  private newSender(dcId: number, key: AuthKey): MTProtoSender {
    const c = this.client;
    const sender: MTProtoSender = new MTProtoSender(key, {
      logger: c._log,
      dcId,
      retries: c._connectionRetries,
      delay: c._retryDelay,
      autoReconnect: c._autoReconnect,
      connectTimeout: c._timeout,
      authKeyCallback: null,
      isMainSender: false,
      onConnectionBreak: (dc: number) => this.broken(dc, sender),
      client: c,
      securityChecks: c._securityChecks,
      _exportedSenderPromises: this.internals._exportedSenderPromises,
      reconnectRetries: c._reconnectRetries,
    } as unknown as ConstructorParameters<typeof MTProtoSender>[1]);
    return sender;
  }

  /** The saved key still logs this bot in on `dcId` (false: refused, or forgotten by the DC). */
  private async stillAuthorized(dcId: number, sender: MTProtoSender): Promise<boolean> {
    try {
      await this.initConnection(sender, new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }));
      return true;
    } catch (err) {
      const rpc = rpcErrorParts(err);
      if ((rpc && rpc.rpcCode === 401) || err instanceof KeyForgottenError) {
        this.log(`bot ${this.opts.worker}: the saved key of DC ${dcId} is no longer authorized (${rpc?.message ?? 'unknown to the DC'}); authorizing again`);
        return false;
      }
      throw toTgvfsError(err, { worker: this.opts.worker, method: 'users.getUsers' });
    }
  }

  /** auth.exportAuthorization on the home DC, auth.importAuthorization on `dcId`. */
  private async authorize(dcId: number, sender: MTProtoSender): Promise<void> {
    const exported = await this.floodAware('auth.exportAuthorization', dcId, () =>
      this.client.invoke(new Api.auth.ExportAuthorization({ dcId })),
    );
    const importing = new Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes });
    await this.floodAware('auth.importAuthorization', dcId, () => this.initConnection(sender, importing));
    this.log(`bot ${this.opts.worker}: authorized on DC ${dcId} (exported from DC ${this.client.session.dcId})`);
  }

  /** `query` wrapped as GramJS's first request on a connection is, settled early if it breaks. */
  private async initConnection<R>(sender: MTProtoSender, query: Api.AnyRequest): Promise<R> {
    const init = this.client._initRequest;
    const request = new Api.InvokeWithLayer({
      layer: LAYER,
      query: new Api.InitConnection({
        apiId: init.apiId, deviceModel: init.deviceModel, systemVersion: init.systemVersion, appVersion: init.appVersion,
        langCode: init.langCode, langPack: init.langPack, systemLangCode: init.systemLangCode, proxy: init.proxy, query,
      }),
    });
    const broke = new Promise<never>((_, reject) => this.breaks.set(sender, reject));
    broke.catch(() => undefined);
    try {
      return await raceWithSignal(Promise.race([sender.send(request) as Promise<R>, broke]), this.life.signal);
    } finally {
      this.breaks.delete(sender);
    }
  }

  /** Runs `call`; a FLOOD_WAIT is waited for the seconds given (abortable), then `call` again. */
  private async floodAware<T>(method: string, dcId: number, call: () => Promise<T>): Promise<T> {
    for (let waits = 0; ; waits++) {
      try {
        return await call();
      } catch (err) {
        const e = toTgvfsError(err, { worker: this.opts.worker, method });
        if (!(e instanceof FloodWaitError) || waits >= MAX_FLOOD_WAITS) throw e;
        this.log(`bot ${this.opts.worker}: ${method} for DC ${dcId}: FLOOD_WAIT of ${e.waitSeconds} s; waiting`);
        await this.sleep(e.waitSeconds * 1000, this.life.signal);
      }
    }
  }

  /** MTProtoSender's report that `dcId` refused or forgot the key of `sender`. */
  private broken(dcId: number, sender: MTProtoSender): void {
    const reject = this.breaks.get(sender);
    if (reject) {
      reject(new KeyForgottenError(dcId));
      return;
    }
    this.log(`bot ${this.opts.worker}: DC ${dcId} refused its key; the next call there authorizes again`);
    this.refused.add(sender);
    const session = this.client.session;
    if (dcId !== session.dcId && session.getAuthKey(dcId) === sender.authKey) session.setAuthKey(undefined, dcId);
    void sender.disconnect().catch(() => undefined);
  }
}

/** The DC answered a key it does not know (transport error 404) or refused it. */
class KeyForgottenError extends Error {
  constructor(readonly dcId: number) {
    super(`DC ${dcId} does not know this auth key`);
  }
}
