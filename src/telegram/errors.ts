// Errors of the telegram layer: subclasses of util's TgvfsError carrying the data a caller needs
// (wait seconds, channel, message, worker), and which of Telegram's error messages becomes which
// (`rpcError`). Reading GramJS's error objects is gramjs/translate-error.ts (`toTgvfsError`).
// Every message passes through `scrubSecrets`: no bot token secret or api hash ever reaches a
// message or a stack.
import { TgvfsError, describeContext, type ErrorContext } from '../util/errors';

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

/**
 * Telegram could not answer this time (-503 Timeout, 500 INTERNAL…, RPC_CALL_FAIL): nothing is
 * wrong with the call or the account; the same call on another worker (or later) succeeds.
 */
export class TelegramServerError extends TelegramRpcError {}

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

// ---- Telegram's error messages --------------------------------------------------------------

/** RPC messages that mean "this account cannot see the channel". */
const CHANNEL_INACCESSIBLE = new Set([
  'CHANNEL_INVALID',
  'CHANNEL_PRIVATE',
  'CHANNEL_PUBLIC_GROUP_NA',
  'CHAT_FORBIDDEN',
  'CHAT_ID_INVALID',
  'PEER_ID_INVALID',
]);

/**
 * Codes of Telegram's "try again" answers (a media DC's -503 Timeout, 500 and its -500 twin).
 * GramJS (2.26) hands them over as a plain RPCError with Telegram's code and message (its
 * ServerError/TimedOutError classes are never built from an rpc_error); only RPC_CALL_FAIL and
 * RPC_MCGET_FAIL are retried inside its invoke loop first (2 s apart), then surface the same way.
 */
const SERVER_ERROR_CODES = new Set([500, -500, 503, -503]);
/** Messages that mean the same whatever code they come with. */
const SERVER_ERROR_MESSAGES = new Set(['Timeout', 'RPC_CALL_FAIL', 'RPC_MCGET_FAIL', 'INTERNAL_SERVER_ERROR']);

/** RPC messages that mean "this bot token is not accepted". */
export const TOKEN_REFUSED = new Set(['ACCESS_TOKEN_INVALID', 'ACCESS_TOKEN_EXPIRED', 'BOT_INVALID', 'USER_DEACTIVATED']);

/**
 * The error for an RPC error Telegram answered: `message` as Telegram spells it
 * (`FLOOD_WAIT_17`, `CHANNEL_PRIVATE`, …), `rpcCode` its number, `method` the TL method.
 */
export function rpcError(message: string, rpcCode: number, method: string, context: ErrorContext, cause: unknown): TgvfsError {
  const flood = /^FLOOD_(?:PREMIUM_)?WAIT_(\d+)$/.exec(message);
  if (flood) return new FloodWaitError(Number(flood[1]), method, context, { cause });
  if (CHANNEL_INACCESSIBLE.has(message)) return new ChannelInaccessibleError(message, context, { cause });
  if (message === 'MESSAGE_ID_INVALID') return new MessageNotFoundError(context, { cause });
  if (SERVER_ERROR_CODES.has(rpcCode) || SERVER_ERROR_MESSAGES.has(message)) return new TelegramServerError(message, rpcCode, method, context, { cause });
  if (TOKEN_REFUSED.has(message) && method === 'auth.importBotAuthorization') return new InvalidTokenError(context.worker, message);
  return new TelegramRpcError(message, rpcCode, method, context, { cause });
}

/** True for FILE_REFERENCE_EXPIRED: fetch the message again (getDoc fresh) and retry. */
export function isFileReferenceExpired(err: unknown): boolean {
  return err instanceof TelegramRpcError && err.code === 'FILE_REFERENCE_EXPIRED';
}
