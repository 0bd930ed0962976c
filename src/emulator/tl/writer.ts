// Writes plain TL objects for a client at a given layer: each constructor by the definition of
// the newest schema at or below that layer (TlRegistry.pick). Fields the definition does not
// have are ignored (an object may carry the fields of every layer); a required field that is
// missing is an error naming the constructor, field and layer.
import type { TlRegistry } from './registry';
import { TlError, type TlCombinator, type TlObject, type TlParam, type TlType, type TlValue } from './types';

export const VECTOR_ID = 0x1cb5c415;
const BOOL_TRUE = 0x997275b5;
const BOOL_FALSE = 0xbc799737;

/** A growable little-endian byte buffer. */
export class ByteWriter {
  private buf = Buffer.allocUnsafe(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
  }

  i32(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new TlError(`int out of range: ${v}`);
    this.u32(v < 0 ? v + 0x100000000 : v);
  }

  i64(v: bigint | number): void {
    const b = typeof v === 'bigint' ? v : BigInt(v);
    if (b < -(1n << 63n) || b >= 1n << 64n) throw new TlError(`long out of range: ${b}`);
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, b), this.at);
    this.at += 8;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  raw(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.at);
    this.at += data.length;
  }

  /** TL `bytes`/`string`: 1-byte length (or 0xfe + 3 bytes), data, zero padding to 4. */
  bytes(data: Uint8Array): void {
    const head = data.length < 254 ? 1 : 4;
    if (data.length > 0xffffff) throw new TlError(`bytes of ${data.length} exceed TL's 16 MiB`);
    const padding = (4 - ((head + data.length) % 4)) % 4;
    this.room(head + data.length + padding);
    if (head === 1) this.buf[this.at] = data.length;
    else this.buf.writeUInt32LE(254 | (data.length << 8), this.at);
    this.buf.set(data, this.at + head);
    this.buf.fill(0, this.at + head + data.length, this.at + head + data.length + padding);
    this.at += head + data.length + padding;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

export class TlWriter {
  readonly out = new ByteWriter();

  constructor(private readonly registry: TlRegistry, readonly layer: number) {}

  /** A boxed object: its constructor id, then its fields. */
  object(obj: TlObject): void {
    const c = this.registry.pick(obj._, this.layer);
    if (c.id === 0) throw new TlError(`${obj._} has no id and cannot be written boxed`);
    this.out.u32(c.id);
    this.fields(c, obj);
  }

  /** The fields of `obj` as combinator `c` orders them (a bare object). */
  fields(c: TlCombinator, obj: TlObject): void {
    for (const p of c.params) {
      if (p.type.kind === 'flags') this.out.u32(flagsValue(c, p.name, obj));
      else if (!p.flag) this.value(required(c, p, obj, this.layer), p.type);
      else if (present(obj[p.name], p.type) && p.type.kind !== 'true') this.value(obj[p.name], p.type);
    }
  }

  value(v: TlValue, type: TlType): void {
    switch (type.kind) {
      case 'int': return this.out.i32(num(v, 'int'));
      case 'long': return this.out.i64(typeof v === 'bigint' ? v : num(v, 'long'));
      case 'double': return this.out.f64(num(v, 'double'));
      case 'int128': return this.fixed(v, 16);
      case 'int256': return this.fixed(v, 32);
      case 'string':
      case 'bytes': return this.out.bytes(typeof v === 'string' ? Buffer.from(v, 'utf8') : buf(plainText(v), type.kind));
      case 'Bool': return this.out.u32(v ? BOOL_TRUE : BOOL_FALSE);
      case 'vector': return this.vector(v, type);
      case 'bare': return this.fields(this.registry.bareByName(type.name, this.layer), obj(v, type.name));
      case 'Object':
        if (Buffer.isBuffer(v)) return this.out.raw(v);
        return this.object(obj(v, 'Object'));
      case 'boxed':
      case 'generic': return this.boxedValue(v);
      default: throw new TlError(`cannot write a value of TL kind ${type.kind}`);
    }
  }

  /** A value where any boxed object may stand: objects, arrays (a boxed vector), booleans. */
  private boxedValue(v: TlValue): void {
    if (Array.isArray(v)) return this.vector(v, { kind: 'vector', boxed: true, of: { kind: 'generic', name: 'X' } });
    if (typeof v === 'boolean') return this.out.u32(v ? BOOL_TRUE : BOOL_FALSE);
    this.object(obj(v, 'object'));
  }

  private vector(v: TlValue, type: Extract<TlType, { kind: 'vector' }>): void {
    if (!Array.isArray(v)) throw new TlError(`expected an array for a vector, got ${typeof v}`);
    if (type.boxed) this.out.u32(VECTOR_ID);
    this.out.u32(v.length);
    for (const item of v) this.value(item, type.of);
  }

  private fixed(v: TlValue, length: number): void {
    const b = buf(v, `int${length * 8}`);
    if (b.length !== length) throw new TlError(`int${length * 8} needs ${length} bytes, got ${b.length}`);
    this.out.raw(b);
  }
}

function present(v: TlValue, type: TlType): boolean {
  return type.kind === 'true' ? v === true : v !== undefined && v !== null;
}

/** The flags field `field` of `obj`: a bit for each optional field present. */
function flagsValue(c: TlCombinator, field: string, o: TlObject): number {
  let flags = 0;
  for (const p of c.params) if (p.flag?.field === field && present(o[p.name], p.type)) flags |= 1 << p.flag.bit;
  // Fields sharing a bit go together: a set bit needs every non-`true` field behind it.
  for (const p of c.params) {
    if (p.flag?.field === field && flags & (1 << p.flag.bit) && p.type.kind !== 'true' && !present(o[p.name], p.type)) {
      throw new TlError(`${c.name}.${p.name} is missing but ${field}.${p.flag.bit} is set by another field`);
    }
  }
  return flags >>> 0;
}

function required(c: TlCombinator, p: TlParam, o: TlObject, layer: number): TlValue {
  const v = o[p.name];
  if (v === undefined || v === null) throw new TlError(`${c.name}.${p.name} is required at layer ${layer} (${c.line})`);
  return v;
}

function num(v: TlValue, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' && what !== 'double') return Number(v);
  throw new TlError(`expected a number for ${what}, got ${typeof v}`);
}

function buf(v: TlValue, what: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TlError(`expected bytes for ${what}, got ${typeof v}`);
}

function obj(v: TlValue, what: string): TlObject {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && typeof (v as TlObject)._ === 'string') return v as TlObject;
  throw new TlError(`expected a TL object for ${what}, got ${Array.isArray(v) ? 'array' : typeof v}`);
}

/**
 * A `textWithEntities` where a layer has a plain `string` (poll texts before layer 159): its
 * text, as Telegram gives older clients. Anything else is left for `buf` to judge.
 */
function plainText(v: TlValue): TlValue {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && (v as TlObject)._ === 'textWithEntities') {
    const text = (v as TlObject).text;
    return typeof text === 'string' ? Buffer.from(text, 'utf8') : v;
  }
  return v;
}
