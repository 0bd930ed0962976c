// Watches the data folder (the root, for channel folders, and each channel folder, for files)
// and calls `onChange` once things have been quiet for `debounceMs` (a file being copied in is
// posted once, whole), with what fs.watch named: the folders and files touched. The
// emulator then looks at those files only (World.rescanChanged); an event without a name makes
// its folder (or, at the root, everything) be read whole.
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_NAME } from './manifest';

/** What changed since the last call: every folder (`all`), or per folder its files (null: all of them). */
export interface WatchHints {
  all: boolean;
  dirs: Map<string, Set<string> | null>;
}

export function emptyHints(): WatchHints {
  return { all: false, dirs: new Map() };
}

/** Adds `b` to `a`. */
export function mergeHints(a: WatchHints, b: WatchHints): void {
  a.all ||= b.all;
  for (const [dir, names] of b.dirs) {
    const had = a.dirs.get(dir);
    if (had === null) continue;
    if (names === null || had === undefined) a.dirs.set(dir, names === null ? null : new Set(names));
    else for (const n of names) had.add(n);
  }
}

export class DataWatcher {
  private root: fs.FSWatcher | null = null;
  private readonly dirs = new Map<string, fs.FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private hints = emptyHints();
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly onChange: (hints: WatchHints) => void,
    private readonly debounceMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.root = this.watch(this.dataDir, (file) => {
      if (file === null) this.hints.all = true;
      else this.touch(file, null);
    }, () => {
      this.root = null;
    });
    this.syncDirs();
  }

  /** Watches every channel folder there is now, and stops watching the ones that went away. */
  syncDirs(): void {
    if (this.closed) return;
    let names: string[];
    try {
      names = fs.readdirSync(this.dataDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    } catch {
      names = [];
    }
    const wanted = new Set(names);
    for (const [name, w] of this.dirs) {
      if (wanted.has(name)) continue;
      w.close();
      this.dirs.delete(name);
    }
    for (const name of wanted) {
      if (this.dirs.has(name)) continue;
      const w = this.watch(path.join(this.dataDir, name), (file) => this.touch(name, file), () => {
        this.dirs.delete(name);
        this.touch(name, null);
      });
      if (w) this.dirs.set(name, w);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.root?.close();
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }

  /** Notes file `file` of folder `dir` (null: the whole folder). */
  private touch(dir: string, file: string | null): void {
    const had = this.hints.dirs.get(dir);
    if (had === null) return;
    if (file === null) this.hints.dirs.set(dir, null);
    else if (had) had.add(file);
    else this.hints.dirs.set(dir, new Set([file]));
  }

  private watch(dir: string, onEvent: (file: string | null) => void, onGone: () => void): fs.FSWatcher | null {
    try {
      const w = fs.watch(dir, { persistent: false }, (_event, file) => {
        // Our own state folder and hidden files are never channels or messages; a manifest is.
        if (typeof file === 'string' && file.startsWith('.') && file !== MANIFEST_NAME) return;
        onEvent(typeof file === 'string' ? file : null);
        this.poke();
      });
      w.on('error', () => {
        w.close();
        onGone();
        this.poke();
      });
      return w;
    } catch (err) {
      this.log(`emulator: cannot watch ${dir}: ${(err as Error).message}`);
      return null;
    }
  }

  private poke(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const hints = this.hints;
      this.hints = emptyHints();
      if (!this.closed) this.onChange(hints);
    }, this.debounceMs);
    this.timer.unref();
  }
}
