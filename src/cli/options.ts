// Pure parsers for command-line flag values. Each throws a UsageError whose message is one
// line naming the flag, e.g. `--flood-wait must be EVERY:SECONDS, got "x"`; the CLI prints it
// and exits with code 2.
import { parseHostPort, type ListenAddress } from '../config/listen-address';
import { mtproxySecretHex } from '../config/proxy-url';

export type { ListenAddress } from '../config/listen-address';

/** Bad command-line usage: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const DIGITS = /^[0-9]+$/;

function show(value: string): string {
  return JSON.stringify(value);
}

function parseDigits(value: string): number | null {
  const v = value.trim();
  if (!DIGITS.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** An integer ≥ 1 written in decimal digits (no sign, no fraction, no exponent). */
export function parsePositiveInt(value: string, flag: string): number {
  const n = parseDigits(value);
  if (n === null || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${show(value)}`);
  return n;
}

/** An integer ≥ 0 written in decimal digits; 0 usually means "off". */
export function parseNonNegativeInt(value: string, flag: string): number {
  const n = parseDigits(value);
  if (n === null) throw new UsageError(`${flag} must be a non-negative integer, got ${show(value)}`);
  return n;
}

/** An integer in [min, max]. */
export function parseIntInRange(value: string, flag: string, min: number, max: number): number {
  const n = parseDigits(value);
  if (n === null || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return n;
}

/** `host:port` or `[v6]:port` (see app/listen-address); the error names the flag. */
export function parseListen(value: string, flag = '--listen'): ListenAddress {
  const a = parseHostPort(value);
  if (!a) throw new UsageError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:8080), got ${show(value)}`);
  return a;
}

/** `EVERY:SECONDS`: every EVERY-th call (≥ 1) fails with FLOOD_WAIT_SECONDS (≥ 1). */
export function parseFloodWait(value: string, flag = '--flood-wait'): { every: number; seconds: number } {
  const m = /^\s*([0-9]+):([0-9]+)\s*$/.exec(value);
  const every = m ? Number(m[1]) : NaN;
  const seconds = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(every) || !Number.isSafeInteger(seconds) || every < 1 || seconds < 1) {
    throw new UsageError(`${flag} must be EVERY:SECONDS (two positive integers, e.g. 10:3), got ${show(value)}`);
  }
  return { every, seconds };
}

/** A fraction from 0 to 1 (`0.25`, `1`, `.5`). */
export function parseFraction(value: string, flag: string): number {
  const n = /^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${flag} must be a fraction from 0 to 1 (e.g. 0.25), got ${show(value)}`);
  return n;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A logger level; `flag` names the flag or variable it came from. */
export function parseLogLevel(value: string, flag = '--log-level'): (typeof LOG_LEVELS)[number] {
  const v = value.trim().toLowerCase();
  const level = LOG_LEVELS.find((l) => l === v);
  if (!level) throw new UsageError(`${flag} must be one of ${LOG_LEVELS.join(', ')}, got ${show(value)}`);
  return level;
}

/** An MTProxy secret: 32 hex digits, or `dd` + 32; returned as lowercase hex. Never echoed. */
export function parseMtproxySecret(value: string, flag = '--mtproxy-secret'): string {
  try {
    return mtproxySecretHex(value);
  } catch {
    throw new UsageError(`${flag} must be 32 hex digits, or dd followed by 32 (value not shown)`);
  }
}
