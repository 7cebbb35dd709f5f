import { describe, expect, it } from 'vitest';
import type { KvmCpuidEntry2 } from '@kvmts/kvm-core';
import { supportedCpuid, svmPatchHypercall, VMCALL_BYTES, VMMCALL_BYTES, type CpuidFeature } from '@kvmts/kvm-amd';

const features: CpuidFeature[] = [
  'fpu', 'de', 'pse', 'tsc', 'msr', 'pae', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'cmov', 'pat', 'pse36', 'clflush', 'mmx', 'fxsr',
  'sse', 'sse2', 'sse3', 'cx16', 'popcnt', 'hypervisor', 'syscall', 'nx', 'pdpe1gb', 'rdtscp', 'lm', 'lahf_lm', 'abm', 'mmxext',
  'fxsr_opt', 'sse4a',
];

function find(t: KvmCpuidEntry2[], fn: number, index = 0): KvmCpuidEntry2 {
  const e = t.find((x) => x.function === fn >>> 0 && x.index === index);
  if (!e) throw new Error(`leaf ${fn.toString(16)} missing`);
  return e;
}
const str = (...r: number[]) => r.map((x) => String.fromCharCode(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24)).join('');

describe('kvm-amd supported CPUID', () => {
  const t = supportedCpuid({ features });
  it('AuthenticAMD in leaf 0 and 0x80000000', () => {
    const l0 = find(t, 0);
    expect(str(l0.ebx, l0.edx, l0.ecx)).toBe('AuthenticAMD');
    const e0 = find(t, 0x80000000);
    expect(e0.eax).toBe(0x80000008);
    expect(str(e0.ebx, e0.edx, e0.ecx)).toBe('AuthenticAMD');
  });
  it('family 17h signature in leaf 1 and 0x80000001', () => {
    const eax = find(t, 1).eax;
    expect(((eax >>> 8) & 0xf) + ((eax >>> 20) & 0xff)).toBe(0x17);
    expect(find(t, 0x80000001).eax).toBe(eax);
  });
  it('0x80000001 EDX mirrors leaf 1 EDX bits and has SYSCALL, NX, LM and the AMD-only bits', () => {
    const l1 = find(t, 1).edx;
    const e = find(t, 0x80000001);
    const mirror = 0x000003ff | 0x0003f000 | (1 << 23) | (1 << 24);
    expect(e.edx & mirror).toBe(l1 & mirror);
    expect(e.edx & (1 << 0)).toBeTruthy(); // FPU mirrored
    expect(e.edx & (1 << 11)).toBeTruthy(); // SYSCALL
    expect(e.edx & (1 << 22)).toBeTruthy(); // MmxExt
    expect(e.edx & (1 << 25)).toBeTruthy(); // FFXSR
    expect(e.edx & (1 << 26)).toBeTruthy();
    expect(e.edx & (1 << 29)).toBeTruthy();
    expect(e.edx & (1 << 19)).toBe(0); // CLFLUSH (bit 19) is not part of the mirror
    expect(e.ecx).toBe((1 << 0) | (1 << 5) | (1 << 6));
  });
  it('no Intel leaves 2/4; AMD cache leaves', () => {
    expect(t.some((e) => e.function === 4 || e.function === 2)).toBe(false);
    expect(find(t, 0x80000005).ecx >>> 24).toBe(32);
    expect(find(t, 0x80000006).ecx >>> 16).toBe(512);
    expect(find(t, 0x80000008).eax & 0xff).toBe(48);
  });
  it('KVM paravirt leaves', () => {
    const s = find(t, 0x40000000);
    expect(str(s.ebx, s.ecx, s.edx)).toBe('KVMKVMKVM\0\0\0');
    expect(s.eax).toBe(0x40000001);
  });
  it('brand string', () => {
    const b = [2, 3, 4].map((i) => find(t, 0x80000000 + i));
    expect(str(...b.flatMap((e) => [e.eax, e.ebx, e.ecx, e.edx])).replace(/\0+$/, '')).toBe('AMD EPYC Processor (kvmts virtual)');
  });
});

describe('hypercall patching', () => {
  it('rewrites VMCALL into VMMCALL', () => {
    expect(VMMCALL_BYTES).toEqual([0x0f, 0x01, 0xd9]);
    expect(VMCALL_BYTES).toEqual([0x0f, 0x01, 0xc1]);
    const code = new Uint8Array([0x0f, 0x01, 0xc1]);
    svmPatchHypercall(code, 0);
    expect([...code]).toEqual([0x0f, 0x01, 0xd9]);
  });
});

describe('supportedCpuid input validation', () => {
  it('rejects unknown features with EINVAL naming the element', () => {
    expect(() => supportedCpuid({ features: ['lm', 'nope' as CpuidFeature] })).toThrow(/EINVAL: features\.1/);
    expect(() => supportedCpuid({ features: [], signature: 2 ** 32 })).toThrow(/EINVAL: signature/);
  });
});
