/**
 * The per-VM clock: the one time base every timer of a VM reads (PIT, LAPIC timer,
 * TSC, kvmclock, RTC in the VMM). Timers never call Date.now()/performance.now()
 * themselves, so swapping the clock swaps the whole VM's notion of time.
 *
 * Two sources:
 *  - 'host': monotonic host time (performance.now()), for interactive use.
 *  - 'virtual': time advances only with executed guest instructions
 *    (`advanceInstructions`, called by the engine) and by explicit warps when every
 *    vCPU is idle (`warpTo`, called by the VMM's event loop). Same guest and same input
 *    give the same output, which is what deterministic tests need (QEMU's -icount).
 *
 * Time is a JS number of nanoseconds since the VM was created: exact up to 2^53 ns
 * (104 days of guest uptime), no BigInt on the paths that read it.
 */
import { KvmError } from './errors';

export type VmClockMode = 'host' | 'virtual';

export interface VmClockOptions {
  mode: VmClockMode;
  /** Virtual mode: guest nanoseconds per executed instruction (default 1: a 1 GHz, IPC 1 CPU). */
  nsPerInstruction?: number;
  /**
   * Wall-clock time (ns since the Unix epoch) at VM clock 0. Host mode defaults to the
   * host's realtime at creation; virtual mode to a fixed instant so runs repeat exactly.
   */
  realtimeAtZeroNs?: number;
  /** Restart the clock at this time instead of carrying the current time over. */
  startNs?: number;
}

/** 2024-01-01T00:00:00Z: the default wall clock of a deterministic VM. */
export const VIRTUAL_CLOCK_DEFAULT_EPOCH_NS = 1704067200 * 1e9;

/** The host's monotonic clock in ns (the only place kvm-core reads host time for timers). */
export function hostMonotonicNs(): number {
  return Math.round(performance.now() * 1e6);
}

export class VmClock {
  private modeValue: VmClockMode = 'host';
  /** host mode: host monotonic ns at VM clock 0. */
  private hostBase = 0;
  /** virtual mode: the current time. */
  private virtualNs = 0;
  private nsPerInsn = 1;
  private realtimeAtZero = 0;
  private configured = false;

  constructor(options: VmClockOptions = { mode: 'host' }, private readonly hostNow: () => number = hostMonotonicNs) {
    this.configure(options);
  }

  get mode(): VmClockMode {
    return this.modeValue;
  }

  /** Switch the source; the current time carries over (unless startNs), so timers do not jump. */
  configure(options: VmClockOptions): void {
    const nsPer = options.nsPerInstruction ?? 1;
    if (!(nsPer > 0) || !Number.isFinite(nsPer)) throw new KvmError('EINVAL', 'nsPerInstruction: must be a positive finite number');
    const now = options.startNs ?? (this.configured ? this.nowNs() : 0);
    this.configured = true;
    this.modeValue = options.mode;
    this.nsPerInsn = nsPer;
    if (options.mode === 'host') this.hostBase = this.hostNow() - now;
    else this.virtualNs = now;
    if (options.realtimeAtZeroNs !== undefined) this.realtimeAtZero = options.realtimeAtZeroNs;
    else if (options.mode === 'virtual') this.realtimeAtZero = VIRTUAL_CLOCK_DEFAULT_EPOCH_NS;
    else this.realtimeAtZero = Date.now() * 1e6 - now;
  }

  /** Virtual mode: guest ns per executed instruction. */
  get nsPerInstruction(): number {
    return this.nsPerInsn;
  }

  /** Nanoseconds since VM creation. */
  nowNs(): number {
    return this.modeValue === 'host' ? this.hostNow() - this.hostBase : this.virtualNs;
  }

  /** Wall-clock ns since the epoch that corresponds to VM clock `ns` (pvclock wall clock, RTC). */
  realtimeNs(ns = this.nowNs()): number {
    return this.realtimeAtZero + ns;
  }

  /** The engine reports retired instructions; only the virtual clock moves. */
  advanceInstructions(count: number): void {
    if (this.modeValue === 'virtual') this.virtualNs += count * this.nsPerInsn;
  }

  /**
   * All vCPUs idle until `ns` (the next timer deadline): the virtual clock jumps there.
   * Host time cannot be warped; the VMM sleeps instead. Never moves backwards.
   */
  warpTo(ns: number): void {
    if (this.modeValue === 'virtual' && ns > this.virtualNs) this.virtualNs = ns;
  }
}
