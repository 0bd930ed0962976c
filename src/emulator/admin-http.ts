// The emulator's admin endpoint: GET /stats (the contract's counters), POST /stats/reset,
// GET/POST /faults (change fault injection at run time), POST /membership (take a bot out of a
// channel or put it back), POST /rescan (apply data folder changes now), POST /revoke (revoke
// a bot's sessions: `{ "bot": <bot id> }`), GET /healthz.
import http from 'node:http';
import type { Stats } from './stats';
import type { FaultSettings } from './types';
import { parseFaults } from './faults';

export interface AdminHooks {
  stats: Stats;
  getFaults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
  /** `channel` is the -100… id; throws for an unknown bot or channel. */
  setMembership(bot: number, channel: number, member: boolean): void;
  /** Reads the data folder again now (fs.watch does it too, after a quiet moment). */
  rescan(): Promise<void>;
  /** Revokes every session of a bot; how many auth keys. Throws for an unknown bot. */
  revokeBot(bot: number): number;
}

export interface MembershipChange {
  bot: number;
  channel: number;
  member: boolean;
}

/** Bodies are a few bytes of JSON; anything larger is a mistake, not a request. */
const MAX_BODY = 64 * 1024;

/** Validates `{ "bot": <bot id>, "channel": <-100… id>, "member": bool }` (untrusted JSON). */
export function parseMembership(input: unknown): MembershipChange {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('membership must be a JSON object');
  const src = input as Record<string, unknown>;
  for (const key of Object.keys(src)) {
    if (key !== 'bot' && key !== 'channel' && key !== 'member') throw new Error(`unknown membership field "${key}"`);
  }
  const { bot, channel, member } = src;
  if (typeof bot !== 'number' || !Number.isSafeInteger(bot) || bot <= 0) throw new Error(`bot must be a bot id, got ${JSON.stringify(bot)}`);
  if (typeof channel !== 'number' || !Number.isSafeInteger(channel) || channel >= -1e12) {
    throw new Error(`channel must be a -100… channel id, got ${JSON.stringify(channel)}`);
  }
  if (typeof member !== 'boolean') throw new Error(`member must be true or false, got ${JSON.stringify(member)}`);
  return { bot, channel, member };
}

/** Validates `{ "bot": <bot id> }` (untrusted JSON); the bot id. */
export function parseRevoke(input: unknown): number {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('revoke must be a JSON object');
  const src = input as Record<string, unknown>;
  for (const key of Object.keys(src)) if (key !== 'bot') throw new Error(`unknown revoke field "${key}"`);
  if (typeof src.bot !== 'number' || !Number.isSafeInteger(src.bot) || src.bot <= 0) throw new Error(`bot must be a bot id, got ${JSON.stringify(src.bot)}`);
  return src.bot;
}

/** Reads a JSON body (empty means `{}`) and answers 200 with `apply`'s result or 400 with why. */
function withJsonBody(req: http.IncomingMessage, reply: (status: number, body: unknown) => void, apply: (body: unknown) => unknown): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => {
    try {
      if (size > MAX_BODY) throw new Error(`body larger than ${MAX_BODY} bytes`);
      reply(200, apply(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
    } catch (err) {
      reply(400, { error: (err as Error).message });
    }
  });
}

export function createAdminServer(hooks: AdminHooks): http.Server {
  const { stats } = hooks;
  return http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/stats') return reply(200, stats.snapshot());
    if (req.method === 'GET' && url === '/healthz') return reply(200, { ok: true });
    if (req.method === 'GET' && url === '/faults') return reply(200, hooks.getFaults());
    if (req.method === 'POST' && url === '/stats/reset') {
      stats.reset();
      return reply(200, stats.snapshot());
    }
    if (req.method === 'POST' && url === '/faults') {
      return withJsonBody(req, reply, (body) => {
        hooks.setFaults(parseFaults(body));
        return hooks.getFaults();
      });
    }
    if (req.method === 'POST' && url === '/rescan') {
      hooks.rescan().then(() => reply(200, { ok: true }), (err: Error) => reply(500, { error: err.message }));
      return;
    }
    if (req.method === 'POST' && url === '/revoke') {
      return withJsonBody(req, reply, (body) => {
        const bot = parseRevoke(body);
        return { bot, revoked: hooks.revokeBot(bot) };
      });
    }
    if (req.method === 'POST' && url === '/membership') {
      return withJsonBody(req, reply, (body) => {
        const change = parseMembership(body);
        hooks.setMembership(change.bot, change.channel, change.member);
        return change;
      });
    }
    reply(404, { error: `no route ${req.method} ${url}` });
  });
}
