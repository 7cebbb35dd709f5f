/**
 * kvm_x86_ops in TypeScript (arch/x86/include/asm/kvm-x86-ops.h): the hooks a vendor
 * module (kvm-intel, kvm-amd) implements. Every hook is declared once, in
 * KVM_X86_OPS_TABLE, with its required/optional mark; the type and the registration-time
 * completeness check both derive from that table.
 *
 * The handle_exit contract (vcpu_enter_guest in x86.c): handleExit returns
 *   > 0  re-enter the guest,
 *   = 0  return to userspace with kvm_run.exit_reason set,
 *   < 0  a negative errno (e.g. -ERRNO.EFAULT), which KVM_RUN reports as KvmError.
 */
import { KvmError } from '../errors';
import type { KvmDtable, KvmSegment } from '../uapi/structs';
import type { VcpuSreg } from './regs';
import type { KvmVcpuX86, KvmX86Vm } from './x86';

/** Whether vcpuRun handled the exit already (EXIT_FASTPATH_* of x86.h). */
export const EXIT_FASTPATH_NONE = 0;
export const EXIT_FASTPATH_REENTER_GUEST = 1;
export const EXIT_FASTPATH_EXIT_HANDLED = 2;
export const EXIT_FASTPATH_EXIT_USERSPACE = 3;

/** A queued exception, interrupt or NMI (kvm_queued_exception / kvm_queued_interrupt). */
export interface X86QueuedException {
  vector: number;
  hasErrorCode: boolean;
  errorCode: number;
  /** For #PF the faulting address (CR2), for #DB the DR6 bits. */
  payload: number;
  hasPayload: boolean;
}

/** The exit in vendor terms, for traces and the debugging view (kvm_x86_ops.get_exit_info). */
export interface X86ExitInfo {
  /** 'vmx' or 'svm' */
  readonly kind: string;
  /** The vendor's exit code (VMX basic exit reason, SVM EXITCODE). */
  readonly reason: number;
  /** Its architectural name (EXIT_REASON_IO_INSTRUCTION, SVM_EXIT_IOIO, ...). */
  readonly reasonName: string;
  /** VMX exit qualification / SVM EXITINFO1. */
  readonly info1: bigint;
  /** VMX guest-physical address or SVM EXITINFO2. */
  readonly info2: bigint;
  /** VMX IDT-vectoring info / SVM EXITINTINFO. */
  readonly intrInfo: number;
  readonly errorCode: number;
}

/** A kvm_exit tracepoint probe: the exit in vendor terms and the guest RIP at the exit. */
export type KvmExitTrace = (info: X86ExitInfo, rip: bigint) => void;

/** The signature of every hook. */
export interface KvmX86OpsSignatures {
  hardwareUnsetup(): void;
  vmInit(kvm: KvmX86Vm): void;
  vmDestroy(kvm: KvmX86Vm): void;

  vcpuCreate(vcpu: KvmVcpuX86): void;
  vcpuFree(vcpu: KvmVcpuX86): void;
  /** INIT or power-on reset of the vendor state (vmx_vcpu_reset / svm_vcpu_reset). */
  vcpuReset(vcpu: KvmVcpuX86, initEvent: boolean): void;
  vcpuLoad(vcpu: KvmVcpuX86): void;
  vcpuPut(vcpu: KvmVcpuX86): void;

  updateExceptionBitmap(vcpu: KvmVcpuX86): void;
  /** Vendor MSRs; undefined when the vendor does not handle the index. */
  getMsr(vcpu: KvmVcpuX86, index: number): bigint | undefined;
  /** true when handled; false: not a vendor MSR (the generic code decides). */
  setMsr(vcpu: KvmVcpuX86, index: number, data: bigint, hostInitiated: boolean): boolean;
  getSegmentBase(vcpu: KvmVcpuX86, seg: VcpuSreg): bigint;
  getSegment(vcpu: KvmVcpuX86, seg: VcpuSreg): KvmSegment;
  getCpl(vcpu: KvmVcpuX86): number;
  setSegment(vcpu: KvmVcpuX86, seg: VcpuSreg, value: KvmSegment): void;
  isValidCr0(vcpu: KvmVcpuX86, cr0: number): boolean;
  setCr0(vcpu: KvmVcpuX86, cr0: number): void;
  postSetCr3(vcpu: KvmVcpuX86, cr3: number): void;
  isValidCr4(vcpu: KvmVcpuX86, cr4: number): boolean;
  setCr4(vcpu: KvmVcpuX86, cr4: number): void;
  setEfer(vcpu: KvmVcpuX86, efer: number): void;
  getIdt(vcpu: KvmVcpuX86): KvmDtable;
  setIdt(vcpu: KvmVcpuX86, dt: KvmDtable): void;
  getGdt(vcpu: KvmVcpuX86): KvmDtable;
  setGdt(vcpu: KvmVcpuX86, dt: KvmDtable): void;
  setDr7(vcpu: KvmVcpuX86, value: bigint): void;
  /** Load register `reg` (VCPU_REGS_RSP/RIP, ...) from the VMCS/VMCB into vcpu.arch.regs. */
  cacheReg(vcpu: KvmVcpuX86, reg: number): void;
  getRflags(vcpu: KvmVcpuX86): number;
  setRflags(vcpu: KvmVcpuX86, rflags: number): void;

  flushTlbAll(vcpu: KvmVcpuX86): void;
  flushTlbCurrent(vcpu: KvmVcpuX86): void;
  flushTlbGva(vcpu: KvmVcpuX86, gva: number): void;
  flushTlbGuest(vcpu: KvmVcpuX86): void;

  vcpuPreRun(vcpu: KvmVcpuX86): boolean;
  /** Enter the guest on the silicon until a VM exit; returns EXIT_FASTPATH_*. */
  vcpuRun(vcpu: KvmVcpuX86): number;
  /** Handle the exit by its vendor reason; see the contract above. */
  handleExit(vcpu: KvmVcpuX86, fastpath: number): number;
  /** Advance RIP past the instruction that exited; false if it cannot (emulation failure). */
  skipEmulatedInstruction(vcpu: KvmVcpuX86): boolean;

  setInterruptShadow(vcpu: KvmVcpuX86, mask: number): void;
  getInterruptShadow(vcpu: KvmVcpuX86): number;
  /** The 3-byte hypercall instruction of this vendor (VMCALL 0f 01 c1 / VMMCALL 0f 01 d9). */
  patchHypercall(vcpu: KvmVcpuX86): Uint8Array;
  injectIrq(vcpu: KvmVcpuX86, reinjected: boolean): void;
  injectNmi(vcpu: KvmVcpuX86): void;
  injectException(vcpu: KvmVcpuX86): void;
  cancelInjection(vcpu: KvmVcpuX86): void;
  interruptAllowed(vcpu: KvmVcpuX86, forInjection: boolean): boolean;
  nmiAllowed(vcpu: KvmVcpuX86, forInjection: boolean): boolean;
  getNmiMask(vcpu: KvmVcpuX86): boolean;
  setNmiMask(vcpu: KvmVcpuX86, masked: boolean): void;
  enableNmiWindow(vcpu: KvmVcpuX86): void;
  enableIrqWindow(vcpu: KvmVcpuX86): void;
  updateCr8Intercept(vcpu: KvmVcpuX86, tpr: number, irr: number): void;

  /** Point the hardware at the MMU root (EPTP / nCR3, or the shadow root). */
  loadMmuPgd(vcpu: KvmVcpuX86, rootHpa: number, rootLevel: number): void;

  setTssAddr(kvm: KvmX86Vm, addr: number): void;
  setIdentityMapAddr(kvm: KvmX86Vm, addr: number): void;
  writeTscOffset(vcpu: KvmVcpuX86, offset: bigint): void;

  /** The last exit in vendor terms. */
  getExitInfo(vcpu: KvmVcpuX86): X86ExitInfo;
  /** A dump of the VMCS or VMCB (dump_vmcs / dump_vmcb), for traces and tests. */
  dumpState(vcpu: KvmVcpuX86): string;
}

export type X86OpMark = 'required' | 'optional';

/** The one declaration of every hook and whether a vendor must provide it. */
export const KVM_X86_OPS_TABLE = {
  hardwareUnsetup: 'optional',
  vmInit: 'optional',
  vmDestroy: 'optional',
  vcpuCreate: 'required',
  vcpuFree: 'required',
  vcpuReset: 'required',
  vcpuLoad: 'optional',
  vcpuPut: 'optional',
  updateExceptionBitmap: 'optional',
  getMsr: 'required',
  setMsr: 'required',
  getSegmentBase: 'required',
  getSegment: 'required',
  getCpl: 'required',
  setSegment: 'required',
  isValidCr0: 'optional',
  setCr0: 'required',
  postSetCr3: 'optional',
  isValidCr4: 'optional',
  setCr4: 'required',
  setEfer: 'required',
  getIdt: 'required',
  setIdt: 'required',
  getGdt: 'required',
  setGdt: 'required',
  setDr7: 'optional',
  cacheReg: 'required',
  getRflags: 'required',
  setRflags: 'required',
  flushTlbAll: 'required',
  flushTlbCurrent: 'required',
  flushTlbGva: 'required',
  flushTlbGuest: 'optional',
  vcpuPreRun: 'optional',
  vcpuRun: 'required',
  handleExit: 'required',
  skipEmulatedInstruction: 'required',
  setInterruptShadow: 'required',
  getInterruptShadow: 'required',
  patchHypercall: 'required',
  injectIrq: 'required',
  injectNmi: 'required',
  injectException: 'required',
  cancelInjection: 'optional',
  interruptAllowed: 'required',
  nmiAllowed: 'required',
  getNmiMask: 'required',
  setNmiMask: 'required',
  enableNmiWindow: 'required',
  enableIrqWindow: 'required',
  updateCr8Intercept: 'optional',
  loadMmuPgd: 'required',
  setTssAddr: 'optional',
  setIdentityMapAddr: 'optional',
  writeTscOffset: 'optional',
  getExitInfo: 'required',
  dumpState: 'optional',
} as const satisfies { [K in keyof KvmX86OpsSignatures]: X86OpMark };

type Table = typeof KVM_X86_OPS_TABLE;
type RequiredHook = { [K in keyof Table]: Table[K] extends 'required' ? K : never }[keyof Table];
type OptionalHook = Exclude<keyof Table, RequiredHook>;

/** What a vendor registers: every required hook, any optional ones, and its name. */
export type KvmX86Ops = { readonly name: string } & Pick<KvmX86OpsSignatures, RequiredHook> &
  Partial<Pick<KvmX86OpsSignatures, OptionalHook>>;

/** Registration-time completeness check (kvm_ops_update's WARN_ON for missing hooks). */
export function checkX86Ops(ops: KvmX86Ops): void {
  const missing = Object.entries(KVM_X86_OPS_TABLE)
    .filter(([hook, mark]) => mark === 'required' && typeof (ops as unknown as Record<string, unknown>)[hook] !== 'function')
    .map(([hook]) => hook);
  if (missing.length > 0) throw new KvmError('EINVAL', `vendor '${ops.name}' lacks required kvm_x86_ops hooks: ${missing.join(', ')}`);
}
