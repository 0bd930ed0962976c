// bench/emulator: how fast the emulator serves one uncapped connection, so that later benches
// know it is not their bottleneck. The emulator runs as `tgvfs emulator` in a child process;
// the client is one Worker (GramJS with the fast IGE) keeping DEPTH 1 MiB getFile calls in
// flight on its one home-DC connection. Also prints what the emulator alone could serve per
// CPU-second (its own user+system time from /proc), which bounds any client.
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TgvfsConfig } from '../src/config/schema';
import { Worker } from '../src/telegram';
import { MiB } from '../support/bytes';
import { tgvfsBin } from '../support/cli-process';
import { cpuSeconds } from '../support/proc';

const SIZE = Number(process.env.BENCH_MIB ?? 256) * MiB;
const DEPTH = Number(process.env.BENCH_DEPTH ?? 8);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-bench-emu-'));
  let worker: Worker | undefined;
  try {
    await mkdir(path.join(dir, 'data', 'bench'), { recursive: true });
    const chunk = Buffer.allocUnsafe(16 * MiB);
    const file = path.join(dir, 'data', 'bench', 'big.bin');
    for (let at = 0; at < SIZE; at += chunk.length) await writeFile(file, randomFillSync(chunk), { flag: at ? 'a' : 'w' });
    const emu = spawn(process.execPath, [tgvfsBin, 'emulator', '--data', path.join(dir, 'data'), '--bots', '1', '--config-out', path.join(dir, 'cfg.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      const cfgFile = path.join(dir, 'cfg.json');
      for (let i = 0; i < 600 && !existsSync(cfgFile); i++) await new Promise((r) => setTimeout(r, 50));
      const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as TgvfsConfig;
      worker = await Worker.start({ token: cfg.bots[0]!, apiId: cfg.apiId, apiHash: cfg.apiHash, sessionDir: cfg.sessionDir, telegram: cfg.telegram });
      const doc = await worker.getDocumentLocation(cfg.channels[0]!.id, 1);
      if (doc.size !== SIZE) throw new Error(`emulator reports ${doc.size} bytes, wrote ${SIZE}`);
      const parts = Math.ceil(SIZE / MiB);
      const cpu0 = await cpuSeconds(emu.pid!);
      const t0 = process.hrtime.bigint();
      let next = 0;
      let bytes = 0;
      const w = worker;
      await Promise.all(
        Array.from({ length: DEPTH }, async () => {
          while (next < parts) {
            const part = next++;
            const got = await w.getFilePart(doc.location, part * MiB, MiB, { dcId: doc.dcId });
            bytes += got.length;
          }
        }),
      );
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = (await cpuSeconds(emu.pid!)) - cpu0;
      const mb = bytes / 1e6;
      console.log(`one connection, ${DEPTH} x 1 MiB getFile in flight, ${(bytes / MiB).toFixed(0)} MiB in ${secs.toFixed(2)} s`);
      console.log(`emulator CPU ${cpu.toFixed(2)} s for it`);
      console.log(`one_connection_MBps=${(mb / secs).toFixed(1)} emulator_cpu_MBps=${(mb / cpu).toFixed(1)}`);
    } finally {
      await worker?.stop();
      emu.kill('SIGTERM');
      await once(emu, 'exit');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
