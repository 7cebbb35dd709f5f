/**
 * The CPUID table kvm-amd reports (KVM_GET_SUPPORTED_CPUID): AuthenticAMD with AMD's leaf
 * layout: the vendor string repeated in 0x80000000, the family/model signature and the
 * leaf-1 EDX feature mirror in 0x80000001 (SYSCALL visible in every mode), L1/L2/L3 cache
 * descriptions in 0x80000005/6 and no Intel leaf 2/4; plus KVM's paravirt leaves.
 */
import {
  AMD_LEAF1_EDX_MIRROR_MASK, cpuidBrandEntries, cpuidEntry as entry, cpuidString4, cpuidXsaveEntries, featureMask,
  KVM_CPUID_FLAG_SIGNIFCANT_INDEX, kvmParavirtCpuidEntries, parseCpuidOptions, type CpuidFeature, type KvmCpuidEntry2,
  type SupportedCpuidOptions,
} from '@kvmts/kvm-core';

export { kvmParavirtCpuidEntries };
export const AMD_VENDOR_STRING = 'AuthenticAMD';

export type { SupportedCpuidOptions };

export function supportedCpuid(options: SupportedCpuidOptions): KvmCpuidEntry2[] {
  options = parseCpuidOptions(options);
  const features = options.features;
  const has = (f: CpuidFeature): boolean => features.includes(f);
  const fm = (leaf: number, reg: 'eax' | 'ebx' | 'ecx' | 'edx', index = 0): number => featureMask(features, leaf, reg, index);
  const v = AMD_VENDOR_STRING;
  const sig = options.signature ?? 0x00830f10; // family 17h model 31h stepping 0
  const leaf1Edx = fm(1, 'edx');
  const out: KvmCpuidEntry2[] = [
    entry(0, 0, 0xd, cpuidString4(v, 0), cpuidString4(v, 8), cpuidString4(v, 4)),
    entry(1, 0, sig, (8 << 8) | (1 << 16), fm(1, 'ecx'), leaf1Edx),
    entry(6, 0, fm(6, 'eax'), 0, 0, 0),
    entry(7, 0, 0, fm(7, 'ebx'), fm(7, 'ecx'), fm(7, 'edx'), KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
  ];
  if (has('xsave')) out.push(...cpuidXsaveEntries(has('avx')));
  out.push(...kvmParavirtCpuidEntries(options.kvmFeatures, options.kvmHints));
  out.push(
    // AMD repeats the vendor string in 0x80000000
    entry(0x80000000, 0, 0x80000008, cpuidString4(v, 0), cpuidString4(v, 8), cpuidString4(v, 4)),
    // 0x80000001: signature again; EDX mirrors leaf 1 EDX bits 0-9, 12-17, 23, 24
    entry(0x80000001, 0, sig, 0, fm(0x80000001, 'ecx'), (fm(0x80000001, 'edx') | (leaf1Edx & AMD_LEAF1_EDX_MIRROR_MASK)) >>> 0),
  );
  out.push(
    ...cpuidBrandEntries(options.brand ?? 'AMD EPYC Processor (kvmts virtual)'),
    // L1 TLBs; L1d and L1i: 32 KiB, 8-way, 1 line per tag, 64-byte lines
    entry(0x80000005, 0, 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140),
    // L2: 512 KiB, 8-way (encoding 6), 64-byte lines; L3: 16 MiB (32 x 512 KiB), 16-way (encoding 8)
    entry(0x80000006, 0, 0, 0, (512 << 16) | (6 << 12) | 64, (32 << 18) | (8 << 12) | 64),
    entry(0x80000007, 0, 0, 0, 0, fm(0x80000007, 'edx')),
    entry(0x80000008, 0, (options.physAddrBits ?? 48) | ((options.virtAddrBits ?? 48) << 8), 0, 0, 0),
  );
  return out;
}
