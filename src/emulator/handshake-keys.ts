// The key material of the auth key exchange (https://core.telegram.org/mtproto/auth_key), from
// nonces as they travel (int128/int256, little-endian bytes): the temporary AES key and IV of
// step 5, new_nonce_hash1 of dh_gen_ok, and the first server salt.
import { createHash } from 'node:crypto';

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** tmp_aes_key and tmp_aes_iv, which encrypt server_DH_inner_data and client_DH_inner_data. */
export function tmpAesKeyIv(serverNonce: Buffer, newNonce: Buffer): { key: Buffer; iv: Buffer } {
  const a = sha1(newNonce, serverNonce);
  const b = sha1(serverNonce, newNonce);
  const c = sha1(newNonce, newNonce);
  return {
    key: Buffer.concat([a, b.subarray(0, 12)]),
    iv: Buffer.concat([b.subarray(12, 20), c, newNonce.subarray(0, 4)]),
  };
}

/** new_nonce_hash1/2/3: the low 128 bits of sha1(new_nonce + [n] + first 64 bits of sha1(auth_key)). */
export function newNonceHash(newNonce: Buffer, n: 1 | 2 | 3, authKey: Buffer): Buffer {
  return sha1(newNonce, Buffer.from([n]), sha1(authKey).subarray(0, 8)).subarray(4, 20);
}

/** server_salt = substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8). */
export function firstSalt(newNonce: Buffer, serverNonce: Buffer): Buffer {
  const out = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) out[i] = newNonce[i]! ^ serverNonce[i]!;
  return out;
}
