// The config's proxy URL (config/proxy-url.ts) → GramJS's proxy option: SOCKS through its socks
// client, MTProxy through its own obfuscated MTProxy connection (TCPMTProxy, keyed by the
// secret). Errors never echo a password or a secret.
import type { ProxyInterface } from 'telegram/network/connection/TCPMTProxy';
import { parseProxyUrl as readProxyUrl, type ProxyAddress } from '../config/proxy-url';

export function gramJsProxy(p: ProxyAddress): ProxyInterface {
  if (p.kind === 'mtproxy') return { ip: p.host, port: p.port, secret: p.secret, MTProxy: true };
  return {
    ip: p.host,
    port: p.port,
    socksType: p.version,
    ...(p.username !== undefined ? { username: p.username } : {}),
    ...(p.password !== undefined ? { password: p.password } : {}),
  };
}

/** `socks5://…`, `mtproxy://…` or `tg://proxy?…` → GramJS's proxy option; throws TypeError. */
export function parseProxyUrl(url: string): ProxyInterface {
  return gramJsProxy(readProxyUrl(url));
}
