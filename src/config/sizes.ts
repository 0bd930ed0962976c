// Byte sizes as people write them in flags, variables and config files: `2147483648`, `512K`,
// `500M`, `2G`, `1.5GiB` (powers of 1024; a trailing `B`/`iB` is optional, case is not).

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i;

/** Bytes for a size (a non-negative integer, or text as above); undefined when it is not one. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = SIZE.exec(value);
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `2 GiB`, `500 MiB`, `12345 bytes`: for messages. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= n) return `${Number((bytes / n).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}
