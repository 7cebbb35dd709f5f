/**
 * The kvm-intel module object: `host.insmod(kvmIntel, params)`. init is vmx_init:
 * derive the VMX capabilities from the module parameters (the silicon's capability
 * MSRs), build the ops table and register it with kvm-core (kvm_x86_vendor_init), which
 * refuses a second vendor with EEXIST. exit is kvm_x86_vendor_exit.
 */
import {
  defineModule, KVM_DEFAULT_TSC_KHZ, KVM_SUPPORTED_PV_FEATURES, kvmParavirtCpuidLeaves, kvmTscCpuidLeaves,
  kvmX86VendorExit, kvmX86VendorInit, paramBool, paramInt, type KvmCpuidEntry2,
} from '@kvmts/kvm-core';
import { z } from 'zod';
import { vmxCapabilities } from './vmx/capabilities';
import { supportedCpuid } from './vmx/cpuid';
import type { CpuidFeature } from '@kvmts/kvm-core';
import { createVmxOps, VMX_PASSTHROUGH_MSRS } from './vmx';

export const kvmIntelParamsSchema = z
  .object({
    ept: paramBool(true),
    vpid: paramBool(true),
    unrestricted_guest: paramBool(true),
    enable_apicv: paramBool(false),
    nested: paramInt(0, 0, 0),
  })
  .strict();

export type KvmIntelParams = z.infer<typeof kvmIntelParamsSchema>;

/** What the engine implements (its CPUID answers), as kvm_set_cpu_caps filters the host's. */
export const VMX_ENGINE_FEATURES: readonly CpuidFeature[] = [
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

/** KVM_GET_SUPPORTED_CPUID on Intel: GenuineIntel, KVM's paravirt leaves, TSC frequency leaves. */
export function vmxSupportedCpuid(): KvmCpuidEntry2[] {
  const base = supportedCpuid({ features: VMX_ENGINE_FEATURES, kvmFeatures: KVM_SUPPORTED_PV_FEATURES })
    .filter((e) => e.function < 0x40000000 || e.function >= 0x80000000);
  const tsc = kvmTscCpuidLeaves(KVM_DEFAULT_TSC_KHZ).filter((e) => e.function === 0x15 || e.function === 0x16);
  const leaf0 = base.find((e) => e.function === 0)!;
  leaf0.eax = 0x16;
  const basic = base.filter((e) => e.function < 0x80000000);
  const ext = base.filter((e) => e.function >= 0x80000000);
  return [...basic, ...tsc, ...kvmParavirtCpuidLeaves(KVM_DEFAULT_TSC_KHZ), ...ext];
}

/** KVM_GET_MSR_INDEX_LIST's vendor part (msrs_to_save). */
export function vmxMsrIndexList(): number[] {
  return [0xc0000080, ...VMX_PASSTHROUGH_MSRS, 0x277, 0x1a0];
}

export const kvmIntel = defineModule<KvmIntelParams>({
  name: 'kvm-intel',
  paramsSchema: kvmIntelParamsSchema,
  init(host, params) {
    const caps = vmxCapabilities({ ept: params.ept, vpid: params.vpid, unrestricted_guest: params.unrestricted_guest });
    const ops = createVmxOps({ ept: params.ept, vpid: params.vpid, unrestricted_guest: params.unrestricted_guest }, caps);
    kvmX86VendorInit(host, 'kvm-intel', ops, {
      supportedCpuid: vmxSupportedCpuid,
      msrIndexList: vmxMsrIndexList,
      // KVM_CAP_READONLY_MEM: the MMU maps read-only slots non-writable and emulates writes as MMIO.
      checkExtension: (cap) => (cap === 81 ? 1 : undefined),
    });
  },
  exit(host) {
    kvmX86VendorExit(host);
  },
});
