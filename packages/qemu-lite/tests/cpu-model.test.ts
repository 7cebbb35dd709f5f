/** -cpu parsing and the CPUID a model yields from KVM_GET_SUPPORTED_CPUID. */
import { describe, expect, it } from 'vitest';
import { buildCpuid, parseCpuSpec } from '../src/cpu-model';
import { fakeSupportedCpuid } from './helpers/fake-vendor';

const leaf = (e: ReturnType<typeof buildCpuid>['entries'], fn: number) => e.find((x) => x.function === fn)!;

describe('-cpu', () => {
  it('parses a model with +/- features, feature=on|off and vendor=', () => {
    expect(parseCpuSpec('qemu64,+x2apic,-pcid,xsave=on,tsc_deadline=off,vendor=AuthenticAMD')).toEqual({
      model: 'qemu64', plus: ['x2apic', 'xsave'], minus: ['pcid', 'tsc-deadline'], vendor: 'AuthenticAMD',
    });
  });

  it('rejects unknown models, features and values with a message naming them', () => {
    expect(() => parseCpuSpec('pentium9')).toThrow(/unknown CPU model 'pentium9'/);
    expect(() => parseCpuSpec('max,+warp-drive')).toThrow(/unknown feature 'warp-drive'/);
    expect(() => parseCpuSpec('max,x2apic=maybe')).toThrow(/takes on or off, not 'maybe'/);
    expect(() => parseCpuSpec('max,vendor=Short')).toThrow(/12 characters/);
  });

  it('qemu64 keeps only its own features of what the engine supports, plus hypervisor', () => {
    const { entries } = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('qemu64'), 0, 1);
    const l1 = leaf(entries, 1);
    expect(l1.ecx & (1 << 21)).toBe(0); // x2apic: not in qemu64
    expect(l1.ecx & 1).toBe(1); // pni
    expect((l1.ecx >>> 31) & 1).toBe(1); // hypervisor
    expect((l1.eax >> 8) & 0xf).toBe(15); // family 15
    expect(leaf(entries, 7).ebx).toBe(0);
  });

  it('max exposes everything supported; +feature adds, -feature removes', () => {
    const max = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('max,-x2apic'), 0, 1).entries;
    expect(leaf(max, 1).ecx & (1 << 21)).toBe(0);
    expect(leaf(max, 1).ecx & (1 << 26)).toBe(1 << 26); // xsave
    expect(leaf(max, 7).ecx & (1 << 2)).toBe(1 << 2); // umip
    const q = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('qemu64,+x2apic,+umip'), 0, 1).entries;
    expect(leaf(q, 1).ecx & (1 << 21)).toBe(1 << 21);
    expect(leaf(q, 7).ecx & (1 << 2)).toBe(1 << 2);
  });

  it('drops and reports features the engine lacks', () => {
    const r = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('qemu64,+avx2,+invpcid'), 0, 1);
    expect(r.unavailable.sort()).toEqual(['avx2', 'invpcid']);
    expect(leaf(r.entries, 7).ebx & (1 << 5)).toBe(0);
  });

  it('puts the APIC ID in CPUID.1 EBX[31:24] per vCPU and sets HTT with -smp > 1', () => {
    const r = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('max'), 3, 4);
    expect(leaf(r.entries, 1).ebx >>> 24).toBe(3);
    expect((leaf(r.entries, 1).ebx >>> 16) & 0xff).toBe(4);
    expect(leaf(r.entries, 1).edx & (1 << 28)).toBe(1 << 28);
  });

  it('vendor= rewrites leaf 0', () => {
    const r = buildCpuid(fakeSupportedCpuid(), parseCpuSpec('max,vendor=AuthenticAMD'), 0, 1);
    const l0 = leaf(r.entries, 0);
    const s = [l0.ebx, l0.edx, l0.ecx].map((w) => String.fromCharCode(w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, w >>> 24)).join('');
    expect(s).toBe('AuthenticAMD');
  });
});
