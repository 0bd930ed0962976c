// The log lines of something under test (a pool, a server), and a promise for a line to come:
// a test awaits the event a log line marks instead of polling or sleeping.

/** Log lines of a pool, and a promise per awaited line (bounded: a hang becomes a failure). */
export class LogLines {
  readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (!w.re.test(line)) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };

  /** The first line (already logged or to come) matching `re`. */
  waitFor(re: RegExp, ms = 30_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line ${re} within ${ms} ms; got:\n${this.lines.join('\n')}`)), ms);
      this.waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}
