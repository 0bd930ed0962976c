// The config's network settings: `proxy` as SOCKS or MTProxy (mtproxy://, tg://proxy, t.me/proxy
// links), `ipv6` from the file, TGVFS_IPV6 or --ipv6; secrets never in a problem or a log line.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../src/config/config-file';
import { resolveConfig } from '../src/config/config-sources';
import { parseProxyUrl, proxySecrets } from '../src/config/proxy-url';
import { PassThrough } from 'node:stream';
import { configSecrets, createLogger, scrubText } from '../src/app/logger';
import { parseProxyUrl as gramJsProxyUrl } from '../src/telegram/proxy';
import { runCli, startCli } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

const HEX = '7f3a9c2be14d05f6a8b1c9d2e3f40516';
const DD = `dd${HEX}`;
const BASE64URL = Buffer.from(HEX, 'hex').toString('base64url');

describe('proxy URLs', () => {
  it('reads an MTProxy in each form people copy, with a plain, dd or base64 secret', () => {
    const at = { kind: 'mtproxy', host: '1.2.3.4', port: 443 };
    assert.deepEqual(parseProxyUrl(`mtproxy://${HEX}@1.2.3.4:443`), { ...at, secret: HEX });
    assert.deepEqual(parseProxyUrl(`mtproxy://${DD.toUpperCase()}@1.2.3.4:443`), { ...at, secret: DD });
    assert.deepEqual(parseProxyUrl(`tg://proxy?server=1.2.3.4&port=443&secret=${DD}`), { ...at, secret: DD });
    assert.deepEqual(parseProxyUrl(`https://t.me/proxy?server=1.2.3.4&port=443&secret=${BASE64URL}`), { ...at, secret: HEX });
    assert.deepEqual(parseProxyUrl(`mtproxy://${HEX}@[2001:db8::1]:8443`), { kind: 'mtproxy', host: '2001:db8::1', port: 8443, secret: HEX });
    assert.deepEqual(parseProxyUrl('socks5://u:p%40ss@10.0.0.1:1080'), { kind: 'socks', version: 5, host: '10.0.0.1', port: 1080, username: 'u', password: 'p@ss' });
  });

  it('gives GramJS its MTProxy option (its own obfuscated MTProxy connection)', () => {
    assert.deepEqual(gramJsProxyUrl(`tg://proxy?server=proxy.example&port=443&secret=${DD}`), { ip: 'proxy.example', port: 443, secret: DD, MTProxy: true });
  });

  it('refuses what GramJS cannot use, saying why without the secret', () => {
    const fakeTls = `ee${HEX}${Buffer.from('example.com').toString('hex')}`;
    const cases: [string, RegExp][] = [
      [`mtproxy://${HEX.slice(2)}@1.2.3.4:443`, /^proxy has an MTProxy secret that is not 32 hex digits, or dd followed by 32 \(value not shown\)$/],
      [`mtproxy://${fakeTls}@1.2.3.4:443`, /^proxy has a fake-TLS MTProxy secret \(ee…\), which GramJS cannot speak: ask the proxy's owner for a dd… or plain secret$/],
      [`tg://proxy?server=1.2.3.4&secret=${HEX}`, /^proxy needs a host and a port/],
      ['tg://proxy?server=1.2.3.4&port=443', /^proxy needs the MTProxy secret/],
      [`http://u:${HEX}@h:1`, /^proxy uses http:\/\/, which tgvfs cannot use/],
    ];
    for (const [url, expected] of cases) {
      assert.throws(() => parseProxyUrl(url), (err: Error) => {
        assert.match(err.message, expected);
        assert.ok(!err.message.includes(HEX) && !err.message.includes(HEX.slice(2)), err.message);
        return true;
      });
    }
  });

  it('lists the secrets to keep out of logs: a SOCKS password, an MTProxy secret as written and as hex', () => {
    assert.deepEqual(proxySecrets('socks5://u:pw-123456@h:1'), ['pw-123456']);
    assert.deepEqual(new Set(proxySecrets(`https://t.me/proxy?server=h&port=1&secret=${BASE64URL}`)), new Set([HEX, BASE64URL]));
    const secrets = configSecrets({ proxy: `mtproxy://${DD}@h:1` });
    assert.ok(secrets.includes(DD) && secrets.includes(HEX), 'the secret as written and as the 16 key bytes');
    createLogger({ secrets, destination: new PassThrough() });
    assert.equal(scrubText(`dialling mtproxy://${DD}@h:1 (key ${HEX})`), 'dialling mtproxy://***@h:1 (key ***)');
  });
});

describe('proxy and ipv6 from the file, the environment and flags', () => {
  let dir: string;
  let file: string;
  const base = { apiId: 1, apiHash: 'abcdef0123456789', bots: ['123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], channels: [{ id: -1001234567890, name: 'films' }], sessionDir: 's' };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-config-network-'));
    file = path.join(dir, 'config.json');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const resolve = async (fields: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, ipv6?: boolean) => {
    await writeFile(file, JSON.stringify({ ...base, ...fields }));
    return resolveConfig({ file, env, flags: ipv6 === undefined ? {} : { ipv6 } });
  };
  const problems = async (fields: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<string[]> => {
    const err = await resolve(fields, env).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  };

  it('ipv6: false by default; the file, TGVFS_IPV6 and --ipv6 in that order of strength', async () => {
    assert.equal((await resolve({})).ipv6, undefined);
    assert.equal((await resolve({ ipv6: true })).ipv6, true);
    assert.equal((await resolve({ ipv6: true }, { TGVFS_IPV6: '0' })).ipv6, false);
    assert.equal((await resolve({}, { TGVFS_IPV6: 'yes' })).ipv6, true);
    assert.equal((await resolve({}, { TGVFS_IPV6: 'off' }, true)).ipv6, true);
  });

  it('names a bad ipv6 by where it came from', async () => {
    assert.deepEqual(await problems({ ipv6: 'yes' }), [`${file}: ipv6 must be true or false, got string`]);
    assert.deepEqual(await problems({}, { TGVFS_IPV6: 'maybe' }), ['TGVFS_IPV6 must be true or false, got string']);
  });

  it('takes an MTProxy from the file or TGVFS_PROXY, and names a bad one without its secret', async () => {
    assert.equal((await resolve({ proxy: `mtproxy://${DD}@1.2.3.4:443` })).proxy, `mtproxy://${DD}@1.2.3.4:443`);
    const link = `tg://proxy?server=1.2.3.4&port=443&secret=${HEX}`;
    assert.equal((await resolve({}, { TGVFS_PROXY: link })).proxy, link);
    const lines = [
      ...(await problems({ proxy: `mtproxy://${HEX.slice(4)}@1.2.3.4:443` })),
      ...(await problems({}, { TGVFS_PROXY: `tg://proxy?server=1.2.3.4&port=x&secret=${HEX}` })),
    ];
    assert.deepEqual(lines, [
      `${file}: proxy has an MTProxy secret that is not 32 hex digits, or dd followed by 32 (value not shown)`,
      'TGVFS_PROXY needs a host and a port (1-65535) (value not shown)',
    ]);
  });
});

describe('--ipv6 and --mtproxy-secret on the command line', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'docs/a.txt': Buffer.from('hello\n') }, { bots: 1, watch: false });
  });
  after(() => f?.close());

  it('serve, mount, index and doctor take --ipv6; the emulator --ipv6 and --mtproxy-secret', () => {
    for (const cmd of ['serve', 'mount', 'index', 'doctor']) assert.match(runCli([cmd, '--help']).stdout, /--ipv6 +dial Telegram's DCs at their IPv6 addresses/, cmd);
    const emu = runCli(['emulator', '--help']).stdout;
    assert.match(emu, /--ipv6 +DCs listen on ::1/);
    assert.match(emu, /--mtproxy-secret <HEX> +also run an MTProxy/);
    assert.match(runCli(['--help']).stdout, /TGVFS_IPV6 \(1 or 0\)/);
  });

  it('--ipv6 outranks TGVFS_IPV6 (a bad one is then never read)', async () => {
    const env = { ...process.env, TGVFS_CONFIG: `${f.dir}/config.json`, TGVFS_IPV6: 'maybe' };
    const bad = runCli(['index'], { env });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'tgvfs index: TGVFS_IPV6 must be true or false, got string\n');
    // With configured DCs (the emulator) the addresses there are dialled as written.
    const p = startCli(['index', '--ipv6'], { env });
    const { code } = await p.exit(60_000);
    assert.equal(code, 0, p.stderr());
  });
});
