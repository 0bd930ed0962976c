// Bench settings from the environment (BENCH_MIB=…): one parser, one error wording.

/** A non-negative number from `process.env[name]`, `def` when unset or blank. */
export function envNum(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}
