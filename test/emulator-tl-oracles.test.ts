// The emulator's bytes, checked by code written elsewhere: everything it sends to a client at
// layer 198 is read and written back identically by GramJS 2.26.22, at layer 144 by Telethon
// 1.25.1 (Debian's python3-telethon), at layer 227 by mtcute 0.30.3. The messages come from a
// real emulator, through the raw client, after a session that touches every method it answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BinaryReader } from 'telegram/extensions';
import { encode, tl, type TlObject } from '../src/emulator/tl';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { rawLogin, type RawSession } from './helpers/raw-mtproto';
import { parseSchema } from '../src/emulator/tl/schema-parser';
import * as layer198 from '../src/emulator/tl/schemas/layer-198';
import { allNames, NoConstructor, Prng, randomObject } from './helpers/tl-random';

/** Every message body the emulator sends in a session at `layer` (rpc_result's result unwrapped; vectors left out). */
async function sentBodies(f: EmulatorFixture, layer: number): Promise<Buffer[]> {
  const cfg = f.emu.config;
  const dc = cfg.telegram!.dcs.find((d) => d.id === 2)!;
  const s: RawSession = await rawLogin(dc, cfg.telegram!.rsaPublicKeys[0]!);
  try {
    const channel = { _: 'inputChannel', channel_id: BigInt(-channelId(f, 'one') - 1e12), access_hash: 0n };
    const init = (query: TlObject): TlObject => ({
      _: 'initConnection', api_id: cfg.apiId, device_model: 'o', system_version: '1', app_version: '1', system_lang_code: 'en', lang_pack: '', lang_code: 'en', query,
    });
    await s.call(init({ _: 'help.getConfig' }), { layer });
    await s.call({ _: 'auth.importBotAuthorization', flags: 0, api_id: cfg.apiId, api_hash: cfg.apiHash, bot_auth_token: cfg.bots[0]! });
    const full = (await s.call({ _: 'channels.getFullChannel', channel })) as TlObject;
    const pts = Number((full.full_chat as TlObject).pts);
    await s.call({ _: 'channels.getChannels', id: [channel] });
    await s.call({ _: 'channels.getMessages', channel, id: [1, 2, 3, 99].map((id) => ({ _: 'inputMessageID', id })) });
    await s.call({ _: 'updates.getState' });
    await s.call({ _: 'updates.getDifference', pts: 0, date: 0, qts: 0 });
    await s.call({ _: 'updates.getDifference', pts: 1, date: 0, qts: 0 });
    await s.call({ _: 'updates.getChannelDifference', channel, filter: { _: 'channelMessagesFilterEmpty' }, pts: 1, limit: 10 });
    await s.call({ _: 'auth.exportAuthorization', dc_id: 1 });
    await writeFile(path.join(f.dataDir, 'one', `new-${layer}.bin`), Buffer.alloc(100, 1));
    await f.emu.rescan();
    await s.call({ _: 'updates.getChannelDifference', channel, filter: { _: 'channelMessagesFilterEmpty' }, pts, limit: 10 });
    await s.call({ _: 'updates.getChannelDifference', channel, filter: { _: 'channelMessagesFilterEmpty' }, pts: pts + 1, limit: 10 });
    const doc = ((((await s.call({ _: 'channels.getMessages', channel, id: [{ _: 'inputMessageID', id: 1 }] })) as TlObject).messages as TlObject[])[0]!.media as TlObject).document as TlObject;
    const loc = { _: 'inputDocumentFileLocation', id: doc.id, access_hash: doc.access_hash, file_reference: doc.file_reference, thumb_size: '' };
    await s.call({ _: 'upload.getFile', location: loc, offset: 0n, limit: 4096 });
    await s.call({ _: 'upload.getFile', location: { ...loc, thumb_size: 'm' }, offset: 0n, limit: 4096 });
    await s.call({ _: 'upload.getFile', location: loc, offset: 1n, limit: 4096 });
    s.send({ _: 'ping', ping_id: 3n });
    s.send({ _: 'get_future_salts', num: 2 });
    const req = s.send({ _: 'msgs_state_req', msg_ids: [1n] });
    await s.next((m) => m.obj._ === 'msgs_state_info' && m.obj.req_msg_id === req);
  } finally {
    s.sock.close();
  }
  return s.received
    .map((m) => (m.obj._ === 'rpc_result' ? m.raw.subarray(12) : m.raw))
    .filter((b) => b.readUInt32LE(0) !== 0x1cb5c415);
}

function names(bodies: Buffer[]): Set<string> {
  return new Set(bodies.map((b) => tl().byId(b.readUInt32LE(0))?.name ?? 'unknown'));
}

/** Types GramJS reads as values or does not model as classes. */
const GRAMJS_BUILTINS = new Set(['Bool', 'True', 'Error', 'Null']);

describe('TL oracles: what the emulator sends, as other clients read it', () => {
  let f: EmulatorFixture;
  const tinyJpeg = Buffer.from('ffd8ffc0001108000a0010030111000211000311000ffd9', 'hex');

  before(async () => {
    f = await startFixture({ 'one/a.bin': 5000, 'one/v.mp4': 9000, 'one/v.jpg': tinyJpeg, 'one/b.bin': 10 }, { watch: false });
  });
  after(() => f.close());

  it('layer 198: GramJS 2.26.22 reads every message and writes the same bytes back', async () => {
    const bodies = await sentBodies(f, 198);
    const seen = names(bodies);
    for (const n of ['config', 'auth.authorization', 'messages.chatFull', 'messages.chats', 'messages.channelMessages', 'updates.channelDifferenceTooLong',
      'updates.channelDifference', 'updates', 'upload.file', 'rpc_error', 'pong', 'future_salts', 'msgs_state_info', 'msgs_ack', 'new_session_created',
      'updates.differenceEmpty', 'updates.difference', 'updates.state', 'auth.exportedAuthorization']) assert.ok(seen.has(n), `the session produced ${n}`);
    for (const b of bodies) {
      // GramJS reads future_salts in its sender by hand; its generic reader has no bare vectors.
      if (tl().byId(b.readUInt32LE(0))?.name === 'future_salts') continue;
      const obj = new BinaryReader(b).tgReadObject() as { getBytes?: () => Buffer; className?: string };
      if (!obj.getBytes) continue; // GramJS's core types (rpc_result, pong, …) read but do not write.
      assert.ok(obj.getBytes().equals(b), `GramJS re-serialises ${obj.className} as we wrote it`);
    }
  });

  it('layer 198: random objects of every constructor, byte for byte as GramJS writes them', () => {
    const rng = new Prng(198, false);
    // Constructors layer 198 itself has (not those it dropped since 144).
    const in198 = new Set(parseSchema(layer198.SCHEMA, 198).combinators.map((c) => c.id));
    let n = 0;
    for (const name of allNames()) {
      if (!tl().definitions(name).some((d) => d.layer <= 198)) continue;
      const c = tl().pick(name, 198);
      // GramJS reads Bool and True as values, not objects.
      if (c.kind !== 'constructor' || !in198.has(c.id) || GRAMJS_BUILTINS.has(c.type)) continue;
      let bytes: Buffer;
      try {
        bytes = encode(randomObject(c, 198, rng, 0), 198);
      } catch (err) {
        if (err instanceof NoConstructor) continue;
        throw err;
      }
      const back = (new BinaryReader(bytes).tgReadObject() as { getBytes(): Buffer }).getBytes();
      assert.ok(back.equals(bytes), `${name}`);
      n++;
    }
    assert.ok(n > 1200, `${n} constructors`);
  });

  it('layer 144: every constructor id is Telethon 1.25.1\'s, and Telethon writes each message back the same', async () => {
    const bodies = await sentBodies(f, 144);
    const py = [
      'import sys, json',
      'from telethon.extensions import BinaryReader',
      'out = []',
      'for line in sys.stdin.read().split():',
      '    data = bytes.fromhex(line)',
      '    obj = BinaryReader(data).tgread_object()',
      '    try: again = bytes(obj)',
      '    except Exception as e: again = None',
      '    out.append([type(obj).__name__, getattr(obj, "CONSTRUCTOR_ID", None), again == data if again is not None else None])',
      'print(json.dumps(out))',
    ].join('\n');
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: bodies.map((b) => b.toString('hex')).join('\n'), encoding: 'utf8' })) as [string, number | null, boolean | null][];
    assert.equal(out.length, bodies.length);
    for (let i = 0; i < out.length; i++) {
      const [cls, id, same] = out[i]!;
      const ours = bodies[i]!.readUInt32LE(0);
      if (id !== null) assert.equal(id, ours, `${cls}: Telethon's CONSTRUCTOR_ID`);
      // Telethon's core types (rpc_result, msg_container, gzip) read but are not re-serialised here.
      if (same !== null) assert.ok(same, `Telethon writes ${cls} back as we wrote it`);
    }
    assert.ok(out.some(([cls]) => cls === 'Channel' || cls === 'ChatFull'), 'channel objects were checked');
  });

  it('layer 227: mtcute 0.30.3 reads every message and writes the same bytes back', async () => {
    const bodies = await sentBodies(f, 227);
    /* eslint-disable @typescript-eslint/no-require-imports -- mtcute ships CommonJS bundles beside ESM */
    const runtime = require('@mtcute/tl-runtime') as typeof import('@mtcute/tl-runtime');
    const maps = require('@mtcute/core/utils.js') as { __tlReaderMap: never; __tlWriterMap: never };
    for (const b of bodies) {
      const reader = new runtime.TlBinaryReader(maps.__tlReaderMap, b);
      const obj = reader.object() as { _: string };
      assert.equal(reader.pos, b.length, `mtcute reads all of ${obj._}`);
      // mtcute's writer cannot write a bare vector of bare objects (future_salts); its reader read it.
      if (obj._ === 'mt_future_salts') continue;
      const again = Buffer.from(runtime.TlBinaryWriter.serializeObject(maps.__tlWriterMap, obj));
      assert.ok(again.equals(b), `mtcute writes ${obj._} back as we wrote it`);
    }
  });
});
