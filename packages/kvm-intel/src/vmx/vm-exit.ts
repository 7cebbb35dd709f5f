/**
 * Recording a VM exit in the VMCS (SDM vol. 3C 28.2): the exit reason, exit
 * qualification, guest-linear/physical address, exit interruption information,
 * IDT-vectoring information, instruction length and instruction information. These are
 * the read-only data fields that VMWRITE may not touch; the silicon writes them with the
 * raw accessors. One exit = a handful of 32-bit stores, no allocation.
 */
import { encodeExitReason } from './exit-reasons';
import { VMCS_FIELDS as F } from './vmcs-fields';
import type { Vmcs } from './vmcs';
import type { VmEntryCheckResult } from './entry-checks';

/** Clears the per-exit information fields and writes exit reason + qualification + instruction length. */
export function vmxRecordExit(v: Vmcs, basicReason: number, qualification: number, instructionLength = 0): void {
  v.write32(F.VM_EXIT_REASON, encodeExitReason(basicReason));
  v.writeNumber(F.EXIT_QUALIFICATION, qualification);
  v.write32(F.VM_EXIT_INSTRUCTION_LEN, instructionLength);
  v.write32(F.VM_EXIT_INTR_INFO, 0);
  v.write32(F.VM_EXIT_INTR_ERROR_CODE, 0);
  v.write32(F.IDT_VECTORING_INFO_FIELD, 0);
  v.write32(F.IDT_VECTORING_ERROR_CODE, 0);
  v.write32(F.VMX_INSTRUCTION_INFO, 0);
}

/** A guest-linear address (signed/canonical numbers are stored as their 64-bit two's complement). */
export function vmxRecordGuestLinearAddress(v: Vmcs, linear: number): void {
  v.writeNumber(F.GUEST_LINEAR_ADDRESS, linear);
}

/** EPT violation (reason 48): qualification, guest-physical address, guest-linear address when valid (bit 7). */
export function vmxRecordEptViolation(v: Vmcs, qualification: number, gpa: number, linear: number, instructionLength = 0): void {
  vmxRecordExit(v, 48, qualification, instructionLength);
  v.writeNumber(F.GUEST_PHYSICAL_ADDRESS, gpa);
  if (qualification & (1 << 7)) vmxRecordGuestLinearAddress(v, linear);
}

/** EPT misconfiguration (reason 49): qualification undefined (0), guest-physical address. */
export function vmxRecordEptMisconfig(v: Vmcs, gpa: number): void {
  vmxRecordExit(v, 49, 0);
  v.writeNumber(F.GUEST_PHYSICAL_ADDRESS, gpa);
}

/** I/O instruction (reason 30). (IO_RCX/RSI/RDI/RIP are only written for SMIs after I/O, never here.) */
export function vmxRecordIoExit(v: Vmcs, qualification: number, instructionLength: number, insOutsInfo = 0, linear = 0): void {
  vmxRecordExit(v, 30, qualification, instructionLength);
  // String I/O: VM_EXIT_INSTRUCTION_INFO (IA32_VMX_BASIC[54]) and the guest-linear address of the operand.
  if (qualification & (1 << 4)) {
    v.write32(F.VMX_INSTRUCTION_INFO, insOutsInfo);
    vmxRecordGuestLinearAddress(v, linear);
  }
}

/**
 * VM-exit instruction information for INS/OUTS (SDM table 28-8): bits 9:7 address size
 * (0 = 16, 1 = 32, 2 = 64 bits), bits 17:15 segment register (ES=0 ... GS=5; OUTS only).
 */
export function encodeInsOutsInstructionInfo(addressSize: 16 | 32 | 64, segment: number): number {
  const as = addressSize === 16 ? 0 : addressSize === 32 ? 1 : 2;
  return (as << 7) | ((segment & 7) << 15);
}

/** An exception or NMI that exits through the exception bitmap / NMI exiting (reason 0). */
export function vmxRecordExceptionExit(
  v: Vmcs,
  interruptionInfo: number,
  errorCode: number,
  qualification: number,
  instructionLength = 0,
): void {
  vmxRecordExit(v, 0, qualification, instructionLength);
  v.write32(F.VM_EXIT_INTR_INFO, interruptionInfo);
  v.write32(F.VM_EXIT_INTR_ERROR_CODE, errorCode);
}

/** An exit during event delivery: IDT-vectoring information of the event being delivered. */
export function vmxRecordIdtVectoring(v: Vmcs, vectoringInfo: number, errorCode: number): void {
  v.write32(F.IDT_VECTORING_INFO_FIELD, vectoringInfo);
  v.write32(F.IDT_VECTORING_ERROR_CODE, errorCode);
}

/**
 * Records a VM-entry failure (reason 33/34 with bit 31 set, and its qualification), as
 * SDM 27.8 does: what KVM then reports as KVM_EXIT_FAIL_ENTRY.
 */
export function vmxRecordEntryFailure(v: Vmcs, r: Extract<VmEntryCheckResult, { kind: 'entry-failure' }>): void {
  vmxRecordExit(v, r.exitReason, r.qualification);
  v.write32(F.VM_EXIT_REASON, encodeExitReason(r.exitReason, true));
}
