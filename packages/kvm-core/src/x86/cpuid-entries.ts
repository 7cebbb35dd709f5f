/**
 * Building blocks of KVM_GET_SUPPORTED_CPUID that do not depend on the vendor (the
 * generic part of arch/x86/kvm/cpuid.c's __do_cpuid_func): one kvm_cpuid_entry2, the
 * processor brand string leaves, the XSAVE leaf 0xD for the components the engine
 * saves. The vendors lay out the rest (leaf 2/4 or AMD's 0x8000000x cache leaves).
 */
import { KVM_CPUID_FLAG_SIGNIFCANT_INDEX, type KvmCpuidEntry2 } from '../uapi/structs';
import { cpuidString4 } from './cpuid-features';

/** XCR0 components: x87 and SSE always with XSAVE, AVX (YMM) when the engine has it. */
export const XFEATURE_MASK_FP = 1;
export const XFEATURE_MASK_SSE = 2;
export const XFEATURE_MASK_YMM = 4;

/** One kvm_cpuid_entry2, every register as an unsigned 32-bit value. */
export function cpuidEntry(fn: number, index: number, eax: number, ebx: number, ecx: number, edx: number, flags = 0): KvmCpuidEntry2 {
  return { function: fn >>> 0, index, flags, eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0 };
}

/** Leaves 0x80000002..4: the brand string, 47 characters at most and NUL-terminated. */
export function cpuidBrandEntries(brand: string): KvmCpuidEntry2[] {
  const s = brand.padEnd(48, '\0').slice(0, 47) + '\0';
  const out: KvmCpuidEntry2[] = [];
  for (let i = 0; i < 3; i++) {
    const o = i * 16;
    out.push(cpuidEntry(0x80000002 + i, 0, cpuidString4(s, o), cpuidString4(s, o + 4), cpuidString4(s, o + 8), cpuidString4(s, o + 12)));
  }
  return out;
}

/** XSAVE area size (standard format) for the components in `xcr0`. */
export function xsaveSize(xcr0: number): number {
  return xcr0 & XFEATURE_MASK_YMM ? 832 : 576;
}

/** Leaf 0xD: the XCR0 components and XSAVE sizes (subleaf 0), subleaf 1, and the YMM state's place (subleaf 2). */
export function cpuidXsaveEntries(avx: boolean): KvmCpuidEntry2[] {
  const xcr0 = XFEATURE_MASK_FP | XFEATURE_MASK_SSE | (avx ? XFEATURE_MASK_YMM : 0);
  const out = [
    cpuidEntry(0xd, 0, xcr0, xsaveSize(xcr0), xsaveSize(xcr0), 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
    cpuidEntry(0xd, 1, 0, 0, 0, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
  ];
  if (xcr0 & XFEATURE_MASK_YMM) out.push(cpuidEntry(0xd, 2, 256, 576, 0, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
  return out;
}
