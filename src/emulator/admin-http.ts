// The emulator's admin endpoint: GET /stats (the contract's counters), POST /stats/reset,
// GET/POST /faults (change fault injection at run time), GET /healthz.
import http from 'node:http';
import type { Stats } from './stats';
import type { FaultSettings } from './types';
import { parseFaults } from './faults';

export function createAdminServer(stats: Stats, getFaults: () => FaultSettings, setFaults: (f: Partial<FaultSettings>) => void): http.Server {
  return http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/stats') return reply(200, stats.snapshot());
    if (req.method === 'GET' && url === '/healthz') return reply(200, { ok: true });
    if (req.method === 'GET' && url === '/faults') return reply(200, getFaults());
    if (req.method === 'POST' && url === '/stats/reset') {
      stats.reset();
      return reply(200, stats.snapshot());
    }
    if (req.method === 'POST' && url === '/faults') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          setFaults(parseFaults(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
          reply(200, getFaults());
        } catch (err) {
          reply(400, { error: (err as Error).message });
        }
      });
      return;
    }
    reply(404, { error: `no route ${req.method} ${url}` });
  });
}
