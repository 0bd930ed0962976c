// One client TCP connection to one emulated DC: transport framing, the auth key exchange,
// encrypted sessions with their service messages, and dispatch of RPC calls to rpc-methods.
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import type { DcAddress } from '../config/schema';
import { tlMethodName } from '../util/tl-names';
import type { AuthKeyRecord, AuthKeyStore } from './auth-keys';
import type { EmulatorClock } from './clock';
import type { FileReader } from './file-reader';
import { describe, Handshake } from './handshake';
import { allocPlain, openMessage, PLAIN_HEADER, sealMessage } from './message-crypto';
import type { ServerRsaKey } from './rsa-key';
import { findHandler, RpcFault, type RpcContext, type RpcResult } from './rpc-methods';
import { Shaper } from './shaper';
import type { Stats } from './stats';
import { TransportCodec } from './transport';
import type { FaultSettings } from './types';
import type { World } from './world';

/** What every connection of one emulator shares. */
export interface EmulatorShared {
  world: World;
  stats: Stats;
  faults: FaultSettings;
  /** Telegram time (clock.ts); msg_ids keep to the machine's clock. */
  clock: EmulatorClock;
  dcs: DcAddress[];
  authKeys: AuthKeyStore;
  files: FileReader;
  rsa: ServerRsaKey;
  exported: Map<string, number>;
  log: (line: string) => void;
}

const CTOR = {
  container: 0x73f1f8dc,
  gzip: 0x3072cfa1,
  msgsAck: 0x62d6b459,
  ping: 0x7abe77ec,
  pingDelayDisconnect: 0xf3427b8c,
  destroySession: 0xe7512126,
  httpWait: 0x9299359f,
  msgsStateReq: 0xda69fb52,
  msgResendReq: 0x7d861a08,
  rpcResult: 0xf35c6d01,
  rpcError: 0x2144ca19,
  pong: 0x347773c5,
  badServerSalt: 0xedab447b,
  badMsgNotification: 0xa7eff811,
  newSessionCreated: 0x9ec20908,
  destroySessionOk: 0xe22045fc,
} as const;

/** Query wrappers whose `query` is the real call. */
const WRAPPERS = [Api.InvokeWithLayer, Api.InitConnection, Api.InvokeWithoutUpdates, Api.InvokeAfterMsg, Api.InvokeAfterMsgs];

let lastMsgId = 0n;

/**
 * Server msg_ids: unix time in the high 32 bits, increasing, ≡ 1 mod 4 for responses, 3 otherwise.
 * The machine's time, not the emulator clock's: clients check msg_ids against their own clock.
 */
function serverMsgId(response: boolean): bigint {
  const now = BigInt(Date.now());
  let id = ((now / 1000n) << 32n) | (((now % 1000n) * 4294967n) & ~3n);
  if (id <= lastMsgId) id = (lastMsgId & ~3n) + 4n;
  id |= response ? 1n : 3n;
  lastMsgId = id;
  return id;
}

export class EmuConnection {
  private readonly codec = new TransportCodec();
  private readonly shaper: Shaper;
  private handshake: Handshake | null = null;
  private plainChain: Promise<void> = Promise.resolve();
  private auth: AuthKeyRecord | null = null;
  private sessionId: bigint | null = null;
  private seq = 0;
  private closed = false;

  constructor(private readonly socket: Socket, private readonly dcId: number, private readonly shared: EmulatorShared) {
    socket.setNoDelay(true);
    this.shaper = new Shaper(socket, () => shared.faults, () => {
      shared.stats.fault('DROP');
      shared.log(`dc${dcId}: dropped a connection after --drop-every ${shared.faults.dropEvery} bytes`);
    }, shared.clock);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  private onData(chunk: Buffer): void {
    let payloads: Buffer[];
    try {
      payloads = this.codec.push(chunk);
    } catch (err) {
      this.fail(`transport: ${(err as Error).message}`);
      return;
    }
    for (const p of payloads) {
      if (p.length < 8) {
        this.fail(`packet of ${p.length} bytes`);
        return;
      }
      const keyId = p.readBigUInt64LE(0);
      if (keyId === 0n) {
        this.plainChain = this.plainChain.then(() => this.onPlain(p)).catch((err: Error) => this.fail(`handshake: ${err.message}`));
      } else {
        this.onEncrypted(keyId, p);
      }
    }
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.shared.log(`dc${this.dcId}: closing connection: ${why}`);
    this.closed = true;
    this.socket.destroy();
  }

  private async onPlain(p: Buffer): Promise<void> {
    const length = p.readUInt32LE(16);
    const request = new BinaryReader(p.subarray(20, 20 + length)).tgReadObject();
    this.handshake ??= new Handshake(this.shared.rsa);
    const { reply, result } = await this.handshake.handle(request);
    if (result) {
      this.shared.authKeys.add(result.key, result.salt, this.dcId);
      this.handshake = null;
    }
    const body = reply.getBytes();
    const head = Buffer.alloc(20);
    head.writeBigUInt64LE(serverMsgId(true), 8);
    head.writeUInt32LE(body.length, 16);
    this.shaper.send(this.codec.frame([head, body]));
  }

  private onEncrypted(keyId: bigint, p: Buffer): void {
    const rec = this.shared.authKeys.get(keyId);
    if (!rec) {
      // Telegram's answer to an auth key it does not know: a bare -404 transport error.
      this.shaper.send(this.codec.errorPacket(-404));
      return;
    }
    let msg;
    try {
      msg = openMessage(rec, p);
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    this.auth = rec;
    if (!msg.salt.equals(rec.salt)) {
      const b = Buffer.alloc(28);
      b.writeUInt32LE(CTOR.badServerSalt, 0);
      b.writeBigUInt64LE(msg.msgId, 4);
      b.writeUInt32LE(msg.seqNo, 12);
      b.writeUInt32LE(48, 16);
      rec.salt.copy(b, 20);
      this.sendTo(msg.sessionId, b, false);
      return;
    }
    const badMsg = this.checkMsgId(msg.msgId);
    if (badMsg) {
      const b = Buffer.alloc(20);
      b.writeUInt32LE(CTOR.badMsgNotification, 0);
      b.writeBigUInt64LE(msg.msgId, 4);
      b.writeUInt32LE(msg.seqNo, 12);
      b.writeUInt32LE(badMsg, 16);
      this.sendTo(msg.sessionId, b, false);
      return;
    }
    if (this.sessionId !== msg.sessionId) {
      this.sessionId = msg.sessionId;
      this.seq = 0;
      const b = Buffer.alloc(28);
      b.writeUInt32LE(CTOR.newSessionCreated, 0);
      b.writeBigUInt64LE(msg.msgId, 4);
      randomBytes(8).copy(b, 12);
      rec.salt.copy(b, 20);
      this.send(b, true);
    }
    this.onMessage(msg.msgId, msg.body);
  }

  /** bad_msg_notification codes 16/17 (clock too far off) and 18 (msg_id not divisible by 4). */
  private checkMsgId(msgId: bigint): number {
    if (msgId % 4n !== 0n) return 18;
    const skew = Number(msgId >> 32n) - Date.now() / 1000;
    if (skew < -300) return 16;
    if (skew > 30) return 17;
    return 0;
  }

  private onMessage(msgId: bigint, body: Buffer): void {
    if (body.length < 4) return;
    const ctor = body.readUInt32LE(0);
    switch (ctor) {
      case CTOR.container: {
        const count = body.readUInt32LE(4);
        let at = 8;
        for (let i = 0; i < count && at + 16 <= body.length; i++) {
          const innerId = body.readBigUInt64LE(at);
          const len = body.readUInt32LE(at + 12);
          this.onMessage(innerId, body.subarray(at + 16, at + 16 + len));
          at += 16 + len;
        }
        return;
      }
      case CTOR.gzip: {
        const packed = new BinaryReader(body.subarray(4)).tgReadBytes();
        this.onMessage(msgId, gunzipSync(packed));
        return;
      }
      case CTOR.msgsAck:
      case CTOR.httpWait:
      case CTOR.msgsStateReq:
      case CTOR.msgResendReq:
        return;
      case CTOR.ping:
      case CTOR.pingDelayDisconnect: {
        const b = Buffer.alloc(20);
        b.writeUInt32LE(CTOR.pong, 0);
        b.writeBigUInt64LE(msgId, 4);
        body.copy(b, 12, 4, 12);
        this.send(b, true);
        return;
      }
      case CTOR.destroySession: {
        const b = Buffer.alloc(12);
        b.writeUInt32LE(CTOR.destroySessionOk, 0);
        body.copy(b, 4, 4, 12);
        this.send(b, true);
        return;
      }
      default:
        void this.onRpc(msgId, body);
    }
  }

  private async onRpc(msgId: bigint, body: Buffer): Promise<void> {
    let result: RpcResult;
    try {
      result = await this.call(body);
    } catch (err) {
      const fault = err instanceof RpcFault ? err : new RpcFault(500, 'INTERNAL');
      if (!(err instanceof RpcFault)) this.shared.log(`dc${this.dcId}: handler failed: ${(err as Error).stack ?? String(err)}`);
      const e = new Api.RpcError({ errorCode: fault.errorCode, errorMessage: fault.errorMessage }).getBytes();
      const b = Buffer.alloc(12 + e.length);
      b.writeUInt32LE(CTOR.rpcResult, 0);
      b.writeBigUInt64LE(msgId, 4);
      e.copy(b, 12);
      this.send(b, true);
      return;
    }
    const raw = 'fill' in result ? result : null;
    const bytes = raw ? null : (result as { getBytes(): Buffer }).getBytes();
    const length = 12 + (raw ? raw.length : bytes!.length);
    const plain = allocPlain(length);
    plain.writeUInt32LE(CTOR.rpcResult, PLAIN_HEADER);
    plain.writeBigUInt64LE(msgId, PLAIN_HEADER + 4);
    if (raw) {
      try {
        await raw.fill(plain, PLAIN_HEADER + 12);
      } catch (err) {
        this.fail(`reading file content: ${(err as Error).message}`);
        return;
      }
    } else bytes!.copy(plain, PLAIN_HEADER + 12);
    this.sendPlain(plain, length, true);
  }

  private async call(body: Buffer): Promise<RpcResult> {
    let query: unknown;
    try {
      query = new BinaryReader(body).tgReadObject();
    } catch {
      throw new RpcFault(400, `INPUT_METHOD_INVALID_${body.readUInt32LE(0)}`);
    }
    while (WRAPPERS.some((w) => query instanceof w)) query = (query as { query: unknown }).query;
    const ctorId = (query as { CONSTRUCTOR_ID?: number } | null)?.CONSTRUCTOR_ID;
    const name = methodName(query);
    this.shared.stats.call(name);
    const handler = ctorId === undefined ? undefined : findHandler(ctorId);
    if (!handler) throw new RpcFault(400, `INPUT_METHOD_INVALID_${ctorId ?? body.readUInt32LE(0)}`);
    const ctx: RpcContext = {
      world: this.shared.world, stats: this.shared.stats, faults: this.shared.faults, clock: this.shared.clock, dcId: this.dcId, dcs: this.shared.dcs,
      authKey: this.auth!, authKeys: this.shared.authKeys, files: this.shared.files, exported: this.shared.exported,
    };
    return handler(query, ctx);
  }

  /** The bot this connection's auth key is logged in as, or null. */
  get botId(): number | null {
    return this.closed ? null : (this.auth?.userId ?? null);
  }

  /**
   * Sends an `Updates` object the server pushes on its own (not a response: msg_id ≡ 3 mod 4,
   * content-related). Dropped when the client has not opened a session yet.
   */
  pushUpdates(body: Buffer): void {
    if (this.sessionId === null) return;
    const plain = allocPlain(body.length);
    body.copy(plain, PLAIN_HEADER);
    this.sendPlain(plain, body.length, true, this.sessionId, false);
  }

  private send(body: Buffer, contentRelated: boolean): void {
    if (this.sessionId === null) return;
    this.sendTo(this.sessionId, body, contentRelated);
  }

  private sendTo(sessionId: bigint, body: Buffer, contentRelated: boolean): void {
    const plain = allocPlain(body.length);
    body.copy(plain, PLAIN_HEADER);
    this.sendPlain(plain, body.length, contentRelated, sessionId);
  }

  private sendPlain(plain: Buffer, bodyLength: number, contentRelated: boolean, sessionId = this.sessionId, response = true): void {
    if (this.closed || !this.auth || sessionId === null) return;
    const seqNo = contentRelated ? this.seq++ * 2 + 1 : this.seq * 2;
    const sealed = sealMessage(this.auth, plain, bodyLength, sessionId, serverMsgId(response), seqNo);
    this.shaper.send(this.codec.frame(sealed));
  }
}

/** `upload.GetFile` → `upload.getFile`, as the schema spells methods. */
export function methodName(query: unknown): string {
  return tlMethodName(describe(query));
}
