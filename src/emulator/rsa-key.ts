// The emulator's own RSA key: generated once per data folder and kept, so that configs written
// earlier stay valid. Clients trust it through the config's `telegram.rsaPublicKeys`, which
// holds it in PKCS#1 (`-----BEGIN RSA PUBLIC KEY-----`), the form Telegram publishes its keys in
// and the only one Telethon and mtcute read.
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tlBytes } from './tl-bytes';

export interface ServerRsaKey {
  /** PKCS#1 PEM, as Telegram publishes its keys. */
  publicPem: string;
  /** Telegram's fingerprint: low 64 bits of sha1(rsa_public_key n e), as a signed decimal. */
  fingerprint: bigint;
  /** Raw RSA (no padding) with the private exponent, as MTProto's RSA_PAD scheme requires. */
  decryptRaw(data: Uint8Array): Buffer;
}

function fromKeyObject(priv: KeyObject): ServerRsaKey {
  const jwk = priv.export({ format: 'jwk' });
  if (!jwk.n || !jwk.e) throw new Error('RSA key lacks n or e');
  const n = Buffer.from(jwk.n, 'base64url');
  const e = Buffer.from(jwk.e, 'base64url');
  const sha = createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
  return {
    publicPem: createPublicKey(priv).export({ type: 'pkcs1', format: 'pem' }).toString(),
    fingerprint: sha.readBigInt64LE(12),
    decryptRaw(data) {
      return privateDecrypt({ key: priv, padding: constants.RSA_NO_PADDING }, data);
    },
  };
}

/** Loads `<stateDir>/rsa-key.pem`, or generates and stores it (mode 0600). */
export async function loadOrCreateRsaKey(stateDir: string): Promise<ServerRsaKey> {
  const file = path.join(stateDir, 'rsa-key.pem');
  try {
    return fromKeyObject(createPrivateKey(await readFile(file, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  for (;;) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
    const key = fromKeyObject(privateKey);
    if (!fingerprintHexIsShort(key.fingerprint)) {
      await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      return key;
    }
  }
}

/**
 * Whether the fingerprint's unsigned hex form has fewer than 16 digits (top nibble 0). mtcute
 * 0.30 indexes a published key by its 16-digit hex but looks up the server's fingerprint
 * unpadded, so it cannot log in to such a key; Telegram's own keys never have one, so the
 * emulator draws again (1 key in 16) rather than ask clients to cope.
 */
export function fingerprintHexIsShort(fingerprint: bigint): boolean {
  return BigInt.asUintN(64, fingerprint) >> 60n === 0n;
}
