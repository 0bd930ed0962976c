// MTProto sessions as the server keeps them: by auth key and session id, outliving the TCP
// connection that opened them (a client that reconnects with the same session id goes on with
// the same seq_no and gets no new_session_created). Each remembers what msgs_state_req and
// msg_resend_req need: the client's recent msg_ids and their state, and its own recent
// messages. Bounded: old sessions, msg_ids and messages are forgotten, as Telegram forgets them.

/** msgs_state_info's status byte (https://core.telegram.org/mtproto/service_messages_about_messages). */
export const MsgState = {
  unknownTooLow: 1,
  notReceived: 2,
  notReceivedTooHigh: 3,
  received: 4,
  acked: 8,
  noAckNeeded: 16,
  rpcProcessed: 32,
  answered: 64,
} as const;

export interface SentMessage {
  seqNo: number;
  body: Buffer;
}

const MAX_REMEMBERED_IDS = 1024;
const MAX_SENT_KEPT = 128;
/** Larger answers (file parts) are not kept for msg_resend_req: the request is then ignored. */
const MAX_SENT_BYTES = 64 * 1024;

export class Session {
  /** Content-related messages sent so far (the next one's seq_no is 2 × this + 1). */
  contentSent = 0;
  private readonly received = new Map<bigint, number>();
  private readonly sent = new Map<bigint, SentMessage>();
  /** Content-related msg_ids received and not yet acknowledged by a msgs_ack. */
  pendingAcks: bigint[] = [];

  constructor(readonly id: bigint, readonly authKeyId: bigint) {}

  nextSeqNo(contentRelated: boolean): number {
    return contentRelated ? this.contentSent++ * 2 + 1 : this.contentSent * 2;
  }

  /** Notes a client message; content-related ones are queued for a msgs_ack. */
  receivedMessage(msgId: bigint, contentRelated: boolean): void {
    this.received.set(msgId, MsgState.received | (contentRelated ? 0 : MsgState.noAckNeeded));
    if (contentRelated) this.pendingAcks.push(msgId);
    if (this.received.size > MAX_REMEMBERED_IDS) this.received.delete(this.received.keys().next().value!);
  }

  mark(msgId: bigint, state: number): void {
    const s = this.received.get(msgId);
    if (s !== undefined) this.received.set(msgId, s | state);
  }

  takeAcks(): bigint[] {
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    for (const id of ids) this.mark(id, MsgState.acked);
    return ids;
  }

  /** msgs_state_info's byte for one of the client's msg_ids. */
  stateOf(msgId: bigint): number {
    const known = this.received.get(msgId);
    if (known !== undefined) return known;
    let low: bigint | null = null;
    let high: bigint | null = null;
    for (const id of this.received.keys()) {
      if (low === null || id < low) low = id;
      if (high === null || id > high) high = id;
    }
    if (low === null || msgId < low) return MsgState.unknownTooLow;
    return msgId > high! ? MsgState.notReceivedTooHigh : MsgState.notReceived;
  }

  keepSent(msgId: bigint, seqNo: number, body: Buffer): void {
    if (body.length > MAX_SENT_BYTES) return;
    this.sent.set(msgId, { seqNo, body: Buffer.from(body) });
    if (this.sent.size > MAX_SENT_KEPT) this.sent.delete(this.sent.keys().next().value!);
  }

  sentMessage(msgId: bigint): SentMessage | undefined {
    return this.sent.get(msgId);
  }
}

const MAX_SESSIONS = 10000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  /** The session, and whether it is new (the caller then sends new_session_created). */
  open(authKeyId: bigint, sessionId: bigint): { session: Session; created: boolean } {
    const key = `${authKeyId}:${sessionId}`;
    const known = this.sessions.get(key);
    if (known) return { session: known, created: false };
    const session = new Session(sessionId, authKeyId);
    this.sessions.set(key, session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return { session, created: true };
  }

  /** The session if it exists (answers to a message that opens none, like bad_server_salt, use a transient one). */
  peek(authKeyId: bigint, sessionId: bigint): Session | undefined {
    return this.sessions.get(`${authKeyId}:${sessionId}`);
  }

  /** destroy_session: whether there was one. */
  destroy(authKeyId: bigint, sessionId: bigint): boolean {
    return this.sessions.delete(`${authKeyId}:${sessionId}`);
  }
}
