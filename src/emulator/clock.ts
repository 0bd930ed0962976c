// The emulator's clock: its notion of Telegram time. File reference epochs (--expire-refs),
// FLOOD_WAIT ends, the dates it puts in answers and pushed updates, and the shaper's latency and
// bandwidth waits all read it, so that a test can step time (a manual clock) instead of sleeping
// to the next second. Two things keep to the machine's clock whatever the option says: MTProto
// msg_ids and their skew check, and the handshake's server_time, which clients use to set their
// own msg_ids (those are real time on the client side); and the data folder watcher's debounce,
// which follows real fs.watch events.

export interface EmulatorClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves once `ms` milliseconds of this clock have passed. */
  sleep(ms: number): Promise<void>;
}

/** The machine's clock: Date.now and setTimeout. */
export const realClock: EmulatorClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Whole seconds of `clock` (Telegram's dates are unix seconds). */
export function unixSeconds(clock: EmulatorClock): number {
  return Math.floor(clock.now() / 1000);
}
