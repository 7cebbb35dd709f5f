import { describe, expect, it } from 'vitest';
import { INTERCEPT, Vmcb, VMCB_CONTROL as CTL, VMCB_SAVE as SAVE, VMCB_SIZE, VMCB_CLEAN } from '@kvmts/kvm-amd';

describe('VMCB layout (APM appendix B, Linux svm.h)', () => {
  it('control-area offsets', () => {
    expect(CTL).toMatchObject({
      INTERCEPT_CR: 0x000, INTERCEPT_DR: 0x004, INTERCEPT_EXCEPTIONS: 0x008, INTERCEPT_MISC1: 0x00c, INTERCEPT_MISC2: 0x010,
      INTERCEPT_MISC3: 0x014, PAUSE_FILTER_THRESHOLD: 0x03c, PAUSE_FILTER_COUNT: 0x03e, IOPM_BASE_PA: 0x040, MSRPM_BASE_PA: 0x048,
      TSC_OFFSET: 0x050, GUEST_ASID: 0x058, TLB_CONTROL: 0x05c, INT_CTL: 0x060, INT_VECTOR: 0x064, INT_STATE: 0x068, EXITCODE: 0x070,
      EXITINFO1: 0x078, EXITINFO2: 0x080, EXITINTINFO: 0x088, NESTED_CTL: 0x090, AVIC_APIC_BAR: 0x098, EVENTINJ: 0x0a8, N_CR3: 0x0b0,
      VIRT_EXT: 0x0b8, VMCB_CLEAN: 0x0c0, NRIP: 0x0c8, GUEST_INSN_LEN: 0x0d0, GUEST_INSN_BYTES: 0x0d1, AVIC_BACKING_PAGE: 0x0e0,
      AVIC_LOGICAL_TABLE: 0x0f0, AVIC_PHYSICAL_TABLE: 0x0f8,
    });
  });

  it('state-save offsets (0x400 + Linux struct vmcb_save_area offsets)', () => {
    const segs = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'GDTR', 'LDTR', 'IDTR', 'TR'] as const;
    segs.forEach((s, i) => expect(SAVE[s], s).toBe(0x400 + 16 * i));
    // Linux's BUILD_BUG_RESERVED_OFFSET anchors: reserved_0xa0, 0xcc, 0xd8, 0x180, 0x248, 0x298 follow these fields
    expect(SAVE.CPL).toBe(0x400 + 0xcb);
    expect(SAVE.EFER).toBe(0x400 + 0xd0);
    expect(SAVE.CR4).toBe(0x400 + 0xd8 + 112);
    expect([SAVE.CR3, SAVE.CR0, SAVE.DR7, SAVE.DR6, SAVE.RFLAGS, SAVE.RIP]).toEqual([0x550, 0x558, 0x560, 0x568, 0x570, 0x578]);
    expect(SAVE.RSP).toBe(0x400 + 0x180 + 88);
    expect([SAVE.RAX, SAVE.STAR, SAVE.LSTAR, SAVE.CSTAR, SAVE.SFMASK, SAVE.KERNEL_GS_BASE]).toEqual([0x5f8, 0x600, 0x608, 0x610, 0x618, 0x620]);
    expect([SAVE.SYSENTER_CS, SAVE.SYSENTER_ESP, SAVE.SYSENTER_EIP, SAVE.CR2]).toEqual([0x628, 0x630, 0x638, 0x640]);
    expect(SAVE.G_PAT).toBe(0x400 + 0x248 + 32);
    expect(SAVE.LASTEXCPTO + 8).toBe(0x400 + 0x298);
  });

  it('fields land at their byte offsets, little-endian', () => {
    const v = new Vmcb();
    v.setNum(SAVE.RIP, 0x123456789a);
    expect([...v.bytes.subarray(0x578, 0x580)]).toEqual([0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, 0]);
    v.setSegment(SAVE.CS, { selector: 0x10, attrib: 0xa9b, limit: 0xffffffff, base: 0x1000 });
    expect([...v.bytes.subarray(0x410, 0x418)]).toEqual([0x10, 0, 0x9b, 0x0a, 0xff, 0xff, 0xff, 0xff]);
    expect(v.segment(SAVE.CS)).toEqual({ selector: 0x10, attrib: 0xa9b, limit: 0xffffffff, base: 0x1000 });
    v.setBig(CTL.TSC_OFFSET, -5n);
    expect(v.big(CTL.TSC_OFFSET)).toBe(0xffff_ffff_ffff_fffbn);
    expect(v.bytes.length).toBe(VMCB_SIZE);
    expect(VMCB_CLEAN.NPT).toBe(4);
  });

  it('intercept bits map onto the intercept vectors', () => {
    const v = new Vmcb();
    v.setIntercept(INTERCEPT.CR3_WRITE, true);
    expect(v.u32(0x000)).toBe(1 << 19);
    v.setIntercept(INTERCEPT.EXCEPTION_OFFSET + 14, true);
    expect(v.u32(0x008)).toBe(1 << 14);
    v.setIntercept(INTERCEPT.HLT, true);
    v.setIntercept(INTERCEPT.SHUTDOWN, true);
    expect(v.u32(0x00c)).toBe(((1 << 24) | (1 << 31)) >>> 0);
    v.setIntercept(INTERCEPT.VMRUN, true);
    v.setIntercept(INTERCEPT.VMMCALL, true);
    expect(v.u32(0x010)).toBe(3);
    v.setIntercept(INTERCEPT.INVPCID, true);
    expect(v.u32(0x014)).toBe(4);
    v.setIntercept(INTERCEPT.HLT, false);
    expect(v.isIntercept(INTERCEPT.HLT)).toBe(false);
    expect(v.isIntercept(INTERCEPT.SHUTDOWN)).toBe(true);
    // the misc1 vector order (INTR .. SHUTDOWN) as in the APM
    expect(INTERCEPT.CPUID - INTERCEPT.INTR).toBe(18);
    expect(INTERCEPT.IOIO_PROT - INTERCEPT.INTR).toBe(27);
    expect(INTERCEPT.MSR_PROT - INTERCEPT.INTR).toBe(28);
  });

  it('rejects a buffer smaller than 4 KiB', () => {
    expect(() => new Vmcb(new ArrayBuffer(100))).toThrow(RangeError);
  });
});

describe('signed canonical addresses', () => {
  it('setNum/numSigned round-trip kernel addresses exactly', () => {
    const v = new Vmcb();
    v.setNum(SAVE.RIP, -0x7f000000);
    expect(v.big(SAVE.RIP)).toBe(0xffff_ffff_8100_0000n);
    expect(v.numSigned(SAVE.RIP)).toBe(-0x7f000000);
    v.setNum(SAVE.LSTAR, -(2 ** 47));
    expect(v.big(SAVE.LSTAR)).toBe(0xffff_8000_0000_0000n);
    expect(v.numSigned(SAVE.LSTAR)).toBe(-(2 ** 47));
  });
});
