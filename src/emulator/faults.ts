// Validation of fault settings coming from the admin endpoint (untrusted JSON).
import type { FaultSettings } from './types';

export const NO_FAULTS: FaultSettings = { latencyMs: 0, bandwidth: 0, floodWait: null, dropEvery: 0, expireRefs: 0, rpcTimeouts: 0, internalErrors: 0, strictOffsets: false, authFlood: 0, differenceSlice: 0 };

function nonNegative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

function fraction(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${name} must be a fraction between 0 and 1, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, name: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`${name} must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  return v as number;
}

export function parseFaults(input: unknown): Partial<FaultSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('faults must be a JSON object');
  const src = input as Record<string, unknown>;
  const out: Partial<FaultSettings> = {};
  for (const key of Object.keys(src)) {
    const v = src[key];
    switch (key) {
      case 'latencyMs':
      case 'bandwidth':
      case 'dropEvery':
      case 'expireRefs':
      case 'authFlood':
        out[key] = nonNegative(v, key);
        break;
      case 'rpcTimeouts':
      case 'internalErrors':
        out[key] = fraction(v, key);
        break;
      case 'strictOffsets':
        if (typeof v !== 'boolean') throw new Error(`strictOffsets must be true or false, got ${JSON.stringify(v)}`);
        out.strictOffsets = v;
        break;
      case 'differenceSlice':
        out[key] = nonNegativeInt(v, key);
        break;
      case 'floodWait':
        if (v === null) out.floodWait = null;
        else if (typeof v === 'object' && v !== null) {
          const f = v as Record<string, unknown>;
          const every = nonNegative(f.every, 'floodWait.every');
          const seconds = nonNegative(f.seconds, 'floodWait.seconds');
          out.floodWait = every > 0 ? { every, seconds } : null;
        } else throw new Error('floodWait must be {every, seconds} or null');
        break;
      default:
        throw new Error(`unknown fault setting "${key}"`);
    }
  }
  return out;
}
