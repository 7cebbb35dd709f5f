/**
 * CPUID feature bits by their Linux names (arch/x86/include/asm/cpufeatures.h): where each
 * lives (leaf, subleaf, register, bit). The engine lists the features it implements as a
 * typed parameter; the vendor's supportedCpuid() reports exactly those.
 */
import { KvmError } from '../errors';
import { z } from 'zod';

export type CpuidRegister = 'eax' | 'ebx' | 'ecx' | 'edx';

export interface CpuidBit {
  leaf: number;
  index: number;
  reg: CpuidRegister;
  bit: number;
}

const b = (leaf: number, reg: CpuidRegister, bit: number, index = 0): CpuidBit => ({ leaf, index, reg, bit });

export const CPUID_FEATURE_BITS = {
  // leaf 1 EDX
  fpu: b(1, 'edx', 0), vme: b(1, 'edx', 1), de: b(1, 'edx', 2), pse: b(1, 'edx', 3), tsc: b(1, 'edx', 4),
  msr: b(1, 'edx', 5), pae: b(1, 'edx', 6), mce: b(1, 'edx', 7), cx8: b(1, 'edx', 8), apic: b(1, 'edx', 9),
  sep: b(1, 'edx', 11), mtrr: b(1, 'edx', 12), pge: b(1, 'edx', 13), mca: b(1, 'edx', 14), cmov: b(1, 'edx', 15),
  pat: b(1, 'edx', 16), pse36: b(1, 'edx', 17), clflush: b(1, 'edx', 19), mmx: b(1, 'edx', 23), fxsr: b(1, 'edx', 24),
  sse: b(1, 'edx', 25), sse2: b(1, 'edx', 26), ht: b(1, 'edx', 28),
  // leaf 1 ECX
  sse3: b(1, 'ecx', 0), pclmulqdq: b(1, 'ecx', 1), ssse3: b(1, 'ecx', 9), fma: b(1, 'ecx', 12), cx16: b(1, 'ecx', 13),
  pcid: b(1, 'ecx', 17), sse4_1: b(1, 'ecx', 19), sse4_2: b(1, 'ecx', 20), x2apic: b(1, 'ecx', 21), movbe: b(1, 'ecx', 22),
  popcnt: b(1, 'ecx', 23), tsc_deadline_timer: b(1, 'ecx', 24), aes: b(1, 'ecx', 25), xsave: b(1, 'ecx', 26),
  osxsave: b(1, 'ecx', 27), avx: b(1, 'ecx', 28), f16c: b(1, 'ecx', 29), rdrand: b(1, 'ecx', 30), hypervisor: b(1, 'ecx', 31),
  // leaf 6 EAX
  arat: b(6, 'eax', 2),
  // leaf 7.0 EBX / ECX / EDX
  fsgsbase: b(7, 'ebx', 0), tsc_adjust: b(7, 'ebx', 1), bmi1: b(7, 'ebx', 3), avx2: b(7, 'ebx', 5), smep: b(7, 'ebx', 7), bmi2: b(7, 'ebx', 8),
  erms: b(7, 'ebx', 9), invpcid: b(7, 'ebx', 10), adx: b(7, 'ebx', 19), smap: b(7, 'ebx', 20), clflushopt: b(7, 'ebx', 23),
  sha_ni: b(7, 'ebx', 29), umip: b(7, 'ecx', 2), rdpid: b(7, 'ecx', 22), fsrm: b(7, 'edx', 4),
  spec_ctrl: b(7, 'edx', 26), arch_capabilities: b(7, 'edx', 29),
  // leaf 0x80000001 EDX / ECX
  syscall: b(0x80000001, 'edx', 11), nx: b(0x80000001, 'edx', 20), mmxext: b(0x80000001, 'edx', 22),
  fxsr_opt: b(0x80000001, 'edx', 25), pdpe1gb: b(0x80000001, 'edx', 26), rdtscp: b(0x80000001, 'edx', 27),
  lm: b(0x80000001, 'edx', 29),
  lahf_lm: b(0x80000001, 'ecx', 0), cmp_legacy: b(0x80000001, 'ecx', 1), svm: b(0x80000001, 'ecx', 2),
  cr8_legacy: b(0x80000001, 'ecx', 4), abm: b(0x80000001, 'ecx', 5), sse4a: b(0x80000001, 'ecx', 6),
  misalignsse: b(0x80000001, 'ecx', 7), '3dnowprefetch': b(0x80000001, 'ecx', 8),
  // leaf 0x80000007 EDX
  constant_tsc: b(0x80000007, 'edx', 8),
} as const satisfies Record<string, CpuidBit>;

export type CpuidFeature = keyof typeof CPUID_FEATURE_BITS;

/**
 * What the engine implements (kvm_set_cpu_caps filters the host's features the same
 * way): both vendors report these, kvm-intel without the AMD-only ones.
 */
export const X86_ENGINE_FEATURES: readonly CpuidFeature[] = [
  'fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'mca', 'cmov', 'pat',
  'pse36', 'clflush', 'mmx', 'fxsr', 'sse', 'sse2', 'cx16', 'movbe', 'popcnt', 'xsave', 'x2apic', 'tsc_deadline_timer',
  'hypervisor', 'arat', 'fsgsbase', 'smep', 'smap', 'umip', 'rdpid', 'syscall', 'nx', 'pdpe1gb', 'rdtscp', 'lm',
  'lahf_lm', 'abm', 'constant_tsc',
  // SSE3..SSE4.2 (the fpu-sse unit), BMI1/BMI2 (engine/bmi.ts, VEX) and ADX: each checked
  // against the host CPU by the ex-sse and ex-misc exercisers.
  'sse3', 'ssse3', 'sse4_1', 'sse4_2', 'bmi1', 'bmi2', 'adx',
  // IA32_TSC_ADJUST is kvm-core's (x86/tsc.ts), as KVM emulates it on any host.
  'tsc_adjust',
  // IA32_ARCH_CAPABILITIES too (x86/arch-capabilities.ts): KVM always emulates it.
  'arch_capabilities',
  // Fast strings: REP MOVSB/STOSB run a page at a time (string-io.ts repBulk), so the
  // guest's ERMS/FSRM paths (Linux's clear_page_erms, memcpy/memset with rep movsb/stosb)
  // are the fast ones here too. Architecturally they are hints; the semantics are unchanged.
  'erms', 'fsrm',
  // IA32_SPEC_CTRL (IBRS) and IA32_PRED_CMD (IBPB), engine/msr.ts; with ARCH_CAPABILITIES'
  // IBRS_ALL a guest runs in enhanced-IBRS mode instead of compiling every indirect branch
  // to a retpoline.
  'spec_ctrl',
];

/** AMD-only bits: Intel CPUs report them 0. */
export const AMD_ONLY_FEATURES: readonly CpuidFeature[] = [
  'mmxext', 'fxsr_opt', 'cmp_legacy', 'svm', 'cr8_legacy', 'sse4a', 'misalignsse',
];

/**
 * Leaf 1 EDX bits that AMD mirrors into 0x80000001 EDX (AMD APM vol. 3, CPUID Fn8000_0001_EDX):
 * bits 0-9, 12-17, 23, 24. Intel leaves them 0.
 */
export const AMD_LEAF1_EDX_MIRROR_MASK = 0x000003ff | 0x0003f000 | (1 << 23) | (1 << 24);

/** Bit mask of the requested features in one (leaf, index, register). */
export function featureMask(features: readonly CpuidFeature[], leaf: number, reg: CpuidRegister, index = 0): number {
  let m = 0;
  for (const f of features) {
    const d = CPUID_FEATURE_BITS[f];
    if (d.leaf === leaf && d.index === index && d.reg === reg) m |= 1 << d.bit;
  }
  return m >>> 0;
}

/** Packs up to 4 ASCII characters little-endian into a register, as CPUID strings are. */
export function cpuidString4(s: string, offset = 0): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= (s.charCodeAt(offset + i) & 0xff || 0) << (8 * i);
  return v >>> 0;
}

const FEATURE_NAMES = Object.keys(CPUID_FEATURE_BITS) as [CpuidFeature, ...CpuidFeature[]];
const u32 = z.number().int().min(0).max(0xffffffff);

/** What a vendor's supportedCpuid() takes (checked by supportedCpuidOptionsSchema). */
export interface SupportedCpuidOptions {
  /** The features the engine implements. */
  features: readonly CpuidFeature[];
  /** KVM_CPUID_FEATURES eax (KVM_FEATURE_* bits), filled by kvm-core's paravirt code. */
  kvmFeatures?: number;
  /** KVM_CPUID_FEATURES edx (KVM_HINTS_*). */
  kvmHints?: number;
  /** Leaf 1 eax (and 0x80000001 eax on AMD): family/model/stepping; each vendor has its default. */
  signature?: number;
  physAddrBits?: number;
  virtAddrBits?: number;
  brand?: string;
}

/** The options of supportedCpuid(), validated at the API boundary. */
export const supportedCpuidOptionsSchema = z
  .object({
    features: z.array(z.enum(FEATURE_NAMES)),
    kvmFeatures: u32.optional(),
    kvmHints: u32.optional(),
    signature: u32.optional(),
    physAddrBits: z.number().int().min(32).max(52).optional(),
    virtAddrBits: z.union([z.literal(48), z.literal(57)]).optional(),
    brand: z.string().max(47).regex(/^[\x20-\x7e]*$/, 'printable ASCII').optional(),
  })
  .strict();

/** Parses with zod; a failure is KvmError(EINVAL) naming the field (e.g. "features.3"). */
export function parseCpuidOptions(value: unknown): z.infer<typeof supportedCpuidOptionsSchema> {
  const r = supportedCpuidOptionsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new KvmError('EINVAL', `${issue.path.join('.') || 'options'}: ${issue.message}`);
  }
  return r.data;
}
