/** Guest code shared by the engine tests (GNU as source). */
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

