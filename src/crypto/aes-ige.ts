// AES-256-IGE, the cipher every MTProto byte passes through. GramJS's pure-JS IGE runs at
// ~70 MB/s here; @mtcute/crypto-node (OpenSSL, N-API prebuilt) at ~470 MB/s and @mtcute/wasm at
// ~230 MB/s (bench: test/aes-ige.test.ts prints nothing; see the note in README). We load the
// native prebuild directly through node-gyp-build: its JS entry would pull in @mtcute/node.
import path from 'node:path';
import { randomBytes } from 'node:crypto';

interface NativeIge {
  ige256_encrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array;
  ige256_decrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array;
}

function loadNative(): NativeIge {
  // The package's "exports" hides package.json; its CommonJS entry sits in cjs/, one level down.
  const root = path.dirname(path.dirname(require.resolve('@mtcute/crypto-node')));
  const load = require('node-gyp-build') as (dir: string) => NativeIge;
  return load(root);
}

const native = loadNative();

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Encrypts `data` (length a multiple of 16) with a 32-byte key and a 32-byte IGE iv. */
export function igeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer {
  if (data.length % 16 !== 0) throw new RangeError(`IGE input length ${data.length} is not a multiple of 16`);
  return asBuffer(native.ige256_encrypt(data, key, iv));
}

/** Decrypts `data` (length a multiple of 16) with a 32-byte key and a 32-byte IGE iv. */
export function igeDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer {
  if (data.length % 16 !== 0) throw new RangeError(`IGE input length ${data.length} is not a multiple of 16`);
  return asBuffer(native.ige256_decrypt(data, key, iv));
}

/** Drop-in for GramJS's `IGE` class (same constructor and methods, same random padding). */
export class FastIge {
  constructor(private readonly key: Buffer, private readonly iv: Buffer) {}

  encryptIge(plainText: Buffer): Buffer {
    const rest = plainText.length % 16;
    const padded = rest ? Buffer.concat([plainText, randomBytes(16 - rest)]) : plainText;
    return igeEncrypt(padded, this.key, this.iv);
  }

  decryptIge(cipherText: Buffer): Buffer {
    return igeDecrypt(cipherText, this.key, this.iv);
  }
}
