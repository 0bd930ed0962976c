// The set-up most pool tests share: each test starts its own emulator fixture and pools; after
// each test, every pool is closed, then the fixture.
import { afterEach } from 'node:test';

interface Closable {
  close(): Promise<void>;
}

/**
 * Registers the afterEach hook (call it inside `describe`) and returns the list to push each
 * pool onto; `fixture()` reads the test's fixture variable, `cleared()` resets it.
 */
export function closeAfterEach<P extends Closable>(fixture: () => Closable | undefined, cleared: () => void): P[] {
  const pools: P[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await fixture()?.close();
    cleared();
  });
  return pools;
}
