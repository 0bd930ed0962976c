// A small seeded PRNG for tests and benches (random ranges, seeks, jobs), so that a run can be
// replayed from its seed.

/** mulberry32: uniform in [0, 1), from a string or 32-bit seed. */
export function prng(seed: string | number): () => number {
  let a = 0;
  if (typeof seed === 'number') a = seed >>> 0;
  else for (const ch of seed) a = (Math.imul(a ^ ch.charCodeAt(0), 2654435761) + 1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
