/**
 * The checks a VM entry (VMLAUNCH/VMRESUME) performs, in the SDM's order (vol. 3C ch. 26):
 *   26.2.1 VM-execution, VM-exit and VM-entry control fields -> VMfailValid, error 7
 *   26.2.2/26.2.3 host-state area                             -> VMfailValid, error 8
 *   26.3.1 guest-state area (incl. PDPTEs, VMCS link pointer) -> VM-entry failure,
 *          basic exit reason 33 (INVALID_STATE) with the qualification of SDM 27.8
 *   26.4   MSR loading                                        -> exit reason 34 (MSR_LOAD_FAIL),
 *          qualification = 1-based index of the failing entry
 * KVM reports an entry failure to userspace as KVM_EXIT_FAIL_ENTRY with
 * hardware_entry_failure_reason = exit reason | VMX_EXIT_REASONS_FAILED_VMENTRY.
 * Entry is a rare path: results are plain objects with a message naming the rule.
 */
import * as C from './controls';
import { controlsValid, vmxMiscCr3Targets, type VmxCapabilities } from './capabilities';
import { checkEptp } from './ept';
import { ENTRY_FAIL_DEFAULT, ENTRY_FAIL_NMI, ENTRY_FAIL_PDPTE, ENTRY_FAIL_VMCS_LINK_PTR, EXIT_REASON, VMX_EXIT_REASONS_FAILED_VMENTRY } from './exit-reasons';
import { checkEntryInterruptionInfo, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_NMI_INTR, INTR_TYPE_OTHER_EVENT } from './exit-info';
import { VMX_MISC_ACTIVITY_HLT, VMX_MISC_ACTIVITY_SHUTDOWN, VMX_MISC_ACTIVITY_WAIT_SIPI, VMX_MISC_ZERO_LEN_INS } from './capabilities';
import { VMCS_FIELDS as F } from './vmcs-fields';
import { VMXERR } from './vm-instruction-errors';
import type { Vmcs } from './vmcs';

export type VmEntryCheckResult =
  | { kind: 'ok' }
  /** VMfailValid: the instruction fails, the guest never runs. */
  | { kind: 'vmfail'; error: number; reason: string }
  /** VM-entry failure: a VM exit with bit 31 set in the exit reason. */
  | { kind: 'entry-failure'; exitReason: number; qualification: number; reason: string };

/** hardware_entry_failure_reason as KVM reports it (kvm_run.fail_entry). */
export function hardwareEntryFailureReason(exitReason: number): number {
  return (exitReason | VMX_EXIT_REASONS_FAILED_VMENTRY) >>> 0;
}

export interface VmEntryEnvironment {
  /** The host runs in IA-32e mode (a 64-bit kernel): VM exits must return to 64-bit. Default true. */
  hostIa32e?: boolean;
  /** Guest PDPTEs from guest memory at CR3 when EPT is off (PAE paging); (lo, hi) pairs. */
  readGuestPdptes?: (cr3: number) => readonly [number, number][] | undefined;
}

// Segment access-rights format (SDM table 25-2)
export const VMX_AR_TYPE_MASK = 0xf;
export const VMX_AR_S_MASK = 1 << 4;
export const VMX_AR_DPL_SHIFT = 5;
export const VMX_AR_P_MASK = 1 << 7;
export const VMX_AR_L_MASK = 1 << 13;
export const VMX_AR_DB_MASK = 1 << 14;
export const VMX_AR_G_MASK = 1 << 15;
export const VMX_AR_UNUSABLE_MASK = 1 << 16;
/** Reserved: bits 11:8 and 31:17. */
export const VMX_AR_RESERVD_MASK = 0xfffe0f00;

const X86_CR0_PE = 1 << 0;
const X86_CR0_PG = 1 << 31;
const X86_CR4_PAE = 1 << 5;
const X86_CR4_PCIDE = 1 << 17;
const EFER_SCE = 1 << 0;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;
const EFER_NX = 1 << 11;
const EFER_VALID = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;
const RFLAGS_TF = 1 << 8;
const RFLAGS_IF = 1 << 9;
const RFLAGS_VM = 1 << 17;
/** RFLAGS reserved: 63:22 (high dword all), 15, 5, 3; bit 1 must be 1. */
const RFLAGS_RESERVED_LO = 0xffc08028;

/** 48-bit canonical: bits 63:47 all equal. */
function canonical(hi: number): boolean {
  const top = hi >> 15;
  return top === 0 || top === -1;
}

function belowPhysWidth(hi: number, width: number): boolean {
  if (width >= 64) return true;
  if (width <= 32) return hi === 0;
  return (hi >>> (width - 32)) === 0;
}

/** PAT: each of the 8 bytes is a valid memory type (0, 1, 4, 5, 6, 7). */
function validPat(lo: number, hi: number): boolean {
  for (let i = 0; i < 8; i++) {
    const b = ((i < 4 ? lo : hi) >>> ((i & 3) * 8)) & 0xff;
    if (!(b === 0 || b === 1 || b === 4 || b === 5 || b === 6 || b === 7)) return false;
  }
  return true;
}

function vmfailControl(reason: string): VmEntryCheckResult {
  return { kind: 'vmfail', error: VMXERR.ENTRY_INVALID_CONTROL_FIELD, reason };
}
function vmfailHost(reason: string): VmEntryCheckResult {
  return { kind: 'vmfail', error: VMXERR.ENTRY_INVALID_HOST_STATE_FIELD, reason };
}
function invalidGuest(reason: string, qualification = ENTRY_FAIL_DEFAULT): VmEntryCheckResult {
  return { kind: 'entry-failure', exitReason: EXIT_REASON.INVALID_STATE, qualification, reason };
}

function addrOk(v: Vmcs, field: number, width: number, align: number): boolean {
  const lo = v.read32(field);
  return lo % align === 0 && belowPhysWidth(v.readHigh32(field), width);
}

/** SDM 26.2.1: checks on the VM-execution, VM-exit and VM-entry control fields. */
export function checkVmxControls(v: Vmcs, caps: VmxCapabilities): VmEntryCheckResult {
  const pin = v.read32(F.PIN_BASED_VM_EXEC_CONTROL);
  const proc = v.read32(F.CPU_BASED_VM_EXEC_CONTROL);
  const proc2 = proc & C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v.read32(F.SECONDARY_VM_EXEC_CONTROL) : 0;
  const exit = v.read32(F.VM_EXIT_CONTROLS);
  const entry = v.read32(F.VM_ENTRY_CONTROLS);
  const width = caps.physAddrWidth;
  // IA32_VMX_BASIC[55] = 1, so the TRUE_ MSRs govern (SDM A.2).
  if (!controlsValid(pin, caps.truePinBased)) return vmfailControl('PIN_BASED_VM_EXEC_CONTROL outside IA32_VMX_TRUE_PINBASED_CTLS');
  if (!controlsValid(proc, caps.trueProcBased)) return vmfailControl('CPU_BASED_VM_EXEC_CONTROL outside IA32_VMX_TRUE_PROCBASED_CTLS');
  if (!controlsValid(proc2, caps.procBased2)) return vmfailControl('SECONDARY_VM_EXEC_CONTROL outside IA32_VMX_PROCBASED_CTLS2');
  if (v.read32(F.CR3_TARGET_COUNT) > vmxMiscCr3Targets(caps.misc)) return vmfailControl('CR3_TARGET_COUNT above IA32_VMX_MISC[24:16]');
  if (proc & C.CPU_BASED_USE_IO_BITMAPS) {
    if (!addrOk(v, F.IO_BITMAP_A, width, 4096)) return vmfailControl('IO_BITMAP_A not 4 KiB aligned or beyond MAXPHYADDR');
    if (!addrOk(v, F.IO_BITMAP_B, width, 4096)) return vmfailControl('IO_BITMAP_B not 4 KiB aligned or beyond MAXPHYADDR');
  }
  if (proc & C.CPU_BASED_USE_MSR_BITMAPS && !addrOk(v, F.MSR_BITMAP, width, 4096)) {
    return vmfailControl('MSR_BITMAP not 4 KiB aligned or beyond MAXPHYADDR');
  }
  if (!(pin & C.PIN_BASED_NMI_EXITING) && pin & C.PIN_BASED_VIRTUAL_NMIS) return vmfailControl('virtual NMIs without NMI exiting');
  if (!(pin & C.PIN_BASED_VIRTUAL_NMIS) && proc & C.CPU_BASED_NMI_WINDOW_EXITING) return vmfailControl('NMI-window exiting without virtual NMIs');
  if (proc2 & C.SECONDARY_EXEC_ENABLE_VPID && (v.read32(F.VIRTUAL_PROCESSOR_ID) & 0xffff) === 0) return vmfailControl('VIRTUAL_PROCESSOR_ID is 0 with enable VPID');
  if (proc2 & C.SECONDARY_EXEC_ENABLE_EPT) {
    const why = checkEptp(v.read32(F.EPT_POINTER), v.readHigh32(F.EPT_POINTER), caps.eptCap, width);
    if (why) return vmfailControl(`EPT_POINTER: ${why}`);
  }
  if (proc2 & C.SECONDARY_EXEC_UNRESTRICTED_GUEST && !(proc2 & C.SECONDARY_EXEC_ENABLE_EPT)) return vmfailControl('unrestricted guest without enable EPT');
  // VM-exit controls (26.2.1.2)
  if (!controlsValid(exit, caps.trueExit)) return vmfailControl('VM_EXIT_CONTROLS outside IA32_VMX_TRUE_EXIT_CTLS');
  if (!(pin & C.PIN_BASED_VMX_PREEMPTION_TIMER) && exit & C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER) {
    return vmfailControl('save VMX-preemption timer without activate VMX-preemption timer');
  }
  if (v.read32(F.VM_EXIT_MSR_STORE_COUNT) !== 0 && !addrOk(v, F.VM_EXIT_MSR_STORE_ADDR, width, 16)) return vmfailControl('VM_EXIT_MSR_STORE_ADDR not 16-byte aligned or beyond MAXPHYADDR');
  if (v.read32(F.VM_EXIT_MSR_LOAD_COUNT) !== 0 && !addrOk(v, F.VM_EXIT_MSR_LOAD_ADDR, width, 16)) return vmfailControl('VM_EXIT_MSR_LOAD_ADDR not 16-byte aligned or beyond MAXPHYADDR');
  // VM-entry controls (26.2.1.3)
  if (!controlsValid(entry, caps.trueEntry)) return vmfailControl('VM_ENTRY_CONTROLS outside IA32_VMX_TRUE_ENTRY_CTLS');
  if (entry & (C.VM_ENTRY_SMM | C.VM_ENTRY_DEACT_DUAL_MONITOR)) return vmfailControl('entry to SMM / deactivate dual-monitor outside SMM');
  const info = v.read32(F.VM_ENTRY_INTR_INFO_FIELD);
  const why = checkEntryInterruptionInfo(info, {
    errorCode: v.read32(F.VM_ENTRY_EXCEPTION_ERROR_CODE),
    instructionLength: v.read32(F.VM_ENTRY_INSTRUCTION_LEN),
    guestCr0Pe: (v.read32(F.GUEST_CR0) & X86_CR0_PE) !== 0,
    allowZeroLengthInjection: (caps.misc & VMX_MISC_ZERO_LEN_INS) !== 0,
    monitorTrapFlagSupported: (caps.trueProcBased.allowed1 & C.CPU_BASED_MONITOR_TRAP_FLAG) !== 0,
  });
  if (why) return vmfailControl(`VM_ENTRY_INTR_INFO_FIELD: ${why}`);
  if (v.read32(F.VM_ENTRY_MSR_LOAD_COUNT) !== 0 && !addrOk(v, F.VM_ENTRY_MSR_LOAD_ADDR, width, 16)) return vmfailControl('VM_ENTRY_MSR_LOAD_ADDR not 16-byte aligned or beyond MAXPHYADDR');
  return { kind: 'ok' };
}

/** SDM 26.2.2-26.2.4: host control registers, MSRs, segment registers, address-space size. */
export function checkHostState(v: Vmcs, caps: VmxCapabilities, env: VmEntryEnvironment = {}): VmEntryCheckResult {
  const exit = v.read32(F.VM_EXIT_CONTROLS);
  const entry = v.read32(F.VM_ENTRY_CONTROLS);
  const cr0 = v.read32(F.HOST_CR0);
  const cr4 = v.read32(F.HOST_CR4);
  if ((cr0 & caps.cr0Fixed0) >>> 0 !== caps.cr0Fixed0 >>> 0 || (cr0 & ~caps.cr0Fixed1) !== 0 || v.readHigh32(F.HOST_CR0) !== 0) {
    return vmfailHost('HOST_CR0 violates IA32_VMX_CR0_FIXED0/1');
  }
  if ((cr4 & caps.cr4Fixed0) >>> 0 !== caps.cr4Fixed0 >>> 0 || (cr4 & ~caps.cr4Fixed1) !== 0 || v.readHigh32(F.HOST_CR4) !== 0) {
    return vmfailHost('HOST_CR4 violates IA32_VMX_CR4_FIXED0/1');
  }
  if (!belowPhysWidth(v.readHigh32(F.HOST_CR3), caps.physAddrWidth)) return vmfailHost('HOST_CR3 beyond MAXPHYADDR');
  if (!canonical(v.readHigh32(F.HOST_IA32_SYSENTER_ESP))) return vmfailHost('HOST_IA32_SYSENTER_ESP not canonical');
  if (!canonical(v.readHigh32(F.HOST_IA32_SYSENTER_EIP))) return vmfailHost('HOST_IA32_SYSENTER_EIP not canonical');
  if (exit & C.VM_EXIT_LOAD_IA32_PAT && !validPat(v.read32(F.HOST_IA32_PAT), v.readHigh32(F.HOST_IA32_PAT))) return vmfailHost('HOST_IA32_PAT has an invalid memory type');
  const hostLm = (exit & C.VM_EXIT_HOST_ADDR_SPACE_SIZE) !== 0;
  if (exit & C.VM_EXIT_LOAD_IA32_EFER) {
    const efer = v.read32(F.HOST_IA32_EFER);
    if (v.readHigh32(F.HOST_IA32_EFER) !== 0 || efer & ~EFER_VALID) return vmfailHost('HOST_IA32_EFER reserved bits set');
    if (((efer & EFER_LMA) !== 0) !== hostLm || ((efer & EFER_LME) !== 0) !== hostLm) return vmfailHost('HOST_IA32_EFER.LMA/LME differ from host address-space size');
  }
  const sels: [number, string][] = [
    [F.HOST_ES_SELECTOR, 'ES'], [F.HOST_CS_SELECTOR, 'CS'], [F.HOST_SS_SELECTOR, 'SS'], [F.HOST_DS_SELECTOR, 'DS'],
    [F.HOST_FS_SELECTOR, 'FS'], [F.HOST_GS_SELECTOR, 'GS'], [F.HOST_TR_SELECTOR, 'TR'],
  ];
  for (const [f, name] of sels) if (v.read32(f) & 7) return vmfailHost(`HOST_${name}_SELECTOR has RPL or TI set`);
  if (v.read32(F.HOST_CS_SELECTOR) === 0) return vmfailHost('HOST_CS_SELECTOR is 0');
  if (v.read32(F.HOST_TR_SELECTOR) === 0) return vmfailHost('HOST_TR_SELECTOR is 0');
  if (!hostLm && v.read32(F.HOST_SS_SELECTOR) === 0) return vmfailHost('HOST_SS_SELECTOR is 0 without host address-space size');
  const bases: [number, string][] = [
    [F.HOST_FS_BASE, 'FS'], [F.HOST_GS_BASE, 'GS'], [F.HOST_GDTR_BASE, 'GDTR'], [F.HOST_IDTR_BASE, 'IDTR'], [F.HOST_TR_BASE, 'TR'],
  ];
  for (const [f, name] of bases) if (!canonical(v.readHigh32(f))) return vmfailHost(`HOST_${name}_BASE not canonical`);
  // 26.2.4: address-space size
  if (env.hostIa32e ?? true) {
    if (!hostLm) return vmfailHost('host in IA-32e mode needs the host address-space size exit control');
    if (!(cr4 & X86_CR4_PAE)) return vmfailHost('HOST_CR4.PAE clear with a 64-bit host');
    if (!canonical(v.readHigh32(F.HOST_RIP))) return vmfailHost('HOST_RIP not canonical');
  } else {
    if (hostLm) return vmfailHost('host address-space size set outside IA-32e mode');
    if (entry & C.VM_ENTRY_IA32E_MODE) return vmfailHost('IA-32e mode guest from a 32-bit host');
    if (cr4 & X86_CR4_PCIDE) return vmfailHost('HOST_CR4.PCIDE set with a 32-bit host');
    if (v.readHigh32(F.HOST_RIP) !== 0) return vmfailHost('HOST_RIP[63:32] set with a 32-bit host');
  }
  return { kind: 'ok' };
}

interface Seg {
  sel: number;
  base: number;
  baseHi: number;
  limit: number;
  ar: number;
}

function readSeg(v: Vmcs, sel: number, base: number, limit: number, ar: number): Seg {
  return { sel: v.read32(sel), base: v.read32(base), baseHi: v.readHigh32(base), limit: v.read32(limit), ar: v.read32(ar) };
}

const usable = (s: Seg): boolean => (s.ar & VMX_AR_UNUSABLE_MASK) === 0;
const dpl = (s: Seg): number => (s.ar >>> VMX_AR_DPL_SHIFT) & 3;

/** G must be 0 if any of limit[11:0] is 0; G must be 1 if any of limit[31:20] is 1. */
function granularityOk(s: Seg): boolean {
  const g = (s.ar & VMX_AR_G_MASK) !== 0;
  if ((s.limit & 0xfff) !== 0xfff && g) return false;
  if ((s.limit & 0xfff00000) !== 0 && !g) return false;
  return true;
}

/** SDM 26.3.1: the guest-state area. */
export function checkGuestState(v: Vmcs, caps: VmxCapabilities, env: VmEntryEnvironment = {}): VmEntryCheckResult {
  const proc = v.read32(F.CPU_BASED_VM_EXEC_CONTROL);
  const proc2 = proc & C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v.read32(F.SECONDARY_VM_EXEC_CONTROL) : 0;
  const pin = v.read32(F.PIN_BASED_VM_EXEC_CONTROL);
  const entry = v.read32(F.VM_ENTRY_CONTROLS);
  const ug = (proc2 & C.SECONDARY_EXEC_UNRESTRICTED_GUEST) !== 0;
  const ia32e = (entry & C.VM_ENTRY_IA32E_MODE) !== 0;
  const width = caps.physAddrWidth;

  // 26.3.1.1 control registers, debug registers, MSRs
  const cr0 = v.read32(F.GUEST_CR0);
  const cr4 = v.read32(F.GUEST_CR4);
  // Unrestricted guest relaxes CR0.PE and CR0.PG in FIXED0.
  const fixed0 = ug ? caps.cr0Fixed0 & ~(X86_CR0_PE | X86_CR0_PG) : caps.cr0Fixed0;
  if ((cr0 & fixed0) >>> 0 !== fixed0 >>> 0) return invalidGuest('GUEST_CR0 has a bit of IA32_VMX_CR0_FIXED0 clear');
  if ((cr0 & ~caps.cr0Fixed1) !== 0 || v.readHigh32(F.GUEST_CR0) !== 0) return invalidGuest('GUEST_CR0 has a bit outside IA32_VMX_CR0_FIXED1 set');
  if (cr0 & X86_CR0_PG && !(cr0 & X86_CR0_PE)) return invalidGuest('GUEST_CR0.PG set with PE clear');
  if ((cr4 & caps.cr4Fixed0) >>> 0 !== caps.cr4Fixed0 >>> 0) return invalidGuest('GUEST_CR4 has a bit of IA32_VMX_CR4_FIXED0 clear');
  if ((cr4 & ~caps.cr4Fixed1) !== 0 || v.readHigh32(F.GUEST_CR4) !== 0) return invalidGuest('GUEST_CR4 has a bit outside IA32_VMX_CR4_FIXED1 set');
  if (entry & C.VM_ENTRY_LOAD_DEBUG_CONTROLS) {
    if (v.readHigh32(F.GUEST_DR7) !== 0) return invalidGuest('GUEST_DR7[63:32] set');
    if (v.readHigh32(F.GUEST_IA32_DEBUGCTL) !== 0 || v.read32(F.GUEST_IA32_DEBUGCTL) & 0xffff003c) return invalidGuest('GUEST_IA32_DEBUGCTL reserved bits set');
  }
  if (ia32e) {
    if (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE)) return invalidGuest('IA-32e mode guest needs CR0.PG and CR4.PAE');
  } else if (cr4 & X86_CR4_PCIDE) {
    return invalidGuest('GUEST_CR4.PCIDE set outside IA-32e mode');
  }
  if (!belowPhysWidth(v.readHigh32(F.GUEST_CR3), width)) return invalidGuest('GUEST_CR3 beyond MAXPHYADDR');
  if (!canonical(v.readHigh32(F.GUEST_SYSENTER_ESP)) || !canonical(v.readHigh32(F.GUEST_SYSENTER_EIP))) return invalidGuest('GUEST_SYSENTER_ESP/EIP not canonical');
  if (entry & C.VM_ENTRY_LOAD_IA32_PAT && !validPat(v.read32(F.GUEST_IA32_PAT), v.readHigh32(F.GUEST_IA32_PAT))) return invalidGuest('GUEST_IA32_PAT has an invalid memory type');
  if (entry & C.VM_ENTRY_LOAD_IA32_EFER) {
    const efer = v.read32(F.GUEST_IA32_EFER);
    if (v.readHigh32(F.GUEST_IA32_EFER) !== 0 || efer & ~EFER_VALID) return invalidGuest('GUEST_IA32_EFER reserved bits set');
    if (((efer & EFER_LMA) !== 0) !== ia32e) return invalidGuest('GUEST_IA32_EFER.LMA differs from the IA-32e mode guest control');
    if (cr0 & X86_CR0_PG && ((efer & EFER_LMA) !== 0) !== ((efer & EFER_LME) !== 0)) return invalidGuest('GUEST_IA32_EFER.LME differs from LMA with paging on');
  }

  // 26.3.1.2 segment registers
  const rflagsLo = v.read32(F.GUEST_RFLAGS);
  const v86 = (rflagsLo & RFLAGS_VM) !== 0;
  const cs = readSeg(v, F.GUEST_CS_SELECTOR, F.GUEST_CS_BASE, F.GUEST_CS_LIMIT, F.GUEST_CS_AR_BYTES);
  const ss = readSeg(v, F.GUEST_SS_SELECTOR, F.GUEST_SS_BASE, F.GUEST_SS_LIMIT, F.GUEST_SS_AR_BYTES);
  const data: [string, Seg][] = [
    ['DS', readSeg(v, F.GUEST_DS_SELECTOR, F.GUEST_DS_BASE, F.GUEST_DS_LIMIT, F.GUEST_DS_AR_BYTES)],
    ['ES', readSeg(v, F.GUEST_ES_SELECTOR, F.GUEST_ES_BASE, F.GUEST_ES_LIMIT, F.GUEST_ES_AR_BYTES)],
    ['FS', readSeg(v, F.GUEST_FS_SELECTOR, F.GUEST_FS_BASE, F.GUEST_FS_LIMIT, F.GUEST_FS_AR_BYTES)],
    ['GS', readSeg(v, F.GUEST_GS_SELECTOR, F.GUEST_GS_BASE, F.GUEST_GS_LIMIT, F.GUEST_GS_AR_BYTES)],
  ];
  const tr = readSeg(v, F.GUEST_TR_SELECTOR, F.GUEST_TR_BASE, F.GUEST_TR_LIMIT, F.GUEST_TR_AR_BYTES);
  const ldtr = readSeg(v, F.GUEST_LDTR_SELECTOR, F.GUEST_LDTR_BASE, F.GUEST_LDTR_LIMIT, F.GUEST_LDTR_AR_BYTES);

  if (tr.sel & 4) return invalidGuest('GUEST_TR_SELECTOR has TI set');
  if (usable(ldtr) && ldtr.sel & 4) return invalidGuest('GUEST_LDTR_SELECTOR has TI set');
  if (!v86 && !ug && (ss.sel & 3) !== (cs.sel & 3)) return invalidGuest('SS.RPL differs from CS.RPL');

  if (v86) {
    for (const [name, s] of [['CS', cs], ['SS', ss], ...data] as [string, Seg][]) {
      if (s.base !== (s.sel & 0xffff) * 16 || s.baseHi !== 0) return invalidGuest(`virtual-8086 ${name} base is not selector << 4`);
      if (s.limit !== 0xffff) return invalidGuest(`virtual-8086 ${name} limit is not FFFF`);
      if (s.ar !== 0xf3) return invalidGuest(`virtual-8086 ${name} access rights are not F3`);
    }
  } else {
    // bases
    if (!canonical(tr.baseHi)) return invalidGuest('GUEST_TR_BASE not canonical');
    if (!canonical(data[2]![1].baseHi) || !canonical(data[3]![1].baseHi)) return invalidGuest('GUEST_FS/GS_BASE not canonical');
    if (usable(ldtr) && !canonical(ldtr.baseHi)) return invalidGuest('GUEST_LDTR_BASE not canonical');
    if (cs.baseHi !== 0) return invalidGuest('GUEST_CS_BASE[63:32] set');
    if (usable(ss) && ss.baseHi !== 0) return invalidGuest('GUEST_SS_BASE[63:32] set');
    if (usable(data[0]![1]) && data[0]![1].baseHi !== 0) return invalidGuest('GUEST_DS_BASE[63:32] set');
    if (usable(data[1]![1]) && data[1]![1].baseHi !== 0) return invalidGuest('GUEST_ES_BASE[63:32] set');
    // CS
    const csType = cs.ar & VMX_AR_TYPE_MASK;
    if (!(csType === 9 || csType === 11 || csType === 13 || csType === 15 || (ug && csType === 3))) return invalidGuest(`GUEST_CS type ${csType} invalid`);
    if (!(cs.ar & VMX_AR_S_MASK)) return invalidGuest('GUEST_CS is not a code/data segment (S=0)');
    if (csType === 3 && dpl(cs) !== 0) return invalidGuest('GUEST_CS type 3 with DPL != 0');
    if ((csType === 9 || csType === 11) && dpl(cs) !== dpl(ss)) return invalidGuest('non-conforming GUEST_CS DPL differs from SS DPL');
    if ((csType === 13 || csType === 15) && dpl(cs) > dpl(ss)) return invalidGuest('conforming GUEST_CS DPL above SS DPL');
    if (!(cs.ar & VMX_AR_P_MASK)) return invalidGuest('GUEST_CS not present');
    if (cs.ar & VMX_AR_RESERVD_MASK) return invalidGuest('GUEST_CS access-rights reserved bits set');
    if (ia32e && cs.ar & VMX_AR_L_MASK && cs.ar & VMX_AR_DB_MASK) return invalidGuest('GUEST_CS has both L and D/B in IA-32e mode');
    if (!granularityOk(cs)) return invalidGuest('GUEST_CS limit and G are inconsistent');
    // SS
    if (usable(ss)) {
      const t = ss.ar & VMX_AR_TYPE_MASK;
      if (t !== 3 && t !== 7) return invalidGuest(`GUEST_SS type ${t} invalid`);
      if (!(ss.ar & VMX_AR_S_MASK) || !(ss.ar & VMX_AR_P_MASK)) return invalidGuest('GUEST_SS not a present code/data segment');
      if (ss.ar & VMX_AR_RESERVD_MASK) return invalidGuest('GUEST_SS access-rights reserved bits set');
      if (!granularityOk(ss)) return invalidGuest('GUEST_SS limit and G are inconsistent');
    }
    if (!ug && dpl(ss) !== (ss.sel & 3)) return invalidGuest('GUEST_SS DPL differs from its RPL');
    if ((csType === 3 || !(cr0 & X86_CR0_PE)) && dpl(ss) !== 0) return invalidGuest('GUEST_SS DPL must be 0 in real mode');
    // DS ES FS GS
    for (const [name, s] of data) {
      if (!usable(s)) continue;
      const t = s.ar & VMX_AR_TYPE_MASK;
      if (!(t & 1)) return invalidGuest(`GUEST_${name} not accessed (type bit 0)`);
      if (t & 8 && !(t & 2)) return invalidGuest(`GUEST_${name} is an unreadable code segment`);
      if (!(s.ar & VMX_AR_S_MASK) || !(s.ar & VMX_AR_P_MASK)) return invalidGuest(`GUEST_${name} not a present code/data segment`);
      if (!ug && t <= 11 && dpl(s) < (s.sel & 3)) return invalidGuest(`GUEST_${name} DPL below its RPL`);
      if (s.ar & VMX_AR_RESERVD_MASK) return invalidGuest(`GUEST_${name} access-rights reserved bits set`);
      if (!granularityOk(s)) return invalidGuest(`GUEST_${name} limit and G are inconsistent`);
    }
  }
  // TR (always usable)
  {
    const t = tr.ar & VMX_AR_TYPE_MASK;
    if (!(t === 11 || (t === 3 && !ia32e))) return invalidGuest(`GUEST_TR type ${t} invalid`);
    if (tr.ar & VMX_AR_S_MASK) return invalidGuest('GUEST_TR is not a system segment');
    if (!(tr.ar & VMX_AR_P_MASK)) return invalidGuest('GUEST_TR not present');
    if (tr.ar & VMX_AR_RESERVD_MASK) return invalidGuest('GUEST_TR access-rights reserved bits set');
    if (!granularityOk(tr)) return invalidGuest('GUEST_TR limit and G are inconsistent');
    if (!usable(tr)) return invalidGuest('GUEST_TR unusable');
  }
  if (usable(ldtr)) {
    if ((ldtr.ar & VMX_AR_TYPE_MASK) !== 2) return invalidGuest('GUEST_LDTR type is not 2');
    if (ldtr.ar & VMX_AR_S_MASK || !(ldtr.ar & VMX_AR_P_MASK)) return invalidGuest('GUEST_LDTR not a present system segment');
    if (ldtr.ar & VMX_AR_RESERVD_MASK) return invalidGuest('GUEST_LDTR access-rights reserved bits set');
    if (!granularityOk(ldtr)) return invalidGuest('GUEST_LDTR limit and G are inconsistent');
  }

  // 26.3.1.3 descriptor-table registers
  if (!canonical(v.readHigh32(F.GUEST_GDTR_BASE)) || !canonical(v.readHigh32(F.GUEST_IDTR_BASE))) return invalidGuest('GUEST_GDTR/IDTR_BASE not canonical');
  if (v.read32(F.GUEST_GDTR_LIMIT) & 0xffff0000 || v.read32(F.GUEST_IDTR_LIMIT) & 0xffff0000) return invalidGuest('GUEST_GDTR/IDTR_LIMIT[31:16] set');

  // 26.3.1.4 RIP and RFLAGS
  const longCs = ia32e && (cs.ar & VMX_AR_L_MASK) !== 0;
  const ripHi = v.readHigh32(F.GUEST_RIP);
  if (!longCs && ripHi !== 0) return invalidGuest('GUEST_RIP[63:32] set outside 64-bit mode');
  if (longCs && !canonical(ripHi)) return invalidGuest('GUEST_RIP not canonical');
  if (v.readHigh32(F.GUEST_RFLAGS) !== 0 || rflagsLo & RFLAGS_RESERVED_LO) return invalidGuest('GUEST_RFLAGS reserved bits set');
  if (!(rflagsLo & 2)) return invalidGuest('GUEST_RFLAGS bit 1 clear');
  if ((ia32e || !(cr0 & X86_CR0_PE)) && v86) return invalidGuest('GUEST_RFLAGS.VM set in IA-32e mode or real mode');
  const intrInfo = v.read32(F.VM_ENTRY_INTR_INFO_FIELD);
  const injecting = (intrInfo & INTR_INFO_VALID_MASK) !== 0;
  const injType = (intrInfo >>> 8) & 7;
  const injVector = intrInfo & 0xff;
  if (injecting && injType === INTR_TYPE_EXT_INTR && !(rflagsLo & RFLAGS_IF)) return invalidGuest('injecting an external interrupt with RFLAGS.IF clear');

  // 26.3.1.5 non-register state
  const activity = v.read32(F.GUEST_ACTIVITY_STATE);
  const intr = v.read32(F.GUEST_INTERRUPTIBILITY_INFO);
  const activityBit = [0, VMX_MISC_ACTIVITY_HLT, VMX_MISC_ACTIVITY_SHUTDOWN, VMX_MISC_ACTIVITY_WAIT_SIPI];
  if (activity > 3 || (activity !== 0 && !(caps.misc & activityBit[activity]!))) return invalidGuest(`GUEST_ACTIVITY_STATE ${activity} not supported`);
  if (activity === C.GUEST_ACTIVITY_HLT && dpl(ss) !== 0) return invalidGuest('HLT activity state with SS.DPL != 0');
  if (activity !== 0 && intr & (C.GUEST_INTR_STATE_STI | C.GUEST_INTR_STATE_MOV_SS)) return invalidGuest('non-active activity state with STI/MOV-SS blocking');
  if (injecting && activity === C.GUEST_ACTIVITY_HLT) {
    const ok =
      injType === INTR_TYPE_EXT_INTR || injType === INTR_TYPE_NMI_INTR ||
      (injType === INTR_TYPE_HARD_EXCEPTION && (injVector === 1 || injVector === 18)) ||
      (injType === INTR_TYPE_OTHER_EVENT && injVector === 0);
    if (!ok) return invalidGuest('event injected into the HLT state that would not wake it');
  }
  if (intr & 0xffffffe0) return invalidGuest('GUEST_INTERRUPTIBILITY_INFO reserved bits set');
  if ((intr & 3) === 3) return invalidGuest('blocking by both STI and MOV SS');
  if (!(rflagsLo & RFLAGS_IF) && intr & C.GUEST_INTR_STATE_STI) return invalidGuest('blocking by STI with RFLAGS.IF clear');
  if (injecting && injType === INTR_TYPE_EXT_INTR && intr & 3) return invalidGuest('injecting an external interrupt under STI/MOV-SS blocking');
  if (injecting && injType === INTR_TYPE_NMI_INTR && intr & C.GUEST_INTR_STATE_MOV_SS) return invalidGuest('injecting an NMI under MOV-SS blocking');
  if (intr & C.GUEST_INTR_STATE_SMI) return invalidGuest('blocking by SMI outside SMM');
  if (injecting && injType === INTR_TYPE_NMI_INTR && pin & C.PIN_BASED_VIRTUAL_NMIS && intr & C.GUEST_INTR_STATE_NMI) return invalidGuest('injecting a virtual NMI while virtual-NMI blocked');
  // This processor requires no blocking by STI when injecting an NMI (SDM 26.3.1.5): qualification 3.
  if (injecting && injType === INTR_TYPE_NMI_INTR && intr & C.GUEST_INTR_STATE_STI) return invalidGuest('injecting an NMI under STI blocking', ENTRY_FAIL_NMI);
  const pdbg = v.read32(F.GUEST_PENDING_DBG_EXCEPTIONS);
  if (v.readHigh32(F.GUEST_PENDING_DBG_EXCEPTIONS) !== 0 || pdbg & 0xfffeaff0) return invalidGuest('GUEST_PENDING_DBG_EXCEPTIONS reserved bits set');
  if (intr & 3 || activity === C.GUEST_ACTIVITY_HLT) {
    const btf = (v.read32(F.GUEST_IA32_DEBUGCTL) & 2) !== 0;
    const bs = (pdbg & (1 << 14)) !== 0;
    if (rflagsLo & RFLAGS_TF && !btf && !bs) return invalidGuest('pending BS clear with RFLAGS.TF set under blocking/HLT');
    if ((!(rflagsLo & RFLAGS_TF) || btf) && bs) return invalidGuest('pending BS set without single-stepping');
  }
  // VMCS link pointer: no VMCS shadowing here, so it must be FFFFFFFF_FFFFFFFF (qualification 4).
  if (v.read32(F.VMCS_LINK_POINTER) !== 0xffffffff || v.readHigh32(F.VMCS_LINK_POINTER) !== 0xffffffff) {
    return invalidGuest('VMCS_LINK_POINTER is not FFFFFFFF_FFFFFFFF', ENTRY_FAIL_VMCS_LINK_PTR);
  }

  // 26.3.1.6 PDPTEs: PAE paging outside IA-32e mode (qualification 2).
  if (cr0 & X86_CR0_PG && cr4 & X86_CR4_PAE && !ia32e) {
    let pdptes: readonly [number, number][] | undefined;
    if (proc2 & C.SECONDARY_EXEC_ENABLE_EPT) {
      pdptes = [F.GUEST_PDPTR0, F.GUEST_PDPTR1, F.GUEST_PDPTR2, F.GUEST_PDPTR3].map((f) => [v.read32(f), v.readHigh32(f)] as [number, number]);
    } else {
      pdptes = env.readGuestPdptes?.(v.readNumber(F.GUEST_CR3));
    }
    if (pdptes) {
      for (const [lo, hi] of pdptes) {
        // Present PDPTEs: bits 2:1, 8:5 and 63:MAXPHYADDR are reserved.
        if (lo & 1 && (lo & 0x1e6 || !belowPhysWidth(hi, width))) return invalidGuest('a PDPTE has reserved bits set', ENTRY_FAIL_PDPTE);
      }
    }
  }
  return { kind: 'ok' };
}

/** An entry of a VM-entry MSR-load area (SDM 25.8.2): 32-bit index, reserved dword, 64-bit data. */
export interface VmxMsrEntry {
  index: number;
  reserved: number;
  valueLo: number;
  valueHi: number;
}

/**
 * VM-entry MSR loading (SDM 26.4): entries are loaded in order; an entry with reserved bits,
 * FS_BASE/GS_BASE, an x2APIC MSR (0x800-0x8ff), IA32_SMM_MONITOR_CTL or IA32_SMBASE, or
 * whose WRMSR would #GP, fails the entry with exit reason 34 and the entry's 1-based index.
 * `wrmsr` returns false for a #GP.
 */
export function loadEntryMsrs(entries: readonly VmxMsrEntry[], wrmsr: (index: number, lo: number, hi: number) => boolean): VmEntryCheckResult {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const idx = e.index >>> 0;
    const bad =
      e.reserved !== 0 || idx === 0xc0000100 || idx === 0xc0000101 || (idx >>> 8) === 0x8 || idx === 0x9b || idx === 0x9e ||
      !wrmsr(idx, e.valueLo, e.valueHi);
    if (bad) return { kind: 'entry-failure', exitReason: EXIT_REASON.MSR_LOAD_FAIL, qualification: i + 1, reason: `MSR-load entry ${i + 1} (MSR 0x${idx.toString(16)}) failed` };
  }
  return { kind: 'ok' };
}

/**
 * All checks of a VM entry in order: launch state is checked by the caller
 * (VmxRootOperation.checkLaunchState), then controls, host state, guest state.
 */
export function vmEntryChecks(v: Vmcs, caps: VmxCapabilities, env: VmEntryEnvironment = {}): VmEntryCheckResult {
  const c = checkVmxControls(v, caps);
  if (c.kind !== 'ok') return c;
  const h = checkHostState(v, caps, env);
  if (h.kind !== 'ok') return h;
  return checkGuestState(v, caps, env);
}
