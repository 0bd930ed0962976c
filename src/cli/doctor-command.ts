// `tgvfs doctor [--config FILE] [--json] [--no-fuse] [--timeout SECONDS]`: runs the checks of
// app/doctor.ts and prints them as an aligned table (or JSON). Exit codes: 0 nothing FAILed,
// 1 something did, 130 interrupted.
import { defaultConfigPath } from '../config/config-file';
import { resolveConfig } from '../config/config-sources';
import { diagnoseConfigFile, hasFailure, type CheckRow, type CheckStatus } from '../app/doctor';
import { parsePositiveInt } from './options';
import { interruptOnSignals } from './interrupt';

export interface DoctorFlags {
  config?: string;
  json?: boolean;
  /** Commander's `--no-fuse`: false skips the FUSE checks. */
  fuse?: boolean;
  /** Seconds per network check. */
  timeout?: string;
  /** `--ipv6`: Telegram's DCs at their IPv6 addresses. */
  ipv6?: boolean;
}

const HEADERS = { check: 'CHECK', target: 'TARGET', status: 'STATUS', detail: 'DETAIL' } as const;
const COLORS: Record<CheckStatus, string> = { OK: '\x1b[32m', WARN: '\x1b[33m', FAIL: '\x1b[31m' };

/**
 * The rows as a table: columns padded to their widest cell, two spaces apart, the last column
 * (detail) unpadded; then a count of each status. With `color`, statuses are green/yellow/red
 * (only the word is colored, so columns stay aligned).
 */
export function renderTable(rows: readonly CheckRow[], options: { color?: boolean } = {}): string {
  const all = [HEADERS, ...rows];
  const width = (key: 'check' | 'target' | 'status'): number => Math.max(...all.map((r) => r[key].length));
  const w = { check: width('check'), target: width('target'), status: width('status') };
  const statusAt = w.check + 2 + w.target + 2;
  const line = (r: CheckRow | typeof HEADERS, isHeader: boolean): string => {
    const plain = `${r.check.padEnd(w.check)}  ${r.target.padEnd(w.target)}  ${r.status.padEnd(w.status)}  ${r.detail}`.trimEnd();
    if (!options.color || isHeader) return plain;
    const end = statusAt + r.status.length;
    return `${plain.slice(0, statusAt)}${COLORS[r.status as CheckStatus]}${r.status}\x1b[0m${plain.slice(end)}`;
  };
  const count = (s: CheckStatus): number => rows.filter((r) => r.status === s).length;
  return [
    line(HEADERS, true),
    ...rows.map((r) => line(r, false)),
    '',
    `${count('OK')} OK, ${count('WARN')} WARN, ${count('FAIL')} FAIL`,
    '',
  ].join('\n');
}

export async function runDoctorCommand(flags: DoctorFlags): Promise<void> {
  const timeoutMs = (flags.timeout === undefined ? 15 : parsePositiveInt(flags.timeout, '--timeout')) * 1000;
  const interrupt = interruptOnSignals();
  let rows: CheckRow[];
  try {
    // flags > TGVFS_* > file, as every other command.
    const load = (): ReturnType<typeof resolveConfig> => resolveConfig({ flags: { config: flags.config, ipv6: flags.ipv6 } });
    rows = await diagnoseConfigFile(flags.config ?? defaultConfigPath(), { timeoutMs, fuse: flags.fuse !== false, signal: interrupt.signal, load });
  } catch (err) {
    if (interrupt.signal.aborted) {
      process.stderr.write('tgvfs doctor: interrupted\n');
      process.exit(130);
    }
    throw err;
  } finally {
    interrupt.dispose();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(renderTable(rows, { color: process.stdout.isTTY === true && !process.env.NO_COLOR }));
  // Every worker and store was closed; exit now anyway, in case a library left a timer behind.
  process.exit(hasFailure(rows) ? 1 : 0);
}
