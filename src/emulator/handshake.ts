// Auth key exchange, server side (https://core.telegram.org/mtproto/auth_key): req_pq(_multi),
// req_DH_params with either encryption of p_q_inner_data that Telegram accepts (RSA_PAD, and
// the older sha1(data) + data + padding that Telethon 1.25 still sends), set_client_DH_params.
// Requests arrive as unencrypted messages; one connection carries one exchange.
import { createDiffieHellman, createHash, generatePrimeSync, randomBytes, type DiffieHellman } from 'node:crypto';
import { igeDecrypt, igeEncrypt } from '../crypto/aes-ige';
import { firstSalt, newNonceHash, tmpAesKeyIv } from './handshake-keys';
import type { ServerRsaKey } from './rsa-key';
import { encode, tl, TlError, TlReader, type TlObject } from './tl';
import { bigIntFromBytes, bigIntToBytes } from './tl-bytes';

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
const P_Q_INNER = new Set(['p_q_inner_data', 'p_q_inner_data_dc', 'p_q_inner_data_temp', 'p_q_inner_data_temp_dc']);

export class HandshakeError extends Error {
  readonly code = 'EMU_HANDSHAKE';
}

export interface NewAuthKey {
  key: Buffer;
  salt: Buffer;
}

/** One auth key exchange. `handle` answers each request; `result` comes with dh_gen_ok. */
export class Handshake {
  private nonce: Buffer | null = null;
  private serverNonce: Buffer | null = null;
  private newNonce: Buffer | null = null;
  private pq: { p: bigint; q: bigint } | null = null;
  private dh: DiffieHellman | null = null;
  private tmp: { key: Buffer; iv: Buffer } | null = null;

  constructor(private readonly rsa: ServerRsaKey) {}

  /** Answers one plain request with the bytes of its answer and, at the end, the new key. */
  handle(request: TlObject): { reply: Buffer; result?: NewAuthKey } {
    switch (request._) {
      case 'req_pq_multi':
      case 'req_pq': return { reply: encode(this.resPq(bytes(request.nonce, 16)), 0) };
      case 'req_DH_params': return { reply: encode(this.dhParams(request), 0) };
      case 'set_client_DH_params': {
        const { reply, result } = this.clientDh(request);
        return { reply: encode(reply, 0), result };
      }
      default: throw new HandshakeError(`unexpected unencrypted request ${request._}`);
    }
  }

  private resPq(nonce: Buffer): TlObject {
    this.nonce = nonce;
    this.serverNonce = randomBytes(16);
    // GramJS reads pq as a signed 64-bit number: keep its top bit clear (two 31-bit primes).
    const p = generatePrimeSync(31, { bigint: true });
    let q = generatePrimeSync(31, { bigint: true });
    while (q === p) q = generatePrimeSync(31, { bigint: true });
    this.pq = p < q ? { p, q } : { p: q, q: p };
    return {
      _: 'resPQ', nonce, server_nonce: this.serverNonce, pq: bigIntToBytes(p * q), server_public_key_fingerprints: [this.rsa.fingerprint],
    };
  }

  private dhParams(req: TlObject): TlObject {
    this.checkNonces(req);
    const p = bigIntFromBytes(bytes(req.p)), q = bigIntFromBytes(bytes(req.q));
    if (!this.pq || p !== this.pq.p || q !== this.pq.q) throw new HandshakeError('wrong p or q');
    if (req.public_key_fingerprint !== this.rsa.fingerprint) throw new HandshakeError('unknown RSA key fingerprint');
    const inner = this.decryptInner(this.rsa.decryptRaw(bytes(req.encrypted_data)));
    if (!P_Q_INNER.has(inner._)) throw new HandshakeError(`p_q_inner_data expected, got ${inner._}`);
    this.checkNonces(inner);
    this.newNonce = bytes(inner.new_nonce, 32);
    this.dh = createDiffieHellman(DH_PRIME, DH_G);
    const answer = encode({
      _: 'server_DH_inner_data', nonce: this.nonce, server_nonce: this.serverNonce, g: DH_G, dh_prime: DH_PRIME,
      g_a: this.dh.generateKeys(), server_time: Math.floor(Date.now() / 1000),
    }, 0);
    this.tmp = tmpAesKeyIv(this.serverNonce!, this.newNonce);
    let withHash = Buffer.concat([sha1(answer), answer]);
    withHash = Buffer.concat([withHash, randomBytes((16 - (withHash.length % 16)) % 16)]);
    return { _: 'server_DH_params_ok', nonce: this.nonce, server_nonce: this.serverNonce, encrypted_answer: igeEncrypt(withHash, this.tmp.key, this.tmp.iv) };
  }

  /**
   * p_q_inner_data from the RSA-decrypted block, in either scheme: the old one is
   * 0 + sha1(data) + data + padding (255 bytes under RSA); RSA_PAD is
   * temp_key_xor (32) + AES-IGE(reversed(data_with_padding) + sha256(temp_key + data_with_padding)).
   */
  private decryptInner(decrypted: Buffer): TlObject {
    return oldScheme(decrypted) ?? rsaPad(decrypted);
  }

  private clientDh(req: TlObject): { reply: TlObject; result: NewAuthKey } {
    this.checkNonces(req);
    if (!this.tmp || !this.dh || !this.newNonce) throw new HandshakeError('set_client_DH_params before req_DH_params');
    const encrypted = bytes(req.encrypted_data);
    if (encrypted.length === 0 || encrypted.length % 16) throw new HandshakeError(`client_DH_inner_data of ${encrypted.length} bytes`);
    const plain = igeDecrypt(encrypted, this.tmp.key, this.tmp.iv);
    const reader = new TlReader(tl(), plain.subarray(20));
    const inner = reader.tlObject();
    if (inner._ !== 'client_DH_inner_data') throw new HandshakeError(`client_DH_inner_data expected, got ${inner._}`);
    if (!sha1(plain.subarray(20, 20 + reader.position)).equals(plain.subarray(0, 20))) throw new HandshakeError('client_DH_inner_data hash mismatch');
    this.checkNonces(inner);
    // Every client we know (GramJS, Telethon, mtcute) makes the key of g_ab without its leading
    // zero bytes; so must we, or their key ids would differ from ours once in 256 exchanges.
    const secret = this.dh.computeSecret(bytes(inner.g_b));
    let start = 0;
    while (start < secret.length - 1 && secret[start] === 0) start++;
    const key = Buffer.from(secret.subarray(start));
    return {
      reply: { _: 'dh_gen_ok', nonce: this.nonce, server_nonce: this.serverNonce, new_nonce_hash1: newNonceHash(this.newNonce, 1, key) },
      result: { key, salt: firstSalt(this.newNonce, this.serverNonce!) },
    };
  }

  private checkNonces(obj: TlObject): void {
    const nonce = bytes(obj.nonce, 16), serverNonce = bytes(obj.server_nonce, 16);
    if (!this.nonce || !this.serverNonce || !nonce.equals(this.nonce) || !serverNonce.equals(this.serverNonce)) {
      throw new HandshakeError('nonce mismatch');
    }
  }
}

function oldScheme(decrypted: Buffer): TlObject | null {
  if (decrypted.length !== 256 || decrypted[0] !== 0) return null;
  try {
    const reader = new TlReader(tl(), decrypted.subarray(21));
    const inner = reader.tlObject();
    return sha1(decrypted.subarray(21, 21 + reader.position)).equals(decrypted.subarray(1, 21)) ? inner : null;
  } catch (err) {
    if (err instanceof TlError) return null;
    throw err;
  }
}

function rsaPad(decrypted: Buffer): TlObject {
  const aesEncrypted = decrypted.subarray(32);
  const tempKey = xor(decrypted.subarray(0, 32), sha256(aesEncrypted));
  const dataWithHash = igeDecrypt(aesEncrypted, tempKey, Buffer.alloc(32));
  const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
  if (!sha256(Buffer.concat([tempKey, dataWithPadding])).equals(dataWithHash.subarray(192))) {
    throw new HandshakeError('p_q_inner_data: neither RSA_PAD nor the sha1 scheme');
  }
  return new TlReader(tl(), dataWithPadding).tlObject();
}

function bytes(v: unknown, length?: number): Buffer {
  if (!Buffer.isBuffer(v) || (length !== undefined && v.length !== length)) throw new HandshakeError('malformed handshake field');
  return v;
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
