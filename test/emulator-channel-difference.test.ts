// updates.getChannelDifference as Telegram answers a bot, straight on the emulator's world and
// channel log (no network: big logs in milliseconds): slices of at most `limit` (≤ 100,000) and
// `--difference-slice` events, `final: false` until caught up; TooLong only for a pts older than
// the log keeps; a batch of far more events than a spread may hold does not overflow the stack.
// The admin endpoint and the command line set the slice too.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { emulatorOptionsFromFlags } from '../src/cli/main';
import { channelDifference, MAX_DIFFERENCE_LIMIT } from '../src/emulator/channel-difference';
import { appendEvents, MAX_LOG } from '../src/emulator/channel-log';
import type { TlObject } from '../src/emulator/tl';
import { World, type ChannelEvent, type EmuChannel } from '../src/emulator/world';
import { startFixture } from './helpers/emulator-fixture';

/** `n` new-message events after the channel's pts (for messages that do not exist: skipped in answers). */
function newEvents(channel: EmuChannel, n: number): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  for (let i = 1; i <= n; i++) events.push({ kind: 'new', pts: channel.pts + i, ptsCount: 1, msgId: channel.topMessage + i });
  channel.pts += n;
  channel.topMessage += n;
  return events;
}

describe('emulator getChannelDifference (world and channel log)', () => {
  let dir: string;
  let world: World;
  let channel: EmuChannel;
  const ask = (pts: number, limit: number, slice = 0): TlObject =>
    channelDifference({ world, bot: world.bots[0]!, channel, pts, limit, slice, epoch: 0 });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-diff-'));
    await mkdir(path.join(dir, 'ch'));
    await writeFile(path.join(dir, 'ch', 'a.txt'), 'a');
    await writeFile(path.join(dir, 'ch', 'b.txt'), 'b');
    world = await World.load(dir, 1, 2);
    channel = [...world.channels.values()][0]!;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers slices with final: false until caught up, TooLong only before the log base', async () => {
    // At start-up the log begins at the channel's pts (3: two posts): older is too long.
    assert.deepEqual([channel.pts, channel.logBase], [3, 3]);
    const tooLong = ask(1, 100);
    assert.equal(tooLong._, 'updates.channelDifferenceTooLong');
    assert.deepEqual([(tooLong.dialog as TlObject).top_message, (tooLong.dialog as TlObject).pts], [2, 3]);
    assert.equal(ask(3, 100)._, 'updates.channelDifferenceEmpty');

    // 150 events behind: one answer with a bot's usual limit, no TooLong.
    appendEvents(channel, newEvents(channel, 150));
    const whole = ask(3, MAX_DIFFERENCE_LIMIT);
    assert.deepEqual([whole._, whole.final, whole.pts], ['updates.channelDifference', true, 153]);
    // limit 100: a slice; --difference-slice 7 cuts harder than the limit.
    assert.deepEqual([ask(3, 100).final, ask(3, 100).pts], [false, 103]);
    assert.deepEqual([ask(3, 100, 7).final, ask(3, 100, 7).pts], [false, 10]);
    assert.deepEqual([ask(150, 100, 7).final, ask(150, 100, 7).pts], [true, 153]);
    // A limit above Telegram's maximum is taken as the maximum; 0 as the maximum too.
    assert.equal(ask(3, 10 * MAX_DIFFERENCE_LIMIT).pts, 153);
    assert.equal(ask(3, 0).pts, 153);
    // An edit of message 1 rides in other_updates, with the message as it is now.
    channel.pts += 1;
    appendEvents(channel, [{ kind: 'edit', pts: channel.pts, ptsCount: 1, msgId: 1 }]);
    const edited = ask(153, 100, 7);
    assert.deepEqual([edited.final, edited.pts, (edited.new_messages as TlObject[]).length], [true, 154, 0]);
    const [update] = edited.other_updates as TlObject[];
    assert.deepEqual([update!._, (update!.message as TlObject).id, update!.pts], ['updateEditChannelMessage', 1, 154]);
  });

  it(`keeps the newest ${MAX_LOG} events of a batch far larger than a spread may hold, quickly`, async () => {
    const base = channel.pts;
    // 200,000 events at once: `log.push(...events)` dies here with "Maximum call stack size exceeded".
    appendEvents(channel, newEvents(channel, 200_000));
    assert.equal(channel.log.length, MAX_LOG);
    assert.equal(channel.logBase, channel.pts - MAX_LOG);
    assert.ok(channel.logBase > base);
    // Behind the base: too long, with the current pts to follow from.
    const far = ask(channel.logBase - 1, MAX_DIFFERENCE_LIMIT);
    assert.deepEqual([far._, (far.dialog as TlObject).pts], ['updates.channelDifferenceTooLong', channel.pts]);
    // At the base: answered, in two slices of at most 100,000 events.
    const first = ask(channel.logBase, MAX_DIFFERENCE_LIMIT);
    assert.deepEqual([first._, first.final, first.pts], ['updates.channelDifference', false, channel.logBase + MAX_DIFFERENCE_LIMIT]);
    const second = ask(first.pts as number, MAX_DIFFERENCE_LIMIT);
    assert.deepEqual([second.final, second.pts], [true, channel.pts]);
  });
});

describe('--difference-slice and POST /faults differenceSlice', () => {
  it('parses the flag, refuses a bad one', () => {
    const dir = os.tmpdir();
    const flags = {
      data: dir, listen: '127.0.0.1:0', configOut: path.join(dir, 'x.json'), latency: '0', bandwidth: '0', dropEvery: '0', expireRefs: '0', rpcTimeouts: '0', internalErrors: '0',
    };
    assert.equal(emulatorOptionsFromFlags({ ...flags, differenceSlice: '7' }).faults?.differenceSlice, 7);
    assert.equal(emulatorOptionsFromFlags({ ...flags, differenceSlice: '0' }).faults?.differenceSlice, 0);
    assert.throws(() => emulatorOptionsFromFlags({ ...flags, differenceSlice: '-1' }), /--difference-slice/);
  });

  it('is set and read back through the admin endpoint; a bad value is a 400', async () => {
    const f = await startFixture({ 'ch/a.txt': 1 }, { watch: false });
    try {
      const post = (body: unknown): Promise<Response> => fetch(`${f.emu.adminUrl}/faults`, { method: 'POST', body: JSON.stringify(body) });
      const set = await post({ differenceSlice: 7 });
      assert.equal(set.status, 200);
      assert.equal(((await set.json()) as { differenceSlice: number }).differenceSlice, 7);
      assert.equal(((await (await fetch(`${f.emu.adminUrl}/faults`)).json()) as { differenceSlice: number }).differenceSlice, 7);
      for (const bad of [-1, 1.5, 'x']) assert.equal((await post({ differenceSlice: bad })).status, 400, String(bad));
    } finally {
      await f.close();
    }
  });
});
