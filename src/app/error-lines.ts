// A failure as what a person should do about it: one line each (several only for an invalid
// config, one per field), and the exit code it means (2 bad usage or config, 1 anything else).
// Messages never carry a secret: tokens are shown by bot id, every line is scrubbed.
import { ChannelInaccessibleError, InvalidTokenError } from '../telegram/errors';
import { PoolStartError } from '../telegram/worker-pool';
import type { TgvfsConfig } from '../config/schema';
import { ConfigError } from '../config/config-file';
import { AuthConfigError, AuthRequiredError } from './listen-access';
import { scrubText } from './logger';
import { errorLine, findCause } from '../util/errors';

export interface Explained {
  lines: string[];
  /** 2: usage or config; 1: run time. */
  exitCode: 1 | 2;
}

/** `bot 2 (id 123456)`: the position in `bots` is what a person edits. */
function whichBot(botId: number | undefined, config?: Pick<TgvfsConfig, 'bots'>): string {
  if (botId === undefined) return 'a bot with a malformed token';
  const i = config?.bots.findIndex((t) => t.trim().startsWith(`${botId}:`)) ?? -1;
  return i >= 0 ? `bot ${i + 1} (id ${botId})` : `bot id ${botId}`;
}

function tokenLine(e: InvalidTokenError, config?: Pick<TgvfsConfig, 'bots'>): string {
  return `${whichBot(e.botId, config)}: the token was refused by Telegram (${e.reason}): check it with @BotFather (/mybots → API Token)`;
}

function channelLine(e: ChannelInaccessibleError, config?: Pick<TgvfsConfig, 'channels'>): string {
  const id = e.context.channel;
  const ch = config?.channels.find((c) => c.id === id);
  const which = ch ? `channel "${ch.name}" (${ch.id})` : id !== undefined ? `channel ${id}` : 'a channel';
  const bot = e.context.worker !== undefined ? `bot id ${e.context.worker}` : 'the bots';
  return `${which}: ${bot} cannot read it (${e.reason}): add every bot to the channel as an administrator, and check the id`;
}

/** Explains any error thrown by start-up or a command. */
export function explainError(err: unknown, config?: Pick<TgvfsConfig, 'bots' | 'channels'>): Explained {
  if (err instanceof ConfigError) return { lines: err.problems.map(scrubText), exitCode: 2 };
  // Listening beyond loopback without auth, or an unusable auth setting: the config must change.
  if (err instanceof AuthRequiredError || err instanceof AuthConfigError) return { lines: [scrubText(errorLine(err))], exitCode: 2 };
  if (err instanceof PoolStartError) {
    const parts = err.causes.length > 0
      ? err.causes.map((c, i) => (c instanceof InvalidTokenError ? tokenLine(c, config) : `bot ${i + 1}: ${errorLine(c)}`))
      : err.reasons;
    return { lines: [scrubText(`no bot could log in: ${parts.join('; ')}`)], exitCode: 1 };
  }
  const token = findCause(err, (e): e is InvalidTokenError => e instanceof InvalidTokenError);
  if (token) return { lines: [scrubText(tokenLine(token, config))], exitCode: 1 };
  const channel = findCause(err, (e): e is ChannelInaccessibleError => e instanceof ChannelInaccessibleError);
  if (channel) return { lines: [scrubText(channelLine(channel, config))], exitCode: 1 };
  const sys = findCause(err, (e): e is NodeJS.ErrnoException => e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string');
  let line = errorLine(err);
  if (sys?.code === 'EADDRINUSE') line += ': stop what listens there or choose another address (--listen, TGVFS_LISTEN or "listen")';
  else if (sys?.code === 'EACCES' && sys.syscall === 'listen') line += ': ports below 1024 need root; choose another (--listen)';
  return { lines: [scrubText(line)], exitCode: 1 };
}
