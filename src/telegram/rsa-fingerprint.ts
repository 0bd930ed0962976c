// Server RSA keys as Telegram names them: by fingerprint, the low 64 bits of
// sha1(TL-serialized `rsa_public_key n:bytes e:bytes`), read as a little-endian signed int64.
// Making GramJS trust a key is gramjs/rsa-keys.ts.
import { createHash, createPublicKey } from 'node:crypto';

export interface RsaNumbers {
  /** Modulus, big-endian unsigned, no leading zero byte. */
  n: Buffer;
  /** Public exponent, big-endian unsigned. */
  e: Buffer;
}

/** Reads n and e from a PEM public key (SPKI "BEGIN PUBLIC KEY" or PKCS#1 "BEGIN RSA PUBLIC KEY"). */
export function rsaNumbers(pem: string): RsaNumbers {
  const key = createPublicKey({ key: pem, format: 'pem' });
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`not an RSA public key (${key.asymmetricKeyType ?? 'unknown type'})`);
  }
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new TypeError('RSA key without n or e');
  return { n: stripLeadingZeros(Buffer.from(jwk.n, 'base64url')), e: stripLeadingZeros(Buffer.from(jwk.e, 'base64url')) };
}

function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** TL `bytes`: a length prefix (1 byte, or 0xfe + 3 bytes LE), the data, zero padding to 4. */
export function tlBytes(data: Buffer): Buffer {
  const header = data.length < 254 ? Buffer.from([data.length]) : Buffer.from([254, data.length & 0xff, (data.length >> 8) & 0xff, (data.length >> 16) & 0xff]);
  const unpadded = header.length + data.length;
  const padding = Buffer.alloc((4 - (unpadded % 4)) % 4);
  return Buffer.concat([header, data, padding]);
}

/** Telegram's fingerprint of an RSA public key, as a signed decimal string. */
export function rsaFingerprint(pem: string): string {
  const { n, e } = rsaNumbers(pem);
  const digest = createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
  return digest.readBigInt64LE(12).toString();
}
