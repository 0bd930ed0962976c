// Shared pieces of the hard-case suites (faults, fuzz, load, disconnects): a raw HTTP/1.1 client
// over a plain socket (so that a test controls exactly what is sent, sees exactly what comes
// back, and can hang up at any byte) and /metrics figures (parsed by metrics.ts). Their file content is
// support/bytes' keystream (the emulator fixture's SHA-256 chain takes seconds for 100 MiB), RSS
// comes from support/proc and polling from eventually.ts.
import net from 'node:net';
import { parseMetrics } from './metrics';

/** The value of an unlabelled sample `name` in Prometheus text, or null when absent. */
export function metricValue(text: string, name: string): number | null {
  const sample = parseMetrics(text).find((s) => s.name === name && Object.keys(s.labels).length === 0);
  return sample ? sample.value : null;
}

export async function metrics(baseUrl: string): Promise<string> {
  const r = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.text();
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Map<string, string>;
  body: Buffer;
}

export class RawHttpError extends Error {
  constructor(message: string, readonly received: number) {
    super(message);
    this.name = 'RawHttpError';
  }
}

/**
 * One request on a fresh connection (`Connection: close`), the target and header lines sent
 * byte for byte as given. Resolves with the parsed response (body by Content-Length, else to
 * the close); rejects when nothing complete arrives within `timeoutMs` — a hang is a failure.
 */
export function rawRequest(
  port: number,
  target: string,
  opts: { method?: string; headers?: [string, string][]; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const lines = [`${opts.method ?? 'GET'} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of opts.headers ?? []) lines.push(`${k}: ${v}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(new RawHttpError(`no complete answer to ${opts.method ?? 'GET'} ${JSON.stringify(target)} within ${timeoutMs} ms`, size))), timeoutMs);
    const tryParse = (atClose: boolean): void => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) {
        if (atClose) finish(() => reject(new RawHttpError(`connection closed before a complete head (${all.length} bytes)`, all.length)));
        return;
      }
      const [statusLine, ...fields] = all.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
      if (!m) return finish(() => reject(new RawHttpError(`bad status line ${JSON.stringify(statusLine)}`, all.length)));
      const headers = new Map<string, string>();
      for (const f of fields) {
        const i = f.indexOf(':');
        const k = f.slice(0, i).trim().toLowerCase();
        const v = f.slice(i + 1).trim();
        headers.set(k, headers.has(k) ? `${headers.get(k)}, ${v}` : v);
      }
      const body = all.subarray(end + 4);
      const status = Number(m[1]);
      const noBody = opts.method === 'HEAD' || status === 304 || status === 204;
      const lengthField = headers.get('content-length');
      if (noBody || lengthField !== undefined) {
        const length = noBody ? 0 : Number(lengthField);
        if (body.length >= length) return finish(() => resolve({ status, headers, body: body.subarray(0, length) }));
        if (atClose) finish(() => reject(new RawHttpError(`connection closed after ${body.length} of ${length} body bytes (status ${status})`, all.length)));
        return;
      }
      if (headers.get('transfer-encoding')?.includes('chunked')) {
        const decoded = dechunk(body);
        if (decoded) return finish(() => resolve({ status, headers, body: decoded }));
        if (atClose) finish(() => reject(new RawHttpError('connection closed inside a chunked body', all.length)));
        return;
      }
      if (atClose) finish(() => resolve({ status, headers, body }));
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      tryParse(false);
    });
    sock.once('error', (err) => finish(() => reject(new RawHttpError(`socket error: ${err.message}`, size))));
    sock.once('close', () => tryParse(true));
    sock.write(head);
  });
}

/** A complete chunked body decoded, or null when more bytes are needed. */
function dechunk(b: Buffer): Buffer | null {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol === -1) return null;
    const n = parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(n)) throw new Error('bad chunk size');
    if (n === 0) return Buffer.concat(out);
    if (b.length < eol + 2 + n + 2) return null;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/** Parts of a multipart/byteranges body: each part's Content-Range and bytes. */
export function parseMultipart(body: Buffer, boundary: string): { contentRange: string; bytes: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: { contentRange: string; bytes: Buffer }[] = [];
  let at = body.indexOf(delim);
  if (at !== 0) throw new Error('multipart body does not start with its boundary');
  for (;;) {
    at += delim.length;
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    if (body.subarray(at, at + 2).toString() !== '\r\n') throw new Error(`junk after a boundary at ${at}`);
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd === -1) throw new Error('part without a blank line');
    const fields = body.subarray(at + 2, headEnd).toString('latin1').split('\r\n');
    const cr = fields.find((f) => /^content-range:/i.test(f));
    if (!cr) throw new Error('part without Content-Range');
    const m = /^bytes (\d+)-(\d+)\/\d+$/.exec(cr.slice(cr.indexOf(':') + 1).trim());
    if (!m) throw new Error(`bad part Content-Range ${cr}`);
    const length = Number(m[2]) - Number(m[1]) + 1;
    const start = headEnd + 4;
    parts.push({ contentRange: cr.slice(cr.indexOf(':') + 1).trim(), bytes: body.subarray(start, start + length) });
    at = start + length;
    if (body.subarray(at, at + 2).toString() !== '\r\n') throw new Error(`part of ${length} bytes not followed by CRLF`);
    at += 2;
    if (!body.subarray(at, at + delim.length).equals(delim)) throw new Error(`no boundary after a part at ${at}`);
  }
}
