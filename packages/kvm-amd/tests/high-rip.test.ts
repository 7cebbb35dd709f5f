import { describe, expect, it } from 'vitest';
import { kvmAmd } from '../src';
import { assemble, realModeMachine, runToHlt } from './guest-helpers';

/**
 * A 64-bit guest running in the kernel half (as Linux does at 0xffffffff81000000) whose
 * intercepted instructions (CPUID, OUT) resume at the exact next RIP: NRIP and the saved
 * RIP are 64-bit values that a JS number holds exactly only as signed canonical numbers.
 */
describe('kvm-amd: exits at a kernel-half RIP', () => {
  it('CPUID and OUT intercepted at 0xffffffff80100xxx resume at the next instruction', () => {
    const code = assemble(`.code64
      .fill 0x123, 1, 0x90
      xor %eax, %eax
      cpuid
      mov $'K', %al
      out %al, $0xe9
      mov $'!', %al
      out %al, $0xe9
      hlt
    `, 0x100000);
    const m = realModeMachine(kvmAmd, {}, code, 0x100000);
    const dv = new DataView(m.mem.buffer);
    // PML4[511] -> PDPT[510] -> PD[0]: a 2 MiB page at 0xffffffff80000000 = physical 0.
    dv.setUint32(0x1000 + 8 * 511, 0x2003, true);
    dv.setUint32(0x2000 + 8 * 510, 0x3003, true);
    dv.setUint32(0x3000, 0x83, true);
    const s = m.vcpu.getSregs();
    s.cs = { base: 0n, limit: 0xffffffff, selector: 0x10, type: 0xb, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 };
    for (const k of ['ds', 'es', 'ss', 'fs', 'gs'] as const) s[k] = { ...s.cs, selector: 0x18, type: 3, l: 0, db: 1 };
    s.cr3 = 0x1000n;
    s.cr4 = 0x20n;
    s.efer = 0x500n;
    s.cr0 = 0x80000011n;
    m.vcpu.setSregs(s);
    const r = m.vcpu.getRegs();
    r.rip = 0xffffffff80100000n;
    m.vcpu.setRegs(r);
    runToHlt(m, 200); // a wrong RIP loops forever: bounded, so a regression fails instead of hanging
    expect(m.console).toBe('K!');
    expect(m.vcpu.getRegs().rip).toBe(0xffffffff80100130n); // after the HLT
  });
});
