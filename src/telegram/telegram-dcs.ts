// Telegram's production DCs, by address family: what a saved session is moved to when the
// config's `ipv6` no longer matches the address it was saved with (GramJS takes the session's
// address family as its own and would keep dialling the old one). The addresses are those
// Telegram's help.getConfig lists and that tdlib and Telethon ship; an auth key belongs to a DC,
// not to an address, so a session moved this way stays logged in.

interface DcAddresses {
  ipv4: string;
  ipv6: string;
}

const PRODUCTION_DCS: ReadonlyMap<number, DcAddresses> = new Map([
  [1, { ipv4: '149.154.175.53', ipv6: '2001:b28:f23d:f001::a' }],
  [2, { ipv4: '149.154.167.51', ipv6: '2001:67c:4e8:f002::a' }],
  [3, { ipv4: '149.154.175.100', ipv6: '2001:b28:f23d:f003::a' }],
  [4, { ipv4: '149.154.167.91', ipv6: '2001:67c:4e8:f004::a' }],
  [5, { ipv4: '91.108.56.130', ipv6: '2001:b28:f23f:f005::a' }],
]);

/** Telegram's address of DC `dcId` in one family; undefined for a DC it does not list. */
export function telegramDcAddress(dcId: number, ipv6: boolean): string | undefined {
  const dc = PRODUCTION_DCS.get(dcId);
  return dc && (ipv6 ? dc.ipv6 : dc.ipv4);
}

/** An IPv6 literal (GramJS's own test: the address holds a colon). */
export function isIpv6Address(address: string): boolean {
  return address.includes(':');
}
