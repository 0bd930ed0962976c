// Reads TL objects of any loaded layer (by id) into plain objects. Bounds, vector counts and
// nesting depth are checked, so that malformed input from a client is a TlError, never a crash
// or a huge allocation. A `gzip_packed` wherever an object stands is unpacked (gzip or zlib).
import { unzipSync } from 'node:zlib';
import type { TlRegistry } from './registry';
import { TlError, TlUnknownConstructorError, type TlCombinator, type TlObject, type TlType, type TlValue } from './types';
import { VECTOR_ID } from './writer';

const BOOL_TRUE = 0x997275b5;
const BOOL_FALSE = 0xbc799737;
const GZIP_PACKED = 0x3072cfa1;
const MAX_DEPTH = 64;
/** Unpacked gzip_packed larger than this is refused (TL bytes hold at most 16 MiB anyway). */
const MAX_UNPACKED = 16 << 20;

/** gzip_packed's data, in gzip or zlib form (mtcute sends zlib, GramJS gzip). */
export function unpack(data: Buffer): Buffer {
  try {
    return unzipSync(data, { maxOutputLength: MAX_UNPACKED });
  } catch (err) {
    throw new TlError(`gzip_packed: ${(err as Error).message}`);
  }
}

export class TlReader {
  private at = 0;
  private depth = 0;

  constructor(private readonly registry: TlRegistry, private readonly buf: Buffer) {}

  get position(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number): void {
    if (n < 0 || this.at + n > this.buf.length) throw new TlError(`TL data ends early: need ${n} bytes at ${this.at} of ${this.buf.length}`);
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  i32(): number {
    return this.u32() | 0;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.at);
    this.at += 8;
    return v;
  }

  raw(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return v;
  }

  bytes(): Buffer {
    this.need(1);
    let length = this.buf[this.at]!;
    let head = 1;
    if (length === 254) {
      this.need(4);
      length = this.buf.readUIntLE(this.at + 1, 3);
      head = 4;
    } else if (length === 255) throw new TlError(`bad TL bytes length prefix at ${this.at}`);
    this.need(head + length);
    const v = Buffer.from(this.buf.subarray(this.at + head, this.at + head + length));
    this.at += head + length + ((4 - ((head + length) % 4)) % 4);
    if (this.at > this.buf.length) throw new TlError('TL bytes padding runs past the end');
    return v;
  }

  /** A boxed object of any loaded layer; a boxed vector is read as an array of boxed objects. */
  object(): TlObject | TlValue[] | boolean {
    if (++this.depth > MAX_DEPTH) throw new TlError('TL objects nested too deep');
    try {
      const id = this.u32();
      if (id === GZIP_PACKED) return new TlReader(this.registry, unpack(this.bytes())).object();
      if (id === VECTOR_ID) return this.items({ kind: 'generic', name: 'X' });
      if (id === BOOL_TRUE || id === BOOL_FALSE) return id === BOOL_TRUE;
      const c = this.registry.byId(id);
      if (!c) throw new TlUnknownConstructorError(id);
      return this.fields(c);
    } finally {
      this.depth--;
    }
  }

  /** A boxed object that must be a TL object (not a vector or a Bool). */
  tlObject(): TlObject {
    const v = this.object();
    if (typeof v !== 'object' || Array.isArray(v)) throw new TlError(`expected a TL object, got ${Array.isArray(v) ? 'a vector' : 'a Bool'}`);
    return v;
  }

  fields(c: TlCombinator): TlObject {
    const out: TlObject = { _: c.name };
    const flags = new Map<string, number>();
    for (const p of c.params) {
      if (p.type.kind === 'flags') {
        flags.set(p.name, this.u32());
        continue;
      }
      if (p.flag) {
        const set = ((flags.get(p.flag.field) ?? 0) >>> p.flag.bit) & 1;
        if (!set) continue;
        if (p.type.kind === 'true') {
          out[p.name] = true;
          continue;
        }
      }
      out[p.name] = this.value(p.type);
    }
    return out;
  }

  value(type: TlType): TlValue {
    switch (type.kind) {
      case 'int': return this.i32();
      case 'long': return this.i64();
      case 'double': {
        this.need(8);
        const v = this.buf.readDoubleLE(this.at);
        this.at += 8;
        return v;
      }
      case 'int128': return this.raw(16);
      case 'int256': return this.raw(32);
      case 'string': return this.bytes().toString('utf8');
      case 'bytes': return this.bytes();
      case 'Bool': return this.bool();
      case 'true': return true;
      case 'vector': {
        if (type.boxed && this.u32() !== VECTOR_ID) throw new TlError('expected a vector');
        return this.items(type.of);
      }
      case 'bare': return this.fields(this.registry.bareByName(type.name));
      default: return this.object();
    }
  }

  private bool(): boolean {
    const id = this.u32();
    if (id !== BOOL_TRUE && id !== BOOL_FALSE) throw new TlError(`expected a Bool, got 0x${id.toString(16)}`);
    return id === BOOL_TRUE;
  }

  private items(of: TlType): TlValue[] {
    const count = this.u32();
    // Every item takes at least 4 bytes: a larger count is a lie, not a reason to allocate.
    if (count > this.remaining / 4) throw new TlError(`vector of ${count} items in ${this.remaining} bytes`);
    const out: TlValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(of));
    return out;
  }
}
