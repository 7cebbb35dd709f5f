/**
 * The kvm-amd module object: `host.insmod(kvmAmd, params)`. init is svm_init: build the
 * ops table for the parameters and register it with kvm-core (kvm_x86_vendor_init; a
 * second vendor gets EEXIST). exit is kvm_x86_vendor_exit.
 */
import {
  defineModule, KVM_DEFAULT_TSC_KHZ, KVM_SUPPORTED_PV_FEATURES, kvmParavirtCpuidLeaves, kvmX86VendorExit,
  kvmX86VendorInit, paramBool, paramInt, X86_ENGINE_FEATURES, type KvmCpuidEntry2,
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

/** What the engine implements (kvm-core's X86_ENGINE_FEATURES), the features this module reports. */
export const SVM_ENGINE_FEATURES: readonly CpuidFeature[] = X86_ENGINE_FEATURES;

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
