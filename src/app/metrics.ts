// The process-wide figures of /metrics, beside the front-ends' own (webdav/metrics.ts): upstream
// calls and errors per TL method and worker, flood waits, the stream engine and its block cache,
// the workers and the catalog. The telegram layer knows nothing of prom-client: it reports each
// request to a CallObserver (telegram/call-observer.ts), which `upstreamObserver` turns into
// counters. Every label is a bot id, a TL method, an error code or a channel name: never a secret.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog';
import type { CallObserver } from '../telegram/call-observer';
import type { EngineStats, StreamEngine } from '../stream/stream-engine';
import type { PoolFile, WorkerPool } from '../telegram/worker-pool';
import type { HttpMetrics } from '../webdav/metrics';

/** Counters of every upstream request, fed by the pool's CallObserver. */
export function upstreamObserver(registry: Registry): CallObserver {
  const registers = [registry];
  const calls = new Counter({
    name: 'tgvfs_upstream_calls_total',
    help: 'Requests sent to Telegram, per TL method and worker (bot id), answered or failed.',
    labelNames: ['method', 'worker'],
    registers,
  });
  const errors = new Counter({
    name: 'tgvfs_upstream_errors_total',
    help: 'Requests to Telegram that failed, per TL method, worker (bot id) and error (FLOOD_WAIT, FILE_REFERENCE_EXPIRED, FILE_MIGRATE, CONNECTION, ...).',
    labelNames: ['method', 'worker', 'error'],
    registers,
  });
  const floodWaits = new Counter({
    name: 'tgvfs_flood_waits_total',
    help: 'FLOOD_WAIT answers received, per worker (bot id).',
    labelNames: ['worker'],
    registers,
  });
  const floodSeconds = new Counter({
    name: 'tgvfs_flood_wait_seconds_total',
    help: 'Seconds of FLOOD_WAIT Telegram asked for, per worker (bot id).',
    labelNames: ['worker'],
    registers,
  });
  return {
    onCall(e) {
      const worker = String(e.worker);
      calls.inc({ method: e.method, worker });
      if (e.error === undefined) return;
      errors.inc({ method: e.method, worker, error: e.error });
      if (e.error === 'FLOOD_WAIT') {
        floodWaits.inc({ worker });
        floodSeconds.inc({ worker }, e.floodWaitSeconds ?? 0);
      }
    },
  };
}

/** What registerAppMetrics reports on (an AppCore has it all). */
export interface AppMetricSources {
  pool: WorkerPool;
  engine: StreamEngine<PoolFile>;
  catalog: Catalog;
}

/** Registers the engine's, the workers' and the catalog's figures in the front-ends' registry. */
export function registerAppMetrics(metrics: HttpMetrics, { pool, engine: streams, catalog }: AppMetricSources): void {
  const registers = [metrics.registry];
  const engine = (name: string, help: string, pick: (s: EngineStats) => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(pick(streams.stats())); } });
  };
  engine('tgvfs_engine_open_readers', 'Readers open on the stream engine (streams and handles).', (s) => s.openReaders);
  engine('tgvfs_engine_cached_bytes', 'Bytes in the block cache.', (s) => s.cachedBytes);
  engine('tgvfs_engine_cache_budget_bytes', 'Block cache budget.', (s) => s.cacheBudget);
  engine('tgvfs_engine_fetched_bytes', 'Bytes fetched upstream (upload.getFile) since start.', (s) => s.fetchedBytes);
  engine('tgvfs_engine_cache_hits', 'Block requests answered from the cache since start.', (s) => s.cacheHits);
  engine('tgvfs_engine_disk_hits', 'Blocks read from the disk cache (asked for or read ahead) since start.', (s) => s.diskHits);
  engine('tgvfs_engine_cache_misses', 'Block requests that started a fetch since start.', (s) => s.cacheMisses);
  engine('tgvfs_engine_blocks_in_flight', 'Blocks being fetched now.', (s) => s.blocksInFlight);
  engine('tgvfs_engine_parts_queued', 'getFile parts waiting for a worker.', (s) => s.partsQueued);
  // 0 before the first block request (not NaN: a ratio alert must not fire on an idle instance).
  engine('tgvfs_cache_hit_ratio', 'Block cache hits / (hits + misses) since start; 0 before any block was asked for.', (s) =>
    s.cacheHits + s.cacheMisses > 0 ? s.cacheHits / (s.cacheHits + s.cacheMisses) : 0);
  new Gauge({
    name: 'tgvfs_workers_ready', help: 'Workers logged in.', registers,
    collect() { this.set(pool.workers.length); },
  });
  new Gauge({
    name: 'tgvfs_catalog_files', help: 'Files the catalog knows, per channel.', labelNames: ['channel'], registers,
    async collect() {
      for (const c of catalog.channels()) this.set({ channel: c.name }, (await catalog.files(c.id)).length);
    },
  });
  new Gauge({
    name: 'tgvfs_catalog_bytes', help: 'Total size of the files the catalog knows, per channel.', labelNames: ['channel'], registers,
    async collect() {
      for (const c of catalog.channels()) this.set({ channel: c.name }, (await catalog.files(c.id)).reduce((n, f) => n + f.size, 0));
    },
  });
}
