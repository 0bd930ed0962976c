// MTProto TCP transports, server side. The first bytes of a connection say which one a client
// speaks: 0xef abridged, 0xeeeeeeee intermediate, 0xdddddddd padded intermediate, a length
// followed by a zero sequence number for full (GramJS's default), anything else a 64-byte
// obfuscation header (AES-256-CTR around one of the others). An MTProxy's clients send the same
// header with keys mixed with the proxy's secret (openObfuscatedHeader; mtproxy.ts).
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Cipher, type Decipher } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type TransportKind = 'abridged' | 'intermediate' | 'padded' | 'full';

export class TransportError extends Error {
  readonly code = 'EMU_TRANSPORT';
}

/** The protocol tags of the transports an obfuscation header may announce. */
const OBFUSCATED_TAGS: ReadonlyMap<number, Exclude<TransportKind, 'full'>> = new Map([
  [0xefefefef, 'abridged'],
  [0xeeeeeeee, 'intermediate'],
  [0xdddddddd, 'padded'],
]);

/** What a 64-byte obfuscation header says, and the ciphers of the connection it opens. */
export interface ObfuscatedHeader {
  /** The transport inside the encryption. */
  kind: Exclude<TransportKind, 'full'>;
  /** The DC the client asks for (an MTProxy routes on it; negative: a media DC). */
  dcId: number;
  /** Client → server; it has consumed the header. */
  decipher: Decipher;
  /** Server → client. */
  cipher: Cipher;
}

/**
 * Reads the 64-byte header that opens an obfuscated connection: keys and IVs from its bytes
 * 8-56 (the server's direction reversed), or, with an MTProxy `secret` (16 bytes), each key the
 * SHA-256 of those key bytes followed by the secret. The decrypted header names the transport
 * (bytes 56-60) and the DC (bytes 60-62). Throws TransportError for an unknown protocol tag,
 * which is also what a wrong secret reads as.
 */
export function openObfuscatedHeader(raw: Buffer, secret?: Buffer): ObfuscatedHeader {
  if (raw.length !== 64) throw new TransportError(`obfuscation header of ${raw.length} bytes`);
  const key = (k: Buffer): Buffer => (secret ? createHash('sha256').update(k).update(secret).digest() : k);
  const reversed = Buffer.from(raw.subarray(8, 56)).reverse();
  const decipher = createDecipheriv('aes-256-ctr', key(raw.subarray(8, 40)), raw.subarray(40, 56));
  const cipher = createCipheriv('aes-256-ctr', key(reversed.subarray(0, 32)), reversed.subarray(32, 48));
  const plain = decipher.update(raw);
  const tag = plain.readUInt32LE(56);
  const kind = OBFUSCATED_TAGS.get(tag);
  if (!kind) throw new TransportError(`unknown obfuscated protocol tag 0x${tag.toString(16)}${secret ? ' (a wrong MTProxy secret?)' : ''}`);
  return { kind, dcId: plain.readInt16LE(60), decipher, cipher };
}

/** The bytes that open a plain (unobfuscated) connection of `kind`. */
export function transportPreamble(kind: Exclude<TransportKind, 'full'>): Buffer {
  return kind === 'abridged' ? Buffer.from([0xef]) : Buffer.alloc(4, kind === 'intermediate' ? 0xee : 0xdd);
}

/** Splits a byte stream into MTProto payloads and frames outgoing payloads the same way. */
export class TransportCodec {
  private kind: TransportKind | null = null;
  private obfuscated = false;
  private decipher: Decipher | null = null;
  private cipher: Cipher | null = null;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private sendSeq = 0;
  private recvSeq = 0;

  get transport(): string {
    return this.kind === null ? 'unknown' : (this.obfuscated ? 'obfuscated ' : '') + this.kind;
  }

  /** Feeds received bytes; returns every complete payload. Throws TransportError on garbage. */
  push(data: Buffer): Buffer[] {
    if (this.decipher) data = this.decipher.update(data);
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    if (this.kind === null && !this.detect()) return out;
    for (;;) {
      const p = this.next();
      if (!p) return out;
      out.push(p);
    }
  }

  /** Frames one payload given in parts; returns what to write, in order (the body is not copied). */
  frame(payload: Buffer[]): Buffer[] {
    const length = payload.reduce((n, b) => n + b.length, 0);
    let parts: Buffer[];
    switch (this.kind) {
      case 'abridged': {
        const words = length >> 2;
        const head = words < 0x7f ? Buffer.from([words]) : Buffer.from([0x7f, words & 0xff, (words >> 8) & 0xff, (words >> 16) & 0xff]);
        parts = [head, ...payload];
        break;
      }
      case 'intermediate': {
        const head = Buffer.alloc(4);
        head.writeUInt32LE(length);
        parts = [head, ...payload];
        break;
      }
      case 'padded': {
        const pad = randomBytes(Math.floor(Math.random() * 16));
        const head = Buffer.alloc(4);
        head.writeUInt32LE(length + pad.length);
        parts = [head, ...payload, pad];
        break;
      }
      case 'full': {
        const head = Buffer.alloc(8);
        head.writeUInt32LE(length + 12, 0);
        head.writeUInt32LE(this.sendSeq++, 4);
        let crc = crc32(head);
        for (const b of payload) crc = crc32(b, crc);
        const tail = Buffer.alloc(4);
        tail.writeUInt32LE(crc);
        parts = [head, ...payload, tail];
        break;
      }
      default:
        throw new TransportError('cannot send before the client chose a transport');
    }
    const cipher = this.cipher;
    return cipher ? parts.map((p) => cipher.update(p)) : parts;
  }

  /** A transport-level error packet (e.g. -404: auth key unknown). */
  errorPacket(code: number): Buffer[] {
    const b = Buffer.alloc(4);
    b.writeInt32LE(code);
    return this.frame([b]);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }

  private peek(n: number): Buffer | null {
    if (this.buffered < n) return null;
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!.subarray(0, n);
  }

  private detect(): boolean {
    const first = this.peek(1);
    if (!first) return false;
    if (first[0] === 0xef) {
      this.take(1);
      this.kind = 'abridged';
      return true;
    }
    const head = this.peek(8);
    if (!head) return false;
    const tag = head.readUInt32LE(0);
    if (tag === 0xeeeeeeee || tag === 0xdddddddd) {
      this.take(4);
      this.kind = tag === 0xeeeeeeee ? 'intermediate' : 'padded';
      return true;
    }
    if (head.readUInt32LE(4) === 0) {
      this.kind = 'full';
      return true;
    }
    return this.detectObfuscated();
  }

  private detectObfuscated(): boolean {
    const init = this.peek(64);
    if (!init) return false;
    const header = openObfuscatedHeader(Buffer.from(this.take(64)));
    this.decipher = header.decipher;
    this.cipher = header.cipher;
    this.kind = header.kind;
    this.obfuscated = true;
    // Bytes that arrived after the header were buffered still encrypted.
    const rest = this.chunks.length ? this.decipher.update(Buffer.concat(this.chunks)) : Buffer.alloc(0);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return true;
  }

  private next(): Buffer | null {
    switch (this.kind) {
      case 'abridged': {
        const h = this.peek(1);
        if (!h) return null;
        let words = h[0]!;
        let headLen = 1;
        if (words >= 0x7f) {
          const h4 = this.peek(4);
          if (!h4) return null;
          words = h4[1]! | (h4[2]! << 8) | (h4[3]! << 16);
          headLen = 4;
        }
        if (this.buffered < headLen + words * 4) return null;
        this.take(headLen);
        return this.take(words * 4);
      }
      case 'intermediate':
      case 'padded': {
        const h = this.peek(4);
        if (!h) return null;
        const len = h.readUInt32LE(0);
        if (len > 16 * 1024 * 1024) throw new TransportError(`packet of ${len} bytes`);
        if (this.buffered < 4 + len) return null;
        this.take(4);
        const body = this.take(len);
        // Padded intermediate appends 0-15 random bytes; MTProto messages are 4-byte aligned
        // and the padding is shorter than 16, so the aligned prefix is the message... except
        // that an encrypted message is 24 + 16k bytes: strip down to that form.
        if (this.kind === 'padded') return body.subarray(0, stripPadding(body));
        return body;
      }
      case 'full': {
        const h = this.peek(8);
        if (!h) return null;
        const len = h.readUInt32LE(0);
        if (len < 12 || len > 16 * 1024 * 1024) throw new TransportError(`full-transport packet of ${len} bytes`);
        if (this.buffered < len) return null;
        const packet = this.take(len);
        const seq = packet.readUInt32LE(4);
        if (seq !== this.recvSeq) throw new TransportError(`sequence ${seq}, expected ${this.recvSeq}`);
        this.recvSeq++;
        const body = packet.subarray(8, len - 4);
        if (crc32(packet.subarray(0, len - 4)) !== packet.readUInt32LE(len - 4)) throw new TransportError('bad crc32');
        return body;
      }
      default:
        return null;
    }
  }
}

function stripPadding(body: Buffer): number {
  if (body.length >= 8 && body.readBigUInt64LE(0) === 0n) {
    // Plain message: auth_key_id 0, msg_id, length, then the object.
    return Math.min(body.length, 20 + body.readUInt32LE(16));
  }
  return body.length - ((body.length - 24) % 16);
}
