// Channels named like the HTTP endpoints: /stream/<channel id>/<msg id> and /thumb/… answer
// only for two numeric ids, so channels called "stream" and "thumb" stay reachable in the tree.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/app/server';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';

describe('channels named "stream" and "thumb"', () => {
  let f: EmulatorFixture;
  let s: RunningServer;

  before(async () => {
    f = await startFixture({ 'stream/a.txt': Buffer.from('in stream'), 'thumb/b.txt': Buffer.from('in thumb') });
    s = await startServer(f.emu.config, { listen: { host: '127.0.0.1', port: 0 } });
    await s.indexed();
  });
  after(async () => {
    await s?.close();
    await f?.close();
  });

  it('are listed and read through the WebDAV tree', async () => {
    assert.equal(await (await fetch(`${s.url}/stream/a.txt`)).text(), 'in stream');
    assert.equal(await (await fetch(`${s.url}/thumb/b.txt`)).text(), 'in thumb');
    const list = await fetch(`${s.url}/stream/`, { method: 'PROPFIND', headers: { Depth: '1' } });
    assert.equal(list.status, 207);
    assert.match(await list.text(), /a\.txt/);
    assert.equal((await fetch(`${s.url}/stream/nothing.txt`)).status, 404);
  });

  it('do not hide the endpoints: /stream/<id>/<msg> still streams, and refuses writes', async () => {
    const r = await fetch(`${s.url}/stream/${channelId(f, 'thumb')}/1`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'in thumb');
    assert.equal((await fetch(`${s.url}/stream/${channelId(f, 'stream')}/1`, { method: 'PUT', body: 'x' })).status, 405);
    assert.equal((await fetch(`${s.url}/thumb/${channelId(f, 'stream')}/1`)).status, 404); // no thumbnail
  });
});
