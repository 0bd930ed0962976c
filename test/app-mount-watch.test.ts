// app/mount-watch.ts: how `tgvfs mount` notices `umount DIR` (fuse-native gives no event): the
// mount table is read periodically; here a file stands in for /proc/self/mountinfo.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { mountPointsOf, watchMountGone } from '../src/app/mount-watch';

const line = (id: number, target: string, fstype: string): string =>
  `${id} 1 0:${id} / ${target} rw,nosuid,nodev,relatime shared:1 - ${fstype} tgvfs rw,user_id=0,group_id=0`;

describe('mount-watch', () => {
  it('reads mount points from mountinfo, octal escapes decoded', () => {
    const text = [line(21, '/', 'ext4'), line(60, '/mnt/my\\040films', 'fuse.tgvfs'), ''].join('\n');
    assert.deepEqual([...mountPointsOf(text)], ['/', '/mnt/my films']);
  });

  it('calls onGone once when the folder leaves the table, not before, and not for an unreadable table', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-mount-watch-'));
    const table = path.join(dir, 'mountinfo');
    const missing = path.join(dir, 'absent');
    try {
      await writeFile(table, `${line(21, '/', 'ext4')}\n${line(60, '/mnt/tg', 'fuse.tgvfs')}\n`);
      // The watcher's timers are unref'd (never what keeps a process alive): this one keeps the
      // test's loop running, and bounds it.
      const guard = setTimeout(() => assert.fail('no onGone within 10 s'), 10_000);
      let calls = 0;
      let changed = false;
      let gone!: () => void;
      const wentAway = new Promise<void>((resolve) => (gone = resolve));
      const stop = watchMountGone('/mnt/tg', () => {
        assert.ok(changed, 'onGone while /mnt/tg was still in the table');
        calls++;
        gone();
      }, { table, intervalMs: 5 });
      // An unreadable table never counts as unmounted.
      const stopBlind = watchMountGone('/mnt/tg', () => assert.fail('unreadable table taken for an unmount'), { table: missing, intervalMs: 5 });
      // Let both read their tables a few times first: a probe watching a folder that is not in the
      // table fires on its first read, started after the watchers above.
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => watchMountGone('/not-mounted', resolve, { table, intervalMs: 5 }));
      }
      assert.equal(calls, 0);
      changed = true;
      await writeFile(table, `${line(21, '/', 'ext4')}\n`);
      await wentAway;
      stop();
      stopBlind();
      clearTimeout(guard);
      assert.equal(calls, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
