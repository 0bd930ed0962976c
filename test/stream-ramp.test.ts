// The ramp-up of HTTP streams (StreamEngine.createReadStream with rampUp): cheap for a player that
// probes a file and hangs up, and never what holds back a client that reads as fast as it can.
// (Doubling every 200 ms held an uncapped 128 MiB GET to 1.6 s, half of pool.stream's rate.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiB } from '../src/stream/planner';
import { rampDelayMs } from '../src/stream/stream-engine';

describe('stream ramp-up', () => {
  it('pushes the first 512 KiB at once, then doubles every 50 ms', () => {
    assert.equal(rampDelayMs(1), 0);
    assert.equal(rampDelayMs(512 * 1024), 0);
    assert.equal(rampDelayMs(MiB), 50);
    assert.equal(rampDelayMs(2 * MiB), 100);
    assert.equal(rampDelayMs(8 * MiB), 200);
  });

  it('lets a client reading at 125 MB/s through a 128 MiB file without waiting past the first 0.4 s', () => {
    assert.equal(rampDelayMs(128 * MiB), 400);
    // Every MiB the link could have delivered by then is allowed by the time it arrives,
    // within the first 400 ms (what a GET of 128 MiB may lose to the ramp at most).
    const linkMs = (bytes: number): number => (bytes / 125e6) * 1000;
    for (let b = MiB; b <= 1024 * MiB; b += MiB) assert.ok(rampDelayMs(b) <= Math.max(linkMs(b), 400), `${b / MiB} MiB`);
  });

  it('lets a client that hangs up within 100 ms have pushed at most 2 MiB', () => {
    assert.ok(rampDelayMs(2 * MiB + 1) > 100);
  });
});
