/**
 * The CPUID table kvm-intel reports (KVM_GET_SUPPORTED_CPUID): GenuineIntel with Intel's
 * leaf layout (leaf 2 + leaf 4 cache topology, no AMD extended mirror bits, SYSCALL in
 * 0x80000001 visible only in 64-bit mode), plus KVM's paravirt leaves at 0x40000000.
 */
import { KVM_CPUID_FLAG_SIGNIFCANT_INDEX, type KvmCpuidEntry2 } from '@kvmts/kvm-core';
import { AMD_ONLY_FEATURES, cpuidString4, featureMask, parseCpuidOptions, type CpuidFeature } from '@kvmts/kvm-core';

export const INTEL_VENDOR_STRING = 'GenuineIntel';
export const KVM_CPUID_SIGNATURE = 0x40000000;
export const KVM_CPUID_FEATURES = 0x40000001;
export const KVM_SIGNATURE = 'KVMKVMKVM\0\0\0';

export interface SupportedCpuidOptions {
  /** The features the engine implements. */
  features: readonly CpuidFeature[];
  /** KVM_CPUID_FEATURES eax (KVM_FEATURE_* bits), filled by kvm-core's paravirt code. */
  kvmFeatures?: number;
  /** KVM_CPUID_FEATURES edx (KVM_HINTS_*). */
  kvmHints?: number;
  /** Leaf 1 eax: family/model/stepping. Default family 6 model 0x55 stepping 4. */
  signature?: number;
  physAddrBits?: number;
  virtAddrBits?: number;
  brand?: string;
}

/** XCR0 components: x87 and SSE always with XSAVE, AVX when the engine has it. */
const XFEATURE_MASK_FP = 1;
const XFEATURE_MASK_SSE = 2;
const XFEATURE_MASK_YMM = 4;

function entry(fn: number, index: number, eax: number, ebx: number, ecx: number, edx: number, flags = 0): KvmCpuidEntry2 {
  return { function: fn >>> 0, index, flags, eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0 };
}

function brandEntries(brand: string): KvmCpuidEntry2[] {
  const s = brand.padEnd(48, '\0').slice(0, 47) + '\0';
  const out: KvmCpuidEntry2[] = [];
  for (let i = 0; i < 3; i++) {
    const o = i * 16;
    out.push(entry(0x80000002 + i, 0, cpuidString4(s, o), cpuidString4(s, o + 4), cpuidString4(s, o + 8), cpuidString4(s, o + 12)));
  }
  return out;
}

/** The two KVM paravirt leaves (KVM-FACTS §10). */
export function kvmParavirtCpuidEntries(kvmFeatures = 0, kvmHints = 0): KvmCpuidEntry2[] {
  return [
    entry(KVM_CPUID_SIGNATURE, 0, KVM_CPUID_FEATURES, cpuidString4(KVM_SIGNATURE, 0), cpuidString4(KVM_SIGNATURE, 4), cpuidString4(KVM_SIGNATURE, 8)),
    entry(KVM_CPUID_FEATURES, 0, kvmFeatures, 0, 0, kvmHints),
  ];
}

/** XSAVE area size (standard format) for the components in `xcr0`. */
function xsaveSize(xcr0: number): number {
  return xcr0 & XFEATURE_MASK_YMM ? 832 : 576;
}

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
    // leaf 1: signature; ebx: CLFLUSH line size 8 qwords, 1 logical processor (APIC id filled per vCPU)
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
  if (has('xsave')) {
    const xcr0 = XFEATURE_MASK_FP | XFEATURE_MASK_SSE | (has('avx') ? XFEATURE_MASK_YMM : 0);
    out.push(entry(0xd, 0, xcr0, xsaveSize(xcr0), xsaveSize(xcr0), 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
    out.push(entry(0xd, 1, 0, 0, 0, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
    if (xcr0 & XFEATURE_MASK_YMM) out.push(entry(0xd, 2, 256, 576, 0, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
  }
  out.push(...kvmParavirtCpuidEntries(options.kvmFeatures, options.kvmHints));
  out.push(
    // Intel: 0x80000000 ebx/ecx/edx are reserved (0), unlike AMD's vendor string
    entry(0x80000000, 0, 0x80000008, 0, 0, 0),
    entry(0x80000001, 0, 0, 0, fm(0x80000001, 'ecx'), fm(0x80000001, 'edx')),
    ...brandEntries(options.brand ?? 'Intel(R) Xeon(R) CPU kvmts virtual'),
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
