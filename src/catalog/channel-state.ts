// The catalog's memory of each channel, shared by indexing (indexer.ts), pushed updates
// (follower.ts) and other instances' saves (instance-sync.ts): loaded from the store once,
// changed only inside the channel's queue, so that those never interleave, saved page by page,
// and announced to onChange listeners. Each document a worker fetched is also stored as that
// worker's DocInfo in the pool's metadata cache, so that streams need no channels.getMessages
// for it.
import { randomBytes } from 'node:crypto';
import type { ChannelChange } from '../telegram/channel-updates';
import type { DocInfo } from '../telegram/doc-info';
import type { Worker } from '../telegram/worker';
import type { WorkerPool } from '../telegram/worker-pool';
import { throwIfAborted } from '../util/abort';
import { compactFile } from './compact-file';
import { CatalogStore, PAGE_IDS, pageOf, type ChannelRecord } from './store';
import type { CatalogFile } from './types';

export interface ChannelState {
  record: ChannelRecord;
  files: Map<number, CatalogFile>;
  sorted: CatalogFile[] | null;
  /** Pages changed since the last save. */
  dirty: Set<number>;
}

export class ChannelStates {
  private readonly states = new Map<number, Promise<ChannelState>>();
  /** Serial work per channel: indexing, updates, catch-ups and refreshes never interleave. */
  private readonly queues = new Map<number, Promise<unknown>>();
  /** DocInfo writes not yet finished (awaited before a round is saved, and by close). */
  private readonly docWrites = new Set<Promise<void>>();
  private readonly listeners = new Set<(channel: number) => void>();
  /** This instance's part of every `rev` it writes, and how many saves it made. */
  private readonly instance = randomBytes(6).toString('hex');
  private saves = 0;

  constructor(
    private readonly store: CatalogStore,
    private readonly pool: WorkerPool | undefined,
    private readonly log: (line: string) => void,
    /** Aborted when the catalog closes: queued work does not start. */
    private readonly life: AbortSignal,
  ) {}

  /** The channel's state, loaded from the store on first use. */
  get(channel: number): Promise<ChannelState> {
    let st = this.states.get(channel);
    if (!st) {
      st = this.store.loadChannel(channel).then(({ record, files }) => ({
        record,
        files: fileMap(files),
        sorted: null,
        dirty: new Set<number>(),
      }));
      this.states.set(channel, st);
      st.catch(() => this.states.delete(channel));
    }
    return st;
  }

  /** Channels loaded (or loading) so far. */
  loaded(): number[] {
    return [...this.states.keys()];
  }

  /** Runs `task` after the channel's earlier work; a failure of that work does not stop it. */
  enqueue<T>(channel: number, task: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(channel) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => {
      throwIfAborted(this.life);
      return task();
    });
    const tail = next.catch(() => undefined);
    this.queues.set(channel, tail);
    void tail.then(() => {
      if (this.queues.get(channel) === tail) this.queues.delete(channel);
    });
    return next;
  }

  /** Waits for every queued task and DocInfo write. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
    await this.flushDocWrites();
  }

  /** Replaces the state with what the store holds (another instance saved it). */
  adopt(st: ChannelState, record: ChannelRecord, files: CatalogFile[]): void {
    st.record = record;
    st.files = fileMap(files);
    st.sorted = null;
    st.dirty.clear();
  }

  /** Writes the dirty pages and the record, stamped with a new `rev`. */
  async save(channel: number, st: ChannelState): Promise<void> {
    // The worker DocInfos first: a saved walk position promises them.
    await this.flushDocWrites();
    const pages = new Map<number, CatalogFile[]>();
    for (const n of st.dirty) {
      const files: CatalogFile[] = [];
      for (let id = n * PAGE_IDS; id < (n + 1) * PAGE_IDS; id++) {
        const f = st.files.get(id);
        if (f) files.push(f);
      }
      pages.set(n, files);
      if (files.length) {
        if (!st.record.pages.includes(n)) st.record.pages.push(n);
      } else st.record.pages = st.record.pages.filter((p) => p !== n);
    }
    st.dirty.clear();
    st.record.rev = `${this.instance}:${++this.saves}`;
    try {
      await this.store.save(channel, st.record, pages);
    } catch (err) {
      // Memory stays right; the pages are written with the next save (or a refresh's write-back).
      for (const n of pages.keys()) st.dirty.add(n);
      throw err;
    }
  }

  /** Applies upserts and deletions a worker reported to memory (saved by the caller). True when files changed. */
  apply(channel: number, st: ChannelState, worker: Worker, changes: readonly ChannelChange[]): boolean {
    let changed = false;
    const gone: number[] = [];
    const drop = (id: number): void => {
      st.files.delete(id);
      st.dirty.add(pageOf(id));
      changed = true;
      gone.push(id);
    };
    for (const c of changes) {
      if (c.kind === 'delete') {
        for (const id of c.ids) if (st.files.has(id)) drop(id);
        continue;
      }
      const { msgId, doc } = c;
      const before = st.files.get(msgId);
      if (!doc) {
        // messageEmpty (deleted), a service message or a post without a document: not a file.
        if (before) drop(msgId);
        continue;
      }
      const file = catalogFile(doc);
      // A document replaced by an edit: every worker's DocInfo is stale, in memory too, the
      // reporting worker's included (its memory may hold the old one); then this one is stored.
      if (before && (before.docId !== doc.id || before.media !== doc.media)) this.forgetDocs(channel, [msgId], null);
      this.rememberDoc(worker, doc);
      if (before && sameFile(before, file)) continue;
      st.files.set(msgId, compactFile(file));
      st.dirty.add(pageOf(msgId));
      changed = true;
    }
    if (gone.length) this.forgetDocs(channel, gone, null);
    if (changed) st.sorted = null;
    return changed;
  }

  /** Stores a worker's DocInfo (its own file reference) in the metadata cache; failures are logged. */
  rememberDoc(worker: Worker, doc: DocInfo): void {
    const cache = this.pool?.cache;
    if (!cache) return;
    const write = cache.setDoc(worker.id, doc.channel, doc.msgId, doc).catch((err: Error) => this.log(`catalog: metadata cache write failed: ${err.message}`));
    this.docWrites.add(write);
    void write.then(() => this.docWrites.delete(write));
  }

  onChange(listener: (channel: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every onChange listener; a listener that throws is logged. */
  emit(channel: number): void {
    for (const l of [...this.listeners]) {
      try {
        l(channel);
      } catch (err) {
        this.log(`catalog: onChange listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async flushDocWrites(): Promise<void> {
    while (this.docWrites.size) await Promise.all([...this.docWrites]);
  }

  private forgetDocs(channel: number, ids: number[], except: Worker | null): void {
    for (const w of this.pool?.workers ?? []) {
      if (w === except) continue;
      for (const id of ids) void w.invalidateDoc(channel, id).catch(() => undefined);
    }
  }
}

function fileMap(files: CatalogFile[]): Map<number, CatalogFile> {
  return new Map(files.map((f) => [f.msgId, Object.isFrozen(f) ? f : compactFile(f)]));
}

/** The catalog's part of a DocInfo (no per-account location). */
export function catalogFile(doc: DocInfo): CatalogFile {
  const file: CatalogFile = {
    channel: doc.channel, msgId: doc.msgId, docId: doc.id, size: doc.size, mimeType: doc.mimeType, name: doc.name,
    date: doc.date, thumbs: doc.thumbs.map((t) => ({ type: t.type, w: t.w, h: t.h, size: t.size })),
  };
  // Only when set: the stored JSON of a plain document stays what it was.
  if (doc.media !== undefined) file.media = doc.media;
  if (doc.title !== undefined) file.title = doc.title;
  if (doc.caption !== undefined) file.caption = doc.caption;
  return file;
}

/** Same file as far as listing and reading go (an edit of anything else changes nothing). */
function sameFile(a: CatalogFile, b: CatalogFile): boolean {
  return (
    a.docId === b.docId && a.size === b.size && a.name === b.name && a.date === b.date &&
    a.media === b.media && a.title === b.title && a.caption === b.caption
  );
}
