// The `tgvfs` command line (DESIGN.md, "Contracts"). Exit codes: 0 success, 1 runtime failure,
// 2 bad usage (including an invalid config). Runtime logs go through the structured logger
// (app/logger.ts); a fatal error is one line on stderr a person can act on (app/error-lines.ts).
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { EmulatorHandle, EmulatorOptions, FaultSettings } from '../app/emulator';
import type { TgvfsConfig } from '../config/schema';
import type { ConfigFlags } from '../config/config-sources';
import type { Logger } from '../app/logger';
import {
  UsageError,
  parseLogLevel,
  parseFloodWait,
  parseFraction,
  parseIntInRange,
  parseListen,
  parseNonNegativeInt,
  parsePositiveInt,
  parseMtproxySecret,
} from './options';
import { errorLine } from '../util/errors';
import { formatHostPort } from '../config/listen-address';

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Prefix commander's own error lines ("error: unknown option …") with the command. */
function errorPrefix(cmd: Command, prefix: string): Command {
  return cmd.configureOutput({
    outputError: (str, write) => write(`${prefix}: ${str.replace(/^error: /, '')}`),
  });
}

/** app/config-file's ConfigError, recognised without loading the schema (and zod) for --help. */
function isConfigError(err: unknown): err is Error & { problems: string[] } {
  return err instanceof Error && err.name === 'ConfigError' && Array.isArray((err as unknown as { problems?: unknown }).problems);
}

/** Runs an action; a UsageError or ConfigError become one line (per problem) on stderr and exit code 2. */
function guarded<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`tgvfs ${name}: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      if (isConfigError(err)) {
        for (const line of err.problems) process.stderr.write(`tgvfs ${name}: ${line}\n`);
        process.exitCode = 2;
        return;
      }
      throw err;
    }
  };
}

interface EmulatorFlags {
  data: string;
  listen: string;
  bots?: string;
  configOut: string;
  latency: string;
  bandwidth: string;
  floodWait?: string;
  dropEvery: string;
  expireRefs: string;
  rpcTimeouts: string;
  internalErrors: string;
  strictOffsets?: boolean;
  authFlood?: string;
  differenceSlice?: string;
  loginFlood?: string;
  fileDc?: string;
  ipv6?: boolean;
  mtproxySecret?: string;
}

function existingDirectory(value: string, flag: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  const abs = path.resolve(value);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new UsageError(`${flag} must be an existing directory, got ${JSON.stringify(value)} (not found)`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} must be an existing directory, got ${JSON.stringify(value)} (not a directory)`);
  return abs;
}

function writableFilePath(value: string, flag: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  const abs = path.resolve(value);
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UsageError(`${flag} must be a file in an existing directory, got ${JSON.stringify(value)} (no directory ${dir})`);
  }
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
    throw new UsageError(`${flag} must be a file, got ${JSON.stringify(value)} (a directory)`);
  }
  return abs;
}

/** `--login-flood N:SECONDS`, read with --flood-wait's rules (two positive integers). */
function loginFloodOf(p: { every: number; seconds: number }): FaultSettings['loginFlood'] {
  return { count: p.every, seconds: p.seconds };
}

/** Turns the emulator command's raw flags into EmulatorOptions; throws UsageError. */
export function emulatorOptionsFromFlags(f: EmulatorFlags): EmulatorOptions {
  const faults: FaultSettings = {
    latencyMs: parseNonNegativeInt(f.latency, '--latency'),
    bandwidth: parseNonNegativeInt(f.bandwidth, '--bandwidth'),
    floodWait: f.floodWait === undefined ? null : parseFloodWait(f.floodWait, '--flood-wait'),
    dropEvery: parseNonNegativeInt(f.dropEvery, '--drop-every'),
    expireRefs: parseNonNegativeInt(f.expireRefs, '--expire-refs'),
    rpcTimeouts: parseFraction(f.rpcTimeouts, '--rpc-timeouts'),
    internalErrors: parseFraction(f.internalErrors, '--internal-errors'),
    strictOffsets: f.strictOffsets === true,
    authFlood: f.authFlood === undefined ? 0 : parseNonNegativeInt(f.authFlood, '--auth-flood'),
    differenceSlice: f.differenceSlice === undefined ? 0 : parseNonNegativeInt(f.differenceSlice, '--difference-slice'),
    loginFlood: f.loginFlood === undefined ? null : loginFloodOf(parseFloodWait(f.loginFlood, '--login-flood', 'N:SECONDS')),
    authKeyDuplicated: true,
  };
  const options: EmulatorOptions = {
    dataDir: existingDirectory(f.data, '--data'),
    listen: parseListen(f.listen, '--listen'),
    faults,
    configOut: writableFilePath(f.configOut, '--config-out'),
  };
  if (f.bots !== undefined) options.bots = parsePositiveInt(f.bots, '--bots');
  if (f.fileDc !== undefined) options.fileDc = parseIntInRange(f.fileDc, '--file-dc', 1, 5);
  if (f.ipv6) options.ipv6 = true;
  if (f.mtproxySecret !== undefined) options.mtproxySecret = parseMtproxySecret(f.mtproxySecret, '--mtproxy-secret');
  return options;
}

/** Something `runForeground` keeps running until a signal. */
interface Closable {
  close(): Promise<void>;
}

/**
 * Starts something, announces it, and keeps it in the foreground until SIGINT/SIGTERM, then
 * closes it and exits 0. A signal during start-up aborts `start` (through its signal) or, when
 * start completes anyway, closes at once without announcing; a second signal exits 1 at once.
 * A failed start prints one line and exits 1.
 */
async function runForeground<H extends Closable>(
  name: string,
  start: (signal: AbortSignal) => Promise<H>,
  announce: (handle: H) => void,
  ctx: { logger: Logger; config?: TgvfsConfig },
): Promise<void> {
  const { logger } = ctx;
  const abort = new AbortController();
  let handle: H | null = null;
  let stopSignal: NodeJS.Signals | null = null;
  let closing = false;

  const shutdown = async (h: H, sig: NodeJS.Signals): Promise<void> => {
    closing = true;
    logger.info(`${sig}, closing`);
    try {
      await h.close();
    } catch (err) {
      process.stderr.write(`tgvfs ${name}: close failed: ${errorLine(err)}\n`);
      process.exit(1);
    }
    logger.flush();
    process.exit(0);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (closing || stopSignal !== null) {
      logger.warn(`${sig} again, exiting without a clean close`);
      process.exit(1);
    }
    stopSignal = sig;
    abort.abort(new Error(`${sig} during start-up`));
    if (handle) void shutdown(handle, sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    handle = await start(abort.signal);
  } catch (err) {
    if (stopSignal !== null) {
      logger.info(`${stopSignal} during start-up, stopped`);
      process.exit(0);
    }
    const { explainError } = await import('../app/error-lines');
    const why = explainError(err, ctx.config);
    for (const line of why.lines) process.stderr.write(`tgvfs ${name}: ${line}\n`);
    // Exit outright: a half-started server may hold sockets open.
    process.exit(why.exitCode);
  }

  // A signal that came during start-up: close now, without announcing readiness.
  if (stopSignal !== null) return shutdown(handle, stopSignal);
  announce(handle);
}

/** The logger of a command that has no tgvfs config (demo, emulator): level from flag or env. */
async function plainLogger(cmd: string, level: string | undefined): Promise<Logger> {
  const lvl = parseLogLevel(level ?? process.env.TGVFS_LOG_LEVEL ?? 'info', level === undefined ? 'TGVFS_LOG_LEVEL' : '--log-level');
  const { createLogger } = await import('../app/logger');
  return createLogger({ level: lvl, base: { cmd } });
}

/** The config (flags > env > file > defaults) and a logger at its level, secrets registered. */
async function configAndLogger(cmd: string, flags: ConfigFlags): Promise<{ config: TgvfsConfig; logger: Logger; log: (line: string) => void }> {
  const { resolveConfig } = await import('../config/config-sources');
  const { createLogger, configSecrets, lineLogger } = await import('../app/logger');
  const config = await resolveConfig({ flags });
  const logger = createLogger({ level: config.logLevel ?? 'info', secrets: configSecrets(config), base: { cmd } });
  return { config, logger, log: lineLogger(logger) };
}

async function runEmulator(flags: EmulatorFlags & { logLevel?: string }): Promise<void> {
  const options = emulatorOptionsFromFlags(flags);
  const logger = await plainLogger('emulator', flags.logLevel);
  const { lineLogger } = await import('../app/logger');
  options.log = lineLogger(logger);
  let readyLine: (handle: EmulatorHandle, configOut: string | undefined) => string = () => '';
  await runForeground(
    'emulator',
    async () => {
      // Loaded on demand: `tgvfs --help` and the other commands need none of it.
      const emulator = await import('../app/emulator');
      readyLine = emulator.emulatorReadyLine;
      return emulator.startEmulator(options);
    },
    (handle: EmulatorHandle) => process.stdout.write(readyLine(handle, options.configOut)),
    { logger },
  );
}

interface DemoFlags {
  listen: string;
  mount?: string;
  logLevel?: string;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const listen = parseListen(flags.listen, '--listen');
  if (flags.mount !== undefined && flags.mount.trim() === '') throw new UsageError('--mount must not be empty');
  const mountDir = flags.mount === undefined ? undefined : path.resolve(flags.mount);
  const logger = await plainLogger('demo', flags.logLevel);
  const { lineLogger } = await import('../app/logger');
  const log = lineLogger(logger);
  // Loaded on demand, like the emulator.
  const { defaultDemoDir } = await import('../app/demo-data');
  const { startDemo } = await import('../app/demo');
  const dir = defaultDemoDir();
  log(`sample channels in ${path.join(dir, 'channels')} (made once, reused afterwards)`);
  await runForeground(
    'demo',
    (signal) => startDemo({ dir, adminHost: listen.host, listen, mount: mountDir, log, signal }),
    (demo) => {
      const channels = demo.emulator.config.channels.map((c) => c.name).join(', ');
      const url = demo.server?.url ?? `http://${formatHostPort(listen)}`;
      process.stdout.write(
        [
          `demo ready: config ${demo.configPath}, admin ${demo.emulator.adminUrl}/stats`,
          `  channels: ${channels} (files in ${demo.data.dataDir}; videos made with ${demo.data.videos})`,
          `  WebDAV: ${url}/  (open it in a browser, or curl ${url}/videos/, or`,
          `    rclone lsl :webdav: --webdav-url ${url}/, or mount -t davfs ${url}/ /mnt)`,
          ...(demo.mount
            ? [`  FUSE: mounted ${demo.mount.dir} (e.g. ls -l ${demo.mount.dir}/videos/)`]
            : [`  FUSE: npx tgvfs demo --mount /mnt/tg, or alongside: npx tgvfs mount /mnt/tg --config ${demo.configPath}`]),
          `  the emulator serves the channels over MTProto to any tgvfs worker given that config`,
          `  Ctrl-C (SIGINT) or SIGTERM stops the demo`,
          '',
        ].join('\n'),
      );
    },
    { logger },
  );
}

async function runMount(dir: string, flags: MountFlags): Promise<void> {
  if (dir.trim() === '') throw new UsageError('DIR must not be empty');
  const abs = path.resolve(dir);
  const { resolveAttrTimeout } = await import('../config/attr-timeout');
  let cacheSeconds: number;
  try {
    cacheSeconds = resolveAttrTimeout(flags.attrTimeout);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { config, logger, log } = await configAndLogger('mount', flags);
  await runForeground(
    'mount',
    async (signal) => {
      // Loaded on demand, like the emulator.
      const { startMount } = await import('../app/mount');
      // `umount DIR` (mount.tgvfs, fstab, a systemd unit) ends the process like SIGTERM does.
      const onUnmounted = (): void => void process.kill(process.pid, 'SIGTERM');
      const mount = await startMount(config, abs, { log, signal, onUnmounted, cacheSeconds });
      try {
        await mount.indexed();
      } catch (err) {
        await mount.close();
        throw err;
      }
      return mount;
    },
    (mount) => {
      const channels = mount.health().map((c) => (c.indexed ? c.name : `${c.name} (not indexed: ${c.error ?? 'unknown'})`)).join(', ');
      process.stdout.write(`mounted ${mount.dir} (read-only FUSE; channels: ${channels || 'none'}; SIGINT/SIGTERM unmounts)\n`);
    },
    { logger, config },
  );
}

const IPV6_HELP = 'dial Telegram\'s DCs at their IPv6 addresses (default: TGVFS_IPV6, the config\'s "ipv6", else IPv4)';

const LOG_LEVEL_HELP = 'trace, debug, info, warn, error, fatal or silent (default: TGVFS_LOG_LEVEL, the config\'s "logLevel", else info)';

const HELP_EPILOG = `
Settings: flags > environment (TGVFS_*) > config file > defaults. Variables: TGVFS_CONFIG (the
file), TGVFS_API_ID, TGVFS_API_HASH, TGVFS_BOTS (tokens, comma-separated), TGVFS_CHANNELS
(-100…=name, comma-separated), TGVFS_SESSION_DIR, TGVFS_CACHE, TGVFS_CACHE_DIR and TGVFS_CACHE_MAX (the disk
block cache), TGVFS_LISTEN, TGVFS_PROXY
(socks5://…, mtproxy://<secret>@host:port or tg://proxy?…), TGVFS_IPV6 (1 or 0), TGVFS_LOG_LEVEL,
TGVFS_SESSIONS (session strings, in the order of the bots), TGVFS_AUTH_USER +
TGVFS_AUTH_PASSWORD_HASH (basic auth) or TGVFS_AUTH_TOKEN_HASH (bearer). With TGVFS_API_ID,
TGVFS_API_HASH, TGVFS_BOTS, TGVFS_CHANNELS and TGVFS_SESSION_DIR set (or TGVFS_SESSIONS and
TGVFS_CACHE instead of TGVFS_SESSION_DIR), no config file is needed.

Logs go to stderr: readable lines on a terminal, JSON lines otherwise; secrets are removed.

Exit codes:
  0  success (also after SIGINT/SIGTERM)
  1  failure at run time (bad token, bot not in a channel, FUSE missing, port in use, …)
  2  bad usage: unknown command or flag, bad flag value, invalid or missing config
`;

interface DiskCacheFlags {
  cacheDir?: string;
  cacheMax?: string;
  /** false with --no-disk-cache. */
  diskCache?: boolean;
}

interface ServeFlags extends DiskCacheFlags {
  config?: string;
  listen?: string;
  logLevel?: string;
  ipv6?: boolean;
}

interface MountFlags extends DiskCacheFlags {
  config?: string;
  attrTimeout?: string;
  logLevel?: string;
  ipv6?: boolean;
}

/** The disk cache's flags (serve and mount share one cache folder only one at a time: see README). */
function diskCacheOptions(cmd: Command): Command {
  return cmd
    .option('--cache-dir <DIR>', 'disk block cache folder (default: TGVFS_CACHE_DIR, the config\'s "diskCache.dir", else ~/.cache/tgvfs/blocks)')
    .option('--cache-max <SIZE>', 'disk cache budget: bytes, or with a K/M/G suffix, e.g. 512M, 2G (default: TGVFS_CACHE_MAX, "diskCache.maxBytes", else 2G or a tenth of the free space)')
    .option('--no-disk-cache', 'no disk block cache (the memory one only)');
}

async function runServe(flags: ServeFlags): Promise<void> {
  const { config, logger, log } = await configAndLogger('serve', flags);
  const { DEFAULT_LISTEN, parseHostPort } = await import('../config/listen-address');
  // The schema has checked it; the default is loopback only.
  const listen = parseHostPort(config.listen ?? DEFAULT_LISTEN)!;
  await runForeground(
    'serve',
    async (signal) => {
      // Loaded on demand, like the emulator.
      const { startServer } = await import('../app/server');
      return startServer(config, { listen, log, signal });
    },
    (server) => {
      const channels = server.catalog.channels().map((c) => c.name).join(', ');
      process.stdout.write(`serve ready: ${server.url}/ (WebDAV), ${server.url}/stream/<channel id>/<msg id>, ${server.url}/metrics; channels: ${channels}\n`);
    },
    { logger, config },
  );
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tgvfs')
    .description('Telegram channels as a filesystem: WebDAV and FUSE over a pool of bot accounts')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .addHelpText('after', HELP_EPILOG);
  errorPrefix(program, 'tgvfs');
  addDemoCommand(program);
  addEmulatorCommand(program);
  addServeCommand(program);
  addMountCommand(program);
  addIndexCommand(program);
  addHashPasswordCommand(program);
  addDoctorCommand(program);
  return program;
}

function addDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .description('emulator + sample channels + WebDAV')
    .option('--listen <HOST:PORT>', "where WebDAV listens; the emulator's admin endpoint takes a free port on this host", '127.0.0.1:8080')
    .option('--mount <DIR>', 'also mount the tree here with FUSE (an existing empty folder)')
    .option('--log-level <LEVEL>', LOG_LEVEL_HELP)
    .action(guarded('demo', (flags: DemoFlags) => runDemo(flags)));
  errorPrefix(cmd, 'tgvfs demo');
}

function addEmulatorCommand(program: Command): void {
  const cmd = program
    .command('emulator')
    .description('a Telegram data centre on loopback (real MTProto 2.0) serving channels built from a folder of files')
    .requiredOption('--data <DIR>', '(required) each subfolder is a private channel, each file in it a message')
    .option('--listen <HOST:PORT>', 'admin HTTP endpoint (GET /stats, POST /faults); port 0 picks a free one', '127.0.0.1:0')
    .option('--bots <N>', 'number of bot accounts (default 2)')
    .requiredOption('--config-out <FILE>', '(required) write a complete tgvfs config here once listening')
    .option('--latency <MS>', 'delay added before each response, in milliseconds', '0')
    .option('--bandwidth <BYTES_PER_S>', 'per-connection send cap in bytes per second; 0: uncapped', '0')
    .option('--flood-wait <EVERY:SECONDS>', "every EVERY-th upload.getFile of a bot fails with FLOOD_WAIT_SECONDS")
    .option('--drop-every <BYTES>', 'close a connection after it has sent this many bytes; 0: never', '0')
    .option('--expire-refs <SECONDS>', 'file references expire every SECONDS; 0: never', '0')
    .option('--rpc-timeouts <FRACTION>', 'that fraction of each bot\'s upload.getFile calls (per DC, every 1/FRACTION-th) answers -503 Timeout', '0')
    .option('--internal-errors <FRACTION>', 'that fraction of each bot\'s upload.getFile calls (per DC) answers 500 INTERNAL_SERVER_ERROR', '0')
    .option('--strict-offsets', 'upload.getFile refuses a part whose offset is not a multiple of its limit (400 OFFSET_INVALID)')
    .option('--auth-flood <SECONDS>', 'every other auth.exportAuthorization / auth.importAuthorization fails with FLOOD_WAIT_SECONDS; 0: never', '0')
    .option('--difference-slice <N>', 'at most N events per updates.getChannelDifference answer (final: false until caught up); 0: only the client\'s limit', '0')
    .option('--login-flood <N:SECONDS>', 'after N auth.importBotAuthorization of a bot within 10 minutes, FLOOD_WAIT_SECONDS (longer on each retry during it)')
    .option('--file-dc <DC>', 'DC (1-5) that holds documents (default 2, the home DC); another forces FILE_MIGRATE')
    .option('--ipv6', 'DCs listen on ::1, each on its own port, instead of 127.0.0.<dc>')
    .option('--mtproxy-secret <HEX>', 'also run an MTProxy with this secret (32 hex digits, or dd + 32) in front of the DCs; the config written uses it')
    .option('--log-level <LEVEL>', LOG_LEVEL_HELP)
    .action(guarded('emulator', (flags: EmulatorFlags) => runEmulator(flags)));
  errorPrefix(cmd, 'tgvfs emulator');
}

function addServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('WebDAV + /stream + /thumb + /metrics over the configured channels')
    .option('--config <FILE>', 'tgvfs config file (e.g. written by "tgvfs emulator --config-out"); default $TGVFS_CONFIG or ~/.config/tgvfs/config.json')
    .option('--listen <HOST:PORT>', 'where HTTP listens (default: TGVFS_LISTEN, the config\'s "listen", else 127.0.0.1:8080)')
    .option('--ipv6', IPV6_HELP)
    .option('--log-level <LEVEL>', LOG_LEVEL_HELP);
  diskCacheOptions(cmd)
    .action(guarded('serve', (flags: ServeFlags) => runServe(flags)));
  errorPrefix(cmd, 'tgvfs serve');
}

function addMountCommand(program: Command): void {
  const cmd = program
    .command('mount')
    .description('FUSE mount of the configured channels (read-only); unmounts on SIGINT/SIGTERM')
    .argument('<DIR>', 'mount point: an existing empty folder (a stale mount left by a crash is cleaned up)')
    .option('--config <FILE>', 'tgvfs config file; default $TGVFS_CONFIG or ~/.config/tgvfs/config.json')
    .option('--attr-timeout <SECONDS>', 'seconds the kernel caches names and attributes (default: TGVFS_ATTR_TIMEOUT, else 60)')
    .option('--ipv6', IPV6_HELP)
    .option('--log-level <LEVEL>', LOG_LEVEL_HELP);
  diskCacheOptions(cmd)
    .action(guarded('mount', (dir: string, flags: MountFlags) => runMount(dir, flags)));
  errorPrefix(cmd, 'tgvfs mount');
}

function addIndexCommand(program: Command): void {
  const cmd = program
    .command('index')
    .description('fill/refresh the catalog of every configured channel (progress on stderr, summary on stdout)')
    .option('--config <FILE>', 'tgvfs config file; default $TGVFS_CONFIG or ~/.config/tgvfs/config.json')
    .option('--ipv6', IPV6_HELP)
    .option('--log-level <LEVEL>', LOG_LEVEL_HELP)
    .action(guarded('index', async (flags: { config?: string; logLevel?: string; ipv6?: boolean }) => {
      // Loaded on demand, like the emulator.
      const { runIndex } = await import('./index-command');
      await runIndex(flags);
    }));
  errorPrefix(cmd, 'tgvfs index');
}

function addHashPasswordCommand(program: Command): void {
  const cmd = program
    .command('hash-password')
    .description('print the hash of a password (or a bearer token) for the config\'s "auth"; reads it from stdin, or prompts without echo')
    .option('--bearer', 'hash a bearer token (sha256$…) instead of a password (scrypt$…)')
    .addHelpText('after', '\nExamples:\n  tgvfs hash-password                      # prompts twice\n  printf %s "$PASSWORD" | tgvfs hash-password\n  openssl rand -hex 32 | tee token.txt | tgvfs hash-password --bearer')
    .action(guarded('hash-password', async (flags: { bearer?: boolean }) => {
      // Loaded on demand, like the emulator.
      const { runHashPassword } = await import('./hash-password-command');
      await runHashPassword(flags);
    }));
  errorPrefix(cmd, 'tgvfs hash-password');
}

function addDoctorCommand(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('check FUSE, the cache store, every bot token, every channel (bot is an admin) and the clock; prints a table')
    .option('--config <FILE>', 'tgvfs config file; default $TGVFS_CONFIG or ~/.config/tgvfs/config.json')
    .option('--json', 'print the rows as JSON instead of a table')
    .option('--no-fuse', 'skip the FUSE checks (a WebDAV-only host)')
    .option('--timeout <SECONDS>', 'longest wait for each network check', '15')
    .option('--ipv6', IPV6_HELP)
    .addHelpText('after', '\nExit codes: 0 no check FAILed (WARN allowed), 1 a check FAILed, 2 bad usage, 130 interrupted.')
    .action(guarded('doctor', async (flags: { config?: string; json?: boolean; fuse?: boolean; timeout: string; ipv6?: boolean }) => {
      // Loaded on demand, like the emulator.
      const { runDoctorCommand } = await import('./doctor-command');
      await runDoctorCommand(flags);
    }));
  errorPrefix(cmd, 'tgvfs doctor');
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, --version and `tgvfs help` exit 0; every usage error (unknown option or
      // command, missing value, no command at all) exits 2.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`tgvfs: ${errorLine(err)}\n`);
    process.exitCode = 1;
  }
}
