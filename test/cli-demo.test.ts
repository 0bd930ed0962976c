// `tgvfs demo` end to end with a temporary XDG_CACHE_HOME: sample channels made once and
// reused, the emulator serving them (a Worker reads a document, a video and its thumbnail),
// the config in <demo dir>/config.json, a clean exit 0 on SIGTERM and SIGINT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TgvfsConfig } from '../src/config/schema';
import { findExecutable } from '../src/app/find-executable';
import { Worker } from '../src/telegram';
import { runCli, startCli, type CliProcess } from '../support/cli-process';

const READY = /^demo ready: config (.+), admin (\S+)\/stats$/;
const MiB = 1024 * 1024;

describe('tgvfs demo', () => {
  let cache = '';
  let env: NodeJS.ProcessEnv;
  let demoDir = '';
  let demo: CliProcess | undefined;
  const started: CliProcess[] = [];
  let worker: Worker | undefined;
  let firstIds: TgvfsConfig['channels'] = [];

  const start = async (): Promise<{ cfg: TgvfsConfig; ready: RegExpExecArray }> => {
    demo = startCli(['demo', '--listen', '127.0.0.1:0'], { env });
    started.push(demo); // all killed in after(), even when a test failed half-way
    // The first run makes the sample videos with ffmpeg (a few seconds) and ~55 MB of documents.
    const ready = await demo.waitForLine(READY, 120_000);
    const cfg = JSON.parse(await fs.readFile(ready[1]!, 'utf8')) as TgvfsConfig;
    return { cfg, ready };
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    demo!.child.kill(signal);
    const { code } = await demo!.exit(5000);
    assert.equal(code, 0, demo!.stderr());
  };

  before(async () => {
    cache = await fs.mkdtemp(path.join(os.tmpdir(), 'tgvfs-cli-demo-'));
    env = { ...process.env, XDG_CACHE_HOME: cache };
    demoDir = path.join(cache, 'tgvfs', 'demo');
  });

  after(async () => {
    await worker?.stop().catch(() => undefined);
    for (const p of started) await p.kill();
    await fs.rm(cache, { recursive: true, force: true });
  });

  test('first run: makes the channels, serves them over MTProto and WebDAV; SIGTERM exits 0', async () => {
    const { cfg, ready } = await start();
    assert.equal(ready[1], path.join(demoDir, 'config.json'));
    assert.deepEqual(cfg.channels.map((c) => c.name).sort(), ['documents', 'videos']);
    for (const c of cfg.channels) assert.match(String(c.id), /^-100[0-9]+$/);
    assert.equal(cfg.bots.length, 3);
    assert.equal(ready[2], cfg.emulator!.adminUrl);
    assert.match(cfg.emulator!.adminUrl, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    const dav = /WebDAV: (http:\/\/127\.0\.0\.1:[0-9]+)\//.exec(demo!.stdout());
    assert.ok(dav, demo!.stdout());
    const docsDir = path.join(demoDir, 'channels', 'documents');
    const viaDav = await fetch(`${dav[1]}/documents/hello.txt`);
    assert.equal(viaDav.status, 200);
    assert.ok(Buffer.from(await viaDav.arrayBuffer()).equals(await fs.readFile(path.join(docsDir, 'hello.txt'))));

    const res = await fetch(`${cfg.emulator!.adminUrl}/stats`);
    assert.equal(res.status, 200);
    const stats = (await res.json()) as { calls?: unknown; bytesServed?: unknown };
    assert.equal(typeof stats.calls, 'object');
    assert.equal(typeof stats.bytesServed, 'number');

    worker = await Worker.start({
      token: cfg.bots[0]!,
      apiId: cfg.apiId,
      apiHash: cfg.apiHash,
      sessionDir: cfg.sessionDir,
      telegram: cfg.telegram,
      requestTimeoutMs: 20_000,
    });
    const id = (name: string): number => cfg.channels.find((c) => c.name === name)!.id;
    const docs = path.join(demoDir, 'channels', 'documents');
    // Message ids in name order: hello.txt 1, large-50MiB.bin 2, …
    const hello = await worker.getDocumentLocation(id('documents'), 1);
    assert.equal(hello.fileName, 'hello.txt');
    const text = await worker.getFilePart(hello.location, 0, MiB, { dcId: hello.dcId });
    assert.ok(text.equals(await fs.readFile(path.join(docs, 'hello.txt'))));
    const large = await worker.getDocumentLocation(id('documents'), 2);
    assert.equal(large.fileName, 'large-50MiB.bin');
    const lastPart = Math.floor((large.size - 1) / MiB) * MiB;
    const tail = await worker.getFilePart(large.location, lastPart, MiB, { dcId: large.dcId });
    assert.ok(tail.equals((await fs.readFile(path.join(docs, 'large-50MiB.bin'))).subarray(lastPart)));

    if (findExecutable('ffmpeg')) {
      assert.match(demo!.stdout(), /videos made with ffmpeg/);
      const video = await worker.getDocumentLocation(id('videos'), 1);
      assert.equal(video.mimeType, 'video/mp4');
      const thumb = await worker.getThumbnailLocation(id('videos'), 1);
      assert.equal(thumb.width, 320);
    }
    await worker.stop();
    firstIds = cfg.channels;
    await stop('SIGTERM');
  });

  test('second run: reuses the folder (no ffmpeg, same channel ids); SIGINT exits 0', async () => {
    const t0 = Date.now();
    const { cfg } = await start();
    assert.ok(Date.now() - t0 < 30_000);
    assert.doesNotMatch(demo!.stderr(), /making .* with ffmpeg/);
    assert.deepEqual(cfg.channels, firstIds);
    await stop('SIGINT');
  });

  test('an empty --mount and a bad --listen are usage errors: exit 2, one line', () => {
    for (const [args, re] of [
      [['demo', '--mount', ''], /^tgvfs demo: --mount must not be empty/],
      [['demo', '--listen', 'nowhere'], /^tgvfs demo: --listen must be HOST:PORT/],
    ] as const) {
      const r = runCli([...args], { env });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  });
});
