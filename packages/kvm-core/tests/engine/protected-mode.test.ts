import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';

/** 32-bit helpers: putc(AL), puthex(EAX), set_gate32(EAX=vector, EBX=handler, ECX=attr). */
const LIB32 = `
  .code32
  putc: out %al, $0xe9
    ret
  puthex:
    push %ecx
    push %eax
    mov $8, %ecx
  1: rol $4, %eax
    push %eax
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $7, %al
  2: call putc
    pop %eax
    dec %ecx
    jnz 1b
    pop %eax
    pop %ecx
    ret
  set_gate32:
    lea 0x20000(,%eax,8), %edx
    mov %bx, (%edx)
    movw $0x08, 2(%edx)
    movb $0, 4(%edx)
    mov %cl, 5(%edx)
    shr $16, %ebx
    mov %bx, 6(%edx)
    ret
`;

const BOOT32 = `
  .code16
  start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    lgdt gdtr
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmp $0x08, $pm32
  .p2align 3
  gdt:
    .quad 0
    .quad 0x00cf9a000000ffff  # 0x08 ring-0 code
    .quad 0x00cf92000000ffff  # 0x10 ring-0 data
    .quad 0x00cffa000000ffff  # 0x18 ring-3 code
    .quad 0x00cff2000000ffff  # 0x20 ring-3 data
    .quad 0x0000890300000067  # 0x28 32-bit TSS at 0x30000
    .quad 0                   # 0x30 call gate (built at run time)
  gdt_end:
  gdtr: .word gdt_end - gdt - 1
    .long gdt
  .code32
  pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x90000, %esp
`;

describe('engine: 32-bit protected mode', () => {
  it('2-level paging with 4 KiB and PSE 4 MiB pages: #PF error codes and CR2 in ring 0 and ring 3, call gate, INT from ring 3', () => {
    const code = assemble(`${BOOT32}
      mov $14, %eax; mov $pf_handler, %ebx; mov $0x8e, %ecx; call set_gate32
      mov $0x30, %eax; mov $int30_handler, %ebx; mov $0xee, %ecx; call set_gate32
      lidt idtr
      # call gate at GDT 0x30: selector 0x08, DPL 3, 32-bit
      mov $gate_target, %eax
      mov %ax, gdt + 0x30
      movw $0x08, gdt + 0x32
      movw $0xec00, gdt + 0x34
      shr $16, %eax
      mov %ax, gdt + 0x36
      # page directory 0x10000; page table 0x11000 (first 4 MiB, user RW)
      mov $0x10000, %edi
      xor %eax, %eax
      mov $2048, %ecx
      rep stosl
      mov $0x11000, %edi
      mov $0x7, %eax
    1: stosl
      add $0x1000, %eax
      cmp $0x11000 + 4096, %edi
      jne 1b
      movl $0x11007, 0x10000
      movl $0x000081, 0x10004          # 4 MiB page: linear 4 MiB -> physical 0, supervisor, read-only
      movl $0, 0x11000 + 0x300 * 4      # 0x300000 not present
      movl $0x301005, 0x11000 + 0x301 * 4  # user read-only
      movl $0x302003, 0x11000 + 0x302 * 4  # supervisor RW
      mov %cr4, %eax
      or $0x10, %eax                    # PSE
      mov %eax, %cr4
      mov $0x10000, %eax
      mov %eax, %cr3
      mov %cr0, %eax
      or $0x80010000, %eax              # PG | WP
      mov %eax, %cr0
      mov $0x300000, %eax
      mov (%eax), %ebx                  # #PF 0
      mov $0x301000, %eax
      mov %ebx, (%eax)                  # #PF 3 (WP)
      mov $0x400010, %eax
      mov %ebx, (%eax)                  # #PF 3 on the 4 MiB page
      mov (%eax), %ebx                  # readable: no fault
      mov $'r', %al
      call putc
      # TSS: ESP0 / SS0, then to ring 3
      movl $0x80000, 0x30004
      movl $0x10, 0x30008
      mov $0x28, %ax
      ltr %ax
      pushl $0x23
      pushl $0x60000
      pushl $0x202
      pushl $0x1b
      pushl $user
      iret
    user:
      mov $0x23, %ax
      mov %ax, %ds
      mov %ax, %es
      mov $0x302000, %eax
      mov (%eax), %ebx                  # #PF 5: user reads a supervisor page
      mov $0x301000, %eax
      mov %ebx, (%eax)                  # #PF 7: user writes a read-only page
      lcall $0x33, $0                   # call gate (RPL 3) to ring 0
      mov %cs, %eax
      call puthex
      int $0x30
    bad: jmp bad
    gate_target:
      mov %cs, %eax
      call puthex
      mov %ss, %eax
      call puthex
      lret
    pf_handler:
      mov $'P', %al
      call putc
      pop %eax
      call puthex
      mov %cr2, %eax
      call puthex
      addl $2, (%esp)
      iret
    int30_handler:
      mov $'X', %al
      call putc
      mov 4(%esp), %eax                # CS of the interrupted code
      call puthex
      hlt
    idtr: .word 2047
      .long 0x20000
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe(
      'P00000000' + '00300000' + 'P00000003' + '00301000' + 'P00000003' + '00400010' + 'r' +
      'P00000005' + '00302000' + 'P00000007' + '00301000' +
      '00000008' + '00000010' + '0000001B' + 'X0000001B');
    expect(r.name).toBe('HLT');
  });

  it('a #GP while delivering #GP escalates to #DF, and a fault in #DF delivery is a triple fault (shutdown)', () => {
    const code = assemble(`${BOOT32}
      lidt idtr
      # vector 13's gate is not present -> #NP... no: the IDT limit only covers vector 0..12 -> #GP(idt) -> #DF -> beyond limit -> triple fault
      int $13
    idtr: .word 13 * 8 - 1
      .long 0x20000
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(r.name).toBe('TRIPLE_FAULT');
    expect(m.cpu.shutdown).toBe(true);
  });
});
