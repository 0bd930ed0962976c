// `tgvfs demo`: the sample channels (demo-data.ts) served by the emulator, with its config in
// `<demo dir>/config.json`, and `serve` (WebDAV, /stream, /metrics) and optionally a FUSE mount
// over that config (one shared core behind both).
import path from 'node:path';
import { startEmulator } from '../emulator';
import type { EmulatorHandle } from '../emulator/types';
import { ensureDemoData, type DemoData } from './demo-data';
import { startCore, type AppCore } from './core';
import { startMount, type RunningMount } from './mount';
import type { ListenAddress } from '../config/listen-address';
import { startServer, type RunningServer } from './server';
import { checkDemoListen } from './listen-access';

export interface DemoOptions {
  /**
   * The demo folder.
   * @default defaultDemoDir()
   */
  dir?: string;
  /** Host for the emulator's admin endpoint (on a free port). */
  adminHost: string;
  /** Where WebDAV listens; omitted: no WebDAV. */
  listen?: ListenAddress;
  /** Also mount the tree here with FUSE (an existing empty folder); omitted: no mount. */
  mount?: string;
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
  mount: RunningMount | null;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<DemoHandle> {
  if (opts.listen) checkDemoListen(opts.listen);
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
  let core: AppCore | null = null;
  let server: RunningServer | null = null;
  let mount: RunningMount | null = null;
  const close = async (): Promise<void> => {
    await mount?.close();
    await server?.close();
    await core?.close();
    await emulator.close();
  };
  try {
    if (opts.listen || opts.mount !== undefined) {
      // One pool, catalog and VFS behind both front-ends.
      core = await startCore(emulator.config, { log: opts.log, signal: opts.signal });
      if (opts.listen) server = await startServer(emulator.config, { listen: opts.listen, log: opts.log, signal: opts.signal, core });
      if (opts.mount !== undefined) mount = await startMount(emulator.config, opts.mount, { log: opts.log, signal: opts.signal, core, metrics: server?.http.metrics });
      core.startIndexing();
      // The sample channels index in well under a second: say "ready" when every file is listed.
      await core.indexed();
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { data, configPath, emulator, server, mount, close };
}
