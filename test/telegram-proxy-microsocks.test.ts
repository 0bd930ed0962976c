// A Worker behind a real SOCKS5 server from Debian (microsocks, username/password): login, one
// part and a whole file kept on DC 4 (FILE_MIGRATE, so two DCs are dialled), every connection
// seen by the proxy, and a wrong proxy password that fails clearly without leaking it.
// The hand-written server in helpers/telegram-socks5.ts checks the same path from inside the
// test process (telegram-worker.test.ts); this one checks it against an independent implementation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import bigInt from 'big-integer';
import { findExecutable } from '../src/app/find-executable';
import { TelegramConnectionError, Worker, type WorkerOptions } from '../src/telegram';
import { MiB, channelId, sha256, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { freePort } from '../support/net';

const USER = 'user';
const PASS = 'pass';
const MISSING = 'microsocks is not installed: run "apt-get install -y microsocks" (.ci/run installs it)';

interface Microsocks {
  port: number;
  /** Destinations microsocks reported connecting to ("client[n] ip: connected to host:port"). */
  connects: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts microsocks on a free loopback port and waits until it accepts TCP connections. */
async function startMicrosocks(bin: string): Promise<Microsocks> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['-i', '127.0.0.1', '-p', String(port), '-u', USER, '-P', PASS], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const connects: Microsocks['connects'] = [];
    let stderr = '';
    let pending = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /connected to (\S+):(\d+)\s*$/.exec(line);
        if (m) connects.push({ host: m[1]!, port: Number(m[2]) });
      }
    });
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited(child);
      clearTimeout(killer);
    };
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && child.exitCode === null && !(await canConnect(port))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode === null && (await canConnect(port))) return { port, connects, stop };
    lastError = `microsocks on port ${port} did not start (exit ${child.exitCode}): ${stderr.trim()}`;
    await stop();
  }
  throw new Error(lastError);
}

test('microsocks is on PATH', () => {
  assert.ok(findExecutable('microsocks'), MISSING);
});

describe('Worker through microsocks (a real SOCKS5 server), files on DC 4', () => {
  let fixture: EmulatorFixture | undefined;
  let proxy: Microsocks | undefined;
  const FILE = 'far/film.bin';
  const SIZE = 3 * MiB + 12_345;

  const options = (sessions: string, proxyUrl: string): WorkerOptions => {
    const cfg = fixture!.emu.config;
    return {
      token: cfg.bots[0]!,
      apiId: cfg.apiId,
      apiHash: cfg.apiHash,
      sessionDir: path.join(fixture!.dir, sessions),
      telegram: cfg.telegram,
      proxy: proxyUrl,
      requestTimeoutMs: 20_000,
    };
  };

  before(async () => {
    const bin = findExecutable('microsocks');
    if (!bin) {
      throw new Error(MISSING);
    }
    proxy = await startMicrosocks(bin);
    fixture = await startFixture({ [FILE]: SIZE }, { fileDc: 4 });
  });

  after(async () => {
    await fixture?.close();
    await proxy?.stop();
  });

  test('login, one part and the whole file, every connection through the proxy', async () => {
    const f = fixture!;
    const source = f.files.get(FILE)!;
    const w = await Worker.start(options('sessions', `socks5://${USER}:${PASS}@127.0.0.1:${proxy!.port}`));
    f.workers.push(w); // close() stops it
    assert.equal(w.loginKind, 'imported', 'a fresh session logs in through the proxy');

    const loc = await w.getDocumentLocation(channelId(f, 'far'), 1);
    assert.equal(loc.dcId, 4);
    assert.equal(loc.size, SIZE);
    const part = await w.getFilePart(loc.location, MiB, MiB, { dcId: loc.dcId });
    assert.ok(part.equals(source.subarray(MiB, 2 * MiB)), 'part 1 MiB..2 MiB');
    const whole = await w.client.downloadFile(loc.location, { dcId: loc.dcId, fileSize: bigInt(loc.size) });
    assert.ok(Buffer.isBuffer(whole));
    assert.equal(whole.length, SIZE);
    assert.equal(sha256(whole), sha256(source));

    // microsocks logs each CONNECT it carries out; the worker dialled DC 2 (login) and DC 4.
    const dcs = f.emu.config.telegram!.dcs;
    const dc = (id: number) => dcs.find((d) => d.id === id)!;
    const seen = proxy!.connects;
    assert.ok(seen.some((c) => c.host === dc(2).host && c.port === dc(2).port), `DC 2 via proxy: ${inspect(seen)}`);
    assert.ok(seen.some((c) => c.host === dc(4).host && c.port === dc(4).port), `DC 4 via proxy: ${inspect(seen)}`);
    for (const c of seen) {
      assert.ok(dcs.some((d) => d.host === c.host && d.port === c.port), `unexpected destination ${inspect(c)}`);
    }
  });

  test('a wrong proxy password fails clearly, reaches no DC and does not leak the password', async () => {
    const f = fixture!;
    const secret = `wrong-${randomBytes(8).toString('hex')}`;
    const connectsBefore = proxy!.connects.length;
    const importsBefore = f.emu.stats().calls['auth.importBotAuthorization'] ?? 0;
    const t0 = Date.now();
    let failure: unknown;
    try {
      const w = await Worker.start({
        ...options('wrong-sessions', `socks5://${USER}:${secret}@127.0.0.1:${proxy!.port}`),
        connectionRetries: 1,
      });
      f.workers.push(w);
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof TelegramConnectionError, `Worker.start must fail with a wrong proxy password, got ${inspect(failure)}`);
    const err = failure;
    assert.equal(err.code, 'CONNECTION');
    assert.ok(Date.now() - t0 < 30_000, 'fails within the request timeout');
    assert.match(err.message, /connect|reach|proxy|socks/i, `a clear message: ${err.message}`);
    for (const text of [err.message, String(err.stack), inspect(err), JSON.stringify(err)]) {
      assert.ok(!text.includes(secret), `password leaked: ${text}`);
    }
    assert.equal(proxy!.connects.length, connectsBefore, 'microsocks connected nowhere');
    assert.equal(f.emu.stats().calls['auth.importBotAuthorization'] ?? 0, importsBefore, 'no login reached the emulator');
  });
});
