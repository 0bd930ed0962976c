// `host:port` as written in a config file, TGVFS_LISTEN or `--listen`. Pure: the caller turns
// `undefined` into an error naming where the value came from.

export interface ListenAddress {
  host: string;
  port: number;
}

/** The default HTTP address: loopback only (listening elsewhere needs `auth`). */
export const DEFAULT_LISTEN = '127.0.0.1:8080';

/**
 * `host:port`, or `[v6 address]:port`; port 0–65535 (0 picks a free port). The host is kept
 * as written (without the brackets of an IPv6 literal). `undefined` when malformed.
 */
export function parseHostPort(value: string): ListenAddress | undefined {
  const v = value.trim();
  let host: string;
  let portText: string;
  if (v.startsWith('[')) {
    const close = v.indexOf(']');
    if (close < 0 || v[close + 1] !== ':') return undefined;
    host = v.slice(1, close);
    portText = v.slice(close + 2);
    if (!host.includes(':')) return undefined;
  } else {
    const colon = v.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = v.slice(0, colon);
    portText = v.slice(colon + 1);
    // An unbracketed IPv6 literal ("::1:80") is ambiguous.
    if (host.includes(':')) return undefined;
  }
  if (host === '' || /\s/.test(host)) return undefined;
  if (!/^[0-9]+$/.test(portText)) return undefined;
  const port = Number(portText);
  if (!Number.isSafeInteger(port) || port > 65535) return undefined;
  return { host, port };
}

/** `host:port`, bracketing an IPv6 literal. */
export function formatHostPort(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses nobody else can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
