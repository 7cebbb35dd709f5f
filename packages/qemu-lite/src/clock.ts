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

/**
 * The VM's own clock through KVM_GET_CLOCK (kvmclock ns), so device timers run on the
 * same time base as the in-kernel PIT and LAPIC (and on virtual time when the engine
 * runs deterministically). Falls back to host time where the architecture lacks it.
 */
export class KvmClock implements Clock {
  private readonly fallback: HostClock | null;

  constructor(private readonly vm: { getClock(): { clock: bigint } }) {
    let ok = true;
    try {
      vm.getClock();
    } catch {
      ok = false;
    }
    this.fallback = ok ? null : new HostClock();
  }

  /** True when KVM_GET_CLOCK answered (false: host time is used). */
  get usesKvmClock(): boolean {
    return this.fallback === null;
  }

  nowNs(): number {
    return this.fallback !== null ? this.fallback.nowNs() : Number(this.vm.getClock().clock);
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
