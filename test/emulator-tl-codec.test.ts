// The emulator's TL runtime: the parser (flags, flags2, true flags, vectors, generic queries),
// the registry (newest definition at or below a layer), and the codec (round trips of random
// objects of every constructor of every layer held; malformed input is a TlError).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { decode, encode, tl, TlError, type TlObject } from '../src/emulator/tl';
import { computedId, parseSchema } from '../src/emulator/tl/schema-parser';
import { allNames, NoConstructor, Prng, randomObject } from './helpers/tl-random';
import type { TlCombinator } from '../src/emulator/tl/types';

describe('TL schema parser', () => {
  it('reads flags, flags2, true flags, vectors, bare vectors and generic queries', () => {
    const s = parseSchema(`
future_salt#0949d9dc valid_since:int valid_until:int salt:long = FutureSalt;
future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts;
user#4b46c37e flags:# self:flags.10?true flags2:# id:long first_name:flags.1?string usernames:flags2.0?Vector<Username> = User;
int ? = Int;
vector#1cb5c415 {t:Type} # [ t ] = Vector t;
---functions---
invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;
users.getUsers#0d91a548 id:Vector<InputUser> = Vector<User>;`, 7);
    assert.deepEqual(s.combinators.map((c) => `${c.kind}:${c.name}`), [
      'constructor:future_salt', 'constructor:future_salts', 'constructor:user', 'method:invokeWithLayer', 'method:users.getUsers',
    ]);
    const [, salts, user, invoke, getUsers] = s.combinators as [TlCombinator, TlCombinator, TlCombinator, TlCombinator, TlCombinator];
    assert.deepEqual(salts.params[2]!.type, { kind: 'vector', boxed: false, of: { kind: 'bare', name: 'future_salt' } });
    assert.deepEqual(user.params.map((p) => [p.name, p.type.kind, p.flag?.field, p.flag?.bit]), [
      ['flags', 'flags', undefined, undefined], ['self', 'true', 'flags', 10], ['flags2', 'flags', undefined, undefined],
      ['id', 'long', undefined, undefined], ['first_name', 'string', 'flags', 1], ['usernames', 'vector', 'flags2', 0],
    ]);
    assert.deepEqual(invoke.params[1]!.type, { kind: 'generic', name: 'X' });
    assert.deepEqual(invoke.result, { kind: 'generic', name: 'X' });
    assert.deepEqual(getUsers.result, { kind: 'vector', boxed: true, of: { kind: 'boxed', type: 'User' } });
    assert.equal(computedId(invoke.line), 0xda9b0d0d);
  });

  it('every line of every schema held has the id its text hashes to (but two legacy ids and msg_container)', () => {
    const bad: string[] = [];
    const seen = new Set<number>();
    for (const name of allNames()) {
      for (const c of tl().definitions(name)) {
        if (c.id === 0 || seen.has(c.id)) continue;
        seen.add(c.id);
        if (computedId(c.line) !== c.id) bad.push(c.line);
      }
    }
    assert.ok(seen.size > 2500, `${seen.size} definitions`);
    assert.deepEqual(bad.map((l) => l.split(' ')[0]).sort(), ['inputPeerPhotoFileLocationLegacy#27d69997', 'inputStickerSetThumbLegacy#0dbaeae9', 'msg_container#73f1f8dc']);
  });
});

describe('TL registry', () => {
  it('serves each layer the newest definition at or below it', () => {
    const id = (layer: number): number => tl().pick('channel', layer).id;
    assert.deepEqual([144, 150, 197, 198, 226, 227].map(id), [0x8261ac61, 0x8261ac61, 0x8261ac61, 0xe00998b7, 0xe00998b7, 0x1c32b11c]);
    assert.deepEqual(tl().layers, [144, 198, 227]);
    assert.equal(tl().serves(143), false);
    assert.equal(tl().serves(228), false);
    assert.throws(() => tl().pick('channel', 100), TlError);
  });

  it('reads a constructor of any layer by its id', () => {
    for (const layer of tl().layers) {
      const bytes = encode({ _: 'peerChannel', channel_id: 5n }, layer);
      assert.deepEqual(decode(bytes), { _: 'peerChannel', channel_id: 5n });
    }
    const old = encode({ _: 'channel', id: 1n, title: 't', photo: { _: 'chatPhotoEmpty' }, date: 2, broadcast: true }, 144);
    assert.equal(old.readUInt32LE(0), 0x8261ac61);
    assert.deepEqual(decode(old), { _: 'channel', broadcast: true, id: 1n, title: 't', photo: { _: 'chatPhotoEmpty' }, date: 2 });
  });
});

describe('TL codec', () => {
  it('round-trips random objects of every constructor of every layer', () => {
    for (const layer of tl().layers) {
      const rng = new Prng(layer);
      let n = 0;
      for (const name of allNames()) {
        const c = tl().definitions(name).filter((d) => d.layer <= layer).pop();
        // boolTrue/boolFalse are read as JS booleans, not objects.
        if (!c || c.kind !== 'constructor' || c.layer === 0 || c.type === 'Bool') continue;
        let obj: TlObject;
        try {
          obj = randomObject(tl().pick(name, layer), layer, rng, 0);
        } catch (err) {
          if (err instanceof NoConstructor) continue;
          throw err;
        }
        const bytes = encode(obj, layer);
        const back = decode(bytes);
        assert.ok(encode(back, layer).equals(bytes), `${name} at layer ${layer}`);
        n++;
      }
      assert.ok(n > 1000, `${n} constructors at layer ${layer}`);
    }
  });

  it('writes flags from the fields present, and only the fields a layer has', () => {
    const msg = { _: 'messageMediaDocument', document: { _: 'documentEmpty', id: 1n }, video: true, ttl_seconds: 5 };
    const at198 = encode(msg, 198);
    // flags: document (bit 0), ttl_seconds (bit 2), video (bit 6, a `true`: no bytes).
    assert.equal(at198.readUInt32LE(4), 0b1000101);
    const at144 = encode(msg, 144);
    assert.equal(at144.readUInt32LE(4), 0b101, 'layer 144 has no video flag');
    assert.throws(() => encode({ _: 'peerChannel' }, 198), /peerChannel.channel_id is required at layer 198/);
    assert.throws(() => encode({ _: 'channel', id: 1n, title: 't', photo: { _: 'chatPhotoEmpty' }, date: 2, restriction_reason: undefined, restricted: true }, 198), TlError);
  });

  it('unpacks gzip_packed in gzip and zlib form wherever an object stands', () => {
    const inner = encode({ _: 'peerChannel', channel_id: 9n }, 198);
    for (const packed of [gzipSync(inner), deflateSync(inner)]) {
      assert.deepEqual(decode(encode({ _: 'gzip_packed', packed_data: packed }, 0)), { _: 'peerChannel', channel_id: 9n });
    }
    assert.throws(() => decode(encode({ _: 'gzip_packed', packed_data: Buffer.from('nope') }, 0)), TlError);
  });

  it('malformed input is a TlError: truncation, huge vector counts, deep nesting, bad length prefixes', () => {
    const good = encode({ _: 'messages.chats', chats: [{ _: 'chatEmpty', id: 1n }] }, 198);
    for (let cut = 0; cut < good.length; cut++) assert.throws(() => decode(good.subarray(0, cut)), TlError);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(0x7fffffff, 8);
    assert.throws(() => decode(huge), /vector of/);
    const nested = Buffer.concat(Array.from({ length: 200 }, () => Buffer.from([0xa1, 0xcf, 0x72, 0x30])));
    assert.throws(() => decode(nested), TlError);
    assert.throws(() => decode(Buffer.from([0x15, 0x00, 0x59, 0x15, 0xff, 0, 0, 0])), TlError);
  });
});
