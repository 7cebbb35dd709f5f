import { describe, expect, it } from 'vitest';
import { KVM_CPUID_FLAG_SIGNIFCANT_INDEX, type KvmCpuidEntry2 } from '@kvmts/kvm-core';
import { supportedCpuid, VMCALL_BYTES, VMMCALL_BYTES, vmxPatchHypercall, type CpuidFeature } from '@kvmts/kvm-intel';

const features: CpuidFeature[] = [
  'fpu', 'de', 'pse', 'tsc', 'msr', 'pae', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'cmov', 'pat', 'pse36', 'clflush', 'mmx', 'fxsr',
  'sse', 'sse2', 'sse3', 'cx16', 'x2apic', 'popcnt', 'tsc_deadline_timer', 'xsave', 'hypervisor', 'syscall', 'nx', 'pdpe1gb',
  'rdtscp', 'lm', 'lahf_lm', 'abm', 'smep', 'rdpid', 'mmxext', 'sse4a',
];

function find(t: KvmCpuidEntry2[], fn: number, index = 0): KvmCpuidEntry2 {
  const e = t.find((x) => x.function === fn >>> 0 && x.index === index);
  if (!e) throw new Error(`leaf ${fn.toString(16)}.${index} missing`);
  return e;
}

function str(...regs: number[]): string {
  return regs.map((r) => String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24)).join('');
}

describe('kvm-intel supported CPUID', () => {
  const t = supportedCpuid({ features, kvmFeatures: 0x1000009, kvmHints: 1 });
  it('leaf 0 says GenuineIntel (ebx, edx, ecx)', () => {
    const l0 = find(t, 0);
    expect(str(l0.ebx, l0.edx, l0.ecx)).toBe('GenuineIntel');
    expect(l0.eax).toBe(0xd);
  });
  it('leaf 1 has exactly the requested features plus hypervisor', () => {
    const l1 = find(t, 1);
    const bits = [0, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 15, 16, 17, 19, 23, 24, 25, 26];
    expect(l1.edx).toBe(bits.reduce((m, b) => (m | (1 << b)) >>> 0, 0));
    expect(l1.edx & (1 << 1)).toBe(0); // no vme
    expect(l1.edx & (1 << 25)).toBeTruthy(); // sse
    expect(l1.ecx >>> 31).toBe(1);
    expect(l1.ecx & (1 << 13)).toBeTruthy(); // cx16
    expect(l1.ecx & (1 << 9)).toBe(0); // no ssse3
    expect((l1.ebx >>> 8) & 0xff).toBe(8);
  });
  it('AMD-only bits are dropped and 0x80000001 has no leaf-1 mirror', () => {
    const e = find(t, 0x80000001);
    expect(e.edx).toBe((1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29));
    expect(e.ecx).toBe((1 << 0) | (1 << 5));
    expect(find(t, 0x80000000)).toMatchObject({ eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 });
  });
  it('leaf 4 describes the cache hierarchy; leaf 7 and 0xD', () => {
    const l4 = t.filter((e) => e.function === 4);
    expect(l4.map((e) => e.eax & 0x1f)).toEqual([1, 2, 3, 3, 0]);
    expect(l4.every((e) => e.flags === KVM_CPUID_FLAG_SIGNIFCANT_INDEX)).toBe(true);
    const l2 = l4[2]!;
    const size = (((l2.ebx >>> 22) + 1) * (((l2.ebx >>> 12) & 0x3ff) + 1) * ((l2.ebx & 0xfff) + 1) * (l2.ecx + 1));
    expect(size).toBe(1024 * 1024);
    expect(find(t, 7)).toMatchObject({ ebx: 1 << 7, ecx: 1 << 22 });
    expect(find(t, 0xd)).toMatchObject({ eax: 3, ecx: 576 });
  });
  it('brand string and address sizes', () => {
    const b = [2, 3, 4].map((i) => find(t, 0x80000000 + i));
    expect(str(...b.flatMap((e) => [e.eax, e.ebx, e.ecx, e.edx])).replace(/\0+$/, '')).toBe('Intel(R) Xeon(R) CPU kvmts virtual');
    expect(find(t, 0x80000008).eax).toBe(46 | (48 << 8));
  });
  it('KVM paravirt leaves', () => {
    const s = find(t, 0x40000000);
    expect(s.eax).toBe(0x40000001);
    expect(str(s.ebx, s.ecx, s.edx)).toBe('KVMKVMKVM\0\0\0');
    expect(find(t, 0x40000001)).toMatchObject({ eax: 0x1000009, edx: 1 });
  });
});

describe('hypercall patching', () => {
  it('VMCALL is 0F 01 C1, VMMCALL 0F 01 D9', () => {
    expect(VMCALL_BYTES).toEqual([0x0f, 0x01, 0xc1]);
    expect(VMMCALL_BYTES).toEqual([0x0f, 0x01, 0xd9]);
    const code = new Uint8Array([0x90, 0x0f, 0x01, 0xd9, 0xc3]);
    vmxPatchHypercall(code, 1);
    expect([...code]).toEqual([0x90, 0x0f, 0x01, 0xc1, 0xc3]);
  });
});

describe('supportedCpuid input validation', () => {
  it('rejects unknown features and bad numbers with EINVAL naming the field', () => {
    expect(() => supportedCpuid({ features: ['fpu', 'warp_drive' as CpuidFeature] })).toThrow(/EINVAL: features\.1/);
    expect(() => supportedCpuid({ features: [], kvmFeatures: -1 })).toThrow(/EINVAL: kvmFeatures/);
    expect(() => supportedCpuid({ features: [], physAddrBits: 60 })).toThrow(/EINVAL: physAddrBits/);
    expect(() => supportedCpuid({ features: [], brand: 'x'.repeat(48) })).toThrow(/EINVAL: brand/);
  });
  it('Intel drops AMD-only features', () => {
    const t = supportedCpuid({ features: ['sse4a', 'mmxext', 'svm'] });
    const e = t.find((x) => x.function === 0x80000001)!;
    expect(e.ecx).toBe(0);
    expect(e.edx).toBe(0);
  });
});
