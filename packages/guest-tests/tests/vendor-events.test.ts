/**
 * Cross-vendor driver behaviour: dirty logging through the TDP MMU (write-protected
 * leaves, the first write marks the page) and NMI injection, on kvm-intel and kvm-amd.
 */
import { describe, expect, it } from 'vitest';
import { uapi } from '@kvmts/kvm-core';
import { VENDOR_MODULES } from './vendor-adapters';
import { assemble, realModeMachine, runToHlt } from './vendor-harness';

describe.each(VENDOR_MODULES)('%s', (_name, mod) => {
  it('dirty logging: only the pages the guest wrote are in the log, and the log clears on read', () => {
    const code = assemble(`
      .code16
      xor %ax, %ax
      mov %ax, %ds
      mov %ax, %ss
      mov $0x7000, %sp
      mov 0x9000, %ax
      movw $1, 0x5000
      movw $2, 0x5002
      movw $3, 0x8000
      hlt
    `, 0x1000);
    const m = realModeMachine(mod, {} as never, code, 0x1000, 0x10000);
    m.vm.setUserMemoryRegion({ slot: 0, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0, memorySize: 0x10000, userspaceAddr: m.mem });
    m.vm.getDirtyLog(0);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    const log = m.vm.getDirtyLog(0);
    const pages: number[] = [];
    for (let p = 0; p < 16; p++) if (log[p >> 3]! & (1 << (p & 7))) pages.push(p);
    // The stack (page 6, no pushes here), the two data pages written; not the page only read (9).
    expect(pages).toContain(5);
    expect(pages).toContain(8);
    expect(pages).not.toContain(9);
    expect(m.mem[0x5000]).toBe(1);
    const again = m.vm.getDirtyLog(0);
    expect(Array.from(again).every((b) => b === 0)).toBe(true);
  });

  it('KVM_NMI is delivered through vector 2, then IRET returns', () => {
    const code = assemble(`
      .code16
      xor %ax, %ax
      mov %ax, %ds
      mov %ax, %ss
      mov $0x7000, %sp
      movw $nmi, 2*4
      movw $0, 2*4+2
      mov $'A', %al
      out %al, $0xe9
      mov $'B', %al
      out %al, $0xe9
      hlt
    nmi:
      push %ax
      mov $'N', %al
      out %al, $0xe9
      pop %ax
      iret
    `, 0x1000);
    const m = realModeMachine(mod, {} as never, code, 0x1000);
    let run = m.vcpu.run();
    while (run.exitReason === uapi.KVM_EXIT_INTR) run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    m.console += 'A';
    m.vcpu.nmi();
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('ANB');
  });
});
