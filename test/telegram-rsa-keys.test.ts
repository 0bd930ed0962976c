import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import bigInt from 'big-integer';
import { _serverKeys } from 'telegram/crypto/RSA';
import { isRsaKeyTrusted, trustRsaKey } from '../src/telegram/gramjs/rsa-keys';
import { rsaFingerprint, tlBytes } from '../src/telegram/rsa-fingerprint';

/** Telegram's production key as GramJS ships it (crypto/RSA.js). */
const KNOWN_FINGERPRINT = '-3414540481677951611';

function pemFromGramJs(fingerprint: string, format: 'spki' | 'pkcs1'): string {
  const entry = _serverKeys.get(fingerprint);
  assert.ok(entry, 'GramJS ships this key');
  const n = Buffer.from(entry.n.toString(16).padStart(512, '0'), 'hex');
  const e = Buffer.from(bigInt(entry.e).toString(16).padStart(6, '0'), 'hex');
  const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
  return key.export({ type: format, format: 'pem' }).toString();
}

test('fingerprint of Telegram production key matches GramJS', () => {
  const pem = pemFromGramJs(KNOWN_FINGERPRINT, 'spki');
  assert.match(pem, /BEGIN PUBLIC KEY/);
  assert.equal(rsaFingerprint(pem), KNOWN_FINGERPRINT);
  assert.equal(rsaFingerprint(pemFromGramJs(KNOWN_FINGERPRINT, 'pkcs1')), KNOWN_FINGERPRINT);
});

test('fingerprint of GramJS second key matches too', () => {
  assert.equal(rsaFingerprint(pemFromGramJs('-5595554452916591101', 'spki')), '-5595554452916591101');
});

test('tlBytes: short and long forms, padded to 4', () => {
  assert.deepEqual([...tlBytes(Buffer.from([1, 0, 1]))], [3, 1, 0, 1]);
  assert.deepEqual([...tlBytes(Buffer.from([7]))], [1, 7, 0, 0]);
  const long = tlBytes(Buffer.alloc(256, 9));
  assert.equal(long.length, 260);
  assert.deepEqual([...long.subarray(0, 4)], [254, 0, 1, 0]);
});

test('trustRsaKey adds a new key to GramJS table, idempotently', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const fp = rsaFingerprint(pem);
  assert.match(fp, /^-?\d+$/);
  assert.equal(isRsaKeyTrusted(fp), false);
  const size = _serverKeys.size;
  assert.equal(trustRsaKey(pem), fp);
  assert.equal(trustRsaKey(pem), fp);
  assert.equal(_serverKeys.size, size + 1);
  const entry = _serverKeys.get(fp);
  assert.ok(entry);
  assert.equal(entry.e, 65537);
  const jwk = publicKey.export({ format: 'jwk' });
  assert.equal(entry.n.toString(16), Buffer.from(String(jwk.n), 'base64url').toString('hex').replace(/^0+/, ''));
});
