// The emulator as the command line runs it: the CLI reaches the emulator only through app/.
import { formatHostPort } from '../config/listen-address';
import type { EmulatorHandle } from '../emulator/types';

export { startEmulator } from '../emulator';
export type { EmulatorHandle, EmulatorOptions, FaultSettings } from '../emulator/types';

/** What `tgvfs emulator` prints once it listens (scripts wait for this line). */
export function emulatorReadyLine(handle: EmulatorHandle, configOut: string | undefined): string {
  const dcs = (handle.config.telegram?.dcs ?? []).map((d) => `${d.id}@${formatHostPort(d)}`).join(',');
  return `emulator ready: admin ${handle.adminUrl}, DCs ${dcs || '(none)'}, config ${configOut ?? '(none)'}\n`;
}
