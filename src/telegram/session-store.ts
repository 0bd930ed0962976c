// One GramJS StringSession per bot, in `<sessionDir>/<botId>.session` (mode 0600, directory
// 0700). The file is named by the bot id only: the token's secret never reaches the disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StringSession } from 'telegram/sessions';

/**
 * chmod to `mode` when group or others have any access (a folder made by hand, an old file).
 * Best effort: a folder we may read but not chmod (another owner) must not stop the worker.
 */
async function tighten(p: string, mode: number): Promise<void> {
  try {
    const st = await fs.stat(p);
    if ((st.mode & 0o077) !== 0) await fs.chmod(p, mode);
  } catch {
    /* not ours to change */
  }
}

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
      await tighten(this.dir, 0o700);
      await tighten(this.pathFor(botId), 0o600);
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
    await tighten(this.dir, 0o700); // mkdir leaves an existing folder as it was
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
