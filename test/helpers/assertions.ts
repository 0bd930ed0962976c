// Assertions the tests share.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';

/** Awaits `p`, which must reject with an instance of `cls`; returns the error for more checks. */
export async function expectRejects<E>(p: Promise<unknown>, cls: abstract new (...a: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${inspect(err)}`);
    return err;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}
