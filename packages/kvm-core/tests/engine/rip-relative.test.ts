import { describe, expect, it } from 'vitest';
import { assemble, createMachine, enterLongMode, runToHlt } from './harness';

/**
 * RIP-relative operands are relative to the end of the instruction, immediates included
 * (SDM Vol. 2A 2.2.1.6). Group 3 (F6/F7) has an immediate only for TEST (/0, /1): Linux's
 * startup_64 does `testl $1, __pgtable_l5_enabled(%rip)`, and reading 4 bytes early
 * turned on CR4.LA57 (#GP, triple fault).
 */
describe('engine: RIP-relative operands followed by an immediate', () => {
  it('TEST r/m, imm (F6 /0, F7 /0) with a RIP-relative operand reads the right address', () => {
    const code = assemble(`.code64
      xor %ebx, %ebx
      testl $1, val(%rip)      # val = 0: ZF=1
      jnz 1f
      or $1, %ebx
    1:
      testw $0x100, val2(%rip) # val2 = 0x0100
      jz 2f
      or $2, %ebx
    2:
      testb $0x80, val3(%rip)  # val3 = 0x80
      jz 3f
      or $4, %ebx
    3:
      testq $2, val4(%rip)     # val4 = 2 (REX.W, imm32)
      jz 4f
      or $8, %ebx
    4:
      notl val5(%rip)          # F7 /2: no immediate
      cmpl $0xfffffff0, val5(%rip)
      jne 5f
      or $16, %ebx
    5:
      hlt
      .align 8
      .long 0xffffffff         # what the 4-bytes-early read used to see
    val: .long 0
      .long 0
    val2: .word 0x100
      .word 0
    val3: .byte 0x80
      .byte 0, 0, 0
    val4: .quad 2
    val5: .long 0xf
    `, 0x100000);
    const m = createMachine(code, 0x100000);
    enterLongMode(m);
    m.cpu.rip = 0x100000;
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(m.cpu.regs[6]! & 0xff).toBe(31);
  });
});
