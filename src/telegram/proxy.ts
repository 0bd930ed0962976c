// `socks5://user:pass@host:port` → GramJS's proxy option. Errors never echo the password.
import type { ProxyInterface } from 'telegram/network/connection/TCPMTProxy';

export function parseProxyUrl(url: string): ProxyInterface {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('proxy is not a valid URL (expected socks5://user:pass@host:port)');
  }
  const scheme = u.protocol.replace(/:$/, '');
  const socksType = scheme === 'socks5' || scheme === 'socks5h' ? 5 : scheme === 'socks4' ? 4 : undefined;
  if (socksType === undefined) throw new TypeError(`unsupported proxy scheme ${scheme} (expected socks5)`);
  const port = Number(u.port);
  if (!u.hostname || !Number.isInteger(port) || port <= 0) {
    throw new TypeError(`proxy ${scheme}://${u.hostname || '?'} needs a host and a port`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    ip: host,
    port,
    socksType,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}
