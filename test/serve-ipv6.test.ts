// tgvfs over IPv6: `tgvfs emulator --ipv6` puts every DC on ::1, each on its own port (one host,
// five DCs: dialled by DC id), files on DC 4 (FILE_MIGRATE to a DC found from the config, where
// GramJS alone would look for an ipv6 dc_option); `tgvfs serve` on that config serves a file
// byte-exact over WebDAV, and a worker says it reached its DC over IPv6.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import type { EmulatorStats } from '../src/emulator/types';
import { Worker } from '../src/telegram';
import { startCli, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/net';
import { waitUntilIndexed } from '../support/serve-ready';
import { MiB, content, sha256 } from './helpers/emulator-fixture';

const READY = /^emulator ready: admin (\S+), DCs (\S+), config (.+)$/;

/** Whether this machine can listen on ::1 (a container may have no IPv6 at all). */
function canListenOnIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TGVFS_')) env[k] = v;
  return env;
}

describe('tgvfs over IPv6 (the emulator on ::1)', async () => {
  const ipv6 = await canListenOnIpv6Loopback();
  if (!ipv6 && process.env.CI === 'true') throw new Error('cannot listen on ::1; CI=true: the IPv6 loopback must be there');
  const skip = ipv6 ? false : 'this machine cannot listen on ::1';

  let tmp = '';
  let cfgPath = '';
  let cfg: TgvfsConfig;
  let ready: RegExpExecArray;
  const running: CliProcess[] = [];
  const source = content(MiB + 777, 'films/film.bin');

  before(async () => {
    if (skip) return;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-ipv6-'));
    await fs.mkdir(path.join(tmp, 'data', 'films'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'data', 'films', 'film.bin'), source);
    cfgPath = path.join(tmp, 'cfg.json');
    const emu = startCli(['emulator', '--data', path.join(tmp, 'data'), '--bots', '2', '--config-out', cfgPath, '--ipv6', '--file-dc', '4']);
    running.push(emu);
    ready = await emu.waitForLine(READY, 30_000);
    cfg = JSON.parse(await fs.readFile(cfgPath, 'utf8')) as TgvfsConfig;
  });
  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('every DC listens on ::1 on a port of its own, named so in the ready line and the config', { skip }, () => {
    const dcs = cfg.telegram!.dcs;
    assert.deepEqual(dcs.map((d) => d.host), ['::1', '::1', '::1', '::1', '::1']);
    assert.equal(new Set(dcs.map((d) => d.port)).size, 5);
    assert.equal(ready[2], dcs.map((d) => `${d.id}@[::1]:${d.port}`).join(','));
  });

  it('a worker reaches its DC over IPv6 and reads from DC 4', { skip }, async () => {
    const w = await Worker.start({ token: cfg.bots[0]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: path.join(tmp, 'worker-sessions'), telegram: cfg.telegram, requestTimeoutMs: 20_000 });
    try {
      const home = cfg.telegram!.dcs.find((d) => d.id === 2)!;
      assert.equal(w.transport, `TCP to [::1]:${home.port} (IPv6)`);
      const loc = await w.getDocumentLocation(cfg.channels[0]!.id, 1);
      assert.equal(loc.dcId, 4);
      const part = await w.getFilePart(loc.location, 0, MiB, { dcId: 4 });
      assert.ok(part.equals(source.subarray(0, MiB)));
    } finally {
      await w.stop();
    }
  });

  it('serve serves the file byte-exact over WebDAV, the parts fetched from DC 4', { skip }, async () => {
    const adminUrl = cfg.emulator!.adminUrl;
    await fetch(`${adminUrl}/stats/reset`, { method: 'POST' });
    const port = await freePort();
    const p = startCli(['serve', '--config', cfgPath, '--listen', `127.0.0.1:${port}`], { env: cleanEnv() });
    running.push(p);
    const url = `http://127.0.0.1:${port}`;
    await p.waitForLine(/^serve ready: /, 60_000);
    await waitUntilIndexed(url, { exited: () => (p.child.exitCode === null ? null : `exit code ${p.child.exitCode}`), logTail: () => p.stderr().slice(-2000) }, 60_000);
    const body = Buffer.from(await (await fetch(`${url}/films/film.bin`)).arrayBuffer());
    assert.equal(sha256(body), sha256(source));
    const stats = (await (await fetch(`${adminUrl}/stats`)).json()) as EmulatorStats;
    assert.ok((stats.calls['upload.getFile'] ?? 0) >= 2, JSON.stringify(stats.calls));
    assert.ok((stats.calls['auth.importAuthorization'] ?? 0) >= 1, 'authorized on DC 4');
    p.child.kill('SIGTERM');
    assert.equal((await p.exit(15_000)).code, 0, p.stderr());
  });
});
