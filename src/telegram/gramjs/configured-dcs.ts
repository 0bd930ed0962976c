// Configured DCs (the emulator's `telegram.dcs`) answer GramJS's DC look-ups. GramJS finds a
// DC's address in help.getConfig's dc_options, keeping only entries of the address family of
// the session's own address (`!!ipv6 === _useIPV6`): a session on an IPv6 address (the
// emulator on ::1) finds no DC the server listed without the ipv6 flag, and every
// FILE_MIGRATE fails with "Cannot find the DC". The config says where each DC is; it is the
// answer, with no help.getConfig call. Telegram's own DCs keep GramJS's look-up.
//
// Replaces (telegram 2.26.22): client/TelegramClient.js, TelegramClient.getDC, on one client.
// Relies on: GramJS asking getDC(dcId) for the address of every DC it connects to after the
// first (_connectSender, _switchDC) and using its `ipAddress` and `port`.
import type { TelegramClient } from 'telegram';
import type { DcAddress } from '../../config/schema';

export function answerDcsFromConfig(client: TelegramClient, dcs: readonly DcAddress[]): void {
  if (dcs.length === 0) return;
  const getDC = async (dcId: number): Promise<{ id: number; ipAddress: string; port: number }> => {
    const dc = dcs.find((d) => d.id === dcId);
    // GramJS's own wording: its callers (and ours) see the same error either way.
    if (!dc) throw new Error(`Cannot find the DC with the ID of ${dcId}`);
    return { id: dc.id, ipAddress: dc.host, port: dc.port };
  };
  client.getDC = getDC;
}
