// Several TL schemas as one table: every constructor and method by id (any loaded layer, for
// reading what any client sends) and by name per layer (for writing to a client at layer L the
// newest definition at or below L, as Telegram answers each client in the layer it declared).
// The MTProto service schema is layer 0: below every layer, the same for all.
import { TlError, type TlCombinator, type TlSchema } from './types';

export class TlRegistry {
  private readonly ids = new Map<number, TlCombinator>();
  /** Name → definitions, oldest layer first. */
  private readonly names = new Map<string, TlCombinator[]>();
  private readonly bare = new Map<string, TlCombinator>();
  /** API layers held, ascending (the service schema's 0 not included). */
  readonly layers: number[];

  constructor(service: TlSchema, apis: TlSchema[]) {
    const ordered = [service, ...[...apis].sort((a, b) => a.layer - b.layer)];
    for (const schema of ordered) for (const c of schema.combinators) this.add(c);
    this.layers = ordered.slice(1).map((s) => s.layer);
  }

  private add(c: TlCombinator): void {
    if (c.id !== 0) this.ids.set(c.id, withTrueFlagsOf(this.ids.get(c.id), c));
    // Bare names resolve to the service schema first (its `message` is not the API's `message`).
    if (c.layer === 0 || !this.bare.has(c.name) || this.bare.get(c.name)!.layer !== 0) this.bare.set(c.name, c);
    const list = this.names.get(c.name) ?? [];
    const last = list[list.length - 1];
    // Unchanged since an older layer: that older entry already serves this layer too. (The same
    // id is not enough: `true` flags are left out of the id, and layers add and drop them.)
    if (!last || last.line !== c.line || c.id === 0) list.push(c);
    this.names.set(c.name, list);
  }

  get oldest(): number {
    return this.layers[0]!;
  }

  get newest(): number {
    return this.layers[this.layers.length - 1]!;
  }

  /** Whether a client declaring this layer is served (between the oldest and newest schema held). */
  serves(layer: number): boolean {
    return Number.isInteger(layer) && layer >= this.oldest && layer <= this.newest;
  }

  byId(id: number): TlCombinator | undefined {
    return this.ids.get(id);
  }

  /** The definition of `name` a client at `layer` gets: the newest at or below its layer. */
  pick(name: string, layer: number): TlCombinator {
    const list = this.names.get(name);
    if (!list) throw new TlError(`no TL combinator named ${name}`);
    let found: TlCombinator | undefined;
    for (const c of list) if (c.layer <= layer) found = c;
    if (!found) throw new TlError(`${name} does not exist at layer ${layer} (first in ${list[0]!.layer})`);
    return found;
  }

  /**
   * A combinator used bare (`future_salt`, `%Message`): the service schema's when it has one,
   * else the API's at `layer` (the newest when reading).
   */
  bareByName(name: string, layer = Infinity): TlCombinator {
    const c = this.bare.get(name);
    if (!c) throw new TlError(`no bare combinator ${name}`);
    return c.layer === 0 || layer === Infinity ? c : this.pick(name, layer);
  }

  /** Every layer in which `name` has a definition of its own (for tests and reports). */
  definitions(name: string): TlCombinator[] {
    return this.names.get(name) ?? [];
  }
}

/**
 * The definition to read an id with: the newest text, plus the `true` flags older texts of the
 * same id had (they take no bytes, so reading with all of them loses nothing any layer sent).
 */
function withTrueFlagsOf(older: TlCombinator | undefined, newer: TlCombinator): TlCombinator {
  if (!older) return newer;
  const names = new Set(newer.params.map((p) => p.name));
  const extra = older.params.filter((p) => p.type.kind === 'true' && !names.has(p.name));
  if (!extra.length) return newer;
  const params = [...newer.params];
  for (const p of extra) {
    const flagsAt = params.findIndex((q) => q.name === p.flag!.field);
    if (flagsAt >= 0) params.splice(flagsAt + 1, 0, p);
  }
  return { ...newer, params };
}
