// The shape of a tgvfs config file (DESIGN.md, "Contracts"). The emulator writes one with
// `--config-out`; real deployments use the same file without `telegram` and `emulator`.

/** Where one data centre listens. `host` alone must identify the DC (see telegram/dc-socket). */
export interface DcAddress {
  id: number;
  host: string;
  port: number;
}

export interface ChannelConfig {
  /** Bot API style id: -100 followed by the channel's MTProto id. */
  id: number;
  /** Folder name under which the channel appears in the VFS. */
  name: string;
}

export interface TgvfsConfig {
  apiId: number;
  apiHash: string;
  /** Bot tokens, `<bot id>:<secret>`. Secrets: never logged. */
  bots: string[];
  channels: ChannelConfig[];
  sessionDir: string;
  /** keyv URL, e.g. `sqlite:///var/cache/tgvfs/cache.sqlite` or `redis://…`. */
  cache: string;
  /** Overrides Telegram's own DCs and RSA keys (the emulator's). */
  telegram?: {
    dcs: DcAddress[];
    rsaPublicKeys: string[];
  };
  emulator?: {
    adminUrl: string;
  };
  /** `socks5://user:pass@host:port` for every worker connection. */
  proxy?: string;
  /** HTTP front-end address, `host:port`. @default 127.0.0.1:8080 (flag `--listen` wins) */
  listen?: string;
  /** Required when `listen` is not a loopback address (see webdav/auth). */
  auth?: AuthConfig;
  /** Logger level. @default info */
  logLevel?: LogLevel;
  /**
   * GramJS session strings, one per bot, in the order of `bots` (an empty string: log in). When
   * set, sessions live here (e.g. from `TGVFS_SESSIONS` in a serverless function) and no
   * session file is read or written. Secrets: never logged.
   */
  sessions?: string[];
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * HTTP authentication. `basic`: user name and a password hash made by `tgvfs hash-password`
 * (`scrypt$N$r$p$<salt b64>$<hash b64>`); `bearer`: the SHA-256 of the token,
 * `sha256$<hex>` (so the config file holds no usable secret). Both compared in constant time.
 */
export type AuthConfig =
  | { type: 'basic'; user: string; passwordHash: string }
  | { type: 'bearer'; tokenHash: string };
