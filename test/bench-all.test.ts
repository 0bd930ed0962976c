// bench/all: figures parsed from each bench's last line, DESIGN.md's targets, the table, and the
// runner itself over a folder of stand-in benches (BENCH_DIR), so no real bench runs here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseFigures, renderBenchTable, summaryFigures, tableRows } from '../bench/helpers/figures';

const allJs = path.resolve(__dirname, '../bench/all.js');

describe('bench figures', () => {
  it('parses a key=value line, nan as not measured, and nothing else', () => {
    assert.deepEqual(parseFigures('a=1.5 b_MBps=nan'), [
      { key: 'a', value: 1.5, text: '1.5' },
      { key: 'b_MBps', value: NaN, text: 'nan' },
    ]);
    assert.equal(parseFigures('summary (run took 3 s):'), null);
    assert.equal(parseFigures('  fraction 0.9  target >= 0.8   met'), null);
    assert.equal(parseFigures(''), null);
    assert.deepEqual(summaryFigures('noise\nx=1 y=2\n\n')?.map((f) => f.key), ['x', 'y']);
    assert.equal(summaryFigures('x=1\nthen it crashed\nError: boom\n   at somewhere\n'), null);
  });

  it("applies DESIGN.md's targets, the seek one from the round trip and the bandwidth", () => {
    const figures = parseFigures('ratio=3.5 cap_fraction=0.85 seek_ms=300 rtt_ms=30 rss_MB=120 uncapped_ratio=nan stream_MBps=15 ratio_wclients=0.97 uncapped_ratio_wclients=1.4')!;
    const rows = tableRows('stream', figures, 4 * 1024 * 1024);
    const by = Object.fromEntries(rows.map((r) => [r.figure, [r.target, r.met]]));
    assert.deepEqual(by, {
      ratio: ['>= 3', 'yes'],
      cap_fraction: ['>= 0.9', 'no'],
      seek_ms: ['<= 107.5', 'no'], // 1.5 × 30 + 62.5 (the 256 KiB block a seek fetches, at 4 MiB/s)
      rtt_ms: ['-', '-'],
      rss_MB: ['< 300', 'yes'],
      uncapped_ratio: ['>= 5', 'no'],
      stream_MBps: ['-', '-'],
      ratio_wclients: ['>= 1', 'no'],
      uncapped_ratio_wclients: ['>= 1', 'yes'],
    });
    assert.deepEqual(tableRows('webdav', parseFigures('fraction=0.81 uncapped_fraction=0.89')!, 0).map((r) => r.met), ['yes', 'no']);
    assert.deepEqual(tableRows('fuse', parseFigures('uncapped_fraction=0.93')!, 0).map((r) => [r.target, r.met]), [['>= 0.9', 'yes']]);
    assert.deepEqual(tableRows('emulator', parseFigures('one_connection_MBps=90')!, 0).map((r) => r.target), ['-']);
    const listing = tableRows('webdav-propfind', parseFigures('propfind_10k_ms=89 readdir_10k_warm_ms=51.2 propfind_speedup=19')!, 0);
    assert.deepEqual(listing.map((r) => [r.figure, r.target, r.met]), [
      ['propfind_10k_ms', '< 500', 'yes'], ['readdir_10k_warm_ms', '< 50', 'no'], ['propfind_speedup', '-', '-'],
    ]);
  });

  it('renders an aligned table', () => {
    assert.equal(
      renderBenchTable([{ bench: 'webdav', figure: 'fraction', value: '0.91', target: '>= 0.8', met: 'yes' }]),
      'BENCH   FIGURE    VALUE  TARGET  MET\nwebdav  fraction  0.91   >= 0.8  yes\n',
    );
  });
});

describe('bench/all', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-bench-all-'));
    const bench = (body: string): string => `'use strict';\n${body}\n`;
    await writeFile(path.join(dir, 'emulator.js'), bench("console.log('working'); console.log(`one_connection_MBps=${process.env.BENCH_MIB ?? 'none'}`);"));
    await writeFile(path.join(dir, 'webdav.js'), bench("console.log('summary:'); console.log('webdav_MBps=12.5 stream_MBps=13 fraction=0.96');"));
    await writeFile(path.join(dir, 'zzz.js'), bench("console.log('x=1'); console.error('boom'); process.exit(3);"));
    await writeFile(path.join(dir, 'all.js'), bench('process.exit(9);'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BENCH_')));
    const r = spawnSync(process.execPath, [allJs, ...args], { env: { ...base, ...env, BENCH_DIR: dir }, encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('runs every bench in order, prints one table, and exits 1 when one failed', () => {
    const r = run(['--json']);
    assert.equal(r.status, 1, r.stderr);
    const rows = JSON.parse(r.stdout) as { bench: string; figure: string; value: string; target: string; met: string }[];
    assert.deepEqual(rows.map((x) => `${x.bench}.${x.figure}=${x.value}`).filter((s) => !s.includes('.seconds=')), [
      'emulator.one_connection_MBps=none', 'emulator.exit=0',
      'webdav.webdav_MBps=12.5', 'webdav.stream_MBps=13', 'webdav.fraction=0.96', 'webdav.exit=0',
      'zzz.x=1', 'zzz.exit=3',
    ]);
    assert.deepEqual(rows.find((x) => x.figure === 'fraction'), { bench: 'webdav', figure: 'fraction', value: '0.96', target: '>= 0.8', met: 'yes' });
    assert.equal(rows.find((x) => x.bench === 'zzz' && x.figure === 'exit')!.met, 'no');
    // Each bench's own output goes to stderr, prefixed with its name.
    assert.match(r.stderr, /^\[emulator\] working$/m);
    assert.match(r.stderr, /^\[zzz\] boom$/m);
  });

  it('--quick passes shorter settings, which BENCH_* variables already set override; --only picks benches', () => {
    const q = run(['--quick', '--only', 'emulator']);
    assert.equal(q.status, 0, q.stderr);
    assert.match(q.stdout, /^emulator +one_connection_MBps +64 +- +-$/m);
    assert.match(q.stdout, /^BENCH +FIGURE +VALUE +TARGET +MET$/m);
    assert.doesNotMatch(q.stdout, /webdav/);
    assert.match(q.stdout, /^benchmarks \(quick\), \d+ s; settings: emulator:BENCH_MIB=64$/m);
    const own = run(['--only', 'emulator'], { BENCH_QUICK: '1', BENCH_MIB: '7' });
    assert.match(own.stdout, /^emulator +one_connection_MBps +7 /m);
    assert.match(own.stdout, /; settings: BENCH_MIB=7$/m);
  });

  it('refuses an unknown bench with exit code 2', () => {
    const r = run(['--only', 'nope']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--only: no bench nope; there are: emulator, webdav, zzz/);
  });
});
