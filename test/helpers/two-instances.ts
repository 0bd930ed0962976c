// Two tgvfs instances' views of one shared store: one sqlite file opened twice (as two processes
// on one host would), made before the suite's tests and closed and removed after them.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { MetadataCache } from '../../src/telegram/metadata-cache';

export interface TwoInstances {
  /** Valid inside the suite's tests (opened in its `before`). */
  readonly a: MetadataCache;
  readonly b: MetadataCache;
}

/** Registers the suite's before/after hooks; call it inside `describe`. */
export function twoInstancesOnOneSqlite(prefix: string): TwoInstances {
  let dir = '';
  const stores: { a?: MetadataCache; b?: MetadataCache } = {};
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
    stores.a = await MetadataCache.open(`sqlite://${dir}/cache.sqlite`);
    stores.b = await MetadataCache.open(`sqlite://${dir}/cache.sqlite`);
  });
  after(async () => {
    await stores.a?.close();
    await stores.b?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get a() {
      return stores.a!;
    },
    get b() {
      return stores.b!;
    },
  };
}
