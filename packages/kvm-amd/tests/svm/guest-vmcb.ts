/** VMCBs that pass VMRUN's consistency checks: real mode, protected mode, long mode. */
import { INTERCEPT, Vmcb, VMCB_CONTROL as CTL, VMCB_SAVE as SAVE } from '@kvmts/kvm-amd';

export type GuestMode = 'real' | 'protected' | 'long';

export function validVmcb(mode: GuestMode): Vmcb {
  const v = new Vmcb();
  v.setIntercept(INTERCEPT.VMRUN, true);
  v.setIntercept(INTERCEPT.IOIO_PROT, true);
  v.setIntercept(INTERCEPT.MSR_PROT, true);
  v.setIntercept(INTERCEPT.HLT, true);
  v.setNum(CTL.IOPM_BASE_PA, 0x10000);
  v.setNum(CTL.MSRPM_BASE_PA, 0x14000);
  v.setU32(CTL.GUEST_ASID, 1);
  v.setU32(CTL.NESTED_CTL, 1);
  v.setNum(CTL.N_CR3, 0x20000);
  v.setNum(SAVE.DR6, 0xffff0ff0);
  v.setNum(SAVE.DR7, 0x400);
  v.setNum(SAVE.RFLAGS, 2);
  v.setNum(SAVE.G_PAT, 0x0007040600070406);
  if (mode === 'real') {
    v.setNum(SAVE.EFER, 0x1000);
    v.setNum(SAVE.CR0, 0x60000010);
    v.setSegment(SAVE.CS, { selector: 0xf000, attrib: 0x9b, limit: 0xffff, base: 0xf0000 });
    v.setNum(SAVE.RIP, 0xfff0);
  } else if (mode === 'protected') {
    v.setNum(SAVE.EFER, 0x1000);
    v.setNum(SAVE.CR0, 0x80000011);
    v.setNum(SAVE.CR4, 0x10);
    v.setSegment(SAVE.CS, { selector: 8, attrib: 0xc9b, limit: 0xffffffff, base: 0 });
  } else {
    v.setNum(SAVE.EFER, 0x1d00); // SVME NXE LMA LME
    v.setNum(SAVE.CR0, 0x80000011);
    v.setNum(SAVE.CR4, 0x20);
    v.setNum(SAVE.CR3, 0x3000);
    v.setSegment(SAVE.CS, { selector: 8, attrib: 0xa9b, limit: 0xffffffff, base: 0 }); // L=1 G=1
  }
  return v;
}
