// An emulator fixture for stream tests that also holds huge *sparse* files (a 1 GiB file costs
// a few KiB of disk). The emulator scans its data folder once, at start, so sparse files must
// exist before it starts: this helper lays out the folder itself, then starts the emulator.
//
// A sparse file is zeros except for 16-byte stamps (one per MiB, half of them straddling a MiB
// boundary), so that a stream can be checked exactly and cheaply, chunk by chunk, without
// holding the file in memory (`SparseChecker`).
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../src/emulator';
import type { EmulatorOptions } from '../../src/emulator/types';
import { content, MiB, type EmulatorFixture } from './emulator-fixture';

export interface Stamp {
  offset: number;
  bytes: Buffer;
}

export const STAMP = 16;

/** The stamps of sparse file `rel` of `size` bytes, sorted and disjoint. */
export function stampsOf(rel: string, size: number): Stamp[] {
  const out: Stamp[] = [];
  const bytes = (i: number): Buffer => {
    const b = createHash('sha256').update(`${rel}#${i}`).digest().subarray(0, STAMP);
    b[0] = b[0]! | 1; // never all zeros
    return b;
  };
  if (size >= STAMP) out.push({ offset: 0, bytes: bytes(0) });
  for (let i = 1; i * MiB < size; i++) {
    const offset = i % 2 === 0 ? i * MiB - STAMP / 2 : i * MiB + ((i * 4099) % (MiB / 2));
    if (offset + STAMP <= size) out.push({ offset, bytes: bytes(i) });
  }
  return out;
}

const ZERO = Buffer.alloc(MiB);

/** Checks consecutive chunks of a stream of a sparse file starting at `start`, without allocating. */
export class SparseChecker {
  pos: number;
  private i = 0;

  constructor(private readonly stamps: Stamp[], readonly start: number) {
    this.pos = start;
    while (this.i < stamps.length && stamps[this.i]!.offset + STAMP <= start) this.i++;
  }

  /** Throws (with the position) on the first byte that differs from the file. */
  check(chunk: Buffer): void {
    const end = this.pos + chunk.length;
    let at = this.pos;
    const zeros = (to: number): void => {
      for (let p = at; p < to; p += MiB) {
        const n = Math.min(MiB, to - p);
        if (chunk.compare(ZERO, 0, n, p - this.pos, p - this.pos + n) !== 0) throw new Error(`non-zero byte in ${p}…${p + n - 1}`);
      }
      at = to;
    };
    while (at < end) {
      const s = this.stamps[this.i];
      if (!s || s.offset >= end) {
        zeros(end);
        break;
      }
      if (s.offset > at) zeros(s.offset);
      const from = at - s.offset;
      const to = Math.min(STAMP, end - s.offset);
      if (chunk.compare(s.bytes, from, to, at - this.pos, at - this.pos + (to - from)) !== 0) throw new Error(`stamp at ${s.offset} wrong in ${at}…${s.offset + to - 1}`);
      at = s.offset + to;
      if (to === STAMP) this.i++;
    }
    this.pos = end;
  }
}

export interface StreamFixture extends EmulatorFixture {
  /** Message id of "channel/name". */
  msgId(rel: string): number;
  /** Sizes of the sparse files by relative path. */
  sparse: Map<string, number>;
}

/**
 * `files` as in startFixture (deterministic content, kept in `files`); `sparse` maps
 * "channel/name" to a size: a sparse file of zeros and stamps (see stampsOf).
 */
export async function startStreamFixture(
  files: Record<string, Buffer | number>,
  sparse: Record<string, number>,
  options: Partial<EmulatorOptions> = {},
): Promise<StreamFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-stream-test-'));
  const dataDir = path.join(dir, 'data');
  const sources = new Map<string, Buffer>();
  try {
    for (const [rel, spec] of Object.entries(files)) {
      const bytes = typeof spec === 'number' ? content(spec, rel) : spec;
      sources.set(rel, bytes);
      await mkdir(path.dirname(path.join(dataDir, rel)), { recursive: true });
      await writeFile(path.join(dataDir, rel), bytes);
    }
    for (const [rel, size] of Object.entries(sparse)) {
      await mkdir(path.dirname(path.join(dataDir, rel)), { recursive: true });
      const fh = await open(path.join(dataDir, rel), 'w');
      try {
        for (const s of stampsOf(rel, size)) await fh.write(s.bytes, 0, STAMP, s.offset);
        await fh.truncate(size);
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const emu = await startEmulator({ dataDir, bots: 3, configOut: path.join(dir, 'config.json'), ...options });
  const state = JSON.parse(await readFile(path.join(dataDir, '.tgvfs-emulator', 'state.json'), 'utf8')) as {
    channels: Record<string, { files: Record<string, number> }>;
  };
  const fixture: StreamFixture = {
    dir,
    dataDir,
    emu,
    files: sources,
    workers: [],
    sparse: new Map(Object.entries(sparse)),
    msgId(rel) {
      const [channel, name] = rel.split('/') as [string, string];
      const id = state.channels[channel]?.files[name];
      if (id === undefined) throw new Error(`no message for ${rel}`);
      return id;
    },
    startWorker() {
      throw new Error('stream fixtures use WorkerPool, not single workers');
    },
    async close() {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
