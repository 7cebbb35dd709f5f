/**
 * kvm_get_msr_common / kvm_set_msr_common (arch/x86/kvm/x86.c): the MSRs the generic
 * x86 layer owns, which vendors fall back to for any index they do not handle
 * themselves: IA32_APICBASE (0x1b), IA32_TSC (0x10), IA32_TSC_ADJUST (0x3b),
 * IA32_TSC_DEADLINE (0x6e0), the x2APIC range (0x800-0x8ff), TSC_AUX, and KVM's
 * paravirt MSRs (kvmclock old and new, PV EOI), and EFER (set_efer: the checks are
 * generic, the vendor only loads the value into its VMCS/VMCB through kvm_x86_ops.set_efer).
 */
import {
  APIC_BASE_MSR, MSR_IA32_APICBASE, MSR_IA32_APICBASE_BSP,
  MSR_IA32_TSC_DEADLINE, X2APIC_MSR_LAST,
} from './irqchip/lapic-regs';
import {
  KVM_MSR_ENABLED, MSR_KVM_PV_EOI_EN, MSR_KVM_STEAL_TIME, MSR_KVM_SYSTEM_TIME, MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_WALL_CLOCK, MSR_KVM_WALL_CLOCK_NEW,
} from './kvmclock';
import { KVM_STEAL_RESERVED_MASK } from './steal-time';
import { MSR_IA32_TSC, MSR_IA32_TSC_ADJUST, MSR_TSC_AUX } from './tsc';
import type { KvmVcpuX86 } from './x86';
import { MSR_IA32_ARCH_CAPABILITIES, kvmGetArchCapabilities } from './arch-capabilities';

/** The MSRs KVM_GET_MSR_INDEX_LIST gains from this layer (save/restore list). */
export const KVM_COMMON_MSRS: readonly number[] = [
  MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_TSC, MSR_IA32_APICBASE, MSR_IA32_TSC_ADJUST, MSR_IA32_TSC_DEADLINE, MSR_TSC_AUX,
  MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_PV_EOI_EN, MSR_KVM_STEAL_TIME,
];

/**
 * MSRs that kvm_get_msr_common reads as 0 (platform, LBR and AMD northbridge/SMM ones):
 * guests read some of them without a #GP guard, e.g. Linux's MTRR code reads
 * MSR_AMD64_SYSCFG on an AMD family 0xf..0x11 CPU (the qemu64 model is family 15).
 */
export const KVM_MSRS_READ_AS_ZERO: ReadonlySet<number> = new Set([
  0x17, // MSR_IA32_PLATFORM_ID
  0x2a, // MSR_IA32_EBL_CR_POWERON
  0x1db, 0x1dc, 0x1dd, 0x1de, // MSR_IA32_LASTBRANCHFROMIP/TOIP, LASTINTFROMIP/TOIP
  0x199, // MSR_IA32_PERF_CTL
  0xc0010010, // MSR_AMD64_SYSCFG
  0xc0010112, 0xc0010113, // MSR_K8_TSEG_ADDR, MSR_K8_TSEG_MASK
  0xc0010117, // MSR_VM_HSAVE_PA
  0xc0010055, // MSR_K8_INT_PENDING_MSG
  0xc001001f, // MSR_AMD64_NB_CFG
  0xc0010058, // MSR_FAM10H_MMIO_CONF_BASE
  0xc001102a, // MSR_AMD64_BU_CFG2
  0xc0011022, // MSR_AMD64_DC_CFG
]);

/** MSRs whose writes kvm_set_msr_common accepts and ignores. */
export const KVM_MSRS_WRITE_IGNORED: ReadonlySet<number> = new Set([
  0xc001001f, // MSR_AMD64_NB_CFG
  0xc0010117, // MSR_VM_HSAVE_PA
  0xc001102a, // MSR_AMD64_BU_CFG2
  0xc0011022, // MSR_AMD64_DC_CFG
]);

export const MSR_EFER = 0xc0000080;
const EFER_SCE = 1 << 0;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;
const EFER_NX = 1 << 11;
const CR0_PG = 1 << 31;
const KVM_MSR_FIRST = 0x4b564d00;
const KVM_MSR_LAST = 0x4b564dff;

/**
 * The MSRs a vendor's get_msr/set_msr leaves to kvm_get_msr_common/kvm_set_msr_common
 * although the engine (the silicon) has them too: EFER, TSC, APIC base, TSC_ADJUST,
 * TSC_AUX and KVM's paravirt range.
 */
export function kvmMsrIsCommon(index: number): boolean {
  const i = index >>> 0;
  if (i >= KVM_MSR_FIRST && i <= KVM_MSR_LAST) return true;
  return i === MSR_EFER || i === MSR_IA32_TSC || i === MSR_IA32_APICBASE || i === MSR_IA32_TSC_ADJUST || i === MSR_TSC_AUX ||
    i === MSR_IA32_ARCH_CAPABILITIES;
}

/**
 * set_efer: SCE, LME, LMA and NXE exist; the guest cannot toggle LME while paging and
 * never writes LMA (it follows CR0.PG); the host may set both. false means #GP.
 */
function setEfer(vcpu: KvmVcpuX86, data: bigint, hostInitiated: boolean): boolean {
  const lo = Number(data & 0xffffffffn);
  if (data >> 32n !== 0n || (lo & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))) return false;
  if (!hostInitiated && (vcpu.cr0 & CR0_PG) && ((lo ^ vcpu.efer) & EFER_LME)) return false;
  const efer = hostInitiated ? lo : (lo & ~EFER_LMA) | (vcpu.efer & EFER_LMA);
  vcpu.ops.setEfer(vcpu, efer);
  vcpu.efer = efer;
  return true;
}

/** CPUID.(EAX=7,ECX=0):EDX[29] in the vCPU's KVM_SET_CPUID2 table. */
function guestHasArchCapabilities(vcpu: KvmVcpuX86): boolean {
  const e = vcpu.cpuidEntries.find((c) => c.function === 7 && c.index === 0);
  return e !== undefined && ((e.edx >>> 29) & 1) === 1;
}

function isX2apicMsr(index: number): boolean {
  return index >= APIC_BASE_MSR && index <= X2APIC_MSR_LAST;
}

/** kvm_get_msr_common: the value, or undefined (#GP / KVM_GET_MSRS stops). */
export function kvmGetMsrCommon(vcpu: KvmVcpuX86, index: number, hostInitiated = false): bigint | undefined {
  switch (index) {
    case MSR_IA32_ARCH_CAPABILITIES:
      // The guest reads it only when its CPUID enumerates it (7.0 EDX[29]).
      if (!hostInitiated && !guestHasArchCapabilities(vcpu)) return undefined;
      return vcpu.archCapabilities;
    case MSR_EFER:
      return BigInt(vcpu.efer >>> 0);
    case MSR_IA32_APICBASE:
      return BigInt(vcpu.apic !== null ? vcpu.apic.apicBase : vcpu.apicBase);
    case MSR_IA32_TSC:
      return BigInt.asUintN(64, BigInt(vcpu.tsc.read()));
    case MSR_IA32_TSC_ADJUST:
      return BigInt.asUintN(64, BigInt(vcpu.tsc.adjust));
    case MSR_TSC_AUX:
      return BigInt(vcpu.tsc.aux >>> 0);
    case MSR_IA32_TSC_DEADLINE:
      return vcpu.apic !== null ? vcpu.apic.getTscDeadline() : 0n;
    case MSR_KVM_WALL_CLOCK:
    case MSR_KVM_WALL_CLOCK_NEW:
      return vcpu.kvm.wallClockMsr;
    case MSR_KVM_SYSTEM_TIME:
    case MSR_KVM_SYSTEM_TIME_NEW:
      return vcpu.pv.systemTimeMsr;
    case MSR_KVM_PV_EOI_EN:
      return vcpu.pv.pvEoiMsr;
    case MSR_KVM_STEAL_TIME:
      return vcpu.steal.msr;
    default:
      if (isX2apicMsr(index)) return vcpu.apic?.x2apicMsrRead(index);
      if (KVM_MSRS_READ_AS_ZERO.has(index >>> 0)) return 0n;
      return undefined;
  }
}

/** kvm_set_msr_common: true when written; false means #GP (or KVM_SET_MSRS stops). */
export function kvmSetMsrCommon(vcpu: KvmVcpuX86, index: number, data: bigint, hostInitiated: boolean): boolean {
  switch (index) {
    case MSR_IA32_ARCH_CAPABILITIES:
      // Read-only to the guest; the VMM may clear bits but not claim unsupported ones.
      if (!hostInitiated || (data & ~kvmGetArchCapabilities()) !== 0n) return false;
      vcpu.archCapabilities = data;
      return true;
    case MSR_EFER:
      return setEfer(vcpu, data, hostInitiated);
    case MSR_IA32_APICBASE: {
      if (data >= 1n << 52n) return false;
      const v = Number(data);
      if (vcpu.apic === null) {
        vcpu.apicBase = v;
        return true;
      }
      // The BSP flag is read-only to the guest.
      const bsp = vcpu.apic.apicBase & MSR_IA32_APICBASE_BSP;
      const ok = vcpu.apic.setBase(hostInitiated ? v : (v & ~MSR_IA32_APICBASE_BSP) | bsp, hostInitiated);
      if (ok) vcpu.apicBase = vcpu.apic.apicBase;
      return ok;
    }
    case MSR_IA32_TSC:
      vcpu.tsc.write(Number(BigInt.asIntN(64, data)), hostInitiated);
      vcpu.requestClockUpdate();
      return true;
    case MSR_IA32_TSC_ADJUST:
      vcpu.tsc.writeAdjust(Number(BigInt.asIntN(64, data)));
      vcpu.requestClockUpdate();
      return true;
    case MSR_TSC_AUX:
      if (!hostInitiated && data >> 32n) return false;
      vcpu.tsc.aux = Number(data & 0xffffffffn);
      return true;
    case MSR_IA32_TSC_DEADLINE:
      vcpu.apic?.setTscDeadline(data);
      return true;
    case MSR_KVM_WALL_CLOCK:
    case MSR_KVM_WALL_CLOCK_NEW:
      vcpu.kvm.wallClockMsr = data;
      vcpu.kvm.writeWallClock(Number(data & ~1n));
      return true;
    case MSR_KVM_SYSTEM_TIME:
    case MSR_KVM_SYSTEM_TIME_NEW:
      vcpu.pv.systemTimeMsr = data;
      vcpu.pv.systemTimeGpa = data & BigInt(KVM_MSR_ENABLED) ? Number(data & ~1n) : -1;
      vcpu.requestClockUpdate();
      return true;
    case MSR_KVM_PV_EOI_EN: {
      // Bit 0 enables; the rest is the address of a 4-byte aligned u32, so only bit 1 is
      // reserved (kvm_lapic_set_pv_eoi: IS_ALIGNED(data & ~KVM_MSR_ENABLED, 4)). i386 Linux
      // puts the per-CPU word at an address that is 4 but not 16 byte aligned.
      if (data & 0x2n) return false;
      vcpu.pv.pvEoiMsr = data;
      vcpu.pv.pvEoiGpa = data & 1n ? Number(data & ~1n) : -1;
      vcpu.pv.pvEoiPending = false;
      return true;
    }
    case MSR_KVM_STEAL_TIME:
      if (data & KVM_STEAL_RESERVED_MASK) return false;
      vcpu.steal.msr = data;
      vcpu.steal.gpa = data & 1n ? Number(data & ~0x3fn) : -1;
      vcpu.steal.pendingNs = 0;
      return true;
    default:
      if (isX2apicMsr(index)) return vcpu.apic !== null && vcpu.apic.x2apicMsrWrite(index, data);
      return KVM_MSRS_WRITE_IGNORED.has(index >>> 0);
  }
}

