// The structured logger: JSON lines off a terminal, readable lines with `pretty`, the level
// honoured, and secrets removed whether they come in the message, a field, an error or an
// interpolation argument.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { configSecrets, createLogger, lineLogger, scrubText, type LoggerOptions } from '../src/app/logger';

const TOKEN_SECRET = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const TOKEN = `1234567:${TOKEN_SECRET}`;
const API_HASH = 'f00dfeedcafe0123456789abcdef0001';
const SESSION = `1${'Zm9v'.repeat(90)}YmE=`;
const PROXY_PASSWORD = 'pr0xy-s3cret-value';

function capture(options: LoggerOptions = {}): { lines: () => string[]; text: () => string; log: ReturnType<typeof createLogger> } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const log = createLogger({ destination, ...options });
  return { log, text: () => out, lines: () => out.split('\n').filter((l) => l !== '') };
}

function assertClean(text: string): void {
  for (const s of [TOKEN_SECRET, API_HASH, SESSION, PROXY_PASSWORD]) assert.ok(!text.includes(s), `secret in output:\n${text}`);
}

describe('logger', () => {
  it('writes one JSON object per line with level, time and msg', () => {
    const c = capture({ base: { cmd: 'serve' } });
    c.log.info('ready');
    c.log.warn({ channel: -1001 }, 'slow');
    const [a, b] = c.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(a!.msg, 'ready');
    assert.equal(a!.level, 30);
    assert.equal(a!.cmd, 'serve');
    assert.equal(typeof a!.time, 'number');
    assert.equal(b!.level, 40);
    assert.equal(b!.channel, -1001);
    assert.equal(c.lines().length, 2);
  });

  it('removes a token, the api hash, a session and a proxy password from messages, fields and errors', () => {
    const secrets = configSecrets({ apiHash: API_HASH, bots: [TOKEN], sessions: [SESSION], proxy: `socks5://u:${PROXY_PASSWORD}@h:1` });
    const c = capture({ secrets });
    c.log.info(`logging in with ${TOKEN} and ${API_HASH}`);
    c.log.info({ token: TOKEN, apiHash: API_HASH, nested: { deeper: { session: SESSION, note: `hash ${API_HASH}` } }, list: [TOKEN] }, 'fields');
    c.log.info({ config: { bots: [TOKEN], apiHash: API_HASH, proxy: `socks5://u:${PROXY_PASSWORD}@h:1` } }, 'config');
    c.log.error(new Error(`refused ${TOKEN} (${API_HASH})`));
    c.log.error({ err: new Error(`session ${SESSION}`) }, 'failed');
    c.log.info('interpolated %s / %s', TOKEN, PROXY_PASSWORD);
    lineLogger(c.log)(`catalog: cannot read with password ${PROXY_PASSWORD}`);
    const text = c.text();
    assertClean(text);
    const lines = c.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 7);
    assert.equal(lines[0]!.msg, 'logging in with 1234567:*** and ***');
    assert.equal(lines[1]!.token, '***');
    assert.equal(lines[1]!.apiHash, '***');
    assert.deepEqual(lines[1]!.nested, { deeper: { session: '***', note: 'hash ***' } });
    assert.deepEqual(lines[2]!.config, { bots: '***', apiHash: '***', proxy: '***' });
    assert.equal(lines[3]!.msg, 'refused 1234567:*** (***)');
    assert.equal(lines[3]!.level, 50);
    assert.equal(lines[5]!.msg, 'interpolated 1234567:*** / ***');
    assert.equal(lines[6]!.component, 'catalog');
    assert.equal(lines[6]!.level, 40, 'a line reporting trouble is a warning');
  });

  it('scrubs token- and session-shaped strings nobody registered', () => {
    assert.equal(scrubText('bot 987654321:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ ok'), 'bot 987654321:*** ok');
    assert.equal(scrubText(`s=${'A'.repeat(300)}==;`), 's=***;');
    assert.equal(scrubText('bot 123: ready on DC 2'), 'bot 123: ready on DC 2');
  });

  it('honours the level, and lineLogger turns "component: " into a field', () => {
    const c = capture({ level: 'warn' });
    const line = lineLogger(c.log);
    line('fuse: mounted /mnt');
    line('fuse: read failed: EIO');
    c.log.debug('hidden');
    const lines = c.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.component, 'fuse');
    assert.equal(lines[0]!.msg, 'read failed: EIO');
  });

  it('pretty: readable lines, still scrubbed', () => {
    const c = capture({ pretty: true, secrets: [API_HASH] });
    c.log.info({ component: 'catalog' }, `indexed with ${API_HASH}`);
    const text = c.text();
    assert.match(text, /INFO.*indexed with \*\*\*/);
    assert.throws(() => JSON.parse(c.lines()[0]!));
    assertClean(text);
  });

  it('on a process that exits right after logging, every line reaches stderr (synchronous writes)', () => {
    const mod = path.resolve(__dirname, '../src/app/logger.js');
    const script = `const { createLogger } = require(${JSON.stringify(mod)});
      const log = createLogger();
      for (let i = 0; i < 2000; i++) log.info({ i }, 'line');
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 3);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2000);
    assert.equal((JSON.parse(lines[1999]!) as { i: number }).i, 1999);
  });
});
