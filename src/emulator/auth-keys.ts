// Auth keys the emulator knows, and which bot each is logged in as. Kept on disk (mode 0600)
// so that a client's saved session stays valid when the emulator restarts.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface AuthKeyRecord {
  key: Buffer;
  id: bigint;
  salt: Buffer;
  dcId: number;
  /** Bot id once `auth.importBotAuthorization`/`auth.importAuthorization` succeeded. */
  userId: number | null;
  /**
   * The API layer the client last declared with invokeWithLayer on this key: Telegram
   * remembers it per key and answers in it, on every connection, until another is declared.
   */
  layer: number | null;
}

interface Persisted {
  key: string;
  salt: string;
  dcId: number;
  userId: number | null;
  layer?: number | null;
}

export function authKeyId(key: Buffer): bigint {
  return createHash('sha1').update(key).digest().readBigUInt64LE(12);
}

export class AuthKeyStore {
  private readonly keys = new Map<bigint, AuthKeyRecord>();
  private saving: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'auth-keys.json');
  }

  async load(): Promise<void> {
    let list: Persisted[];
    try {
      list = JSON.parse(await readFile(this.file, 'utf8')) as Persisted[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const p of list) {
      const key = Buffer.from(p.key, 'base64');
      this.keys.set(authKeyId(key), { key, id: authKeyId(key), salt: Buffer.from(p.salt, 'base64'), dcId: p.dcId, userId: p.userId, layer: p.layer ?? null });
    }
  }

  get(id: bigint): AuthKeyRecord | undefined {
    return this.keys.get(id);
  }

  add(key: Buffer, salt: Buffer, dcId: number): AuthKeyRecord {
    const rec: AuthKeyRecord = { key, id: authKeyId(key), salt, dcId, userId: null, layer: null };
    this.keys.set(rec.id, rec);
    this.persist();
    return rec;
  }

  /** Every key logged in as `userId`. */
  boundTo(userId: number): AuthKeyRecord[] {
    return [...this.keys.values()].filter((r) => r.userId === userId);
  }

  bind(rec: AuthKeyRecord, userId: number | null): void {
    rec.userId = userId;
    this.persist();
  }

  /** Remembers the layer a client declared on this key (saved only when it changes). */
  setLayer(rec: AuthKeyRecord, layer: number): void {
    if (rec.layer === layer) return;
    rec.layer = layer;
    this.persist();
  }

  /** Writes are chained so that the file always holds a complete, recent snapshot. */
  private persist(): void {
    const snapshot: Persisted[] = [...this.keys.values()].map((r) => ({
      key: r.key.toString('base64'), salt: r.salt.toString('base64'), dcId: r.dcId, userId: r.userId, layer: r.layer,
    }));
    this.saving = this.saving
      .then(() => writeFile(this.file, JSON.stringify(snapshot), { mode: 0o600 }))
      .catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.saving;
  }

  static newSalt(): Buffer {
    return randomBytes(8);
  }
}
