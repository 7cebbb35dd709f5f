export { kvmAmd, kvmAmdParamsSchema } from './module';
export type { KvmAmdParams } from './module';
import { kvmAmd } from './module';
export default kvmAmd;

// SVM silicon model (AMD APM vol. 2 ch. 15): see src/svm/
export {
  Vmcb, VMCB_SIZE, VMCB_SAVE_AREA_OFFSET, VMCB_CONTROL, VMCB_SAVE, VMCB_CLEAN, INTERCEPT, VMCB_SEG_SELECTOR, VMCB_SEG_ATTRIB,
  VMCB_SEG_LIMIT, VMCB_SEG_BASE, SVM_SELECTOR_TYPE_MASK, SVM_SELECTOR_S_MASK, SVM_SELECTOR_DPL_SHIFT, SVM_SELECTOR_P_MASK,
  SVM_SELECTOR_AVL_MASK, SVM_SELECTOR_L_MASK, SVM_SELECTOR_DB_MASK, SVM_SELECTOR_G_MASK, V_TPR_MASK, V_IRQ_MASK, V_GIF_MASK,
  V_INTR_PRIO_SHIFT, V_INTR_PRIO_MASK, V_IGN_TPR_MASK, V_INTR_MASKING_MASK, AVIC_ENABLE_MASK, SVM_INTERRUPT_SHADOW_MASK,
  SVM_GUEST_INTERRUPT_MASK, SVM_NESTED_CTL_NP_ENABLE, LBR_CTL_ENABLE_MASK, TLB_CONTROL_DO_NOTHING, TLB_CONTROL_FLUSH_ALL_ASID,
  TLB_CONTROL_FLUSH_ASID, TLB_CONTROL_FLUSH_ASID_LOCAL,
} from './svm/vmcb';
export type { VmcbSegment } from './svm/vmcb';
export { SVM_EXIT, svmExitName, svmExitReadCr, svmExitWriteCr, svmExitReadDr, svmExitWriteDr, svmExitException } from './svm/exit-codes';
export type { SvmExitName } from './svm/exit-codes';
export * as svmExitInfo from './svm/exit-info';
export {
  encodeSvmEvent, decodeSvmEvent, checkSvmEventInjection, encodeIoioExitInfo1, decodeIoioExitInfo1, encodeNpfExitInfo1,
  decodeNpfExitInfo1, encodeCrDrExitInfo1,
} from './svm/exit-info';
export type { SvmEvent, IoioInfo, NpfErrorCode } from './svm/exit-info';
export { vmrunConsistencyChecks, svmVmrun, recordVmexit, defaultSvmRunConfig, SVM_CR4_SUPPORTED, SVM_EFER_SUPPORTED, EFER_SVME } from './svm/vmrun-checks';
export type { SvmRunConfig, VmrunCheckResult } from './svm/vmrun-checks';
export { nptWalk, NptWalkResult, NptBuilder, NPT_WALK_OK, NPT_WALK_FAULT, NPT_ACCESS_READ, NPT_ACCESS_WRITE, NPT_ACCESS_FETCH } from './svm/npt';
export type { NptWalkConfig, NptPerms } from './svm/npt';
export { PageTablePool } from '@kvmts/kvm-core';
export type { PageTableMemory } from '@kvmts/kvm-core';
export { IOPM_SIZE, iopmIntercepts, setIopmIntercept, ioioExits } from './svm/iopm';
export { MSRPM_SIZE, msrpmBitIndex, msrpmIntercepts, msrExits, setMsrpmIntercept } from './svm/msrpm';
export {
  SVM_CPUID_FUNC, SVM_REVISION, SVM_NUM_ASIDS, SVM_FEATURE_NPT, SVM_FEATURE_LBRV, SVM_FEATURE_SVML, SVM_FEATURE_NRIPS,
  SVM_FEATURE_TSCRATEMSR, SVM_FEATURE_VMCBCLEAN, SVM_FEATURE_FLUSHBYASID, SVM_FEATURE_DECODEASSISTS, SVM_FEATURE_PAUSEFILTER,
  SVM_FEATURE_PFTHRESHOLD, SVM_FEATURE_AVIC, svmFeatureLeaf,
} from './svm/svm-features';
export type { SvmFeatureLeaf } from './svm/svm-features';
export { SvmAsidTlb } from './svm/asid-tlb';
export { supportedCpuid, kvmParavirtCpuidEntries, AMD_VENDOR_STRING } from './svm/cpuid';
export type { SupportedCpuidOptions } from './svm/cpuid';
export { CPUID_FEATURE_BITS, featureMask, supportedCpuidOptionsSchema, parseCpuidOptions } from '@kvmts/kvm-core';
export type { CpuidFeature, CpuidBit } from '@kvmts/kvm-core';
export { VMMCALL_BYTES, VMCALL_BYTES, svmPatchHypercall } from './svm/hypercall';
export {
  SVM_INTERCEPTS, svmInterceptExitCode, svmExceptionExitCode, svmCrExitCode, svmDrExitCode, svmCr0WriteExitCode,
} from './svm/instruction-intercepts';
export type { SvmInterceptName } from './svm/instruction-intercepts';
export { svmSegmentAttrib, svmWriteSegment, svmReadSegment } from './svm/segments';

// The driver (svm.c) and the silicon in action (VMRUN/#VMEXIT on the engine).
export { createSvmOps, dumpVmcb, VcpuSvm, NPT_TDP_FORMAT, SVM_PASSTHROUGH_MSRS } from './svm';
export type { SvmDriverParams, KvmSvm } from './svm';
export { SvmSilicon, SVM_RUN_OK, SVM_RUN_INVALID, SVM_SEG_OFFSETS, svmAttribToAr, arToSvmAttrib } from './svm-silicon';
export { svmSupportedCpuid, svmMsrIndexList, SVM_ENGINE_FEATURES } from './module';
