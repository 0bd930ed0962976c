// Starts Debian's `redis-server` on 127.0.0.1 with a free port, no persistence, for a test.
// `stop()` kills it (tests call it in finally/after); `restart()` starts a fresh, empty server
// on the same port (a redis that went away and came back without its data).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../support/net';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Kills the server and waits for its exit. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty). */
  restart(): Promise<void>;
  /** Runs one command over RESP and returns the reply as text (for assertions on keys). */
  command(...args: string[]): Promise<string>;
}

/** Debian's package installs it on PATH (/usr/bin). */
const REDIS_SERVER = 'redis-server';

/** One RESP command; the reply rendered as text (bulk strings and arrays joined by newlines). */
async function resp(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis ${args[0]}: no reply in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseReply(buf, 0);
      if (!parsed) return;
      clearTimeout(timer);
      sock.end();
      resolve(parsed.text);
    });
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

/** Parses one RESP2 reply at `at`; undefined when incomplete. */
function parseReply(buf: Buffer, at: number): { text: string; next: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const head = buf.toString('utf8', at + 1, eol);
  if (type === '+' || type === '-' || type === ':') return { text: type === '-' ? `ERR ${head}` : head, next: eol + 2 };
  if (type === '$') {
    const n = Number(head);
    if (n < 0) return { text: '', next: eol + 2 };
    if (buf.length < eol + 2 + n + 2) return undefined;
    return { text: buf.toString('utf8', eol + 2, eol + 2 + n), next: eol + 2 + n + 2 };
  }
  if (type === '*') {
    const n = Number(head);
    const items: string[] = [];
    let next = eol + 2;
    for (let i = 0; i < n; i++) {
      const item = parseReply(buf, next);
      if (!item) return undefined;
      items.push(item.text);
      next = item.next;
    }
    return { text: items.join('\n'), next };
  }
  throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    let stderr = '';
    const c = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let spawnError: Error | null = null;
    c.once('error', (err) => (spawnError = err));
    child = c;
    exited = new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.once('error', () => resolve());
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnError) throw new Error(`cannot run redis-server (apt-get install redis-server): ${(spawnError as Error).message}`);
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`redis-server exited at start: ${stderr}`);
      try {
        if ((await resp(port, ['PING'], 500)) === 'PONG') return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on port ${port} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    command: (...args) => resp(port, args),
  };
}
