// The emulator's RSA key: a fingerprint whose unsigned hex has 16 digits (mtcute 0.30 cannot find
// a key whose fingerprint starts with a zero nibble: it indexes the key padded and looks it up
// unpadded), kept across restarts, published as PKCS#1.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fingerprintHexIsShort, loadOrCreateRsaKey } from '../src/emulator/rsa-key';

test('fingerprintHexIsShort: a zero top nibble, of the unsigned value', () => {
  assert.equal(fingerprintHexIsShort(0x0bf4847bb2d49134n), true);
  assert.equal(fingerprintHexIsShort(0x1000000000000000n), false);
  assert.equal(fingerprintHexIsShort(-1n), false, 'signed -1 is ffff…');
  assert.equal(fingerprintHexIsShort(0n), true);
});

test('new keys never have a short fingerprint; a stored key is loaded as it was', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-rsa-'));
  try {
    for (let i = 0; i < 12; i++) {
      const key = await loadOrCreateRsaKey(path.join(dir, String(i)));
      assert.equal(BigInt.asUintN(64, key.fingerprint).toString(16).length, 16, `key ${i}: ${BigInt.asUintN(64, key.fingerprint).toString(16)}`);
      assert.match(key.publicPem, /^-----BEGIN RSA PUBLIC KEY-----/);
    }
    const again = await loadOrCreateRsaKey(path.join(dir, '0'));
    const first = await loadOrCreateRsaKey(path.join(dir, '0'));
    assert.equal(again.fingerprint, first.fingerprint);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
