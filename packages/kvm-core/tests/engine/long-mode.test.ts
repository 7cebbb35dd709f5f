import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';

/** Shared 64-bit helpers: putc (AL), puthex (EAX as 8 hex digits), set_gate. */
export const LIB64 = `
  .code64
  putc: out %al, $0xe9
    ret
  puthex:
    push %rcx
    push %rax
    mov $8, %ecx
  1: rol $4, %eax
    push %rax
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $7, %al
  2: call putc
    pop %rax
    dec %ecx
    jnz 1b
    pop %rax
    pop %rcx
    ret
  # set_gate(rdi=vector, rsi=handler, edx=type/attr byte, ecx=ist)
  set_gate:
    mov %rdi, %rax
    shl $4, %rax
    add $0x20000, %rax
    mov %si, (%rax)
    movw $0x10, 2(%rax)
    mov %cl, 4(%rax)
    mov %dl, 5(%rax)
    mov %rsi, %r8
    shr $16, %r8
    mov %r8w, 6(%rax)
    shr $16, %r8
    mov %r8d, 8(%rax)
    movl $0, 12(%rax)
    ret
`;

/** Real mode -> 32-bit protected mode -> long mode with 4-level paging (identity, 2 MiB pages). */
export const BOOT_TO_LONG = `
  .code16
  start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    mov $'R', %al
    out %al, $0xe9
    lgdt gdtr
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmp $0x08, $pm32
  .code32
  pm32:
    mov $0x18, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x90000, %esp
    mov $'P', %al
    out %al, $0xe9
    # page tables: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 (2 MiB pages, first 8 MiB)
    mov $0x10000, %edi
    xor %eax, %eax
    mov $(3 * 4096 / 4), %ecx
    rep stosl
    movl $0x11007, 0x10000
    movl $0x12007, 0x11000
    movl $0x000087, 0x12000
    movl $0x200087, 0x12008
    movl $0x400087, 0x12010
    movl $0x600087, 0x12018
    mov %cr4, %eax
    or $0x20, %eax          # PAE
    mov %eax, %cr4
    mov $0x10000, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx   # EFER.LME | SCE
    rdmsr
    or $0x101, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax
    mov %eax, %cr0
    ljmp $0x10, $lm64
  .p2align 3
  gdt:
    .quad 0
    .quad 0x00cf9a000000ffff  # 0x08 code32
    .quad 0x00af9a000000ffff  # 0x10 code64 (kernel)
    .quad 0x00cf92000000ffff  # 0x18 data (kernel)
    .quad 0x00cffa000000ffff  # 0x20 user code32
    .quad 0x00cff2000000ffff  # 0x28 user data
    .quad 0x00affa000000ffff  # 0x30 user code64
    .quad 0x0000890300000067  # 0x38 TSS at 0x30000 (64-bit available TSS)
    .quad 0
  gdt_end:
  gdtr: .word gdt_end - gdt - 1
    .long gdt
  .code64
  lm64:
    mov $0x18, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x90000, %rsp
    mov $'L', %al
    call putc
`;

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
});
