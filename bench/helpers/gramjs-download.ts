// bench/stream's baseline, run in its own process: what a TypeScript user would write with
// GramJS alone. A plain TelegramClient (StringSession, GramJS's default options and its own
// pure-JS AES-IGE: no installFastIge), logged in with one bot token of the emulator's config,
// downloads a whole channel document with `client.downloadFile`. The only additions are what any
// client needs to reach the emulator at all: its RSA key (tgvfs's trustRsaKey) and a socket class
// that dials each DC host on its configured port. That class is written out here rather than
// taken from tgvfs's createDcSocketClass, which also replaces GramJS's receive path (a tgvfs
// optimisation a GramJS user does not have). It does turn Nagle off, as tgvfs does: on loopback
// GramJS's ack-then-request writes would otherwise wait ~40 ms for a delayed ACK on every call,
// which would slow the baseline for a reason that has nothing to do with GramJS.
// With `"clients": W` (W > 1) it is instead the best a GramJS user can do with W bots: W clients in
// this process, one per bot (bots bot…bot+W−1), each downloading 1/W of the document in parallel
// with `client.iterDownload({ offset, limit, requestSize: 512 KiB })` (GramJS's largest request;
// `downloadFile` ignores its `workers` option), the slices copied into one buffer.
// Usage: node gramjs-download.js '{"configFile":…,"bot":0,"channel":-100…,"msgId":1,"seed":…,"clients":1}'
// Prints one JSON line: bytes, seconds, MBps (1e6 bytes), cpuSeconds, ok (content check), clients.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import bigInt from 'big-integer';
import { Api, Logger, TelegramClient } from 'telegram';
import { LogLevel } from 'telegram/extensions/Logger';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import { StringSession } from 'telegram/sessions';
import type { DcAddress, TgvfsConfig } from '../../src/config/schema';
import { trustRsaKey } from '../../src/telegram/gramjs/rsa-keys';
import { matchesPattern, patternChunk } from './pattern';

/** GramJS's own socket, dialing each DC host on its configured port, with Nagle off. */
function plainDcSocket(dcs: readonly DcAddress[]): typeof PromisedNetSockets {
  const portByHost = new Map(dcs.map((d) => [d.host, d.port] as const));
  return class PlainDcSocket extends PromisedNetSockets {
    override async connect(port: number, ip: string): Promise<unknown> {
      const result = await super.connect(portByHost.get(ip) ?? port, ip);
      (this as unknown as { client?: Socket }).client?.setNoDelay?.(true);
      return result;
    }
  };
}

interface Args {
  configFile: string;
  bot: number;
  channel: number;
  msgId: number;
  seed: string;
  clients?: number;
}

/** GramJS's largest upload.getFile request (its MAX_CHUNK_SIZE). */
const REQUEST = 512 * 1024;

/** A logged-in plain client for bot `bot` of the config. */
async function plainClient(cfg: TgvfsConfig, bot: number): Promise<TelegramClient> {
  const dcs = cfg.telegram?.dcs ?? [];
  const session = new StringSession('');
  const home = dcs.find((d) => d.id === 2) ?? dcs[0];
  if (home) session.setDC(home.id, home.host, home.port);
  const client = new TelegramClient(session, cfg.apiId, cfg.apiHash, {
    networkSocket: plainDcSocket(dcs),
    baseLogger: new Logger(LogLevel.ERROR),
  });
  const token = cfg.bots[bot];
  if (!token) throw new Error(`the config has no bot #${bot}`);
  await client.start({ botAuthToken: token });
  return client;
}

async function findDocument(client: TelegramClient, channelId: number, msgId: number): Promise<Api.Document> {
  const mtprotoId = bigInt(String(-channelId - 1e12));
  const got = await client.invoke(new Api.channels.GetChannels({ id: [new Api.InputChannel({ channelId: mtprotoId, accessHash: bigInt.zero })] }));
  const channel = got.chats[0];
  if (!(channel instanceof Api.Channel)) throw new Error(`channel ${channelId} not found`);
  const [msg] = await client.getMessages(channel, { ids: msgId });
  const doc = msg?.media instanceof Api.MessageMediaDocument ? msg.media.document : undefined;
  if (!(doc instanceof Api.Document)) throw new Error(`message ${msgId} has no document`);
  return doc;
}

const locationOf = (doc: Api.Document): Api.InputDocumentFileLocation =>
  new Api.InputDocumentFileLocation({ id: doc.id, accessHash: doc.accessHash, fileReference: doc.fileReference, thumbSize: '' });

/**
 * W clients, each reading its 1/W slice (whole 512 KiB requests) with iterDownload, into one
 * buffer. Each client uses the document as its own bot sees it (file references are per bot).
 */
async function slicedDownload(clients: TelegramClient[], docs: Api.Document[]): Promise<Buffer> {
  const size = docs[0]!.size.toJSNumber();
  const requests = Math.ceil(size / REQUEST);
  const per = Math.ceil(requests / clients.length);
  const out = Buffer.alloc(size);
  await Promise.all(clients.map(async (client, i) => {
    const doc = docs[i]!;
    const first = i * per;
    const count = Math.min(per, requests - first);
    if (count <= 0) return;
    let at = first * REQUEST;
    const iter = client.iterDownload({
      file: locationOf(doc), dcId: doc.dcId, fileSize: doc.size, offset: bigInt(at), limit: count, requestSize: REQUEST,
    });
    for await (const chunk of iter) at += (chunk as Buffer).copy(out, at);
    if (at !== Math.min(size, (first + count) * REQUEST)) throw new Error(`client ${i} ended at ${at}`);
  }));
  return out;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as Args;
  const cfg = JSON.parse(readFileSync(args.configFile, 'utf8')) as TgvfsConfig;
  for (const pem of cfg.telegram?.rsaPublicKeys ?? []) trustRsaKey(pem);
  const ige = (require('telegram/crypto/IGE') as { IGE: { name: string } }).IGE.name;
  const w = Math.max(1, Math.round(args.clients ?? 1));
  const clients = await Promise.all(Array.from({ length: w }, (_, i) => plainClient(cfg, args.bot + i)));
  const docs = await Promise.all(clients.map((c) => findDocument(c, args.channel, args.msgId)));
  const doc = docs[0]!;

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const data = w > 1
    ? await slicedDownload(clients, docs)
    : await clients[0]!.downloadFile(locationOf(doc), { dcId: doc.dcId, fileSize: doc.size });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const buf = Buffer.isBuffer(data) ? data : Buffer.alloc(0);
  const size = doc.size.toJSNumber();
  const ok = buf.length === size && matchesPattern(patternChunk(args.seed), 0, buf);
  process.stdout.write(
    JSON.stringify({ bytes: buf.length, size, seconds, MBps: buf.length / 1e6 / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, ok, ige, clients: w }) + '\n',
  );
  await Promise.race([Promise.all(clients.map((c) => c.destroy().catch(() => undefined))), new Promise((r) => setTimeout(r, 3000))]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`gramjs-download: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
