import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyUrl } from '../src/telegram/proxy';

test('socks5 URL becomes GramJS proxy options', () => {
  assert.deepEqual(parseProxyUrl('socks5://user:p%40ss@10.0.0.1:1080'), {
    ip: '10.0.0.1',
    port: 1080,
    socksType: 5,
    username: 'user',
    password: 'p@ss',
  });
  assert.deepEqual(parseProxyUrl('socks5://[::1]:9050'), { ip: '::1', port: 9050, socksType: 5 });
});

test('bad proxy URLs are refused without echoing the password', () => {
  for (const url of ['http://user:hunter2@host:80', 'socks5://user:hunter2@host', 'not a url hunter2']) {
    assert.throws(() => parseProxyUrl(url), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.ok(!err.message.includes('hunter2'), err.message);
      return true;
    });
  }
});
