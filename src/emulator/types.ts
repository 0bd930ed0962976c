import type { TgvfsConfig } from '../config/schema';
import type { EmulatorClock } from './clock';
import type { MtProxyCounts } from './mtproxy';

/** Faults and shaping; every field can be changed at run time through the admin endpoint. */
export interface FaultSettings {
  /** Delay added before each response, in milliseconds. */
  latencyMs: number;
  /** Per-connection send rate cap in bytes per second; 0 means uncapped. */
  bandwidth: number;
  /** Every `every`-th upload.getFile of a bot fails with FLOOD_WAIT_`seconds`; null: never. */
  floodWait: { every: number; seconds: number } | null;
  /** Close a connection after it has sent this many bytes; 0 means never. */
  dropEvery: number;
  /** File references rotate every this many seconds; 0 means never. */
  expireRefs: number;
  /** Fraction (0…1) of a bot's upload.getFile calls per DC answered -503 Timeout (deterministic: getfile-faults.ts). */
  rpcTimeouts: number;
  /** Fraction (0…1) of a bot's upload.getFile calls per DC answered 500 INTERNAL_SERVER_ERROR. */
  internalErrors: number;
  /** upload.getFile refuses a part whose offset is not a multiple of its limit (400 OFFSET_INVALID). */
  strictOffsets: boolean;
  /** Every other auth.exportAuthorization / auth.importAuthorization gets FLOOD_WAIT_this (auth-flood.ts); 0: never. */
  authFlood: number;
  /**
   * At most this many events per updates.getChannelDifference answer (`final: false` until
   * caught up), as Telegram slices a long difference; 0 means only the client's limit.
   */
  differenceSlice: number;
  /**
   * `--login-flood N:SECONDS`: after `count` auth.importBotAuthorization of one bot within 10
   * minutes, FLOOD_WAIT_`seconds` (longer on each retry during it; auth-habits.ts); null: never.
   */
  loginFlood: { count: number; seconds: number } | null;
  /** AUTH_KEY_DUPLICATED (406) for an auth key used from two source addresses at once. @default true */
  authKeyDuplicated: boolean;
}

export interface EmulatorOptions {
  /** Each subfolder is a channel; each file a message (see DESIGN.md). */
  dataDir: string;
  /** Admin HTTP endpoint (/stats, /faults). Port 0 picks a free one. */
  listen?: { host: string; port: number };
  /** Number of bot accounts; default 2. */
  bots?: number;
  /** DC that holds documents; default 2 (the home DC). Another DC forces FILE_MIGRATE. */
  fileDc?: number;
  faults?: Partial<FaultSettings>;
  /**
   * Watch the data folder and turn added, removed and changed files into channel posts and
   * deletions, pushed as updates to the bots (see EmulatorHandle.rescan).
   * @default true
   */
  watch?: boolean;
  /**
   * The DCs listen on ::1, each on its own port, instead of 127.0.0.<dc> (the config then
   * names them by ::1 and port; see telegram/gramjs/dc-socket).
   * @default false
   */
  ipv6?: boolean;
  /**
   * Also run an MTProxy with this secret (32 hex digits, or `dd` + 32) in front of the DCs, on a
   * free port of the DCs' loopback address (mtproxy.ts); the config written then uses it
   * (`proxy: "mtproxy://<secret>@host:port"`).
   */
  mtproxySecret?: string;
  /** Written once every server listens. */
  configOut?: string;
  log?: (line: string) => void;
  /**
   * Telegram time: file reference epochs, FLOOD_WAIT ends, dates in answers, latency and
   * bandwidth waits (see clock.ts). Tests pass a manual clock to step time instead of sleeping.
   * @default the machine's clock (Date.now, setTimeout)
   */
  clock?: EmulatorClock;
}

export interface EmulatorStats {
  calls: Record<string, number>;
  /** Calls per bot id (a logged-in auth key's user), then per TL method. */
  botCalls: Record<string, Record<string, number>>;
  bytesServed: number;
  faults: Record<string, number>;
  /** Auth keys created by handshakes (a client that keeps its key makes none). */
  authKeysCreated: number;
  /** Distinct auth keys that called as each bot (one per client and DC; a copied session counts once). */
  authKeysByBot: Record<string, number>;
}

export interface EmulatorHandle {
  readonly config: TgvfsConfig;
  readonly adminUrl: string;
  /** The MTProxy (with `mtproxySecret`): where it listens, connections it relayed per DC and refused. */
  readonly mtproxy?: { host: string; port: number; counts: MtProxyCounts };
  stats(): EmulatorStats;
  resetStats(): void;
  setFaults(f: Partial<FaultSettings>): void;
  /**
   * Makes a bot a member (admin) of a channel or not; by default every bot is an admin of every
   * channel. A non-member's channel calls answer 400 CHANNEL_PRIVATE. `channelId` is the -100… id.
   * Throws RangeError for an unknown bot or channel.
   */
  setMembership(botId: number, channelId: number, member: boolean): void;
  /**
   * Reads the data folder now (what fs.watch triggers after a quiet moment) and resolves once
   * every change is applied and pushed: new files are new posts (next message id), removed files
   * deleted messages, changed files a deletion plus a new post; a folder with a manifest
   * (`.messages.json`, README) has its posts edited, deleted and added as it says.
   */
  rescan(): Promise<void>;
  /**
   * Revokes every session of a bot (admin POST /revoke): its auth keys answer 401 SESSION_REVOKED
   * from now on. Returns how many keys were revoked.
   */
  revokeBot(botId: number): number;
  close(): Promise<void>;
}
