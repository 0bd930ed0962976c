// Watches the data folder (the root, for channel folders, and each channel folder, for files)
// and calls `onChange` once things have been quiet for `debounceMs`. fs.watch only says that
// something happened; the emulator rescans and diffs (World.rescan) to learn what.
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_NAME } from './manifest';

export class DataWatcher {
  private root: fs.FSWatcher | null = null;
  private readonly dirs = new Map<string, fs.FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly onChange: () => void,
    private readonly debounceMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.root = this.watch(this.dataDir, () => {
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
      const w = this.watch(path.join(this.dataDir, name), () => this.dirs.delete(name));
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

  private watch(dir: string, onGone: () => void): fs.FSWatcher | null {
    try {
      const w = fs.watch(dir, { persistent: false }, (_event, file) => {
        // Our own state folder and hidden files are never channels or messages; a manifest is.
        if (typeof file === 'string' && file.startsWith('.') && file !== MANIFEST_NAME) return;
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
      if (!this.closed) this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }
}
