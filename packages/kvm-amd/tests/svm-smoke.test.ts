import { describe, expect, it } from 'vitest';
import { uapi } from '@kvmts/kvm-core';
import { kvmAmd } from '@kvmts/kvm-amd';
import { assemble, realModeMachine, runToHlt } from './guest-helpers';

describe('kvm-amd runs a guest end to end', () => {
  it('real mode: OUT to 0xE9, IN, MMIO read/write, HLT', () => {
    const code = assemble(`
      .code16
      mov $'H', %al
      out %al, $0xe9
      mov $'i', %al
      out %al, $0xe9
      in $0x60, %al
      mov %al, %bl
      mov $0x1234, %ax
      mov %ax, %ds:0
      mov $0xf000, %cx
      mov %cx, %ds
      movl $0xabcd, %ds:0x100
      movl %ds:0x104, %eax
      mov %eax, %edx
      hlt
    `, 0x1000);
    const m = realModeMachine(kvmAmd, {}, code, 0x1000, 0xe0000);
    m.inValue = () => 0x5a;
    m.mmioRead = (addr) => (addr === 0xf0104 ? 0x77665544 : 0);
    const r = runToHlt(m);
    expect(r).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('Hi');
    const regs = m.vcpu.getRegs();
    expect(regs.rbx & 0xffn).toBe(0x5an);
    expect(m.mem[0]).toBe(0x34);
    expect(m.mmio).toEqual([
      { addr: 0xf0100, len: 4, write: true, value: 0xabcd },
      { addr: 0xf0104, len: 4, write: false, value: 0x77665544 },
    ]);
    expect(regs.rdx).toBe(0x77665544n);
  });
});
