/**
 * KVM's paravirt interface (arch/x86/include/uapi/asm/kvm_para.h,
 * include/uapi/linux/kvm_para.h): the CPUID leaves at 0x40000000 and the feature bits
 * of what this kvm-core implements. The vendors' CPUID tables include these leaves.
 */
import type { KvmCpuidEntry2 } from '../uapi/structs';
import { cpuidEntry } from './cpuid-entries';
import { kvmTscCpuidLeaves } from './tsc';

export const KVM_CPUID_SIGNATURE = 0x40000000;
export const KVM_CPUID_FEATURES = 0x40000001;
/** The hypervisor timing leaf (TSC and APIC bus kHz). */
export const KVM_CPUID_TIMING = 0x40000010;

export const KVM_FEATURE_CLOCKSOURCE = 0;
export const KVM_FEATURE_NOP_IO_DELAY = 1;
export const KVM_FEATURE_MMU_OP = 2;
export const KVM_FEATURE_CLOCKSOURCE2 = 3;
export const KVM_FEATURE_ASYNC_PF = 4;
export const KVM_FEATURE_STEAL_TIME = 5;
export const KVM_FEATURE_PV_EOI = 6;
export const KVM_FEATURE_PV_UNHALT = 7;
export const KVM_FEATURE_PV_TLB_FLUSH = 9;
export const KVM_FEATURE_ASYNC_PF_VMEXIT = 10;
export const KVM_FEATURE_PV_SEND_IPI = 11;
export const KVM_FEATURE_POLL_CONTROL = 12;
export const KVM_FEATURE_PV_SCHED_YIELD = 13;
export const KVM_FEATURE_ASYNC_PF_INT = 14;
export const KVM_FEATURE_MSI_EXT_DEST_ID = 15;
export const KVM_FEATURE_HC_MAP_GPA_RANGE = 16;
export const KVM_FEATURE_MIGRATION_CONTROL = 17;
export const KVM_FEATURE_CLOCKSOURCE_STABLE_BIT = 24;
export const KVM_HINTS_REALTIME = 0;

/** The features this kvm-core implements (and only those). */
export const KVM_SUPPORTED_PV_FEATURES =
  (1 << KVM_FEATURE_CLOCKSOURCE) | (1 << KVM_FEATURE_NOP_IO_DELAY) | (1 << KVM_FEATURE_CLOCKSOURCE2) |
  (1 << KVM_FEATURE_STEAL_TIME) |
  (1 << KVM_FEATURE_PV_EOI) | (1 << KVM_FEATURE_PV_UNHALT) | (1 << KVM_FEATURE_PV_SEND_IPI) |
  (1 << KVM_FEATURE_PV_SCHED_YIELD) | (1 << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);

/** "KVMKVMKVM\0\0\0" as ebx, ecx, edx. */
export const KVM_SIGNATURE_EBX = 0x4b4d564b;
export const KVM_SIGNATURE_ECX = 0x564b4d56;
export const KVM_SIGNATURE_EDX = 0x0000004d;

/** The paravirt CPUID leaves: signature, features, timing (TSC kHz, APIC bus kHz). */
export function kvmParavirtCpuidLeaves(tscKhz: number): KvmCpuidEntry2[] {
  const timing = kvmTscCpuidLeaves(tscKhz).find((e) => e.function === KVM_CPUID_TIMING)!;
  return [
    { function: KVM_CPUID_SIGNATURE, index: 0, flags: 0, eax: KVM_CPUID_TIMING, ebx: KVM_SIGNATURE_EBX, ecx: KVM_SIGNATURE_ECX, edx: KVM_SIGNATURE_EDX },
    { function: KVM_CPUID_FEATURES, index: 0, flags: 0, eax: KVM_SUPPORTED_PV_FEATURES, ebx: 0, ecx: 0, edx: 0 },
    timing,
  ];
}

/**
 * The two basic paravirt leaves with the given KVM_CPUID_FEATURES eax (KVM_FEATURE_*)
 * and edx (KVM_HINTS_*): what a vendor's supportedCpuid() table starts its 0x4000000x
 * range with (KVM-FACTS §10).
 */
export function kvmParavirtCpuidEntries(kvmFeatures = 0, kvmHints = 0): KvmCpuidEntry2[] {
  return [
    cpuidEntry(KVM_CPUID_SIGNATURE, 0, KVM_CPUID_FEATURES, KVM_SIGNATURE_EBX, KVM_SIGNATURE_ECX, KVM_SIGNATURE_EDX),
    cpuidEntry(KVM_CPUID_FEATURES, 0, kvmFeatures, 0, 0, kvmHints),
  ];
}
