// Fuzz: a few thousand random and mutated packets (transport framing, the plaintext handshake,
// encrypted messages under a real auth key) thrown at the emulator while a tgvfs worker keeps
// downloading a file byte-exact. Every malformed packet may close its own connection; the
// server keeps serving. Replay a failure with TGVFS_FUZZ_SEED=<seed> (printed on failure).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encode, type TlObject } from '../src/emulator/tl';
import { prng } from '../support/prng';
import { channelId, MiB, startFixture, type EmulatorFixture } from './helpers/emulator-fixture';
import { rawLogin, RawSession, RawSocket, type AuthKey } from './helpers/raw-mtproto';

const SEED = Number(process.env.TGVFS_FUZZ_SEED ?? 13);
const PACKETS = 3000;
const PER_CONNECTION = 25;

class Fuzz {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
  /** Flips, cuts, grows or overwrites a few bytes of `b`. */
  mutate(b: Buffer): Buffer {
    const out = Buffer.from(b);
    switch (this.int(4)) {
      case 0: for (let i = 0; i < 1 + this.int(4); i++) out[this.int(out.length)] ^= 1 << this.int(8); return out;
      case 1: return out.subarray(0, this.int(out.length));
      case 2: return Buffer.concat([out, this.bytes(this.int(64))]);
      default: out.writeUInt32LE(this.int(0x100000000), 4 * this.int(Math.max(1, out.length >> 2)) % Math.max(4, out.length - 3)); return out;
    }
  }
}

/** Valid bodies to mutate: queries, wrappers, service messages, containers, gzip. */
function seeds(apiId: number): Buffer[] {
  const q: TlObject[] = [
    { _: 'invokeWithLayer', layer: 198, query: { _: 'initConnection', api_id: apiId, device_model: 'f', system_version: '1', app_version: '1', system_lang_code: 'en', lang_pack: '', lang_code: 'en', query: { _: 'help.getConfig' } } },
    { _: 'updates.getState' },
    { _: 'upload.getFile', location: { _: 'inputDocumentFileLocation', id: 1n, access_hash: 2n, file_reference: Buffer.alloc(17), thumb_size: '' }, offset: 0n, limit: 4096 },
    { _: 'msgs_state_req', msg_ids: [1n, 2n] },
    { _: 'msg_resend_req', msg_ids: [5n] },
    { _: 'get_future_salts', num: 3 },
    { _: 'ping', ping_id: 9n },
    { _: 'channels.getMessages', channel: { _: 'inputChannel', channel_id: 1n, access_hash: 0n }, id: [{ _: 'inputMessageID', id: 1 }] },
  ];
  const bodies = q.map((o) => encode(o, 198));
  bodies.push(encode({ _: 'gzip_packed', packed_data: gzipSync(bodies[0]!) }, 0));
  const container = Buffer.alloc(8 + 16 + bodies[1]!.length);
  container.writeUInt32LE(0x73f1f8dc, 0);
  container.writeUInt32LE(1, 4);
  container.writeBigUInt64LE(1n << 40n, 8);
  container.writeUInt32LE(1, 16);
  container.writeUInt32LE(bodies[1]!.length, 20);
  bodies[1]!.copy(container, 24);
  bodies.push(container);
  return bodies;
}

describe('emulator fuzz', () => {
  let f: EmulatorFixture;
  const closes: string[] = [];

  before(async () => {
    f = await startFixture({ 'one/big.bin': 3 * MiB }, { watch: false, log: (l) => void (l.includes('closing connection') && closes.push(l)) });
  });
  after(() => f.close());

  it(`${PACKETS} random and mutated packets close their own connections; a download beside them stays byte-exact (seed ${SEED})`, async () => {
    const w = await f.startWorker(0);
    const doc = await w.getDocumentLocation(channelId(f, 'one'), 1);
    const expected = f.files.get('one/big.bin')!;
    let stop = false;
    let rounds = 0;
    const download = (async () => {
      while (!stop || rounds === 0) {
        for (let off = 0; off < expected.length; off += MiB) {
          const part = await w.getFilePart(doc.location, off, MiB);
          assert.ok(part.equals(expected.subarray(off, off + MiB)), `part at ${off} of round ${rounds}`);
        }
        rounds++;
      }
    })();

    const cfg = f.emu.config;
    const dc = cfg.telegram!.dcs.find((d) => d.id === 2)!;
    const pem = cfg.telegram!.rsaPublicKeys[0]!;
    const fuzz = new Fuzz(SEED);
    const valid = seeds(cfg.apiId);
    const key: AuthKey = (await rawLogin(dc, pem)).auth;
    try {
      for (let sent = 0; sent < PACKETS; sent += PER_CONNECTION) {
        const mode = fuzz.int(3);
        if (mode === 0) await rawGarbage(dc, fuzz);
        else if (mode === 1) await plainHandshake(dc, fuzz);
        else await encrypted(dc, key, fuzz, valid);
      }
    } finally {
      stop = true;
      await download;
    }
    assert.ok(rounds >= 1);
    assert.ok(closes.length > 10, `${closes.length} connections closed for malformed input`);
    // The server still makes keys and answers.
    const s = await rawLogin(dc, pem);
    s.send({ _: 'ping', ping_id: 42n });
    assert.equal((await s.next((m) => m.obj._ === 'pong')).obj.ping_id, 42n);
    s.sock.close();
  });
});

/** Raw bytes on a new connection: any transport tag (or none), then random framing. */
async function rawGarbage(dc: { host: string; port: number }, fuzz: Fuzz): Promise<void> {
  const sock = await RawSocket.connect(dc.host, dc.port);
  for (let i = 0; i < PER_CONNECTION && !sock.closed; i++) sock.socket.write(fuzz.bytes(1 + fuzz.int(300)));
  sock.close();
}

/** Plaintext handshake messages: random and mutated req_pq_multi / req_DH_params. */
async function plainHandshake(dc: { host: string; port: number }, fuzz: Fuzz): Promise<void> {
  const sock = await RawSocket.connect(dc.host, dc.port);
  const reqPq = encode({ _: 'req_pq_multi', nonce: randomBytes(16) }, 0);
  const dh = encode({ _: 'req_DH_params', nonce: randomBytes(16), server_nonce: randomBytes(16), p: Buffer.from([1]), q: Buffer.from([2]), public_key_fingerprint: 1n, encrypted_data: randomBytes(256) }, 0);
  for (let i = 0; i < PER_CONNECTION && !sock.closed; i++) {
    const body = fuzz.int(3) === 0 ? fuzz.bytes(fuzz.int(100)) : fuzz.mutate(fuzz.int(2) ? reqPq : dh);
    const head = Buffer.alloc(20);
    head.writeBigUInt64LE(BigInt(Date.now()) << 22n, 8);
    head.writeUInt32LE(fuzz.int(4) === 0 ? fuzz.int(1 << 20) : body.length, 16);
    sock.send(Buffer.concat([head, body]));
  }
  sock.close();
}

/** Encrypted messages under a real key: mutated valid bodies, random bodies, bad msg_keys, bad key ids. */
async function encrypted(dc: { host: string; port: number }, key: AuthKey, fuzz: Fuzz, valid: Buffer[]): Promise<void> {
  const s = new RawSession(await RawSocket.connect(dc.host, dc.port), key);
  for (let i = 0; i < PER_CONNECTION && !s.sock.closed; i++) {
    const kind = fuzz.int(5);
    const body = kind === 0 ? fuzz.bytes(4 * fuzz.int(40)) : fuzz.mutate(valid[fuzz.int(valid.length)]!);
    if (kind === 1) {
      s.sock.send(fuzz.mutate(s.seal(body.subarray(0, body.length & ~3), BigInt(Date.now()) << 22n & ~3n, 1)));
    } else s.sendBody(Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]));
  }
  s.sock.close();
}
