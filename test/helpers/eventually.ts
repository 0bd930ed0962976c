// Waiting for a condition that has no event to await (a metric, a counter in another process, an
// engine counter that settles in a callback the test cannot await). The deadline is a fail-safe
// that turns a hang into a failure with a message, not a bound on how fast things must be.

/** Polls `check` until it passes or `ms` have gone by (then its last failure is thrown). */
export async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Polls `pred` every 20 ms until it holds; after `ms`, fails with `what()`. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
