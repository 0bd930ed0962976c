// Our GET/HEAD (webdav-server 2.6.3's reads whole files from byte 0 for any Range, sends no
// ETag, never answers 416 and never stops the source when the client leaves). One function serves
// any VFS node: the WebDAV tree, `/stream/<channel>/<msgId>` and `/thumb/<channel>/<msgId>`.
//
// Order (RFC 9110 §13.2.2): preconditions (If-Match, If-Unmodified-Since → 412; If-None-Match,
// If-Modified-Since → 304), then If-Range, then Range (one range → 206 with Content-Range;
// several → 206 multipart/byteranges; none satisfiable → 416 with `bytes */size`; malformed →
// ignored, 200). HEAD sends exactly GET's header fields. A client that goes away destroys the
// source stream (and aborts its signal), so the stream engine stops fetching.
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { VfsError } from '../vfs/errors';
import type { VfsNode, VfsStat } from '../vfs/vfs';
import { etagOf } from './dav-filesystem';
import type { FrontEnd, HttpMetrics } from './metrics';
import { evaluatePreconditions } from './preconditions';
import {
  contentRange,
  ifRangeAllows,
  parseRangeHeader,
  rangeLength,
  unsatisfiedContentRange,
  type ByteRange,
  type RangeRequest,
} from './range-header';
import { httpStatus } from './status';

export interface ServeOptions {
  metrics: HttpMetrics;
  /** Whose bytes these are, in /metrics. @default 'webdav' */
  frontend?: Exclude<FrontEnd, 'fuse'>;
  /** A Content-Disposition to send (e.g. for `/stream/…`, so browsers keep the file name). */
  contentDisposition?: string;
  /** More ranges than this in one request and the Range header is ignored. @default 16 */
  maxRanges?: number;
  log?: (line: string) => void;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A plain-text error answer; HEAD gets the same header fields without the body. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, extra: OutgoingHttpHeaders = {}): void {
  const status = httpStatus(err);
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const reason = err instanceof VfsError ? err.message : status === 500 ? 'internal error' : String(err);
  sendText(req, res, status, `${status} ${reason}\n`, extra);
}

export function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string, extra: OutgoingHttpHeaders = {}): void {
  const body = Buffer.from(text);
  res.writeHead(status, { ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `inline; filename="…"; filename*=UTF-8''…` for a file name. */
export function inlineDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

interface Part {
  range: ByteRange;
  /** Multipart framing before the part's bytes (empty for a single range). */
  head: Buffer;
  /** Framing after them. */
  tail: Buffer;
}

/** The multipart/byteranges framing of `ranges`; deterministic so that HEAD and GET agree. */
function multipart(ranges: ByteRange[], size: number, contentType: string, seed: string): { boundary: string; parts: Part[]; end: Buffer } {
  const boundary = `tgvfs-${createHash('sha256').update(seed).digest('hex').slice(0, 24)}`;
  const parts = ranges.map((range) => ({
    range,
    head: Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(range, size)}\r\n\r\n`),
    tail: Buffer.from('\r\n'),
  }));
  return { boundary, parts, end: Buffer.from(`--${boundary}--\r\n`) };
}

/** Serves a file node with GET or HEAD semantics (req.method). Never throws. */
export async function sendNode(req: IncomingMessage, res: ServerResponse, node: VfsNode, options: ServeOptions): Promise<void> {
  const { stat } = node;
  const etag = etagOf(stat);
  const base: OutgoingHttpHeaders = {
    'Accept-Ranges': 'bytes',
    'ETag': etag,
    'Last-Modified': new Date(stat.mtimeMs).toUTCString(),
  };
  if (options.contentDisposition) base['Content-Disposition'] = options.contentDisposition;

  const pre = evaluatePreconditions(
    {
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifModifiedSince: header(req, 'if-modified-since'),
      ifUnmodifiedSince: header(req, 'if-unmodified-since'),
    },
    etag,
    stat.mtimeMs,
  );
  if (pre === 'not-modified') {
    res.writeHead(304, base);
    res.end();
    return;
  }
  if (pre === 'failed') {
    sendText(req, res, 412, '412 precondition failed\n', base);
    return;
  }

  const rangeHeader = header(req, 'range');
  const request = ifRangeAllows(header(req, 'if-range'), etag, stat.mtimeMs)
    ? parseRangeHeader(rangeHeader, stat.size, { maxRanges: options.maxRanges })
    : { type: 'whole' as const };
  if (request.type === 'unsatisfiable') {
    sendText(req, res, 416, '416 range not satisfiable\n', { ...base, 'Content-Range': unsatisfiedContentRange(stat.size) });
    return;
  }

  const answer = planAnswer(request, stat, base, `${etag}|${rangeHeader ?? ''}`);
  if (req.method === 'HEAD') {
    res.writeHead(answer.status, answer.headers);
    res.end();
    return;
  }
  await sendBody(req, res, node, answer, options);
}

/** A 200 or 206 answer: its status and header fields, and the bytes of its body in parts. */
interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  parts: Part[];
  /** The multipart closing boundary (empty for one range or the whole file). */
  end: Buffer;
}

/** The answer to a satisfiable request: the whole file, one range, or multipart/byteranges. */
function planAnswer(request: Exclude<RangeRequest, { type: 'unsatisfiable' }>, stat: VfsStat, base: OutgoingHttpHeaders, boundarySeed: string): Answer {
  const { size, mimeType: contentType } = stat;
  const empty = Buffer.alloc(0);
  if (request.type === 'whole') {
    const parts = size > 0 ? [{ range: { start: 0, endInclusive: size - 1 }, head: empty, tail: empty }] : [];
    return { status: 200, headers: { ...base, 'Content-Type': contentType, 'Content-Length': size }, parts, end: empty };
  }
  if (request.ranges.length === 1) {
    const range = request.ranges[0]!;
    const headers = { ...base, 'Content-Type': contentType, 'Content-Length': rangeLength(range), 'Content-Range': contentRange(range, size) };
    return { status: 206, headers, parts: [{ range, head: empty, tail: empty }], end: empty };
  }
  const mp = multipart(request.ranges, size, contentType, boundarySeed);
  const length = mp.parts.reduce((n, p) => n + p.head.length + rangeLength(p.range) + p.tail.length, 0) + mp.end.length;
  const headers = { ...base, 'Content-Type': `multipart/byteranges; boundary=${mp.boundary}`, 'Content-Length': length };
  return { status: 206, headers, parts: mp.parts, end: mp.end };
}

/** The head and body of a GET. Aborting `ac` (client gone) stops the current source at once. */
async function sendBody(req: IncomingMessage, res: ServerResponse, node: VfsNode, answer: Answer, options: ServeOptions): Promise<void> {
  const { parts, end } = answer;
  const ac = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort(new VfsError('EIO', node.path, 'the client went away'));
  };
  res.once('close', onClose);
  let first: Readable | null = null;
  try {
    // The first source is made before the head is sent, so that a refusal still gets a status.
    first = parts.length > 0 ? node.createReadStream(parts[0]!.range.start, parts[0]!.range.endInclusive, ac.signal) : null;
  } catch (err) {
    res.off('close', onClose);
    sendError(req, res, err);
    return;
  }
  res.writeHead(answer.status, answer.headers);
  const frontend = options.frontend ?? 'webdav';
  options.metrics.streamDelta(frontend, 1);
  try {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.head.length > 0) res.write(p.head);
      const src = i === 0 ? first! : node.createReadStream(p.range.start, p.range.endInclusive, ac.signal);
      await copyInto(src, res, ac.signal, (n) => options.metrics.served(frontend, n));
      if (p.tail.length > 0) res.write(p.tail);
    }
    if (end.length > 0) res.write(end);
    res.end();
  } catch (err) {
    first?.destroy();
    if (!ac.signal.aborted) options.log?.(`GET ${node.path}: ${err instanceof Error ? err.message : String(err)}`);
    res.destroy();
  } finally {
    options.metrics.streamDelta(frontend, -1);
    res.off('close', onClose);
  }
}

/**
 * Copies one part's bytes into the response, honouring backpressure, without ending it.
 * (`pipeline(src, res, { end: false })` once per part leaves its listeners on `res`: with many
 * ranges Node warns of a leak.) Async iteration destroys `src` when the copy stops early.
 */
async function copyInto(src: Readable, res: ServerResponse, signal: AbortSignal, counted: (bytes: number) => void): Promise<void> {
  for await (const chunk of src as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    counted(chunk.length);
    if (!res.write(chunk)) await once(res, 'drain', { signal });
  }
}
