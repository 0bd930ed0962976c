// The emulator's persisted state as a snapshot (state.json) plus an append-only journal
// (state.journal) of per-file changes, so that a change to a folder of 300,000 files writes a
// line about that file, not the whole state. The journal is folded into a new snapshot once it
// outgrows the snapshot (amortized: each change is written a bounded number of times).
//
// Crash safety: a snapshot is written to a temporary file and renamed over state.json; it bears
// a generation (`gen`) one higher than the one before, and every journal line bears the
// generation it applies to. Lines of another generation (a journal not yet truncated after a
// snapshot) are skipped, and so is a torn last line.
import { appendFile, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What the journal needs of a persisted channel (world.ts PersistedChannel has more). */
export interface JournalledChannel {
  id: number;
  files: Record<string, number>;
  top: number;
  pts?: number;
  stamps?: Record<string, string>;
}

export interface JournalledState {
  /** Snapshot generation: the journal lines that apply to this snapshot bear it. */
  gen?: number;
  channels: Record<string, JournalledChannel>;
}

/** One line: a channel's counters and its files touched by one change (null: gone). */
interface JournalLine {
  g: number;
  c: string;
  id: number;
  top: number;
  pts: number;
  f: Record<string, [number, string] | null>;
}

/** Journal bytes past which a snapshot is taken even if the snapshot is smaller. */
const MIN_COMPACT_BYTES = 1 << 20;

export class StateJournal {
  private journalBytes = 0;
  private snapshotBytes = 0;

  constructor(private readonly dir: string) {}

  private get snapshotPath(): string {
    return path.join(this.dir, 'state.json');
  }

  private get journalPath(): string {
    return path.join(this.dir, 'state.journal');
  }

  /** The snapshot with the journal's lines of its generation applied; undefined when there is none. */
  async load<S extends JournalledState>(): Promise<S | undefined> {
    let state: S;
    try {
      const snapshot = await readFile(this.snapshotPath, 'utf8');
      state = JSON.parse(snapshot) as S;
      this.snapshotBytes = snapshot.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let text = '';
    try {
      text = await readFile(this.journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.journalBytes = text.length;
    const gen = state.gen ?? 0;
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (line && line.g === gen) replay(state, line);
    }
    return state;
  }

  /** Writes a full snapshot of `state` (a new generation) and empties the journal. */
  async snapshot(state: JournalledState): Promise<void> {
    state.gen = (state.gen ?? 0) + 1;
    const text = JSON.stringify(state, null, 1);
    const tmp = `${this.snapshotPath}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, this.snapshotPath);
    const fh = await open(this.journalPath, 'w', 0o600);
    await fh.close();
    this.snapshotBytes = text.length;
    this.journalBytes = 0;
  }

  /**
   * Records the current values of `names` in channel `name` (after a change to them); takes a
   * snapshot instead when the journal has outgrown the last one.
   */
  async record(state: JournalledState, name: string, names: Iterable<string>): Promise<void> {
    const ch = state.channels[name];
    if (!ch) return;
    const f: JournalLine['f'] = {};
    for (const n of names) {
      const id = ch.files[n];
      f[n] = id === undefined ? null : [id, ch.stamps?.[n] ?? ''];
    }
    const line: JournalLine = { g: state.gen ?? 0, c: name, id: ch.id, top: ch.top, pts: ch.pts ?? ch.top + 1, f };
    const text = `${JSON.stringify(line)}\n`;
    this.journalBytes += text.length;
    if (this.journalBytes > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)) return this.snapshot(state);
    await appendFile(this.journalPath, text, { mode: 0o600 });
  }
}

function parseLine(raw: string): JournalLine | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as JournalLine;
    return typeof v === 'object' && v !== null && typeof v.c === 'string' && typeof v.g === 'number' && typeof v.f === 'object' ? v : undefined;
  } catch {
    return undefined; // a line torn by a crash
  }
}

function replay(state: JournalledState, line: JournalLine): void {
  const ch = (state.channels[line.c] ??= { id: line.id, files: {}, top: line.top, pts: line.pts, stamps: {} });
  ch.top = Math.max(ch.top, line.top);
  ch.pts = line.pts;
  const stamps = (ch.stamps ??= {});
  for (const [n, v] of Object.entries(line.f)) {
    if (v === null) {
      delete ch.files[n];
      delete stamps[n];
    } else {
      ch.files[n] = v[0];
      stamps[n] = v[1];
    }
  }
}
