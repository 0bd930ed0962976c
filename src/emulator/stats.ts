// Counters behind GET /stats (DESIGN.md contract): calls per TL method, bytes of file content
// served, faults injected.
import type { EmulatorStats } from './types';

export class Stats {
  private calls: Record<string, number> = {};
  private faults: Record<string, number> = {};
  private bytes = 0;

  call(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  served(bytes: number): void {
    this.bytes += bytes;
  }

  snapshot(): EmulatorStats {
    return { calls: { ...this.calls }, bytesServed: this.bytes, faults: { ...this.faults } };
  }

  reset(): void {
    this.calls = {};
    this.faults = {};
    this.bytes = 0;
  }
}
