// Entries by case-insensitive name (names.ts nameKey) without storing a lower-cased copy of every
// name: the map is keyed by a 32-bit hash of the key (a small integer, no string), and a hash
// shared by different keys holds a short array. Saves ~32 bytes per file at 100k+ files.
// An entry's name must not change while it is in the map (remove it, rename, add it again).
import { nameKey } from './names';

interface Named {
  name: string;
}

/** FNV-1a over the UTF-16 units of nameKey(name); ASCII names are lowered inline (no allocation). */
export function keyHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 128) return hashUnits(nameKey(name));
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h | 0;
}

function hashUnits(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function sameKey(a: string, b: string): boolean {
  return a === b || nameKey(a) === nameKey(b);
}

export class NameKeyMap<T extends Named> {
  private readonly map = new Map<number, T | T[]>();

  /** The entry whose name equals `name` ignoring case, if any. */
  get(name: string): T | undefined {
    const v = this.map.get(keyHash(name));
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return sameKey(v.name, name) ? v : undefined;
    return v.find((e) => sameKey(e.name, name));
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds `e` under its name, replacing an entry of the same key. */
  set(e: T): void {
    const h = keyHash(e.name);
    const v = this.map.get(h);
    if (v === undefined) this.map.set(h, e);
    else if (Array.isArray(v)) {
      const i = v.findIndex((x) => sameKey(x.name, e.name));
      if (i === -1) v.push(e);
      else v[i] = e;
    } else if (sameKey(v.name, e.name)) this.map.set(h, e);
    else this.map.set(h, [v, e]);
  }

  /** Removes `e` (by identity; nothing when it is not there). */
  delete(e: T): void {
    const h = keyHash(e.name);
    const v = this.map.get(h);
    if (v === e) this.map.delete(h);
    else if (Array.isArray(v)) {
      const rest = v.filter((x) => x !== e);
      if (rest.length === v.length) return;
      this.map.set(h, rest.length === 1 ? rest[0]! : rest);
    }
  }

  clear(): void {
    this.map.clear();
  }
}
