// Tells a GramJS client who it is logged in as, so that it never asks.
//
// Replaces (telegram 2.26.22): nothing; sets what client/users.js `getMe` would have set
// (`client._selfInputPeer`, `client._bot`) from the user our own login already got (the
// users.getUsers of a reused session, or auth.importBotAuthorization's `user`).
// Relies on: client/updates.js `_dispatchUpdate` calling `client.getMe(true)` — one
// users.getUsers — for every pushed update while `_selfInputPeer` is unset (a burst of 150
// posts made 450 calls), and `getMe`/`isBot` answering from these two fields once set.
import { Api, utils, type TelegramClient } from 'telegram';

interface SelfFields {
  _selfInputPeer?: Api.InputPeerUser;
  _bot?: boolean;
}

/** Records `user` (the account `client` is logged in as) where GramJS looks for it. */
export function rememberSelf(client: TelegramClient, user: Api.TypeUser): void {
  if (!(user instanceof Api.User)) return;
  const fields = client as unknown as SelfFields;
  const peer = utils.getInputPeer(user, false);
  if (peer instanceof Api.InputPeerUser) fields._selfInputPeer = peer;
  fields._bot = user.bot === true;
}
