// A recording HTTP proxy for client tests: forwards every request to `target` unchanged and notes,
// per request, the method, path, Range header, status, Content-Range and the body bytes it relayed
// to the client. With it a test can say which byte ranges a client (VLC) really read.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  contentRange: string | undefined;
  /** First byte of the body in the file (from Content-Range; 0 for a 200). */
  start: number;
  /** Body bytes relayed to the client. */
  bytes: number;
}

export interface RecordingProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const t = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const rangeHeader = req.headers.range;
    const up = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const cr = upRes.headers['content-range'];
        const m = typeof cr === 'string' ? /^bytes (\d+)-/.exec(cr) : null;
        const rec: ProxiedRequest = {
          method: req.method ?? '?', path: req.url ?? '', range: rangeHeader, status: upRes.statusCode ?? 0,
          contentRange: cr, start: m ? Number(m[1]) : 0, bytes: 0,
        };
        requests.push(rec);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.on('data', (c: Buffer) => void (rec.bytes += c.length));
        upRes.pipe(res);
        upRes.once('error', () => res.destroy());
      },
    );
    up.once('error', () => res.destroy());
    // A client that goes away: stop the upstream request too.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
