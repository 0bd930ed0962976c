// The emulator speaks MTProto as Telegram does, seen from a raw client written with our own TL
// codec (test/helpers/raw-mtproto.ts): both RSA schemes, answers in the declared layer
// (remembered per auth key), CONNECTION_LAYER_INVALID, gzip and zlib gzip_packed,
// updates.getDifference, get_future_salts, msgs_state_req, msg_resend_req, msgs_ack from the
// server, sessions that survive a reconnect, the published key in PKCS#1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encode, type TlObject } from '../src/emulator/tl';
import { channelId, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { rawLogin, RawSession, RawSocket, type RsaScheme } from './helpers/raw-mtproto';

/** `channel`'s constructor id as each client's own schema has it (Telethon, GramJS, mtcute). */
const CHANNEL_ID: Record<number, number> = { 144: 0x8261ac61, 198: 0xe00998b7, 227: 0x1c32b11c };

describe('MTProto as Telegram speaks it', () => {
  let f: EmulatorFixture;
  let dc2: { host: string; port: number; id: number };
  let pem: string;

  before(async () => {
    f = await startFixture({ 'one/a.bin': 5000 }, { watch: false });
    dc2 = f.emu.config.telegram!.dcs.find((d) => d.id === 2)!;
    pem = f.emu.config.telegram!.rsaPublicKeys[0]!;
  });
  after(() => f.close());

  function initConnection(query: TlObject): TlObject {
    return {
      _: 'initConnection', api_id: f.emu.config.apiId, device_model: 'test', system_version: '1', app_version: '1',
      system_lang_code: 'en', lang_pack: '', lang_code: 'en', query,
    };
  }

  async function login(s: RawSession, layer: number): Promise<TlObject> {
    const cfg = f.emu.config;
    const auth = initConnection({ _: 'auth.importBotAuthorization', flags: 0, api_id: cfg.apiId, api_hash: cfg.apiHash, bot_auth_token: cfg.bots[0]! });
    return (await s.call(auth, { layer })) as TlObject;
  }

  function inputChannel(): TlObject {
    return { _: 'inputChannel', channel_id: BigInt(-channelId(f, 'one') - 1e12), access_hash: 0n };
  }

  it('publishes its key in PKCS#1, as Telegram does', () => {
    assert.match(pem, /^-----BEGIN RSA PUBLIC KEY-----\n/);
    assert.equal(createPublicKey(pem).asymmetricKeyType, 'rsa');
  });

  for (const scheme of ['rsa_pad', 'sha1'] as RsaScheme[]) {
    it(`accepts p_q_inner_data encrypted with ${scheme}`, async () => {
      const s = await rawLogin(dc2, pem, scheme);
      try {
        const user = await login(s, 198);
        assert.equal(user._, 'auth.authorization');
      } finally {
        s.sock.close();
      }
    });
  }

  for (const layer of [144, 198, 227, 200]) {
    it(`answers a client at layer ${layer} in its layer, and remembers it per auth key`, async () => {
      const s = await rawLogin(dc2, pem);
      try {
        await login(s, layer);
        const id = s.send({ _: 'channels.getChannels', id: [inputChannel()] }, { layer });
        const m = await s.next((x) => x.obj._ === 'rpc_result' && x.obj.req_msg_id === id);
        // rpc_result (12) + messages.chats (4) + Vector (8): the channel's constructor id.
        const expected = CHANNEL_ID[layer] ?? CHANNEL_ID[198]!;
        assert.equal(m.raw.readUInt32LE(24), expected);
        // A new connection and session on the same key, no invokeWithLayer: still that layer.
        const again = new RawSession(await RawSocket.connect(dc2.host, dc2.port), s.auth);
        const id2 = again.send({ _: 'channels.getChannels', id: [inputChannel()] });
        const m2 = await again.next((x) => x.obj._ === 'rpc_result' && x.obj.req_msg_id === id2);
        assert.equal(m2.raw.readUInt32LE(24), expected);
        again.sock.close();
      } finally {
        s.sock.close();
      }
    });
  }

  it('answers a layer it does not know with 400 CONNECTION_LAYER_INVALID', async () => {
    const s = await rawLogin(dc2, pem);
    try {
      for (const layer of [100, 1000]) {
        const r = (await s.call({ _: 'help.getConfig' }, { layer })) as TlObject;
        assert.deepEqual([r._, r.error_code, r.error_message], ['rpc_error', 400, 'CONNECTION_LAYER_INVALID']);
      }
    } finally {
      s.sock.close();
    }
  });

  it('reads gzip_packed in gzip and in zlib form', async () => {
    const s = await rawLogin(dc2, pem);
    try {
      await login(s, 227);
      const zlib = (await s.call({ _: 'updates.getState' }, { layer: 227, zlib: true })) as TlObject;
      assert.equal(zlib._, 'updates.state');
      const body = encode({ _: 'updates.getState' }, 227);
      const id = s.sendBody(encode({ _: 'gzip_packed', packed_data: gzipSync(body) }, 0));
      assert.equal(((await s.result(id)) as TlObject)._, 'updates.state');
    } finally {
      s.sock.close();
    }
  });

  it('updates.getDifference agrees with updates.getState', async () => {
    const s = await rawLogin(dc2, pem);
    try {
      await login(s, 227);
      const state = (await s.call({ _: 'updates.getState' })) as TlObject;
      const empty = (await s.call({ _: 'updates.getDifference', pts: state.pts, date: state.date, qts: state.qts })) as TlObject;
      assert.equal(empty._, 'updates.differenceEmpty');
      const behind = (await s.call({ _: 'updates.getDifference', pts: 0, date: 0, qts: 0 })) as TlObject;
      assert.equal(behind._, 'updates.difference');
      assert.equal((behind.state as TlObject).pts, state.pts);
    } finally {
      s.sock.close();
    }
  });

  it('get_future_salts is answered with a bare future_salts; msgs_state_req with msgs_state_info', async () => {
    const s = await rawLogin(dc2, pem);
    try {
      await login(s, 198);
      const salts = s.send({ _: 'get_future_salts', num: 3 });
      const fs = await s.next((m) => m.obj._ === 'future_salts' || (m.obj._ === 'rpc_result' && m.obj.req_msg_id === salts));
      assert.equal(fs.obj._, 'future_salts', 'not wrapped in rpc_result');
      assert.equal(fs.obj.req_msg_id, salts);
      assert.equal((fs.obj.salts as TlObject[]).length, 3);
      assert.equal((fs.obj.salts as TlObject[])[0]!.salt, s.auth.salt.readBigInt64LE(0));

      const answered = s.send({ _: 'updates.getState' });
      await s.result(answered);
      const req = s.send({ _: 'msgs_state_req', msg_ids: [answered, 4n, answered + (1n << 40n)] });
      const info = await s.next((m) => m.obj._ === 'msgs_state_info' && m.obj.req_msg_id === req);
      const bytes = [...(info.obj.info as Buffer)];
      assert.equal(bytes[0]! & 7, 4, 'received');
      assert.ok(bytes[0]! & 64, 'answered');
      assert.equal(bytes[1], 1, 'too old to know');
      assert.equal(bytes[2], 3, 'not received yet');
    } finally {
      s.sock.close();
    }
  });

  it('acknowledges content messages with msgs_ack and resends a message on msg_resend_req', async () => {
    const s = await rawLogin(dc2, pem);
    try {
      const ping = s.send({ _: 'ping', ping_id: 77n });
      const pong = await s.next((m) => m.obj._ === 'pong');
      assert.equal(pong.obj.msg_id, ping);
      const ack = s.received.find((m) => m.obj._ === 'msgs_ack');
      assert.ok(ack, 'the server acknowledged the ping');
      assert.ok((ack.obj.msg_ids as bigint[]).includes(ping));
      s.send({ _: 'msg_resend_req', msg_ids: [pong.msgId] });
      const again = await s.next((m) => m.obj._ === 'pong');
      assert.equal(again.msgId, pong.msgId);
      assert.ok(again.raw.equals(pong.raw));
    } finally {
      s.sock.close();
    }
  });

  it('a session outlives its connection: no new_session_created, seq_no goes on', async () => {
    const s = await rawLogin(dc2, pem);
    s.send({ _: 'ping', ping_id: 1n });
    await s.next((m) => m.obj._ === 'pong');
    const first = s.received.filter((m) => m.obj._ === 'new_session_created').length;
    assert.equal(first, 1);
    const lastSeq = Math.max(...s.received.map((m) => m.seqNo));
    s.sock.close();
    s.sock = await RawSocket.connect(dc2.host, dc2.port);
    try {
      s.send({ _: 'ping', ping_id: 2n });
      const pong = await s.next((m) => m.obj._ === 'pong' && m.obj.ping_id === 2n);
      assert.equal(s.received.filter((m) => m.obj._ === 'new_session_created').length, 1);
      assert.ok(pong.seqNo > lastSeq, `seq_no ${pong.seqNo} continues after ${lastSeq}`);
    } finally {
      s.sock.close();
    }
  });

  it('a malformed message closes only its connection (bad gzip, bad TL, unknown key)', async () => {
    const s = await rawLogin(dc2, pem);
    s.sendBody(encode({ _: 'gzip_packed', packed_data: Buffer.from('not compressed at all') }, 0));
    await s.sock.closedByServer();
    const t = await rawLogin(dc2, pem);
    // invokeWithLayer, layer 198, and then nothing where its query should be.
    t.sendBody(Buffer.from([0x0d, 0x0d, 0x9b, 0xda, 198, 0, 0, 0]));
    await t.sock.closedByServer();
    const u = new RawSession(await RawSocket.connect(dc2.host, dc2.port), { ...s.auth, id: Buffer.alloc(8, 7) });
    u.send({ _: 'ping', ping_id: 1n });
    await assert.rejects(u.next(), /transport error -404/);
    await u.sock.closedByServer();
    const ok = await rawLogin(dc2, pem);
    ok.send({ _: 'ping', ping_id: 5n });
    assert.equal((await ok.next((m) => m.obj._ === 'pong')).obj.ping_id, 5n);
    ok.sock.close();
  });
});
