// `tgvfs index [--config FILE] [--log-level LEVEL]`: fills or refreshes the catalog of every configured channel.
// Progress goes to stderr (a bar per channel on a terminal, a few plain lines otherwise), the
// summary to stdout; log lines go through the logger (JSON off a terminal). Exit codes: 0 done, 1 a channel or the start failed (one line each),
// 2 a bad config (one line per problem), 130 interrupted.
import { Writable } from 'node:stream';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { ConfigError } from '../config/config-file';
import { resolveConfig } from '../config/config-sources';
import type { ChannelConfig, TgvfsConfig } from '../config/schema';
import { explainError } from '../app/error-lines';
import { indexChannels } from '../app/index-channels';
import type { IndexProgress } from '../app/index-channels';
import { configSecrets, createLogger, lineLogger } from '../app/logger';
import { interruptOnSignals } from './interrupt';

/** Lines about updates applied, off a terminal: at most one per this many ms until caught up. */
const UPDATES_LINE_EVERY_MS = 2000;

export interface IndexFlags {
  config?: string;
  logLevel?: string;
  ipv6?: boolean;
}

/**
 * Prints progress as a bar per channel (TTY) or as lines (anything else): ids read of those to
 * read while walking, or known files read again after a too-long gap (a line at every tenth),
 * updates applied while catching up with
 * getChannelDifference, whose end is unknown until it comes (a line at most every few seconds,
 * and one when caught up).
 */
class ProgressView {
  private readonly multi: MultiBar | null;
  private bar: SingleBar | null = null;
  private lastTenth = -1;
  private lastUpdatesLine = 0;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.multi = out.isTTY
      ? new MultiBar(
        { stream: out, format: '{name} |{bar}| {count} | {files} files', hideCursor: true, autopadding: true },
        Presets.shades_classic,
      )
      : null;
  }

  /** On a terminal, lines go above the bars (the logger writes through here). */
  get tty(): boolean {
    return this.multi !== null;
  }

  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.out.write(`${line}\n`);
  }

  /** A channel that is up to date reads and applies nothing, and shows nothing. */
  progress(channel: ChannelConfig, p: IndexProgress): void {
    if (p.stage === 'updates') this.updates(channel, p);
    else this.counted(channel, p, p.stage === 'ids' ? 'ids read' : 'known files read again');
  }

  private counted(channel: ChannelConfig, p: IndexProgress, what: string): void {
    if (p.total === 0) return;
    const count = `${p.done}/${p.total} ${what}`;
    if (this.showBar(channel, p.done, p.total, count, p.files)) return;
    // A line at every tenth of each stage.
    const tenth = Math.floor((p.done / p.total) * 10) + (p.stage === 'ids' ? 0 : 100);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`tgvfs index: ${channel.name}: ${count}, ${p.files} files\n`);
  }

  private updates(channel: ChannelConfig, p: IndexProgress): void {
    const caughtUp = p.total > 0;
    const count = `${p.done} updates applied${caughtUp ? ', caught up' : ' so far'}`;
    // The bar fills when caught up: until then how many more are coming is not known.
    if (this.showBar(channel, caughtUp ? 1 : 0, 1, count, p.files)) return;
    const now = Date.now();
    if (!caughtUp && now - this.lastUpdatesLine < UPDATES_LINE_EVERY_MS) return;
    this.lastUpdatesLine = now;
    this.out.write(`tgvfs index: ${channel.name}: ${count}, ${p.files} files\n`);
  }

  /** Updates the channel's bar on a terminal; false when there is none (not a terminal). */
  private showBar(channel: ChannelConfig, value: number, total: number, count: string, files: number): boolean {
    if (!this.multi) return false;
    this.bar ??= this.multi.create(total, 0, { name: channel.name, count, files });
    this.bar.setTotal(total);
    this.bar.update(value, { name: channel.name, count, files });
    return true;
  }

  channelDone(): void {
    this.bar?.stop();
    this.bar = null;
    this.lastTenth = -1;
    this.lastUpdatesLine = 0;
  }

  stop(): void {
    this.multi?.stop();
  }
}

export async function runIndex(flags: IndexFlags): Promise<void> {
  let config: TgvfsConfig;
  try {
    config = await resolveConfig({ flags });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`tgvfs index: ${problem}\n`);
    process.exitCode = 2;
    return;
  }

  const interrupt = interruptOnSignals();
  const view = new ProgressView(process.stderr);
  // On a terminal the logger's readable lines go through the bars' own log, so they do not tear them.
  const destination = view.tty
    ? Object.assign(new Writable({ write: (chunk: Buffer, _enc, done) => { view.log(chunk.toString().trimEnd()); done(); } }), { isTTY: true })
    : undefined;
  const logger = createLogger({ level: config.logLevel ?? 'info', secrets: configSecrets(config), base: { cmd: 'index' }, destination });
  const log = lineLogger(logger);
  let failed = 0;
  try {
    const reports = await indexChannels(config, {
      signal: interrupt.signal,
      log,
      onProgress: (channel, p) => view.progress(channel, p),
      onChannelDone: (r) => {
        view.channelDone();
        if (r.error) {
          failed++;
          const why = explainError(r.error, config).lines.join(' ');
          view.log(`tgvfs index: ${why.startsWith('channel ') ? why : `${r.channel.name} (${r.channel.id}): ${why}`}`);
        }
      },
    });
    view.stop();
    let total = 0;
    for (const r of reports) {
      if (!r.result) continue;
      total += r.result.files;
      process.stdout.write(`${r.channel.name}: ${r.result.files} files\n`);
    }
    const ok = reports.length - failed;
    process.stdout.write(`indexed ${ok} of ${reports.length} channel(s), ${total} files\n`);
    process.exitCode = failed ? 1 : 0;
  } catch (err) {
    view.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write('tgvfs index: interrupted; what was read is kept, the next run goes on from there\n');
      process.exitCode = 130;
      return;
    }
    const why = explainError(err, config);
    for (const line of why.lines) process.stderr.write(`tgvfs index: ${line}\n`);
    process.exitCode = why.exitCode;
  } finally {
    interrupt.dispose();
  }
}
