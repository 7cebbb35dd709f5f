import { describe, expect, it } from 'vitest';
import {
  SvmAsidTlb, svmVmrun, TLB_CONTROL_FLUSH_ASID, svmFeatureLeaf, SVM_FEATURE_NPT, SVM_FEATURE_NRIPS, SVM_FEATURE_AVIC,
  defaultSvmRunConfig, INTERCEPT, recordVmexit, SVM_EXIT, Vmcb, VMCB_CONTROL as CTL, VMCB_SAVE as SAVE, vmrunConsistencyChecks,
} from '@kvmts/kvm-amd';
import { validVmcb, type GuestMode } from './guest-vmcb';

const cfg = defaultSvmRunConfig();

describe('VMRUN consistency checks (APM 15.5.1)', () => {
  for (const m of ['real', 'protected', 'long'] as GuestMode[]) {
    it(`a valid ${m}-mode VMCB runs`, () => {
      expect(vmrunConsistencyChecks(validVmcb(m), cfg)).toEqual({ ok: true });
    });
  }

  const cases: [string, GuestMode, (v: Vmcb) => void][] = [
    ['EFER.SVME is zero', 'protected', (v) => v.setNum(SAVE.EFER, 0)],
    ['CR0.CD is zero and CR0.NW is set', 'protected', (v) => v.setNum(SAVE.CR0, 0xa0000011)],
    ['CR0[63:32] are not zero', 'protected', (v) => v.setU64(SAVE.CR0, 0x80000011, 1)],
    ['an MBZ bit of CR3 is set', 'long', (v) => v.setU64(SAVE.CR3, 0x3000, 0x10000)],
    ['an MBZ bit of CR4 is set', 'long', (v) => v.setNum(SAVE.CR4, 0x2020)],
    ['DR6[63:32] are not zero', 'protected', (v) => v.setU64(SAVE.DR6, 0xffff0ff0, 1)],
    ['DR7[63:32] are not zero', 'protected', (v) => v.setU64(SAVE.DR7, 0x400, 1)],
    ['an MBZ bit of EFER is set', 'protected', (v) => v.setNum(SAVE.EFER, 0x1000 | (1 << 2))],
    ['EFER.LME and CR0.PG set with CR4.PAE zero', 'long', (v) => v.setNum(SAVE.CR4, 0)],
    ['EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set', 'long', (v) => v.setU16(SAVE.CS + 2, 0xe9b)],
    ['the VMRUN intercept bit is clear', 'protected', (v) => v.setIntercept(INTERCEPT.VMRUN, false)],
    ['ASID is zero', 'protected', (v) => v.setU32(CTL.GUEST_ASID, 0)],
    ['the MSRPM extends beyond the maximum physical address', 'protected', (v) => v.setNum(CTL.MSRPM_BASE_PA, 2 ** 48 - 4096)],
    ['the IOPM extends beyond the maximum physical address', 'protected', (v) => v.setNum(CTL.IOPM_BASE_PA, 2 ** 48 - 8192)],
    ['illegal event injection: EVENTINJ type 1 is reserved', 'protected', (v) => v.setU32(CTL.EVENTINJ, 0x80000120)],
    ['illegal event injection: EVENTINJ exception vector 2 is illegal', 'protected', (v) => v.setU32(CTL.EVENTINJ, 0x80000302)],
    ['illegal event injection: EVENTINJ exception vector 32 is illegal', 'protected', (v) => v.setU32(CTL.EVENTINJ, 0x80000320)],
  ];
  for (const [reason, mode, breakIt] of cases) {
    it(`${mode}: ${reason}`, () => {
      const v = validVmcb(mode);
      breakIt(v);
      expect(vmrunConsistencyChecks(v, cfg)).toEqual({ ok: false, exitCode: SVM_EXIT.ERR, reason });
    });
  }

  it('long mode + CR0.PG without CR0.PE, LME without long-mode support, NP without npt', () => {
    const v = validVmcb('long');
    v.setNum(SAVE.CR0, 0x80000010);
    expect(vmrunConsistencyChecks(v, cfg)).toMatchObject({ ok: false, reason: 'EFER.LME and CR0.PG set with CR0.PE zero' });
    expect(vmrunConsistencyChecks(validVmcb('long'), { ...cfg, longModeSupported: false })).toMatchObject({ ok: false });
    expect(vmrunConsistencyChecks(validVmcb('long'), defaultSvmRunConfig(false))).toMatchObject({ ok: false, reason: 'NP_ENABLE without nested paging' });
  });

  it('the IOPM/MSRPM range is only checked when the intercept is on', () => {
    const v = validVmcb('protected');
    v.setNum(CTL.IOPM_BASE_PA, 2 ** 48 - 4096);
    v.setIntercept(INTERCEPT.IOIO_PROT, false);
    expect(vmrunConsistencyChecks(v, cfg)).toEqual({ ok: true });
  });

  it('valid event injections pass', () => {
    for (const e of [0x80000020, 0x80000202, 0x80000b0e, 0x80000480, 0x00000120]) {
      const v = validVmcb('protected');
      v.setU32(CTL.EVENTINJ, e);
      expect(vmrunConsistencyChecks(v, cfg), e.toString(16)).toEqual({ ok: true });
    }
  });

  it('recordVmexit writes EXITCODE (-1 as 64-bit all ones), EXITINFO1/2, EXITINTINFO', () => {
    const v = new Vmcb();
    recordVmexit(v, SVM_EXIT.ERR);
    expect(v.big(CTL.EXITCODE)).toBe(0xffff_ffff_ffff_ffffn);
    recordVmexit(v, SVM_EXIT.NPF, 0x7, 0x1, 0xfee00000, 0x80000b0e, 0x10);
    expect(v.big(CTL.EXITCODE)).toBe(0x400n);
    expect(v.big(CTL.EXITINFO1)).toBe(0x1_0000_0007n);
    expect(v.num(CTL.EXITINFO2)).toBe(0xfee00000);
    expect(v.u32(CTL.EXITINTINFO)).toBe(0x80000b0e);
    expect(v.u32(CTL.EXITINTINFO_ERR)).toBe(0x10);
  });
});

describe('svmVmrun', () => {
  it('applies TLB_CONTROL on success and records VMEXIT_INVALID on failure', () => {
    const tlb = new SvmAsidTlb();
    const v = validVmcb('long');
    const before = tlb.tag(1, true);
    v.setU8(CTL.TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
    expect(svmVmrun(v, cfg, tlb)).toEqual({ ok: true });
    expect(tlb.isCurrent(before, 1, true)).toBe(false);
    v.setU8(CTL.TLB_CONTROL, 2);
    expect(svmVmrun(v, cfg, tlb)).toMatchObject({ ok: false, reason: 'TLB_CONTROL 2 is a reserved encoding' });
    expect(v.u32(CTL.EXITCODE)).toBe(0xffffffff);
    expect(v.u32(CTL.EXITCODE_HI)).toBe(0xffffffff);
    const w = validVmcb('protected');
    w.setU32(CTL.GUEST_ASID, 256);
    expect(svmVmrun(w, cfg, tlb)).toMatchObject({ ok: false, reason: 'ASID is not below the number of ASIDs' });
  });
  it('the SVM feature leaf describes the model and the npt parameter', () => {
    const on = svmFeatureLeaf({ npt: true });
    expect(on.eax).toBe(1);
    expect(on.ebx).toBe(256);
    expect(on.edx & SVM_FEATURE_NPT).toBe(SVM_FEATURE_NPT);
    expect(on.edx & SVM_FEATURE_NRIPS).toBe(SVM_FEATURE_NRIPS);
    expect(on.edx & SVM_FEATURE_AVIC).toBe(0);
    expect(svmFeatureLeaf({ npt: false }).edx & SVM_FEATURE_NPT).toBe(0);
  });
});
