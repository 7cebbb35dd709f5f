import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';
import { BOOT_TO_LONG, LIB64 } from './guest-lib';

/**
 * DIV / IDIV quotient range (SDM Vol. 2A DIV/IDIV: #DE when the quotient is too large for
 * the destination), at the edges, on the engine's double-precision path (dividends below 2^52).
 * Each case prints the quotient's low 32 bits, or D when #DE was taken (the handler resumes at R15).
 */
describe('engine: DIV/IDIV quotient range', () => {
  it('raises #DE exactly when the quotient does not fit (32- and 64-bit, signed and unsigned)', () => {
    const one = (setup: string, insn: string): string => `
      lea 1f(%rip), %r15
      ${setup}
      ${insn}
      call puthex
    1:`;
    const code = assemble(`${BOOT_TO_LONG}
      mov $0, %rdi; lea de_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      lidt idtr(%rip)
      ${one('mov $1, %edx; mov $0xffffffff, %eax; mov $2, %ecx', 'div %ecx')}
      ${one('mov $2, %edx; xor %eax, %eax; mov $2, %ecx', 'div %ecx')}
      ${one('xor %edx, %edx; mov $0x7fffffff, %eax; mov $1, %ecx', 'idiv %ecx')}
      ${one('xor %edx, %edx; mov $0x80000000, %eax; mov $1, %ecx', 'idiv %ecx')}
      ${one('mov $-1, %edx; mov $0x80000000, %eax; mov $1, %ecx', 'idiv %ecx')}
      ${one('mov $-1, %edx; mov $0x80000000, %eax; mov $-1, %ecx', 'idiv %ecx')}
      ${one('mov $-1, %edx; mov $0x7ffffffe, %eax; mov $-2, %ecx', 'idiv %ecx')}
      ${one('xor %edx, %edx; mov $0x10000000000, %rax; mov $2, %rcx', 'div %rcx; shr $8, %rax')}
      ${one('mov $-1, %rdx; mov $-0x10000000000, %rax; mov $-1, %rcx', 'idiv %rcx; shr $8, %rax')}
      ${one('mov $-1, %rdx; mov $-0x10000000001, %rax; mov $0x100000000, %rcx', 'idiv %rcx; mov %edx, %eax')}
      hlt
    de_handler:
      mov $'D', %al
      call putc
      mov %r15, (%rsp)
      iretq
    idtr: .word 4095
      .quad 0x20000
    ${LIB64}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(consoleText(m)).toBe('RPL'
      + 'FFFFFFFF' // 0x1_ffffffff / 2
      + 'D' // 0x2_00000000 / 2 = 2^32
      + '7FFFFFFF' // 0x7fffffff / 1
      + 'D' // 2^31 / 1 (signed)
      + '80000000' // -2^31 / 1
      + 'D' // -2^31 / -1 = 2^31
      + '40000001' // -0x80000002 / -2
      + '80000000' // 2^40 / 2 = 2^39, >> 8
      + '00000000' // -2^40 / -1 = 2^40, >> 8: low 32 bits
      + 'FFFFFFFF'); // -0x100_0000_0001 / 2^32: q -256, remainder -1 (EDX)
  });
});
