// Path safety of the HTTP front-end, against a running server on the emulator, with requests
// written byte for byte on a TCP socket (an HTTP client would normalise `..`, `%2e`, `\`, the
// absolute form): dot segments plain and %-encoded, encoded `/` and `\`, NUL (encoded and raw),
// double encoding, overlong UTF-8, absolute-form targets, backslashes, the /stream and /thumb
// routes, and methods with a Destination header outside the tree. Every answer must be a
// refusal (400/403/404…), never 500 or a hang, never carry bytes from outside the tree (a canary
// file beside the data folder, /etc/passwd, the config's secrets), and cost no upstream call.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { rawRequest, requestText, type RawResponse } from './helpers/raw-http';

const CANARY = 'CANARY-4f1e9a-outside-the-tree';

describe('path safety: nothing outside the tree is reachable', () => {
  let f: EmulatorFixture;
  let s: RunningServer;
  const logs: string[] = [];
  let secrets: string[];

  before(async () => {
    f = await startFixture({ 'docs/hello.txt': Buffer.from('hello inside\n'), 'docs/sub.bin': 5000 });
    // Files beside the data folder, which a traversal from a channel folder would reach.
    await writeFile(path.join(f.dir, 'canary-outside.txt'), CANARY);
    await writeFile(path.join(f.dataDir, 'canary-outside.txt'), CANARY);
    s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 }, log: (l) => logs.push(l) });
    await s.indexed();
    const cfg = f.emu.config;
    secrets = [cfg.apiHash, ...cfg.bots, ...cfg.bots.map((t) => t.slice(t.indexOf(':') + 1))];
  });
  after(async () => {
    await s?.close();
    await f?.close();
  });

  function assertNothingLeaked(r: RawResponse, what: string): void {
    const text = r.raw.toString('latin1');
    assert.ok(!text.includes(CANARY), `${what}: the canary outside the tree was served`);
    assert.ok(!/root:x?:0:0:/.test(text), `${what}: /etc/passwd was served`);
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what}: a config secret is in the answer`);
  }

  async function expectRefused(method: string, target: string | Buffer, allowed: number[], extra: Record<string, string> = {}): Promise<RawResponse> {
    const port = s.address.port;
    const request = typeof target === 'string'
      ? requestText(method, target, port, extra)
      : Buffer.concat([Buffer.from(`${method} `), target, Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)]);
    const what = `${method} ${JSON.stringify(target.toString('latin1'))}`;
    const r = await rawRequest(port, request);
    assert.ok(allowed.includes(r.status), `${what}: status ${r.status}, expected one of ${allowed.join('/')}; body ${JSON.stringify(r.body.toString().slice(0, 200))}`);
    assertNothingLeaked(r, what);
    return r;
  }

  it('traversal in every spelling, on every route: refused, no upstream call, no 500', async () => {
    const ch = channelId(f, 'docs');
    const port = s.address.port;
    const calls = (): number => f.emu.stats().calls['upload.getFile'] ?? 0;
    const before = calls();
    const targets: [string, number[]][] = [
      // plain dot segments
      ['/..', [400]], ['/../', [400]], ['/../../../../../../etc/passwd', [400]], ['/docs/../../canary-outside.txt', [400]],
      ['/docs/..', [400]], ['/docs/../canary-outside.txt', [400]], ['/./docs/hello.txt', [400]], ['/docs/.', [400]],
      // %-encoded dots, slashes, backslashes, NUL
      ['/%2e%2e/%2e%2e/etc/passwd', [400]], ['/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', [400]], ['/docs/%2e%2e/canary-outside.txt', [400]],
      ['/docs/.%2e/.%2e/canary-outside.txt', [400]], ['/docs%2F..%2F..%2Fcanary-outside.txt', [400]], ['/docs%2fhello.txt', [400]],
      ['/docs%5C..%5C..%5Ccanary-outside.txt', [400]], ['/docs%5chello.txt', [400]], ['/docs/hello.txt%00', [400]],
      ['/docs/hello.txt%00.jpg', [400]], ['/%00', [400]], ['/docs/%00/../hello.txt', [400]],
      // double encoding: decoded once, these are literal names that do not exist
      ['/%252e%252e/%252e%252e/etc/passwd', [404]], ['/docs/%252e%252e%252fcanary-outside.txt', [404]], ['/docs%252fhello.txt', [404]],
      ['/%25%32%65%25%32%65/etc/passwd', [404]],
      // malformed and overlong UTF-8 (%c0%ae is an overlong "."; %c0%af an overlong "/")
      ['/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', [400]], ['/docs/%c0%af..%c0%af..%c0%afetc/passwd', [400]], ['/%e0%80%ae%e0%80%ae/', [400]],
      ['/%c1%9c..%c1%9c', [400]], ['/docs/%', [400]], ['/docs/%zz', [400]], ['/docs/%e2%80', [400]],
      // absolute-form targets (a proxy's form)
      [`http://127.0.0.1:${port}/../../etc/passwd`, [400]], [`http://127.0.0.1:${port}/%2e%2e/%2e%2e/etc/passwd`, [400]],
      [`http://127.0.0.1:${port}/docs/../../canary-outside.txt`, [400]], ['file:///etc/passwd', [400, 404, 421]],
      // double slashes are empty segments: still inside the tree, so merely not found
      ['//etc/passwd', [404]], ['///../etc/passwd', [400]],
      // the message routes
      ['/stream/../..', [400, 404]], ['/stream/../../etc/passwd', [400, 404]], ['/stream/%2e%2e/%2e%2e/etc/passwd', [400, 404]],
      [`/stream/${ch}/1/..`, [400, 404]], [`/stream/${ch}/../1`, [400, 404]], [`/stream/${ch}/1/../../../etc/passwd`, [400, 404]],
      [`/stream/${ch}/1%2f..%2f..`, [400, 404]], ['/stream/-1/1', [404]], ['/stream/1e3/1', [404]], [`/stream/${ch}/99999`, [404]],
      ['/thumb/x/y', [404]], ['/thumb/../../etc/passwd', [400, 404]], [`/thumb/${ch}/1/..`, [400, 404]], [`/thumb/${ch}/%2e%2e`, [400, 404]],
      ['/healthz/../../etc/passwd', [400]], ['/metrics/..', [400]],
      // Finder probes and unknown names
      ['/docs/._hello.txt', [404]], ['/.DS_Store', [404]], ['/etc/passwd', [404]],
    ];
    for (const [target, allowed] of targets) {
      await expectRefused('GET', target, allowed);
      await expectRefused('HEAD', target, allowed);
    }
    for (const [target, allowed] of targets.slice(0, 20)) await expectRefused('PROPFIND', target, allowed, { Depth: '1' });
    assert.equal(calls(), before, 'no upstream call for any of them');
  });

  it('raw bytes the parser must reject: backslashes, NUL, spaces, control characters, huge targets', async () => {
    const raw: [Buffer, number[]][] = [
      [Buffer.from('/docs\\..\\..\\canary-outside.txt'), [400]],
      [Buffer.from('\\..\\..\\etc\\passwd'), [400]],
      [Buffer.from('/docs/..\\..\\canary-outside.txt'), [400]],
      [Buffer.from('/docs/hello.txt\0.jpg'), [400]],
      [Buffer.from('/docs/\x01\x02'), [400]],
      [Buffer.from([0x2f, 0xc0, 0xae, 0xc0, 0xae, 0x2f, 0x65, 0x74, 0x63]), [400, 404]], // raw overlong bytes
      [Buffer.from(`/${'a/'.repeat(10_000)}`), [400, 404, 414, 431]],
      [Buffer.from(`/docs/${'%2e%2e/'.repeat(2000)}etc/passwd`), [400, 414, 431]],
    ];
    for (const [target, allowed] of raw) await expectRefused('GET', target, allowed);
  });

  it('Destination outside the tree: copies and moves refused, PROPFIND answers for the tree only', async () => {
    const port = s.address.port;
    const outside = [`http://127.0.0.1:${port}/../../tmp/x`, `http://127.0.0.1:${port}/%2e%2e/%2e%2e/etc/passwd`, 'file:///etc/passwd',
      `http://evil.example/../../etc/passwd`, '/../../../tmp/x', '/docs/../../canary-outside.txt'];
    for (const destination of outside) {
      for (const method of ['COPY', 'MOVE']) {
        await expectRefused(method, '/docs/hello.txt', [403], { Destination: destination, Overwrite: 'T' });
        await expectRefused(method, '/docs/../canary-outside.txt', [400], { Destination: destination });
      }
      await expectRefused('PROPFIND', '/../', [400], { Depth: '1', Destination: destination });
      await expectRefused('LOCK', '/docs/../..', [400], { Destination: destination });
      // A PROPFIND of the tree ignores Destination: it lists the tree, nothing else.
      const r = await rawRequest(port, requestText('PROPFIND', '/', port, { Depth: '1', Destination: destination }));
      assert.equal(r.status, 207);
      assertNothingLeaked(r, `PROPFIND / with Destination ${destination}`);
      const hrefs = [...r.body.toString().matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => new URL(m[1]!, `http://127.0.0.1:${port}`).pathname);
      assert.deepEqual(hrefs.sort(), ['/', '/.metadata_never_index', '/docs/']);
    }
    for (const method of ['PUT', 'DELETE', 'MKCOL', 'PROPPATCH']) {
      await expectRefused(method, '/../../tmp/tgvfs-should-not-exist', [400]);
      await expectRefused(method, '/docs/hello.txt', [403]);
    }
  });

  it('the server is still healthy and logged no crash', async () => {
    const r = await fetch(`${s.url}/docs/hello.txt`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'hello inside\n');
    const crashes = logs.filter((l) => /\n\s+at /.test(l) || /TypeError|RangeError|ReferenceError/.test(l));
    assert.deepEqual(crashes, []);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    assert.doesNotMatch(m, /status="5\d\d"/, 'no 5xx answered');
  });
});
