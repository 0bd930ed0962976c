import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import { MTProtoState } from 'telegram/network/MTProtoState';
import { AuthKey } from 'telegram/crypto/AuthKey';
import { Api } from 'telegram';
import { RPCResult, type TLMessage } from 'telegram/tl/core';
import { SecurityError } from 'telegram/errors';
import { BinaryReader } from 'telegram/extensions';
import { installFastDecrypt, isFastDecryptInstalled, originalDecrypt } from '../src/telegram/gramjs/fast-decrypt';
import { igeEncrypt } from '../src/crypto/aes-ige';

type Decrypt = (this: MTProtoState, body: Buffer) => Promise<TLMessage>;
const proto = MTProtoState.prototype as unknown as { decryptMessageData: Decrypt };
// Captured before anything replaces it.
const gramJsDecrypt = proto.decryptMessageData;

interface CalcKey {
  _calcKey(authKey: Buffer, msgKey: Buffer, client: boolean): Promise<{ key: Buffer; iv: Buffer }>;
}

/** GramJS's typings mark these private; they are plain fields. */
interface RpcResultFields {
  reqMsgId: bigInt.BigInteger;
  body?: Buffer;
}
const seqNo = (m: TLMessage): number => (m as unknown as { seqNo: number }).seqNo;

async function newKey(): Promise<AuthKey> {
  const k = new AuthKey();
  await k.setKey(randomBytes(256));
  return k;
}

function long(n: bigInt.BigInteger): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt.asIntN(64, BigInt(n.toString())));
  return b;
}

/** A server → client message as Telegram builds it (MTProto 2.0, x = 8). */
async function serverPacket(authKey: AuthKey, msgId: bigInt.BigInteger, inner: Buffer): Promise<Buffer> {
  const key = authKey.getKey()!;
  const head = Buffer.concat([randomBytes(8), randomBytes(8), long(msgId), Buffer.from([3, 0, 0, 0]), Buffer.alloc(4)]);
  head.writeInt32LE(inner.length, 28);
  const len = head.length + inner.length;
  const padding = randomBytes(12 + ((16 - ((len + 12) % 16)) % 16));
  const plain = Buffer.concat([head, inner, padding]);
  const msgKey = createHash('sha256').update(key.subarray(96, 128)).update(plain).digest().subarray(8, 24);
  const { key: aesKey, iv } = await (new MTProtoState(authKey) as unknown as CalcKey)._calcKey(key, msgKey, false);
  return Buffer.concat([long(authKey.keyId!), msgKey, igeEncrypt(plain, aesKey, iv)]);
}

/** rpc_result wrapping an upload.file with `bytes`. */
function fileResult(reqMsgId: bigInt.BigInteger, bytes: Buffer): Buffer {
  const file = new Api.upload.File({ type: new Api.storage.FilePartial(), mtime: 1_700_000_000, bytes });
  const id = Buffer.alloc(4);
  id.writeUInt32LE(RPCResult.CONSTRUCTOR_ID);
  return Buffer.concat([id, long(reqMsgId), file.getBytes()]);
}

async function both(authKey: AuthKey, packet: Buffer): Promise<[TLMessage | Error, TLMessage | Error]> {
  const run = (f: Decrypt): Promise<TLMessage | Error> =>
    f.call(new MTProtoState(authKey), packet).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  return [await run(gramJsDecrypt), await run(proto.decryptMessageData)];
}

test('installFastDecrypt replaces MTProtoState.decryptMessageData, idempotently', () => {
  assert.equal(isFastDecryptInstalled(), false);
  installFastDecrypt();
  assert.equal(isFastDecryptInstalled(), true);
  assert.notEqual(proto.decryptMessageData, gramJsDecrypt);
  const installed = proto.decryptMessageData;
  installFastDecrypt();
  assert.equal(proto.decryptMessageData, installed);
  assert.equal(originalDecrypt(), gramJsDecrypt, 'the original stays reachable');
});

test('fast decryptMessageData returns what GramJS returns, byte for byte', async () => {
  installFastDecrypt();
  const authKey = await newKey();
  for (const size of [0, 1, 4096, 65_536 + 3, 1 << 20]) {
    const bytes = randomBytes(size);
    const msgId = bigInt(1_700_000_000).shiftLeft(32).add(size * 4 + 1);
    const reqId = bigInt(1_700_000_000).shiftLeft(32).add(8);
    const [slow, fast] = await both(authKey, await serverPacket(authKey, msgId, fileResult(reqId, bytes)));
    assert.ok(!(slow instanceof Error), `GramJS failed at ${size}: ${String(slow)}`);
    assert.ok(!(fast instanceof Error), `fast failed at ${size}: ${String(fast)}`);
    assert.equal(fast.msgId.toString(), slow.msgId.toString());
    assert.equal(seqNo(fast), seqNo(slow));
    // A core object's fromReader is async: obj is a promise in both (MTProtoSender awaits it).
    const slowObj: unknown = await slow.obj;
    const fastObj: unknown = await fast.obj;
    assert.ok(fastObj instanceof RPCResult);
    const a = slowObj as RpcResultFields;
    const b = fastObj as unknown as RpcResultFields;
    assert.equal(b.reqMsgId.toString(), reqId.toString());
    assert.ok(a.body && b.body && b.body.equals(a.body), `rpc_result bodies differ at ${size}`);
    const file: unknown = new BinaryReader(b.body).tgReadObject();
    assert.ok(file instanceof Api.upload.File);
    assert.ok(file.bytes.equals(bytes), `upload.file bytes differ at ${size}`);
  }
});

test('fast decryptMessageData refuses what GramJS refuses', async () => {
  installFastDecrypt();
  const authKey = await newKey();
  const msgId = bigInt(1_700_000_000).shiftLeft(32).add(5);
  const good = await serverPacket(authKey, msgId, fileResult(bigInt(8), randomBytes(1000)));

  const flipped = Buffer.from(good);
  flipped[flipped.length - 20]! ^= 1; // a bit of the ciphertext
  const wrongKeyId = Buffer.from(good);
  wrongKeyId[0]! ^= 1;
  for (const [what, packet, message] of [
    ['tampered ciphertext', flipped, /msg_key doesn't match/],
    ['wrong auth key id', wrongKeyId, /invalid auth key/],
  ] as const) {
    const [slow, fast] = await both(authKey, packet);
    assert.ok(slow instanceof SecurityError, `GramJS accepted a ${what}`);
    assert.ok(fast instanceof SecurityError, `fast accepted a ${what}`);
    assert.match(fast.message, message);
    assert.equal(fast.message, slow.message);
  }

  // The same message twice on one connection is a replay.
  for (const f of [gramJsDecrypt, proto.decryptMessageData]) {
    const state = new MTProtoState(authKey);
    await f.call(state, good);
    await assert.rejects(f.call(state, good), (err: unknown) => err instanceof SecurityError && /Duplicate msgIds/.test(err.message));
  }
});
