// Secrets (bot token secrets, the api hash) must never reach an error message or a log line.
// `redactToken` formats a token for humans; `scrubSecrets` is the safety net every TgvfsError
// message passes through, against the secrets that workers register when they start.

const secrets = new Set<string>();

/** `<botId>:***` for a `<botId>:<secret>` token; `***` when the token has no id prefix. */
export function redactToken(token: string): string {
  const colon = token.indexOf(':');
  const botId = colon > 0 ? token.slice(0, colon) : '';
  return /^\d+$/.test(botId) ? `${botId}:***` : '***';
}

/**
 * Remembers a secret so that `scrubSecrets` removes it from any text. A token registers its
 * secret part (after the colon). Short strings (< 6 chars) are ignored: they would mangle text.
 */
export function registerSecret(secret: string): void {
  if (secret.length >= 6) secrets.add(secret);
}

/** Registers the secret part of a bot token (and the whole token, for good measure). */
export function registerToken(token: string): void {
  const colon = token.indexOf(':');
  registerSecret(token);
  if (colon >= 0) registerSecret(token.slice(colon + 1));
}

/** Replaces every registered secret in `text` with `***`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
