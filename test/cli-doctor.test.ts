// `tgvfs doctor` through bin/tgvfs against the emulator: exit codes, the rows a person reads,
// no secret in the output; and the table renderer.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CheckRow } from '../src/app/doctor';
import { renderTable } from '../src/cli/doctor-command';
import { startCli } from '../support/cli-process';
import { startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { fuseMissing } from '../support/fuse-mount';

async function doctor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(['doctor', ...args]);
  try {
    const { code } = await p.exit(60_000);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    await p.kill();
  }
}

function parseRows(stdout: string): CheckRow[] {
  const rows: unknown = JSON.parse(stdout);
  assert.ok(Array.isArray(rows));
  return rows as CheckRow[];
}

describe('renderTable', () => {
  const rows: CheckRow[] = [
    { check: 'fuse', target: '/dev/fuse', status: 'OK', detail: 'present and openable' },
    { check: 'channel', target: 'films via bot 7', status: 'FAIL', detail: 'add bot @b as an admin of channel films' },
    { check: 'clock', target: 'Telegram DC 2', status: 'WARN', detail: '' },
  ];

  it('aligns every column on the widest cell, detail last, then counts each status', () => {
    assert.equal(
      renderTable(rows),
      [
        'CHECK    TARGET           STATUS  DETAIL',
        'fuse     /dev/fuse        OK      present and openable',
        'channel  films via bot 7  FAIL    add bot @b as an admin of channel films',
        'clock    Telegram DC 2    WARN',
        '',
        '1 OK, 1 WARN, 1 FAIL',
        '',
      ].join('\n'),
    );
  });

  it('colors statuses on request without breaking the alignment', () => {
    const plain = renderTable(rows).split('\n');
    const colored = renderTable(rows, { color: true }).split('\n');
    const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
    assert.deepEqual(colored.map(strip), plain);
    assert.ok(colored[2]!.includes('\x1b[31mFAIL\x1b[0m  '));
    assert.equal(colored[0], plain[0]);
  });

  it('renders an empty list as the header and zero counts', () => {
    assert.equal(renderTable([]), 'CHECK  TARGET  STATUS  DETAIL\n\n0 OK, 0 WARN, 0 FAIL\n');
  });
});

describe('tgvfs doctor', () => {
  let f: EmulatorFixture;
  let configFile: string;
  let fuseFlags: string[];
  let secrets: string[];

  before(async () => {
    f = await startFixture({ 'films/a.mp4': 3000, 'docs/b.txt': 10 }, { watch: false });
    configFile = path.join(f.dir, 'config.json');
    // Without FUSE on this host the FUSE rows would FAIL: check everything else.
    fuseFlags = (await fuseMissing()) === null ? [] : ['--no-fuse'];
    secrets = [f.emu.config.apiHash, ...f.emu.config.bots.map((t) => t.split(':')[1]!)];
  });

  after(async () => {
    await f?.close();
  });

  const noSecrets = (text: string): void => {
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret was printed');
  };

  it('exits 0 with every row OK when all is well, as a table and as JSON', async () => {
    const table = await doctor(['--config', configFile, ...fuseFlags]);
    assert.equal(table.code, 0, table.stdout + table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^CHECK +TARGET +STATUS +DETAIL$/);
    const statusAt = lines[0]!.indexOf('STATUS');
    const body = lines.slice(1, lines.indexOf(''));
    // config (+3 FUSE) + store + 3 bots + 2 channels × 3 bots + clock
    assert.equal(body.length, 1 + (fuseFlags.length ? 0 : 3) + 1 + 3 + 6 + 1);
    for (const l of body) assert.equal(l.slice(statusAt, statusAt + 4), 'OK  ', l);
    assert.match(table.stdout, new RegExp(`\\n${body.length} OK, 0 WARN, 0 FAIL\\n$`));
    noSecrets(table.stdout + table.stderr);

    const json = await doctor(['--config', configFile, '--json', ...fuseFlags]);
    assert.equal(json.code, 0, json.stderr);
    const rows = parseRows(json.stdout);
    assert.deepEqual(rows.filter((r) => r.status !== 'OK'), []);
    assert.deepEqual([...new Set(rows.map((r) => r.check))], ['config', ...(fuseFlags.length ? [] : ['fuse']), 'cache', 'bot', 'channel', 'clock']);
    assert.deepEqual(rows.filter((r) => r.check === 'bot').map((r) => r.target), f.emu.config.bots.map((t) => `bot ${t.split(':')[0]}`));
  });

  it('exits 1 for an unknown token and a bot taken out of a channel, each row saying what to do', async () => {
    const cfg = f.emu.config;
    const unknown = `7999999999:${'Q'.repeat(35)}`;
    const file = path.join(f.dir, 'bad-token.json');
    await writeFile(file, JSON.stringify({ ...cfg, bots: [...cfg.bots.slice(0, 2), unknown] }), { mode: 0o600 });
    const removed = Number(cfg.bots[1]!.split(':')[0]);
    const films = cfg.channels.find((c) => c.name === 'films')!;
    const setMember = async (member: boolean): Promise<void> => {
      const res = await fetch(`${f.emu.adminUrl}/membership`, { method: 'POST', body: JSON.stringify({ bot: removed, channel: films.id, member }) });
      assert.equal(res.status, 200);
    };
    await setMember(false);
    try {
      const r = await doctor(['--config', file, '--json', '--no-fuse']);
      assert.equal(r.code, 1, r.stderr);
      noSecrets(r.stdout + r.stderr);
      assert.ok(!r.stdout.includes('Q'.repeat(20)), 'the unknown token was printed');
      const rows = parseRows(r.stdout);
      const fails = rows.filter((x) => x.status === 'FAIL');
      assert.deepEqual(fails, [
        { check: 'bot', target: 'bot 7999999999', status: 'FAIL', detail: 'token refused by Telegram (ACCESS_TOKEN_INVALID): check it with @BotFather' },
        {
          check: 'channel', target: `films via bot ${removed}`, status: 'FAIL',
          detail: `add bot @tgvfs_emu_${removed}_bot as an admin of channel films (Telegram says CHANNEL_PRIVATE)`,
        },
      ]);
      // The unknown bot's channels are not checked (WARN); everything else is fine.
      assert.deepEqual(rows.filter((x) => x.status === 'WARN').map((x) => x.target).sort(), ['docs via bot 7999999999', 'films via bot 7999999999']);
      assert.equal(rows.find((x) => x.check === 'clock')!.status, 'OK');

      const table = await doctor(['--config', file, '--no-fuse']);
      assert.equal(table.code, 1);
      assert.match(table.stdout, /\n\d+ OK, 2 WARN, 2 FAIL\n$/);
    } finally {
      await setMember(true);
    }
  });

  it('fails the store row for a cache that cannot be created, and the config rows for an invalid file', async () => {
    const cfg = f.emu.config;
    const file = path.join(f.dir, 'bad-cache.json');
    // The config file itself stands where the cache's folder should be.
    await writeFile(file, JSON.stringify({ ...cfg, cache: `sqlite://${file}/cache.sqlite` }), { mode: 0o600 });
    const r = await doctor(['--config', file, '--json', '--no-fuse']);
    assert.equal(r.code, 1, r.stderr);
    const rows = parseRows(r.stdout);
    assert.deepEqual(rows.filter((x) => x.status !== 'OK').map((x) => [x.check, x.target, x.status]), [['cache', `sqlite://${file}/cache.sqlite`, 'FAIL']]);
    assert.match(rows.find((x) => x.check === 'cache')!.detail, /bad-cache\.json\/cache\.sqlite/);

    const invalid = path.join(f.dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ ...cfg, apiId: -1, channels: [] }), { mode: 0o600 });
    const v = await doctor(['--config', invalid, '--json', '--no-fuse']);
    assert.equal(v.code, 1, v.stderr);
    const vrows = parseRows(v.stdout);
    assert.ok(vrows.length >= 2);
    for (const x of vrows) assert.deepEqual([x.check, x.target, x.status], ['config', invalid, 'FAIL']);
    assert.ok(vrows.some((x) => x.detail.startsWith('apiId')));
    assert.ok(vrows.some((x) => x.detail.startsWith('channels')));
    noSecrets(v.stdout + v.stderr);
  });

  it('exits 2 for a bad flag value', async () => {
    const r = await doctor(['--config', configFile, '--timeout', 'soon']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'tgvfs doctor: --timeout must be a positive integer, got "soon"\n');
  });
});
