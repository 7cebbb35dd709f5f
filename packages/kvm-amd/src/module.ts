/**
 * The kvm-amd module object: `host.insmod(kvmAmd, params)`. init is svm_init: build the
 * ops table for the parameters and register it with kvm-core (kvm_x86_vendor_init; a
 * second vendor gets EEXIST). exit is kvm_x86_vendor_exit.
 */
import {
  defineModule, KVM_DEFAULT_TSC_KHZ, KVM_SUPPORTED_PV_FEATURES, kvmParavirtCpuidLeaves, kvmX86VendorExit,
  kvmX86VendorInit, paramBool, paramInt, type KvmCpuidEntry2,
} from '@kvmts/kvm-core';
import { z } from 'zod';
import { supportedCpuid } from './svm/cpuid';
import type { CpuidFeature } from '@kvmts/kvm-core';
import { createSvmOps, SVM_PASSTHROUGH_MSRS } from './svm';

export const kvmAmdParamsSchema = z
  .object({
    npt: paramBool(true),
    nested: paramInt(0, 0, 0),
    avic: paramBool(false),
  })
  .strict();

export type KvmAmdParams = z.infer<typeof kvmAmdParamsSchema>;

/** What the engine implements, in AMD's CPUID terms. */
export const SVM_ENGINE_FEATURES: readonly CpuidFeature[] = [
  'fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'mca', 'cmov', 'pat',
  'pse36', 'clflush', 'mmx', 'fxsr', 'sse', 'sse2', 'cx16', 'movbe', 'popcnt', 'xsave', 'x2apic', 'tsc_deadline_timer',
  'hypervisor', 'arat', 'fsgsbase', 'smep', 'smap', 'umip', 'rdpid', 'syscall', 'nx', 'pdpe1gb', 'rdtscp', 'lm',
  'lahf_lm', 'abm', 'constant_tsc',
  // SSE3..SSE4.2 (the fpu-sse unit), BMI1/BMI2 (engine/bmi.ts, VEX) and ADX: each checked
  // against the host CPU by the ex-sse and ex-misc exercisers.
  'sse3', 'ssse3', 'sse4_1', 'sse4_2', 'bmi1', 'bmi2', 'adx',
  // IA32_TSC_ADJUST is kvm-core's (x86/tsc.ts), as KVM emulates it on any host.
  'tsc_adjust',
];

/** KVM_GET_SUPPORTED_CPUID on AMD: AuthenticAMD, KVM's paravirt leaves (with the timing leaf). */
export function svmSupportedCpuid(): KvmCpuidEntry2[] {
  const base = supportedCpuid({ features: SVM_ENGINE_FEATURES, kvmFeatures: KVM_SUPPORTED_PV_FEATURES })
    .filter((e) => e.function < 0x40000000 || e.function >= 0x80000000);
  const basic = base.filter((e) => e.function < 0x80000000);
  const ext = base.filter((e) => e.function >= 0x80000000);
  return [...basic, ...kvmParavirtCpuidLeaves(KVM_DEFAULT_TSC_KHZ), ...ext];
}

export function svmMsrIndexList(): number[] {
  return [0xc0000080, ...SVM_PASSTHROUGH_MSRS, 0x277];
}

export const kvmAmd = defineModule<KvmAmdParams>({
  name: 'kvm-amd',
  paramsSchema: kvmAmdParamsSchema,
  init(host, params) {
    kvmX86VendorInit(host, 'kvm-amd', createSvmOps({ npt: params.npt }), {
      supportedCpuid: svmSupportedCpuid,
      msrIndexList: svmMsrIndexList,
      checkExtension: (cap) => (cap === 81 ? 1 : undefined),
    });
  },
  exit(host) {
    kvmX86VendorExit(host);
  },
});
