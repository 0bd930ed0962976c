// A GramJS connection class whose constructor tells its socket (dc-socket.ts) which DC it is
// for, so that a configured DC is dialled by its id rather than by the address GramJS was given:
// one host may then serve several DCs on several ports (the emulator on ::1, one IPv6 loopback
// address), and GramJS's port (80 or 443) no longer matters.
//
// Replaces (telegram 2.26.22): nothing; extends the class given as TelegramClient's
// `connection` parameter (ConnectionTCPAbridged or ConnectionTCPFull). An MTProxy connection is
// GramJS's own choice (TelegramBaseClient's constructor) and is left as it is: its socket dials
// the proxy.
// Relies on: network/connection/Connection.js's constructor receiving `dcId` and building
// `this.socket` (one `new networkSocket(proxy)`) before it returns.
import type { Connection } from 'telegram/network';
import { tellSocketItsDc } from './dc-socket';

type ConnectionClass = typeof Connection;

export function connectionTellingDcId<C extends ConnectionClass>(Base: C): C {
  const Telling = class extends (Base as ConnectionClass) {
    constructor(params: ConstructorParameters<ConnectionClass>[0]) {
      super(params);
      tellSocketItsDc(this.socket, params.dcId);
    }
  };
  return Telling as C;
}
