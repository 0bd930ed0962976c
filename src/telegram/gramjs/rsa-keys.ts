// Makes GramJS accept a server RSA key other than Telegram's own (the emulator's), by adding it to
// the table GramJS looks keys up in during the auth key exchange.
//
// Replaces (telegram 2.26.22): nothing; adds entries to crypto/RSA.js's exported `_serverKeys`
// Map. Relies on: that Map is keyed by the fingerprint's signed decimal string and holds
// `{ n: bigInt, e: number }`, and Authenticator.doAuthentication (network/Authenticator.js) and
// RSA.encrypt read it at the time of each exchange, so a key added later is used.
import bigInt from 'big-integer';
import { _serverKeys } from 'telegram/crypto/RSA';
import { rsaFingerprint, rsaNumbers } from '../rsa-fingerprint';

/** Makes GramJS accept `pem` as a server key. Returns the fingerprint. Idempotent. */
export function trustRsaKey(pem: string): string {
  const { n, e } = rsaNumbers(pem);
  if (e.length > 6) throw new RangeError('RSA public exponent too large');
  const fingerprint = rsaFingerprint(pem);
  _serverKeys.set(fingerprint, { n: bigInt(n.toString('hex'), 16), e: e.readUIntBE(0, e.length) });
  return fingerprint;
}

/** True when GramJS knows a server key with this fingerprint. */
export function isRsaKeyTrusted(fingerprint: string): boolean {
  return _serverKeys.has(fingerprint);
}
