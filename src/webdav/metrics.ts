// Prometheus metrics of the HTTP front-end, in a registry of its own (several servers may run in
// one process, e.g. in tests); app/ adds the engine's and the catalog's gauges to the same one.
import { Counter, Gauge, Registry } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND', 'LOCK', 'UNLOCK', 'PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'POST']);

export class HttpMetrics {
  readonly bytesServed: Counter;
  readonly openStreams: Gauge;
  readonly requests: Counter<'method' | 'status'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.bytesServed = new Counter({
      name: 'tgvfs_http_bytes_served_total',
      help: 'Body bytes sent to HTTP clients (files, ranges, thumbnails).',
      registers: [registry],
    });
    this.openStreams = new Gauge({
      name: 'tgvfs_http_open_streams',
      help: 'HTTP responses whose body is streaming now.',
      registers: [registry],
    });
    this.requests = new Counter({
      name: 'tgvfs_http_requests_total',
      help: 'HTTP requests answered, by method and status.',
      labelNames: ['method', 'status'],
      registers: [registry],
    });
  }

  /** Counts a request once its response is done. */
  countRequest(method: string | undefined, status: number): void {
    const m = (method ?? '').toUpperCase();
    this.requests.inc({ method: METHODS.has(m) ? m : 'OTHER', status: String(status) });
  }
}
