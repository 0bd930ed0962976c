// Packet buffers of large reads, reused once their bytes are decrypted: a fresh 1 MiB buffer per
// getFile answer is external memory that makes V8 collect garbage often. dc-socket.ts takes
// buffers from here for reads it does in place; fast-decrypt.ts gives a packet's buffer back once
// it has decrypted it.
//
// Relies on (telegram 2.26.22): Connection._recvLoop and recv (network/connection/Connection.js)
// hand the codec's packet to MTProtoSender._recvLoop (network/MTProtoSender.js), which passes it
// straight to `MTProtoState.decryptMessageData` and keeps no reference to it afterwards; the
// codecs' readPacket (AbridgedPacketCodec in TCPAbridged.js, FullPacketCodec in TCPFull.js)
// return the socket's read, or a view of it, and keep nothing else of it.

/** Buffers kept for reuse at most. */
const SPARE_MAX = 8;
const spare: ArrayBuffer[] = [];
/** Every buffer this pool handed out: only those may come back. */
const ours = new WeakSet<ArrayBuffer>();

/** A buffer of `n` bytes for a packet: a recycled one of a similar size, else a new one. */
export function packetBuffer(n: number): Buffer {
  for (let i = spare.length - 1; i >= 0; i--) {
    const ab = spare[i]!;
    if (ab.byteLength >= n && ab.byteLength <= 2 * n) {
      spare.splice(i, 1);
      return Buffer.from(ab, 0, n);
    }
  }
  const buf = Buffer.allocUnsafeSlow(n);
  ours.add(buf.buffer as ArrayBuffer);
  return buf;
}

/**
 * Gives a packet's buffer back for the next large read. Only for a caller that holds the last
 * reference to `packet` (or any view of it) and drops it now: fast-decrypt.ts, once decrypted.
 * A buffer this pool did not hand out is ignored.
 */
export function recyclePacket(packet: Uint8Array): void {
  const ab = packet.buffer as ArrayBuffer;
  if (spare.length < SPARE_MAX && ours.has(ab) && !spare.includes(ab)) spare.push(ab);
}
