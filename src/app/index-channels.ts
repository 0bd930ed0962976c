// `tgvfs index`'s work, without the terminal: start the worker pool, open the catalog on the
// config's cache URL, and bring every configured channel up to date, one after the other (each
// channel's walk is spread over every worker). A channel that fails does not stop the others.
import type { TgvfsConfig, ChannelConfig } from '../config/schema';
import { Catalog, type IndexProgress, type IndexResult } from '../catalog';
import { WorkerPool } from '../telegram/worker-pool';

export type { IndexProgress } from '../catalog';

export interface ChannelIndexReport {
  channel: ChannelConfig;
  /** Set when the channel was indexed. */
  result?: IndexResult;
  /** Set when it failed (the message is one line, secrets redacted by the telegram layer). */
  error?: Error;
}

export interface IndexChannelsOptions {
  /** Called when a channel starts, and as its ids are read. */
  onProgress?: (channel: ChannelConfig, progress: IndexProgress) => void;
  onChannelDone?: (report: ChannelIndexReport) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Indexes every configured channel; throws only when the pool or the catalog cannot start, or on abort. */
export async function indexChannels(config: TgvfsConfig, options: IndexChannelsOptions = {}): Promise<ChannelIndexReport[]> {
  const log = options.log ?? (() => undefined);
  const pool = await WorkerPool.create({ ...config, log });
  let catalog: Catalog | undefined;
  try {
    catalog = await Catalog.open({ store: config.cache, channels: config.channels, pool, log });
    const reports: ChannelIndexReport[] = [];
    for (const channel of config.channels) {
      options.signal?.throwIfAborted();
      let report: ChannelIndexReport;
      try {
        const result = await catalog.index(channel.id, {
          signal: options.signal,
          onProgress: (p) => options.onProgress?.(channel, p),
        });
        report = { channel, result };
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        report = { channel, error: err instanceof Error ? err : new Error(String(err)) };
      }
      reports.push(report);
      options.onChannelDone?.(report);
    }
    return reports;
  } finally {
    await catalog?.close();
    await pool.close();
  }
}
