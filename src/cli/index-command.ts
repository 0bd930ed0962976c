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
import { configSecrets, createLogger, lineLogger } from '../app/logger';
import { interruptOnSignals } from './interrupt';

export interface IndexFlags {
  config?: string;
  logLevel?: string;
  ipv6?: boolean;
}

/** Prints progress as a bar per channel (TTY) or as lines at every tenth (anything else). */
class ProgressView {
  private readonly multi: MultiBar | null;
  private bar: SingleBar | null = null;
  private lastTenth = -1;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.multi = out.isTTY
      ? new MultiBar(
        { stream: out, format: '{name} |{bar}| {value}/{total} ids | {files} files', hideCursor: true, autopadding: true },
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

  /** Ids read of those to read; a channel that is up to date reads none and shows nothing. */
  progress(channel: ChannelConfig, done: number, total: number, files: number): void {
    if (total === 0) return;
    if (this.multi) {
      this.bar ??= this.multi.create(total, 0, { name: channel.name, files });
      this.bar.setTotal(total);
      this.bar.update(done, { name: channel.name, files });
      return;
    }
    const tenth = Math.floor((done / total) * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`tgvfs index: ${channel.name}: ${done}/${total} ids read, ${files} files\n`);
  }

  channelDone(): void {
    this.bar?.stop();
    this.bar = null;
    this.lastTenth = -1;
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
      onProgress: (channel, p) => view.progress(channel, p.done, p.total, p.files),
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
