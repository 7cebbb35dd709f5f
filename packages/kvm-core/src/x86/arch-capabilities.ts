/**
 * IA32_ARCH_CAPABILITIES (MSR 10AH, CPUID.(EAX=7,ECX=0):EDX[29]): the CPU's "not affected"
 * bits for the speculative-execution bugs. KVM always emulates it (kvm_get_arch_capabilities,
 * arch/x86/kvm/x86.c) and reports it as a feature MSR on the system fd
 * (KVM_GET_MSR_FEATURE_INDEX_LIST / KVM_GET_MSRS) for the VMM to copy into each vCPU.
 *
 * The silicon here never speculates: no Meltdown (RDCL), L1TF, MDS, TAA, MMIO stale data,
 * GDS, RFDS, BHI or ITS. So the value is what KVM computes on a host with none of those
 * bugs: every *_NO bit KVM passes through, plus PSCHANGE_MC_NO and SKIP_VMENTRY_L1DFLUSH
 * (no L1D flush is needed on entry), and IBRS_ALL: the engine has IA32_SPEC_CTRL, and with
 * no speculation its IBRS is in force whether set or not ("enhanced IBRS"), so a guest
 * needs no retpolines. Nothing that would claim a feature the silicon lacks: not
 * TSX_CTRL, not FB_CLEAR; and TAA_NO is cleared as KVM does when the host has no RTM.
 * Bit numbers: SDM vol. 4 table 2-2 and Linux's msr-index.h.
 */
export const MSR_IA32_ARCH_CAPABILITIES = 0x10a;

export const ARCH_CAP_RDCL_NO = 1n << 0n;
export const ARCH_CAP_IBRS_ALL = 1n << 1n;
export const ARCH_CAP_RSBA = 1n << 2n;
export const ARCH_CAP_SKIP_VMENTRY_L1DFLUSH = 1n << 3n;
export const ARCH_CAP_SSB_NO = 1n << 4n;
export const ARCH_CAP_MDS_NO = 1n << 5n;
export const ARCH_CAP_PSCHANGE_MC_NO = 1n << 6n;
export const ARCH_CAP_TSX_CTRL_MSR = 1n << 7n;
export const ARCH_CAP_TAA_NO = 1n << 8n;
export const ARCH_CAP_SBDR_SSDP_NO = 1n << 13n;
export const ARCH_CAP_FBSDP_NO = 1n << 14n;
export const ARCH_CAP_PSDP_NO = 1n << 15n;
export const ARCH_CAP_FB_CLEAR = 1n << 17n;
export const ARCH_CAP_RRSBA = 1n << 19n;
export const ARCH_CAP_BHI_NO = 1n << 20n;
export const ARCH_CAP_PBRSB_NO = 1n << 24n;
export const ARCH_CAP_GDS_NO = 1n << 26n;
export const ARCH_CAP_RFDS_NO = 1n << 27n;
export const ARCH_CAP_ITS_NO = 1n << 62n;

/** The bits KVM lets through from the host (KVM_SUPPORTED_ARCH_CAP). */
export const KVM_SUPPORTED_ARCH_CAP = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA |
  ARCH_CAP_SKIP_VMENTRY_L1DFLUSH | ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO |
  ARCH_CAP_TSX_CTRL_MSR | ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO |
  ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO | ARCH_CAP_RFDS_NO |
  ARCH_CAP_BHI_NO | ARCH_CAP_ITS_NO;

/** The host's own IA32_ARCH_CAPABILITIES: not affected by any of the bugs it enumerates. */
const HOST_ARCH_CAPABILITIES = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_SBDR_SSDP_NO |
  ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO | ARCH_CAP_RFDS_NO | ARCH_CAP_BHI_NO |
  ARCH_CAP_ITS_NO;

/** kvm_get_arch_capabilities on this host. */
export function kvmGetArchCapabilities(): bigint {
  let data = HOST_ARCH_CAPABILITIES & KVM_SUPPORTED_ARCH_CAP;
  // ITLB multihit cannot happen: KVM reports PSCHANGE_MC_NO whatever the host says.
  data |= ARCH_CAP_PSCHANGE_MC_NO;
  // The host needs no L1D flush on VM entry (not affected by L1TF), so a nested one can skip it.
  data |= ARCH_CAP_SKIP_VMENTRY_L1DFLUSH;
  // No X86_BUG_CPU_MELTDOWN / SPEC_STORE_BYPASS / MDS / RFDS / ITS / GDS on the host.
  data |= ARCH_CAP_RDCL_NO | ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_RFDS_NO | ARCH_CAP_ITS_NO | ARCH_CAP_GDS_NO;
  // No RTM: the guest knows there is no TAA without TAA_NO (KVM clears it).
  data &= ~ARCH_CAP_TAA_NO;
  return data;
}

/** The feature MSRs of the system fd (KVM_GET_MSR_FEATURE_INDEX_LIST). */
export const KVM_FEATURE_MSRS: readonly number[] = [MSR_IA32_ARCH_CAPABILITIES];

/** KVM_GET_MSRS on the system fd (kvm_get_msr_feature): the value, or undefined for an unknown index. */
export function kvmGetMsrFeature(index: number): bigint | undefined {
  switch (index >>> 0) {
    case MSR_IA32_ARCH_CAPABILITIES: return kvmGetArchCapabilities();
    default: return undefined;
  }
}
