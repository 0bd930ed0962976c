// The soak (bench/soak) at a small size: every Telegram habit the emulator has, switched on at
// once, and a WebDAV read through `tgvfs serve` that must still give every byte with no failed
// request, while posts arrive in difference slices. The full-size run (1 GiB) is `npm run
// bench:soak`; this keeps the scenario working in CI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';

const script = path.join(__dirname, '..', 'bench', 'soak.js');

test('soak: 48 MiB through WebDAV with every habit on (and a bot revoked midway): byte-exact, no failed request, every kind of fault injected', { timeout: 280_000 }, async () => {
  const env = { ...process.env, BENCH_MIB: '48', BENCH_RANGES: '12', BENCH_PARALLEL: '3', BENCH_POSTS: '4', BENCH_DEADLINE_S: '260',
    BENCH_FAULT_FRACTION: '0.1', BENCH_DROP_MIB: '4', BENCH_EXPIRE_S: '2' };
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `bench/soak failed:\n${out.slice(-4000)}`);
  const last = out.trim().split('\n').pop() ?? '';
  const m = /requests=(\d+) failed=(\d+) faults=(\d+)/.exec(last);
  assert.ok(m, `no summary line in:\n${out.slice(-2000)}`);
  assert.equal(Number(m[1]), 13, 'one whole GET and 12 ranged GETs');
  assert.equal(Number(m[2]), 0);
  const injected = /injected: (.*)/.exec(out)?.[1] ?? '';
  for (const kind of ['FLOOD_WAIT', 'Timeout', 'INTERNAL_SERVER_ERROR', 'DROP', 'FILE_REFERENCE_EXPIRED', 'SESSION_REVOKED', 'LOGIN_FLOOD_WAIT']) {
    assert.match(injected, new RegExp(`\\b${kind} [1-9]`), `no ${kind} injected: ${injected}`);
  }
  assert.doesNotMatch(injected, /OFFSET_INVALID/, 'every part kept offset % limit == 0');
  assert.match(out, /another DC: [1-9]\d* auth.exportAuthorization/);
});
