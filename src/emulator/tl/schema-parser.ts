// Parser of TL schema text (https://core.telegram.org/mtproto/TL): one combinator a line,
// `name#id {X:Type} field:type … = Type;`, constructors until `---functions---`, methods after
// it (until `---types---`). Understood: `#` flags fields (any name: `flags`, `flags2`),
// `flags.N?T` and `flags.N?true`, `Vector<T>` and bare `vector<T>`, `%T` and lowercase bare
// types, generic queries (`{X:Type} … query:!X = X`). Built-in type lines (`int ? = Int;`,
// `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`) are skipped.
import { crc32 } from 'node:zlib';
import { TlError, type TlCombinator, type TlParam, type TlSchema, type TlType } from './types';

const SCALARS = new Set(['int', 'long', 'double', 'string', 'bytes', 'int128', 'int256', 'Bool', 'true', 'Object']);
const LINE = /^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?((?:\s+[^=\s]+)*)\s*=\s*([^;]+);$/;

export function parseSchema(text: string, layer: number): TlSchema {
  const combinators: TlCombinator[] = [];
  let kind: TlCombinator['kind'] = 'constructor';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    if (line === '---functions---') kind = 'method';
    else if (line === '---types---') kind = 'constructor';
    else {
      const c = parseLine(line, kind, layer);
      if (c) combinators.push(c);
    }
  }
  return { layer, combinators };
}

function parseLine(line: string, kind: TlCombinator['kind'], layer: number): TlCombinator | null {
  const m = LINE.exec(line);
  if (!m || m[1] === 'vector') return null;
  const [, name, hexId, paramText, resultText] = m as unknown as [string, string, string | undefined, string, string];
  const tokens = paramText.trim().split(/\s+/).filter(Boolean);
  if (tokens.some((t) => t === '?' || t.startsWith('['))) return null;
  const generics = new Set<string>();
  const params: TlParam[] = [];
  for (const token of tokens) {
    const g = /^\{(\w+):Type\}$/.exec(token);
    if (g) generics.add(g[1]!);
    else params.push(parseParam(token, generics, line));
  }
  const type = resultText.trim();
  return { name, id: hexId ? parseInt(hexId, 16) : 0, kind, params, type, result: parseType(type, generics, line), layer, line };
}

function parseParam(token: string, generics: Set<string>, line: string): TlParam {
  const colon = token.indexOf(':');
  if (colon <= 0) throw new TlError(`bad parameter "${token}" in: ${line}`);
  const name = token.slice(0, colon);
  const typeText = token.slice(colon + 1);
  if (typeText === '#') return { name, type: { kind: 'flags' } };
  const cond = /^(\w+)\.(\d+)\?(.+)$/.exec(typeText);
  if (cond) return { name, type: parseType(cond[3]!, generics, line), flag: { field: cond[1]!, bit: Number(cond[2]) } };
  return { name, type: parseType(typeText, generics, line) };
}

export function parseType(text: string, generics: Set<string>, line: string): TlType {
  const vec = /^([Vv])ector\s*<(.+)>$/.exec(text) ?? /^([Vv])ector\s+(.+)$/.exec(text);
  if (vec) return { kind: 'vector', boxed: vec[1] === 'V', of: parseType(vec[2]!.trim(), generics, line) };
  if (text.startsWith('!')) return { kind: 'generic', name: text.slice(1) };
  if (generics.has(text)) return { kind: 'generic', name: text };
  if (SCALARS.has(text)) return { kind: text as 'int' };
  if (text.startsWith('%')) return { kind: 'bare', name: bareName(text.slice(1)) };
  const last = text.slice(text.lastIndexOf('.') + 1);
  if (!last) throw new TlError(`bad type "${text}" in: ${line}`);
  // A lowercase name is a constructor used bare (`future_salt`); an uppercase one a type.
  return last[0] === last[0]!.toLowerCase() ? { kind: 'bare', name: text } : { kind: 'boxed', type: text };
}

/** `%Message` is the bare form of the single constructor of Message: `message`. */
function bareName(type: string): string {
  const dot = type.lastIndexOf('.');
  return type.slice(0, dot + 1) + type[dot + 1]!.toLowerCase() + type.slice(dot + 2);
}

/**
 * The id a combinator's line should have: crc32 of the line without its id, `bytes` read as
 * `string`, `<>` and braces dropped, and `?true` flags left out (Telegram's own rule; a few
 * ids in Telegram's schema predate it).
 */
export function computedId(line: string): number {
  let repr = line.replace(/#[0-9a-fA-F]+/, '').replace(/;$/, '').trim();
  repr = repr.replaceAll(':bytes ', ':string ').replaceAll('?bytes ', '?string ');
  repr = repr.replaceAll('<', ' ').replaceAll('>', '').replaceAll('{', '').replaceAll('}', '');
  repr = repr.replace(/ \w+:flags\d*\.\d+\?true/g, '');
  return crc32(Buffer.from(repr, 'utf8')) >>> 0;
}
