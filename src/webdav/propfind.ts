// PROPFIND Depth 0 and 1, answered straight from the VFS: one stat or readdir, no per-property
// callbacks, and the multistatus written in chunks as it is built. webdav-server's property
// machinery took ~2 s and ~700 MB for a 10,000-file folder; this answers the same properties
// (see dav-filesystem.ts) with the same values, hrefs and XML shape, so clients see no change.
// LOCK stays with webdav-server; http-server.ts routes a PROPFIND near an active lock there, so
// lockdiscovery here is always the empty element webdav-server writes for unlocked resources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { xml2js, type Element } from 'xml-js';
import { isVfsError } from '../vfs/errors';
import type { Vfs, VfsDirEntry, VfsStat } from '../vfs/vfs';
import { etagOf } from './dav-filesystem';
import { ALLOW_EXISTING, DAV_FRAME_HEADERS } from './dav-server';
import { sendError, sendText } from './get-handler';
import { errorLine } from '../util/errors';

const DAV = 'DAV:';

/** A property name: namespace URI ('' for none) and local name. */
export interface PropName {
  ns: string;
  local: string;
}

/** What a PROPFIND body asks for (an empty body is allprop, RFC 4918 §9.1). */
export type PropfindBody = { kind: 'allprop' } | { kind: 'propname' } | { kind: 'prop'; props: PropName[] };

/** A request body that is not a well-formed `DAV:propfind` document: the answer is 400. */
export class PropfindBodyError extends Error {
  override readonly name = 'PropfindBodyError';
}

/** Depth header → 0, 1, 'infinity', or null for a value webdav-server reads its own way. */
export function propfindDepth(header: string | string[] | undefined): 0 | 1 | 'infinity' | null {
  if (Array.isArray(header)) return null;
  const v = (header ?? '1').trim().toLowerCase();
  if (v === '0') return 0;
  if (v === '1') return 1;
  if (v === 'infinity') return 'infinity';
  return null;
}

/** Parses a PROPFIND body with namespaces resolved; PropfindBodyError when malformed. */
export function parsePropfindBody(text: string): PropfindBody {
  if (text.trim() === '') return { kind: 'allprop' };
  let doc: Element;
  try {
    doc = xml2js(text, { compact: false }) as Element;
  } catch (err) {
    throw new PropfindBodyError(`malformed XML: ${errorLine(err)}`);
  }
  const roots = (doc.elements ?? []).filter((e) => e.type === 'element');
  if (roots.length !== 1) throw new PropfindBodyError('no root element');
  const root = resolve(roots[0]!, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  if (root.ns !== DAV || root.local !== 'propfind') throw new PropfindBodyError(`the root is not DAV:propfind but ${root.ns}${root.local}`);
  const children = root.children;
  if (children.some((c) => c.ns === DAV && c.local === 'propname')) return { kind: 'propname' };
  if (children.some((c) => c.ns === DAV && c.local === 'allprop')) return { kind: 'allprop' };
  const prop = children.find((c) => c.ns === DAV && c.local === 'prop');
  if (!prop) throw new PropfindBodyError('DAV:propfind holds none of prop, allprop, propname');
  return { kind: 'prop', props: prop.children.map(({ ns, local }) => ({ ns, local })) };
}

interface NsElement {
  ns: string;
  local: string;
  children: NsElement[];
}

/** An xml-js element with its name and its children's resolved against the xmlns in scope. */
function resolve(el: Element, scope: ReadonlyMap<string, string>): NsElement {
  let inner = scope;
  for (const [k, v] of Object.entries(el.attributes ?? {})) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    if (inner === scope) inner = new Map(scope);
    (inner as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), String(v));
  }
  const name = el.name ?? '';
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  const ns = inner.get(prefix);
  if (ns === undefined && prefix !== '') throw new PropfindBodyError(`unbound namespace prefix "${prefix}"`);
  const children = (el.elements ?? []).filter((c) => c.type === 'element').map((c) => resolve(c, inner));
  return { ns: ns ?? '', local: colon === -1 ? name : name.slice(colon + 1), children };
}

// ---- the answer ------------------------------------------------------------------------------

/** Live DAV: properties in webdav-server's order; files add two, folders the quota pair. */
const COMMON = ['getlastmodified', 'lockdiscovery', 'supportedlock', 'creationdate', 'resourcetype', 'displayname', 'getetag'] as const;
const FILE_ONLY = ['getcontentlength', 'getcontenttype'] as const;
const QUOTA = ['quota-available-bytes', 'quota-used-bytes'] as const;
type LiveProp = (typeof COMMON)[number] | (typeof FILE_ONLY)[number] | (typeof QUOTA)[number];

const SUPPORTED_LOCK =
  '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>' +
  '<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';

const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';
/** What webdav-server sends besides the body (dav-server.ts); kept so a client sees the same answer. */
const DAV_HEADERS = { ...DAV_FRAME_HEADERS, 'Allow': ALLOW_EXISTING };
const XML_TYPE = 'application/xml;charset=utf-8';
/** Bytes of XML gathered before a write: few syscalls, flat memory. */
const CHUNK = 64 * 1024;

/** Text content: `&`, `<`, `>` (quotes stay as they are, as webdav-server writes ETags). */
function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

/** webdav-server's creationdate: ISO 8601 to the second, with the offset written out. */
function creationDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

/** The value of a live property (already XML), or undefined when the resource has none. */
function liveValue(name: LiveProp, stat: VfsStat, usedBytes: number | undefined): string | undefined {
  const dir = stat.type === 'directory';
  switch (name) {
    case 'getlastmodified': return new Date(stat.mtimeMs).toUTCString();
    case 'lockdiscovery': return '';
    case 'supportedlock': return SUPPORTED_LOCK;
    case 'creationdate': return creationDate(stat.mtimeMs);
    case 'resourcetype': return dir ? '<D:collection/>' : '';
    case 'displayname': return escapeText(stat.name);
    case 'getetag': return escapeText(etagOf(stat));
    case 'getcontentlength': return dir ? undefined : String(stat.size);
    case 'getcontenttype': return dir ? undefined : escapeText(stat.mimeType);
    case 'quota-available-bytes': return dir ? '0' : undefined;
    case 'quota-used-bytes': return dir && usedBytes !== undefined ? String(usedBytes) : undefined;
  }
}

/** An element of a live property; the quota pair is written as webdav-server writes it. */
function liveElement(name: LiveProp, value: string | undefined): string {
  const open = (QUOTA as readonly string[]).includes(name) ? `DAV:${name} xmlns:DAV="DAV:"` : `D:${name}`;
  const close = open.split(' ')[0]!;
  return value === undefined || value === '' ? `<${open}/>` : `<${open}>${value}</${close}>`;
}

function liveNames(stat: VfsStat): readonly LiveProp[] {
  return stat.type === 'directory' ? [...COMMON, ...QUOTA] : [...COMMON, ...FILE_ONLY];
}

function isLive(p: PropName, stat: VfsStat): p is PropName & { local: LiveProp } {
  return p.ns === DAV && (liveNames(stat) as readonly string[]).includes(p.local);
}

/** An empty element for a property this server does not have (the 404 propstat). */
function unknownElement(p: PropName): string {
  if (p.ns === DAV) return `<D:${p.local}/>`;
  return p.ns === '' ? `<${p.local} xmlns=""/>` : `<x:${p.local} xmlns:x="${escapeAttr(p.ns)}"/>`;
}

const OK = 'HTTP/1.1 200 OK';
const NOT_FOUND = 'HTTP/1.1 404 Not Found';

/** One `<D:response>` for a resource. */
function responseXml(href: string, stat: VfsStat, body: PropfindBody, usedBytes: number | undefined): string {
  let found = '';
  let missing = '';
  if (body.kind === 'prop') {
    for (const p of body.props) {
      const value = isLive(p, stat) ? liveValue(p.local, stat, usedBytes) : undefined;
      if (value !== undefined) found += liveElement(p.local as LiveProp, value);
      else missing += unknownElement(p);
    }
  } else {
    for (const name of liveNames(stat)) {
      // propname needs only whether a folder has its usage, not the sum.
      const value = liveValue(name, stat, body.kind === 'propname' ? 0 : usedBytes);
      if (value !== undefined) found += liveElement(name, body.kind === 'propname' ? undefined : value);
    }
  }
  let out = `<D:response><D:href>${escapeText(href)}</D:href>`;
  if (found !== '' || missing === '') out += `<D:propstat><D:status>${OK}</D:status><D:prop>${found}</D:prop></D:propstat>`;
  if (missing !== '') out += `<D:propstat><D:prop>${missing}</D:prop><D:status>${NOT_FOUND}</D:status></D:propstat>`;
  return `${out}</D:response>`;
}

/** Does a request for `body` need the folder's quota-used-bytes (a catalog sum)? */
function wantsUsage(body: PropfindBody): boolean {
  return body.kind === 'allprop' || (body.kind === 'prop' && body.props.some((p) => p.ns === DAV && p.local === 'quota-used-bytes'));
}

export interface PropfindTarget {
  /** Decoded names of the request path. */
  segments: string[];
  depth: 0 | 1;
  body: PropfindBody;
  /** `http://<host>` the hrefs start with (as webdav-server writes them). */
  origin: string;
}

/**
 * Writes the 207 multistatus of `target`. VFS errors (ENOENT, ENOTDIR…) are thrown before
 * anything is written, for the caller to answer. Stops writing when the client goes away.
 */
export async function sendPropfind(res: ServerResponse, vfs: Vfs, target: PropfindTarget): Promise<void> {
  const { segments, depth, body } = target;
  const stat = await vfs.stat(segments);
  const dir = stat.type === 'directory';
  // Lazy: each entry's stat is made as its XML is written, so memory stays flat for any folder.
  const entries: Iterable<VfsDirEntry> = dir && depth === 1 ? await vfs.entries(segments) : [];
  const usage = async (path: string[], s: VfsStat): Promise<number | undefined> =>
    s.type === 'directory' && wantsUsage(body) ? vfs.usage(path) : undefined;

  const selfPath = `/${segments.map(encodeURIComponent).join('/')}`;
  const selfHref = `${target.origin}${selfPath}${dir && segments.length > 0 ? '/' : ''}`;
  const childBase = `${target.origin}${segments.length > 0 ? selfPath : ''}/`;

  const out = new ChunkedXml(res);
  out.add(`${XML_HEAD}<D:multistatus xmlns:D="DAV:">`);
  out.add(responseXml(selfHref, stat, body, await usage(segments, stat)));
  for (const e of entries) {
    if (out.gone) return;
    const folder = e.stat.type === 'directory';
    const href = `${childBase}${encodeURIComponent(e.name)}${folder ? '/' : ''}`;
    out.add(responseXml(href, e.stat, body, folder ? await usage([...segments, e.name], e.stat) : undefined));
    await out.flushIfFull();
  }
  out.add('</D:multistatus>');
  out.end();
}

export interface PropfindRequest {
  /** Decoded names of the request path (checked by http-server.ts). */
  segments: string[];
  depth: 0 | 1;
  /** Largest body read; more → 413. */
  maxBody: number;
  log: (line: string) => void;
}

/**
 * A whole PROPFIND: reads and parses the body (400 when malformed, 413 when too big), then the
 * 207 answer; VFS errors answer with their status (404 for a missing path).
 */
export async function servePropfind(req: IncomingMessage, res: ServerResponse, vfs: Vfs, r: PropfindRequest): Promise<void> {
  try {
    const text = await readBody(req, r.maxBody);
    if (text === null) {
      sendText(req, res, 413, '413 request body too large\n');
      return;
    }
    const body = parsePropfindBody(text);
    // As webdav-server writes hrefs: the Host header, so a client gets back the name it used.
    const origin = `http://${(req.headers.host ?? '').replace('/', '')}`;
    await sendPropfind(res, vfs, { segments: r.segments, depth: r.depth, body, origin });
  } catch (err) {
    if (err instanceof PropfindBodyError) {
      sendText(req, res, 400, `400 bad PROPFIND body: ${err.message}\n`);
      return;
    }
    if (res.destroyed) return; // the client left while the body was read
    if (!isVfsError(err)) r.log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    sendError(req, res, err);
  }
}

/** A request body as UTF-8, or null when it passes `limit` bytes (the rest is read and dropped). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes <= limit) chunks.push(chunk);
  }
  return bytes > limit ? null : Buffer.concat(chunks).toString('utf8');
}

/** RFC 4918 §9.1: Depth infinity refused, with the precondition that says so. */
export function sendFiniteDepthRequired(res: ServerResponse): void {
  const xml = Buffer.from(`${XML_HEAD}<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`);
  res.writeHead(403, { ...DAV_HEADERS, 'Content-Type': XML_TYPE, 'Content-Length': xml.length });
  res.end(xml);
}

/**
 * The multistatus body in chunks of about CHUNK bytes, waiting for 'drain' between them. An
 * answer that fits in one chunk goes out with a Content-Length (some clients prefer it).
 */
class ChunkedXml {
  private pending: string[] = [];
  private pendingBytes = 0;
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  add(xml: string): void {
    this.pending.push(xml);
    this.pendingBytes += xml.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.pendingBytes < CHUNK || this.gone) return;
    if (!this.started) {
      this.res.writeHead(207, { ...DAV_HEADERS, 'Content-Type': XML_TYPE });
      this.started = true;
    }
    const ok = this.res.write(this.take());
    if (!ok && !this.gone) await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(): void {
    if (this.gone) return;
    const rest = this.take();
    if (!this.started) {
      const buf = Buffer.from(rest);
      this.res.writeHead(207, { ...DAV_HEADERS, 'Content-Type': XML_TYPE, 'Content-Length': buf.length });
      this.res.end(buf);
      return;
    }
    this.res.end(rest);
  }

  private take(): string {
    const s = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    return s;
  }
}
