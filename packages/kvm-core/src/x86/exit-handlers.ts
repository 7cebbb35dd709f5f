/**
 * Generic exit handlers the vendors call from their exit tables (x86.c): kvm_set_cr0,
 * kvm_set_cr3, kvm_set_cr4 with their #GP rules, the CR-access dispatcher both vendors'
 * handle_cr/cr_interception end in, kvm_emulate_rdmsr / kvm_emulate_wrmsr, RDTSC(P)
 * against the vCPU's TSC, and the #GP / #UD injection helpers. Each returns the
 * handle_exit contract (1 re-enter, 0 userspace, < 0 errno).
 */
import { KvmError } from '../errors';
import {
  KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IRQ_WINDOW_OPEN, KVM_INTERNAL_ERROR_EMULATION, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
} from '../uapi/kvm';
import { kvmEmulateInstruction, kvmEmulateStringIo } from './emulate';
import { RET_PF_EMULATE, RET_PF_FIXED, type TdpMmu } from './mmu/tdp-mmu';
import { VCPU_REGS_RAX, VCPU_REGS_RCX, VCPU_REGS_RDX, readReg64 } from './regs';
import { kvmFastPio, kvmGetCr8, kvmGetMsr, kvmQueueException, kvmSetCr8, kvmSetMsr, type KvmVcpuX86 } from './x86';

const CR0_PE = 1 << 0;
const CR0_ET = 1 << 4;
const CR0_NW = 1 << 29;
const CR0_CD = 1 << 30;
const CR0_PG = 1 << 31;
const CR0_TS = 1 << 3;
const CR4_PAE = 1 << 5;
const CR4_PCIDE = 1 << 17;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;
export const GP_VECTOR = 13;
export const UD_VECTOR = 6;

/** CR4 bits KVM lets a guest set (what the engine implements; LA57, PKE, CET are not). */
export const KVM_CR4_GUEST_SUPPORTED =
  0x000007ff | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 20) | (1 << 21) | (1 << 11);

export function kvmInjectGp(vcpu: KvmVcpuX86, errorCode = 0): number {
  kvmQueueException(vcpu, GP_VECTOR, errorCode);
  return 1;
}

export function kvmInjectUd(vcpu: KvmVcpuX86): number {
  kvmQueueException(vcpu, UD_VECTOR);
  return 1;
}

/** kvm_set_cr0: false means #GP (nothing changed). */
export function kvmSetCr0(vcpu: KvmVcpuX86, value: number): boolean {
  let cr0 = value >>> 0;
  if (value >= 2 ** 32 || value < 0) return false;
  cr0 |= CR0_ET;
  if ((cr0 & CR0_NW) && !(cr0 & CR0_CD)) return false;
  if ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) return false;
  const old = vcpu.cr0 >>> 0;
  if (!(old & CR0_PG) && (cr0 & CR0_PG) && (vcpu.efer & EFER_LME)) {
    if (!(vcpu.cr4 & CR4_PAE)) return false;
    if (vcpu.ops.getSegment(vcpu, 1).l) return false;
  }
  if ((old & CR0_PG) && !(cr0 & CR0_PG) && (vcpu.cr4 & CR4_PCIDE)) return false;
  if (vcpu.ops.isValidCr0 !== undefined && !vcpu.ops.isValidCr0(vcpu, cr0 | 0)) return false;
  vcpu.ops.setCr0(vcpu, cr0 | 0);
  vcpu.cr0 = cr0 | 0;
  if ((old ^ cr0) & (CR0_PG | CR0_PE | (1 << 16))) vcpu.ops.flushTlbCurrent(vcpu);
  return true;
}

/** kvm_set_cr4: false means #GP. */
export function kvmSetCr4(vcpu: KvmVcpuX86, value: number): boolean {
  if (value >= 2 ** 32 || value < 0) return false;
  const cr4 = value >>> 0;
  if (cr4 & ~KVM_CR4_GUEST_SUPPORTED) return false;
  if ((vcpu.efer & EFER_LMA) && !(cr4 & CR4_PAE)) return false;
  if ((cr4 & CR4_PCIDE) && !(vcpu.cr4 & CR4_PCIDE) && (vcpu.cr3 & 0xfff)) return false;
  if (vcpu.ops.isValidCr4 !== undefined && !vcpu.ops.isValidCr4(vcpu, cr4 | 0)) return false;
  const old = vcpu.cr4;
  vcpu.ops.setCr4(vcpu, cr4 | 0);
  vcpu.cr4 = cr4 | 0;
  if ((old ^ cr4) & 0x000000b0) vcpu.ops.flushTlbCurrent(vcpu);
  return true;
}

/**
 * The CR-access exit (handle_cr / cr_interception): MOV to/from CRn, CLTS, LMSW.
 * `type`: 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW (the VMX qualification's access type).
 * `setCr3`/`getCr3` let the vendor keep CR3 in its own state (VMCS/VMCB).
 */
export function kvmHandleCrAccess(vcpu: KvmVcpuX86, cr: number, type: number, gpr: number, lmswSource: number, longMode: boolean): number {
  const regs = vcpu.regs;
  if (!(vcpu.regsAvail & (1 << gpr))) vcpu.ops.cacheReg(vcpu, gpr);
  const lo = regs[2 * gpr]! >>> 0;
  const hi = longMode ? regs[2 * gpr + 1]! >>> 0 : 0;
  const value = hi * 2 ** 32 + lo;
  switch (type) {
    case 0:
      switch (cr) {
        case 0: if (!kvmSetCr0(vcpu, value)) return kvmInjectGp(vcpu); break;
        case 3:
          if (value >= 2 ** 52) return kvmInjectGp(vcpu);
          vcpu.cr3 = value;
          vcpu.ops.postSetCr3?.(vcpu, value);
          vcpu.ops.flushTlbCurrent(vcpu);
          break;
        case 4: if (!kvmSetCr4(vcpu, value)) return kvmInjectGp(vcpu); break;
        case 8:
          if (value > 15) return kvmInjectGp(vcpu);
          kvmSetCr8(vcpu, value);
          break;
        default: return kvmInjectUd(vcpu);
      }
      break;
    case 1: {
      let v: number;
      if (cr === 3) v = vcpu.cr3;
      else if (cr === 8) v = kvmGetCr8(vcpu);
      else if (cr === 0) v = vcpu.cr0 >>> 0;
      else if (cr === 4) v = vcpu.cr4 >>> 0;
      else return kvmInjectUd(vcpu);
      regs[2 * gpr] = v | 0;
      regs[2 * gpr + 1] = longMode ? Math.floor(v / 2 ** 32) | 0 : 0;
      vcpu.regsAvail |= 1 << gpr;
      vcpu.regsDirty |= 1 << gpr;
      break;
    }
    case 2:
      if (!kvmSetCr0(vcpu, (vcpu.cr0 & ~CR0_TS) >>> 0)) return kvmInjectGp(vcpu);
      break;
    default: {
      // LMSW: PE, MP, EM, TS from the source; it can set PE but not clear it.
      const cr0 = vcpu.cr0 >>> 0;
      const nv = ((cr0 & ~0xe) | (lmswSource & 0xf) | (cr0 & CR0_PE)) >>> 0;
      if (!kvmSetCr0(vcpu, nv)) return kvmInjectGp(vcpu);
    }
  }
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/** kvm_emulate_rdmsr: ECX selects; EDX:EAX get the value; unknown -> #GP(0). */
export function kvmEmulateRdmsr(vcpu: KvmVcpuX86): number {
  const index = Number(vcpu.registerRead(VCPU_REGS_RCX) & 0xffffffffn);
  const v = kvmGetMsr(vcpu, index);
  if (v === undefined) return kvmInjectGp(vcpu);
  vcpu.registerWrite(VCPU_REGS_RAX, v & 0xffffffffn);
  vcpu.registerWrite(VCPU_REGS_RDX, (v >> 32n) & 0xffffffffn);
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/** kvm_emulate_wrmsr: ECX selects, EDX:EAX is the value; refused -> #GP(0). */
export function kvmEmulateWrmsr(vcpu: KvmVcpuX86): number {
  const index = Number(vcpu.registerRead(VCPU_REGS_RCX) & 0xffffffffn);
  const value = ((vcpu.registerRead(VCPU_REGS_RDX) & 0xffffffffn) << 32n) | (vcpu.registerRead(VCPU_REGS_RAX) & 0xffffffffn);
  if (!kvmSetMsr(vcpu, index, value, false)) return kvmInjectGp(vcpu);
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/** RDTSC / RDTSCP when intercepted: the vCPU's TSC (offset, rate) at the VM clock's now. */
export function kvmEmulateRdtsc(vcpu: KvmVcpuX86, rdtscp: boolean): number {
  const tsc = vcpu.tsc.tscAtNs(vcpu.kvm.clock.nowNs());
  const lo = tsc % 2 ** 32;
  vcpu.registerWrite(VCPU_REGS_RAX, BigInt(lo >>> 0));
  vcpu.registerWrite(VCPU_REGS_RDX, BigInt(Math.floor(tsc / 2 ** 32) >>> 0));
  if (rdtscp) vcpu.registerWrite(VCPU_REGS_RCX, BigInt(vcpu.tsc.aux >>> 0));
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/** The 64-bit value of a GPR without BigInt (exit paths that only need a number). */
export function kvmGprNumber(vcpu: KvmVcpuX86, gpr: number): number {
  if (!(vcpu.regsAvail & (1 << gpr))) vcpu.ops.cacheReg(vcpu, gpr);
  return Number(readReg64(vcpu.regs, gpr));
}

/** kvm_skip_emulated_instruction as an exit handler: 1 re-enter, 0 when RIP cannot move. */
export function kvmEmulateAsNop(vcpu: KvmVcpuX86): number {
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/** handle_invlpg / invlpg_interception: kvm_mmu_invlpg of the guest-virtual page, then skip. */
export function kvmHandleInvlpg(vcpu: KvmVcpuX86, gva: number): number {
  vcpu.ops.flushTlbGva(vcpu, gva);
  return kvmEmulateAsNop(vcpu);
}

/**
 * handle_io / io_interception once the vendor decoded its exit: string I/O goes through
 * the emulator, IN and OUT through kvm_fast_pio with the value from AL/AX/EAX.
 */
export function kvmHandleIo(vcpu: KvmVcpuX86, isIn: boolean, port: number, size: number, isString: boolean): number {
  if (isString) return kvmEmulateStringIo(vcpu, isIn, port, size);
  return kvmFastPio(vcpu, size, port, isIn, isIn ? 0 : vcpu.regs[2 * VCPU_REGS_RAX]! & (size === 4 ? -1 : (1 << (8 * size)) - 1));
}

/**
 * The interrupt window opened (handle_interrupt_window / interrupt_window_interception,
 * then vcpu_enter_guest's dm_request_for_irq_injection): with a userspace irqchip that
 * asked for it and nothing queued, exit with KVM_EXIT_IRQ_WINDOW_OPEN; else re-enter.
 */
export function kvmHandleInterruptWindow(vcpu: KvmVcpuX86): number {
  const run = vcpu.ctx.kvmRun;
  if (vcpu.apic === null && run.requestInterruptWindow && vcpu.interruptNr < 0) {
    run.exitReason = KVM_EXIT_IRQ_WINDOW_OPEN;
    return 0;
  }
  return 1;
}

/**
 * kvm_prepare_unexpected_reason_exit: an exit the vendor has no handler for goes to
 * userspace as KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON with the reason (as a u64) and the vCPU.
 */
export function kvmPrepareUnexpectedReasonExit(vcpu: KvmVcpuX86, reason: number): number {
  const run = vcpu.ctx.kvmRun;
  run.exitReason = KVM_EXIT_INTERNAL_ERROR;
  run.setInternalError(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, [BigInt.asUintN(64, BigInt(reason)), BigInt(vcpu.vcpuId)]);
  return 0;
}

/**
 * kvm_mmu_page_fault for a TDP violation (EPT violation, #NPF) at `gpa`: the MMU maps
 * it (re-enter), or it is MMIO / a write to a read-only slot (emulate the instruction);
 * anything else is an internal error naming the gpa.
 */
export function kvmMmuPageFault(vcpu: KvmVcpuX86, mmu: TdpMmu, gpa: number, write: boolean): number {
  const r = mmu.pageFault(gpa, write);
  if (r === RET_PF_FIXED) return 1;
  if (r === RET_PF_EMULATE) return kvmEmulateInstruction(vcpu);
  const run = vcpu.ctx.kvmRun;
  run.exitReason = KVM_EXIT_INTERNAL_ERROR;
  run.setInternalError(KVM_INTERNAL_ERROR_EMULATION, [BigInt(gpa)]);
  return 0;
}

void KvmError;
