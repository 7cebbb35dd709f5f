/**
 * Instruction and event intercepts of SVM (AMD APM vol. 2, 15.9-15.14): unlike VMX, no
 * instruction exits unconditionally; each has an intercept bit in the VMCB and an exit
 * code. The driver maps the engine's intercept points onto these kinds; the IOPM/MSRPM and
 * the exception/CR/DR vectors are in iopm.ts, msrpm.ts and vmcb.ts.
 */
import { SVM_EXIT } from './exit-codes';
import { INTERCEPT, type Vmcb } from './vmcb';

/** [intercept bit (Linux INTERCEPT_*), exit code] of each instruction or event intercept. */
export const SVM_INTERCEPTS = {
  INTR: [INTERCEPT.INTR, SVM_EXIT.INTR],
  NMI: [INTERCEPT.NMI, SVM_EXIT.NMI],
  SMI: [INTERCEPT.SMI, SVM_EXIT.SMI],
  INIT: [INTERCEPT.INIT, SVM_EXIT.INIT],
  VINTR: [INTERCEPT.VINTR, SVM_EXIT.VINTR],
  SELECTIVE_CR0: [INTERCEPT.SELECTIVE_CR0, SVM_EXIT.CR0_SEL_WRITE],
  STORE_IDTR: [INTERCEPT.STORE_IDTR, SVM_EXIT.IDTR_READ],
  STORE_GDTR: [INTERCEPT.STORE_GDTR, SVM_EXIT.GDTR_READ],
  STORE_LDTR: [INTERCEPT.STORE_LDTR, SVM_EXIT.LDTR_READ],
  STORE_TR: [INTERCEPT.STORE_TR, SVM_EXIT.TR_READ],
  LOAD_IDTR: [INTERCEPT.LOAD_IDTR, SVM_EXIT.IDTR_WRITE],
  LOAD_GDTR: [INTERCEPT.LOAD_GDTR, SVM_EXIT.GDTR_WRITE],
  LOAD_LDTR: [INTERCEPT.LOAD_LDTR, SVM_EXIT.LDTR_WRITE],
  LOAD_TR: [INTERCEPT.LOAD_TR, SVM_EXIT.TR_WRITE],
  RDTSC: [INTERCEPT.RDTSC, SVM_EXIT.RDTSC],
  RDPMC: [INTERCEPT.RDPMC, SVM_EXIT.RDPMC],
  PUSHF: [INTERCEPT.PUSHF, SVM_EXIT.PUSHF],
  POPF: [INTERCEPT.POPF, SVM_EXIT.POPF],
  CPUID: [INTERCEPT.CPUID, SVM_EXIT.CPUID],
  RSM: [INTERCEPT.RSM, SVM_EXIT.RSM],
  IRET: [INTERCEPT.IRET, SVM_EXIT.IRET],
  INTn: [INTERCEPT.INTn, SVM_EXIT.SWINT],
  INVD: [INTERCEPT.INVD, SVM_EXIT.INVD],
  PAUSE: [INTERCEPT.PAUSE, SVM_EXIT.PAUSE],
  HLT: [INTERCEPT.HLT, SVM_EXIT.HLT],
  INVLPG: [INTERCEPT.INVLPG, SVM_EXIT.INVLPG],
  INVLPGA: [INTERCEPT.INVLPGA, SVM_EXIT.INVLPGA],
  IOIO_PROT: [INTERCEPT.IOIO_PROT, SVM_EXIT.IOIO],
  MSR_PROT: [INTERCEPT.MSR_PROT, SVM_EXIT.MSR],
  TASK_SWITCH: [INTERCEPT.TASK_SWITCH, SVM_EXIT.TASK_SWITCH],
  FERR_FREEZE: [INTERCEPT.FERR_FREEZE, SVM_EXIT.FERR_FREEZE],
  SHUTDOWN: [INTERCEPT.SHUTDOWN, SVM_EXIT.SHUTDOWN],
  VMRUN: [INTERCEPT.VMRUN, SVM_EXIT.VMRUN],
  VMMCALL: [INTERCEPT.VMMCALL, SVM_EXIT.VMMCALL],
  VMLOAD: [INTERCEPT.VMLOAD, SVM_EXIT.VMLOAD],
  VMSAVE: [INTERCEPT.VMSAVE, SVM_EXIT.VMSAVE],
  STGI: [INTERCEPT.STGI, SVM_EXIT.STGI],
  CLGI: [INTERCEPT.CLGI, SVM_EXIT.CLGI],
  SKINIT: [INTERCEPT.SKINIT, SVM_EXIT.SKINIT],
  RDTSCP: [INTERCEPT.RDTSCP, SVM_EXIT.RDTSCP],
  ICEBP: [INTERCEPT.ICEBP, SVM_EXIT.ICEBP],
  WBINVD: [INTERCEPT.WBINVD, SVM_EXIT.WBINVD],
  MONITOR: [INTERCEPT.MONITOR, SVM_EXIT.MONITOR],
  MWAIT: [INTERCEPT.MWAIT, SVM_EXIT.MWAIT],
  XSETBV: [INTERCEPT.XSETBV, SVM_EXIT.XSETBV],
  RDPRU: [INTERCEPT.RDPRU, SVM_EXIT.RDPRU],
} as const satisfies Record<string, readonly [number, number]>;

export type SvmInterceptName = keyof typeof SVM_INTERCEPTS;

/**
 * Whether an instruction or event is intercepted: its bit in the VMCB, and the exit code
 * (or -2 when not intercepted). Not intercepted means the guest executes it; VMMCALL and
 * the SVM instructions then raise #UD in a guest without nested SVM, as on hardware with
 * EFER.SVME clear in the guest.
 */
export function svmInterceptExitCode(v: Vmcb, name: SvmInterceptName): number {
  const [bit, code] = SVM_INTERCEPTS[name];
  return v.isIntercept(bit) ? code : -2;
}

/** Exception intercept (word 2): the exit code SVM_EXIT_EXCP_BASE + vector, or -2. */
export function svmExceptionExitCode(v: Vmcb, vector: number): number {
  return v.isIntercept(INTERCEPT.EXCEPTION_OFFSET + vector) ? SVM_EXIT.EXCP_BASE + vector : -2;
}

/** CR read/write intercepts (word 0): READ_CRn / WRITE_CRn, or -2. */
export function svmCrExitCode(v: Vmcb, cr: number, write: boolean): number {
  const bit = (write ? 16 : 0) + (cr & 15);
  return v.isIntercept(bit) ? (write ? SVM_EXIT.WRITE_CR0 : SVM_EXIT.READ_CR0) + (cr & 15) : -2;
}

/** DR read/write intercepts (word 1): READ_DRn / WRITE_DRn, or -2. */
export function svmDrExitCode(v: Vmcb, dr: number, write: boolean): number {
  const bit = 32 + (write ? 16 : 0) + (dr & 15);
  return v.isIntercept(bit) ? (write ? SVM_EXIT.WRITE_DR0 : SVM_EXIT.READ_DR0) + (dr & 15) : -2;
}

/**
 * The selective CR0 write intercept (APM 15.9.1): a write to CR0 that changes a bit other
 * than TS or MP exits with CR0_SEL_WRITE when only the selective intercept is on (the
 * full WRITE_CR0 intercept takes precedence). LMSW is covered too; CLTS is not.
 */
export function svmCr0WriteExitCode(v: Vmcb, oldCr0: number, newCr0: number): number {
  if (v.isIntercept(INTERCEPT.CR0_WRITE)) return SVM_EXIT.WRITE_CR0;
  if (v.isIntercept(INTERCEPT.SELECTIVE_CR0) && ((oldCr0 ^ newCr0) & ~0xa) !== 0) return SVM_EXIT.CR0_SEL_WRITE;
  return -2;
}
