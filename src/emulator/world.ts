// The emulated Telegram world: bots, channels built from the data folder, their messages and
// documents. State that must survive restarts (bot secrets, channel ids, message ids, the api
// hash) lives in `<data>/.tgvfs-emulator/state.json`; dot entries are never channels or files.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { extensionOf, isVideoName, jpegSize, mimeTypeOf } from './media-types';

export interface Bot {
  id: number;
  token: string;
  /** Per-bot access hash of the bot's own user object. */
  accessHash: bigint;
  getFileCalls: number;
  /** Epoch ms until which this bot is in FLOOD_WAIT. */
  floodUntil: number;
}

export interface Thumbnail {
  path: string;
  size: number;
  w: number;
  h: number;
}

export interface EmuDocument {
  id: bigint;
  accessHash: bigint;
  path: string;
  name: string;
  size: number;
  mimeType: string;
  mtime: number;
  isVideo: boolean;
  dcId: number;
  thumb: Thumbnail | null;
}

export interface EmuMessage {
  id: number;
  date: number;
  doc: EmuDocument;
}

export interface EmuChannel {
  /** MTProto channel id (the config's id is -100 followed by this). */
  id: number;
  name: string;
  date: number;
  messages: Map<number, EmuMessage>;
  topMessage: number;
  pts: number;
}

interface PersistedState {
  secret: string;
  apiId: number;
  apiHash: string;
  botSecrets: string[];
  channels: Record<string, { id: number; files: Record<string, number>; top: number }>;
}

const FIRST_BOT_ID = 7000000001;
const FIRST_CHANNEL_ID = 1000000001;

export function botApiChannelId(id: number): number {
  return -(1e12 + id);
}

export function mtprotoChannelId(botApiId: number): number {
  return -botApiId - 1e12;
}

export class World {
  readonly bots: Bot[] = [];
  readonly channels = new Map<number, EmuChannel>();
  private readonly docs = new Map<bigint, EmuDocument>();
  /**
   * `botId:channelId` pairs where the bot is not a member. Every bot starts as an admin of every
   * channel (what a tgvfs deployment needs); tests remove one at run time to see how a bot that
   * cannot see a channel fails. Not persisted: a restarted emulator starts with full membership.
   */
  private readonly nonMembers = new Set<string>();
  private state!: PersistedState;

  private constructor(readonly dataDir: string, readonly stateDir: string, readonly fileDc: number) {}

  static async load(dataDir: string, botCount: number, fileDc: number): Promise<World> {
    const w = new World(dataDir, path.join(dataDir, '.tgvfs-emulator'), fileDc);
    await w.loadState(botCount);
    await w.scan();
    await w.saveState();
    return w;
  }

  get apiId(): number {
    return this.state.apiId;
  }

  get apiHash(): string {
    return this.state.apiHash;
  }

  /** Deterministic 63-bit value bound to this world's secret: access hashes, references. */
  derive(label: string): bigint {
    const h = createHmac('sha256', this.state.secret).update(label).digest();
    return h.readBigInt64LE(0) & 0x7fffffffffffffffn;
  }

  mac(label: string, bytes = 8): Buffer {
    return createHmac('sha256', this.state.secret).update(label).digest().subarray(0, bytes);
  }

  botByToken(token: string): Bot | undefined {
    return this.bots.find((b) => b.token === token);
  }

  botById(id: number): Bot | undefined {
    return this.bots.find((b) => b.id === id);
  }

  channelAccessHash(bot: Bot, channelId: number): bigint {
    return this.derive(`channel:${channelId}:bot:${bot.id}`);
  }

  /** Whether the bot is a member (an admin) of the channel (MTProto id). */
  isMember(bot: Bot, channelId: number): boolean {
    return !this.nonMembers.has(`${bot.id}:${channelId}`);
  }

  /** Adds or removes a bot from a channel (MTProto id); both must exist. */
  setMembership(botId: number, channelId: number, member: boolean): void {
    if (!this.botById(botId)) throw new RangeError(`no bot ${botId}`);
    if (!this.channels.has(channelId)) throw new RangeError(`no channel ${botApiChannelId(channelId)}`);
    const key = `${botId}:${channelId}`;
    if (member) this.nonMembers.delete(key);
    else this.nonMembers.add(key);
  }

  document(id: bigint): EmuDocument | undefined {
    return this.docs.get(id);
  }

  private async loadState(botCount: number): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.stateDir, 'state.json');
    try {
      this.state = JSON.parse(await readFile(file, 'utf8')) as PersistedState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.state = {
        secret: randomBytes(32).toString('hex'),
        apiId: 100000 + randomBytes(2).readUInt16LE(),
        apiHash: randomBytes(16).toString('hex'),
        botSecrets: [],
        channels: {},
      };
    }
    while (this.state.botSecrets.length < botCount) this.state.botSecrets.push(randomBytes(26).toString('base64url'));
    for (let i = 0; i < botCount; i++) {
      const id = FIRST_BOT_ID + i;
      this.bots.push({ id, token: `${id}:${this.state.botSecrets[i]}`, accessHash: this.derive(`user:${id}`), getFileCalls: 0, floodUntil: 0 });
    }
  }

  async saveState(): Promise<void> {
    await writeFile(path.join(this.stateDir, 'state.json'), JSON.stringify(this.state, null, 1), { mode: 0o600 });
  }

  /** Builds channels from the data folder. Known files keep their message ids; new ones get new ids. */
  private async scan(): Promise<void> {
    const entries = (await readdir(this.dataDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    let nextChannelId = Math.max(FIRST_CHANNEL_ID - 1, ...Object.values(this.state.channels).map((c) => c.id)) + 1;
    for (const name of entries) {
      let saved = this.state.channels[name];
      if (!saved) {
        saved = { id: nextChannelId++, files: {}, top: 0 };
        this.state.channels[name] = saved;
      }
      const dir = path.join(this.dataDir, name);
      const channel: EmuChannel = { id: saved.id, name, date: Math.floor((await stat(dir)).mtimeMs / 1000), messages: new Map(), topMessage: saved.top, pts: 1 };
      for (const f of await this.listFiles(dir)) {
        let msgId = saved.files[f.name];
        if (msgId === undefined) {
          msgId = ++saved.top;
          saved.files[f.name] = msgId;
        }
        const doc = await this.makeDocument(channel.id, dir, f.name, f.thumb);
        this.docs.set(doc.id, doc);
        channel.messages.set(msgId, { id: msgId, date: doc.mtime, doc });
      }
      channel.topMessage = saved.top;
      channel.pts = saved.top + 1;
      this.channels.set(channel.id, channel);
    }
  }

  private async listFiles(dir: string): Promise<{ name: string; thumb: string | null }[]> {
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    const all = new Set(names);
    const stemOf = (n: string): string => n.slice(0, n.length - extensionOf(n).length - 1);
    const thumbs = new Set<string>();
    for (const n of names) {
      if (!isVideoName(n)) continue;
      const jpg = `${stemOf(n)}.jpg`;
      if (all.has(jpg)) thumbs.add(jpg);
    }
    return names
      .filter((n) => !thumbs.has(n))
      .map((n) => ({ name: n, thumb: isVideoName(n) && thumbs.has(`${stemOf(n)}.jpg`) ? path.join(dir, `${stemOf(n)}.jpg`) : null }));
  }

  private async makeDocument(channelId: number, dir: string, name: string, thumbPath: string | null): Promise<EmuDocument> {
    const p = path.join(dir, name);
    const st = await stat(p);
    const id = createHash('sha256').update(`${channelId}/${name}`).digest().readBigInt64LE(0) & 0x7fffffffffffffffn;
    let thumb: Thumbnail | null = null;
    if (thumbPath) {
      const bytes = await readFile(thumbPath);
      const dims = jpegSize(bytes) ?? { w: 320, h: 180 };
      thumb = { path: thumbPath, size: bytes.length, ...dims };
    }
    return {
      id, accessHash: this.derive(`doc:${id}`), path: p, name, size: st.size, mimeType: mimeTypeOf(name),
      mtime: Math.floor(st.mtimeMs / 1000), isVideo: isVideoName(name), dcId: this.fileDc, thumb,
    };
  }
}
