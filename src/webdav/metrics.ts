// Prometheus metrics of the front-ends, in a registry of their own (several servers may run in
// one process, e.g. in tests); app/ adds the engine's, the upstream's and the catalog's figures
// (app/metrics.ts) and the FUSE front-end's bytes and open handles to the same registry, so one
// /metrics shows everything a process serves.
import { Counter, Gauge, Registry } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND', 'LOCK', 'UNLOCK', 'PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'POST']);

/** Who served the bytes: the WebDAV tree, `/stream/…`, `/thumb/…` (HTTP) or the FUSE mount. */
export type FrontEnd = 'webdav' | 'stream' | 'thumb' | 'fuse';
export const FRONT_ENDS: readonly FrontEnd[] = ['webdav', 'stream', 'thumb', 'fuse'];

export class HttpMetrics {
  /** `tgvfs_http_bytes_served_total`: every HTTP body byte (all HTTP front-ends together). */
  readonly bytesServed: Counter;
  /** `tgvfs_http_open_streams`: HTTP responses streaming now. */
  readonly openStreams: Gauge;
  readonly requests: Counter<'method' | 'status'>;
  /** `tgvfs_bytes_served_total{frontend}`: file bytes handed to clients, per front-end. */
  readonly bytesByFrontEnd: Counter<'frontend'>;
  private readonly streaming = new Map<FrontEnd, number>();
  /** Front-ends whose open streams are counted elsewhere (FUSE: its open handles). */
  private readonly streamSources = new Map<FrontEnd, () => number>();

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.bytesServed = new Counter({
      name: 'tgvfs_http_bytes_served_total',
      help: 'Body bytes sent to HTTP clients (files, ranges, thumbnails).',
      registers,
    });
    this.openStreams = new Gauge({
      name: 'tgvfs_http_open_streams',
      help: 'HTTP responses whose body is streaming now.',
      registers,
    });
    this.requests = new Counter({
      name: 'tgvfs_http_requests_total',
      help: 'HTTP requests answered, by method and status.',
      labelNames: ['method', 'status'],
      registers,
    });
    this.bytesByFrontEnd = new Counter({
      name: 'tgvfs_bytes_served_total',
      help: 'File bytes served to clients, per front-end (webdav, stream, thumb, fuse).',
      labelNames: ['frontend'],
      registers,
    });
    const streaming = this.streaming;
    const sources = this.streamSources;
    new Gauge({
      name: 'tgvfs_open_streams',
      help: 'Streams open now, per front-end: HTTP responses sending a body, FUSE open file handles.',
      labelNames: ['frontend'],
      registers,
      collect() {
        this.reset(); // a front-end gone (unmounted) leaves no stale series
        for (const f of FRONT_ENDS) {
          const source = sources.get(f);
          if (source) this.set({ frontend: f }, source());
          else if (f !== 'fuse') this.set({ frontend: f }, streaming.get(f) ?? 0);
        }
      },
    });
    // Series that exist from the start read 0, not "absent", before anything is served.
    for (const f of ['webdav', 'stream', 'thumb'] as const) this.bytesByFrontEnd.inc({ frontend: f }, 0);
  }

  /** Counts a request once its response is done. */
  countRequest(method: string | undefined, status: number): void {
    const m = (method ?? '').toUpperCase();
    this.requests.inc({ method: METHODS.has(m) ? m : 'OTHER', status: String(status) });
  }

  /** `bytes` of file content sent by `frontend`. */
  served(frontend: FrontEnd, bytes: number): void {
    this.bytesByFrontEnd.inc({ frontend }, bytes);
    if (frontend !== 'fuse') this.bytesServed.inc(bytes);
  }

  /** An HTTP response of `frontend` started (+1) or stopped (-1) streaming its body. */
  streamDelta(frontend: Exclude<FrontEnd, 'fuse'>, delta: 1 | -1): void {
    this.streaming.set(frontend, (this.streaming.get(frontend) ?? 0) + delta);
    this.openStreams.inc(delta);
  }

  /**
   * Reads `frontend`'s open streams from `count` at each scrape (the FUSE mount's open handles),
   * and starts its bytes series at 0. Returns the undo (after unmount).
   */
  addStreamSource(frontend: FrontEnd, count: () => number): () => void {
    this.streamSources.set(frontend, count);
    this.bytesByFrontEnd.inc({ frontend }, 0);
    return () => {
      if (this.streamSources.get(frontend) === count) this.streamSources.delete(frontend);
    };
  }
}
