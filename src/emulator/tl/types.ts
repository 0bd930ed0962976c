// The shapes of a parsed TL schema and of the plain objects the codec reads and writes.

/** A TL type as a parameter or a method result names it. */
export type TlType =
  | { kind: 'int' | 'long' | 'double' | 'string' | 'bytes' | 'int128' | 'int256' | 'Bool' | 'true' | 'flags' | 'Object' }
  /** `Vector<T>` (boxed: with the vector id) or `vector<T>` (bare: count and items only). */
  | { kind: 'vector'; boxed: boolean; of: TlType }
  /** A type name (`Chat`, `messages.Chats`): any constructor of it, with its id. */
  | { kind: 'boxed'; type: string }
  /** A bare constructor (`future_salt`) or the single constructor of `%Type`: no id. */
  | { kind: 'bare'; name: string }
  /** `!X` or `X` of a generic method: any boxed object (a query), or the query's result. */
  | { kind: 'generic'; name: string };

export interface TlParam {
  name: string;
  type: TlType;
  /** Present only when the flags field's bit is set (`flags.3?T`, `flags2.0?true`). */
  flag?: { field: string; bit: number };
}

export interface TlCombinator {
  name: string;
  /** 0 for a bare-only combinator written without an id (`message`). */
  id: number;
  kind: 'constructor' | 'method';
  params: TlParam[];
  /** The type a constructor builds, or the type a method returns, as written. */
  type: string;
  /** What a method returns, parsed (constructors: their own type, boxed). */
  result: TlType;
  /** API layer of the schema it came from; 0 for the MTProto service schema. */
  layer: number;
  /** The schema line it was parsed from. */
  line: string;
}

export interface TlSchema {
  layer: number;
  combinators: TlCombinator[];
}

/** A TL object as plain data: `{ _: 'channel', id: 1n, access_hash: 2n, title: 'x', … }`. */
export interface TlObject {
  _: string;
  [field: string]: TlValue;
}

/**
 * Field values: int/double as number, long as bigint (a safe-integer number is accepted when
 * writing), int128/int256/bytes as Buffer, string as string, Bool and `true` flags as boolean,
 * vectors as arrays, `Object` as a TlObject or its encoded bytes (Buffer).
 */
export type TlValue = number | bigint | string | boolean | Buffer | TlObject | TlValue[] | null | undefined;

export class TlError extends Error {
  readonly code = 'EMU_TL';
}

export class TlUnknownConstructorError extends TlError {
  constructor(readonly id: number) {
    super(`unknown constructor 0x${id.toString(16).padStart(8, '0')}`);
  }
}
