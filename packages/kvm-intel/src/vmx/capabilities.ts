/**
 * The VMX capability MSRs (SDM vol. 3C appendix A) describing exactly what this silicon
 * model implements, and KVM's module parameters (ept, vpid, unrestricted_guest) turning
 * the corresponding allowed-1 bits off, as Linux's setup_vmcs_config() does when it builds
 * its vmcs_config from the MSRs.
 */
import * as C from './controls';
import { VMCS_MAX_FIELD_INDEX } from './vmcs-fields';

export const MSR_IA32_VMX_BASIC = 0x480;
export const MSR_IA32_VMX_PINBASED_CTLS = 0x481;
export const MSR_IA32_VMX_PROCBASED_CTLS = 0x482;
export const MSR_IA32_VMX_EXIT_CTLS = 0x483;
export const MSR_IA32_VMX_ENTRY_CTLS = 0x484;
export const MSR_IA32_VMX_MISC = 0x485;
export const MSR_IA32_VMX_CR0_FIXED0 = 0x486;
export const MSR_IA32_VMX_CR0_FIXED1 = 0x487;
export const MSR_IA32_VMX_CR4_FIXED0 = 0x488;
export const MSR_IA32_VMX_CR4_FIXED1 = 0x489;
export const MSR_IA32_VMX_VMCS_ENUM = 0x48a;
export const MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b;
export const MSR_IA32_VMX_EPT_VPID_CAP = 0x48c;
export const MSR_IA32_VMX_TRUE_PINBASED_CTLS = 0x48d;
export const MSR_IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e;
export const MSR_IA32_VMX_TRUE_EXIT_CTLS = 0x48f;
export const MSR_IA32_VMX_TRUE_ENTRY_CTLS = 0x490;

/** Our VMCS revision identifier (bits 30:0 of IA32_VMX_BASIC). Any value with bit 31 clear is valid. */
export const VMCS_REVISION_ID = 0x00000012;
export const VMCS_REGION_SIZE = 4096;
/** Memory type for VMCS and related structures: 6 = write-back (SDM A.1). */
export const VMX_BASIC_MEM_TYPE_WB = 6;

// IA32_VMX_BASIC bits (SDM A.1)
export const VMX_BASIC_INOUT = 1n << 54n;
export const VMX_BASIC_TRUE_CTLS = 1n << 55n;

// IA32_VMX_MISC bits (SDM A.6)
export const VMX_MISC_PREEMPTION_TIMER_RATE_MASK = 0x1f;
export const VMX_MISC_SAVE_EFER_LMA = 1 << 5;
export const VMX_MISC_ACTIVITY_HLT = 1 << 6;
export const VMX_MISC_ACTIVITY_SHUTDOWN = 1 << 7;
export const VMX_MISC_ACTIVITY_WAIT_SIPI = 1 << 8;
export const VMX_MISC_ZERO_LEN_INS = 1 << 30;
export const VMX_MISC_VMWRITE_SHADOW_RO_FIELDS = 1 << 29;

// IA32_VMX_EPT_VPID_CAP bits (SDM A.10), Linux's VMX_EPT_* / VMX_VPID_* names.
export const VMX_EPT_EXECUTE_ONLY_BIT = 1 << 0;
export const VMX_EPT_PAGE_WALK_4_BIT = 1 << 6;
export const VMX_EPTP_UC_BIT = 1 << 8;
export const VMX_EPTP_WB_BIT = 1 << 14;
export const VMX_EPT_2MB_PAGE_BIT = 1 << 16;
export const VMX_EPT_1GB_PAGE_BIT = 1 << 17;
export const VMX_EPT_INVEPT_BIT = 1 << 20;
export const VMX_EPT_AD_BIT = 1 << 21;
export const VMX_EPT_EXTENT_CONTEXT_BIT = 1 << 25;
export const VMX_EPT_EXTENT_GLOBAL_BIT = 1 << 26;
/** Upper half (bits 63:32) of IA32_VMX_EPT_VPID_CAP. */
export const VMX_VPID_INVVPID_BIT = 1 << 0;
export const VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT = 1 << 8;
export const VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT = 1 << 9;
export const VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT = 1 << 10;
export const VMX_VPID_EXTENT_SINGLE_NON_GLOBAL_BIT = 1 << 11;

/** One VM-execution/exit/entry control MSR: bit set in allowed0 = must be 1; clear in allowed1 = must be 0. */
export interface VmxControlCap {
  allowed0: number;
  allowed1: number;
}

export interface VmxCapabilities {
  revisionId: number;
  pinBased: VmxControlCap;
  procBased: VmxControlCap;
  procBased2: VmxControlCap;
  exit: VmxControlCap;
  entry: VmxControlCap;
  truePinBased: VmxControlCap;
  trueProcBased: VmxControlCap;
  trueExit: VmxControlCap;
  trueEntry: VmxControlCap;
  /** IA32_VMX_MISC, low dword (the high dword, MSEG revision, is 0). */
  misc: number;
  cr0Fixed0: number;
  cr0Fixed1: number;
  cr4Fixed0: number;
  cr4Fixed1: number;
  /** IA32_VMX_EPT_VPID_CAP as (low, high) dwords. */
  eptCap: number;
  vpidCap: number;
  /** Physical-address width reported by CPUID 0x80000008; bounds every pointer check. */
  physAddrWidth: number;
}

/** Module parameters that shape the capabilities (a subset of kvm-intel's). */
export interface VmxCapabilityParams {
  ept: boolean;
  vpid: boolean;
  unrestricted_guest: boolean;
  /** IA32_VMX_MISC bit 29 (VMWRITE to read-only fields); off by default, as on most parts. */
  vmwriteAnyField?: boolean;
  /** IA32_VMX_MISC[4:0]: the preemption timer ticks when bit X of the TSC changes. */
  preemptionTimerRate?: number;
  physAddrWidth?: number;
}

/** Bits 63:32 of CR0 are reserved: the FIXED1 value covers 31:0 and says PG..PE may be 1. */
export const VMX_CR0_FIXED0 = 0x80000021; // PG | NE | PE
export const VMX_CR0_FIXED1 = 0xffffffff;
export const VMX_CR4_FIXED0 = 0x00002000; // VMXE
/** CR4 bits the model lets a guest set: VME..OSXMMEXCPT (10:0), VMXE, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP. */
export const VMX_CR4_FIXED1 = 0x000007ff | (1 << 13) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 20) | (1 << 21);

/** The features this model implements, per control. */
const PIN_ALLOWED1 =
  C.PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR | C.PIN_BASED_EXT_INTR_MASK | C.PIN_BASED_NMI_EXITING |
  C.PIN_BASED_VIRTUAL_NMIS | C.PIN_BASED_VMX_PREEMPTION_TIMER;
const PROC_ALLOWED1 =
  C.CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR | C.CPU_BASED_INTR_WINDOW_EXITING | C.CPU_BASED_USE_TSC_OFFSETTING |
  C.CPU_BASED_HLT_EXITING | C.CPU_BASED_INVLPG_EXITING | C.CPU_BASED_RDTSC_EXITING |
  C.CPU_BASED_NMI_WINDOW_EXITING | C.CPU_BASED_UNCOND_IO_EXITING | C.CPU_BASED_USE_IO_BITMAPS |
  C.CPU_BASED_USE_MSR_BITMAPS | C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
const PROC2_ALLOWED1 =
  C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_ENABLE_RDTSCP | C.SECONDARY_EXEC_ENABLE_VPID |
  C.SECONDARY_EXEC_UNRESTRICTED_GUEST;
const EXIT_ALLOWED1 =
  C.VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR | C.VM_EXIT_HOST_ADDR_SPACE_SIZE | C.VM_EXIT_ACK_INTR_ON_EXIT |
  C.VM_EXIT_SAVE_IA32_PAT | C.VM_EXIT_LOAD_IA32_PAT | C.VM_EXIT_SAVE_IA32_EFER | C.VM_EXIT_LOAD_IA32_EFER |
  C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER;
const ENTRY_ALLOWED1 =
  C.VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR | C.VM_ENTRY_IA32E_MODE | C.VM_ENTRY_LOAD_IA32_PAT | C.VM_ENTRY_LOAD_IA32_EFER;

export function vmxCapabilities(params: VmxCapabilityParams): VmxCapabilities {
  let proc2 = PROC2_ALLOWED1;
  // Unrestricted guest needs EPT (SDM 26.2.1.1), so KVM clears it when ept=0 (vmx.c).
  if (!params.ept) proc2 &= ~(C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_UNRESTRICTED_GUEST);
  if (!params.vpid) proc2 &= ~C.SECONDARY_EXEC_ENABLE_VPID;
  if (!params.unrestricted_guest) proc2 &= ~C.SECONDARY_EXEC_UNRESTRICTED_GUEST;
  const rate = params.preemptionTimerRate ?? 5;
  if (!Number.isInteger(rate) || rate < 0 || rate > 31) throw new RangeError('preemptionTimerRate must be 0..31');
  const misc =
    rate | C_MISC_BASE | (params.vmwriteAnyField ? VMX_MISC_VMWRITE_SHADOW_RO_FIELDS : 0);
  const eptCap = params.ept
    ? VMX_EPT_EXECUTE_ONLY_BIT | VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_UC_BIT | VMX_EPTP_WB_BIT |
      VMX_EPT_2MB_PAGE_BIT | VMX_EPT_1GB_PAGE_BIT | VMX_EPT_INVEPT_BIT | VMX_EPT_AD_BIT |
      VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT
    : 0;
  const vpidCap = params.vpid
    ? VMX_VPID_INVVPID_BIT | VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT | VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
      VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT | VMX_VPID_EXTENT_SINGLE_NON_GLOBAL_BIT
    : 0;
  const caps: VmxCapabilities = {
    revisionId: VMCS_REVISION_ID,
    pinBased: { allowed0: C.PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR, allowed1: PIN_ALLOWED1 },
    procBased: { allowed0: C.CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR, allowed1: PROC_ALLOWED1 | 0 },
    procBased2: { allowed0: 0, allowed1: proc2 },
    exit: { allowed0: C.VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR, allowed1: EXIT_ALLOWED1 },
    entry: { allowed0: C.VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR, allowed1: ENTRY_ALLOWED1 },
    // TRUE_ MSRs (SDM A.3.1, A.4.1, A.5.1): CR3-load/store exiting and the debug-control
    // save/load bits may be 0.
    truePinBased: { allowed0: C.PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR, allowed1: PIN_ALLOWED1 },
    trueProcBased: {
      allowed0: C.CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR & ~(C.CPU_BASED_CR3_LOAD_EXITING | C.CPU_BASED_CR3_STORE_EXITING),
      allowed1: PROC_ALLOWED1 | 0,
    },
    trueExit: { allowed0: C.VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR & ~C.VM_EXIT_SAVE_DEBUG_CONTROLS, allowed1: EXIT_ALLOWED1 },
    trueEntry: { allowed0: C.VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR & ~C.VM_ENTRY_LOAD_DEBUG_CONTROLS, allowed1: ENTRY_ALLOWED1 },
    misc,
    cr0Fixed0: VMX_CR0_FIXED0,
    cr0Fixed1: VMX_CR0_FIXED1,
    cr4Fixed0: VMX_CR4_FIXED0,
    cr4Fixed1: VMX_CR4_FIXED1,
    eptCap,
    vpidCap,
    physAddrWidth: params.physAddrWidth ?? 46,
  };
  return caps;
}

/** IA32_VMX_MISC: activity state HLT, EFER.LMA saved into "IA-32e mode guest", 4 CR3 targets, MSR lists up to 512. */
const C_MISC_BASE = VMX_MISC_SAVE_EFER_LMA | VMX_MISC_ACTIVITY_HLT | (4 << 16);

/** Number of CR3-target values supported (IA32_VMX_MISC[24:16]). */
export function vmxMiscCr3Targets(misc: number): number {
  return (misc >>> 16) & 0x1ff;
}

/** Recommended maximum MSR-list entries: 512 * (N + 1), N = IA32_VMX_MISC[27:25]. */
export function vmxMiscMaxMsrListEntries(misc: number): number {
  return 512 * (((misc >>> 25) & 7) + 1);
}

function ctl(c: VmxControlCap): bigint {
  return (BigInt(c.allowed1 >>> 0) << 32n) | BigInt(c.allowed0 >>> 0);
}

/** The value RDMSR returns for a VMX capability MSR, or undefined for any other index. */
export function readVmxCapabilityMsr(caps: VmxCapabilities, index: number): bigint | undefined {
  switch (index) {
    case MSR_IA32_VMX_BASIC:
      return (
        BigInt(caps.revisionId) |
        (BigInt(VMCS_REGION_SIZE) << 32n) |
        (BigInt(VMX_BASIC_MEM_TYPE_WB) << 50n) |
        VMX_BASIC_INOUT |
        VMX_BASIC_TRUE_CTLS
      );
    case MSR_IA32_VMX_PINBASED_CTLS:
      return ctl(caps.pinBased);
    case MSR_IA32_VMX_PROCBASED_CTLS:
      return ctl(caps.procBased);
    case MSR_IA32_VMX_EXIT_CTLS:
      return ctl(caps.exit);
    case MSR_IA32_VMX_ENTRY_CTLS:
      return ctl(caps.entry);
    case MSR_IA32_VMX_MISC:
      return BigInt(caps.misc >>> 0);
    case MSR_IA32_VMX_CR0_FIXED0:
      return BigInt(caps.cr0Fixed0 >>> 0);
    case MSR_IA32_VMX_CR0_FIXED1:
      return BigInt(caps.cr0Fixed1 >>> 0);
    case MSR_IA32_VMX_CR4_FIXED0:
      return BigInt(caps.cr4Fixed0 >>> 0);
    case MSR_IA32_VMX_CR4_FIXED1:
      return BigInt(caps.cr4Fixed1 >>> 0);
    case MSR_IA32_VMX_VMCS_ENUM:
      return BigInt(VMCS_MAX_FIELD_INDEX << 1);
    case MSR_IA32_VMX_PROCBASED_CTLS2:
      return ctl(caps.procBased2);
    case MSR_IA32_VMX_EPT_VPID_CAP:
      return (BigInt(caps.vpidCap >>> 0) << 32n) | BigInt(caps.eptCap >>> 0);
    case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
      return ctl(caps.truePinBased);
    case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
      return ctl(caps.trueProcBased);
    case MSR_IA32_VMX_TRUE_EXIT_CTLS:
      return ctl(caps.trueExit);
    case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
      return ctl(caps.trueEntry);
    default:
      return undefined;
  }
}

/** Whether `value` satisfies a control MSR: all allowed-0 bits set, no bit outside allowed-1. */
export function controlsValid(value: number, cap: VmxControlCap): boolean {
  return ((value & cap.allowed0) >>> 0) === cap.allowed0 >>> 0 && (value & ~cap.allowed1) === 0;
}

/** Preemption-timer rate: the timer decrements each time TSC bit `rate` toggles, i.e. every 2^rate TSC ticks. */
export function preemptionTimerTscPeriod(misc: number): number {
  return 2 ** (misc & VMX_MISC_PREEMPTION_TIMER_RATE_MASK);
}

/**
 * Remaining timer value after the TSC advanced from `tscStart` to `tscNow` (SDM 26.5.1:
 * the timer counts down by 1 every time bit X of the TSC changes, i.e. every 2^X ticks).
 * Returns the value the VMX-preemption timer field would hold (0 means it expired).
 */
export function preemptionTimerRemaining(initial: number, tscStart: number, tscNow: number, misc: number): number {
  const period = preemptionTimerTscPeriod(misc);
  const ticks = Math.floor(tscNow / period) - Math.floor(tscStart / period);
  return ticks >= initial ? 0 : initial - ticks;
}
