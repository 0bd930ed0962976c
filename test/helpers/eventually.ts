// Waiting for a condition that has no event to await (a metric, a counter in another process).

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
