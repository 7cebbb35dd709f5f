/**
 * The guest TSC (arch/x86/kvm/x86.c: kvm_read_l1_tsc, MSR_IA32_TSC, IA32_TSC_ADJUST,
 * TSC_AUX): derived from the VM clock at the vCPU's rate plus an offset, so TSC,
 * kvmclock and the LAPIC timer can never drift apart.
 *
 * The TSC is a JS number: exact below 2^53 (about 35 days at 3 GHz); guests that write
 * larger values into IA32_TSC lose the low bits.
 */
import type { VmClock } from '../clock';
import { APIC_BUS_FREQUENCY_KHZ } from './irqchip/lapic-regs';
import type { KvmCpuidEntry2 } from '../uapi/structs';
import type { EngineTscClock, X86Cpu } from './engine/cpu';

export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_TSC_ADJUST = 0x3b;
export const MSR_TSC_AUX = 0xc0000103;
/** The default guest TSC rate (KVM_GET_TSC_KHZ). */
export const KVM_DEFAULT_TSC_KHZ = 2_000_000;
/** KVM_SET_TSC_KHZ limits (a sane range: 1 MHz .. 10 GHz). */
export const KVM_TSC_KHZ_MIN = 1_000;
export const KVM_TSC_KHZ_MAX = 10_000_000;

/**
 * The host's TSC rate. The silicon has no TSC scaling, so only a vCPU at this rate runs
 * RDTSC without an exit (TSC offsetting); another KVM_SET_TSC_KHZ rate keeps it exiting.
 */
export const KVM_HOST_TSC_KHZ = KVM_DEFAULT_TSC_KHZ;

/**
 * The host's TSC as the silicon reads it (rdtsc on the host): the VM clock at
 * KVM_HOST_TSC_KHZ. On the virtual clock the instructions retired since the VM entry
 * count too (the clock advances only when the vendor accounts them at the exit), so a
 * guest RDTSC reads exactly what an RDTSC exit would have returned.
 */
export class KvmHostTsc implements EngineTscClock {
  /** cpu.instret at the last VM entry (X86VendorVcpu sets it). */
  entryInstret = 0;

  constructor(private readonly clock: VmClock) {}

  hostTsc(cpu: X86Cpu): number {
    const c = this.clock;
    let ns = c.nowNs();
    if (c.mode === 'virtual') ns += (cpu.instret - this.entryInstret) * c.nsPerInstruction;
    return Math.floor((ns * KVM_HOST_TSC_KHZ) / 1e6);
  }
}

export class KvmVcpuTsc {
  tscKhz = KVM_DEFAULT_TSC_KHZ;
  /** l1_tsc_offset */
  offset = 0;
  /** ia32_tsc_adjust_msr */
  adjust = 0;
  /** MSR_TSC_AUX (RDTSCP/RDPID) */
  aux = 0;

  constructor(private readonly clock: VmClock) {}

  /** The unscaled TSC at VM clock `ns` (no offset). */
  private scaled(ns: number): number {
    return Math.floor((ns * this.tscKhz) / 1e6);
  }

  /** kvm_read_l1_tsc at VM clock `ns`. */
  tscAtNs(ns: number): number {
    return this.scaled(ns) + this.offset;
  }

  /** What RDTSC returns now. */
  read(): number {
    return this.tscAtNs(this.clock.nowNs());
  }

  /** The VM clock ns at which the TSC reaches `tsc` (TSC-deadline timer). */
  nsAtTsc(tsc: number): number {
    return Math.ceil(((tsc - this.offset) * 1e6) / this.tscKhz);
  }

  /** WRMSR IA32_TSC: a guest write also moves IA32_TSC_ADJUST by the same delta (SDM 17.17.3). */
  write(value: number, hostInitiated: boolean): void {
    const newOffset = value - this.scaled(this.clock.nowNs());
    if (!hostInitiated) this.adjust += newOffset - this.offset;
    this.offset = newOffset;
  }

  /** WRMSR IA32_TSC_ADJUST: the TSC moves by the change. */
  writeAdjust(value: number): void {
    this.offset += value - this.adjust;
    this.adjust = value;
  }

  /** KVM_SET_TSC_KHZ: keep the current TSC value continuous across the rate change. */
  setKhz(khz: number): void {
    const now = this.clock.nowNs();
    const cur = this.tscAtNs(now);
    this.tscKhz = khz;
    this.offset = cur - this.scaled(now);
  }
}

/**
 * CPUID leaves that tell the guest the TSC and APIC-bus rates, so it need not calibrate:
 * 0x15 (TSC = crystal ecx Hz * ebx / eax), 0x16 (base/max MHz) and the hypervisor
 * timing leaf 0x40000010 (eax TSC kHz, ebx APIC bus kHz).
 * The vendors' CPUID tables include these.
 */
export function kvmTscCpuidLeaves(tscKhz: number): KvmCpuidEntry2[] {
  const crystalHz = 25_000_000;
  return [
    // TSC = crystal * ebx / eax
    { function: 0x15, index: 0, flags: 0, eax: 25_000, ebx: tscKhz, ecx: crystalHz, edx: 0 },
    { function: 0x16, index: 0, flags: 0, eax: Math.floor(tscKhz / 1000), ebx: Math.floor(tscKhz / 1000), ecx: 100, edx: 0 },
    { function: 0x40000010, index: 0, flags: 0, eax: tscKhz, ebx: APIC_BUS_FREQUENCY_KHZ, ecx: 0, edx: 0 },
  ];
}
