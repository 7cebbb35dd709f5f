import { describe, expect, it } from 'vitest';
import { Memslots } from '../../src/memory/memslots';
import { X86Cpu } from '../../src/x86/engine/cpu';
import { getRip, getSegment, setRip, setSegment, u64ToAddr, addrToU64 } from '../../src/x86/engine/state';

describe('engine: uapi state conversions', () => {
  it('kvm_segment <-> hidden cache (VMX access rights) round-trips, and updates the mode', () => {
    const cpu = new X86Cpu(new Memslots());
    cpu.efer = 0x500;
    cpu.cr0 = 0x80000011;
    const cs = { base: 0n, limit: 0xffffffff, selector: 0x10, type: 0xb, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 };
    setSegment(cpu, 1, cs);
    expect(cpu.segAr[1]).toBe(0xa09b);
    expect(cpu.mode64).toBe(true);
    expect(getSegment(cpu, 1)).toEqual(cs);
    const gs = { ...cs, base: 0xffff888000000000n, selector: 0, type: 3, l: 0, db: 1 };
    setSegment(cpu, 5, gs);
    expect(cpu.segBase[5]).toBe(-0x778000000000);
    expect(getSegment(cpu, 5).base).toBe(0xffff888000000000n);
    setRip(cpu, 0xffffffff81000000n);
    expect(getRip(cpu)).toBe(0xffffffff81000000n);
    expect(u64ToAddr(addrToU64(-4096))).toBe(-4096);
  });

  it('setRip from VMCS/VMCB halves keeps a kernel-half RIP exact (unsigned high half)', () => {
    const cpu = new X86Cpu(new Memslots());
    cpu.efer = 0x500;
    cpu.cr0 = 0x80000011;
    setSegment(cpu, 1, { base: 0n, limit: 0xffffffff, selector: 0x10, type: 0xb, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 });
    // 0xffffffff81083d25 is not a multiple of 2048: exact only as a signed number.
    cpu.setRip(0x81083d25, 0xffffffff);
    expect(cpu.rip).toBe(-0x7ef7c2db);
    expect(getRip(cpu)).toBe(0xffffffff81083d25n);
    cpu.setRip(0x81083d25 | 0, -1);
    expect(cpu.rip).toBe(-0x7ef7c2db);
  });
});
