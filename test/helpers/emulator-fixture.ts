// Starts a real emulator (MTProto over TCP) on a temporary data folder for a test, and workers
// logged into it. Everything is torn down by `close()`, which tests call in `finally`/`after`.
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../src/emulator';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/types';
import { Worker } from '../../src/telegram';

export { MiB } from '../../support/bytes';

/** Deterministic pseudo-random bytes (so a failure can be reproduced). */
export function content(size: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, at, 0, Math.min(32, size - at));
  }
  return out;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface EmulatorFixture {
  dir: string;
  dataDir: string;
  emu: EmulatorHandle;
  /** Source bytes by relative path ("channel/file"). */
  files: Map<string, Buffer>;
  workers: Worker[];
  startWorker(botIndex?: number, extra?: { sessionDir?: string }): Promise<Worker>;
  close(): Promise<void>;
}

/** `files` maps "channel/name" to bytes or to a size (filled with deterministic content). */
export async function startFixture(
  files: Record<string, Buffer | number>,
  options: Partial<EmulatorOptions> = {},
): Promise<EmulatorFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-test-'));
  const dataDir = path.join(dir, 'data');
  const sources = new Map<string, Buffer>();
  for (const [rel, spec] of Object.entries(files)) {
    const bytes = typeof spec === 'number' ? content(spec, rel) : spec;
    sources.set(rel, bytes);
    await mkdir(path.dirname(path.join(dataDir, rel)), { recursive: true });
    await writeFile(path.join(dataDir, rel), bytes);
  }
  const emu = await startEmulator({ dataDir, bots: 3, configOut: path.join(dir, 'config.json'), ...options });
  const workers: Worker[] = [];
  const fixture: EmulatorFixture = {
    dir,
    dataDir,
    emu,
    files: sources,
    workers,
    async startWorker(botIndex = 0, extra = {}) {
      const cfg = fixture.emu.config;
      const w = await Worker.start({
        token: cfg.bots[botIndex]!,
        apiId: cfg.apiId,
        apiHash: cfg.apiHash,
        sessionDir: extra.sessionDir ?? cfg.sessionDir,
        telegram: cfg.telegram,
        requestTimeoutMs: 20_000,
      });
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      await fixture.emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** The config's id (-100…) of the channel named `name`. */
export function channelId(f: EmulatorFixture, name: string): number {
  const c = f.emu.config.channels.find((ch) => ch.name === name);
  if (!c) throw new Error(`no channel ${name}`);
  return c.id;
}
