// Deadlines and aborts, one set for every layer. Much of what we wait on cannot be cancelled once
// started (a GramJS request already queued, an fs call on a hung mount): the caller is released
// at once with `signal.reason` or a timeout error, and the work finishes, ignored, in the
// background. Late rejections are always caught so they never surface as unhandled.

/** `signal.reason`, or a standard AbortError when the signal was aborted without one. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Throws `signal.reason` when the signal has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** Settles like `promise`, or rejects with `signal.reason` as soon as the signal fires. */
export function raceWithSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export interface DeadlineOptions<T> {
  /** Releases the caller early with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Receives what `promise` yields after the deadline passed (or the caller was released), so
   * that a late worker, store or handle is closed rather than leaked.
   */
  dispose?: (late: T) => unknown;
}

/**
 * Like `raceWithSignal`, and also rejects with `onTimeout()` after `ms` milliseconds (no limit
 * when `ms` is 0 or Infinity). The timer is cleared as soon as the race settles.
 */
export function raceWithDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  options: AbortSignal | DeadlineOptions<T> = {},
): Promise<T> {
  const { signal, dispose } = options instanceof AbortSignal ? { signal: options, dispose: undefined } : options;
  let gaveUp = false;
  const raced = raceWithSignal(promise, signal);
  let timer: NodeJS.Timeout | undefined;
  const limited = !(ms > 0 && Number.isFinite(ms))
    ? raced
    : Promise.race([
      raced,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  promise.catch(() => undefined);
  if (dispose) {
    limited.catch(() => {
      gaveUp = true;
    });
    promise.then(
      (value) => {
        if (gaveUp) void Promise.resolve(dispose(value)).catch(() => undefined);
      },
      () => undefined,
    );
  }
  return limited;
}

/**
 * `fn(signal)`'s result, or `onTimeout()` after `ms` with `signal` aborted by that same error,
 * so that work which can stop, stops. The timer does not keep the process alive.
 */
export function withDeadline<T>(ms: number, onTimeout: () => Error, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = onTimeout();
      ac.abort(err);
      reject(err);
    }, ms);
    timer.unref();
    fn(ac.signal).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
