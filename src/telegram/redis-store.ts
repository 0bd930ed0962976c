// A keyv store in redis (`redis://[user:password@]host:port[/db]`, `rediss://…` for TLS), so
// that several tgvfs instances share one catalog and metadata cache.
//
// How it behaves when redis is not there:
//   - at start: the first connection attempt is the only one; its failure rejects (the caller
//     turns it into one line naming the URL with its password hidden);
//   - later: commands fail at once instead of queueing (`disableOfflineQueue`), so a read is a
//     miss and a write is logged by whoever made it, and everything keeps being served from
//     memory, while the client reconnects in the background (backoff up to 2 s). One line is
//     logged when the connection is lost and one when it is back, not one per retry.
import { Keyv } from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { registerSecret } from '../util/secrets';

/** Longest pause between reconnection attempts once the store was up. */
const MAX_BACKOFF_MS = 2000;
/** Connecting (TCP and TLS) may take this long before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The URL with any password replaced by `***` (user names stay: they help and are not secret).
 * Something that does not parse as a URL is shown only by its scheme.
 */
export function redactCacheUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
    return scheme ? `${scheme}://…` : '(unparsable cache URL)';
  }
}

/** Opens a connected keyv over redis with every key under `namespace::`. */
export async function openRedisKeyv(url: string, namespace: string, log: (line: string) => void): Promise<Keyv> {
  const description = redactCacheUrl(url);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Unparsable: @redis/client rejects it below, with a message that does not echo it.
  }
  if (password) registerSecret(password);

  let up = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Before the first success: fail (connect() rejects with the cause). After: keep trying.
      reconnectStrategy: (retries: number) => (up ? Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(retries, 5)) : false),
    },
  });
  let lost = false;
  const scrub = (text: string): string => (password ? text.split(password).join('***') : text);
  client.on('error', (err: unknown) => {
    if (!up || lost) return;
    lost = true;
    log(`cache ${description} (${namespace}): connection lost (${scrub(err instanceof Error ? err.message : String(err))}); serving from memory, reconnecting`);
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    log(`cache ${description} (${namespace}): connection back`);
  });
  try {
    await client.connect();
  } catch (err) {
    // A failed connect() leaves nothing open; destroy() is for a half-open TLS socket.
    if (client.isOpen) client.destroy();
    throw new Error(scrub(err instanceof Error ? err.message : String(err)) || 'connection failed', { cause: err });
  }
  up = true;
  // keyv's own prefixing is off: the adapter prefixes (`namespace::key`), once.
  const store = new KeyvRedis(client, { namespace, throwOnConnectError: true, throwOnErrors: true });
  // Errors reach callers as rejections (throwOnErrors); the connection's own noise is logged
  // above, so keyv's error events would only repeat it.
  return new Keyv({ store, namespace, useKeyPrefix: false, throwOnErrors: true, emitErrors: false });
}
