// `--auth-flood SECONDS` (emulator/auth-flood.ts): which export/import calls get FLOOD_WAIT, and
// that a bot's calls during its wait are refused with what is left of it (so a client that
// retries instead of waiting is seen in /stats). The end-to-end behaviour, through a worker,
// is in telegram-auth-export.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthFloodState } from '../src/emulator/auth-flood';
import { ManualClock } from './helpers/manual-clock';

const EXPORT = 'auth.exportAuthorization';
const IMPORT = 'auth.importAuthorization';

describe('--auth-flood', () => {
  it('answers the 2nd, 4th, … call of each method FLOOD_WAIT_SECONDS', () => {
    const clock = new ManualClock(1_000_000);
    const s = new AuthFloodState();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      // A different bot each time: no wait of one bot holds another back.
      waits.push(s.check(EXPORT, 100 + i, 3, clock));
    }
    assert.deepEqual(waits, [0, 3, 0, 3]);
    assert.deepEqual([s.check(IMPORT, 1, 3, clock), s.check(IMPORT, 1, 3, clock)], [0, 3], 'imports counted on their own');
  });

  it("refuses a bot's calls until its wait is over, without counting them; then the series goes on", () => {
    const clock = new ManualClock(1_000_000);
    const s = new AuthFloodState();
    assert.equal(s.check(EXPORT, 7, 3, clock), 0);
    assert.equal(s.check(EXPORT, 7, 3, clock), 3);
    clock.advance(1000);
    assert.equal(s.check(EXPORT, 7, 3, clock), 2, 'what is left of the wait');
    assert.equal(s.check(EXPORT, 8, 3, clock), 0, 'another bot is not held back (and this is the 3rd call)');
    clock.advance(2000);
    assert.equal(s.check(EXPORT, 7, 3, clock), 3, 'the 4th call of the series');
  });

  it('counts nothing while off (0 seconds); waits already given still run out', () => {
    const clock = new ManualClock(1_000_000);
    const s = new AuthFloodState();
    assert.deepEqual([s.check(EXPORT, 1, 0, clock), s.check(EXPORT, 1, 0, clock)], [0, 0]);
    assert.deepEqual([s.check(EXPORT, 1, 5, clock), s.check(EXPORT, 1, 5, clock)], [0, 5], 'the 2nd call after switching on');
    assert.equal(s.check(EXPORT, 1, 0, clock), 5, 'switched off: the wait given is still in force');
    clock.advance(5000);
    assert.equal(s.check(EXPORT, 1, 0, clock), 0);
  });
});
