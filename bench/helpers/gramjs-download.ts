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
// Usage: node gramjs-download.js '{"configFile":…,"bot":0,"channel":-100…,"msgId":1,"seed":…}'
// Prints one JSON line: bytes, seconds, MBps (1e6 bytes), cpuSeconds, ok (content check).
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
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as Args;
  const cfg = JSON.parse(readFileSync(args.configFile, 'utf8')) as TgvfsConfig;
  const dcs = cfg.telegram?.dcs ?? [];
  for (const pem of cfg.telegram?.rsaPublicKeys ?? []) trustRsaKey(pem);
  const ige = (require('telegram/crypto/IGE') as { IGE: { name: string } }).IGE.name;

  const session = new StringSession('');
  const home = dcs.find((d) => d.id === 2) ?? dcs[0];
  if (home) session.setDC(home.id, home.host, home.port);
  const client = new TelegramClient(session, cfg.apiId, cfg.apiHash, {
    networkSocket: plainDcSocket(dcs),
    baseLogger: new Logger(LogLevel.ERROR),
  });
  await client.start({ botAuthToken: cfg.bots[args.bot]! });

  const mtprotoId = bigInt(String(-args.channel - 1e12));
  const got = await client.invoke(new Api.channels.GetChannels({ id: [new Api.InputChannel({ channelId: mtprotoId, accessHash: bigInt.zero })] }));
  const channel = got.chats[0];
  if (!(channel instanceof Api.Channel)) throw new Error(`channel ${args.channel} not found`);
  const [msg] = await client.getMessages(channel, { ids: args.msgId });
  const doc = msg?.media instanceof Api.MessageMediaDocument ? msg.media.document : undefined;
  if (!(doc instanceof Api.Document)) throw new Error(`message ${args.msgId} has no document`);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const data = await client.downloadFile(
    new Api.InputDocumentFileLocation({ id: doc.id, accessHash: doc.accessHash, fileReference: doc.fileReference, thumbSize: '' }),
    { dcId: doc.dcId, fileSize: doc.size },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const buf = Buffer.isBuffer(data) ? data : Buffer.alloc(0);
  const size = doc.size.toJSNumber();
  const ok = buf.length === size && matchesPattern(patternChunk(args.seed), 0, buf);
  process.stdout.write(
    JSON.stringify({ bytes: buf.length, size, seconds, MBps: buf.length / 1e6 / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, ok, ige }) + '\n',
  );
  await Promise.race([client.destroy().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`gramjs-download: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
