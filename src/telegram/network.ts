// How one worker reaches Telegram: directly, through a SOCKS proxy or through an MTProxy; over
// IPv4 or IPv6; Telegram's DCs (on port 443) or configured ones (the emulator). It builds the
// network part of the GramJS client's parameters, points a saved session at the address family
// asked for, remembers the connections made (which transport was used, for doctor), and says
// in one line why a connection could not be made. Never shows a proxy password or secret.
import type { TelegramClient } from 'telegram';
import type { TelegramClientParams } from 'telegram/client/telegramBaseClient';
import type { StringSession } from 'telegram/sessions';
import type { DcAddress } from '../config/schema';
import { formatHostPort } from '../config/listen-address';
import { parseProxyUrl, proxyEndpoint, proxyKindName, proxySecrets, type ProxyAddress } from '../config/proxy-url';
import { registerSecret } from '../util/secrets';
import { answerDcsFromConfig } from './gramjs/configured-dcs';
import { connectionTellingDcId } from './gramjs/connection-dc-id';
import { createDcSocketClass, type DcDial } from './gramjs/dc-socket';
import { gramJsProxy } from './proxy';
import { isIpv6Address, telegramDcAddress } from './telegram-dcs';

export type { DcDial } from './gramjs/dc-socket';

export interface NetworkOptions {
  /** Configured DCs (the emulator); without them, Telegram's own. */
  dcs?: readonly DcAddress[];
  /** `socks5://…`, `mtproxy://…` or `tg://proxy?…` (config/proxy-url.ts). */
  proxy?: string;
  /** Telegram's DCs at their IPv6 addresses. @default false */
  ipv6?: boolean;
  /** @internal Tests only: the local address every direct connection is made from. */
  localAddress?: string;
}

/** The GramJS connection class a worker frames its packets with (abridged or full). */
type ConnectionClass = NonNullable<TelegramClientParams['connection']>;

const hostPort = (host: string, port: number): string => formatHostPort({ host, port });
const family = (host: string): string => (isIpv6Address(host) ? 'IPv6' : 'IPv4');

export class WorkerNetwork {
  readonly proxy: ProxyAddress | undefined;
  private readonly dcs: readonly DcAddress[];
  private readonly ipv6: boolean;
  private readonly localAddress: string | undefined;
  /** The last connection made to each DC; MTProxy connections (whose DC the socket never learns) under undefined. */
  private readonly dials = new Map<number | undefined, DcDial>();
  private dialCount = 0;

  constructor(options: NetworkOptions) {
    this.dcs = options.dcs ?? [];
    this.ipv6 = options.ipv6 ?? false;
    this.localAddress = options.localAddress;
    if (options.proxy) {
      for (const s of proxySecrets(options.proxy)) registerSecret(s);
      this.proxy = parseProxyUrl(options.proxy);
    }
  }

  /** GramJS's network parameters: our socket, the framing (told its DC), the proxy, the family. */
  clientParams(connection: ConnectionClass): Pick<TelegramClientParams, 'networkSocket' | 'connection' | 'proxy' | 'useIPV6'> {
    return {
      networkSocket: createDcSocketClass(this.dcs, { onConnect: (d) => this.record(d), localAddress: this.localAddress }),
      // With an MTProxy GramJS uses its own obfuscated MTProxy connection instead.
      connection: connectionTellingDcId(connection),
      ...(this.proxy ? { proxy: gramJsProxy(this.proxy) } : {}),
      useIPV6: this.ipv6,
    };
  }

  /**
   * Where a session starts: a new one at the configured home DC (the emulator; GramJS picks
   * Telegram's otherwise); a saved one on Telegram's DCs moved to the address family asked for.
   * Returns a line to log when it moved one.
   */
  prepareSession(session: StringSession, homeDc: number): string | undefined {
    const address = session.serverAddress;
    if (!address) {
      const home = this.dcs.find((d) => d.id === homeDc) ?? this.dcs[0];
      if (home) session.setDC(home.id, home.host, home.port);
      return undefined;
    }
    if (this.dcs.length > 0 || isIpv6Address(address) === this.ipv6) return undefined;
    const moved = telegramDcAddress(session.dcId, this.ipv6);
    if (!moved) return undefined;
    session.setDC(session.dcId, moved, session.port);
    return `session moved to DC ${session.dcId}'s ${this.ipv6 ? 'IPv6' : 'IPv4'} address (${this.ipv6 ? 'ipv6 is on' : 'ipv6 is off'})`;
  }

  /** After the client is built: configured DCs answer its DC look-ups. */
  attach(client: TelegramClient): void {
    answerDcsFromConfig(client, this.dcs);
  }

  /** How many connections were made so far (a connect that made none never reached the first hop). */
  get connections(): number {
    return this.dialCount;
  }

  /**
   * The transport of the last connection to `dcId`, for a person: `TCP to 149.154.167.51:443
   * (IPv4)`, `SOCKS5 proxy 10.0.0.1:1080 to 149.154.167.51:443`, `MTProxy 1.2.3.4:443 (obfuscated)`.
   */
  describe(dcId: number): string {
    const d = this.dials.get(dcId) ?? this.dials.get(undefined);
    if (!d) return 'not connected';
    if (d.route === 'mtproxy') return `MTProxy ${hostPort(d.host, d.port)} (obfuscated, ${family(d.host)})`;
    if (d.route === 'direct') return `TCP to ${hostPort(d.host, d.port)} (${family(d.host)})`;
    const to = d.target ? ` to ${hostPort(d.target.host, d.target.port)}` : '';
    return `${d.route === 'socks4' ? 'SOCKS4' : 'SOCKS5'} proxy ${hostPort(d.host, d.port)}${to}`;
  }

  /**
   * Why connecting to `dcId` failed, as what to check. `connectionsBefore`: `connections` when
   * the attempt began (an MTProxy that accepted the TCP connection and then never answered
   * MTProto holds another secret, or is no MTProxy); `timeoutMs` when it timed out.
   */
  unreachable(dcId: number, serverAddress: string | undefined, connectionsBefore: number, timeoutMs?: number): string {
    const p = this.proxy;
    const dc = `DC ${dcId || 'default'}`;
    const within = timeoutMs === undefined ? '' : ` within ${Math.round(timeoutMs / 1000)} s`;
    if (!p) {
      const port = this.dcs.length === 0 ? ' (port 443)' : '';
      return `cannot reach ${dc} at ${serverAddress ?? 'default address'}${port}${within ? `: no answer${within}` : ''}`;
    }
    const via = `${proxyKindName(p)} at ${proxyEndpoint(p)}`;
    if (p.kind === 'mtproxy' && this.dialCount > connectionsBefore) {
      return `cannot reach ${dc} through the ${via}: it accepted the connection but no MTProto answer came back${within}: check the proxy's secret`;
    }
    return `cannot reach ${dc} through the ${via}${within ? `: no answer${within}` : ''}: check that the proxy runs and can reach Telegram`;
  }

  private record(d: DcDial): void {
    this.dialCount++;
    this.dials.set(d.dcId, d);
  }
}
