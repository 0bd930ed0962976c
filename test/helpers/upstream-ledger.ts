// Upstream calls of one TL method counted at both ends: what the client had answered (a pool's
// call observer, or a `tgvfs serve` child's tgvfs_upstream_calls_total, both of which hear of a
// call when its answer arrives, even one its caller gave up on) and what the emulator served
// (/stats, counted when a request arrives). When the two agree and the stream engine holds no
// reader, block or part, every call that was made has landed and nothing is left that could
// make another: a test waits for that, instead of sleeping a while and checking that nothing
// happened (or that the counters stayed still for a while).
import type { EmulatorHandle, EmulatorStats } from '../../src/emulator';
import type { EngineStats } from '../../src/stream/stream-engine';
import type { WorkerPool } from '../../src/telegram/worker-pool';
import { until } from './eventually';
import { scrape } from './metrics';

const GET_FILE = 'upload.getFile';

interface Reading {
  served: number;
  answered: number;
  /** What still holds work: engine figures that are not 0. */
  busy: string[];
}

/** Polls `read` until nothing is busy and served === answered; `ms` is a fail-safe. */
async function settle(read: () => Promise<Reading> | Reading, ms: number): Promise<Reading> {
  let last: Reading = { served: NaN, answered: NaN, busy: ['not read yet'] };
  await until(async () => {
    last = await read();
    return last.busy.length === 0 && last.served === last.answered;
  }, ms, () => `calls never settled: ${last.served} served, ${last.answered} answered; busy: ${last.busy.join(', ') || 'nothing'}`);
  return last;
}

export interface UpstreamLedger {
  /** Calls the emulator served since the ledger opened. */
  served(): number;
  /** Calls whose answer (or failure) reached the pool since the ledger opened. */
  answered(): number;
  /** Resolves once every call made has landed (see the top); returns the calls served by then. */
  settled(ms?: number): Promise<number>;
  close(): void;
}

/** What a ledger needs of an in-process pool: its call observers and the engine over it. */
export interface LedgerSource {
  addObserver: WorkerPool['addObserver'];
  engine: { stats(): EngineStats };
}

/**
 * A ledger of an in-process pool's calls, opened once its engine is idle (no part running: no
 * call in flight, so both ends start from the same point). Calls made outside the engine must
 * not be in flight either.
 */
export async function upstreamLedger(pool: LedgerSource, emu: EmulatorHandle, method = GET_FILE): Promise<UpstreamLedger> {
  const busy = (): string[] => {
    const s = pool.engine.stats();
    return (['openReaders', 'blocksInFlight', 'partsRunning', 'partsQueued'] as const).filter((k) => s[k] !== 0).map((k) => `${k} ${s[k]}`);
  };
  await until(() => busy().length === 0, 10_000, () => `the engine never went idle: ${busy().join(', ')}`);
  const count = (): number => emu.stats().calls[method] ?? 0;
  const base = count();
  let answered = 0;
  const close = pool.addObserver({
    onCall: (e) => {
      if (e.method === method) answered++;
    },
  });
  const ledger: UpstreamLedger = {
    served: () => count() - base,
    answered: () => answered,
    async settled(ms = 10_000) {
      return (await settle(() => ({ served: ledger.served(), answered, busy: busy() }), ms)).served;
    },
    close,
  };
  return ledger;
}

export interface ServeLedger {
  /** Resolves once every getFile the server made has landed; the emulator's stats then. */
  settled(ms?: number): Promise<EmulatorStats>;
}

/**
 * A ledger of a `tgvfs serve` child's getFile calls, from its /metrics. Open it while the server
 * is idle, e.g. right after it is ready; it must be the emulator's only reader of files from then on.
 */
export async function serveLedger(emu: EmulatorHandle, serveUrl: string): Promise<ServeLedger> {
  const served = (s: EmulatorStats): number => s.calls[GET_FILE] ?? 0;
  const offset = served(emu.stats()) - (await scrape(serveUrl)).sum('tgvfs_upstream_calls_total', { method: GET_FILE });
  return {
    async settled(ms = 10_000) {
      let stats = emu.stats();
      await settle(async () => {
        const m = await scrape(serveUrl);
        stats = emu.stats();
        const busy = ['tgvfs_engine_open_readers', 'tgvfs_engine_blocks_in_flight', 'tgvfs_engine_parts_queued'].filter((n) => m.sum(n) !== 0);
        return { served: served(stats) - offset, answered: m.sum('tgvfs_upstream_calls_total', { method: GET_FILE }), busy };
      }, ms);
      return stats;
    },
  };
}
