/**
 * A guest running in the upper half of the address space (a Linux kernel's
 * 0xffffffff8...): RIP must stay exact across exits that skip the instruction (CPUID, OUT),
 * although it does not fit an unsigned double (it is kept as a signed number).
 */
import { describe, expect, it } from 'vitest';
import { uapi } from '@kvmts/kvm-core';
import { kvmIntel } from '@kvmts/kvm-intel';
import { assemble, realModeMachine, runToHlt } from './guest-helpers';

const BASE = 0xffffffff80000000n;

describe('upper-half RIP across exits', () => {
  it('CPUID and OUT exits at 0xffffffff80010000+ resume at the next instruction', () => {
    const code = assemble(`
      .code64
      xor %eax, %eax
      cpuid
      mov $'A', %al
      out %al, $0xe9
      lea here(%rip), %rbx
    here:
      hlt
    `, 0xffffffff80010000);
    const m = realModeMachine(kvmIntel, {}, code, 0x10000, 0x200000);
    // PML4[0] and PML4[511] -> PDPTs; PDPT0[0] and PDPT511[510] -> one PD of 2 MiB pages at 0.
    const dv = new DataView(m.mem.buffer);
    const pte = (at: number, v: number) => { dv.setUint32(at, v, true); dv.setUint32(at + 4, 0, true); };
    pte(0x1000, 0x2003);
    pte(0x1000 + 511 * 8, 0x4003);
    pte(0x2000, 0x3003);
    pte(0x4000 + 510 * 8, 0x3003);
    pte(0x3000, 0x83);
    const s = m.vcpu.getSregs();
    const flat = { base: 0n, limit: 0xffffffff, present: 1, dpl: 0, s: 1, g: 1, avl: 0, unusable: 0 };
    s.cs = { ...flat, selector: 0x8, type: 0xb, l: 1, db: 0 };
    for (const k of ['ds', 'es', 'ss', 'fs', 'gs'] as const) s[k] = { ...flat, selector: 0x10, type: 0x3, l: 0, db: 1 };
    s.cr3 = 0x1000n;
    s.cr4 = 0x20n;
    s.efer = 0x500n;
    s.cr0 = 0x80000011n;
    m.vcpu.setSregs(s);
    const r = m.vcpu.getRegs();
    r.rip = BASE + 0x10000n;
    r.rsp = BASE + 0x8000n;
    m.vcpu.setRegs(r);
    expect(runToHlt(m, 100)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('A');
    const after = m.vcpu.getRegs();
    const here = after.rbx;
    expect(here > BASE + 0x10000n && here < BASE + 0x10020n).toBe(true);
    expect(after.rip).toBe(here + 1n);
  });
});
