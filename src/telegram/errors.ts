// Errors of the telegram layer: subclasses of util's TgvfsError carrying the data a caller needs
// (wait seconds, channel, message, worker). `toTgvfsError` is the one place that
// reads GramJS's error objects. Every message passes through `scrubSecrets`: no bot token secret
// or api hash ever reaches a message or a stack.
import { errors as gramErrors } from 'telegram';
import { TgvfsError, describeContext, type ErrorContext } from '../util/errors';
import { tlMethodName } from '../util/tl-names';

/** An RPC error answered by Telegram; `code` is its message, e.g. `LIMIT_INVALID`. */
export class TelegramRpcError extends TgvfsError {
  /** Telegram's numeric error code (400, 303, 420, …); 0 when unknown. */
  readonly rpcCode: number;
  /** TL method name, e.g. `upload.getFile`; `unknown` when GramJS did not say. */
  readonly method: string;

  constructor(
    code: string,
    rpcCode: number,
    method: string,
    context: ErrorContext = {},
    options?: { cause?: unknown; message?: string },
  ) {
    const message = options?.message ?? `${method} failed: ${rpcCode} ${code}${describeContext(context)}`;
    super(code, message, context, options);
    this.rpcCode = rpcCode;
    this.method = method;
  }
}

/** FLOOD_WAIT_N: this worker must not call Telegram for `waitSeconds`. */
export class FloodWaitError extends TelegramRpcError {
  readonly waitSeconds: number;

  constructor(waitSeconds: number, method: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('FLOOD_WAIT', 420, method, context, {
      ...options,
      message: `${method}: FLOOD_WAIT of ${waitSeconds} s${describeContext(context)}`,
    });
    this.waitSeconds = waitSeconds;
  }
}

/** A worker's FLOOD_WAIT exceeds what the caller is willing to wait; use another worker. */
export class FloodWaitTooLongError extends TgvfsError {
  readonly waitSeconds: number;
  readonly worker: number;

  constructor(waitSeconds: number, worker: number, context: ErrorContext = {}) {
    super(
      'FLOOD_WAIT_TOO_LONG',
      `worker ${worker} must wait ${waitSeconds} s (FLOOD_WAIT), longer than allowed`,
      { ...context, worker },
    );
    this.waitSeconds = waitSeconds;
    this.worker = worker;
  }
}

/** Telegram refused a bot token. The message names the bot id only, never the secret. */
export class InvalidTokenError extends TgvfsError {
  /** The bot id (token prefix), or undefined when the token has no numeric prefix. */
  readonly botId: number | undefined;
  /** Why: the RPC message (ACCESS_TOKEN_INVALID, …) or `malformed`. */
  readonly reason: string;

  constructor(botId: number | undefined, reason: string) {
    const who = botId === undefined ? 'a bot with a malformed token (***)' : `bot ${botId} (token ${botId}:***)`;
    super('INVALID_TOKEN', `${who} was refused: ${reason}`, botId === undefined ? {} : { worker: botId });
    this.botId = botId;
    this.reason = reason;
  }
}

export class NoThumbnailError extends TgvfsError {
  constructor(context: ErrorContext = {}) {
    super('NO_THUMBNAIL', `no thumbnail${describeContext(context)}`, context);
  }
}

export class MessageNotFoundError extends TgvfsError {
  constructor(context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('MESSAGE_NOT_FOUND', `message not found${describeContext(context)}`, context, options);
  }
}

export class NotADocumentError extends TgvfsError {
  constructor(context: ErrorContext = {}) {
    super('NOT_A_DOCUMENT', `message holds no document${describeContext(context)}`, context);
  }
}

export class ChannelInaccessibleError extends TgvfsError {
  /** The RPC message that said so (CHANNEL_PRIVATE, …), or `not returned`. */
  readonly reason: string;

  constructor(reason: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('CHANNEL_INACCESSIBLE', `channel inaccessible: ${reason}${describeContext(context)}`, context, options);
    this.reason = reason;
  }
}

/** The connection to Telegram failed or dropped, or a request timed out: retry elsewhere. */
export class TelegramConnectionError extends TgvfsError {
  constructor(detail: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('CONNECTION', `connection to Telegram failed: ${detail}${describeContext(context)}`, context, options);
  }
}

/** The worker was stopped; it takes no more requests. */
export class WorkerStoppedError extends TgvfsError {
  constructor(context: ErrorContext = {}) {
    super('WORKER_STOPPED', `worker stopped${describeContext(context)}`, context);
  }
}

// ---- translation from GramJS ---------------------------------------------------------------

/** RPC messages that mean "this account cannot see the channel". */
const CHANNEL_INACCESSIBLE = new Set([
  'CHANNEL_INVALID',
  'CHANNEL_PRIVATE',
  'CHANNEL_PUBLIC_GROUP_NA',
  'CHAT_FORBIDDEN',
  'CHAT_ID_INVALID',
  'PEER_ID_INVALID',
]);

/** RPC messages that mean "this bot token is not accepted". */
export const TOKEN_REFUSED = new Set(['ACCESS_TOKEN_INVALID', 'ACCESS_TOKEN_EXPIRED', 'BOT_INVALID', 'USER_DEACTIVATED']);

/** GramJS error classes whose `errorMessage` is prose: rebuild Telegram's own message. */
const NUMBERED_ERRORS: ReadonlyArray<readonly [prefix: string, cls: abstract new (...args: never[]) => object, rpcCode: number]> = [
  ['FILE_MIGRATE_', gramErrors.FileMigrateError, 303],
  ['USER_MIGRATE_', gramErrors.UserMigrateError, 303],
  ['PHONE_MIGRATE_', gramErrors.PhoneMigrateError, 303],
  ['NETWORK_MIGRATE_', gramErrors.NetworkMigrateError, 303],
  ['SLOWMODE_WAIT_', gramErrors.SlowModeWaitError, 420],
];

/** Messages of GramJS's transport-level failures (not RPC answers). */
const CONNECTION_MESSAGES = [
  'TIMEOUT',
  'Not connected',
  'NetSocket was closed',
  'Cannot send requests while disconnected',
  'Request was unsuccessful',
  'Maximum reconnection retries reached',
  'Connection closed',
  'socket hang up',
];

function numberField(err: object, key: string): number | undefined {
  const v: unknown = (err as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function stringField(err: object, key: string): string | undefined {
  const v: unknown = (err as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

/** GramJS formats RPC errors as `… (caused by upload.GetFile)`. */
function methodFromMessage(message: string): string | undefined {
  const m = /\(caused by ([A-Za-z0-9_.]+)\)/.exec(message);
  return m?.[1] ? tlMethodName(m[1]) : undefined;
}

/** Telegram's own error message and numeric code for a GramJS RPCError. */
export function rpcErrorParts(err: unknown): { message: string; rpcCode: number; method?: string } | undefined {
  if (!(err instanceof gramErrors.RPCError)) return undefined;
  const method = methodFromMessage(err.message);
  if (err instanceof gramErrors.FloodWaitError || err instanceof gramErrors.FloodTestPhoneWaitError) {
    return { message: `FLOOD_WAIT_${numberField(err, 'seconds') ?? 0}`, rpcCode: 420, method };
  }
  for (const [prefix, cls, rpcCode] of NUMBERED_ERRORS) {
    if (err instanceof cls) {
      const n = numberField(err, 'newDc') ?? numberField(err, 'seconds') ?? 0;
      return { message: `${prefix}${n}`, rpcCode, method };
    }
  }
  return { message: err.errorMessage, rpcCode: err.code ?? 0, method };
}

function isConnectionFailure(err: unknown): string | undefined {
  if (typeof err === 'string') {
    return CONNECTION_MESSAGES.some((m) => err.includes(m)) ? err : undefined;
  }
  if (!(err instanceof Error)) return undefined;
  const sysCode = stringField(err, 'code');
  if (sysCode && /^E[A-Z]+$/.test(sysCode)) return `${sysCode} ${err.message}`;
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m)) ? err.message : undefined;
}

/**
 * Translates anything GramJS throws into a TgvfsError. `ctx.method` names the TL method when
 * GramJS's message does not. A TgvfsError passes through unchanged.
 */
export function toTgvfsError(err: unknown, ctx: ErrorContext & { method?: string } = {}): TgvfsError {
  if (err instanceof TgvfsError) return err;
  const { method: ctxMethod, ...context } = ctx;
  const rpc = rpcErrorParts(err);
  if (rpc) {
    const method = ctxMethod ?? rpc.method ?? 'unknown';
    const flood = /^FLOOD_(?:PREMIUM_)?WAIT_(\d+)$/.exec(rpc.message);
    if (flood) return new FloodWaitError(Number(flood[1]), method, context, { cause: err });
    if (CHANNEL_INACCESSIBLE.has(rpc.message)) return new ChannelInaccessibleError(rpc.message, context, { cause: err });
    if (rpc.message === 'MESSAGE_ID_INVALID') return new MessageNotFoundError(context, { cause: err });
    if (TOKEN_REFUSED.has(rpc.message) && method === 'auth.importBotAuthorization') {
      return new InvalidTokenError(context.worker, rpc.message);
    }
    return new TelegramRpcError(rpc.message, rpc.rpcCode, method, context, { cause: err });
  }
  const conn = isConnectionFailure(err);
  if (conn !== undefined) return new TelegramConnectionError(conn, context, { cause: err });
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new TgvfsError('UNEXPECTED', `unexpected error: ${text}`, context, { cause: err });
}

/** True for FILE_REFERENCE_EXPIRED: fetch the message again (getDoc fresh) and retry. */
export function isFileReferenceExpired(err: unknown): boolean {
  return err instanceof TelegramRpcError && err.code === 'FILE_REFERENCE_EXPIRED';
}
