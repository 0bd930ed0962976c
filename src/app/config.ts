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
}
