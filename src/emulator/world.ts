// The emulated Telegram world: bots, channels built from the data folder, their messages and
// documents. State that must survive restarts (bot secrets, channel ids, message ids, the api
// hash) lives in `<data>/.tgvfs-emulator/state.json`; dot entries are never channels or files.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { appendEvents, resetLog } from './channel-log';
import type { WatchHints } from './data-watcher';
import { affectedNames, listNamed, listedFile, stemOf, type Listed } from './folder-changes';
import { MANIFEST_NAME, type DocumentKind, type PostKind } from './manifest';
import { isVideoName, mimeTypeOf } from './media-types';
import { StateJournal } from './state-journal';
import { applyManifest, readManifestFolder, type DimsCache, type ManifestFolder, type PersistedManifest } from './world-manifest';

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
  /** What a manifest posted it as (absent: a plain file post, today's rule). */
  kind?: DocumentKind;
  /** The file-name attribute; null: none; absent: `name`. */
  fileName?: string | null;
}

/** One size of a photo; getFile serves `size` bytes for it (the file's first bytes). */
export interface PhotoSizeSpec {
  type: string;
  w: number;
  h: number;
  size: number;
}

/** A file posted as a photo: its sizes, smallest first; the largest is the whole file. */
export interface EmuPhoto {
  id: bigint;
  accessHash: bigint;
  path: string;
  mtime: number;
  dcId: number;
  sizes: PhotoSizeSpec[];
}

/** A manifest post (manifest.ts): what it is beyond its document. */
export interface PostBody {
  kind: PostKind;
  caption: string;
  grouped?: bigint;
  editDate?: number;
  photo?: EmuPhoto;
  /** A service message without a caption pins this message. */
  pinned?: number;
}

export interface EmuMessage {
  id: number;
  date: number;
  /** The document of a file post or of a manifest's document kinds. */
  doc?: EmuDocument;
  /** Set for a manifest's posts (absent: a plain file post). */
  post?: PostBody;
}

export interface EmuChannel {
  /** MTProto channel id (the config's id is -100 followed by this). */
  id: number;
  name: string;
  date: number;
  messages: Map<number, EmuMessage>;
  /** Highest message id ever given out (ids are never reused). */
  topMessage: number;
  /** The channel's update state: +1 per new message, +n per n deleted messages. */
  pts: number;
  /** Recent events, oldest first; a client whose pts is older than `logBase` must start over. */
  log: ChannelEvent[];
  /** pts just before the first event of `log`. */
  logBase: number;
}

/** One step of a channel's update sequence; `pts` is the state after it. */
export type ChannelEvent =
  | { kind: 'new'; pts: number; ptsCount: 1; msgId: number }
  | { kind: 'edit'; pts: number; ptsCount: 1; msgId: number }
  | { kind: 'delete'; pts: number; ptsCount: number; msgIds: number[] };

/** What a rescan changed in one channel, in pts order. */
export interface ChannelChange {
  channel: EmuChannel;
  events: ChannelEvent[];
}

interface PersistedChannel {
  id: number;
  /** File name → message id of the file's current post. */
  files: Record<string, number>;
  top: number;
  /** The channel's pts (absent in older state files: top + 1). */
  pts?: number;
  /** File name → `size:mtimeMs[|thumbnail size:mtimeMs]`, to see a file change. */
  stamps?: Record<string, string>;
  /** Posts and file versions of a folder with a manifest. */
  manifest?: PersistedManifest;
}

interface PersistedState {
  /** Snapshot generation (state-journal.ts). */
  gen?: number;
  secret: string;
  apiId: number;
  apiHash: string;
  botSecrets: string[];
  channels: Record<string, PersistedChannel>;
}

/** Files stat'ed at once when a whole folder is listed. */
const STAT_BATCH = 64;
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
  private readonly photos = new Map<bigint, EmuPhoto>();
  private readonly photoDims: DimsCache = new Map();
  /** Folder → the error of its manifest last logged, so that a bad manifest is logged once per change. */
  private readonly manifestErrors = new Map<string, string>();
  /**
   * `botId:channelId` pairs where the bot is not a member. Every bot starts as an admin of every
   * channel (what a tgvfs deployment needs); tests remove one at run time to see how a bot that
   * cannot see a channel fails. Not persisted: a restarted emulator starts with full membership.
   */
  private readonly nonMembers = new Set<string>();
  private state!: PersistedState;
  private readonly journal: StateJournal;

  private constructor(readonly dataDir: string, readonly stateDir: string, readonly fileDc: number, private readonly log: (line: string) => void) {
    this.journal = new StateJournal(stateDir);
  }

  static async load(dataDir: string, botCount: number, fileDc: number, log: (line: string) => void = () => undefined): Promise<World> {
    const w = new World(dataDir, path.join(dataDir, '.tgvfs-emulator'), fileDc, log);
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

  /** True once some bot has been taken out of some channel (getFile then checks membership). */
  hasNonMembers(): boolean {
    return this.nonMembers.size > 0;
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

  photo(id: bigint): EmuPhoto | undefined {
    return this.photos.get(id);
  }

  private async loadState(botCount: number): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    this.state = (await this.journal.load<PersistedState>()) ?? {
        secret: randomBytes(32).toString('hex'),
        apiId: 100000 + randomBytes(2).readUInt16LE(),
        apiHash: randomBytes(16).toString('hex'),
        botSecrets: [],
        channels: {},
      };
    while (this.state.botSecrets.length < botCount) this.state.botSecrets.push(randomBytes(26).toString('base64url'));
    for (let i = 0; i < botCount; i++) {
      const id = FIRST_BOT_ID + i;
      this.bots.push({ id, token: `${id}:${this.state.botSecrets[i]}`, accessHash: this.derive(`user:${id}`), getFileCalls: 0, floodUntil: 0 });
    }
  }

  /** Writes the whole state (a snapshot; per-file changes go to the journal instead). */
  async saveState(): Promise<void> {
    await this.journal.snapshot(this.state);
  }

  /** The newest message that still exists (0 for none): what a dialog's top_message says. */
  static newestMessage(channel: EmuChannel): number {
    let top = 0;
    for (const id of channel.messages.keys()) if (id > top) top = id;
    return top;
  }

  /** Builds channels from the data folder. Known files keep their message ids; new ones get new ids. */
  private async scan(): Promise<void> {
    for (const name of await this.listChannelDirs()) {
      const dir = path.join(this.dataDir, name);
      const date = Math.floor((await stat(dir)).mtimeMs / 1000);
      const folder = await readManifestFolder(dir, this.photoDims);
      if (folder) this.applyFolder(name, folder, false, date);
      else this.applyListing(name, await this.listFiles(dir, name), false, date);
    }
  }

  /**
   * Reads the data folder again and turns every difference into channel events, as Telegram
   * would see them: a new file is a new post (the next message id), a removed file a deleted
   * message (its id is never given out again), a changed file (size, mtime or thumbnail) a
   * deletion plus a new post. A folder with a manifest follows it instead (world-manifest.ts:
   * edits keep their id). A new folder is a new channel; a removed one loses its messages.
   * `date` (unix seconds) is a new channel's creation date.
   */
  async rescan(date: number): Promise<ChannelChange[]> {
    const dirs = await this.listChannelDirs();
    const listings = new Map<string, Listed[] | ManifestFolder>();
    for (const name of dirs) {
      try {
        const dir = path.join(this.dataDir, name);
        listings.set(name, (await readManifestFolder(dir, this.photoDims)) ?? (await this.listFiles(dir, name)));
      } catch {
        // Removed while we looked: the next rescan sees it gone.
      }
    }
    for (const channel of this.channels.values()) {
      if (!listings.has(channel.name) && channel.messages.size > 0) listings.set(channel.name, []);
    }
    // Applied without a pause, so that no request sees half a change.
    const changes: ChannelChange[] = [];
    for (const [name, listing] of listings) {
      const change = Array.isArray(listing) ? this.applyListing(name, listing, true, date) : this.applyFolder(name, listing, true, date);
      if (change.events.length) changes.push(change);
    }
    if (changes.length) await this.saveState();
    return changes;
  }

  private async listChannelDirs(): Promise<string[]> {
    return (await readdir(this.dataDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }

  /** Whether a file of channel folder `channelName` with `stamp` needs a (new) document. */
  private needsDocument(channelName: string): (name: string, stamp: string) => boolean {
    const saved = this.state.channels[channelName];
    const loaded = saved ? this.channels.get(saved.id) : undefined;
    return (name, stamp) => {
      const known = saved?.files[name];
      return known === undefined || saved?.stamps?.[name] !== stamp || !loaded?.messages.has(known);
    };
  }

  /**
   * A rescan of what fs.watch said changed (data-watcher.ts): in a channel folder without a
   * manifest, only the named files are stat'ed and only their lines journalled, so a change
   * costs work in proportion to it, not to the folder. A folder named without file names, a
   * manifest folder, or a new or removed folder is read whole (as `rescan` does).
   */
  async rescanChanged(date: number, hints: WatchHints): Promise<ChannelChange[]> {
    if (hints.all) return this.rescan(date);
    const plans: Array<{ name: string; apply: () => ChannelChange; journal: Set<string> | null }> = [];
    for (const [name, names] of hints.dirs) {
      const plan = await this.planDir(name, names, date);
      if (plan) plans.push({ name, ...plan });
    }
    // Applied without a pause, so that no request sees half a change.
    const applied = plans.map((p) => ({ ...p, change: p.apply() })).filter((p) => p.change.events.length);
    if (applied.some((p) => p.journal === null)) await this.saveState();
    else for (const p of applied) await this.journal.record(this.state, p.name, p.journal!);
    return applied.map((p) => p.change);
  }

  /** What to apply for folder `name` (`names`: the files fs.watch named; null: all). */
  private async planDir(name: string, names: Set<string> | null, date: number): Promise<{ apply: () => ChannelChange; journal: Set<string> | null } | null> {
    const dir = path.join(this.dataDir, name);
    const saved = this.state.channels[name];
    const loaded = saved !== undefined && this.channels.has(saved.id);
    if (names && saved && loaded && !saved.manifest && !names.has(MANIFEST_NAME)) {
      const affected = affectedNames(names, (n) => saved.files[n] !== undefined);
      const { listed, absent } = await listNamed(dir, affected, this.needsDocument(name));
      return { apply: () => this.applyPartial(name, listed, absent, date), journal: affected };
    }
    const had = loaded && this.channels.get(saved.id)!.messages.size > 0;
    let listing: Listed[] | ManifestFolder = [];
    try {
      // Not a folder (any more): its channel loses its messages.
      if ((await stat(dir)).isDirectory()) listing = (await readManifestFolder(dir, this.photoDims)) ?? (await this.listFiles(dir, name));
      else if (!had) return null;
    } catch (err) {
      // Gone while we looked; one we cannot read is left as it is.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !had) return null;
    }
    const l = listing;
    return { apply: () => (Array.isArray(l) ? this.applyListing(name, l, true, date) : this.applyFolder(name, l, true, date)), journal: null };
  }

  /** Files of a channel folder in name order, thumbnails attached to their videos, with stamps. */
  private async listFiles(dir: string, channelName: string): Promise<Listed[]> {
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    const all = new Set(names);
    const thumbs = new Set<string>();
    for (const n of names) {
      if (!isVideoName(n)) continue;
      const jpg = `${stemOf(n)}.jpg`;
      if (all.has(jpg)) thumbs.add(jpg);
    }
    const needs = this.needsDocument(channelName);
    const out: Listed[] = [];
    const wanted = names.filter((n) => !thumbs.has(n));
    // A few stats at a time: one after another is slow on a large folder, all at once floods.
    for (let i = 0; i < wanted.length; i += STAT_BATCH) {
      const batch = wanted.slice(i, i + STAT_BATCH).map((name) => {
        const thumbPath = isVideoName(name) && thumbs.has(`${stemOf(name)}.jpg`) ? path.join(dir, `${stemOf(name)}.jpg`) : null;
        return listedFile(dir, name, thumbPath, needs);
      });
      for (const f of await Promise.all(batch)) if (f) out.push(f);
    }
    return out;
  }

  /**
   * Applies a folder listing to a channel (creating it when new). `live` events go to the
   * channel's log; at start-up the log begins after them (an older pts must start over).
   * A known file whose stamp changed is a deletion plus a new post. Older state files have no
   * stamps: their files are taken as unchanged.
   */
  private applyListing(name: string, listing: Listed[], live: boolean, date: number): ChannelChange {
    const { saved, channel } = this.channelFor(name, date);
    const stamps = (saved.stamps ??= {});
    delete saved.manifest;
    const present = new Map(listing.map((f) => [f.name, f]));
    const changed = (fileName: string): boolean => {
      const f = present.get(fileName);
      return !f || (stamps[fileName] !== undefined && stamps[fileName] !== f.stamp);
    };
    const gone: number[] = [];
    for (const fileName of Object.keys(saved.files)) if (changed(fileName)) gone.push(this.dropFile(channel, saved, fileName));
    // Posts of a manifest that was removed (or of a removed folder): no file holds them.
    const filed = new Set(Object.values(saved.files));
    const orphans = [...channel.messages.values()].filter((msg) => !filed.has(msg.id));
    for (const msg of orphans) {
      gone.push(msg.id);
      channel.messages.delete(msg.id);
    }
    if (orphans.length) this.forget(orphans, channel);
    const events = this.deletion(channel, gone);
    this.postFiles(channel, saved, listing, events);
    return this.commitEvents(channel, saved, events, live);
  }

  /**
   * Applies what the files a change touched are now (a live channel without a manifest):
   * `absent` ones lose their post, changed ones are a deletion plus a new post, new ones posted.
   */
  private applyPartial(name: string, listed: Listed[], absent: string[], date: number): ChannelChange {
    const { saved, channel } = this.channelFor(name, date);
    const stamps = (saved.stamps ??= {});
    const gone: number[] = [];
    for (const fileName of absent) if (saved.files[fileName] !== undefined) gone.push(this.dropFile(channel, saved, fileName));
    for (const f of listed) {
      const was = stamps[f.name];
      if (saved.files[f.name] !== undefined && was !== undefined && was !== f.stamp) gone.push(this.dropFile(channel, saved, f.name));
    }
    const events = this.deletion(channel, gone);
    this.postFiles(channel, saved, listed, events);
    return this.commitEvents(channel, saved, events, true);
  }

  /** Takes a file's post down; its message id. */
  private dropFile(channel: EmuChannel, saved: PersistedChannel, fileName: string): number {
    const msgId = saved.files[fileName]!;
    delete saved.files[fileName];
    delete saved.stamps?.[fileName];
    const msg = channel.messages.get(msgId);
    if (msg?.doc) this.docs.delete(msg.doc.id);
    channel.messages.delete(msgId);
    return msgId;
  }

  /** The one event deleting `gone` (none for none). */
  private deletion(channel: EmuChannel, gone: number[]): ChannelEvent[] {
    if (!gone.length) return [];
    gone.sort((a, b) => a - b);
    channel.pts += gone.length;
    return [{ kind: 'delete', pts: channel.pts, ptsCount: gone.length, msgIds: gone }];
  }

  /** Posts the files of `listing` that have no post (the next ids); a known one is loaded at start-up. */
  private postFiles(channel: EmuChannel, saved: PersistedChannel, listing: Listed[], events: ChannelEvent[]): void {
    const stamps = (saved.stamps ??= {});
    for (const f of listing) {
      let msgId = saved.files[f.name];
      stamps[f.name] = f.stamp;
      if (msgId !== undefined) {
        if (!channel.messages.has(msgId)) this.addMessage(channel, msgId, f); // start-up
        continue;
      }
      msgId = ++saved.top;
      saved.files[f.name] = msgId;
      this.addMessage(channel, msgId, f);
      channel.pts += 1;
      events.push({ kind: 'new', pts: channel.pts, ptsCount: 1, msgId });
    }
  }

  /**
   * Applies a folder with a manifest (world-manifest.ts). One that does not parse is logged and
   * left out: the channel keeps what it had (empty at start-up) until the manifest is fixed.
   */
  private applyFolder(name: string, folder: ManifestFolder, live: boolean, date: number): ChannelChange {
    const { saved, channel } = this.channelFor(name, date);
    if (!folder.ok) {
      if (this.manifestErrors.get(name) !== folder.error) this.log(`emulator: channel folder ${name}: ${MANIFEST_NAME} ignored, the channel is left as it was: ${folder.error}`);
      this.manifestErrors.set(name, folder.error);
      return this.commitEvents(channel, saved, [], live);
    }
    this.manifestErrors.delete(name);
    saved.files = {};
    saved.stamps = {};
    const manifest = (saved.manifest ??= { posts: {}, versions: {} });
    const { events, dropped } = applyManifest(this, channel, manifest, folder, date);
    for (const msg of channel.messages.values()) {
      if (msg.doc) this.docs.set(msg.doc.id, msg.doc);
      if (msg.post?.photo) this.photos.set(msg.post.photo.id, msg.post.photo);
    }
    this.forget(dropped, channel);
    for (const post of folder.posts) saved.top = Math.max(saved.top, post.id);
    return this.commitEvents(channel, saved, events, live);
  }

  /** Drops the documents and photos of `gone` messages that no message of `channel` still shows. */
  private forget(gone: EmuMessage[], channel: EmuChannel): void {
    const used = new Set<bigint>();
    for (const msg of channel.messages.values()) {
      if (msg.doc) used.add(msg.doc.id);
      if (msg.post?.photo) used.add(msg.post.photo.id);
    }
    for (const msg of gone) {
      if (msg.doc && !used.has(msg.doc.id)) this.docs.delete(msg.doc.id);
      if (msg.post?.photo && !used.has(msg.post.photo.id)) this.photos.delete(msg.post.photo.id);
    }
  }

  /** The persisted and live channel of folder `name`, created when new (`date`: its creation). */
  private channelFor(name: string, date: number): { saved: PersistedChannel; channel: EmuChannel } {
    let saved = this.state.channels[name];
    if (!saved) {
      const id = Math.max(FIRST_CHANNEL_ID - 1, ...Object.values(this.state.channels).map((c) => c.id)) + 1;
      saved = { id, files: {}, top: 0, pts: 1, stamps: {} };
      this.state.channels[name] = saved;
    }
    let channel = this.channels.get(saved.id);
    if (!channel) {
      channel = { id: saved.id, name, date, messages: new Map(), topMessage: saved.top, pts: saved.pts ?? saved.top + 1, log: [], logBase: 0 };
      this.channels.set(channel.id, channel);
    }
    return { saved, channel };
  }

  /**
   * Records a change's events: `live` ones go to the channel's log; at start-up the log begins
   * after them (an older pts must start over).
   */
  private commitEvents(channel: EmuChannel, saved: PersistedChannel, events: ChannelEvent[], live: boolean): ChannelChange {
    channel.topMessage = saved.top;
    saved.pts = channel.pts;
    if (!live) {
      resetLog(channel);
      return { channel, events: [] };
    }
    appendEvents(channel, events);
    return { channel, events };
  }

  /** A message with the document of `f`; the document id depends on the post, so a new post of a changed file gets a new one. */
  private addMessage(channel: EmuChannel, msgId: number, f: Listed): void {
    const id = createHash('sha256').update(`${channel.id}/${msgId}/${f.name}`).digest().readBigInt64LE(0) & 0x7fffffffffffffffn;
    const doc: EmuDocument = {
      id, accessHash: this.derive(`doc:${id}`), path: f.path, name: f.name, size: f.size, mimeType: mimeTypeOf(f.name),
      mtime: f.mtime, isVideo: isVideoName(f.name), dcId: this.fileDc, thumb: f.thumb,
    };
    this.docs.set(doc.id, doc);
    channel.messages.set(msgId, { id: msgId, date: doc.mtime, doc });
  }
}
