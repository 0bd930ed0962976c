import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FastIge } from '../src/crypto/aes-ige';
import { installFastIge, isFastIgeInstalled, originalIge, type IgeClass } from '../src/telegram/gramjs/fast-ige';

// Capture GramJS's own class before anything replaces it.
const igeModule = require('telegram/crypto/IGE') as { IGE: IgeClass };
const GramJsIge = igeModule.IGE;

const SIZES = [16, 32, 48, 1024, 4096, 65_536 + 16, 262_144, 1_048_576];

test('installFastIge replaces GramJS IGE with FastIge, idempotently', () => {
  assert.notEqual(GramJsIge, FastIge);
  assert.equal(isFastIgeInstalled(), false);
  installFastIge();
  assert.equal(isFastIgeInstalled(), true);
  assert.equal(igeModule.IGE, FastIge);
  installFastIge();
  assert.equal(igeModule.IGE, FastIge);
  assert.equal(originalIge(), GramJsIge, 'the original class stays reachable');
  assert.equal((require('telegram/crypto/IGE') as { IGE: unknown }).IGE, FastIge);
});

test('FastIge and GramJS IGE agree on encrypt and decrypt', () => {
  for (const size of SIZES) {
    const key = randomBytes(32);
    const iv = randomBytes(32);
    const plain = randomBytes(size);
    const slow = new GramJsIge(key, iv);
    const fast = new FastIge(key, iv);
    const expected = slow.encryptIge(plain);
    const actual = fast.encryptIge(plain);
    assert.equal(actual.length, size);
    assert.ok(actual.equals(expected), `encrypt differs at size ${size}`);
    assert.ok(fast.decryptIge(expected).equals(plain), `FastIge decrypt differs at size ${size}`);
    assert.ok(slow.decryptIge(actual).equals(plain), `GramJS decrypt of FastIge output differs at size ${size}`);
  }
});

test('FastIge pads a partial block like GramJS (length rounds up to 16)', () => {
  const key = randomBytes(32);
  const iv = randomBytes(32);
  const plain = randomBytes(100);
  const enc = new FastIge(key, iv).encryptIge(plain);
  assert.equal(enc.length, 112);
  const dec = new GramJsIge(key, iv).decryptIge(enc);
  assert.ok(dec.subarray(0, 100).equals(plain));
});
