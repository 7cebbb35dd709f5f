import { describe, expect, it } from 'vitest';
import {
  cltsExits, crReadValue, crWriteResult, exceptionExits, ioInstructionExits, lmswExits, movToCr3Exits, movToCrExits,
  msrAccessExits, setIoBitmapIntercept, setMsrBitmapIntercept, vmxControls as C,
} from '@kvmts/kvm-intel';

describe('I/O bitmaps', () => {
  const a = new Uint8Array(4096);
  const b = new Uint8Array(4096);
  setIoBitmapIntercept(a, b, 0x3f8, true);
  setIoBitmapIntercept(a, b, 0x8000, true);
  const use = C.CPU_BASED_USE_IO_BITMAPS;

  it('decide per port, for every byte of a multi-byte access', () => {
    expect(ioInstructionExits(use, a, b, 0x3f8, 1)).toBe(true);
    expect(ioInstructionExits(use, a, b, 0x3f9, 1)).toBe(false);
    expect(ioInstructionExits(use, a, b, 0x3f6, 2)).toBe(false);
    expect(ioInstructionExits(use, a, b, 0x3f6, 4)).toBe(true); // 3f6..3f9 covers 3f8
    expect(ioInstructionExits(use, a, b, 0x7ffe, 4)).toBe(true); // crosses into bitmap B at 8000
    expect(ioInstructionExits(use, a, b, 0x7ffc, 4)).toBe(false);
    expect(b[0]).toBe(1);
  });
  it('an access wrapping past FFFF always exits', () => {
    expect(ioInstructionExits(use, a, b, 0xffff, 2)).toBe(true);
    expect(ioInstructionExits(use, a, b, 0xfffe, 2)).toBe(false);
  });
  it('without bitmaps, unconditional I/O exiting decides; with bitmaps it is ignored', () => {
    expect(ioInstructionExits(C.CPU_BASED_UNCOND_IO_EXITING, a, b, 0x80, 1)).toBe(true);
    expect(ioInstructionExits(0, a, b, 0x3f8, 1)).toBe(false);
    expect(ioInstructionExits(use | C.CPU_BASED_UNCOND_IO_EXITING, a, b, 0x80, 1)).toBe(false);
  });
});

describe('MSR bitmap', () => {
  const m = new Uint8Array(4096);
  const use = C.CPU_BASED_USE_MSR_BITMAPS;
  setMsrBitmapIntercept(m, 0x10, false, true); // read TSC
  setMsrBitmapIntercept(m, 0xc0000080, true, true); // write EFER
  it('uses the read-low / read-high / write-low / write-high quarters', () => {
    expect(m[0x000 + 2]).toBe(1); // read-low, MSR 0x10 -> byte 2 bit 0
    expect(m[0xc00 + 0x10]).toBe(1); // write-high, 0x80 -> byte 0x10 bit 0
    expect(msrAccessExits(use, m, 0x10, false)).toBe(true);
    expect(msrAccessExits(use, m, 0x10, true)).toBe(false);
    expect(msrAccessExits(use, m, 0xc0000080, true)).toBe(true);
    expect(msrAccessExits(use, m, 0xc0000080, false)).toBe(false);
  });
  it('MSRs outside both ranges always exit; no bitmap means every access exits', () => {
    expect(msrAccessExits(use, m, 0x2000, false)).toBe(true);
    expect(msrAccessExits(use, m, 0xc0010000, false)).toBe(true);
    expect(msrAccessExits(use, m, 0x4b564d00, true)).toBe(true);
    expect(msrAccessExits(0, m, 0x11, false)).toBe(true);
    expect(() => setMsrBitmapIntercept(m, 0x40000000, false, true)).toThrow(RangeError);
  });
});

describe('CR0/CR4 guest/host masks and read shadows', () => {
  const mask = 0x80000021; // PG NE PE owned by the host
  const shadow = 0x00000011; // the guest believes PG=0 NE=0 PE=1 ET=1
  const actual = 0x80000031;
  it('MOV from CR returns shadow bits for host-owned bits', () => {
    expect(crReadValue(actual, mask, shadow)).toBe(0x00000011 | 0x10);
  });
  it('MOV to CR exits only when a host-owned bit differs from the shadow', () => {
    expect(movToCrExits(0x00000011, mask, shadow)).toBe(false);
    expect(movToCrExits(0x00000019, mask, shadow)).toBe(false); // TS is guest-owned
    expect(movToCrExits(0x80000011, mask, shadow)).toBe(true); // setting PG
    expect(crWriteResult(actual, 0x00000019, mask)).toBe(0x80000039);
  });
  it('CLTS and LMSW', () => {
    expect(cltsExits(0x8, 0x8)).toBe(true);
    expect(cltsExits(0x8, 0x0)).toBe(false);
    expect(cltsExits(0x0, 0x8)).toBe(false);
    expect(lmswExits(0x1, 0x1, 0x0)).toBe(true); // setting host-owned PE
    expect(lmswExits(0x0, 0x1, 0x1)).toBe(false); // LMSW cannot clear PE
    expect(lmswExits(0x3, 0x2, 0x1)).toBe(true); // MP host-owned and changes
    expect(lmswExits(0x3, 0x2, 0x3)).toBe(false);
  });
  it('CR3-load exiting and CR3-target values', () => {
    const lo = [0x1000, 0x2000, 0, 0];
    const hi = [0, 0, 0, 0];
    expect(movToCr3Exits(0, 0x5000, 0, 0, lo, hi)).toBe(false);
    expect(movToCr3Exits(C.CPU_BASED_CR3_LOAD_EXITING, 0x2000, 0, 2, lo, hi)).toBe(false);
    expect(movToCr3Exits(C.CPU_BASED_CR3_LOAD_EXITING, 0x2000, 0, 1, lo, hi)).toBe(true);
    expect(movToCr3Exits(C.CPU_BASED_CR3_LOAD_EXITING, 0x5000, 0, 2, lo, hi)).toBe(true);
  });
  it('exception bitmap with the #PF error-code mask/match rule', () => {
    expect(exceptionExits(1 << 6, 6, 0, 0, 0)).toBe(true);
    expect(exceptionExits(1 << 6, 13, 0, 0, 0)).toBe(false);
    // #PF bit set, match when (ec & 1) == 1: only present faults exit
    expect(exceptionExits(1 << 14, 14, 0x3, 0x1, 0x1)).toBe(true);
    expect(exceptionExits(1 << 14, 14, 0x2, 0x1, 0x1)).toBe(false);
    // #PF bit clear inverts: mismatching faults exit
    expect(exceptionExits(0, 14, 0x2, 0x1, 0x1)).toBe(true);
  });
});
