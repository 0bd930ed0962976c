// `tgvfs demo`: the sample channels (demo-data.ts) served by the emulator, with its config in
// `<demo dir>/config.json`. The WebDAV server joins here once `serve` exists.
import path from 'node:path';
import { startEmulator } from '../emulator';
import type { EmulatorHandle } from '../emulator/types';
import { ensureDemoData, type DemoData } from './demo-data';

export interface DemoOptions {
  /**
   * The demo folder.
   * @default defaultDemoDir()
   */
  dir?: string;
  /** Host for the emulator's admin endpoint (on a free port). */
  adminHost: string;
  /**
   * Bot accounts the emulator serves.
   * @default 3
   */
  bots?: number;
  /** See DemoDataOptions.ffmpeg. */
  ffmpeg?: string | false;
  log?: (line: string) => void;
  /** Aborts the start-up (e.g. video generation); has no effect once started. */
  signal?: AbortSignal;
}

export interface DemoHandle {
  data: DemoData;
  /** `<demo dir>/config.json`: a complete tgvfs config for the emulator. */
  configPath: string;
  emulator: EmulatorHandle;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<DemoHandle> {
  const data = await ensureDemoData({ dir: opts.dir, ffmpeg: opts.ffmpeg, log: opts.log, signal: opts.signal });
  if (opts.signal?.aborted) throw opts.signal.reason;
  const configPath = path.join(data.dir, 'config.json');
  const emulator = await startEmulator({
    dataDir: data.dataDir,
    bots: opts.bots ?? 3,
    listen: { host: opts.adminHost, port: 0 },
    configOut: configPath,
    log: opts.log,
  });
  return { data, configPath, emulator, close: () => emulator.close() };
}
