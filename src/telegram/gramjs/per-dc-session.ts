// A StringSession that keeps an auth key per DC, not only the home DC's, so that a restarted
// worker reaches a foreign DC (FILE_MIGRATE) with the key it authorized there before, without
// auth.exportAuthorization / auth.importAuthorization again: Telegram answers repeated exports
// with FLOOD_WAIT.
//
// Its string is versioned: `tgvfs1:` + base64 of JSON `{ homeDc, address, port, keys }`, where
// `keys` maps a DC id to its auth key (base64), the home DC's included. GramJS's own format
// (`1` + base64, one key) is still read, so that sessions saved before keep working.
//
// Replaces (telegram 2.26.22): sessions/Memory.js, MemorySession.getAuthKey / setAuthKey, which
// answer undefined and drop the key for any DC but the home one ("Not supported."), and
// sessions/StringSession.js, StringSession.save / load (one key only).
// Relies on: MemorySession.setDC and the authKey getter/setter, `load()` being awaited by TelegramClient.connect (_initSession) before any sender is made, and
// AuthKey.setKey accepting a 256-byte Buffer.
import { AuthKey } from 'telegram/crypto/AuthKey';
import { StringSession } from 'telegram/sessions';

export const SESSION_PREFIX = 'tgvfs1:';

interface SessionJson {
  homeDc: number;
  address: string;
  port: number;
  /** DC id (decimal) → auth key, base64. */
  keys: Record<string, string>;
}

const AUTH_KEY_BYTES = 256;

function isSessionJson(v: unknown): v is SessionJson {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Number.isInteger(o.homeDc) && typeof o.address === 'string' && Number.isInteger(o.port) &&
    typeof o.keys === 'object' && o.keys !== null && !Array.isArray(o.keys) &&
    Object.values(o.keys as Record<string, unknown>).every((k) => typeof k === 'string');
}

/** The fields of a `tgvfs1:` string, keys still raw. */
function parseTgvfs(text: string): { homeDc: number; address: string; port: number; keys: Map<number, Buffer> } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text.slice(SESSION_PREFIX.length), 'base64').toString('utf8'));
  } catch {
    throw new Error('Not a valid string');
  }
  if (!isSessionJson(json)) throw new Error('Not a valid string');
  const keys = new Map<number, Buffer>();
  for (const [dc, b64] of Object.entries(json.keys)) {
    const key = Buffer.from(b64, 'base64');
    const id = Number(dc);
    if (key.length !== AUTH_KEY_BYTES || !Number.isInteger(id) || id <= 0) throw new Error('Not a valid string');
    keys.set(id, key);
  }
  if (!keys.has(json.homeDc)) throw new Error('Not a valid string');
  return { homeDc: json.homeDc, address: json.address, port: json.port, keys };
}

export class PerDcSession extends StringSession {
  /** Keys read from a `tgvfs1:` string (the home DC's included), raw until `load()`. */
  private readonly raw = new Map<number, Buffer>();
  /** Keys of DCs other than the home one. */
  private readonly keys = new Map<number, AuthKey>();

  /** Reads either format; throws (like StringSession) on a string that is neither. */
  constructor(text = '') {
    // GramJS's own reader is not given ours: it also mistakes some strings for Telethon's.
    super(text.startsWith(SESSION_PREFIX) ? '' : text);
    if (!text.startsWith(SESSION_PREFIX)) return;
    const parsed = parseTgvfs(text);
    this.setDC(parsed.homeDc, parsed.address, parsed.port);
    for (const [dcId, key] of parsed.keys) this.raw.set(dcId, key);
  }

  override async load(): Promise<void> {
    await super.load();
    for (const [dcId, bytes] of this.raw) {
      const key = new AuthKey();
      await key.setKey(bytes);
      if (dcId === this.dcId) super.setAuthKey(key);
      else this.keys.set(dcId, key);
    }
    this.raw.clear();
  }

  /** DCs other than the home one whose key this session holds. */
  get foreignDcs(): number[] {
    return [...new Set([...this.keys.keys(), ...this.raw.keys()])].filter((dc) => dc !== this.dcId).sort((a, b) => a - b);
  }

  override getAuthKey(dcId?: number): AuthKey | undefined {
    if (dcId && dcId !== this.dcId) return this.keys.get(dcId);
    return super.getAuthKey(dcId);
  }

  override setAuthKey(authKey?: AuthKey, dcId?: number): undefined {
    if (!dcId || dcId === this.dcId) return super.setAuthKey(authKey, dcId);
    this.raw.delete(dcId);
    if (authKey?.getKey()) this.keys.set(dcId, authKey);
    else this.keys.delete(dcId);
    return undefined;
  }

  /** `tgvfs1:` + base64 JSON; '' while the home DC has no key (as StringSession). */
  override save(): string {
    const home = this.authKey?.getKey() ?? this.raw.get(this.dcId);
    if (!home || !this.serverAddress || !this.port) return '';
    const keys: Record<string, string> = { [String(this.dcId)]: home.toString('base64') };
    for (const [dcId, key] of this.keys) {
      const bytes = key.getKey();
      if (bytes && dcId !== this.dcId) keys[String(dcId)] = bytes.toString('base64');
    }
    for (const [dcId, bytes] of this.raw) {
      if (dcId !== this.dcId && keys[String(dcId)] === undefined) keys[String(dcId)] = bytes.toString('base64');
    }
    const json: SessionJson = { homeDc: this.dcId, address: this.serverAddress, port: this.port, keys };
    return SESSION_PREFIX + Buffer.from(JSON.stringify(json)).toString('base64');
  }
}
