// `tgvfs hash-password [--bearer]`: reads a password (or, with --bearer, a token) and prints the
// hash that goes in the config's `auth` (or TGVFS_AUTH_PASSWORD_HASH / TGVFS_AUTH_TOKEN_HASH).
// The secret comes from stdin, never from an argument (arguments show in `ps` and shell
// history): piped, it is the first line; on a terminal, it is typed without echo, twice.
import { hashPassword, hashToken } from '../config/credentials';
import { UsageError } from './options';

export interface HashPasswordFlags {
  bearer?: boolean;
}

/** Ctrl-C at the prompt: exit 130 like a shell, no hash printed. */
class PromptInterrupted extends Error {
  override name = 'PromptInterrupted';
}

/** All of a piped stdin: one line, with its line end removed. */
async function readPiped(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw new UsageError(`stdin must hold the ${what} on one line`);
  return text;
}

/** Reads one line from a terminal in raw mode, echoing nothing. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new PromptInterrupted('interrupted'));
        if (ch === '\u0004') return finish(); // Ctrl-D ends the line
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    // Raw (no echo) before the prompt shows: whatever is typed after it is never echoed.
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readSecret(what: 'password' | 'token'): Promise<string> {
  if (!process.stdin.isTTY) return readPiped(process.stdin, what);
  const first = await promptHidden(`${what === 'password' ? 'Password' : 'Token'}: `);
  if (first === '') return first;
  const again = await promptHidden(`Repeat the ${what}: `);
  if (again !== first) throw new UsageError(`the two ${what}s differ`);
  return first;
}

export async function runHashPassword(flags: HashPasswordFlags): Promise<void> {
  const what = flags.bearer ? 'token' : 'password';
  let secret: string;
  try {
    secret = await readSecret(what);
  } catch (err) {
    if (!(err instanceof PromptInterrupted)) throw err;
    process.exitCode = 130;
    return;
  }
  if (secret === '') throw new UsageError(`no ${what} given (pipe it to stdin, or type it at the prompt)`);
  if (flags.bearer && secret.length < 16) throw new UsageError('a bearer token must be at least 16 characters (e.g. openssl rand -hex 32)');
  const hash = flags.bearer ? hashToken(secret) : await hashPassword(secret);
  process.stdout.write(`${hash}\n`);
  if (process.stderr.isTTY) {
    const snippet = flags.bearer
      ? `"auth": { "type": "bearer", "tokenHash": "${hash}" }  (or TGVFS_AUTH_TOKEN_HASH)`
      : `"auth": { "type": "basic", "user": "<name>", "passwordHash": "${hash}" }  (or TGVFS_AUTH_USER + TGVFS_AUTH_PASSWORD_HASH)`;
    process.stderr.write(`put it in the config file: ${snippet}\n`);
  }
}
