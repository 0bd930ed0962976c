// Bench phases: each runs with a deadline (its signal aborts then); a failure is recorded and
// reported, never thrown, so one broken phase still leaves the others' figures.

export interface Phases {
  readonly failures: string[];
  phase<T>(name: string, seconds: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined>;
}

/** `context` lets a failure print what led to it (e.g. the pool log lines since the phase began). */
export function createPhases(log: (line: string) => void, context?: { mark(): number; since(mark: number): string[] }): Phases {
  const failures: string[] = [];
  return {
    failures,
    async phase(name, seconds, fn) {
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = new Error(`over its ${Math.round(seconds)} s deadline`);
          ac.abort(e);
          reject(e);
        }, seconds * 1000);
      });
      const t0 = performance.now();
      const mark = context?.mark() ?? 0;
      try {
        return await Promise.race([fn(ac.signal), timeout]);
      } catch (err) {
        const msg = (err as Error)?.message ?? String(err);
        failures.push(`${name}: ${msg}`);
        log(`!! ${name} FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${msg}`);
        for (const l of context?.since(mark) ?? []) log(`   pool: ${l}`);
        ac.abort(err);
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
