// The config's `proxy` URL, read once here for the schema, the logger's secrets and the workers.
// Two kinds of proxy carry MTProto:
//   socks5://[user:pass@]host:port (socks4://, socks5h:// too)    a SOCKS proxy in front of the DCs
//   mtproxy://<secret>@host:port                                    an MTProxy (Telegram's own)
//   tg://proxy?server=H&port=P&secret=S, https://t.me/proxy?…      an MTProxy link as Telegram shares it
// An MTProxy secret is 16 bytes, written as 32 hex digits or in base64; a `dd` prefix (17 bytes)
// asks for random padding, which the proxy accepts either way. An `ee` secret is fake-TLS, which
// GramJS cannot speak: refused with what to ask for instead. Problems never show the URL, its
// password or its secret.
import { formatHostPort } from './listen-address';

export interface SocksProxyAddress {
  kind: 'socks';
  version: 4 | 5;
  host: string;
  port: number;
  username?: string;
  password?: string;
}

export interface MtProxyAddress {
  kind: 'mtproxy';
  host: string;
  port: number;
  /** Lowercase hex: 32 digits, or 34 with the `dd` prefix. A secret: never logged. */
  secret: string;
}

export type ProxyAddress = SocksProxyAddress | MtProxyAddress;

/** What the schema says about a URL it cannot read (the part after `proxy `). */
export const PROXY_FORMS =
  'must be socks5://[user:pass@]host:port (or socks4://), mtproxy://<secret>@host:port or tg://proxy?server=…&port=…&secret=… (value not shown)';

/** A proxy URL that cannot be used: `proxy <detail>`; `detail` follows a field's name in config problems. */
export class ProxyUrlError extends TypeError {
  override name = 'ProxyUrlError';

  constructor(readonly detail: string) {
    super(`proxy ${detail}`);
  }
}

const NEEDS_HOST_PORT = 'needs a host and a port (1-65535) (value not shown)';
const MTPROXY_LINK_HOSTS = new Set(['t.me', 'telegram.me']);

/** Reads a proxy URL; throws ProxyUrlError, whose message never holds the URL or a secret. */
export function parseProxyUrl(url: string): ProxyAddress {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new ProxyUrlError(PROXY_FORMS);
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  if (scheme === 'socks5' || scheme === 'socks5h' || scheme === 'socks4') return socksAddress(u, scheme === 'socks4' ? 4 : 5);
  if (scheme === 'mtproxy') return mtproxyAddress(hostOf(u.hostname), u.port, decodeURIComponent(u.username));
  if (scheme === 'tg' && u.hostname.toLowerCase() === 'proxy') return linkAddress(u);
  if ((scheme === 'https' || scheme === 'http') && MTPROXY_LINK_HOSTS.has(u.hostname.toLowerCase()) && u.pathname === '/proxy') return linkAddress(u);
  throw new ProxyUrlError(`uses ${scheme}://, which tgvfs cannot use: it ${PROXY_FORMS}`);
}

/** `host:port` of a proxy, for messages (bracketing an IPv6 literal). */
export function proxyEndpoint(p: ProxyAddress): string {
  return formatHostPort(p);
}

/** What a person calls it: `SOCKS5 proxy`, `MTProxy`. */
export function proxyKindName(p: ProxyAddress): string {
  return p.kind === 'mtproxy' ? 'MTProxy' : `SOCKS${p.version} proxy`;
}

/** The strings of a proxy URL that must never be logged: password, MTProxy secret as written and normalised. */
export function proxySecrets(url: string): string[] {
  let p: ProxyAddress;
  try {
    p = parseProxyUrl(url);
  } catch {
    return [];
  }
  if (p.kind === 'socks') return p.password ? [p.password] : [];
  const written = new URL(url.trim());
  const raw = [decodeURIComponent(written.username), written.searchParams.get('secret') ?? ''];
  return [...new Set([p.secret, p.secret.replace(/^dd/, ''), ...raw].filter((s) => s !== ''))];
}

function hostOf(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

function portOf(text: string | null): number {
  const port = text !== null && /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port > 0 && port < 65536)) throw new ProxyUrlError(NEEDS_HOST_PORT);
  return port;
}

function socksAddress(u: URL, version: 4 | 5): SocksProxyAddress {
  const host = hostOf(u.hostname);
  if (!host) throw new ProxyUrlError(NEEDS_HOST_PORT);
  return {
    kind: 'socks',
    version,
    host,
    port: portOf(u.port),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** `tg://proxy?server=…&port=…&secret=…` (also t.me/proxy links). */
function linkAddress(u: URL): MtProxyAddress {
  const q = u.searchParams;
  return mtproxyAddress(hostOf(q.get('server') ?? ''), q.get('port'), q.get('secret') ?? '');
}

function mtproxyAddress(host: string, port: string | null, secret: string): MtProxyAddress {
  if (!host) throw new ProxyUrlError(NEEDS_HOST_PORT);
  return { kind: 'mtproxy', host, port: portOf(port), secret: mtproxySecretHex(secret) };
}

/**
 * An MTProxy secret as lowercase hex (32 digits, or `dd` + 32). Accepts hex or base64/base64url;
 * throws ProxyUrlError (without the secret) otherwise.
 */
export function mtproxySecretHex(secret: string): string {
  const s = secret.trim();
  if (s === '') throw new ProxyUrlError('needs the MTProxy secret (mtproxy://<secret>@host:port)');
  const bytes = /^[0-9a-f]+$/i.test(s) && s.length % 2 === 0 ? Buffer.from(s, 'hex') : fromBase64(s);
  if (bytes && bytes.length >= 1 && bytes[0] === 0xee && bytes.length > 17) {
    throw new ProxyUrlError('has a fake-TLS MTProxy secret (ee…), which GramJS cannot speak: ask the proxy\'s owner for a dd… or plain secret');
  }
  const ok = bytes !== undefined && (bytes.length === 16 || (bytes.length === 17 && bytes[0] === 0xdd));
  if (!ok) throw new ProxyUrlError('has an MTProxy secret that is not 32 hex digits, or dd followed by 32 (value not shown)');
  return bytes.toString('hex');
}

function fromBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) return undefined;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
