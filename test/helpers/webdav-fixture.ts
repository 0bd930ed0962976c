// For the real-client WebDAV tests: an emulator (in this process) over a data folder whose files
// have chosen modification times (the emulator uses a file's mtime as its message's date, which
// is what WebDAV shows as getlastmodified), and `tgvfs serve` in a child process on a free port,
// waited for until /healthz says every channel is indexed. Both are torn down by `close()`.
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../../src/emulator';
import type { EmulatorHandle, EmulatorStats } from '../../src/emulator/types';
import { startCli, type CliProcess } from '../../support/cli-process';
import { freePort } from '../../support/net';
import { waitUntilIndexed } from '../../support/serve-ready';

export interface SourceFile {
  /** The bytes, or a file to copy them from (large media). */
  bytes?: Buffer;
  copyFrom?: string;
  /** Modification time = the message's date (whole seconds). */
  mtime: Date;
}

export interface WebdavFixture {
  dir: string;
  dataDir: string;
  configPath: string;
  emu: EmulatorHandle;
  /** Absolute path of a source file ("channel/name"). */
  source(rel: string): string;
  close(): Promise<void>;
}

export async function startWebdavFixture(files: Record<string, SourceFile>, bots = 3): Promise<WebdavFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-webdav-'));
  const dataDir = path.join(dir, 'data');
  try {
    for (const [rel, f] of Object.entries(files)) {
      const file = path.join(dataDir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      if (f.copyFrom) await copyFile(f.copyFrom, file);
      else await writeFile(file, f.bytes ?? Buffer.alloc(0));
      await utimes(file, f.mtime, f.mtime);
    }
    const configPath = path.join(dir, 'config.json');
    // No folder watching: the data does not change during the tests.
    const emu = await startEmulator({ dataDir, bots, configOut: configPath, watch: false });
    return {
      dir,
      dataDir,
      configPath,
      emu,
      source: (rel) => path.join(dataDir, rel),
      async close() {
        await emu.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Calls per TL method made between two snapshots (methods whose count did not change omitted). */
export function callsBetween(before: EmulatorStats, after: EmulatorStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [m, n] of Object.entries(after.calls)) {
    const d = n - (before.calls[m] ?? 0);
    if (d !== 0) out[m] = d;
  }
  return out;
}

export interface ServeProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  cli: CliProcess;
  /** The last lines of the server's stderr (for failure messages). */
  logTail(lines?: number): string;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * `node bin/tgvfs serve --config FILE --listen 127.0.0.1:<free port>`; resolves once /healthz
 * answers 200 and says every channel is indexed.
 */
export async function startServe(configPath: string, timeoutMs = 60_000): Promise<ServeProcess> {
  const port = await freePort();
  const cli = startCli(['serve', '--config', configPath, '--listen', `127.0.0.1:${port}`]);
  const url = `http://127.0.0.1:${port}`;
  const logTail = (n = 20): string => cli.stderr().trim().split('\n').slice(-n).join('\n');
  const proc: ServeProcess = {
    url,
    cli,
    logTail,
    async stop(ms = 10_000) {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.child.exitCode;
      cli.child.kill('SIGTERM');
      try {
        return (await cli.exit(ms)).code;
      } finally {
        await cli.kill();
      }
    },
  };
  const exited = (): string | null => (cli.child.exitCode !== null || cli.child.signalCode !== null ? String(cli.child.exitCode ?? cli.child.signalCode) : null);
  try {
    await waitUntilIndexed(url, { exited, logTail: () => logTail() }, timeoutMs);
    return proc;
  } catch (err) {
    await cli.kill();
    throw err;
  }
}

/**
 * Waits until the emulator's bytesServed has not moved for `quietMs` (in-flight parts land). For
 * a client with no figures of its own to compare (a `tgvfs mount` child); a `tgvfs serve` child
 * has them: use upstream-ledger's serveLedger.
 */
export async function settledStats(f: WebdavFixture, quietMs = 400, maxMs = 5000): Promise<EmulatorStats> {
  const t0 = Date.now();
  let last = f.emu.stats();
  let since = Date.now();
  while (Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 50));
    const now = f.emu.stats();
    if (now.bytesServed !== last.bytesServed) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
  return f.emu.stats();
}
