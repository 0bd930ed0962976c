// Real Telegram's getFile habits, as emulator switches: `-503 Timeout` (`--rpc-timeouts`) and
// `500 INTERNAL_SERVER_ERROR` (`--internal-errors`) on a fraction of upload.getFile, and
// `--strict-offsets` (offset % limit == 0, what production clients keep; Telegram's media DCs
// refuse other parts with OFFSET_INVALID on some DCs).
//
// Fractions are deterministic so that tests can count them: each bot has, per DC, an accumulator
// per fault that adds the fraction on every call and fires when it reaches 1 (0.25: exactly every
// 4th call of that bot on that DC). The accumulators live beside the World (a WeakMap), so that
// neither the world nor the connection carry fault state.
import type { FaultSettings } from './types';
import type { Bot, World } from './world';

/** Telegram's answers for these faults: code and message, and the /stats faults key (the message). */
export const RPC_TIMEOUT = { code: -503, message: 'Timeout' } as const;
export const INTERNAL_ERROR = { code: 500, message: 'INTERNAL_SERVER_ERROR' } as const;
export const MISALIGNED = { code: 400, message: 'OFFSET_INVALID' } as const;

/** Floating sums of e.g. 0.1 miss 1 by an ulp; this much short of 1 still counts as reaching it. */
const EPSILON = 1e-9;

/** Fires on every call where the running sum of `fraction` reaches another whole number. */
export class FractionGate {
  private sum = 0;

  fire(fraction: number): boolean {
    if (!(fraction > 0)) return false;
    this.sum += Math.min(1, fraction);
    if (this.sum < 1 - EPSILON) return false;
    this.sum = Math.max(0, this.sum - 1);
    return true;
  }
}

interface Gates {
  timeouts: FractionGate;
  internal: FractionGate;
}

const gatesOf = new WeakMap<World, Map<string, Gates>>();

function gates(world: World, botId: number, dcId: number): Gates {
  let byKey = gatesOf.get(world);
  if (!byKey) gatesOf.set(world, (byKey = new Map()));
  const key = `${botId}:${dcId}`;
  let g = byKey.get(key);
  if (!g) byKey.set(key, (g = { timeouts: new FractionGate(), internal: new FractionGate() }));
  return g;
}

export type GetFileFault = typeof RPC_TIMEOUT | typeof INTERNAL_ERROR;

/**
 * The fault this getFile call of `botId` on `dcId` gets, if any. The timeout gate is asked first;
 * a call it fails does not advance the internal-error gate (so both faults happen at 0.25 each).
 */
export function getFileFault(world: World, faults: FaultSettings, botId: number, dcId: number): GetFileFault | null {
  if (!(faults.rpcTimeouts > 0) && !(faults.internalErrors > 0)) return null;
  const g = gates(world, botId, dcId);
  if (g.timeouts.fire(faults.rpcTimeouts)) return RPC_TIMEOUT;
  if (g.internal.fire(faults.internalErrors)) return INTERNAL_ERROR;
  return null;
}

/** With --strict-offsets, a part whose offset is not a multiple of its limit is refused. */
export function misaligned(faults: FaultSettings, offset: number, limit: number): boolean {
  return faults.strictOffsets && limit > 0 && offset % limit !== 0;
}

/**
 * A bot taken out of every channel that holds file `fileId` (a document or a photo) is refused its
 * content (CHANNEL_PRIVATE), as Telegram refuses a removed bot the channel's media, even with a
 * file reference it still holds.
 */
export function removedFromFile(world: World, bot: Bot, fileId: bigint): boolean {
  if (!world.hasNonMembers()) return false;
  let held = false;
  for (const channel of world.channels.values()) {
    for (const msg of channel.messages.values()) {
      if (msg.doc?.id !== fileId && msg.post?.photo?.id !== fileId) continue;
      if (world.isMember(bot, channel.id)) return false;
      held = true;
      break;
    }
  }
  return held;
}
