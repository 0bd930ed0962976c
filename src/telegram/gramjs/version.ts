// The GramJS (npm `telegram`) version every file of this folder was checked against. Each one
// reads or replaces GramJS code named in its header (file and function under
// node_modules/telegram); another version may have moved or changed that code without a type
// error showing it. test/telegram-gramjs-version.test.ts fails when the installed package is not
// this version: re-read every header here against the new GramJS, run the patches' tests
// (telegram-fast-ige, -fast-decrypt, -dc-socket, -network, -rsa-keys, -errors, -worker, -sender-requeue,
// serve-ipv6, serve-mtproxy), then change this.
export const GRAMJS_VERSION = '2.26.22';
