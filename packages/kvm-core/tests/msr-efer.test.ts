/**
 * EFER through kvm_get_msr_common / kvm_set_msr_common (set_efer): the checks are the
 * generic layer's, the vendor only loads the value (kvm_x86_ops.set_efer). The fake
 * vendor leaves EFER alone, so every answer here comes from the generic layer.
 */
import { describe, expect, it } from 'vitest';
import { createHost, kvmMsrIsCommon, kvmSetMsrCommon, MSR_EFER, type KvmVcpuX86 } from '@kvmts/kvm-core';
import { fakeVendorModule } from './fake-vendor';

const SCE = 1n << 0n;
const LME = 1n << 8n;
const LMA = 1n << 10n;
const NXE = 1n << 11n;

function vcpu() {
  const host = createHost();
  host.insmod(fakeVendorModule());
  const v = host.open('/dev/kvm').createVm().createVcpu(0);
  return { v, x86: v.archState as KvmVcpuX86 };
}

describe('EFER in the generic MSR layer (set_efer)', () => {
  it('is one of the MSRs a vendor leaves to kvm_*_msr_common, with TSC, APIC base, TSC_ADJUST, TSC_AUX and KVM\'s range', () => {
    for (const i of [MSR_EFER, 0x10, 0x1b, 0x3b, 0xc0000103, 0x4b564d00, 0x4b564dff]) expect(kvmMsrIsCommon(i)).toBe(true);
    for (const i of [0xc0000081, 0xc0000100, 0x174, 0x277, 0x4b564e00, 0x6e0]) expect(kvmMsrIsCommon(i)).toBe(false);
  });

  it('KVM_SET_MSRS (host-initiated) may set SCE, LME, LMA and NXE; KVM_GET_MSRS and KVM_GET_SREGS read it back', () => {
    const { v } = vcpu();
    expect(v.setMsrs([{ index: MSR_EFER, data: SCE | LME | LMA | NXE }])).toBe(1);
    expect(v.getMsrs([MSR_EFER])).toEqual([{ index: MSR_EFER, data: SCE | LME | LMA | NXE }]);
    expect(v.getSregs().efer).toBe(SCE | LME | LMA | NXE);
  });

  it('reserved bits (low or high half) are refused and change nothing', () => {
    const { v } = vcpu();
    expect(v.setMsrs([{ index: MSR_EFER, data: SCE }])).toBe(1);
    expect(v.setMsrs([{ index: MSR_EFER, data: SCE | (1n << 1n) }])).toBe(0);
    expect(v.setMsrs([{ index: MSR_EFER, data: SCE | (1n << 32n) }])).toBe(0);
    expect(v.getMsrs([MSR_EFER])[0]!.data).toBe(SCE);
  });

  it('a guest WRMSR keeps LMA as it was and cannot toggle LME while paging is on', () => {
    const { x86 } = vcpu();
    x86.efer = Number(LME | LMA);
    x86.cr0 = 0x80000011 | 0;
    // LMA follows CR0.PG, never the written value.
    expect(kvmSetMsrCommon(x86, MSR_EFER, LME | NXE, false)).toBe(true);
    expect(BigInt(x86.efer)).toBe(LME | LMA | NXE);
    // Clearing LME with CR0.PG set: #GP.
    expect(kvmSetMsrCommon(x86, MSR_EFER, NXE, false)).toBe(false);
    expect(BigInt(x86.efer)).toBe(LME | LMA | NXE);
    // Without paging LME may change.
    x86.cr0 = 0x11;
    x86.efer = Number(LME);
    expect(kvmSetMsrCommon(x86, MSR_EFER, SCE, false)).toBe(true);
    expect(BigInt(x86.efer)).toBe(SCE);
  });
});
