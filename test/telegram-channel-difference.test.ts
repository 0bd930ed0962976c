// A getChannelDifference answer as plain data, for the sizes a bot may get (limit up to
// 100,000): built with loops, so that a big answer cannot overflow the call stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { channelDifference } from '../src/telegram/channel-updates';

test('a difference of 150,000 messages and deletions becomes changes, the newest id found', () => {
  const n = 150_000;
  const newMessages: Api.TypeMessage[] = [];
  for (let id = 1; id <= n; id++) newMessages.push(new Api.MessageEmpty({ id }));
  const otherUpdates: Api.TypeUpdate[] = [];
  for (let i = 0; i < n; i++) otherUpdates.push(new Api.UpdateDeleteChannelMessages({ channelId: bigInt(1), messages: [n + i + 1], pts: i + 1, ptsCount: 1 }));
  const diff = new Api.updates.ChannelDifference({ final: false, pts: 2 * n + 1, newMessages, otherUpdates, chats: [], users: [] });
  const plain = channelDifference(-1001000000001, diff, 1);
  assert.equal(plain.kind, 'difference');
  if (plain.kind !== 'difference') return;
  assert.deepEqual([plain.pts, plain.final, plain.newest, plain.changes.length], [2 * n + 1, false, n, 2 * n]);
  assert.deepEqual(plain.changes.at(-1), { kind: 'delete', ids: [2 * n] });
});
