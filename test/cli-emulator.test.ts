// `tgvfs emulator` end to end, as a separate process: the ready line, every contract field of
// --config-out, GET /stats, a Worker in this process reading a file byte-exact, POST /faults at
// run time, a clean exit on SIGTERM; usage and run-time errors as one line with exit 2 or 1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type { TgvfsConfig } from '../src/config/schema';
import type { EmulatorStats } from '../src/emulator/types';
import { FloodWaitError, Worker } from '../src/telegram';
import { runCli, startCli, type CliProcess } from '../support/cli-process';
import { MiB, content, sha256 } from './helpers/emulator-fixture';

const READY = /^emulator ready: admin (\S+), DCs (\S+), config (.+)$/;

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as unknown };
}

async function stats(adminUrl: string): Promise<EmulatorStats> {
  const { status, body } = await getJson(`${adminUrl}/stats`);
  assert.equal(status, 200);
  return body as EmulatorStats;
}

describe('tgvfs emulator as a process', () => {
  let tmp = '';
  let cfgPath = '';
  let emu: CliProcess | undefined;
  let ready: RegExpExecArray;
  let cfg: TgvfsConfig;
  let worker: Worker | undefined;
  const source = content(2 * MiB + 300_001, 'one/a.bin');

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-cli-emu-'));
    await fs.mkdir(path.join(tmp, 'data', 'one'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'data', 'one', 'a.bin'), source);
    await fs.writeFile(path.join(tmp, 'data', 'one', 'b.txt'), 'x');
    cfgPath = path.join(tmp, 'cfg.json');
    emu = startCli(['emulator', '--data', path.join(tmp, 'data'), '--bots', '2', '--config-out', cfgPath, '--latency', '5']);
    ready = await emu.waitForLine(READY, 30_000);
    cfg = JSON.parse(await fs.readFile(cfgPath, 'utf8')) as TgvfsConfig;
  });

  after(async () => {
    await worker?.stop().catch(() => undefined);
    await emu?.kill();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('the ready line names the admin URL, the DCs and the config, which has every contract field', async () => {
    assert.equal(ready[3], cfgPath);
    assert.deepEqual(
      Object.keys(cfg).sort(),
      ['apiHash', 'apiId', 'bots', 'cache', 'channels', 'emulator', 'sessionDir', 'telegram'],
    );
    assert.ok(Number.isSafeInteger(cfg.apiId) && cfg.apiId > 0, `apiId ${cfg.apiId}`);
    assert.match(cfg.apiHash, /^[0-9a-f]{32}$/);
    assert.equal(cfg.bots.length, 2);
    for (const token of cfg.bots) assert.match(token, /^[0-9]+:[A-Za-z0-9_-]+$/);
    assert.equal(cfg.channels.length, 1);
    assert.equal(cfg.channels[0]!.name, 'one');
    assert.ok(Number.isSafeInteger(cfg.channels[0]!.id));
    assert.match(String(cfg.channels[0]!.id), /^-100[0-9]+$/);
    assert.ok(path.isAbsolute(cfg.sessionDir), cfg.sessionDir);
    assert.match(cfg.cache, /^sqlite:\/\/\/.+/);
    const dcs = cfg.telegram!.dcs;
    assert.ok(dcs.some((d) => d.id === 2), 'the home DC is listed');
    for (const d of dcs) {
      assert.ok(Number.isInteger(d.id) && d.id >= 1 && d.id <= 5, inspect(d));
      assert.equal(typeof d.host, 'string');
      assert.ok(d.port > 0 && d.port <= 32767, `port ${d.port} fits GramJS's int16`);
    }
    assert.equal(ready[2], dcs.map((d) => `${d.id}@${d.host}:${d.port}`).join(','));
    assert.ok(cfg.telegram!.rsaPublicKeys.length >= 1);
    for (const pem of cfg.telegram!.rsaPublicKeys) {
      assert.match(pem, /^-----BEGIN (RSA )?PUBLIC KEY-----\n/);
      assert.equal(createPublicKey(pem).asymmetricKeyType, 'rsa');
    }
    assert.match(cfg.emulator!.adminUrl, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    assert.equal(ready[1], cfg.emulator!.adminUrl);
    assert.equal((await fs.stat(cfgPath)).mode & 0o077, 0, 'the config holds bot tokens: not readable by others');
  });

  test('GET /stats has calls, bytesServed and faults', async () => {
    const s = await stats(cfg.emulator!.adminUrl);
    assert.equal(typeof s.calls, 'object');
    assert.equal(typeof s.bytesServed, 'number');
    assert.equal(typeof s.faults, 'object');
    for (const v of [...Object.values(s.calls), ...Object.values(s.faults)]) assert.equal(typeof v, 'number');
  });

  test('a Worker in this process reads a file byte-exact; /stats counts upload.getFile', async () => {
    const admin = cfg.emulator!.adminUrl;
    worker = await Worker.start({
      token: cfg.bots[0]!,
      apiId: cfg.apiId,
      apiHash: cfg.apiHash,
      sessionDir: cfg.sessionDir,
      telegram: cfg.telegram,
      requestTimeoutMs: 20_000,
    });
    const loc = await worker.getDocumentLocation(cfg.channels[0]!.id, 1);
    assert.equal(loc.fileName, 'a.bin');
    assert.equal(loc.size, source.length);
    const before = await stats(admin);
    const parts: Buffer[] = [];
    for (let offset = 0; offset < loc.size; offset += MiB) {
      parts.push(await worker.getFilePart(loc.location, offset, MiB, { dcId: loc.dcId }));
    }
    const got = Buffer.concat(parts);
    assert.equal(got.length, source.length);
    assert.equal(sha256(got), sha256(source));
    const after = await stats(admin);
    const calls = (s: EmulatorStats): number => s.calls['upload.getFile'] ?? 0;
    assert.equal(calls(after) - calls(before), parts.length);
    assert.equal(after.bytesServed - before.bytesServed, source.length);
  });

  test('POST /faults floodWait: the next getFilePart is a FloodWaitError', async () => {
    const admin = cfg.emulator!.adminUrl;
    const set = await getJson(`${admin}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ floodWait: { every: 1, seconds: 5 } }),
    });
    assert.equal(set.status, 200, inspect(set.body));
    assert.deepEqual((set.body as { floodWait: unknown }).floodWait, { every: 1, seconds: 5 });
    const loc = await worker!.getDocumentLocation(cfg.channels[0]!.id, 1);
    await assert.rejects(worker!.getFilePart(loc.location, 0, MiB), (err: unknown) => {
      assert.ok(err instanceof FloodWaitError, inspect(err));
      assert.equal(err.waitSeconds, 5);
      return true;
    });
    assert.ok(((await stats(admin)).faults['FLOOD_WAIT'] ?? 0) >= 1, '/stats counts the fault');
  });

  test('SIGTERM with a client still connected: exits 0 within a few seconds', async () => {
    const t0 = Date.now();
    emu!.child.kill('SIGTERM');
    const { code, signal } = await emu!.exit(5000);
    assert.equal(signal, null);
    assert.equal(code, 0, emu!.stderr());
    assert.ok(Date.now() - t0 < 5000);
    assert.match(emu!.stderr(), /SIGTERM, closing/);
  });
});

describe('tgvfs emulator: errors are one line', () => {
  let tmp = '';

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-cli-emu-err-'));
    await fs.mkdir(path.join(tmp, 'data', 'one'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'data', 'one', 'a.txt'), 'a');
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('a bad flag exits 2 with one line naming it', () => {
    const base = ['emulator', '--data', path.join(tmp, 'data'), '--config-out', path.join(tmp, 'cfg.json')];
    for (const [extra, flag] of [
      [['--latency', 'soon'], '--latency'],
      [['--bots', '-1'], '--bots'],
      [['--no-such-flag'], '--no-such-flag'],
    ] as const) {
      const r = runCli([...base, ...extra]);
      assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith('tgvfs emulator: '), lines[0]);
      assert.ok(lines[0]!.includes(flag), `names ${flag}: ${lines[0]}`);
      assert.equal(r.stdout, '');
    }
    assert.equal(existsSync(path.join(tmp, 'cfg.json')), false);
  });

  test('--listen on a port already in use exits 1 with one clear line', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const cfgOut = path.join(tmp, 'busy.json');
      const r = runCli(['emulator', '--data', path.join(tmp, 'data'), '--config-out', cfgOut, '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^tgvfs emulator: .*127\\.0\\.0\\.1:${port}.*(in use|EADDRINUSE)`));
      assert.equal(r.stdout, '');
      assert.equal(existsSync(cfgOut), false, 'no config written');
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
