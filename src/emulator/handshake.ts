// Auth key exchange, server side (https://core.telegram.org/mtproto/auth_key): req_pq_multi,
// req_DH_params with the RSA_PAD scheme, set_client_DH_params. Requests arrive as unencrypted
// messages; one connection carries one exchange.
import { createDiffieHellman, createHash, generatePrimeSync, randomBytes, type DiffieHellman } from 'node:crypto';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { AuthKey } from 'telegram/crypto/AuthKey';
import { BinaryReader } from 'telegram/extensions';
import { generateKeyDataFromNonce, readBigIntFromBuffer, readBufferFromBigInt, toSignedLittleBuffer } from 'telegram/Helpers';
import { igeDecrypt, igeEncrypt } from '../crypto/aes-ige';
import type { ServerRsaKey } from './rsa-key';

// Telegram's own 2048-bit safe prime, with generator 3.
const DH_PRIME = Buffer.from(
  'c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4db' +
    'fa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64' +
    '2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b41' +
    '0dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4' +
    'e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf' +
    '6f4fadf034b10403119cd8e3b92fcc5b',
  'hex',
);
const DH_G = 3;

export class HandshakeError extends Error {
  readonly code = 'EMU_HANDSHAKE';
}

export interface NewAuthKey {
  key: Buffer;
  salt: Buffer;
}

type BigInteger = bigInt.BigInteger;

/** One auth key exchange. `handle` answers each request; `done` is set after dh_gen_ok. */
export class Handshake {
  private nonce: BigInteger | null = null;
  private serverNonce: BigInteger | null = null;
  private newNonce: BigInteger | null = null;
  private pq: { p: bigint; q: bigint } | null = null;
  private dh: DiffieHellman | null = null;
  private tmp: { key: Buffer; iv: Buffer } | null = null;

  constructor(private readonly rsa: ServerRsaKey) {}

  /** Answers one plain request; returns the response object and, at the end, the new key. */
  async handle(request: unknown): Promise<{ reply: { getBytes(): Buffer }; result?: NewAuthKey }> {
    if (request instanceof Api.ReqPqMulti || request instanceof Api.ReqPq) return { reply: this.resPq(request.nonce) };
    if (request instanceof Api.ReqDHParams) return { reply: await this.dhParams(request) };
    if (request instanceof Api.SetClientDHParams) return this.clientDh(request);
    throw new HandshakeError(`unexpected unencrypted request ${describe(request)}`);
  }

  private resPq(nonce: BigInteger): Api.ResPQ {
    this.nonce = nonce;
    this.serverNonce = readBigIntFromBuffer(randomBytes(16), true, true);
    // GramJS reads pq as a signed 64-bit number: keep its top bit clear (two 31-bit primes).
    const p = generatePrimeSync(31, { bigint: true });
    let q = generatePrimeSync(31, { bigint: true });
    while (q === p) q = generatePrimeSync(31, { bigint: true });
    this.pq = p < q ? { p, q } : { p: q, q: p };
    return new Api.ResPQ({
      nonce,
      serverNonce: this.serverNonce,
      pq: bigEndian(p * q),
      serverPublicKeyFingerprints: [bigInt(this.rsa.fingerprint.toString())],
    });
  }

  private async dhParams(req: Api.ReqDHParams): Promise<Api.ServerDHParamsOk> {
    this.checkNonces(req.nonce, req.serverNonce);
    if (!this.pq || bigIntOf(req.p) !== this.pq.p || bigIntOf(req.q) !== this.pq.q) throw new HandshakeError('wrong p or q');
    if (req.publicKeyFingerprint.toString() !== this.rsa.fingerprint.toString()) throw new HandshakeError('unknown RSA key fingerprint');
    // RSA_PAD: key_aes_encrypted = temp_key_xor (32) + AES-IGE(data_with_hash, temp_key, 0)
    const decrypted = this.rsa.decryptRaw(req.encryptedData);
    const aesEncrypted = decrypted.subarray(32);
    const tempKey = xor(decrypted.subarray(0, 32), sha256(aesEncrypted));
    const dataWithHash = igeDecrypt(aesEncrypted, tempKey, Buffer.alloc(32));
    const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
    if (!sha256(Buffer.concat([tempKey, dataWithPadding])).equals(dataWithHash.subarray(192))) {
      throw new HandshakeError('RSA_PAD hash mismatch');
    }
    const inner = new BinaryReader(dataWithPadding).tgReadObject();
    if (!(inner instanceof Api.PQInnerData || inner instanceof Api.PQInnerDataDc || inner instanceof Api.PQInnerDataTempDc)) {
      throw new HandshakeError(`p_q_inner_data expected, got ${describe(inner)}`);
    }
    this.checkNonces(inner.nonce, inner.serverNonce);
    this.newNonce = inner.newNonce;
    this.dh = createDiffieHellman(DH_PRIME, DH_G);
    const gA = this.dh.generateKeys();
    const answer = new Api.ServerDHInnerData({
      nonce: req.nonce,
      serverNonce: req.serverNonce,
      g: DH_G,
      dhPrime: DH_PRIME,
      gA,
      serverTime: Math.floor(Date.now() / 1000),
    }).getBytes();
    this.tmp = await generateKeyDataFromNonce(req.serverNonce, inner.newNonce);
    let withHash = Buffer.concat([sha1(answer), answer]);
    withHash = Buffer.concat([withHash, randomBytes((16 - (withHash.length % 16)) % 16)]);
    return new Api.ServerDHParamsOk({
      nonce: req.nonce,
      serverNonce: req.serverNonce,
      encryptedAnswer: igeEncrypt(withHash, this.tmp.key, this.tmp.iv),
    });
  }

  private async clientDh(req: Api.SetClientDHParams): Promise<{ reply: Api.DhGenOk; result: NewAuthKey }> {
    this.checkNonces(req.nonce, req.serverNonce);
    if (!this.tmp || !this.dh || !this.newNonce || !this.serverNonce) throw new HandshakeError('set_client_DH_params before req_DH_params');
    const plain = igeDecrypt(req.encryptedData, this.tmp.key, this.tmp.iv);
    const reader = new BinaryReader(plain);
    reader.read(20);
    const inner = reader.tgReadObject();
    if (!(inner instanceof Api.ClientDHInnerData)) throw new HandshakeError(`client_DH_inner_data expected, got ${describe(inner)}`);
    const innerBytes = plain.subarray(20, reader.tellPosition());
    if (!sha1(innerBytes).equals(plain.subarray(0, 20))) throw new HandshakeError('client_DH_inner_data hash mismatch');
    // GramJS builds the key from g_ab with its leading zero bytes dropped; so must we.
    const secret = this.dh.computeSecret(inner.gB);
    let start = 0;
    while (start < secret.length - 1 && secret[start] === 0) start++;
    const key = Buffer.from(secret.subarray(start));
    const authKey = new AuthKey();
    await authKey.setKey(key);
    const newNonceHash1 = await authKey.calcNewNonceHash(this.newNonce, 1);
    const salt = xor(toSignedLittleBuffer(this.newNonce, 32).subarray(0, 8), readBufferFromBigInt(this.serverNonce, 16, true, true).subarray(0, 8));
    return {
      reply: new Api.DhGenOk({ nonce: req.nonce, serverNonce: req.serverNonce, newNonceHash1 }),
      result: { key, salt },
    };
  }

  private checkNonces(nonce: BigInteger, serverNonce: BigInteger): void {
    if (!this.nonce || !this.serverNonce || !nonce.equals(this.nonce) || !serverNonce.equals(this.serverNonce)) {
      throw new HandshakeError('nonce mismatch');
    }
  }
}

function bigEndian(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

function bigIntOf(b: Buffer): bigint {
  return BigInt('0x' + (b.length ? b.toString('hex') : '0'));
}

function sha256(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest();
}

function sha1(b: Buffer): Buffer {
  return createHash('sha1').update(b).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function describe(obj: unknown): string {
  if (obj && typeof obj === 'object' && 'className' in obj) return String((obj as { className: unknown }).className);
  return typeof obj;
}
