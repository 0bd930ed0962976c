// A Telegram data centre on loopback that speaks MTProto 2.0 (see DESIGN.md, emulator/).
// Each DC listens on its own loopback address (127.0.0.<dc>) and all on one port ≤ 32767, so
// that GramJS sessions (which store the port as int16) and address-based routing both work.
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type http from 'node:http';
import path from 'node:path';
import type { DcAddress, TgvfsConfig } from '../config/schema';
import { createAdminServer } from './admin-http';
import { AuthKeyStore } from './auth-keys';
import { channelUpdates } from './channel-updates';
import { EmuConnection, type EmulatorShared } from './connection';
import { DataWatcher } from './data-watcher';
import { NO_FAULTS } from './faults';
import { FileReader } from './file-reader';
import { loadOrCreateRsaKey } from './rsa-key';
import { referenceEpoch } from './rpc-methods';
import { Stats } from './stats';
import type { EmulatorHandle, EmulatorOptions, FaultSettings } from './types';
import { botApiChannelId, mtprotoChannelId, World, type ChannelChange } from './world';

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

/** Binds every DC on one port below 32768 (GramJS's StringSession keeps ports as int16). */
async function bindDcs(onSocket: (socket: net.Socket, dc: number) => void): Promise<{ servers: net.Server[]; port: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    const servers: net.Server[] = [];
    try {
      for (const dc of DC_IDS) {
        const s = net.createServer((socket) => onSocket(socket, dc));
        servers.push(s);
        await listen(s, `127.0.0.${dc}`, port);
      }
      return { servers, port };
    } catch (err) {
      await Promise.all(servers.filter((s) => s.listening).map(closeServer));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new EmulatorError(`cannot listen on 127.0.0.x:${port}: ${(err as Error).message}`);
    }
  }
  throw new EmulatorError('no free port below 32768 on 127.0.0.1-5');
}

export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const log = options.log ?? (() => undefined);
  const fileDc = options.fileDc ?? HOME_DC;
  if (!DC_IDS.includes(fileDc)) throw new EmulatorError(`--file-dc must be one of ${DC_IDS.join(', ')}, got ${fileDc}`);
  const bots = options.bots ?? 2;
  if (!Number.isInteger(bots) || bots < 1 || bots > 100) throw new EmulatorError(`--bots must be between 1 and 100, got ${bots}`);
  const dataDir = path.resolve(options.dataDir);
  let world: World;
  try {
    world = await World.load(dataDir, bots, fileDc);
  } catch (err) {
    throw new EmulatorError(`cannot read data folder ${dataDir}: ${(err as Error).message}`);
  }
  const rsa = await loadOrCreateRsaKey(world.stateDir);
  const authKeys = new AuthKeyStore(world.stateDir);
  await authKeys.load();
  const stats = new Stats();
  const files = new FileReader();
  const sockets = new Set<net.Socket>();
  const connections = new Set<EmuConnection>();
  const shared: EmulatorShared = {
    world, stats, faults: { ...NO_FAULTS, ...options.faults }, dcs: [], authKeys, files, rsa, exported: new Map(), log,
  };
  const { servers, port } = await bindDcs((socket, dc) => {
    sockets.add(socket);
    const conn = new EmuConnection(socket, dc, shared);
    connections.add(conn);
    socket.once('close', () => {
      sockets.delete(socket);
      connections.delete(conn);
    });
  });

  /** Pushes a channel's change to every connection logged in as a bot that is a member. */
  const push = (change: ChannelChange): void => {
    const byBot = new Map<number, Buffer | null>();
    for (const conn of connections) {
      const botId = conn.botId;
      if (botId === null) continue;
      let bytes = byBot.get(botId);
      if (bytes === undefined) {
        const bot = world.botById(botId);
        bytes = bot && world.isMember(bot, change.channel.id)
          ? channelUpdates(world, bot, change, referenceEpoch(shared.faults)).getBytes()
          : null;
        byBot.set(botId, bytes);
      }
      if (bytes) conn.pushUpdates(bytes);
    }
  };
  let closed = false;
  let rescanChain: Promise<void> = Promise.resolve();
  let pendingRescan: Promise<void> | null = null;
  const doRescan = async (): Promise<void> => {
    if (closed) return;
    const changes = await world.rescan();
    for (const change of changes) {
      const news = change.events.filter((e) => e.kind === 'new').length;
      const deleted = change.events.reduce((n, e) => n + (e.kind === 'delete' ? e.msgIds.length : 0), 0);
      log(`emulator: channel ${change.channel.name}: ${news} new, ${deleted} deleted message(s); pts ${change.channel.pts}`);
      push(change);
    }
    watcher.syncDirs();
  };
  /** One rescan at a time; a call while one is queued (not yet started) shares it. */
  const rescan = (): Promise<void> => {
    if (pendingRescan) return pendingRescan;
    const next = rescanChain.then(() => {
      pendingRescan = null;
      return doRescan();
    });
    pendingRescan = next;
    rescanChain = next.catch((err: Error) => log(`emulator: rescan failed: ${err.message}`));
    return next;
  };
  const watcher = new DataWatcher(dataDir, () => void rescan().catch(() => undefined), WATCH_DEBOUNCE_MS, log);
  if (options.watch !== false) watcher.start();
  const dcs: DcAddress[] = DC_IDS.map((id) => ({ id, host: `127.0.0.${id}`, port }));
  shared.dcs = dcs;

  const setMembership = (botId: number, channelId: number, member: boolean): void =>
    world.setMembership(botId, mtprotoChannelId(channelId), member);
  const admin = createAdminServer({
    stats,
    getFaults: () => shared.faults,
    setFaults: (f) => Object.assign(shared.faults, f),
    setMembership,
    rescan,
  });
  const listenAt = options.listen ?? { host: '127.0.0.1', port: 0 };
  try {
    await listen(admin, listenAt.host, listenAt.port);
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw new EmulatorError(`cannot listen on ${listenAt.host}:${listenAt.port}: ${(err as Error).message}`);
  }
  const addr = admin.address() as net.AddressInfo;
  const adminUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  const stateDir = options.configOut ? path.join(path.dirname(path.resolve(options.configOut)), 'tgvfs-data') : path.join(world.stateDir, 'client');
  const config: TgvfsConfig = {
    apiId: world.apiId,
    apiHash: world.apiHash,
    bots: world.bots.map((b) => b.token),
    channels: [...world.channels.values()].map((c) => ({ id: botApiChannelId(c.id), name: c.name })),
    sessionDir: path.join(stateDir, 'sessions'),
    cache: `sqlite://${path.join(stateDir, 'cache.sqlite')}`,
    telegram: { dcs, rsaPublicKeys: [rsa.publicPem] },
    emulator: { adminUrl },
  };
  if (options.configOut) {
    await mkdir(path.dirname(path.resolve(options.configOut)), { recursive: true });
    await writeFile(options.configOut, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  }
  log(`emulator: ${world.channels.size} channel(s), ${bots} bot(s), DCs on 127.0.0.{${DC_IDS.join(',')}}:${port}, admin ${adminUrl}`);

  let closing: Promise<void> | null = null;
  return {
    config,
    adminUrl,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults: (f: Partial<FaultSettings>) => Object.assign(shared.faults, f),
    setMembership,
    rescan,
    close() {
      closing ??= (async () => {
        closed = true;
        watcher.close();
        await rescanChain;
        for (const s of sockets) s.destroy();
        await Promise.all([...servers.map(closeServer), closeServer(admin)]);
        await files.close();
        await authKeys.flush();
      })();
      return closing;
    },
  };
}
