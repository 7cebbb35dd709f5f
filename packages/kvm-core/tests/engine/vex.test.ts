/**
 * The VEX prefix in long mode: BMI1/BMI2 instructions run (ANDN, 64-bit PDEP with a mask
 * spanning both halves), and the encodings the SDM makes #UD raise it: VEX.L = 1, a legacy
 * 66 prefix before VEX, an AVX opcode (no AVX here), RORX with VEX.vvvv != 1111.
 * (Operand-exact behaviour is checked against the host CPU by the ex-misc exercisers.)
 */
import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';
import { BOOT_TO_LONG, LIB64 } from './guest-lib';

describe('engine: VEX-encoded BMI and its #UD cases', () => {
  it('runs ANDN and PDEP; raises #UD for VEX.L=1, 66+VEX, AVX and a bad RORX vvvv', () => {
    const code = assemble(`${BOOT_TO_LONG}
      mov $6, %rdi; lea ud_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      lidt idtr(%rip)
      mov $0xf0f0, %ecx
      mov $0xff00, %edx
      andn %ecx, %edx, %eax        # ~0xff00 & 0xf0f0
      call puthex
      mov $0xb, %rax
      mov $0x8000010100000001, %rbx
      pdep %rbx, %rax, %rcx         # source bits 1,1,0,1 -> mask bits 0, 32, 40, 63
      mov %rcx, %rax
      shr $32, %rax
      call puthex
      mov %ecx, %eax
      call puthex
      mov $5, %r15d
      .byte 0xc4, 0xe2, 0x7c, 0xf2, 0xc1        # ANDN with VEX.L = 1
      mov $6, %r15d
      .byte 0x66, 0xc4, 0xe2, 0x78, 0xf2, 0xc1  # 66 before VEX
      mov $5, %r15d
      .byte 0xc4, 0xe2, 0x79, 0x00, 0xc1        # VPSHUFB (AVX)
      mov $6, %r15d
      .byte 0xc4, 0xe3, 0x3b, 0xf0, 0xc1, 0x0b  # RORX with vvvv = 1000
      mov $6, %r15d
      .byte 0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 0x0b  # RORX $11, %ecx, %eax: valid
      call puthex
      hlt
    ud_handler:
      mov $'U', %al
      call putc
      add %r15, (%rsp)
      iretq
    .p2align 3
    idtr: .word 4095
      .quad 0x20000
    ${LIB64}`, 0x7c00);
    const m = createMachine(code, 0x7c00);
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    // RORX $11 of 0x00000001 (ECX after PDEP's low half) = 0x00200000.
    expect(consoleText(m)).toBe('RPL' + '000000F0' + '80000001' + '00000001' + 'UUUU' + '00200000');
  });
});
