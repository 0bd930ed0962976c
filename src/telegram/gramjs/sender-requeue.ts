// Requests in flight survive a reconnect of a GramJS sender: every request not answered when the
// connection dropped is sent again on the new one (each under a new msg_id: the session is new,
// so the old ids will never be answered), or, when the sender cannot reconnect, rejected with
// TelegramConnectionError (the pool's 'down': it moves the call to another worker). No request is
// left waiting for an answer that cannot come.
//
// Replaces (telegram 2.26.22): network/MTProtoSender.js, MTProtoSender.prototype._reconnect. Its
// version re-sends only the queued states that had been given a msg_id: a request invoked while
// the connection was down (no send loop running to dequeue it) had none, `_sendQueue.clear()`
// dropped it, and its promise never settled (gram-js/gramjs#375, #566: "message gets lost without
// any notice"). It also sent twice what the new send loop had already sent (it prepends
// `_pendingState` again after `connect`).
// A second `_reconnect` while one is under way joins it; GramJS's `autoReconnectCallback`
// (getMe) runs only once connected (on a sender that could not reconnect it would wait for ever).
// Wraps MTProtoSender.prototype._sendLoop: while `isReconnecting`, the send queue's `get` takes
// nothing out, so a send loop that wakes up during a reconnect returns (its "Reconnecting"
// branch) without having dequeued, and then dropped, a batch.
// Relies on: extensions/MessagePacker.js keeping every state appended to it (but MsgsAck) in
// `_pendingStates` until the state's promise settles, whether it waits in `_queue`, was sent, or
// was dequeued and dropped; `clear()` emptying `_queue` and waking the send loop; `get()` giving
// each state it dequeues a fresh msg_id. MTProtoSender: `_pendingState` holds what was sent and
// not answered; `reconnect()` sets `isReconnecting` and calls `_reconnect` (so does
// client/telegramBaseClient.js's release timer of exported senders, directly); `_connect` clears
// `isReconnecting` before it starts a new send loop (only when `_sendLoopHandle` is unset);
// `connect(connection, true)` resolves false once every retry failed; `_state.reset()` starts a
// new session. A request's bytes (`state.data`) do not depend on its msg_id.
import { MTProtoSender } from 'telegram/network/MTProtoSender';
import type { Connection } from 'telegram/network';
import type { RequestState } from 'telegram/network/RequestState';
import { TelegramConnectionError } from '../errors';

/** What `_reconnect` reads of a GramJS Connection to build the next one like it. */
interface ConnectionInternals {
  _ip: string;
  _port: number;
  _dcId: number;
  _log: unknown;
  _proxy: unknown;
  _testServers: boolean;
}

type ConnectionParams = ConstructorParameters<typeof Connection>[0];

/** The MessagePacker fields this patch reads (extensions/MessagePacker.js). */
interface PackerInternals {
  _pendingStates: RequestState[];
  /** What waits to be sent; `undefined` marks a wake-up. */
  _queue: (RequestState | undefined)[];
  get(): Promise<unknown>;
  clear(): void;
  prepend(states: RequestState[]): void;
}

/** The MTProtoSender fields this patch reads (network/MTProtoSender.js). */
interface SenderInternals {
  isReconnecting: boolean;
  _connection?: Connection;
  _dcId: number;
  _sendQueue: PackerInternals;
  _pendingState: { values(): RequestState[]; clear(): void };
  _state: { reset(): void };
  _log: { warn(message: string): void };
  _client: { networkSocket: unknown };
  _autoReconnectCallback?: () => Promise<void> | void;
  _disconnect(): Promise<void>;
  _sendLoop(): Promise<void>;
  _reconnect(): Promise<void>;
  connect(connection: Connection, force: boolean): Promise<boolean>;
}

const proto = MTProtoSender.prototype as unknown as SenderInternals;
let original: { reconnect: SenderInternals['_reconnect']; sendLoop: SenderInternals['_sendLoop'] } | null = null;
/** Send queues whose `get` already holds still during a reconnect. */
const held = new WeakSet<PackerInternals>();
/** The reconnect under way per sender: a second call joins it rather than sending everything twice. */
const underway = new WeakMap<SenderInternals, Promise<boolean>>();

/** Installs the replacement `_reconnect` and the guarded `_sendLoop`. Safe to call any number of times. */
export function installSenderRequeue(): void {
  if (original) return;
  original = { reconnect: proto._reconnect, sendLoop: proto._sendLoop };
  const sendLoop = original.sendLoop;
  proto._sendLoop = function guardedSendLoop(this: SenderInternals): Promise<void> {
    holdQueueWhileReconnecting(this);
    return sendLoop.call(this);
  };
  proto._reconnect = reconnectKeepingRequests;
}

export function isSenderRequeueInstalled(): boolean {
  return original !== null && proto._reconnect === reconnectKeepingRequests;
}

/** Puts GramJS's own methods back (tests that show the bug this patch fixes). */
export function uninstallSenderRequeue(): void {
  if (!original) return;
  proto._reconnect = original.reconnect;
  proto._sendLoop = original.sendLoop;
  original = null;
}

function holdQueueWhileReconnecting(sender: SenderInternals): void {
  const queue = sender._sendQueue;
  if (held.has(queue)) return;
  held.add(queue);
  const get = queue.get.bind(queue);
  // undefined is what `get` answers for an empty wake-up: the loop then sees isReconnecting and returns.
  queue.get = () => (sender.isReconnecting ? Promise.resolve(undefined) : get());
}

/** MTProtoSender#_reconnect, keeping every unanswered request (see the header). */
function reconnectKeepingRequests(this: SenderInternals): Promise<void> {
  const joined = underway.get(this);
  if (joined) return joined.then(() => undefined);
  const running = reconnectOnce(this).finally(() => underway.delete(this));
  underway.set(this, running);
  // GramJS's callback (TelegramClient#_handleReconnect: getMe) only once connected: on a dead
  // sender it would wait for ever.
  return running.then(async (connected) => {
    if (connected && this._autoReconnectCallback) await this._autoReconnectCallback();
  });
}

/** Disconnects, connects anew, and re-queues (true) or rejects (false) every unanswered request. */
async function reconnectOnce(sender: SenderInternals): Promise<boolean> {
  // Also when called directly (the release timer of exported senders): no loop may dequeue now.
  sender.isReconnecting = true;
  try {
    await sender._disconnect();
  } catch (err) {
    sender._log.warn(`[Reconnect] error while disconnecting: ${(err as Error)?.message ?? String(err)}`);
  }
  const unanswered = unansweredRequests(sender);
  sender._pendingState.clear();
  sender._sendQueue.clear();
  sender._state.reset();
  const connection = sender._connection;
  const connected = connection !== undefined && (await sender.connect(nextConnection(sender, connection), true));
  sender.isReconnecting = false;
  if (connected) {
    // Requests invoked meanwhile are already queued behind these (or sent): nothing goes twice.
    if (unanswered.length > 0) sender._sendQueue.prepend([...unanswered]);
  } else {
    rejectAll(sender, [...unanswered, ...unansweredRequests(sender)]);
  }
  return connected;
}

/** Every request the sender holds that no answer has settled: sent, queued, or dropped. */
function unansweredRequests(sender: SenderInternals): RequestState[] {
  const found = new Set<RequestState>();
  const { _pendingStates: appended, _queue: queued } = sender._sendQueue;
  for (const state of [...appended, ...queued, ...sender._pendingState.values()]) {
    if (state && state.request.classType === 'request') found.add(state);
  }
  return [...found];
}

/** A connection like `old` (GramJS builds a new one: "reusing existing connection caused stuck requests"). */
function nextConnection(sender: SenderInternals, old: Connection): Connection {
  const o = old as unknown as ConnectionInternals;
  const Cls = old.constructor as new (params: ConnectionParams) => Connection;
  return new Cls({
    ip: o._ip, port: o._port, dcId: o._dcId, loggers: o._log, proxy: o._proxy, testServers: o._testServers,
    socket: sender._client.networkSocket,
  } as ConnectionParams);
}

function rejectAll(sender: SenderInternals, states: RequestState[]): void {
  sender._sendQueue.clear();
  for (const state of new Set(states)) {
    const what = typeof state.request.className === 'string' ? state.request.className : 'a request';
    state.reject(new TelegramConnectionError(`DC ${sender._dcId} could not be reached again after the connection dropped; ${what} was not answered`));
  }
}
