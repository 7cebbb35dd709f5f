/**
 * What this SVM silicon implements, as the host CPU reports it in CPUID Fn8000_000A
 * (AMD APM vol. 3, "SVM Revision and Feature Identification"): the analogue of VMX's
 * capability MSRs. EAX = SVM revision, EBX = number of ASIDs, EDX = feature bits.
 * The npt module parameter turns NP off, as kvm-amd's svm_hardware_setup does.
 */
export const SVM_CPUID_FUNC = 0x8000000a;
export const SVM_REVISION = 1;
/** Number of ASIDs (NASID); ASID 0 is the host's. */
export const SVM_NUM_ASIDS = 256;

// Fn8000_000A EDX bits (Linux X86_FEATURE_* names in word 15)
export const SVM_FEATURE_NPT = 1 << 0;
export const SVM_FEATURE_LBRV = 1 << 1;
export const SVM_FEATURE_SVML = 1 << 2;
export const SVM_FEATURE_NRIPS = 1 << 3;
export const SVM_FEATURE_TSCRATEMSR = 1 << 4;
export const SVM_FEATURE_VMCBCLEAN = 1 << 5;
export const SVM_FEATURE_FLUSHBYASID = 1 << 6;
export const SVM_FEATURE_DECODEASSISTS = 1 << 7;
export const SVM_FEATURE_PAUSEFILTER = 1 << 10;
export const SVM_FEATURE_PFTHRESHOLD = 1 << 12;
export const SVM_FEATURE_AVIC = 1 << 13;

export interface SvmFeatureLeaf {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/**
 * The features the model implements: nested paging (npt.ts), next-RIP save (NRIP at 0x0C8),
 * VMCB clean bits, flush-by-ASID (TLB_CONTROL 3/7, asid-tlb.ts) and decode assists
 * (CR/DR EXITINFO1, IOIO segment). Not implemented: LBR virtualization, SVM lock, TSC
 * ratio MSR, pause filter, AVIC.
 */
export function svmFeatureLeaf(params: { npt: boolean }): SvmFeatureLeaf {
  return {
    eax: SVM_REVISION,
    ebx: SVM_NUM_ASIDS,
    ecx: 0,
    edx: (params.npt ? SVM_FEATURE_NPT : 0) | SVM_FEATURE_NRIPS | SVM_FEATURE_VMCBCLEAN | SVM_FEATURE_FLUSHBYASID | SVM_FEATURE_DECODEASSISTS,
  };
}
