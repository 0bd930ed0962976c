// Bot tokens are `<bot id>:<secret>`. Only the id ever leaves this module in readable form.
import { InvalidTokenError } from './errors';

const TOKEN = /^(\d{1,20}):([A-Za-z0-9_-]{10,})$/;

/** The bot id of a token; throws InvalidTokenError (without the secret) when malformed. */
export function parseBotId(token: string): number {
  const m = TOKEN.exec(token.trim());
  const id = m?.[1] !== undefined ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(id) || id <= 0) {
    const prefix = /^(\d{1,20}):/.exec(token)?.[1];
    const botId = prefix !== undefined && Number.isSafeInteger(Number(prefix)) ? Number(prefix) : undefined;
    throw new InvalidTokenError(botId, 'malformed token');
  }
  return id;
}
