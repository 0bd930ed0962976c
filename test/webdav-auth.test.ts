// Authentication of the HTTP front-end and who may listen where:
// - credential hashes (scrypt for passwords, sha256 for bearer tokens) and their checks;
// - the authenticator's cache (hundreds of requests, one scrypt) and its bounds;
// - `tgvfs hash-password` (stdin and a terminal without echo);
// - a server on the emulator with basic and with bearer auth: 401 + challenge for every path but
//   /healthz (which then tells nothing about the channels), exact bytes with credentials, no
//   upstream call for a refused request; curl -u and rclone --webdav-user/--webdav-pass;
// - the binding rule (non-loopback without auth: AUTH_REQUIRED before any login) and the
//   DNS-rebinding guard (Host not loopback: 421) on a loopback listener without auth.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TgvfsConfig } from '../src/config/schema';
import { startDemo } from '../src/app/demo';
import { startServer, type RunningServer } from '../src/app/server';
import { createAuthenticator, isLoopbackHost, isLoopbackHostHeader } from '../src/webdav/auth';
import {
  CredentialHashError,
  hashPassword,
  hashToken,
  parsePasswordHash,
  verifyPassword,
  verifyToken,
} from '../src/config/credentials';
import { runCli, tgvfsBin } from '../support/cli-process';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { rawRequest, requestText } from './helpers/raw-http';
import { requireProgram, run } from '../support/programs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple é';
const TOKEN = 'tok-3f9d0c2b8a7e6f5d4c3b2a1908f7e6d5';
const BASIC_CHALLENGE = 'Basic realm="tgvfs", charset="UTF-8"';

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`, 'utf8').toString('base64')}`;
/** `tgvfs ARGS` with `input` on stdin (runCli gives none). */
function runWithInput(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [tgvfsBin, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const fakeRequest = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('credential hashes', () => {
  it('hashPassword: scrypt$16384$8$1$<16-byte salt>$<32-byte key>, salted, verified in both directions', async () => {
    const h1 = await hashPassword(PASSWORD);
    const h2 = await hashPassword(PASSWORD);
    const m = /^scrypt\$16384\$8\$1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(h1);
    assert.ok(m, h1);
    assert.equal(Buffer.from(m[1]!, 'base64').length, 16);
    assert.equal(Buffer.from(m[2]!, 'base64').length, 32);
    assert.notEqual(h1, h2, 'a fresh salt each time');
    assert.equal(await verifyPassword(PASSWORD, h1), true);
    assert.equal(await verifyPassword(PASSWORD, h2), true);
    assert.equal(await verifyPassword(`${PASSWORD} `, h1), false);
    assert.equal(await verifyPassword('', h1), false);
    // The same text typed decomposed (e + combining acute) is the same password.
    assert.equal(await verifyPassword(PASSWORD.normalize('NFD'), h1), true);
  });

  it('hashToken / verifyToken: sha256$<hex>, any length of guess rejected', () => {
    const h = hashToken(TOKEN);
    assert.match(h, /^sha256\$[0-9a-f]{64}$/);
    assert.equal(verifyToken(TOKEN, h), true);
    for (const guess of ['', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), 'a'.repeat(10_000)]) {
      assert.equal(verifyToken(guess, h), false, JSON.stringify(guess.slice(0, 20)));
    }
  });

  it('malformed hashes: CredentialHashError whose message never shows the hash', () => {
    const bad = ['', 'plain', 'scrypt$16384$8$1$c2FsdA==', 'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5',
      'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5', 'bcrypt$2b$10$abcdefghijklmnopqrstuv'];
    for (const h of bad) {
      assert.throws(() => parsePasswordHash(h), (err: unknown) => err instanceof CredentialHashError && err.code === 'AUTH_HASH_INVALID' && (h === '' || !err.message.includes(h)), h);
    }
    for (const h of ['sha256$abc', `sha256$${'A'.repeat(64)}`, `md5$${'a'.repeat(32)}`]) {
      assert.throws(() => createAuthenticator({ type: 'bearer', tokenHash: h }), (err: unknown) => err instanceof CredentialHashError && !err.message.includes(h), h);
    }
  });

  it('loopback: 127/8, ::1 in any spelling, localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', '[::1]']) {
      assert.equal(isLoopbackHost(h), true, h);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '192.168.1.10', '::2', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io', '']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
    for (const h of ['localhost', 'localhost:8080', '127.0.0.1:1', '[::1]:8080', '[::1]']) assert.equal(isLoopbackHostHeader(h), true, h);
    for (const h of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', '::1', '127.0.0.1:80:80', '127.0.0.1 evil', 'localhost@evil']) {
      assert.equal(isLoopbackHostHeader(h), false, h);
    }
  });
});

describe('the basic authenticator', () => {
  let passwordHash: string;
  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  it('300 requests with the same credentials, 50 of them at once on a cold cache: one scrypt run', async () => {
    const auth = createAuthenticator({ type: 'basic', user: USER, passwordHash });
    const first = await Promise.all(Array.from({ length: 50 }, () => auth.check(fakeRequest(basic(USER, PASSWORD)))));
    assert.ok(first.every((ok) => ok));
    for (let i = 0; i < 250; i++) assert.equal(await auth.check(fakeRequest(basic(USER, PASSWORD))), true);
    assert.equal(auth.scryptRuns(), 1);
  });

  it('wrong user, wrong password, malformed headers: refused; a repeated wrong password costs one scrypt', async () => {
    const auth = createAuthenticator({ type: 'basic', user: USER, passwordHash });
    assert.equal(await auth.check(fakeRequest(basic('bob', PASSWORD))), false);
    assert.equal(await auth.check(fakeRequest(basic(USER, 'nope'))), false);
    assert.equal(await auth.check(fakeRequest(basic(USER, 'nope'))), false);
    assert.equal(auth.scryptRuns(), 2, 'wrong user still runs scrypt (no timing hint); the repeat is cached');
    for (const header of [undefined, '', 'Basic', 'Basic !!!', `Bearer ${TOKEN}`, `Basic ${Buffer.from('no-colon').toString('base64')}`, `Digest ${basic(USER, PASSWORD).slice(6)}`]) {
      assert.equal(await auth.check(fakeRequest(header)), false, String(header));
    }
    assert.equal(auth.scryptRuns(), 2, 'malformed headers never reach scrypt');
    // The scheme is case-insensitive (RFC 7235).
    assert.equal(await auth.check(fakeRequest(`basic ${basic(USER, PASSWORD).slice(6)}`)), true);
  });

  it('a flood of guesses: beyond the backlog, new credentials are refused at once; known ones still pass', async () => {
    const auth = createAuthenticator({ type: 'basic', user: USER, passwordHash }, { maxConcurrentVerifications: 1, maxWaitingVerifications: 3 });
    assert.equal(await auth.check(fakeRequest(basic(USER, PASSWORD))), true);
    const guesses = Array.from({ length: 10 }, (_, i) => auth.check(fakeRequest(basic(USER, `guess-${i}`))));
    assert.equal(await auth.check(fakeRequest(basic(USER, PASSWORD))), true, 'cached: not queued');
    assert.deepEqual(await Promise.all(guesses), Array(10).fill(false));
    assert.equal(auth.scryptRuns(), 1 + 1 + 3, 'one running, three waiting, six refused without scrypt');
  });

  it('the caches are bounded, and wrong guesses never push valid credentials out', async () => {
    const auth = createAuthenticator({ type: 'basic', user: USER, passwordHash }, { cacheSize: 2 });
    assert.equal(await auth.check(fakeRequest(basic(USER, PASSWORD))), true);
    for (const pw of ['x1', 'x2', 'x3']) assert.equal(await auth.check(fakeRequest(basic(USER, pw))), false);
    assert.equal(auth.scryptRuns(), 4);
    assert.equal(await auth.check(fakeRequest(basic(USER, PASSWORD))), true);
    assert.equal(auth.scryptRuns(), 4, 'the valid credentials are still cached');
    assert.equal(await auth.check(fakeRequest(basic(USER, 'x3'))), false);
    assert.equal(auth.scryptRuns(), 4, 'the newest failure is cached');
    assert.equal(await auth.check(fakeRequest(basic(USER, 'x1'))), false);
    assert.equal(auth.scryptRuns(), 5, 'the oldest failure was evicted, so verified again');
  });
});

describe('tgvfs hash-password', () => {
  it('piped: prints a hash that verifies; --bearer prints sha256$…; empty input is a usage error', async () => {
    const r = runWithInput(['hash-password'], `${PASSWORD}\n`);
    assert.equal(r.status, 0, r.stderr);
    const hash = r.stdout.trim();
    assert.equal(r.stdout, `${hash}\n`, 'stdout is the hash alone');
    assert.equal(await verifyPassword(PASSWORD, hash), true);
    assert.ok(!r.stderr.includes(PASSWORD));

    const b = runWithInput(['hash-password', '--bearer'], TOKEN);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout, `${hashToken(TOKEN)}\n`);

    const e = runWithInput(['hash-password'], '');
    assert.equal(e.status, 2);
    assert.match(e.stderr, /^tgvfs hash-password: no password given/);
    assert.equal(e.stderr.trim().split('\n').length, 1);

    const h = runCli(['hash-password', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--bearer/);
  });

  it('on a terminal: prompts twice without echo; different answers are a usage error', async () => {
    // util-linux `script` gives the command a pseudo-terminal fed from our pipe.
    const script = requireProgram('script');
    const typed = async (answers: string[]): Promise<{ code: number | null; out: string }> => {
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(tgvfsBin)} hash-password; echo "exit=$?"`;
      const child = startCliLike(script, ['-qec', cmd, '/dev/null']);
      for (const [i, a] of answers.entries()) {
        await child.waitFor(/Password: |Repeat the password: /g, i + 1);
        child.write(`${a}\r`);
      }
      const out = await child.done();
      return { code: Number(/exit=(\d+)/.exec(out)?.[1] ?? NaN), out };
    };
    const ok = await typed([PASSWORD, PASSWORD]);
    assert.equal(ok.code, 0, ok.out);
    assert.ok(!ok.out.includes(PASSWORD) && !ok.out.includes('battery'), `the password was echoed:\n${ok.out}`);
    const hash = /(scrypt\$\S+)/.exec(ok.out)?.[1];
    assert.ok(hash, ok.out);
    assert.equal(await verifyPassword(PASSWORD, hash), true);

    const differ = await typed([PASSWORD, 'something else']);
    assert.equal(differ.code, 2, differ.out);
    assert.match(differ.out, /the two passwords differ/);
  });
});

/** A child whose output we watch and whose stdin we write (for `script`). */
function startCliLike(program: string, args: string[]): { write(s: string): void; waitFor(re: RegExp, count: number): Promise<void>; done(): Promise<string> } {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void closed.then(() => clearTimeout(killer));
  return {
    write: (s) => child.stdin.write(s),
    waitFor(re, count) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if ((out.match(re) ?? []).length >= count) {
            waiters.delete(check);
            resolve();
          }
        };
        void closed.then(() => {
          if (waiters.has(check)) reject(new Error(`exited before prompt ${count}:\n${out}`));
        });
        waiters.add(check);
        check();
      });
    },
    async done() {
      child.stdin.end();
      await closed;
      return out;
    },
  };
}

describe('a server with auth, on the emulator', () => {
  let f: EmulatorFixture;
  let passwordHash: string;
  const text = Buffer.from('hello, authenticated world\n');
  before(async () => {
    f = await startFixture({ 'docs/hello.txt': text, 'docs/big.bin': 200_000 });
    passwordHash = await hashPassword(PASSWORD);
  });
  after(async () => {
    await f?.close();
  });

  const withAuth = (auth: TgvfsConfig['auth']): TgvfsConfig => ({ ...f.emu.config, auth });
  const getFileCalls = (): number => f.emu.stats().calls['upload.getFile'] ?? 0;

  async function refusedEverywhere(s: RunningServer, challenge: string, headers: Record<string, string>): Promise<void> {
    const ch = channelId(f, 'docs');
    const calls = getFileCalls();
    for (const [method, p] of [['GET', '/'], ['GET', '/docs/hello.txt'], ['HEAD', '/docs/hello.txt'], ['PROPFIND', '/docs/'], ['OPTIONS', '/'],
      ['GET', `/stream/${ch}/1`], ['GET', `/thumb/${ch}/1`], ['GET', '/metrics'], ['GET', '/no/such/file'], ['PUT', '/docs/x'], ['GET', '/../etc/passwd']] as const) {
      const r = await fetch(`${s.url}${p}`, { method, headers: { ...headers, Range: 'bytes=0-3' } });
      const body = await r.text();
      assert.equal(r.status, 401, `${method} ${p}`);
      assert.equal(r.headers.get('www-authenticate'), challenge, `${method} ${p}`);
      assert.equal(body, method === 'HEAD' ? '' : '401 unauthorized\n', `${method} ${p}: no detail in the body`);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    assert.equal(getFileCalls(), calls, 'no upstream call for a refused request');
    // /healthz: answers without credentials, without channel names.
    const h = await fetch(`${s.url}/healthz`, { headers });
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { ready: true });
  }

  it('basic: 401 + challenge without (valid) credentials; exact bytes and full /healthz with them', async () => {
    const s = await startServer(withAuth({ type: 'basic', user: USER, passwordHash }), { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      await refusedEverywhere(s, BASIC_CHALLENGE, {});
      await refusedEverywhere(s, BASIC_CHALLENGE, { Authorization: basic(USER, 'wrong') });
      await refusedEverywhere(s, BASIC_CHALLENGE, { Authorization: basic('bob', PASSWORD) });
      await refusedEverywhere(s, BASIC_CHALLENGE, { Authorization: `Bearer ${TOKEN}` });

      const auth = { Authorization: basic(USER, PASSWORD) };
      const r = await fetch(`${s.url}/docs/hello.txt`, { headers: { ...auth, Range: 'bytes=7-19' } });
      assert.equal(r.status, 206);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), text.subarray(7, 20));
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      const big = f.files.get('docs/big.bin')!;
      const st = await fetch(`${s.url}/stream/${channelId(f, 'docs')}/1`, { headers: { ...auth, Range: 'bytes=100000-' } });
      assert.equal(st.status, 206);
      assert.deepEqual(Buffer.from(await st.arrayBuffer()), big.subarray(100000));
      const list = await fetch(`${s.url}/docs/`, { method: 'PROPFIND', headers: { ...auth, Depth: '1' } });
      assert.equal(list.status, 207);
      assert.match(await list.text(), /hello\.txt/);
      const m = await fetch(`${s.url}/metrics`, { headers: auth });
      assert.equal(m.status, 200);
      // 401s are counted like any answer.
      assert.match(await m.text(), /status="401"\} (\d+)/);
      const h = (await (await fetch(`${s.url}/healthz`, { headers: auth })).json()) as { ready: boolean; channels: { name: string }[] };
      assert.deepEqual(h.channels.map((c) => c.name), ['docs']);
      // Host is not checked when auth is on (a reverse proxy may use any name).
      const raw = await rawRequest(s.address.port, requestText('GET', '/docs/hello.txt', s.address.port, auth, 'files.example.org'));
      assert.equal(raw.status, 200);
      assert.deepEqual(raw.body, text);
    } finally {
      await s.close();
    }
  });

  it('bearer: 401 + Bearer challenge without the token; exact bytes with it', async () => {
    const s = await startServer(withAuth({ type: 'bearer', tokenHash: hashToken(TOKEN) }), { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      const challenge = 'Bearer realm="tgvfs"';
      await refusedEverywhere(s, challenge, {});
      await refusedEverywhere(s, challenge, { Authorization: `Bearer ${TOKEN}x` });
      await refusedEverywhere(s, challenge, { Authorization: basic(USER, TOKEN) });
      const r = await fetch(`${s.url}/docs/hello.txt`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 200);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), text);
    } finally {
      await s.close();
    }
  });

  it('curl -u and rclone --webdav-user/--webdav-pass get in; wrong passwords do not', { timeout: 90_000 }, async () => {
    const curl = requireProgram('curl');
    const rclone = requireProgram('rclone');
    const s = await startServer(withAuth({ type: 'basic', user: USER, passwordHash }), { listen: { host: '127.0.0.1', port: 0 } });
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-auth-'));
    try {
      await s.indexed();
      const ok = await run(curl, ['-sS', '-u', `${USER}:${PASSWORD}`, '-r', '0-4', `${s.url}/docs/hello.txt`]);
      assert.equal(ok.stdout.toString(), 'hello');
      const no = await run(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${USER}:nope`, `${s.url}/docs/hello.txt`]);
      assert.equal(no.stdout.toString(), '401');

      const conf = path.join(tmp, 'rclone.conf');
      await writeFile(conf, '');
      const obscure = async (pw: string): Promise<string> => (await run(rclone, ['obscure', pw, '--config', conf])).stdout.toString().trim();
      const common = ['--config', conf, '--retries', '1', '--low-level-retries', '1', '--webdav-vendor', 'other', '--webdav-url', `${s.url}/`, '--webdav-user', USER];
      const cat = await run(rclone, ['cat', ':webdav:docs/hello.txt', ...common, '--webdav-pass', await obscure(PASSWORD)], { timeoutMs: 30_000 });
      assert.deepEqual(cat.stdout, text);
      const lsl = await run(rclone, ['lsl', ':webdav:docs', ...common, '--webdav-pass', await obscure(PASSWORD)], { timeoutMs: 30_000 });
      assert.match(lsl.stdout.toString(), /^\s+27 .* hello\.txt$/m);
      const bad = await run(rclone, ['lsl', ':webdav:docs', ...common, '--webdav-pass', await obscure('nope')], { timeoutMs: 30_000, check: false });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /401|Unauthorized/i);

      // Bearer: curl --oauth2-bearer, rclone --webdav-bearer-token.
      const b = await startServer(withAuth({ type: 'bearer', tokenHash: hashToken(TOKEN) }), { listen: { host: '127.0.0.1', port: 0 }, index: false });
      try {
        const c = await run(curl, ['-sS', '--oauth2-bearer', TOKEN, `${b.url}/docs/hello.txt`]);
        assert.deepEqual(c.stdout, text);
        const rb = ['--config', conf, '--retries', '1', '--low-level-retries', '1', '--webdav-vendor', 'other', '--webdav-url', `${b.url}/`];
        const rc = await run(rclone, ['cat', ':webdav:docs/hello.txt', ...rb, '--webdav-bearer-token', TOKEN], { timeoutMs: 30_000 });
        assert.deepEqual(rc.stdout, text);
        const wrong = await run(rclone, ['cat', ':webdav:docs/hello.txt', ...rb, '--webdav-bearer-token', `${TOKEN}x`], { timeoutMs: 30_000, check: false });
        assert.notEqual(wrong.code, 0);
      } finally {
        await b.close();
      }
    } finally {
      await s.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('where a server may listen', () => {
  let f: EmulatorFixture;
  before(async () => {
    f = await startFixture({ 'docs/hello.txt': Buffer.from('hi\n') });
  });
  after(async () => {
    await f?.close();
  });
  const logins = (): number => f.emu.stats().calls['auth.importBotAuthorization'] ?? 0;

  it('non-loopback without auth: AUTH_REQUIRED before any login, saying how to fix it', async () => {
    const before = logins();
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'example.com']) {
      await assert.rejects(startServer(f.emu.config, { listen: { host, port: 0 } }), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'AUTH_REQUIRED');
        assert.match(err.message, /^refusing to listen on .+ without authentication: run "tgvfs hash-password"/);
        assert.match(err.message, /TGVFS_AUTH_PASSWORD_HASH/);
        assert.ok(!err.message.includes('\n'));
        return true;
      }, host);
    }
    assert.equal(logins(), before, 'refused before the pool started');
    // A malformed hash: refused up front too, without showing it.
    const hash = 'scrypt$16384$8$1$short';
    await assert.rejects(startServer({ ...f.emu.config, auth: { type: 'basic', user: USER, passwordHash: hash } }, { listen: { host: '0.0.0.0', port: 0 } }),
      (err: NodeJS.ErrnoException) => err.code === 'AUTH_CONFIG' && !err.message.includes(hash));
    assert.equal(logins(), before);
  });

  it('non-loopback with auth: listens (reached here over 127.0.0.1) and asks for credentials', async () => {
    const s = await startServer({ ...f.emu.config, auth: { type: 'bearer', tokenHash: hashToken(TOKEN) } }, { listen: { host: '0.0.0.0', port: 0 }, index: false });
    try {
      assert.equal(s.address.address, '0.0.0.0');
      const port = s.address.port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 401);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`, { method: 'PROPFIND', headers: { Authorization: `Bearer ${TOKEN}` } })).status, 207);
    } finally {
      await s.close();
    }
  });

  it('the demo (no auth, an admin endpoint on the same host): loopback only, refused before it makes anything', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tgvfs-auth-demo-'));
    try {
      await assert.rejects(startDemo({ dir: path.join(dir, 'demo'), adminHost: '0.0.0.0', listen: { host: '0.0.0.0', port: 0 } }), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'AUTH_REQUIRED');
        assert.match(err.message, /the demo has no authentication, so it listens on loopback only/);
        return true;
      });
      assert.deepEqual(await readdir(dir), [], 'no sample data made, no emulator started');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tgvfs serve --listen 0.0.0.0:0 without auth: exit 2, one line naming the fix', () => {
    const r = runCli(['serve', '--config', path.join(f.dir, 'config.json'), '--listen', '0.0.0.0:0']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^tgvfs serve: refusing to listen on 0\.0\.0\.0:0 without authentication: run "tgvfs hash-password"/);
  });

  it('loopback without auth: requests for another host name get 421 (DNS rebinding), loopback names pass', async () => {
    const s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    try {
      await s.indexed();
      const port = s.address.port;
      const calls = f.emu.stats().calls['upload.getFile'] ?? 0;
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, '192.168.1.10', '0.0.0.0']) {
        for (const target of ['/docs/hello.txt', '/healthz', '/metrics']) {
          const r = await rawRequest(port, requestText('GET', target, port, {}, host));
          assert.equal(r.status, 421, `${host} ${target}`);
          assert.ok(!r.body.includes('hi\n') && !r.body.includes('docs'), `${host} ${target}: ${r.body.toString()}`);
        }
      }
      // An absolute-form target naming another host, with a loopback Host header.
      const abs = await rawRequest(port, requestText('GET', 'http://evil.example/docs/hello.txt', port));
      assert.equal(abs.status, 421);
      assert.equal(f.emu.stats().calls['upload.getFile'] ?? 0, calls);
      for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, '127.9.9.9', `[::1]:${port}`, 'LOCALHOST:1']) {
        const r = await rawRequest(port, requestText('GET', '/docs/hello.txt', port, {}, host));
        assert.equal(r.status, 200, host);
        assert.equal(r.body.toString(), 'hi\n', host);
      }
    } finally {
      await s.close();
    }
  });
});
