// The pool's record of bots taken out of channels (channel-removals.ts): a removal holds for its
// channel only, is said once, is re-checked after RECHECK_MS, and is forgotten only when the bot
// answers again after that (an answer to a call that started earlier does not undo it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelRemovals, RECHECK_MS } from '../src/telegram/channel-removals';

describe('channel removals', () => {
  it('holds for one channel, said once, re-checked after RECHECK_MS', () => {
    const r = new ChannelRemovals();
    const t0 = 1_000_000;
    assert.equal(r.mark(7, -1001, t0), true, 'new: log it');
    assert.equal(r.mark(7, -1001, t0 + 5), false, 'already known: no second log line');
    assert.equal(r.isRemoved(7, -1001, t0 + 10), true);
    assert.equal(r.isRemoved(7, -1002, t0 + 10), false, 'other channels keep the bot');
    assert.equal(r.isRemoved(8, -1001, t0 + 10), false, 'other bots keep the channel');
    assert.equal(r.clear(7, -1001, t0 + 10), false, 'an answer during the removal does not undo it');
    assert.deepEqual(r.botsOf(-1001), [7]);
    assert.equal(r.isRemoved(7, -1001, t0 + 5 + RECHECK_MS), false, 'one more try after RECHECK_MS');
    assert.deepEqual(r.botsOf(-1001), [7], 'still listed until it answers');
    assert.equal(r.clear(7, -1001, t0 + 5 + RECHECK_MS), true, 'answered: forgotten (log it)');
    assert.deepEqual(r.botsOf(-1001), []);
    assert.equal(r.mark(7, -1001, t0 + 2 * RECHECK_MS), true);
    assert.equal(r.mark(7, -1001, t0 + 3 * RECHECK_MS), true, 'refused again at the re-check: said again');
  });
});
