// SIGINT/SIGTERM for a command that runs to an end (index, doctor): the first signal aborts
// the work through an AbortSignal so that it can close cleanly; a second one exits 130 at once.

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Removes the handlers (call when the work has ended). */
  dispose(): void;
}

export function interruptOnSignals(): Interrupt {
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error(`${sig}: interrupted`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
