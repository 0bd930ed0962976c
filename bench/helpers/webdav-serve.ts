// `tgvfs serve` as a child process for benches: spawned on a free loopback port with its output in
// a log file, waited for until /healthz says every channel is indexed, stopped with SIGTERM (SIGKILL
// after a grace period). An exit or a signal of the bench kills it (onEmergency).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { tgvfsBin } from '../../support/cli-process';
import { freePort } from '../../support/net';
import { waitUntilIndexed } from '../../support/serve-ready';
import { logTail, onEmergency } from './processes';

export interface ServeChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startServeProcess(configFile: string, logFile: string, timeoutMs = 90_000): Promise<ServeChild> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [tgvfsBin, 'serve', '--config', configFile, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', fd, fd] });
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
  const gone = (): string | null => (child.exitCode !== null || child.signalCode !== null ? String(child.exitCode ?? child.signalCode) : null);
  try {
    await waitUntilIndexed(url, { exited: gone, logTail: () => logTail(logFile) }, timeoutMs);
    return { url, pid: child.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
