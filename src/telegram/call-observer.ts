// What the telegram layer tells an observer about each upstream request (metrics live in app/;
// this layer does not import prom-client). The hook sits on the GramJS client's `invoke`
// (gramjs/invoke-observer.ts), so it sees every request a worker's client sends: the worker's
// own calls, those it makes for the catalog (channels.getMessages,
// updates.getChannelDifference) and GramJS's (auth.exportAuthorization for another DC), each
// counted once, as the server counts them.

/** One upstream request, reported when it has an answer (or failed). */
export interface UpstreamCall {
  /** TL method name, e.g. `upload.getFile`. */
  method: string;
  /** The bot id of the worker that sent it (never the token). */
  worker: number;
  /** Wall time from send to answer, in ms. */
  ms: number;
  /**
   * Why it failed: Telegram's error with its number stripped (`FLOOD_WAIT`, `FILE_MIGRATE`,
   * `FILE_REFERENCE_EXPIRED`, `LIMIT_INVALID`…), or a tgvfs code (`CONNECTION`, `UNEXPECTED`…).
   */
  error?: string;
  /** With `error: 'FLOOD_WAIT'`: the seconds Telegram asked to wait. */
  floodWaitSeconds?: number;
}

export interface CallObserver {
  onCall?(e: UpstreamCall): void;
}
