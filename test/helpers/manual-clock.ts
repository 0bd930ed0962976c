// A clock for the emulator (EmulatorOptions.clock) that moves only when the test moves it: file
// reference epochs, FLOOD_WAIT ends, latency and bandwidth waits are stepped, never slept through,
// so a test neither waits for the next second nor depends on how busy the machine is.
import type { EmulatorClock } from '../../src/emulator';

interface Sleeper {
  due: number;
  resolve: () => void;
}

export class ManualClock implements EmulatorClock {
  private ms: number;
  private readonly sleepers: Sleeper[] = [];
  private readonly watchers = new Set<() => void>();

  /** Starts at `startMs` (default: the machine's time, rounded down to a whole second). */
  constructor(startMs = Math.floor(Date.now() / 1000) * 1000) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleepers.push({ due: this.ms + ms, resolve });
      this.sleepers.sort((a, b) => a.due - b.due);
      for (const w of [...this.watchers]) w();
    });
  }

  /** Moves time on by `ms`, waking every sleeper due by then. */
  advance(ms: number): void {
    this.ms += ms;
    while (this.sleepers.length && this.sleepers[0]!.due <= this.ms) this.sleepers.shift()!.resolve();
  }

  /** Sleepers waiting now. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /**
   * Resolves, once someone sleeps on this clock, with the ms until the first sleeper is due;
   * rejects when nobody has within `failAfterMs` of real time (a test's fail-safe, not a bound).
   */
  async nextWake(failAfterMs = 30_000): Promise<number> {
    const next = this.someoneSleeps();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        next.cancel();
        reject(new Error(`nobody slept on the emulator's clock within ${failAfterMs} ms`));
      }, failAfterMs);
    });
    try {
      await Promise.race([next.wait, late]);
    } finally {
      clearTimeout(timer);
    }
    if (!this.sleepers.length) throw new Error(`nobody slept on the emulator's clock within ${failAfterMs} ms`);
    return this.sleepers[0]!.due - this.ms;
  }

  /** Resolves once someone sleeps on this clock (at once when someone does already). */
  private someoneSleeps(): { wait: Promise<void>; cancel: () => void } {
    let cancel = (): void => undefined;
    const wait = new Promise<void>((resolve) => {
      if (this.sleepers.length) return resolve();
      const w = (): void => {
        this.watchers.delete(w);
        resolve();
      };
      this.watchers.add(w);
      cancel = () => {
        this.watchers.delete(w);
        resolve();
      };
    });
    return { wait, cancel };
  }

  /**
   * Until `work` settles, moves time to each sleeper's due time as it appears, letting what
   * it wakes run before the next step (what the machine's clock would do, without the waiting).
   * Returns `work`'s value, the time that went by and how many steps it took.
   */
  async runUntil<T>(work: Promise<T>): Promise<{ value: T; elapsedMs: number; steps: number }> {
    const t0 = this.ms;
    let steps = 0;
    let done = false;
    let waiting: { cancel: () => void } | null = null;
    void work.then(() => undefined, () => undefined).then(() => {
      done = true;
      waiting?.cancel();
    });
    while (!done) {
      const next = this.someoneSleeps();
      waiting = next;
      await next.wait;
      waiting = null;
      if (done || !this.sleepers.length) continue;
      this.advance(this.sleepers[0]!.due - this.ms);
      steps++;
      await new Promise((r) => setImmediate(r));
    }
    return { value: await work, elapsedMs: this.ms - t0, steps };
  }
}
