import { describe, expect, it } from 'vitest';
import {
  encodeInsOutsInstructionInfo, encodeInterruptionInfo, encodeIoQualification, EXIT_REASON, hardwareEntryFailureReason, Vmcs,
  VMCS_FIELDS as F, vmEntryChecks, VMX_INSN, VMX_INSN_EXECUTE, VMX_INSN_EXIT, VMX_INSN_UD, vmxControls as C,
  vmxInstructionExitReason, vmxInstructionOutcome, vmxInterruptWindowOpen, vmxNmiWindowOpen, vmxRecordEntryFailure,
  vmxRecordEptMisconfig, vmxRecordEptViolation, vmxRecordExceptionExit, vmxRecordExit, vmxRecordIoExit,
} from '@kvmts/kvm-intel';
import { caps, validVmcs } from './guest-vmcs';

describe('recording VM exits in the VMCS', () => {
  it('basic exit: reason, qualification, length; stale event info cleared', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    v.write32(F.VM_EXIT_INTR_INFO, 0x80000b0e);
    vmxRecordExit(v, EXIT_REASON.CR_ACCESS, 0x303, 3);
    expect(v.vmread(F.VM_EXIT_REASON).value).toBe(28n);
    expect(v.vmread(F.EXIT_QUALIFICATION).value).toBe(0x303n);
    expect(v.vmread(F.VM_EXIT_INSTRUCTION_LEN).value).toBe(3n);
    expect(v.read32(F.VM_EXIT_INTR_INFO)).toBe(0);
  });
  it('EPT violation with a negative (kernel) linear address, EPT misconfig', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    vmxRecordEptViolation(v, 0x182, 0xfee00000, -0x7fff0000);
    expect(v.read32(F.VM_EXIT_REASON)).toBe(48);
    expect(v.vmread(F.GUEST_PHYSICAL_ADDRESS).value).toBe(0xfee00000n);
    expect(v.vmread(F.GUEST_LINEAR_ADDRESS).value).toBe(BigInt.asUintN(64, -0x7fff0000n));
    vmxRecordEptViolation(v, 0x2, 0x1000, 0);
    vmxRecordEptMisconfig(v, 0x2000);
    expect(v.read32(F.VM_EXIT_REASON)).toBe(49);
    expect(v.readNumber(F.GUEST_PHYSICAL_ADDRESS)).toBe(0x2000);
  });
  it('string I/O records the INS/OUTS instruction information', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    const q = encodeIoQualification({ size: 2, in: false, string: true, rep: true, immediate: false, port: 0x1f0 });
    vmxRecordIoExit(v, q, 2, encodeInsOutsInstructionInfo(32, 3), 0x8000);
    expect(v.read32(F.VM_EXIT_REASON)).toBe(30);
    expect(v.read32(F.VMX_INSTRUCTION_INFO)).toBe((1 << 7) | (3 << 15));
    expect(v.readNumber(F.GUEST_LINEAR_ADDRESS)).toBe(0x8000);
  });
  it('exception exits carry interruption information and error code', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    vmxRecordExceptionExit(v, encodeInterruptionInfo(14, 3, true), 0x6, 0xdead000);
    expect(v.read32(F.VM_EXIT_REASON)).toBe(0);
    expect(v.read32(F.VM_EXIT_INTR_INFO)).toBe(0x80000b0e);
    expect(v.read32(F.VM_EXIT_INTR_ERROR_CODE)).toBe(6);
    expect(v.readNumber(F.EXIT_QUALIFICATION)).toBe(0xdead000);
  });
  it('an entry failure is recorded with bit 31 set and its qualification', () => {
    const v = validVmcs('long');
    v.writeNumber(F.VMCS_LINK_POINTER, 0);
    const r = vmEntryChecks(v, caps());
    if (r.kind !== 'entry-failure') throw new Error('expected an entry failure');
    vmxRecordEntryFailure(v, r);
    expect(v.read32(F.VM_EXIT_REASON)).toBe(hardwareEntryFailureReason(33));
    expect(v.readNumber(F.EXIT_QUALIFICATION)).toBe(4);
  });
});

describe('instruction exits', () => {
  const p2 = C.SECONDARY_EXEC_ENABLE_RDTSCP;
  const proc = C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
  it('CPUID, XSETBV, INVD, VMCALL always exit', () => {
    for (const k of [VMX_INSN.CPUID, VMX_INSN.XSETBV, VMX_INSN.INVD, VMX_INSN.VMCALL, VMX_INSN.GETSEC]) {
      expect(vmxInstructionOutcome(0, 0, k)).toBe(VMX_INSN_EXIT);
    }
    expect(vmxInstructionExitReason(VMX_INSN.CPUID)).toBe(10);
    expect(vmxInstructionExitReason(VMX_INSN.VMCALL)).toBe(18);
  });
  it('HLT, INVLPG, RDTSC follow their controls', () => {
    expect(vmxInstructionOutcome(0, 0, VMX_INSN.HLT)).toBe(VMX_INSN_EXECUTE);
    expect(vmxInstructionOutcome(C.CPU_BASED_HLT_EXITING, 0, VMX_INSN.HLT)).toBe(VMX_INSN_EXIT);
    expect(vmxInstructionOutcome(C.CPU_BASED_INVLPG_EXITING, 0, VMX_INSN.INVLPG)).toBe(VMX_INSN_EXIT);
    expect(vmxInstructionOutcome(C.CPU_BASED_RDTSC_EXITING, 0, VMX_INSN.RDTSC)).toBe(VMX_INSN_EXIT);
    expect(vmxInstructionExitReason(VMX_INSN.HLT)).toBe(12);
  });
  it('RDTSCP is #UD without enable RDTSCP; secondary controls count only when activated', () => {
    expect(vmxInstructionOutcome(C.CPU_BASED_RDTSC_EXITING, p2, VMX_INSN.RDTSCP)).toBe(VMX_INSN_UD);
    expect(vmxInstructionOutcome(proc | C.CPU_BASED_RDTSC_EXITING, p2, VMX_INSN.RDTSCP)).toBe(VMX_INSN_EXIT);
    expect(vmxInstructionOutcome(proc, p2, VMX_INSN.RDTSCP)).toBe(VMX_INSN_EXECUTE);
    expect(vmxInstructionOutcome(0, C.SECONDARY_EXEC_WBINVD_EXITING, VMX_INSN.WBINVD)).toBe(VMX_INSN_EXECUTE);
    expect(vmxInstructionOutcome(proc, C.SECONDARY_EXEC_WBINVD_EXITING, VMX_INSN.WBINVD)).toBe(VMX_INSN_EXIT);
  });
  it('interrupt and NMI windows', () => {
    const iw = C.CPU_BASED_INTR_WINDOW_EXITING;
    expect(vmxInterruptWindowOpen(iw, true, 0)).toBe(true);
    expect(vmxInterruptWindowOpen(iw, false, 0)).toBe(false);
    expect(vmxInterruptWindowOpen(iw, true, C.GUEST_INTR_STATE_STI)).toBe(false);
    expect(vmxInterruptWindowOpen(0, true, 0)).toBe(false);
    expect(vmxNmiWindowOpen(C.CPU_BASED_NMI_WINDOW_EXITING, 0)).toBe(true);
    expect(vmxNmiWindowOpen(C.CPU_BASED_NMI_WINDOW_EXITING, C.GUEST_INTR_STATE_NMI)).toBe(false);
  });
});
