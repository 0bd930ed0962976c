// A Telegram data centre on loopback that speaks MTProto 2.0 (see DESIGN.md, emulator/).
// Each DC listens on its own loopback address (127.0.0.<dc>) and all on one port ≤ 32767, so
// that GramJS sessions (which store the port as int16) and address-based routing both work.
// With `ipv6`, on ::1 (the one IPv6 loopback address), each DC on its own port ≤ 32767.
// With `mtproxySecret`, an MTProxy (mtproxy.ts) in front of them.
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type http from 'node:http';
import path from 'node:path';
import type { DcAddress, TgvfsConfig } from '../config/schema';
import { formatHostPort } from '../config/listen-address';
import { createAdminServer } from './admin-http';
import { AuthFloodState } from './auth-flood';
import { AuthHabits } from './auth-habits';
import { AuthKeyStore } from './auth-keys';
import { channelUpdates } from './channel-updates';
import { realClock, unixSeconds } from './clock';
import { EmuConnection, type EmulatorShared } from './connection';
import { DataWatcher, emptyHints, mergeHints, type WatchHints } from './data-watcher';
import { NO_FAULTS } from './faults';
import { FileReader } from './file-reader';
import { MtProxyServer } from './mtproxy';
import { loadOrCreateRsaKey } from './rsa-key';
import { referenceEpoch } from './rpc-methods';
import { SessionStore } from './sessions';
import { Stats } from './stats';
import { encode, type TlObject } from './tl';
import type { EmulatorHandle, EmulatorOptions, FaultSettings } from './types';
import { botApiChannelId, mtprotoChannelId, World, type ChannelChange } from './world';

export type { EmulatorClock } from './clock';
export type { EmulatorHandle, EmulatorOptions, EmulatorStats, FaultSettings } from './types';

const DC_IDS = [1, 2, 3, 4, 5];
const HOME_DC = 2;
/** Quiet time after the last fs.watch event before the data folder is rescanned. */
const WATCH_DEBOUNCE_MS = 200;

export class EmulatorError extends Error {
  readonly code = 'EMU_START';
}

function listen(server: net.Server | http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server | http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

type OnDcSocket = (socket: net.Socket, dc: number) => void;

/** A random port below 32768 (GramJS's StringSession keeps ports as int16). */
const shortPort = (): number => 20000 + Math.floor(Math.random() * 12768);

/** Binds every DC on one port below 32768, each on its own loopback address 127.0.0.<dc>. */
async function bindDcs(onSocket: OnDcSocket): Promise<{ servers: net.Server[]; dcs: DcAddress[] }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = shortPort();
    const servers: net.Server[] = [];
    try {
      for (const dc of DC_IDS) {
        const s = net.createServer((socket) => onSocket(socket, dc));
        servers.push(s);
        await listen(s, `127.0.0.${dc}`, port);
      }
      return { servers, dcs: DC_IDS.map((id) => ({ id, host: `127.0.0.${id}`, port })) };
    } catch (err) {
      await Promise.all(servers.filter((s) => s.listening).map(closeServer));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new EmulatorError(`cannot listen on 127.0.0.x:${port}: ${(err as Error).message}`);
    }
  }
  throw new EmulatorError('no free port below 32768 on 127.0.0.1-5');
}

/** Binds every DC on ::1, each on its own port below 32768. */
async function bindDcsIpv6(onSocket: OnDcSocket): Promise<{ servers: net.Server[]; dcs: DcAddress[] }> {
  const servers: net.Server[] = [];
  const dcs: DcAddress[] = [];
  try {
    for (const id of DC_IDS) {
      const s = net.createServer((socket) => onSocket(socket, id));
      servers.push(s);
      dcs.push({ id, host: '::1', port: await listenOnShortPort(s, '::1') });
    }
    return { servers, dcs };
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map(closeServer));
    throw err;
  }
}

async function listenOnShortPort(server: net.Server, host: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = shortPort();
    try {
      await listen(server, host, port);
      return port;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new EmulatorError(`cannot listen on [${host}]:${port}: ${(err as Error).message}`);
    }
  }
  throw new EmulatorError(`no free port below 32768 on ${host}`);
}

/** `--file-dc` and `--bots`, checked. */
function checkedCounts(options: EmulatorOptions): { fileDc: number; bots: number } {
  const fileDc = options.fileDc ?? HOME_DC;
  if (!DC_IDS.includes(fileDc)) throw new EmulatorError(`--file-dc must be one of ${DC_IDS.join(', ')}, got ${fileDc}`);
  const bots = options.bots ?? 2;
  if (!Number.isInteger(bots) || bots < 1 || bots > 100) throw new EmulatorError(`--bots must be between 1 and 100, got ${bots}`);
  return { fileDc, bots };
}

/** The world of the data folder, with everything every connection shares (no DC bound yet). */
async function loadShared(options: EmulatorOptions, dataDir: string): Promise<EmulatorShared> {
  const { fileDc, bots } = checkedCounts(options);
  let world: World;
  try {
    world = await World.load(dataDir, bots, fileDc, options.log);
  } catch (err) {
    throw new EmulatorError(`cannot read data folder ${dataDir}: ${(err as Error).message}`);
  }
  const rsa = await loadOrCreateRsaKey(world.stateDir);
  const authKeys = new AuthKeyStore(world.stateDir);
  await authKeys.load();
  const stats = new Stats();
  const faults = { ...NO_FAULTS, ...options.faults };
  const clock = options.clock ?? realClock;
  const log = options.log ?? (() => undefined);
  return {
    world, stats, faults, clock, dcs: [], authKeys, sessions: new SessionStore(),
    files: new FileReader(), rsa, exported: new Map(), authFlood: new AuthFloodState(), habits: new AuthHabits(faults, clock, stats, log), log,
  };
}

/** The client connections of every DC: accepted, tracked until closed, and pushed updates. */
class Connections {
  private readonly sockets = new Set<net.Socket>();
  private readonly open = new Set<EmuConnection>();

  constructor(private readonly shared: EmulatorShared) {}

  accept(socket: net.Socket, dc: number): void {
    this.sockets.add(socket);
    const conn = new EmuConnection(socket, dc, this.shared);
    this.open.add(conn);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.open.delete(conn);
    });
  }

  /**
   * Pushes a channel's change to every connection logged in as a bot that is a member (each
   * bot's updates built once, with its own file references, and written once per layer);
   * returns how many were pushed to.
   */
  push(change: ChannelChange): number {
    const { world, faults, clock } = this.shared;
    const epoch = referenceEpoch(faults, clock.now());
    const byBot = new Map<number, TlObject | null>();
    const bytes = new Map<string, Buffer>();
    let pushed = 0;
    for (const conn of this.open) {
      const botId = conn.botId;
      if (botId === null) continue;
      let updates = byBot.get(botId);
      if (updates === undefined) {
        const bot = world.botById(botId);
        updates = bot && world.isMember(bot, change.channel.id) ? channelUpdates(world, bot, change, epoch, unixSeconds(clock)) : null;
        byBot.set(botId, updates);
      }
      if (!updates) continue;
      const key = `${botId}:${conn.layer}`;
      let body = bytes.get(key);
      if (!body) bytes.set(key, (body = encode(updates, conn.layer)));
      conn.pushUpdates(body);
      pushed++;
    }
    return pushed;
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

/**
 * Follows the data folder: each rescan turns its changes into channel events and pushes them;
 * fs.watch (DataWatcher) asks for one after a quiet moment. One rescan runs at a time.
 */
class FolderFollower {
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<void> | null = null;
  /** What the queued rescan is to look at (merged while it waits). */
  private hints = emptyHints();
  private closed = false;
  private readonly watcher: DataWatcher;

  constructor(private readonly shared: EmulatorShared, private readonly connections: Connections, dataDir: string, watch: boolean) {
    this.watcher = new DataWatcher(dataDir, (hints) => void this.rescan(hints).catch(() => undefined), WATCH_DEBOUNCE_MS, shared.log);
    if (watch) this.watcher.start();
  }

  /**
   * One rescan at a time; a call while one is queued (not yet started) shares it. Without
   * `hints` (POST /rescan, handle.rescan()) the whole data folder is read.
   */
  rescan(hints: WatchHints = { all: true, dirs: new Map() }): Promise<void> {
    mergeHints(this.hints, hints);
    if (this.pending) return this.pending;
    const next = this.chain.then(() => {
      this.pending = null;
      const todo = this.hints;
      this.hints = emptyHints();
      return this.apply(todo);
    });
    this.pending = next;
    this.chain = next.catch((err: Error) => this.shared.log(`emulator: rescan failed: ${err.message}`));
    return next;
  }

  /** Stops watching and waits for a rescan under way. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher.close();
    await this.chain;
  }

  private async apply(hints: WatchHints): Promise<void> {
    if (this.closed) return;
    const changes = await this.shared.world.rescanChanged(unixSeconds(this.shared.clock), hints);
    for (const change of changes) {
      const news = change.events.filter((e) => e.kind === 'new').length;
      const deleted = change.events.reduce((n, e) => n + (e.kind === 'delete' ? e.msgIds.length : 0), 0);
      const pushed = this.connections.push(change);
      this.shared.log(`emulator: channel ${change.channel.name}: ${news} new, ${deleted} deleted message(s); pts ${change.channel.pts}; pushed to ${pushed} connection(s)`);
    }
    if (hints.all || hints.dirs.size) this.watcher.syncDirs();
  }
}

/** The tgvfs config that reaches this emulator (what `--config-out` holds), through `proxy` if given. */
function clientConfig(shared: EmulatorShared, adminUrl: string, configOut: string | undefined, proxy: string | undefined): TgvfsConfig {
  const { world, dcs, rsa } = shared;
  const stateDir = configOut ? path.join(path.dirname(path.resolve(configOut)), 'tgvfs-data') : path.join(world.stateDir, 'client');
  return {
    apiId: world.apiId,
    apiHash: world.apiHash,
    bots: world.bots.map((b) => b.token),
    channels: [...world.channels.values()].map((c) => ({ id: botApiChannelId(c.id), name: c.name })),
    sessionDir: path.join(stateDir, 'sessions'),
    cache: `sqlite://${path.join(stateDir, 'cache.sqlite')}`,
    telegram: { dcs, rsaPublicKeys: [rsa.publicPem] },
    emulator: { adminUrl },
    ...(proxy ? { proxy } : {}),
  };
}

/** The MTProxy of `mtproxySecret`, on a free port of the DCs' loopback address. */
async function startMtProxy(options: EmulatorOptions, shared: EmulatorShared): Promise<MtProxyServer | undefined> {
  const secret = options.mtproxySecret;
  if (secret === undefined) return undefined;
  const host = options.ipv6 ? '::1' : '127.0.0.1';
  try {
    return await MtProxyServer.start({ secret, host, port: 0, dcs: () => shared.dcs, log: shared.log });
  } catch (err) {
    throw new EmulatorError(`cannot start the MTProxy: ${(err as Error).message}`);
  }
}

/** `mtproxy://<secret>@host:port` of the emulator's MTProxy. */
function mtproxyUrl(proxy: MtProxyServer, secret: string): string {
  return `mtproxy://${secret.trim().toLowerCase()}@${formatHostPort(proxy.address)}`;
}

async function writeConfig(file: string, config: TgvfsConfig): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/** Listens with the admin endpoint; its URL. */
async function listenAdmin(admin: http.Server, at: { host: string; port: number }): Promise<string> {
  try {
    await listen(admin, at.host, at.port);
  } catch (err) {
    throw new EmulatorError(`cannot listen on ${at.host}:${at.port}: ${(err as Error).message}`);
  }
  const addr = admin.address() as net.AddressInfo;
  return `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
}

export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const dataDir = path.resolve(options.dataDir);
  const shared = await loadShared(options, dataDir);
  const { world, stats, log } = shared;
  const connections = new Connections(shared);
  const accept: OnDcSocket = (socket, dc) => connections.accept(socket, dc);
  const { servers, dcs } = await (options.ipv6 ? bindDcsIpv6(accept) : bindDcs(accept));
  shared.dcs = dcs;
  let mtproxy: MtProxyServer | undefined;
  try {
    mtproxy = await startMtProxy(options, shared);
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  const follower = new FolderFollower(shared, connections, dataDir, options.watch !== false);

  const setFaults = (f: Partial<FaultSettings>): void => void Object.assign(shared.faults, f);
  const setMembership = (botId: number, channelId: number, member: boolean): void =>
    world.setMembership(botId, mtprotoChannelId(channelId), member);
  const rescan = (): Promise<void> => follower.rescan();
  const revokeBot = (botId: number): number => {
    if (!world.botById(botId)) throw new RangeError(`no bot ${botId}`);
    return shared.habits.revokeBot(botId, shared.authKeys);
  };
  const admin = createAdminServer({ stats, getFaults: () => shared.faults, setFaults, setMembership, rescan, revokeBot });
  let adminUrl: string;
  try {
    adminUrl = await listenAdmin(admin, options.listen ?? { host: '127.0.0.1', port: 0 });
  } catch (err) {
    await Promise.all([...servers.map(closeServer), mtproxy?.close()]);
    throw err;
  }
  const config = clientConfig(shared, adminUrl, options.configOut, mtproxy && mtproxyUrl(mtproxy, options.mtproxySecret!));
  if (options.configOut) await writeConfig(options.configOut, config);
  const where = dcs.map((d) => `${d.id}@${formatHostPort(d)}`).join(',');
  log(`emulator: ${world.channels.size} channel(s), ${world.bots.length} bot(s), DCs ${where}, admin ${adminUrl}${mtproxy ? `, MTProxy ${formatHostPort(mtproxy.address)}` : ''}`);

  let closing: Promise<void> | null = null;
  return {
    config,
    adminUrl,
    ...(mtproxy ? { mtproxy: { ...mtproxy.address, counts: mtproxy.counts } } : {}),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults,
    setMembership,
    rescan,
    revokeBot,
    close() {
      closing ??= (async () => {
        await follower.close();
        connections.destroyAll();
        await Promise.all([...servers.map(closeServer), closeServer(admin), mtproxy?.close()]);
        await shared.files.close();
        await shared.authKeys.flush();
      })();
      return closing;
    },
  };
}
