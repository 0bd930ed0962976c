// The stream engine's two-priority limiter: demand before read-ahead, withdraw, and capacity that
// grows while every slot is busy (a worker's FLOOD_WAIT ends) is used without waiting for a job
// to end (found by the faults suite: two calls lost in a reconnect held the only two slots for
// their 20 s timeout while the other workers were free again).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limiter } from '../src/stream/limiter';

/** A task that runs until released. */
function gate(): { task: () => Promise<void>; started: () => boolean; release: () => void } {
  let started = false;
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { task: () => ((started = true), done), started: () => started, release: () => release() };
}

describe('stream limiter', () => {
  it('runs demand before read-ahead, and a withdrawn job never starts', async () => {
    const l = new Limiter(() => 1);
    const a = gate();
    const ahead = gate();
    const demand = gate();
    const gone = gate();
    const first = l.schedule('demand', a.task);
    l.schedule('ahead', ahead.task);
    const w = l.schedule('demand', gone.task);
    l.schedule('demand', demand.task);
    assert.equal(w.withdraw(), true);
    a.release();
    await first.result;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([demand.started(), ahead.started(), gone.started()], [true, false, false]);
    demand.release();
    ahead.release();
  });

  it('uses capacity that grew while every slot was busy, before any job ends', async () => {
    let capacity = 1;
    const l = new Limiter(() => capacity);
    const stuck = gate();
    const waiting = gate();
    l.schedule('demand', stuck.task);
    l.schedule('demand', waiting.task);
    assert.equal(waiting.started(), false);
    capacity = 2;
    const deadline = Date.now() + 2000;
    while (!waiting.started() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(waiting.started(), true, 'the queued job started although the first never ended');
    assert.equal(l.running, 2);
    stuck.release();
    waiting.release();
  });
});
