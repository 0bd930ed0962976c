// One client TCP connection to one emulated DC: transport framing, the auth key exchange,
// encrypted messages of sessions that outlive the connection (sessions.ts), the service
// messages Telegram answers, and dispatch of RPC calls (rpc-call.ts). Anything malformed
// (framing, auth key id, msg_key, TL, gzip, a failing handler) closes this connection with a
// log line; nothing a client sends can stop the server.
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { DcAddress } from '../config/schema';
import type { AuthFloodState } from './auth-flood';
import type { AuthHabits } from './auth-habits';
import type { AuthKeyRecord, AuthKeyStore } from './auth-keys';
import { unixSeconds, type EmulatorClock } from './clock';
import type { FileReader } from './file-reader';
import { Handshake } from './handshake';
import { allocPlain, openMessage, PLAIN_HEADER, sealMessage } from './message-crypto';
import type { ServerRsaKey } from './rsa-key';
import { MalformedQueryError, readQuery, runQuery, type CallTarget } from './rpc-call';
import { isRawResult, RpcFault, type RpcContext, type RpcResult } from './rpc-methods';
import { MsgState, Session, type SessionStore } from './sessions';
import { Shaper } from './shaper';
import type { Stats } from './stats';
import { decode, encode, encodeResult, tl, TlReader, unpack, type TlObject } from './tl';
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
  sessions: SessionStore;
  files: FileReader;
  rsa: ServerRsaKey;
  exported: Map<string, number>;
  authFlood: AuthFloodState;
  /** Login FLOOD_WAIT, AUTH_KEY_DUPLICATED, revoked sessions (auth-habits.ts). */
  habits: AuthHabits;
  log: (line: string) => void;
}

/** Service constructor ids, from the MTProto schema. */
const ID = Object.fromEntries(
  ['msg_container', 'gzip_packed', 'msgs_ack', 'ping', 'ping_delay_disconnect', 'destroy_session', 'http_wait', 'msgs_state_req',
    'msg_resend_req', 'msg_resend_ans_req', 'get_future_salts', 'rpc_drop_answer', 'rpc_result'].map((n) => [n, tl().pick(n, 0).id]),
) as Record<string, number>;

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

/** How many future salts get_future_salts may ask for, and how long each is valid. */
const MAX_FUTURE_SALTS = 64;
const SALT_PERIOD = 3600;

export class EmuConnection implements CallTarget {
  private readonly codec = new TransportCodec();
  private readonly shaper: Shaper;
  private handshake: Handshake | null = null;
  private plainChain: Promise<void> = Promise.resolve();
  private auth: AuthKeyRecord | null = null;
  private session: Session | null = null;
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
      shared.habits.release(this);
    });
  }

  /** The API layer answers are written in: the one this auth key declared, else the oldest held. */
  get layer(): number {
    return this.auth?.layer ?? tl().oldest;
  }

  /** The bot this connection's auth key is logged in as, or null. */
  get botId(): number | null {
    return this.closed ? null : (this.auth?.userId ?? null);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const p of this.codec.push(chunk)) {
        if (this.closed) return;
        this.onPayload(p);
      }
    } catch (err) {
      this.fail((err as Error).message);
    }
  }

  private onPayload(p: Buffer): void {
    if (p.length < 8) throw new Error(`packet of ${p.length} bytes`);
    const keyId = p.readBigUInt64LE(0);
    if (keyId === 0n) {
      this.plainChain = this.plainChain.then(() => this.onPlain(p)).catch((err: Error) => this.fail(`handshake: ${err.message}`));
    } else this.onEncrypted(keyId, p);
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.shared.log(`dc${this.dcId}: closing connection: ${why}`);
    this.closed = true;
    this.socket.destroy();
  }

  private onPlain(p: Buffer): void {
    if (this.closed) return;
    if (p.length < 20) throw new Error(`plain message of ${p.length} bytes`);
    const length = p.readUInt32LE(16);
    if (20 + length > p.length) throw new Error(`plain message says ${length} bytes, has ${p.length - 20}`);
    this.handshake ??= new Handshake(this.shared.rsa);
    const { reply, result } = this.handshake.handle(decode(p.subarray(20, 20 + length)));
    if (result) {
      this.shared.authKeys.add(result.key, result.salt, this.dcId);
      this.shared.stats.keyCreated();
      this.handshake = null;
    }
    const head = Buffer.alloc(20);
    head.writeBigUInt64LE(serverMsgId(true), 8);
    head.writeUInt32LE(reply.length, 16);
    this.shaper.send(this.codec.frame([head, reply]));
  }

  private onEncrypted(keyId: bigint, p: Buffer): void {
    const rec = this.shared.authKeys.get(keyId);
    if (!rec) {
      // Telegram's answer to an auth key it does not know: a bare -404 transport error, then it hangs up.
      this.shared.log(`dc${this.dcId}: closing connection: unknown auth key id ${keyId.toString(16)} (sent -404)`);
      this.shaper.send(this.codec.errorPacket(-404), true);
      this.closed = true;
      return;
    }
    const msg = openMessage(rec, p);
    this.auth = rec;
    if (!msg.salt.equals(rec.salt)) return this.badMessage(msg.sessionId, msg.msgId, msg.seqNo, 48);
    const badMsg = checkMsgId(msg.msgId);
    if (badMsg) return this.badMessage(msg.sessionId, msg.msgId, msg.seqNo, badMsg);
    if (this.session?.id !== msg.sessionId) this.openSession(rec, msg.sessionId, msg.msgId);
    this.onMessage(msg.msgId, msg.seqNo, msg.body);
  }

  /** bad_server_salt (code 48, with the right salt) or bad_msg_notification, in the client's session. */
  private badMessage(sessionId: bigint, msgId: bigint, seqNo: number, code: number): void {
    const session = this.shared.sessions.peek(this.auth!.id, sessionId) ?? new Session(sessionId, this.auth!.id);
    const body = code === 48
      ? { _: 'bad_server_salt', bad_msg_id: msgId, bad_msg_seqno: seqNo, error_code: 48, new_server_salt: this.auth!.salt.readBigInt64LE(0) }
      : { _: 'bad_msg_notification', bad_msg_id: msgId, bad_msg_seqno: seqNo, error_code: code };
    this.sendIn(session, encode(body, 0), false);
  }

  /** Joins the session (it outlives connections); a new one is announced with new_session_created. */
  private openSession(rec: AuthKeyRecord, sessionId: bigint, firstMsgId: bigint): void {
    const { session, created } = this.shared.sessions.open(rec.id, sessionId);
    this.session = session;
    if (!created) return;
    this.send(encode({ _: 'new_session_created', first_msg_id: firstMsgId, unique_id: randomBytes(8).readBigInt64LE(0), server_salt: rec.salt.readBigInt64LE(0) }, 0), true);
  }

  private onMessage(msgId: bigint, seqNo: number, body: Buffer): void {
    if (body.length < 4) throw new Error(`message of ${body.length} bytes`);
    const ctor = body.readUInt32LE(0);
    if (ctor === ID.msg_container) return this.onContainer(body);
    if (ctor === ID.gzip_packed) return this.onMessage(msgId, seqNo, unpack(new TlReader(tl(), body.subarray(4)).bytes()));
    this.session!.receivedMessage(msgId, (seqNo & 1) === 1);
    switch (ctor) {
      case ID.msgs_ack:
      case ID.http_wait:
        return;
      case ID.ping:
      case ID.ping_delay_disconnect:
        return this.send(encode({ _: 'pong', msg_id: msgId, ping_id: decode(body).ping_id }, 0), true);
      case ID.destroy_session: {
        const sessionId = decode(body).session_id as bigint;
        const existed = sessionId !== this.session!.id && this.shared.sessions.destroy(this.auth!.id, sessionId);
        return this.send(encode({ _: existed ? 'destroy_session_ok' : 'destroy_session_none', session_id: sessionId }, 0), true);
      }
      case ID.msgs_state_req: return this.answerStateReq(msgId, decode(body));
      case ID.msg_resend_req:
      case ID.msg_resend_ans_req: return this.resend(decode(body));
      case ID.get_future_salts: return this.futureSalts(msgId, decode(body));
      default: void this.onRpc(msgId, body);
    }
  }

  private onContainer(body: Buffer): void {
    const count = body.length >= 8 ? body.readUInt32LE(4) : -1;
    if (count < 0 || count > 1024) throw new Error(`container of ${count} messages`);
    let at = 8;
    for (let i = 0; i < count; i++) {
      if (at + 16 > body.length) throw new Error('container ends early');
      const innerId = body.readBigUInt64LE(at);
      const innerSeq = body.readUInt32LE(at + 8);
      const len = body.readUInt32LE(at + 12);
      if (at + 16 + len > body.length || len % 4) throw new Error(`container message of ${len} bytes`);
      if (body.readUInt32LE(at + 16) === ID.msg_container) throw new Error('container in a container');
      this.onMessage(innerId, innerSeq, body.subarray(at + 16, at + 16 + len));
      at += 16 + len;
    }
  }

  /** msgs_state_info: one status byte per msg_id asked about, in order. */
  private answerStateReq(msgId: bigint, req: TlObject): void {
    const ids = (req.msg_ids as bigint[]).slice(0, 8192);
    const info = Buffer.from(ids.map((id) => this.session!.stateOf(id)));
    this.send(encode({ _: 'msgs_state_info', req_msg_id: msgId, info }, 0), true);
  }

  /** msg_resend_req: sends again, with their own msg_id and seq_no, the messages still kept; others are ignored. */
  private resend(req: TlObject): void {
    for (const id of req.msg_ids as bigint[]) {
      const kept = this.session!.sentMessage(id);
      if (!kept) continue;
      const plain = allocPlain(kept.body.length);
      kept.body.copy(plain, PLAIN_HEADER);
      this.shaper.send(this.codec.frame(sealMessage(this.auth!, plain, kept.body.length, this.session!.id, id, kept.seqNo)));
    }
  }

  /**
   * get_future_salts is answered with a bare future_salts (no rpc_result). The emulator keeps
   * one salt per auth key, so every future salt is that one, over consecutive hours.
   */
  private futureSalts(msgId: bigint, req: TlObject): void {
    const num = Math.min(MAX_FUTURE_SALTS, Math.max(1, Number(req.num)));
    const now = unixSeconds(this.shared.clock);
    const start = now - (now % SALT_PERIOD);
    const salt = this.auth!.salt.readBigInt64LE(0);
    const salts = Array.from({ length: num }, (_, i) => ({
      _: 'future_salt', valid_since: start + i * SALT_PERIOD, valid_until: start + (i + 1) * SALT_PERIOD, salt,
    }));
    this.send(encode({ _: 'future_salts', req_msg_id: msgId, now, salts }, 0), true);
  }

  /**
   * Telegram acknowledges the content-related messages it received with msgs_ack. The emulator
   * sends the ack for everything received so far just before its next message (in the same
   * write, so that --latency delays both once).
   */
  private ackFrames(session: Session): Buffer[] {
    const ids = session.takeAcks();
    if (!ids.length || !this.auth) return [];
    const body = encode({ _: 'msgs_ack', msg_ids: ids }, 0);
    const plain = allocPlain(body.length);
    body.copy(plain, PLAIN_HEADER);
    return this.codec.frame(sealMessage(this.auth, plain, body.length, session.id, serverMsgId(false), session.nextSeqNo(false)));
  }

  private async onRpc(msgId: bigint, body: Buffer): Promise<void> {
    let method: string;
    let result: RpcResult;
    const refused = this.shared.habits.refuse(this.auth!, this, this.socket.remoteAddress ?? '');
    if (refused) return this.sendRpcError(msgId, refused);
    try {
      ({ method, result } = await runQuery(readQuery(body), this));
    } catch (err) {
      if (err instanceof RpcFault) return this.sendRpcError(msgId, err);
      if (err instanceof MalformedQueryError) return this.fail(`malformed query: ${err.message}`);
      this.shared.log(`dc${this.dcId}: handler failed: ${(err as Error).stack ?? String(err)}`);
      return this.fail('a handler failed');
    }
    try {
      await this.sendResult(msgId, method, result);
    } catch (err) {
      this.shared.log(`dc${this.dcId}: cannot answer ${method}: ${(err as Error).stack ?? String(err)}`);
      this.fail(`answering ${method} failed`);
    }
  }

  private sendRpcError(msgId: bigint, fault: RpcFault): void {
    const e = encode({ _: 'rpc_error', error_code: fault.errorCode, error_message: fault.errorMessage }, 0);
    const b = Buffer.alloc(12 + e.length);
    b.writeUInt32LE(ID.rpc_result!, 0);
    b.writeBigUInt64LE(msgId, 4);
    e.copy(b, 12);
    this.session?.mark(msgId, MsgState.rpcProcessed | MsgState.answered);
    this.send(b, true);
  }

  /** rpc_result with the result written in the client's layer (file parts straight into the message). */
  private async sendResult(msgId: bigint, method: string, result: RpcResult): Promise<void> {
    const bytes = isRawResult(result) ? null : encodeResult(method, result, this.layer);
    const length = 12 + (bytes ? bytes.length : (result as { length: number }).length);
    const plain = allocPlain(length);
    plain.writeUInt32LE(ID.rpc_result!, PLAIN_HEADER);
    plain.writeBigUInt64LE(msgId, PLAIN_HEADER + 4);
    if (bytes) bytes.copy(plain, PLAIN_HEADER + 12);
    else if (isRawResult(result)) await result.fill(plain, PLAIN_HEADER + 12);
    this.session?.mark(msgId, MsgState.rpcProcessed | MsgState.answered);
    this.sendPlain(plain, length, true);
  }

  declareLayer(layer: number): boolean {
    if (!tl().serves(layer)) return false;
    this.shared.authKeys.setLayer(this.auth!, layer);
    return true;
  }

  countCall(method: string): void {
    this.shared.stats.call(method, this.auth?.userId);
    if (this.auth?.userId) this.shared.stats.keyUsed(this.auth.userId, this.auth.id);
  }

  context(): RpcContext {
    const s = this.shared;
    return {
      world: s.world, stats: s.stats, faults: s.faults, clock: s.clock, dcId: this.dcId, dcs: s.dcs, layer: this.layer,
      authKey: this.auth!, authKeys: s.authKeys, files: s.files, exported: s.exported, authFlood: s.authFlood, habits: s.habits,
    };
  }

  /**
   * Sends an `Updates` object the server pushes on its own (not a response: msg_id ≡ 3 mod 4,
   * content-related), already written in this connection's layer. Dropped before a session opens.
   */
  pushUpdates(body: Buffer): void {
    if (!this.session) return;
    const plain = allocPlain(body.length);
    body.copy(plain, PLAIN_HEADER);
    this.sendPlain(plain, body.length, true, false);
  }

  private send(body: Buffer, contentRelated: boolean): void {
    if (this.session) this.sendIn(this.session, body, contentRelated);
  }

  private sendIn(session: Session, body: Buffer, contentRelated: boolean): void {
    const plain = allocPlain(body.length);
    body.copy(plain, PLAIN_HEADER);
    this.sendPlain(plain, body.length, contentRelated, true, session);
  }

  private sendPlain(plain: Buffer, bodyLength: number, contentRelated: boolean, response = true, session = this.session): void {
    if (this.closed || !this.auth || !session) return;
    const acks = this.ackFrames(session);
    const seqNo = session.nextSeqNo(contentRelated);
    const msgId = serverMsgId(response);
    if (contentRelated) session.keepSent(msgId, seqNo, plain.subarray(PLAIN_HEADER, PLAIN_HEADER + bodyLength));
    this.shaper.send([...acks, ...this.codec.frame(sealMessage(this.auth, plain, bodyLength, session.id, msgId, seqNo))]);
  }
}

/** bad_msg_notification codes 16/17 (clock too far off) and 18 (msg_id not divisible by 4). */
function checkMsgId(msgId: bigint): number {
  if (msgId % 4n !== 0n) return 18;
  const skew = Number(msgId >> 32n) - Date.now() / 1000;
  if (skew < -300) return 16;
  if (skew > 30) return 17;
  return 0;
}
