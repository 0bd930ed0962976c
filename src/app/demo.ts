// `tgvfs demo`: the sample channels (demo-data.ts) served by the emulator, with its config in
// `<demo dir>/config.json`, and `serve` (WebDAV, /stream, /metrics) over that config.
import path from 'node:path';
import { startEmulator } from '../emulator';
import type { EmulatorHandle } from '../emulator/types';
import { ensureDemoData, type DemoData } from './demo-data';
import { startServer, type ListenAddress, type RunningServer } from './server';

export interface DemoOptions {
  /**
   * The demo folder.
   * @default defaultDemoDir()
   */
  dir?: string;
  /** Host for the emulator's admin endpoint (on a free port). */
  adminHost: string;
  /** Where WebDAV listens; omitted: the emulator only. */
  listen?: ListenAddress;
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
  server: RunningServer | null;
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
  let server: RunningServer | null = null;
  if (opts.listen) {
    try {
      server = await startServer(emulator.config, { listen: opts.listen, log: opts.log, signal: opts.signal });
      // The sample channels index in well under a second: say "ready" when every file is listed.
      await server.indexed();
    } catch (err) {
      await emulator.close();
      throw err;
    }
  }
  return {
    data, configPath, emulator, server,
    close: async () => {
      await server?.close();
      await emulator.close();
    },
  };
}
