// A channel folder's listing, kept up to date in place: a catalog change costs a merge of the new
// file list against the old (pointer comparisons for unchanged files) plus naming work for the
// names the change touches, instead of re-sorting, re-naming and fingerprinting every file.
//
// The names are exactly assignFileNames's (names.ts) for the same files: the first claimant (lowest
// message id) of a case-insensitive base name keeps it; every later claimant (a "loser") is named by
// the second pass, in message-id order, against all plain names and earlier losers. Losers are few
// in real channels, so that pass is re-run whole on a change (O(losers)); plain names are settled
// per affected base name. test/vfs-folder-index.test.ts checks random changes against a rebuild.
//
// Memory per file (64-bit Node 20, measured at 100k): ~48 B for the entry object and its array slot,
// ~37 B for its Map entry (keyed by a hash of the lower-cased name: no string copy,
// name-key-map.ts); the name shares the catalog's string when it is the document's own file name.
// The catalog's CatalogFile (~250 B with its strings) is referenced, never copied.
import type { CatalogFile } from '../catalog/types';
import { largestThumb } from '../util/media';
import { NameKeyMap } from './name-key-map';
import { baseFileName, nameKey, splitExtension } from './names';

export interface IndexEntry {
  name: string;
  file: CatalogFile;
}

/** `stem (tag).ext`, as names.ts tags a clash. */
function tagged(name: string, tag: string): string {
  const { stem, ext } = splitExtension(name);
  return `${stem} (${tag})${ext}`;
}

/** The base name, sharing the catalog's string when it is the document's own name. */
function baseOf(file: CatalogFile): string {
  const base = baseFileName(file);
  return base === file.name ? file.name : base;
}

/** What a listing shows of a file besides its name: a difference means "changed". */
function sameListing(a: CatalogFile, b: CatalogFile): boolean {
  if (a === b) return true;
  const ta = largestThumb(a.thumbs);
  const tb = largestThumb(b.thumbs);
  return a.docId === b.docId && a.size === b.size && a.date === b.date && a.mimeType === b.mimeType &&
    a.name === b.name && a.media === b.media && a.title === b.title && a.caption === b.caption &&
    ta?.type === tb?.type && ta?.size === tb?.size;
}

/** Whether the name could differ (the inputs of baseFileName). */
function sameNaming(a: CatalogFile, b: CatalogFile): boolean {
  return a === b || (a.name === b.name && a.mimeType === b.mimeType && a.media === b.media && a.title === b.title && a.caption === b.caption);
}

export class FolderIndex {
  /**
   * Files in message-id order. Each update makes a new array and never changes an old one, so a
   * reader may keep the array it got as the listing of that moment (names may still be renamed).
   */
  entries: readonly IndexEntry[] = [];
  /** Entries by final name, ignoring case. */
  private readonly byKey = new NameKeyMap<IndexEntry>();
  /** Entries named by the second pass (their base name is held by a lower id). */
  private readonly losers = new Set<IndexEntry>();
  bytes = 0;
  thumbCount = 0;
  thumbBytes = 0;
  /** Newest message date, epoch ms (0 when empty). */
  newestMs = 0;

  /**
   * @param bulkFraction a change naming more than this fraction of the folder names it all in one
   *   pass (cheaper than per-name work then); tests pass Infinity to exercise the in-place paths.
   */
  constructor(private readonly bulkFraction = 1 / 8) {}

  /** The entry named `name` exactly. */
  byName(name: string): IndexEntry | undefined {
    const e = this.byKey.get(name);
    return e && e.name === name ? e : undefined;
  }

  /** The entry of a message (binary search: no per-file map). */
  byMsgId(msgId: number): IndexEntry | undefined {
    const a = this.entries;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const id = a[mid]!.file.msgId;
      if (id === msgId) return a[mid];
      if (id < msgId) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Brings the index to `files` (any order; the catalog's is by message id). Returns whether
   * anything a listing shows changed (ids, documents, names, sizes, dates, thumbnails).
   */
  update(files: readonly CatalogFile[]): boolean {
    const sorted = isSorted(files) ? files : [...files].sort((a, b) => a.msgId - b.msgId);
    const old = this.entries;
    const lastOldId = old.length > 0 ? old[old.length - 1]!.file.msgId : 0;
    // Unchanged files at the head (all of them, when posts were only added): copied in one go.
    let same = 0;
    while (same < old.length && same < sorted.length && old[same]!.file === sorted[same]) same++;
    const next: IndexEntry[] = old.slice(0, same);
    const pending: IndexEntry[] = [];
    const affected = new Set<string>();
    let changed = false;
    let i = same;
    let j = same;
    const drop = (e: IndexEntry): void => {
      this.unname(e, affected);
      this.account(e.file, -1);
      changed = true;
    };
    for (; j < sorted.length; j++) {
      const f = sorted[j]!;
      while (i < old.length && old[i]!.file.msgId < f.msgId) drop(old[i++]!);
      const e = i < old.length && old[i]!.file.msgId === f.msgId ? old[i++]! : undefined;
      if (!e) {
        const added = { name: '', file: f };
        pending.push(added);
        this.account(f, 1);
        next.push(added);
        changed = true;
        continue;
      }
      next.push(e);
      if (e.file === f) continue;
      if (!sameListing(e.file, f)) changed = true;
      this.account(e.file, -1);
      this.account(f, 1);
      if (!sameNaming(e.file, f)) {
        this.unname(e, affected);
        pending.push(e);
      }
      e.file = f;
    }
    while (i < old.length) drop(old[i++]!);
    this.entries = next;
    if (this.newestMs === -1) this.newestMs = next.reduce((m, e) => Math.max(m, e.file.date * 1000), 0);
    if (old.length === 0 || pending.length + affected.size > next.length * this.bulkFraction) changed = this.renameAll() || changed;
    else if (affected.size === 0 && pending.length > 0 && pending[0]!.file.msgId > lastOldId && this.appendNames(pending)) changed = true;
    else if (pending.length > 0 || affected.size > 0) changed = this.rename(pending, affected) || changed;
    return changed;
  }

  /**
   * New posts only, all after every known one (the usual change): names.ts's two passes over the
   * new files alone give the same names as over the whole folder, since every earlier file keeps
   * its claim and every existing loser comes before the new ones — unless a new plain name is one
   * an existing loser was given (false: the caller renames the general way). Costs O(new files).
   */
  private appendNames(pending: IndexEntry[]): boolean {
    const bases = pending.map((e) => baseOf(e.file));
    for (const base of bases) {
      const holder = this.byKey.get(base);
      if (holder && this.losers.has(holder)) return false;
    }
    const newLosers: IndexEntry[] = [];
    pending.forEach((e, k) => {
      const base = bases[k]!;
      if (this.byKey.has(base)) newLosers.push(e);
      else {
        e.name = base;
        this.byKey.set(e);
      }
    });
    for (const e of newLosers) this.losers.add(e);
    this.nameLosers(newLosers);
    return true;
  }

  /** Names every file again (first build, or a change touching much of the folder): names.ts's two passes. */
  private renameAll(): boolean {
    const before = this.entries.map((e) => e.name);
    this.byKey.clear();
    this.losers.clear();
    for (const e of this.entries) {
      const base = baseOf(e.file);
      if (this.byKey.has(base)) this.losers.add(e);
      else {
        e.name = base;
        this.byKey.set(e);
      }
    }
    this.nameLosers();
    return this.entries.some((e, k) => e.name !== before[k]);
  }

  /** Takes `e`'s name away (it is being removed or renamed) and marks its base name affected. */
  private unname(e: IndexEntry, affected: Set<string>): void {
    if (e.name === '') return;
    this.byKey.delete(e);
    this.losers.delete(e);
    affected.add(nameKey(baseOf(e.file)));
  }

  /** Counters; a removal of the newest file asks for a recount (-1). */
  private account(f: CatalogFile, sign: 1 | -1): void {
    this.bytes += sign * f.size;
    const t = largestThumb(f.thumbs);
    if (t) {
      this.thumbCount += sign;
      this.thumbBytes += sign * t.size;
    }
    const ms = f.date * 1000;
    if (sign === 1 && this.newestMs !== -1) this.newestMs = Math.max(this.newestMs, ms);
    else if (sign === -1 && ms >= this.newestMs) this.newestMs = -1;
  }

  /** Settles plain names of the affected base names, then names every loser again. Returns whether a name changed. */
  private rename(pending: IndexEntry[], affected: Set<string>): boolean {
    const before = new Map<IndexEntry, string>();
    const claimants = new Map<string, IndexEntry[]>();
    const claim = (e: IndexEntry, base: string): void => {
      const key = nameKey(base);
      const list = claimants.get(key);
      if (list) list.push(e);
      else claimants.set(key, [e]);
    };
    for (const e of this.losers) {
      before.set(e, e.name);
      this.byKey.delete(e);
    }
    const losers = [...this.losers];
    this.losers.clear();
    for (const e of pending) {
      before.set(e, e.name);
      const key = nameKey(baseOf(e.file));
      affected.add(key);
    }
    for (const key of affected) {
      const holder = this.byKey.get(key);
      if (holder) {
        before.set(holder, holder.name);
        this.byKey.delete(holder);
        claim(holder, baseOf(holder.file));
      }
    }
    for (const e of [...pending, ...losers]) {
      const base = baseOf(e.file);
      if (affected.has(nameKey(base))) claim(e, base);
      else this.losers.add(e);
    }
    for (const list of claimants.values()) {
      list.sort((a, b) => a.file.msgId - b.file.msgId);
      const winner = list[0]!;
      winner.name = baseOf(winner.file);
      this.byKey.set(winner);
      for (let k = 1; k < list.length; k++) this.losers.add(list[k]!);
    }
    this.nameLosers();
    let renamed = false;
    for (const [e, name] of before) if (e.name !== name) renamed = true;
    return renamed;
  }

  /** names.ts's second pass: each loser, in message-id order, `name (msgId)` then `(n)`. */
  private nameLosers(which: Iterable<IndexEntry> = this.losers): void {
    const order = [...which].sort((a, b) => a.file.msgId - b.file.msgId);
    for (const e of order) {
      const first = tagged(baseOf(e.file), String(e.file.msgId));
      let name = first;
      for (let n = 2; this.byKey.has(name); n++) name = tagged(first, String(n));
      e.name = name;
      this.byKey.set(e);
    }
  }
}

function isSorted(files: readonly CatalogFile[]): boolean {
  for (let k = 1; k < files.length; k++) if (files[k - 1]!.msgId >= files[k]!.msgId) return false;
  return true;
}
