import { describe, expect, it } from 'vitest';
import {
  ioioExits, IOPM_SIZE, iopmIntercepts, msrExits, MSRPM_SIZE, msrpmBitIndex, setIopmIntercept, setMsrpmIntercept, SvmAsidTlb,
  TLB_CONTROL_DO_NOTHING, TLB_CONTROL_FLUSH_ALL_ASID, TLB_CONTROL_FLUSH_ASID, TLB_CONTROL_FLUSH_ASID_LOCAL,
} from '@kvmts/kvm-amd';

describe('IOPM', () => {
  const iopm = new Uint8Array(IOPM_SIZE);
  setIopmIntercept(iopm, 0x3f8, true);
  it('checks every byte of the access', () => {
    expect(IOPM_SIZE).toBe(12288);
    expect(iopm[0x3f8 >>> 3]).toBe(1);
    expect(ioioExits(true, iopm, 0x3f8, 1)).toBe(true);
    expect(ioioExits(true, iopm, 0x3f6, 2)).toBe(false);
    expect(ioioExits(true, iopm, 0x3f6, 4)).toBe(true);
    expect(ioioExits(false, iopm, 0x3f8, 1)).toBe(false);
  });
  it('accesses at FFFF read bits in the third page', () => {
    expect(iopmIntercepts(iopm, 0xffff, 2)).toBe(false);
    iopm[0x10000 >>> 3] = 1;
    expect(iopmIntercepts(iopm, 0xffff, 2)).toBe(true);
    expect(iopmIntercepts(iopm, 0xffff, 1)).toBe(false);
  });
});

describe('MSRPM', () => {
  const m = new Uint8Array(MSRPM_SIZE);
  it('two bits per MSR in three 2 KiB vectors', () => {
    expect(MSRPM_SIZE).toBe(8192);
    expect(msrpmBitIndex(0)).toBe(0);
    expect(msrpmBitIndex(0x1fff)).toBe(0x3ffe);
    expect(msrpmBitIndex(0xc0000000)).toBe(0x800 * 8);
    expect(msrpmBitIndex(0xc0010000)).toBe(0x1000 * 8);
    expect(msrpmBitIndex(0x2000)).toBe(-1);
    setMsrpmIntercept(m, 0xc0000080, true, true); // EFER writes
    expect(m[0x800 + 0x20]).toBe(0b10);
    setMsrpmIntercept(m, 0x10, false, true); // TSC reads
    expect(m[4]).toBe(0b1);
    expect(msrExits(true, m, 0xc0000080, true)).toBe(true);
    expect(msrExits(true, m, 0xc0000080, false)).toBe(false);
    expect(msrExits(true, m, 0x10, false)).toBe(true);
    expect(msrExits(true, m, 0x10, true)).toBe(false);
    expect(msrExits(false, m, 0x10, false)).toBe(false);
  });
  it('MSRs outside the ranges always exit', () => {
    expect(msrExits(true, m, 0x4b564d00, false)).toBe(true);
    expect(msrExits(true, m, 0xc0002000, true)).toBe(true);
    expect(() => setMsrpmIntercept(m, 0x40000000, false, true)).toThrow(RangeError);
  });
});

describe('ASIDs and TLB_CONTROL', () => {
  it('tags separate guests; flush-all, flush-ASID and flush-ASID-local invalidate the right entries', () => {
    const t = new SvmAsidTlb(16);
    const a1g = t.tag(1, true);
    const a1l = t.tag(1, false);
    const a2l = t.tag(2, false);
    expect(new Set([a1g, a1l, a2l]).size).toBe(3);
    expect(t.vmrun(1, TLB_CONTROL_DO_NOTHING)).toBe(true);
    expect(t.isCurrent(a1l, 1, false)).toBe(true);
    t.vmrun(1, TLB_CONTROL_FLUSH_ASID_LOCAL);
    expect(t.isCurrent(a1l, 1, false)).toBe(false);
    expect(t.isCurrent(a1g, 1, true)).toBe(true);
    expect(t.isCurrent(a2l, 2, false)).toBe(true);
    const a1g2 = t.tag(1, true);
    t.vmrun(1, TLB_CONTROL_FLUSH_ASID);
    expect(t.isCurrent(a1g2, 1, true)).toBe(false);
    expect(t.isCurrent(a2l, 2, false)).toBe(true);
    t.vmrun(1, TLB_CONTROL_FLUSH_ALL_ASID);
    expect(t.isCurrent(a2l, 2, false)).toBe(false);
    expect(t.vmrun(1, 2)).toBe(false);
    expect(() => t.vmrun(0, 0)).toThrow(RangeError);
  });
});
