/**
 * The TOD clock of a VM. Time is virtual: it advances with the instructions the vCPUs
 * execute (and jumps forward when every vCPU waits for a timer), so runs are
 * deterministic. TOD bit 51 is one microsecond: 4096 TOD units per microsecond.
 */
export class TodClock {
  /** Virtual nanoseconds since the VM was created. */
  ns = 0;
  /** TOD value at ns = 0 (the epoch the guest set with SCK, or the host's at creation). */
  base = 0n;

  /** The TOD clock value at virtual time ns. */
  todAt(ns: number): bigint {
    return this.base + (BigInt(Math.floor(ns)) * 4096n) / 1000n;
  }

  /** The virtual time at which the TOD clock reaches tod (may be in the past). */
  nsAt(tod: bigint): number {
    const d = tod - this.base;
    return Number((d * 1000n) / 4096n);
  }
}
