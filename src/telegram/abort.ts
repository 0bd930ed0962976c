// AbortSignal plumbing for calls into GramJS, which cannot cancel a request once queued: the
// caller is released at once with `signal.reason`; the request finishes (and is ignored) in the
// background.

/** Throws `signal.reason` when the signal has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Settles like `promise`, or rejects with `signal.reason` as soon as the signal fires. */
export function raceWithSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined); // its outcome no longer matters; never unhandled
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

/** True for the rejection `raceWithSignal` produces when `signal` fired. */
export function isAbortOf(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted && err === abortReason(signal);
}

/**
 * Like `raceWithSignal`, and also rejects with `onTimeout()` after `ms` milliseconds
 * (no limit when `ms` is 0 or Infinity). The timer is cleared as soon as the race settles.
 */
export function raceWithDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  const raced = raceWithSignal(promise, signal);
  if (!(ms > 0 && Number.isFinite(ms))) return raced;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  promise.catch(() => undefined); // a late rejection after the deadline must not go unhandled
  return Promise.race([raced, deadline]).finally(() => clearTimeout(timer));
}
