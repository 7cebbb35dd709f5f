/**
 * The consistency checks VMRUN performs on the guest state and controls in the VMCB
 * (AMD APM vol. 2, 15.5.1 "Basic Operation", list of illegal states). Any failure makes
 * VMRUN exit immediately with EXITCODE = VMEXIT_INVALID (-1); KVM reports that to
 * userspace as KVM_EXIT_FAIL_ENTRY with hardware_entry_failure_reason = the exit code.
 */
import { checkSvmEventInjection } from './exit-info';
import { SVM_EXIT } from './exit-codes';
import {
  INTERCEPT, SVM_NESTED_CTL_NP_ENABLE, TLB_CONTROL_DO_NOTHING, TLB_CONTROL_FLUSH_ALL_ASID, TLB_CONTROL_FLUSH_ASID, TLB_CONTROL_FLUSH_ASID_LOCAL, SVM_SELECTOR_DB_MASK, SVM_SELECTOR_L_MASK, Vmcb, VMCB_CONTROL as CTL, VMCB_SAVE as SAVE } from './vmcb';
import { IOPM_SIZE } from './iopm';
import { MSRPM_SIZE } from './msrpm';
import type { SvmAsidTlb } from './asid-tlb';
import { SVM_NUM_ASIDS } from './svm-features';

const X86_CR0_PE = 1 << 0;
const X86_CR0_NW = 1 << 29;
const X86_CR0_CD = 1 << 30;
const X86_CR0_PG = 1 << 31;
const X86_CR4_PAE = 1 << 5;
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NX = 1 << 11;
export const EFER_SVME = 1 << 12;

export interface SvmRunConfig {
  /** Host physical-address width: MBZ bits of CR3 and the IOPM/MSRPM reach. */
  physAddrWidth: number;
  longModeSupported: boolean;
  /** CR4 bits the CPU supports; the rest are MBZ. */
  cr4Supported: number;
  /** EFER bits the CPU supports; the rest are MBZ. */
  eferSupported: number;
  /** Nested paging supported (the npt module parameter). */
  nptSupported: boolean;
  /** Number of ASIDs (CPUID 8000_000A EBX). */
  maxAsids: number;
}

/** CR4 bits the model supports on AMD: VME..OSXMMEXCPT (10:0), FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP (no VMXE). */
export const SVM_CR4_SUPPORTED = 0x000007ff | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 20) | (1 << 21);
export const SVM_EFER_SUPPORTED = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_SVME;

export function defaultSvmRunConfig(npt = true): SvmRunConfig {
  return { physAddrWidth: 48, longModeSupported: true, cr4Supported: SVM_CR4_SUPPORTED, eferSupported: SVM_EFER_SUPPORTED, nptSupported: npt, maxAsids: SVM_NUM_ASIDS };
}

export type VmrunCheckResult = { ok: true } | { ok: false; exitCode: number; reason: string };

function invalid(reason: string): VmrunCheckResult {
  return { ok: false, exitCode: SVM_EXIT.ERR, reason };
}

function below(hi: number, lo: number, bytes: number, width: number): boolean {
  // (base & ~0xfff) + bytes - 1 < 2^width
  const base = hi * 4294967296 + ((lo & ~0xfff) >>> 0);
  return base + bytes - 1 < 2 ** width;
}

export function vmrunConsistencyChecks(v: Vmcb, cfg: SvmRunConfig): VmrunCheckResult {
  const efer = v.u32(SAVE.EFER);
  const cr0 = v.u32(SAVE.CR0);
  const cr4 = v.u32(SAVE.CR4);
  if (!(efer & EFER_SVME)) return invalid('EFER.SVME is zero');
  if (!(cr0 & X86_CR0_CD) && cr0 & X86_CR0_NW) return invalid('CR0.CD is zero and CR0.NW is set');
  if (v.hi32(SAVE.CR0) !== 0) return invalid('CR0[63:32] are not zero');
  const cr3Hi = v.hi32(SAVE.CR3);
  if (cfg.physAddrWidth < 64 && (cfg.physAddrWidth <= 32 ? cr3Hi !== 0 : cr3Hi >>> (cfg.physAddrWidth - 32) !== 0)) return invalid('an MBZ bit of CR3 is set');
  if (v.hi32(SAVE.CR4) !== 0 || cr4 & ~cfg.cr4Supported) return invalid('an MBZ bit of CR4 is set');
  if (v.hi32(SAVE.DR6) !== 0) return invalid('DR6[63:32] are not zero');
  if (v.hi32(SAVE.DR7) !== 0) return invalid('DR7[63:32] are not zero');
  if (v.hi32(SAVE.EFER) !== 0 || efer & ~cfg.eferSupported) return invalid('an MBZ bit of EFER is set');
  if (efer & (EFER_LMA | EFER_LME) && !cfg.longModeSupported) return invalid('EFER.LMA/LME set without long mode');
  if (efer & EFER_LME && cr0 & X86_CR0_PG) {
    if (!(cr4 & X86_CR4_PAE)) return invalid('EFER.LME and CR0.PG set with CR4.PAE zero');
    if (!(cr0 & X86_CR0_PE)) return invalid('EFER.LME and CR0.PG set with CR0.PE zero');
    const cs = v.u16(SAVE.CS + 2);
    if (cs & SVM_SELECTOR_L_MASK && cs & SVM_SELECTOR_DB_MASK) return invalid('EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set');
  }
  if (!v.isIntercept(INTERCEPT.VMRUN)) return invalid('the VMRUN intercept bit is clear');
  if (v.isIntercept(INTERCEPT.MSR_PROT) && !below(v.hi32(CTL.MSRPM_BASE_PA), v.u32(CTL.MSRPM_BASE_PA), MSRPM_SIZE, cfg.physAddrWidth)) {
    return invalid('the MSRPM extends beyond the maximum physical address');
  }
  if (v.isIntercept(INTERCEPT.IOIO_PROT) && !below(v.hi32(CTL.IOPM_BASE_PA), v.u32(CTL.IOPM_BASE_PA), IOPM_SIZE, cfg.physAddrWidth)) {
    return invalid('the IOPM extends beyond the maximum physical address');
  }
  const why = checkSvmEventInjection(v.u32(CTL.EVENTINJ));
  if (why) return invalid(`illegal event injection: ${why}`);
  if (v.u32(CTL.GUEST_ASID) === 0) return invalid('ASID is zero');
  if (v.u32(CTL.GUEST_ASID) >= cfg.maxAsids) return invalid('ASID is not below the number of ASIDs');
  const tlbCtl = v.u8(CTL.TLB_CONTROL);
  if (!(tlbCtl === TLB_CONTROL_DO_NOTHING || tlbCtl === TLB_CONTROL_FLUSH_ALL_ASID || tlbCtl === TLB_CONTROL_FLUSH_ASID || tlbCtl === TLB_CONTROL_FLUSH_ASID_LOCAL)) {
    return invalid(`TLB_CONTROL ${tlbCtl} is a reserved encoding`);
  }
  if (v.u32(CTL.NESTED_CTL) & SVM_NESTED_CTL_NP_ENABLE && !cfg.nptSupported) return invalid('NP_ENABLE without nested paging');
  return { ok: true };
}

/**
 * Records a #VMEXIT in the control area: EXITCODE (64-bit; -1 sign-extends), EXITINFO1,
 * EXITINFO2, EXITINTINFO (+ its error code). Called by the silicon when it exits.
 */
export function recordVmexit(
  v: Vmcb,
  exitCode: number,
  exitInfo1Lo = 0,
  exitInfo1Hi = 0,
  exitInfo2 = 0,
  exitIntInfo = 0,
  exitIntInfoErr = 0,
): void {
  v.setU64(CTL.EXITCODE, exitCode >>> 0, exitCode < 0 ? 0xffffffff : 0);
  v.setU64(CTL.EXITINFO1, exitInfo1Lo, exitInfo1Hi);
  v.setNum(CTL.EXITINFO2, exitInfo2);
  v.setU32(CTL.EXITINTINFO, exitIntInfo);
  v.setU32(CTL.EXITINTINFO_ERR, exitIntInfoErr);
}

/**
 * VMRUN up to guest execution: the consistency checks, then TLB_CONTROL applied to the
 * ASID-tagged TLB. On failure the VMCB records VMEXIT_INVALID (-1) and the result says why.
 */
export function svmVmrun(v: Vmcb, cfg: SvmRunConfig, tlb: SvmAsidTlb): VmrunCheckResult {
  const r = vmrunConsistencyChecks(v, cfg);
  if (!r.ok) {
    recordVmexit(v, SVM_EXIT.ERR);
    return r;
  }
  tlb.vmrun(v.u32(CTL.GUEST_ASID), v.u8(CTL.TLB_CONTROL));
  return r;
}
