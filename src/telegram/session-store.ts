// One GramJS StringSession per bot, in `<sessionDir>/<botId>.session` (mode 0600, directory
// 0700). The file is named by the bot id only: the token's secret never reaches the disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StringSession } from 'telegram/sessions';

function checkBotId(botId: number): void {
  if (!Number.isSafeInteger(botId) || botId <= 0) throw new RangeError(`invalid bot id ${botId}`);
}

export class SessionStore {
  constructor(readonly dir: string) {}

  /** Path of a bot's session file. */
  pathFor(botId: number): string {
    checkBotId(botId);
    return path.join(this.dir, `${botId}.session`);
  }

  /** The saved StringSession string, or undefined when there is none (or it is empty). */
  async load(botId: number): Promise<string | undefined> {
    try {
      const text = (await fs.readFile(this.pathFor(botId), 'utf8')).trim();
      return text === '' ? undefined : text;
    } catch (err) {
      if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Saves atomically (temp file + rename), mode 0600. An empty session is not written. */
  async save(botId: number, session: StringSession | string): Promise<void> {
    const text = typeof session === 'string' ? session : session.save();
    if (text === '') return;
    const target = this.pathFor(botId);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
      await fs.chmod(tmp, 0o600); // the umask may have narrowed nothing, but make it exact
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  /** Removes a bot's session (e.g. after the server forgot its auth key). */
  async remove(botId: number): Promise<void> {
    await fs.rm(this.pathFor(botId), { force: true });
  }
}
