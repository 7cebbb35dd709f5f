/**
 * The CPUID table kvm-intel reports (KVM_GET_SUPPORTED_CPUID): GenuineIntel with Intel's
 * leaf layout (leaf 2 + leaf 4 cache topology, no AMD extended mirror bits, SYSCALL in
 * 0x80000001 visible only in 64-bit mode), plus KVM's paravirt leaves at 0x40000000.
 */
import {
  AMD_ONLY_FEATURES, cpuidBrandEntries, cpuidEntry as entry, cpuidString4, cpuidXsaveEntries, featureMask,
  KVM_CPUID_FLAG_SIGNIFCANT_INDEX, kvmParavirtCpuidEntries, parseCpuidOptions, type CpuidFeature, type KvmCpuidEntry2,
  type SupportedCpuidOptions,
} from '@kvmts/kvm-core';

export { kvmParavirtCpuidEntries };
export const INTEL_VENDOR_STRING = 'GenuineIntel';

export type { SupportedCpuidOptions };

export function supportedCpuid(options: SupportedCpuidOptions): KvmCpuidEntry2[] {
  options = parseCpuidOptions(options);
  const features = options.features.filter((f) => !AMD_ONLY_FEATURES.includes(f));
  const has = (f: CpuidFeature): boolean => features.includes(f);
  const fm = (leaf: number, reg: 'eax' | 'ebx' | 'ecx' | 'edx', index = 0): number => featureMask(features, leaf, reg, index);
  const v = INTEL_VENDOR_STRING;
  const physBits = options.physAddrBits ?? 46;
  const virtBits = options.virtAddrBits ?? 48;
  const out: KvmCpuidEntry2[] = [
    // leaf 0: max basic leaf, "GenuineIntel" in ebx, edx, ecx
    entry(0, 0, 0xd, cpuidString4(v, 0), cpuidString4(v, 8), cpuidString4(v, 4)),
    // leaf 1: signature (default family 6 model 0x55 stepping 4); ebx: CLFLUSH line size 8 qwords, 1 logical processor (APIC id filled per vCPU)
    entry(1, 0, options.signature ?? 0x00050654, (8 << 8) | (1 << 16), fm(1, 'ecx'), fm(1, 'edx')),
    // leaf 2: one iteration, descriptor FFh = "use leaf 4"
    entry(2, 0, 0x00feff01, 0, 0, 0),
    // leaf 4: deterministic cache parameters: L1d 32K/8w, L1i 32K/8w, L2 1M/16w, L3 16M/16w, 64-byte lines
    entry(4, 0, 0x00000121, 0x01c0003f, 63, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    entry(4, 1, 0x00000122, 0x01c0003f, 63, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    entry(4, 2, 0x00000143, 0x03c0003f, 1023, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    entry(4, 3, 0x00000163, 0x03c0003f, 16383, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    entry(4, 4, 0, 0, 0, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    entry(6, 0, fm(6, 'eax'), 0, 0, 0),
    entry(7, 0, 0, fm(7, 'ebx'), fm(7, 'ecx'), fm(7, 'edx'), KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
  ];
  if (has('xsave')) out.push(...cpuidXsaveEntries(has('avx')));
  out.push(...kvmParavirtCpuidEntries(options.kvmFeatures, options.kvmHints));
  out.push(
    // Intel: 0x80000000 ebx/ecx/edx are reserved (0), unlike AMD's vendor string
    entry(0x80000000, 0, 0x80000008, 0, 0, 0),
    entry(0x80000001, 0, 0, 0, fm(0x80000001, 'ecx'), fm(0x80000001, 'edx')),
    ...cpuidBrandEntries(options.brand ?? 'Intel(R) Xeon(R) CPU kvmts virtual'),
    entry(0x80000005, 0, 0, 0, 0, 0),
    // L2: 1024 KiB, 16-way (encoding 8), 64-byte lines
    entry(0x80000006, 0, 0, 0, (1024 << 16) | (8 << 12) | 64, 0),
    entry(0x80000007, 0, 0, 0, 0, fm(0x80000007, 'edx')),
    entry(0x80000008, 0, physBits | (virtBits << 8), 0, 0, 0),
  );
  return out;
}

/**
 * On Intel, CPUID.80000001H:EDX.SYSCALL reads 1 only when CPUID executes in 64-bit mode
 * (SDM vol. 2A CPUID). The engine applies this to the guest's table at CPUID time.
 */
export function intelCpuidSyscallVisible(in64BitMode: boolean): boolean {
  return in64BitMode;
}
