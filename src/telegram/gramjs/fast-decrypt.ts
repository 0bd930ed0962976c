// Installs a leaner `MTProtoState.decryptMessageData` into GramJS. Every answer (1 MiB for a
// getFile part) passes through it, and GramJS's version copies the whole decrypted payload once
// more only to hash it: `sha256(Buffer.concat([authKey[96..128], body]))`. Ours feeds both pieces
// to one hash instead. Everything else (checks, errors, msg id bookkeeping, parsing) is GramJS's
// code, kept line for line; and the packet's buffer goes back to the socket's pool once decrypted
// (packet-pool.ts).
//
// Replaces (telegram 2.26.22): network/MTProtoState.js, MTProtoState.prototype.decryptMessageData.
// Relies on: MTProtoSender calls it as a method of its MTProtoState (network/MTProtoSender.js,
// _recvLoop), so patching the prototype at install time reaches every connection, including
// ones already open; the private fields and method it reads (authKey, msgIds, securityChecks,
// _calcKey) keep their 2.26.22 meaning; and IGE is looked up at call time (see fast-ige.ts).
import { createHash } from 'node:crypto';
import type bigInt from 'big-integer';
import { MTProtoState } from 'telegram/network/MTProtoState';
import { BinaryReader } from 'telegram/extensions';
import { TLMessage } from 'telegram/tl/core';
import { InvalidBufferError, SecurityError } from 'telegram/errors';
import { readBigIntFromBuffer } from 'telegram/Helpers';
import type { AuthKey } from 'telegram/crypto/AuthKey';
import type { IgeClass } from './fast-ige';
import { recyclePacket } from './packet-pool';

type Decrypt = (this: MTProtoState, body: Buffer) => Promise<TLMessage>;

/** The private fields of GramJS's MTProtoState that decryptMessageData reads and writes. */
interface StateInternals {
  authKey?: AuthKey;
  id: bigInt.BigInteger;
  msgIds: string[];
  securityChecks: boolean;
  _calcKey(authKey: Buffer, msgKey: Buffer, client: boolean): Promise<{ key: Buffer; iv: Buffer }>;
}

function igeClass(): IgeClass {
  // Read at call time, as GramJS does, so that installFastIge applies here too.
  return (require('telegram/crypto/IGE') as { IGE: IgeClass }).IGE;
}

/** GramJS's decryptMessageData (telegram 2.26.22), hashing without the concat. */
async function decryptMessageData(this: MTProtoState, body: Buffer): Promise<TLMessage> {
  const self = this as unknown as StateInternals;
  if (!self.authKey) throw new Error('Auth key unset');
  if (body.length < 8) throw new InvalidBufferError(body);
  const keyId = readBigIntFromBuffer(body.subarray(0, 8));
  if (!self.authKey.keyId || keyId.neq(self.authKey.keyId)) throw new SecurityError('Server replied with an invalid auth key');
  const authKey = self.authKey.getKey();
  if (!authKey) throw new SecurityError('Unset AuthKey');
  const msgKey = body.subarray(8, 24);
  const { iv, key } = await self._calcKey(authKey, msgKey, false);
  const plain = new (igeClass())(key, iv).decryptIge(body.subarray(24));
  // https://core.telegram.org/mtproto/security_guidelines ("checking sha256 hash", "message length")
  const ourKey = createHash('sha256').update(authKey.subarray(96, 128)).update(plain).digest();
  if (!msgKey.equals(ourKey.subarray(8, 24))) throw new SecurityError("Received msg_key doesn't match with expected one");
  // Nothing refers to the ciphertext from here on (MTProtoSender drops it): the socket may reuse it.
  recyclePacket(body);
  const reader = new BinaryReader(plain);
  reader.readLong(); // salt
  reader.readLong(); // session id (GramJS does not check it either)
  const remoteMsgId = reader.readLong();
  const idText = remoteMsgId.toString();
  if (self.msgIds.includes(idText) && self.securityChecks) throw new SecurityError('Duplicate msgIds');
  if (self.msgIds.length > 500) self.msgIds.shift();
  self.msgIds.push(idText);
  const remoteSequence = reader.readInt();
  reader.readInt(); // msg_len of the inner object; the padding after it is never read
  const obj = reader.tgReadObject();
  return new TLMessage(remoteMsgId, remoteSequence, obj);
}

let gramJsDecrypt: Decrypt | undefined;

/** Replaces GramJS's MTProtoState.decryptMessageData (see the file comment). Idempotent. */
export function installFastDecrypt(): void {
  const proto = MTProtoState.prototype as unknown as { decryptMessageData: Decrypt };
  if (proto.decryptMessageData === decryptMessageData) return;
  gramJsDecrypt = proto.decryptMessageData;
  proto.decryptMessageData = decryptMessageData;
}

export function isFastDecryptInstalled(): boolean {
  return (MTProtoState.prototype as unknown as { decryptMessageData: Decrypt }).decryptMessageData === decryptMessageData;
}

/** GramJS's own decryptMessageData (whatever is installed when `installFastDecrypt` has not run). */
export function originalDecrypt(): Decrypt {
  return gramJsDecrypt ?? (MTProtoState.prototype as unknown as { decryptMessageData: Decrypt }).decryptMessageData;
}
