// The floor of a client's CPU per byte downloaded over MTProto 2.0: every answer is AES-256-IGE
// decrypted and its msg_key checked with SHA-256 (auth key part + plaintext), and nothing else is
// unavoidable. Timed in-process, in 1 MiB messages (the size of a getFile answer), with the same
// native IGE tgvfs uses (src/crypto/aes-ige.ts) and node:crypto's SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { igeDecrypt } from '../../src/crypto/aes-ige';

export interface CryptoFloor {
  bytes: number;
  /** CPU seconds (user + system) for `bytes`. */
  cpuSeconds: number;
  /** Wall seconds, for information. */
  seconds: number;
}

/** CPU seconds to decrypt and hash `bytes` (rounded up to whole MiB) as MTProto 2.0 answers. */
export function cryptoFloor(bytes: number): CryptoFloor {
  const MiB = 1 << 20;
  const message = randomBytes(MiB);
  const key = randomBytes(32);
  const iv = randomBytes(32);
  const authKeyPart = randomBytes(32);
  const n = Math.max(1, Math.ceil(bytes / MiB));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const plain = igeDecrypt(message, key, iv);
    sink ^= createHash('sha256').update(authKeyPart).update(plain).digest()[0]!;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) throw new Error('unreachable');
  return { bytes: n * MiB, cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds };
}
