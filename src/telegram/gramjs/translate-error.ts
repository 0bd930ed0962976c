// Reads what GramJS throws and turns it into a tgvfs error (errors.ts): the one place that knows
// GramJS's error classes and the texts of its transport failures.
//
// Replaces (telegram 2.26.22): nothing; reads errors/RPCBaseErrors.js (RPCError: errorMessage,
// code) and errors/RPCErrorList.js (FloodWaitError, FloodTestPhoneWaitError, FileMigrateError,
// UserMigrateError, PhoneMigrateError, NetworkMigrateError, SlowModeWaitError: `seconds` or
// `newDc`, with a prose message instead of Telegram's).
// Relies on: errors/index.js RPCMessageToError builds those classes from an rpc_error answer and
// a plain RPCError for every other message, appending ` (caused by upload.GetFile)` to the
// message (RPCError._fmtRequest); the transport fails with the texts of CONNECTION_MESSAGES
// (network/MTProtoSender.js, network/connection/Connection.js, extensions/PromisedNetSockets.js,
// client/users.js, client/updates.js) or with Node's socket errors (`code` ECONNREFUSED, …).
import { errors as gramErrors } from 'telegram';
import { TgvfsError, type ErrorContext } from '../../util/errors';
import { tlMethodName } from '../../util/tl-names';
import { TelegramConnectionError, rpcError } from '../errors';

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

/** Telegram's own error message and numeric code for a GramJS RPCError; undefined for anything else. */
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

/** The DC of a FILE_MIGRATE_N error as GramJS throws it; undefined for any other error. */
export function fileMigrateDc(err: unknown): number | undefined {
  return err instanceof gramErrors.FileMigrateError ? err.newDc : undefined;
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
  if (rpc) return rpcError(rpc.message, rpc.rpcCode, ctxMethod ?? rpc.method ?? 'unknown', context, err);
  const conn = isConnectionFailure(err);
  if (conn !== undefined) return new TelegramConnectionError(conn, context, { cause: err });
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new TgvfsError('UNEXPECTED', `unexpected error: ${text}`, context, { cause: err });
}
