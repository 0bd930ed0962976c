// Small helpers for the hand-written parts of the wire format (everything else is GramJS's TL
// classes). MTProto big numbers are big-endian; TL integers are little-endian.

/** TL `bytes`: length prefix (1 byte, or 0xfe + 3 bytes), data, zero padding to 4. */
export function tlBytes(data: Uint8Array): Buffer {
  const short = data.length < 254;
  const head = short ? 1 : 4;
  const total = Math.ceil((head + data.length) / 4) * 4;
  const out = Buffer.alloc(total);
  if (short) out[0] = data.length;
  else {
    out[0] = 254;
    out.writeUIntLE(data.length, 1, 3);
  }
  out.set(data, head);
  return out;
}

/** Length of the TL `bytes` header for a payload of this size (for zero-copy framing). */
export function tlBytesHeader(length: number): Buffer {
  if (length < 254) return Buffer.from([length]);
  const h = Buffer.alloc(4);
  h[0] = 254;
  h.writeUIntLE(length, 1, 3);
  return h;
}

export function tlBytesPadding(length: number): number {
  const head = length < 254 ? 1 : 4;
  return (4 - ((head + length) % 4)) % 4;
}

export function bigIntFromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

/** Big-endian bytes; `length` pads with leading zeros, omitted means minimal (no leading zeros). */
export function bigIntToBytes(v: bigint, length?: number): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const raw = Buffer.from(hex === '00' ? '' : hex, 'hex');
  if (length === undefined) return raw;
  if (raw.length > length) throw new RangeError(`number needs ${raw.length} bytes, not ${length}`);
  return Buffer.concat([Buffer.alloc(length - raw.length), raw]);
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}
