// Waiting for a `tgvfs serve` child process to be ready: /healthz answers 200 and says every
// channel is indexed. Tests (stderr kept in memory) and benches (output in a log file) start the
// process their own way and share this wait.

interface Health {
  ready?: boolean;
  channels?: { name: string; indexed: boolean; error?: string }[];
}

export interface ServeWatch {
  /** Why the process is gone (`exit code 1`, `SIGKILL`), or null while it runs. */
  exited(): string | null;
  /** The last lines of its output, for error messages. */
  logTail(): string;
}

/**
 * Polls `${url}/healthz` every 100 ms until every channel is indexed. Rejects when the process
 * exits first, when a channel's indexing failed, or after `timeoutMs`, each time with the log tail.
 */
export async function waitUntilIndexed(url: string, watch: ServeWatch, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const gone = watch.exited();
    if (gone !== null) throw new Error(`tgvfs serve exited (${gone}) before it was ready; output:\n${watch.logTail()}`);
    let body: Health | null = null;
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      body = (await r.json()) as Health;
      last = `${r.status} ${JSON.stringify(body)}`;
      if (r.status === 200 && body.channels?.every((c) => c.indexed)) return;
    } catch (err) {
      last = (err as Error).message;
    }
    const failed = body?.channels?.filter((c) => c.error);
    if (failed?.length) throw new Error(`tgvfs serve: indexing failed: ${JSON.stringify(failed)}; output:\n${watch.logTail()}`);
    if (Date.now() > deadline) throw new Error(`tgvfs serve not ready within ${timeoutMs} ms (last /healthz: ${last}); output:\n${watch.logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
