// The GramJS patches (src/telegram/gramjs/) read and replace GramJS code by name: another GramJS
// may have moved it without any type error. This fails as soon as the installed `telegram`
// package is not the version they were checked against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GRAMJS_VERSION } from '../src/telegram/gramjs/version';

test('the installed GramJS is the version the patches in src/telegram/gramjs/ were checked against', () => {
  const file = require.resolve('telegram/package.json');
  const installed = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
  assert.equal(
    installed,
    GRAMJS_VERSION,
    `GramJS (npm telegram) is ${String(installed)} in ${file}, but the patches in src/telegram/gramjs/ were checked ` +
      `against ${GRAMJS_VERSION}: re-check each of them against the GramJS file and function its header names ` +
      `(and the invariant it says it relies on), run their tests (telegram-fast-ige, telegram-fast-decrypt, ` +
      `telegram-dc-socket, telegram-network, telegram-rsa-keys, telegram-errors, telegram-worker, telegram-auth-export, ` +
      `telegram-sender-requeue, serve-ipv6, ` +
      `serve-mtproxy), then set GRAMJS_VERSION in ` +
      `src/telegram/gramjs/version.ts to ${String(installed)}`,
  );
});
