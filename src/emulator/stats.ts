// Counters behind GET /stats (DESIGN.md contract): calls per TL method, bytes of file content
// served, faults injected, auth keys created.
import type { EmulatorStats } from './types';

export class Stats {
  private calls: Record<string, number> = {};
  private faults: Record<string, number> = {};
  private bytes = 0;
  private keys = 0;

  call(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  /** A handshake created an auth key. */
  keyCreated(): void {
    this.keys++;
  }

  served(bytes: number): void {
    this.bytes += bytes;
  }

  snapshot(): EmulatorStats {
    return { calls: { ...this.calls }, bytesServed: this.bytes, faults: { ...this.faults }, authKeysCreated: this.keys };
  }

  reset(): void {
    this.calls = {};
    this.faults = {};
    this.bytes = 0;
    this.keys = 0;
  }
}
