export { kvmIntel, kvmIntelParamsSchema } from './module';
export type { KvmIntelParams } from './module';
import { kvmIntel } from './module';
export default kvmIntel;

// VMX silicon model (SDM vol. 3C): see src/vmx/
export {
  VMCS_FIELDS, VMCS_FIELD_ENCODINGS, VMCS_MAX_FIELD_INDEX, VMCS_FIELD_WIDTH_16, VMCS_FIELD_WIDTH_64, VMCS_FIELD_WIDTH_32,
  VMCS_FIELD_WIDTH_NATURAL, VMCS_FIELD_TYPE_CONTROL, VMCS_FIELD_TYPE_READ_ONLY_DATA, VMCS_FIELD_TYPE_GUEST, VMCS_FIELD_TYPE_HOST,
  decodeVmcsFieldEncoding, vmcsFieldWidthCode, vmcsFieldTypeCode, vmcsFieldName, isSupportedVmcsEncoding,
} from './vmx/vmcs-fields';
export type { VmcsFieldName, VmcsFieldWidth, VmcsFieldType, VmcsFieldEncoding } from './vmx/vmcs-fields';
export { VMXERR, VMX_INSTRUCTION_ERROR_DESCRIPTIONS } from './vmx/vm-instruction-errors';
export type { VmxInstructionErrorName } from './vmx/vm-instruction-errors';
export { Vmcs, VmxRootOperation } from './vmx/vmcs';
export type { VmcsLaunchState, VmreadResult, VmcsOptions, VmxInstructionStatus } from './vmx/vmcs';
export * as vmxControls from './vmx/controls';
export {
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS,
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1,
  MSR_IA32_VMX_VMCS_ENUM, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, VMCS_REVISION_ID,
  VMCS_REGION_SIZE, vmxCapabilities, readVmxCapabilityMsr, controlsValid, vmxMiscCr3Targets, vmxMiscMaxMsrListEntries,
  preemptionTimerTscPeriod, preemptionTimerRemaining,
} from './vmx/capabilities';
export type { VmxCapabilities, VmxControlCap, VmxCapabilityParams } from './vmx/capabilities';
export {
  EXIT_REASON, exitReasonName, encodeExitReason, decodeExitReason, VMX_EXIT_REASONS_FAILED_VMENTRY,
  ENTRY_FAIL_DEFAULT, ENTRY_FAIL_PDPTE, ENTRY_FAIL_NMI, ENTRY_FAIL_VMCS_LINK_PTR,
} from './vmx/exit-reasons';
export type { ExitReasonName, ExitReasonField } from './vmx/exit-reasons';
export * as vmxExitInfo from './vmx/exit-info';
export {
  encodeInterruptionInfo, decodeInterruptionInfo, checkEntryInterruptionInfo, encodeIoQualification, decodeIoQualification,
  encodeCrAccessQualification, decodeCrAccessQualification, encodeEptViolationQualification, decodeEptViolationQualification,
} from './vmx/exit-info';
export type { InterruptionInfo, EventInjectionContext, IoQualification, CrAccessQualification, EptViolationQualification } from './vmx/exit-info';
export {
  vmEntryChecks, checkVmxControls, checkHostState, checkGuestState, loadEntryMsrs, hardwareEntryFailureReason,
} from './vmx/entry-checks';
export type { VmEntryCheckResult, VmEntryEnvironment, VmxMsrEntry } from './vmx/entry-checks';
export {
  eptWalk, EptWalkResult, EptBuilder, encodeEptp, decodeEptp, checkEptp, EPT_WALK_OK, EPT_WALK_VIOLATION, EPT_WALK_MISCONFIG,
  EPT_ACCESS_READ, EPT_ACCESS_WRITE, EPT_ACCESS_FETCH,
} from './vmx/ept';
export type { EptpFields, EptWalkConfig } from './vmx/ept';
export { PageTablePool } from '@kvmts/kvm-core';
export type { PageTableMemory } from '@kvmts/kvm-core';
export {
  ioBitmapHit, ioInstructionExits, msrAccessExits, setMsrBitmapIntercept, setIoBitmapIntercept, crReadValue, movToCrExits,
  crWriteResult, cltsExits, lmswExits, movToCr3Exits, movFromCr3Exits, exceptionExits, VMX_BITMAP_SIZE,
} from './vmx/bitmaps';
export { supportedCpuid, kvmParavirtCpuidEntries, intelCpuidSyscallVisible, INTEL_VENDOR_STRING } from './vmx/cpuid';
export type { SupportedCpuidOptions } from './vmx/cpuid';
export { CPUID_FEATURE_BITS, featureMask, supportedCpuidOptionsSchema, parseCpuidOptions } from '@kvmts/kvm-core';
export type { CpuidFeature, CpuidBit } from '@kvmts/kvm-core';
export { VMCALL_BYTES, VMMCALL_BYTES, vmxPatchHypercall } from './vmx/hypercall';
export {
  vmxRecordExit, vmxRecordGuestLinearAddress, vmxRecordEptViolation, vmxRecordEptMisconfig, vmxRecordIoExit,
  encodeInsOutsInstructionInfo, vmxRecordExceptionExit, vmxRecordIdtVectoring, vmxRecordEntryFailure,
} from './vmx/vm-exit';
export {
  VMX_INSN, VMX_INSN_EXECUTE, VMX_INSN_EXIT, VMX_INSN_UD, vmxInstructionOutcome, vmxInstructionExitReason,
  vmxExternalInterruptExits, vmxNmiExits, vmxInterruptWindowOpen, vmxNmiWindowOpen,
} from './vmx/instruction-exits';
export { vmxSegmentAccessRights, vmxWriteGuestSegment, vmxReadGuestSegment } from './vmx/segments';
export type { VmxSegmentName } from './vmx/segments';
export { vmxVmEntry } from './vmx/vm-entry';
export type { VmxEntryOutcome, VmxEntryHooks } from './vmx/vm-entry';

// The driver (vmx.c) and the silicon in action (VM entry/exit on the engine).
export { createVmxOps, dumpVmcs, VcpuVmx, EPT_TDP_FORMAT, VMX_PASSTHROUGH_MSRS } from './vmx';
export type { VmxDriverParams, KvmVmx } from './vmx';
export { VmxSilicon, VMX_ENTRY_OK, VMX_ENTRY_VMFAIL, VMX_ENTRY_FAILED, VMX_SEG_NAMES } from './vmx-silicon';
export { vmxSupportedCpuid, vmxMsrIndexList, VMX_ENGINE_FEATURES } from './module';
