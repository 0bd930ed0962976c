// MTProto 2.0 message encryption, server side: msg_key = middle 128 bits of
// SHA256(auth_key[88+x : 120+x] + plaintext + padding), with x = 0 for messages from the client
// and x = 8 for messages to it (https://core.telegram.org/mtproto/description).
import { createHash, randomFillSync } from 'node:crypto';
import { igeDecrypt, igeEncrypt } from '../crypto/aes-ige';
import type { AuthKeyRecord } from './auth-keys';

export interface InboundMessage {
  salt: Buffer;
  sessionId: bigint;
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

export class MessageCryptoError extends Error {
  readonly code = 'EMU_MESSAGE_CRYPTO';
}

function keyIv(authKey: Buffer, msgKey: Buffer, x: number): { key: Buffer; iv: Buffer } {
  const a = createHash('sha256').update(msgKey).update(authKey.subarray(x, x + 36)).digest();
  const b = createHash('sha256').update(authKey.subarray(40 + x, 76 + x)).update(msgKey).digest();
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** Decrypts and checks a client message (payload without the 8-byte auth_key_id, which the caller read). */
export function openMessage(rec: AuthKeyRecord, payload: Buffer): InboundMessage {
  if (payload.length < 8 + 16 + 32 || (payload.length - 24) % 16 !== 0) throw new MessageCryptoError(`encrypted message of ${payload.length} bytes`);
  const msgKey = payload.subarray(8, 24);
  const { key, iv } = keyIv(rec.key, msgKey, 0);
  const plain = igeDecrypt(payload.subarray(24), key, iv);
  const check = createHash('sha256').update(rec.key.subarray(88, 120)).update(plain).digest().subarray(8, 24);
  if (!check.equals(msgKey)) throw new MessageCryptoError('msg_key mismatch');
  const length = plain.readUInt32LE(28);
  const padding = plain.length - 32 - length;
  if (length % 4 !== 0 || padding < 12 || padding > 1024) throw new MessageCryptoError(`bad message length ${length}`);
  return {
    salt: plain.subarray(0, 8),
    sessionId: plain.readBigUInt64LE(8),
    msgId: plain.readBigUInt64LE(16),
    seqNo: plain.readUInt32LE(24),
    body: plain.subarray(32, 32 + length),
  };
}

/** Header bytes before the body in a plaintext message: salt, session_id, msg_id, seq_no, length. */
export const PLAIN_HEADER = 32;

/** A buffer sized for a message of `bodyLength` bytes plus legal padding; the body starts at 32. */
export function allocPlain(bodyLength: number): Buffer {
  const padding = 12 + ((16 - ((PLAIN_HEADER + bodyLength + 12) % 16)) % 16);
  return Buffer.allocUnsafe(PLAIN_HEADER + bodyLength + padding);
}

/** Fills the header and padding of `plain` (from allocPlain) and encrypts it: [auth_key_id+msg_key, ciphertext]. */
export function sealMessage(
  rec: AuthKeyRecord, plain: Buffer, bodyLength: number, sessionId: bigint, msgId: bigint, seqNo: number,
): Buffer[] {
  rec.salt.copy(plain, 0);
  plain.writeBigUInt64LE(sessionId, 8);
  plain.writeBigUInt64LE(msgId, 16);
  plain.writeUInt32LE(seqNo, 24);
  plain.writeUInt32LE(bodyLength, 28);
  randomFillSync(plain, PLAIN_HEADER + bodyLength);
  const msgKey = createHash('sha256').update(rec.key.subarray(96, 128)).update(plain).digest().subarray(8, 24);
  const { key, iv } = keyIv(rec.key, msgKey, 8);
  const head = Buffer.allocUnsafe(24);
  head.writeBigUInt64LE(rec.id, 0);
  msgKey.copy(head, 8);
  return [head, igeEncrypt(plain, key, iv)];
}
