// Installs our OpenSSL-backed AES-256-IGE (crypto/aes-ige.ts) into GramJS in place of its pure-JS
// one, which costs more CPU than everything else on a download together.
//
// Replaces (telegram 2.26.22): crypto/IGE.js, the `IGE` export (class IGE: encryptIge, decryptIge).
// Relies on: MTProtoState (network/MTProtoState.js: encryptMessageData, decryptMessageData) and
// Authenticator (network/Authenticator.js: doAuthentication) call `new IGE_1.IGE(key, iv)` at call
// time on the exports object of crypto/IGE, so replacing that property switches every
// connection, including ones already open; and they use only encryptIge and decryptIge.
import { FastIge } from '../../crypto/aes-ige';

/** The shape GramJS expects of its IGE class. */
export type IgeClass = new (key: Buffer, iv: Buffer) => {
  encryptIge(plainText: Buffer): Buffer;
  decryptIge(cipherText: Buffer): Buffer;
};

interface IgeModule {
  IGE: IgeClass;
}

function igeModule(): IgeModule {
  // A plain require: TypeScript's import bindings are read-only and we must assign the export.
  return require('telegram/crypto/IGE') as IgeModule;
}

let gramJsIge: IgeClass | undefined;

/** Replaces GramJS's pure-JS IGE with `FastIge`. Safe to call any number of times. */
export function installFastIge(): void {
  const mod = igeModule();
  if (mod.IGE === FastIge) return;
  gramJsIge = mod.IGE;
  mod.IGE = FastIge;
}

export function isFastIgeInstalled(): boolean {
  return igeModule().IGE === FastIge;
}

/** GramJS's own IGE class (whatever is installed when `installFastIge` has not run yet). */
export function originalIge(): IgeClass {
  return gramJsIge ?? igeModule().IGE;
}
