// The one base error of tgvfs: a string `code` callers branch on, the context a person needs
// (channel, message, worker) and a message with no secret in it. Every layer's errors extend it;
// each front-end translates codes in one table (fuse/errno.ts, webdav/status.ts).
import { scrubSecrets } from './secrets';

/** Where an error happened. `channel` is the -100… id, `worker` the bot id. */
export interface ErrorContext {
  channel?: number;
  msgId?: number;
  worker?: number;
}

/** ` [worker 1, channel -100…, message 3]`, or '' for an empty context. */
export function describeContext(ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.worker !== undefined) parts.push(`worker ${ctx.worker}`);
  if (ctx.channel !== undefined) parts.push(`channel ${ctx.channel}`);
  if (ctx.msgId !== undefined) parts.push(`message ${ctx.msgId}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
}

export class TgvfsError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    // Scrub before super(): V8 captures the stack header from the message at construction.
    super(scrubSecrets(message), options);
    this.name = new.target.name;
    this.code = code;
    this.context = { ...context };
  }
}

/** An error as one line for a log or a person: the first non-empty line of its message. */
export function errorLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? 'unknown error';
}

/** `err`, or the first error of its `cause` chain that passes `is`. */
export function findCause<T>(err: unknown, is: (e: unknown) => e is T): T | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (is(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
