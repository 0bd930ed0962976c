// `tgvfs serve` as a child process for benches: spawned on a free loopback port with its output in
// a log file, waited for until /healthz says every channel is indexed, stopped with SIGTERM (SIGKILL
// after a grace period). An exit or a signal of the bench kills it (onEmergency).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { onEmergency } from './processes';
import { freePort } from '../../test/helpers/webdav-tools';

export interface ServeChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function startServeProcess(configFile: string, logFile: string, timeoutMs = 90_000): Promise<ServeChild> {
  const port = await freePort();
  const bin = path.resolve(__dirname, '../../../bin/tgvfs');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [bin, 'serve', '--config', configFile, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const unregister = onEmergency(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    unregister();
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`tgvfs serve exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logFile)}`);
      }
      try {
        const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        const h = (await r.json()) as { channels?: { indexed: boolean; error?: string }[] };
        const failed = h.channels?.find((c) => c.error);
        if (failed) throw new Error(`tgvfs serve: indexing failed: ${failed.error}`);
        if (r.status === 200 && h.channels?.every((c) => c.indexed)) return { url, pid: child.pid!, stop };
      } catch (err) {
        if ((err as Error).message.startsWith('tgvfs serve: indexing failed')) throw err;
      }
      if (Date.now() > deadline) throw new Error(`tgvfs serve not ready within ${timeoutMs} ms:\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}
