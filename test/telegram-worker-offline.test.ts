// Worker behaviour that needs no server: malformed tokens, unreachable DCs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidTokenError, TelegramConnectionError, Worker } from '../src/telegram';
import { mtprotoChannelId } from '../src/util/channel-id';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return addr.port;
}

test('a malformed token is refused before any connection, without the secret', async () => {
  await assert.rejects(
    Worker.start({ token: '12345:short', apiId: 1, apiHash: 'abcdefabcdef', sessionDir: '/nonexistent' }),
    (err: unknown) => {
      assert.ok(err instanceof InvalidTokenError);
      assert.equal(err.botId, 12345);
      assert.ok(!err.message.includes('short'));
      return true;
    },
  );
});

test('an unreachable DC fails fast with TelegramConnectionError', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-offline-'));
  try {
    const port = await closedPort();
    const t0 = Date.now();
    await assert.rejects(
      Worker.start({
        token: '12345:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        apiId: 1,
        apiHash: '0123456789abcdef0123456789abcdef',
        sessionDir: tmp,
        telegram: { dcs: [{ id: 2, host: '127.0.0.1', port }], rsaPublicKeys: [] },
        connectionRetries: 2,
      }),
      (err: unknown) => {
        assert.ok(err instanceof TelegramConnectionError, String(err));
        assert.ok(!err.message.includes('AAAAAAAAAA'));
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(await fs.readdir(tmp), []);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('channel ids: -100… form to MTProto id', () => {
  assert.equal(mtprotoChannelId(-1001234567890), 1234567890);
  assert.throws(() => mtprotoChannelId(-12345), RangeError);
  assert.throws(() => mtprotoChannelId(1001234567890), RangeError);
});
