// The emulator's TL: the layers it holds (144: Telethon 1.25; 198: GramJS 2.26; 227: mtcute
// 0.30) and the MTProto service schema, parsed once on first use, with helpers to write and read
// plain objects. See registry.ts for how a layer picks its definitions.
import { TlReader } from './reader';
import { TlRegistry } from './registry';
import { parseSchema } from './schema-parser';
import * as layer144 from './schemas/layer-144';
import * as layer198 from './schemas/layer-198';
import * as layer227 from './schemas/layer-227';
import * as mtproto from './schemas/mtproto';
import { TlError, type TlObject, type TlType, type TlValue } from './types';
import { TlWriter } from './writer';

export { TlError, TlUnknownConstructorError, type TlObject, type TlValue } from './types';
export { TlReader, unpack } from './reader';
export { TlRegistry } from './registry';
export { ByteWriter, TlWriter } from './writer';

let registry: TlRegistry | null = null;

export function tl(): TlRegistry {
  registry ??= new TlRegistry(parseSchema(mtproto.SCHEMA, 0), [
    parseSchema(layer144.SCHEMA, layer144.LAYER),
    parseSchema(layer198.SCHEMA, layer198.LAYER),
    parseSchema(layer227.SCHEMA, layer227.LAYER),
  ]);
  return registry;
}

/** The bytes of a boxed object for a client at `layer`. */
export function encode(obj: TlObject, layer: number, reg: TlRegistry = tl()): Buffer {
  const w = new TlWriter(reg, layer);
  w.object(obj);
  return w.out.finish();
}

/** The bytes of a method's result for a client at `layer`, as the method's result type says. */
export function encodeResult(method: string, value: TlValue, layer: number, reg: TlRegistry = tl()): Buffer {
  const w = new TlWriter(reg, layer);
  const result: TlType = reg.pick(method, layer).result;
  w.value(value, result.kind === 'generic' ? { kind: 'boxed', type: 'X' } : result);
  return w.out.finish();
}

/** Reads one boxed TL object (any loaded layer) from `data`; throws TlError on anything malformed. */
export function decode(data: Buffer, reg: TlRegistry = tl()): TlObject {
  try {
    return new TlReader(reg, data).tlObject();
  } catch (err) {
    if (err instanceof TlError) throw err;
    throw new TlError(`malformed TL: ${(err as Error).message}`);
  }
}
