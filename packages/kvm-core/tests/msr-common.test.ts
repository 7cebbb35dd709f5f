// kvm_get_msr_common / kvm_set_msr_common fallbacks for MSRs a guest may touch unguarded.
import { describe, expect, it } from 'vitest';
import { kvmGetMsr, kvmSetMsr } from '@kvmts/kvm-core';
import { irqVm } from './irqchip-helpers';

describe('common MSRs', () => {
  it('reads MSR_AMD64_SYSCFG and the other platform MSRs KVM reads as zero; ignores NB_CFG writes; unknown MSRs still fail', () => {
    const v = irqVm().x86[0]!;
    // Linux's get_fixed_ranges() reads SYSCFG with a plain RDMSR on AMD family 0xf..0x11.
    expect(kvmGetMsr(v, 0xc0010010)).toBe(0n);
    for (const i of [0x17, 0x2a, 0x1db, 0x1de, 0x199, 0xc0010112, 0xc0010113, 0xc0010055, 0xc001001f, 0xc0010058, 0xc001102a, 0xc0011022])
      expect(kvmGetMsr(v, i), `0x${i.toString(16)}`).toBe(0n);
    expect(kvmSetMsr(v, 0xc001001f, 1n << 46n, false)).toBe(true);
    expect(kvmGetMsr(v, 0xc001001f)).toBe(0n);
    expect(kvmGetMsr(v, 0xc0010999)).toBeUndefined();
    expect(kvmSetMsr(v, 0xc0010010, 1n, false)).toBe(false);
  });
});
