import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringSession } from 'telegram/sessions';
import { AuthKey } from 'telegram/crypto/AuthKey';
import { randomBytes } from 'node:crypto';
import { SessionStore } from '../src/telegram/session-store';

test('save/load round trip, 0600 file in a 0700 directory, named by bot id', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-sessions-'));
  try {
    const dir = path.join(tmp, 'nested', 'sessions');
    const store = new SessionStore(dir);
    assert.equal(await store.load(123456), undefined);

    const session = new StringSession('');
    session.setDC(2, '127.0.0.2', 31000);
    const key = new AuthKey();
    await key.setKey(randomBytes(256));
    session.setAuthKey(key);
    await store.save(123456, session);

    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
    const file = path.join(dir, '123456.session');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await fs.readdir(dir), ['123456.session']);

    const text = await store.load(123456);
    assert.equal(text, session.save());
    const again = new StringSession(text);
    await again.load();
    assert.equal(again.dcId, 2);
    assert.equal(again.serverAddress, '127.0.0.2');
    assert.equal(again.port, 31000);
    assert.ok(again.authKey?.getKey()?.equals(key.getKey()!));

    await store.save(123456, ''); // an empty session never overwrites a real one
    assert.equal(await store.load(123456), text);
    await store.remove(123456);
    assert.equal(await store.load(123456), undefined);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('bot ids must be positive integers', () => {
  const store = new SessionStore('/nonexistent');
  assert.throws(() => store.pathFor(-1), RangeError);
  assert.throws(() => store.pathFor(1.5), RangeError);
  assert.equal(store.pathFor(42), path.join('/nonexistent', '42.session'));
});
