// One HTTP/1.1 request over a plain TCP socket, sent byte for byte as given: no client library
// normalises the request target (`..`, `%2F`, backslashes, NUL, absolute-form) or the Host
// header. The answer is read until the server closes (`Connection: close`) or a deadline.
import net from 'node:net';

export interface RawResponse {
  /** 0 when the server closed without a status line. */
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Buffer;
  /** Every byte received (status line, headers, body). */
  raw: Buffer;
}

export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(String(request).split('\r\n')[0])}`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(parse(Buffer.concat(chunks)));
    });
    socket.write(request);
  });
}

function parse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), raw };
}

/** `METHOD target HTTP/1.1` with Host and `Connection: close`, plus extra header lines. */
export function requestText(method: string, target: string, port: number, extra: Record<string, string> = {}, host = `127.0.0.1:${port}`): string {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
