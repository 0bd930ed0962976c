// A minimal MTProto 2.0 client for tests, written with the emulator's TL codec and node:crypto
// only (no GramJS): the auth key exchange (either RSA scheme), encrypted messages at a chosen
// layer, and a stream of everything the server sends, decoded. It lets a test do what no
// library client does on purpose: declare any layer, gzip with zlib, ask for message states,
// resend requests, reconnect with the same session, send garbage.
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import net from 'node:net';
import { deflateSync } from 'node:zlib';
import { igeDecrypt, igeEncrypt } from '../../src/crypto/aes-ige';
import { decode, encode, tl, TlReader, type TlObject, type TlValue } from '../../src/emulator/tl';
import { bigIntFromBytes, bigIntToBytes, modPow } from '../../src/emulator/tl-bytes';

export interface ServerMessage {
  msgId: bigint;
  seqNo: number;
  /** Decoded body; an rpc_result's `result` is decoded too. */
  obj: TlObject;
  raw: Buffer;
}

const sha1 = (...b: Buffer[]): Buffer => b.reduce((h, x) => h.update(x), createHash('sha1')).digest();
const sha256 = (...b: Buffer[]): Buffer => b.reduce((h, x) => h.update(x), createHash('sha256')).digest();

/** Intermediate transport over one TCP connection. */
export class RawSocket {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly packets: Buffer[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32LE(0)) {
        const len = this.buf.readUInt32LE(0);
        this.packets.push(this.buf.subarray(4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(host: string, port: number): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => {
        s.write(Buffer.from([0xee, 0xee, 0xee, 0xee]));
        resolve(new RawSocket(s));
      });
      s.once('error', reject);
    });
  }

  send(payload: Buffer): void {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(payload.length);
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** The next packet; null when the connection closed first. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const p = this.packets.shift();
      if (p) return p;
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  close(): void {
    this.socket.destroy();
  }
}

let lastMsgId = 0n;
function clientMsgId(): bigint {
  let id = (BigInt(Date.now()) << 32n) / 1000n & ~3n;
  if (id <= lastMsgId) id = lastMsgId + 4n;
  lastMsgId = id;
  return id;
}

function plainPacket(body: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeBigUInt64LE(clientMsgId(), 8);
  head.writeUInt32LE(body.length, 16);
  return Buffer.concat([head, body]);
}

/** Pollard's rho for the emulator's pq (a product of two 31-bit primes). */
function factor(pq: bigint): [bigint, bigint] {
  for (let c = 1n; ; c++) {
    let x = 2n, y = 2n, d = 1n;
    const f = (v: bigint): bigint => (v * v + c) % pq;
    while (d === 1n) {
      x = f(x);
      y = f(f(y));
      const diff = x > y ? x - y : y - x;
      let a = diff, b = pq;
      while (b) [a, b] = [b, a % b];
      d = a;
    }
    if (d !== pq) return d < pq / d ? [d, pq / d] : [pq / d, d];
  }
}

export type RsaScheme = 'rsa_pad' | 'sha1';

function rsaEncrypt(data: Buffer, pem: string, scheme: RsaScheme): Buffer {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const n = bigIntFromBytes(Buffer.from(jwk.n!, 'base64url'));
  const e = bigIntFromBytes(Buffer.from(jwk.e!, 'base64url'));
  const raw = (m: Buffer): Buffer => bigIntToBytes(modPow(bigIntFromBytes(m), e, n), 256);
  if (scheme === 'sha1') return raw(Buffer.concat([sha1(data), data, randomBytes(235 - data.length)]));
  for (;;) {
    const padded = Buffer.concat([data, randomBytes(192 - data.length)]);
    const tempKey = randomBytes(32);
    const dataWithHash = Buffer.concat([Buffer.from(padded).reverse(), sha256(tempKey, padded)]);
    const aes = igeEncrypt(dataWithHash, tempKey, Buffer.alloc(32));
    const h = sha256(aes);
    const keyXor = Buffer.from(tempKey.map((b, i) => b ^ h[i]!));
    const block = Buffer.concat([keyXor, aes]);
    if (bigIntFromBytes(block) < n) return raw(block);
  }
}

async function plainCall(sock: RawSocket, req: TlObject): Promise<TlObject> {
  sock.send(plainPacket(encode(req, 0)));
  const p = await sock.next();
  if (!p) throw new Error(`connection closed after ${req._}`);
  return decode(p.subarray(20, 20 + p.readUInt32LE(16)));
}

export interface AuthKey {
  key: Buffer;
  id: Buffer;
  salt: Buffer;
}

/** The auth key exchange, with p_q_inner_data encrypted in `scheme`. */
export async function createAuthKey(sock: RawSocket, pem: string, dc: number, scheme: RsaScheme = 'rsa_pad'): Promise<AuthKey> {
  const nonce = randomBytes(16);
  const res = await plainCall(sock, { _: 'req_pq_multi', nonce });
  const serverNonce = res.server_nonce as Buffer;
  const [p, q] = factor(bigIntFromBytes(res.pq as Buffer));
  const newNonce = randomBytes(32);
  const inner = encode({ _: 'p_q_inner_data_dc', pq: res.pq, p: bigIntToBytes(p), q: bigIntToBytes(q), nonce, server_nonce: serverNonce, new_nonce: newNonce, dc }, 0);
  const fingerprint = (res.server_public_key_fingerprints as bigint[])[0];
  const dh = await plainCall(sock, {
    _: 'req_DH_params', nonce, server_nonce: serverNonce, p: bigIntToBytes(p), q: bigIntToBytes(q),
    public_key_fingerprint: fingerprint, encrypted_data: rsaEncrypt(inner, pem, scheme),
  });
  if (dh._ !== 'server_DH_params_ok') throw new Error(`req_DH_params: ${dh._}`);
  const h1 = sha1(newNonce, serverNonce), h2 = sha1(serverNonce, newNonce), h3 = sha1(newNonce, newNonce);
  const tmpKey = Buffer.concat([h1, h2.subarray(0, 12)]);
  const tmpIv = Buffer.concat([h2.subarray(12), h3, newNonce.subarray(0, 4)]);
  const answer = igeDecrypt(dh.encrypted_answer as Buffer, tmpKey, tmpIv);
  const sdh = new TlReader(tl(), answer.subarray(20)).tlObject();
  const prime = bigIntFromBytes(sdh.dh_prime as Buffer);
  const b = bigIntFromBytes(randomBytes(256));
  const gB = modPow(BigInt(sdh.g as number), b, prime);
  const key = bigIntToBytes(modPow(bigIntFromBytes(sdh.g_a as Buffer), b, prime));
  const cdh = encode({ _: 'client_DH_inner_data', nonce, server_nonce: serverNonce, retry_id: 0n, g_b: bigIntToBytes(gB) }, 0);
  let plain = Buffer.concat([sha1(cdh), cdh]);
  plain = Buffer.concat([plain, randomBytes((16 - (plain.length % 16)) % 16)]);
  const gen = await plainCall(sock, { _: 'set_client_DH_params', nonce, server_nonce: serverNonce, encrypted_data: igeEncrypt(plain, tmpKey, tmpIv) });
  const expected = sha1(newNonce, Buffer.from([1]), sha1(key).subarray(0, 8)).subarray(4, 20);
  if (gen._ !== 'dh_gen_ok' || !expected.equals(gen.new_nonce_hash1 as Buffer)) throw new Error(`set_client_DH_params: ${gen._}`);
  const salt = Buffer.from(newNonce.subarray(0, 8).map((x, i) => x ^ serverNonce[i]!));
  return { key, id: sha1(key).subarray(12, 20), salt };
}

function keyIv(authKey: Buffer, msgKey: Buffer, x: number): { key: Buffer; iv: Buffer } {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 76 + x), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** An encrypted session over a RawSocket: send bodies, read decoded server messages. */
export class RawSession {
  seq = 0;
  readonly received: ServerMessage[] = [];
  private cursor = 0;

  constructor(public sock: RawSocket, readonly auth: AuthKey, readonly sessionId = randomBytes(8).readBigUInt64LE(0)) {}

  /** Sends one message (content-related by default); returns its msg_id. */
  sendBody(body: Buffer, contentRelated = true, msgId = clientMsgId()): bigint {
    const seqNo = contentRelated ? this.seq++ * 2 + 1 : this.seq * 2;
    this.sock.send(this.seal(body, msgId, seqNo));
    return msgId;
  }

  seal(body: Buffer, msgId: bigint, seqNo: number): Buffer {
    const head = Buffer.alloc(32);
    this.auth.salt.copy(head, 0);
    head.writeBigUInt64LE(this.sessionId, 8);
    head.writeBigUInt64LE(msgId, 16);
    head.writeUInt32LE(seqNo, 24);
    head.writeUInt32LE(body.length, 28);
    const padLen = 12 + ((16 - ((32 + body.length + 12) % 16)) % 16);
    const plain = Buffer.concat([head, body, randomBytes(padLen)]);
    const msgKey = sha256(this.auth.key.subarray(88, 120), plain).subarray(8, 24);
    const { key, iv } = keyIv(this.auth.key, msgKey, 0);
    return Buffer.concat([this.auth.id, msgKey, igeEncrypt(plain, key, iv)]);
  }

  /** Sends a query (wrapped in invokeWithLayer when `layer` is given); returns its msg_id. */
  send(query: TlObject, opts: { layer?: number; zlib?: boolean } = {}): bigint {
    let obj: TlObject = query;
    if (opts.layer !== undefined) obj = { _: 'invokeWithLayer', layer: opts.layer, query: obj };
    // A layer the emulator does not hold is written with the newest schema (the server refuses it anyway).
    let body = encode(obj, opts.layer !== undefined && tl().serves(opts.layer) ? opts.layer : tl().newest);
    if (opts.zlib) body = encode({ _: 'gzip_packed', packed_data: deflateSync(body) }, 0);
    return this.sendBody(body);
  }

  /** The next server message that `match` accepts (earlier ones stay in `received`). */
  async next(match: (m: ServerMessage) => boolean = () => true): Promise<ServerMessage> {
    for (;;) {
      while (this.cursor < this.received.length) {
        const m = this.received[this.cursor++]!;
        if (match(m)) return m;
      }
      const p = await this.sock.next();
      if (!p) throw new Error('the server closed the connection');
      if (p.length === 4) throw new Error(`transport error ${p.readInt32LE(0)}`);
      this.open(p);
    }
  }

  /** The rpc_result for `msgId`, its result decoded. */
  async result(msgId: bigint): Promise<TlValue> {
    const m = await this.next((x) => x.obj._ === 'rpc_result' && x.obj.req_msg_id === msgId);
    return m.obj.result;
  }

  async call(query: TlObject, opts: { layer?: number; zlib?: boolean } = {}): Promise<TlValue> {
    return this.result(this.send(query, opts));
  }

  private open(p: Buffer): void {
    const msgKey = p.subarray(8, 24);
    const { key, iv } = keyIv(this.auth.key, msgKey, 8);
    const plain = igeDecrypt(p.subarray(24), key, iv);
    const check = sha256(this.auth.key.subarray(96, 128), plain).subarray(8, 24);
    if (!check.equals(msgKey)) throw new Error('server msg_key mismatch');
    const len = plain.readUInt32LE(28);
    this.push(plain.readBigUInt64LE(16), plain.readUInt32LE(24), plain.subarray(32, 32 + len));
  }

  private push(msgId: bigint, seqNo: number, body: Buffer): void {
    if (body.readUInt32LE(0) === 0x73f1f8dc) {
      let at = 8;
      for (let i = 0; i < body.readUInt32LE(4); i++) {
        const len = body.readUInt32LE(at + 12);
        this.push(body.readBigUInt64LE(at), body.readUInt32LE(at + 8), body.subarray(at + 16, at + 16 + len));
        at += 16 + len;
      }
      return;
    }
    this.received.push({ msgId, seqNo, obj: decodeServerBody(body), raw: Buffer.from(body) });
  }
}

/** A server message body; rpc_result's result read as any boxed object. */
function decodeServerBody(body: Buffer): TlObject {
  if (body.readUInt32LE(0) !== 0xf35c6d01) return decode(body);
  const r = new TlReader(tl(), body.subarray(12));
  return { _: 'rpc_result', req_msg_id: body.readBigInt64LE(4), result: r.object() as TlValue };
}

/** Connects to a DC of the emulator, makes an auth key and opens a session. */
export async function rawLogin(
  dc: { host: string; port: number; id: number }, pem: string, scheme: RsaScheme = 'rsa_pad',
): Promise<RawSession> {
  const sock = await RawSocket.connect(dc.host, dc.port);
  const auth = await createAuthKey(sock, pem, dc.id, scheme);
  return new RawSession(sock, auth);
}
