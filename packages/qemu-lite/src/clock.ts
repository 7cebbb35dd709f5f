/**
 * The VM's clock as devices see it (DESIGN.md "Time"): nanoseconds since the VM started.
 * Devices never read Date.now(); the machine hands them a Clock.
 */
export interface Clock {
  nowNs(): number;
}

/** Host time: monotonic, from process.hrtime. */
export class HostClock implements Clock {
  private readonly start = process.hrtime.bigint();
  nowNs(): number {
    return Number(process.hrtime.bigint() - this.start);
  }
}

/** A clock tests (and deterministic runs) advance by hand. */
export class ManualClock implements Clock {
  constructor(public ns = 0) {}
  nowNs(): number {
    return this.ns;
  }
  advance(ns: number): void {
    this.ns += ns;
  }
}
