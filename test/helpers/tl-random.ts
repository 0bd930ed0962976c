// Random TL objects of any constructor at any layer held, for codec round trips and oracles.
import { prng } from '../../support/prng';
import { tl, type TlObject, type TlValue } from '../../src/emulator/tl';
import { parseSchema } from '../../src/emulator/tl/schema-parser';
import type { TlCombinator, TlType } from '../../src/emulator/tl/types';
import * as layer144 from '../../src/emulator/tl/schemas/layer-144';
import * as layer198 from '../../src/emulator/tl/schemas/layer-198';
import * as layer227 from '../../src/emulator/tl/schemas/layer-227';
import * as mtproto from '../../src/emulator/tl/schemas/mtproto';

/** Integers from a seeded PRNG (replayable). */
export class Prng {
  private readonly next: () => number;
  /**
   * @param signedLongs whether longs may be negative. The GramJS oracle turns it off: GramJS
   * 2.26.22 writes some negative ids back negated (peerChannel.channel_id), which no real id is.
   */
  constructor(seed: number, readonly signedLongs = true) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A random value of a TL type, for a client at `layer` (depth-limited). */
function randomValue(type: TlType, layer: number, rng: Prng, depth: number): TlValue {
  switch (type.kind) {
    case 'int': return rng.int(0x7fffffff) - (rng.int(2) ? 0x40000000 : 0);
    case 'long': {
      const v = (BigInt(rng.int(0x7fffffff)) << 33n) | BigInt(rng.int(0x7fffffff));
      return rng.signedLongs ? BigInt.asIntN(64, v) : BigInt.asUintN(63, v);
    }
    case 'double': return rng.int(1000) / 8;
    case 'int128': return Buffer.from(Array.from({ length: 16 }, () => rng.int(256)));
    case 'int256': return Buffer.from(Array.from({ length: 32 }, () => rng.int(256)));
    case 'string': return 'ab€'.repeat(rng.int(3));
    case 'bytes': return Buffer.from(Array.from({ length: [0, 3, 253, 254, 300][rng.int(5)]! }, () => rng.int(256)));
    case 'Bool': return rng.int(2) === 1;
    case 'true': return true;
    case 'vector': return depth > 3 ? [] : Array.from({ length: rng.int(3) }, () => randomValue(type.of, layer, rng, depth + 1));
    case 'boxed': return randomObjectOf(type.type, layer, rng, depth + 1);
    case 'bare': return randomObject(tl().bareByName(type.name, layer), layer, rng, depth + 1);
    default: return { _: 'help.getConfig' };
  }
}

/** Each layer's schema as parsed from its text, to list the constructors of a type. */
const parsedByLayer = new Map(tl().layers.map((layer) => [layer, parseSchema(schemaTexts()[tl().layers.indexOf(layer)]!, layer)]));

function constructorsOf(type: string, layer: number): TlCombinator[] {
  const schema = parsedByLayer.get(layer)!;
  return schema.combinators.filter((c) => c.kind === 'constructor' && c.type === type);
}

/** A type no constructor of which the layer has (a few types outlive their constructors). */
export class NoConstructor extends Error {}

function randomObjectOf(type: string, layer: number, rng: Prng, depth: number): TlValue {
  const options = constructorsOf(type, layer);
  if (!options.length) throw new NoConstructor(`no constructor of ${type} at ${layer}`);
  // Deep down, prefer the constructor with the fewest parameters so objects stay small.
  const pick = depth > 2 ? options.reduce((a, b) => (b.params.length < a.params.length ? b : a)) : options[rng.int(options.length)]!;
  return randomObject(pick, layer, rng, depth);
}

export function randomObject(c: TlCombinator, layer: number, rng: Prng, depth: number): TlObject {
  const o: TlObject = { _: c.name };
  for (const p of c.params) {
    if (p.type.kind === 'flags') continue;
    if (p.flag && (depth > 2 || rng.int(2) === 0)) continue;
    o[p.name] = randomValue(p.type, layer, rng, depth);
  }
  // Fields sharing a flag bit go together.
  for (const p of c.params) {
    if (!p.flag || o[p.name] !== undefined) continue;
    const sibling = c.params.some((q) => q !== p && q.flag?.field === p.flag!.field && q.flag.bit === p.flag!.bit && o[q.name] !== undefined && q.type.kind !== 'true');
    const trueSibling = c.params.some((q) => q !== p && q.flag?.field === p.flag!.field && q.flag.bit === p.flag!.bit && o[q.name] === true);
    if (sibling || trueSibling) o[p.name] = randomValue(p.type, layer, rng, depth);
  }
  return o;
}

export function allNames(): string[] {
  const names = new Set<string>();
  for (const text of schemaTexts()) for (const m of text.matchAll(/^([\w.]+)#[0-9a-f]+/gm)) names.add(m[1]!);
  return [...names];
}

/** The schema texts held: layers 144, 198, 227, then the MTProto service schema. */
export function schemaTexts(): string[] {
  return [layer144.SCHEMA, layer198.SCHEMA, layer227.SCHEMA, mtproto.SCHEMA];
}

