// GramJS dials the main connection on port 80 and every other on 443, whatever the session or
// help.getConfig says. When the DCs are configured (the emulator), each DC has its own host
// (127.0.0.1 for DC 1, 127.0.0.2 for DC 2, …), so the host alone tells which port to use.
import type { Socket } from 'node:net';
import { PromisedNetSockets } from 'telegram/extensions/PromisedNetSockets';
import type { DcAddress } from '../app/config';

/**
 * A `networkSocket` class for GramJS that dials each DC host on its configured port (when any
 * are configured) and turns Nagle off: GramJS writes an ack and a request as two small packets,
 * and with Nagle the second waits for the delayed ACK of the first (~40 ms per call).
 */
export function createDcSocketClass(dcs: readonly DcAddress[] = []): typeof PromisedNetSockets {
  const portByHost = new Map<string, number>();
  for (const dc of dcs) {
    const known = portByHost.get(dc.host);
    if (known !== undefined && known !== dc.port) {
      throw new Error(`DC host ${dc.host} is configured with two ports (${known}, ${dc.port}); each DC needs its own host`);
    }
    portByHost.set(dc.host, dc.port);
  }
  return class DcSocket extends PromisedNetSockets {
    override async connect(port: number, ip: string): Promise<unknown> {
      const result = await super.connect(portByHost.get(ip) ?? port, ip);
      // GramJS keeps its net.Socket in a field its typings do not declare.
      (this as unknown as { client?: Socket }).client?.setNoDelay?.(true);
      return result;
    }
  };
}
