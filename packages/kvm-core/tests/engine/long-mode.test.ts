import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';
import { BOOT_TO_LONG, LIB64 } from './guest-lib';

describe('engine: real -> protected -> long mode', () => {
  it('boots into long mode, takes #DE, #PF (error code, CR2), INT n, SYSCALL/SYSRET and an IST interrupt from ring 3', () => {
    const code = assemble(`${BOOT_TO_LONG}
      # IDT at 0x20000 with 256 16-byte gates
      mov $0, %rdi; lea de_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      mov $14, %rdi; lea pf_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      mov $0x80, %rdi; lea int80_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      mov $0x81, %rdi; lea int81_handler(%rip), %rsi; mov $0xee, %edx; mov $1, %ecx; call set_gate
      lidt idtr(%rip)
      # #DE
      xor %ecx, %ecx
      mov $5, %eax
      xor %edx, %edx
      div %rcx
      # #PF on a not-present PDPT entry
      mov $0x40000123, %rax
      mov (%rax), %rbx
      # INT n
      int $0x80
      # TSS: RSP0 and IST1
      movq $0x80000, 0x30004
      movq $0x70000, 0x30024
      mov $0x38, %ax
      ltr %ax
      # SYSCALL MSRs
      mov $0xc0000081, %ecx
      xor %eax, %eax
      mov $0x00230010, %edx
      wrmsr
      mov $0xc0000082, %ecx
      lea syscall_entry(%rip), %rax
      xor %edx, %edx
      wrmsr
      mov $0xc0000084, %ecx
      mov $0x200, %eax
      xor %edx, %edx
      wrmsr
      # to ring 3 with IRETQ
      pushq $0x2b
      pushq $0x60000
      pushq $0x202
      pushq $0x33
      lea user(%rip), %rax
      push %rax
      iretq
    user:
      mov $42, %rdi
      syscall
      cmp $43, %rdi
      jne bad
      int $0x81
    bad:
      jmp bad
    syscall_entry:
      mov $'S', %al
      call putc
      inc %rdi
      sysretq
    de_handler:
      mov $'D', %al
      call putc
      addq $3, (%rsp)
      iretq
    pf_handler:
      mov $'P', %al
      call putc
      pop %rax
      call puthex
      mov %cr2, %rax
      call puthex
      addq $3, (%rsp)
      iretq
    int80_handler:
      mov $'I', %al
      call putc
      iretq
    int81_handler:
      # On the IST1 stack, frame: RIP CS RFLAGS RSP SS
      mov %rsp, %rax
      call puthex
      mov 8(%rsp), %rax
      call puthex
      mov 32(%rsp), %rax
      call puthex
      mov %cs, %ax
      call puthex
      hlt
    idtr: .word 4095
      .quad 0x20000
    ${LIB64}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('RPLD' + 'P' + '00000000' + '40000123' + 'I' + 'S' + '0006FFD8' + '00000033' + '0000002B' + '00000010');
    expect(r.name).toBe('HLT');
    expect(m.cpu.mode64).toBe(true);
    expect(m.cpu.cr2).toBe(0x40000123);
  });

  it('TEST r/m, imm with a RIP-relative operand addresses from the end of the instruction (after the immediate)', () => {
    const code = assemble(`${BOOT_TO_LONG}
      # Linux head_64.S: testl $1, __pgtable_l5_enabled(%rip) with a 1 just before the variable.
      testl $1, flag(%rip)
      jnz bad
      testb $0x80, flag8(%rip)
      jz bad
      testw $0x8000, flag16(%rip)
      jz bad
      testq $1, flag(%rip)
      jnz bad
      mov $'K', %al
      call putc
      hlt
    bad:
      mov $'X', %al
      call putc
      hlt
      .balign 8
    before: .long 1
    flag: .long 0, 0
    before8: .byte 0
    flag8: .byte 0x80
    before16: .word 0
    flag16: .word 0x8000
    ${LIB64}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    runToHlt(m);
    expect(consoleText(m)).toBe('RPLK');
  });
});
