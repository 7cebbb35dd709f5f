// kvm_get_msr_common / kvm_set_msr_common fallbacks for MSRs a guest may touch unguarded.
import { describe, expect, it } from 'vitest';
import { createHost, kvmGetArchCapabilities, kvmGetMsr, kvmSetMsr, MSR_IA32_ARCH_CAPABILITIES, uapi } from '@kvmts/kvm-core';
import { fakeIrqVendorModule } from './fake-vendor-irq';
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

describe('IA32_ARCH_CAPABILITIES (kvm_get_arch_capabilities on a host that never speculates)', () => {
  const RDCL_NO = 1n << 0n, IBRS_ALL = 1n << 1n, SKIP_L1DFL = 1n << 3n, SSB_NO = 1n << 4n, MDS_NO = 1n << 5n;
  const PSCHANGE_MC_NO = 1n << 6n, TSX_CTRL = 1n << 7n, TAA_NO = 1n << 8n, MMIO_NO = (1n << 13n) | (1n << 14n) | (1n << 15n);
  const FB_CLEAR = 1n << 17n, BHI_NO = 1n << 20n, GDS_NO = 1n << 26n, RFDS_NO = 1n << 27n, ITS_NO = 1n << 62n;

  it('the system fd lists it as a feature MSR and reads the not-affected bits, nothing the silicon lacks', () => {
    const host = createHost();
    host.insmod(fakeIrqVendorModule([]));
    const kvm = host.open('/dev/kvm');
    expect(kvm.checkExtension(uapi.KVM_CAP_GET_MSR_FEATURES)).toBe(1);
    expect(kvm.getMsrFeatureIndexList()).toEqual([MSR_IA32_ARCH_CAPABILITIES]);
    const [e] = kvm.getMsrs([MSR_IA32_ARCH_CAPABILITIES, 0x12345]);
    expect(kvm.getMsrs([0x12345])).toEqual([]);
    const caps = e!.data;
    // IBRS_ALL: the engine has IA32_SPEC_CTRL and never speculates, so IBRS is always in force.
    for (const bit of [RDCL_NO, IBRS_ALL, SKIP_L1DFL, SSB_NO, MDS_NO, PSCHANGE_MC_NO, MMIO_NO, BHI_NO, GDS_NO, RFDS_NO, ITS_NO])
      expect(caps & bit, bit.toString(2)).toBe(bit);
    // No TSX, no VERW buffer clearing: those bits stay clear (TAA_NO too without RTM).
    for (const bit of [TSX_CTRL, TAA_NO, FB_CLEAR]) expect(caps & bit, bit.toString(2)).toBe(0n);
    expect(kvmGetArchCapabilities()).toBe(caps);
  });

  it('the guest reads it only with CPUID.7.0:EDX[29] and never writes it; the VMM reads it and may clear bits', () => {
    const r = irqVm();
    const v = r.x86[0]!;
    expect(kvmGetMsr(v, MSR_IA32_ARCH_CAPABILITIES)).toBeUndefined();
    expect(r.vcpus[0]!.getMsrs([MSR_IA32_ARCH_CAPABILITIES])).toEqual([{ index: MSR_IA32_ARCH_CAPABILITIES, data: kvmGetArchCapabilities() }]);
    r.vcpus[0]!.setCpuid2([{ function: 7, index: 0, flags: 1, eax: 0, ebx: 0, ecx: 0, edx: 1 << 29 }]);
    expect(kvmGetMsr(v, MSR_IA32_ARCH_CAPABILITIES)).toBe(kvmGetArchCapabilities());
    expect(kvmSetMsr(v, MSR_IA32_ARCH_CAPABILITIES, 0n, false)).toBe(false);
    expect(r.vcpus[0]!.setMsrs([{ index: MSR_IA32_ARCH_CAPABILITIES, data: RDCL_NO }])).toBe(1);
    expect(kvmGetMsr(v, MSR_IA32_ARCH_CAPABILITIES)).toBe(RDCL_NO);
    // A bit the host does not have is refused.
    expect(r.vcpus[0]!.setMsrs([{ index: MSR_IA32_ARCH_CAPABILITIES, data: TSX_CTRL }])).toBe(0);
  });
});
