// app/mount-watch.ts: how `tgvfs mount` notices `umount DIR` (fuse-native gives no event): the
// mount table is read periodically; here the table is a string the test changes, and each read
// is counted, so the test waits for reads rather than for time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountPointsOf, watchMountGone } from '../src/app/mount-watch';

const line = (id: number, target: string, fstype: string): string =>
  `${id} 1 0:${id} / ${target} rw,nosuid,nodev,relatime shared:1 - ${fstype} tgvfs rw,user_id=0,group_id=0`;
const MOUNTED = `${line(21, '/', 'ext4')}\n${line(60, '/mnt/tg', 'fuse.tgvfs')}\n`;
const UNMOUNTED = `${line(21, '/', 'ext4')}\n`;

/** A mount table whose reads are counted; `reads(n)` resolves once n reads have happened. */
function fakeTable(initial: string | null): { read: () => Promise<string | null>; set(t: string | null): void; reads(n: number): Promise<void> } {
  let text = initial;
  let count = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  return {
    read: async () => {
      count++;
      for (const w of waiting.filter((x) => count >= x.n)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
      return text;
    },
    set: (t) => void (text = t),
    reads: (n) => new Promise<void>((resolve) => (count >= n ? resolve() : waiting.push({ n, resolve }))),
  };
}

describe('mount-watch', () => {
  it('reads mount points from mountinfo, octal escapes decoded', () => {
    const text = [line(21, '/', 'ext4'), line(60, '/mnt/my\\040films', 'fuse.tgvfs'), ''].join('\n');
    assert.deepEqual([...mountPointsOf(text)], ['/', '/mnt/my films']);
  });

  it('calls onGone once when the folder leaves the table; never for an unreadable table or a folder never seen', async () => {
    // The watcher's timers are unref'd (never what keeps a process alive): this one keeps the
    // test's loop running, and bounds it.
    const guard = setTimeout(() => assert.fail('not done within 10 s'), 10_000);
    const fail = (what: string) => () => assert.fail(what);
    const table = fakeTable(MOUNTED);
    const blind = fakeTable(null);
    const other = fakeTable(UNMOUNTED);
    let calls = 0;
    let changed = false;
    let gone!: () => void;
    const wentAway = new Promise<void>((resolve) => (gone = resolve));
    const stops = [
      watchMountGone('/mnt/tg', () => {
        assert.ok(changed, 'onGone while /mnt/tg was still in the table');
        calls++;
        gone();
      }, { read: table.read, intervalMs: 2 }),
      watchMountGone('/mnt/tg', fail('an unreadable table taken for an unmount'), { read: blind.read, intervalMs: 2 }),
      watchMountGone('/mnt/tg', fail('a folder never seen mounted reported gone'), { read: other.read, intervalMs: 2 }),
    ];
    try {
      await Promise.all([table.reads(5), blind.reads(5), other.reads(5)]);
      assert.equal(calls, 0);
      changed = true;
      table.set(UNMOUNTED);
      await wentAway;
      assert.equal(calls, 1);
    } finally {
      for (const stop of stops) stop();
      clearTimeout(guard);
    }
  });

  it('reads the table at once: an umount within the first interval still counts', async () => {
    const guard = setTimeout(() => assert.fail('the first read waited for the interval'), 10_000);
    const table = fakeTable(MOUNTED);
    const stop = watchMountGone('/mnt/tg', () => assert.fail('gone while mounted'), { read: table.read, intervalMs: 60_000 });
    try {
      await table.reads(1);
    } finally {
      stop();
      clearTimeout(guard);
    }
  });
});
