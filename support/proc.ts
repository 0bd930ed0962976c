// What Linux says about a process (/proc), for memory and CPU figures of tests and benches.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, …) in bytes. */
function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Resident set size of a process now, in bytes. */
export function rssOf(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** The highest resident set size a process has had (VmHWM), in bytes. */
export function peakRssOf(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

/** CPU seconds (user + system) a process has used so far; NaN when /proc cannot say. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
