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

  it('2-level paging maps frames at and above 2 GiB (4 KiB PTE to 0xfee00000, PSE 4 MiB page to 0xc0000000)', () => {
    // A non-PAE i386 Linux reaches the LAPIC through a fixmap PTE like 0xfee0017b; entries
    // with bit 31 set must not turn into negative (not-present) addresses.
    const code = assemble(`${BOOT32}
      mov $14, %eax; mov $pf_handler, %ebx; mov $0x8e, %ecx; call set_gate32
      lidt idtr
      mov $0x10000, %edi
      xor %eax, %eax
      mov $2048, %ecx
      rep stosl
      mov $0x11000, %edi
      mov $0x3, %eax
    1: stosl
      add $0x1000, %eax
      cmp $0x11000 + 4096, %edi
      jne 1b
      movl $0x11003, 0x10000
      movl $0xfee0017b, 0x11000 + 0x300 * 4   # 0x300000 -> 0xfee00000 (PCD PWT G, as Linux's fixmap)
      movl $0xc0000083, 0x10000 + 2 * 4       # 8 MiB: 4 MiB page -> 0xc0000000
      mov %cr4, %eax
      or $0x90, %eax                    # PSE | PGE
      mov %eax, %cr4
      mov $0x10000, %eax
      mov %eax, %cr3
      mov %cr0, %eax
      or $0x80010000, %eax
      mov %eax, %cr0
      mov 0x300020, %eax
      call puthex
      movl $0x12345678, 0x300024
      mov 0x800000 + 0x1234, %eax
      call puthex
      hlt
    pf_handler:
      mov $'P', %al
      call putc
      mov %cr2, %eax
      call puthex
      hlt
    idtr: .word 2047
      .long 0x20000
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const apicPage = new Uint8Array(4096);
    const high = new Uint8Array(0x400000);
    m.memslots.set({ slot: 1, flags: 0, guestPhysAddr: 0xfee00000, memorySize: 4096, userspaceAddr: apicPage });
    m.memslots.set({ slot: 2, flags: 0, guestPhysAddr: 0xc0000000, memorySize: 0x400000, userspaceAddr: high });
    new DataView(apicPage.buffer).setUint32(0x20, 0xabcd0014, true);
    new DataView(high.buffer).setUint32(0x1234, 0x87654321, true);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('ABCD0014' + '87654321');
    expect(new DataView(apicPage.buffer).getUint32(0x24, true)).toBe(0x12345678);
    expect(r.name).toBe('HLT');
  });

  it('SSE and x87 memory operands at linear addresses at and above 2 GiB (int32 in legacy modes) are memory, not registers', () => {
    // i386 Linux user stacks sit at 0xbf......: glibc's strchr does movd 0xc(%esp), %xmm1.
    const code = assemble(`${BOOT32}
      mov %cr4, %eax
      or $0x600, %eax                   # OSFXSR | OSXMMEXCPT
      mov %eax, %cr4
      mov %cr0, %eax
      and $~4, %eax
      or $2, %eax
      mov %eax, %cr0
      fninit
      mov $0x80001000, %esp
      pushl $0x63
      mov $0x12345678, %eax
      movd (%esp), %xmm1                # memory (a register form would read ESP)
      movd %xmm1, %eax
      call puthex
      movd %xmm1, 0x80000800            # store form
      mov 0x80000800, %eax
      call puthex
      fildl (%esp)                      # x87 memory form
      fistpl 0x80000804
      mov 0x80000804, %eax
      call puthex
      hlt
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const high = new Uint8Array(0x2000);
    m.memslots.set({ slot: 1, flags: 0, guestPhysAddr: 0x80000000, memorySize: 0x2000, userspaceAddr: high });
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('00000063' + '00000063' + '00000063');
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

  it('RETF to an outer privilege level, SYSENTER/SYSEXIT round trip, data segments nulled on the way out', () => {
    const code = assemble(`${BOOT32}
      mov $0x174, %ecx          # SYSENTER_CS
      mov $0x08, %eax
      xor %edx, %edx
      wrmsr
      mov $0x175, %ecx          # SYSENTER_ESP
      mov $0x80000, %eax
      wrmsr
      mov $0x176, %ecx          # SYSENTER_EIP
      mov $kentry, %eax
      wrmsr
      mov $0x10, %ax
      mov %ax, %fs              # a DPL-0 data segment in FS: nulled by the return to ring 3
      pushl $0x23
      pushl $0x60000
      pushl $0x1b
      pushl $user
      lret
    user:
      mov %cs, %eax
      call puthex
      mov %fs, %eax
      call puthex
      mov $0x23, %ax
      mov %ax, %ds
      mov %esp, %ecx            # SYSEXIT: ESP <- ECX, EIP <- EDX
      mov $back, %edx
      sysenter
    back:
      mov %cs, %eax
      call puthex
      mov %ss, %eax
      call puthex
      hlt                       # #GP in ring 3
    kentry:
      mov %cs, %eax
      call puthex
      mov %esp, %eax
      call puthex
      sysexit
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    m.interceptOverride = (_c, e) => e.reason === 1 ? undefined : e.reason === 12 ? true : undefined;
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('0000001B' + '00000000' + '00000008' + '00080000' + '0000001B' + '00000023');
    expect(r.name).toBe('EXCEPTION');
    expect(m.cpu.exit.vector).toBe(13);
  });

  it('virtual-8086 mode: IRET into VM86, real-mode addressing, INT n from VM86 through a 32-bit gate pushes ES DS FS GS', () => {
    const code = assemble(`${BOOT32}
      mov $0x30, %eax; mov $int30_handler, %ebx; mov $0xee, %ecx; call set_gate32
      lidt idtr
      movl $0x80000, 0x30004
      movl $0x10, 0x30008
      mov $0x28, %ax
      ltr %ax
      # VM86 code at 0x9000:0 -> linear 0x90000
      mov $v86code, %esi
      mov $0x90000, %edi
      mov $v86end - v86code, %ecx
      rep movsb
      pushl $0x1111             # GS
      pushl $0x2222             # FS
      pushl $0x0               # DS
      pushl $0x3333             # ES
      pushl $0x8000             # SS
      pushl $0xfffe             # SP
      pushl $0x23202            # EFLAGS: VM, IOPL 3, IF
      pushl $0x9000             # CS
      pushl $0                  # IP
      iret
    v86code:
      .code16
      mov $'v', %al
      out %al, $0xe9
      mov %cs, %ax
      mov %ax, %ds
      movb $0x5a, 0x100         # DS:0x100 = linear 0x90100
      int $0x30
      .code32
    v86end:
    int30_handler:
      mov 8(%esp), %eax         # EFLAGS
      shr $17, %eax
      and $1, %eax
      call puthex
      mov 20(%esp), %eax        # pushed ES (frame: EIP CS EFLAGS ESP SS ES DS FS GS)
      call puthex
      mov 24(%esp), %eax        # DS
      call puthex
      mov 32(%esp), %eax        # GS
      call puthex
      mov %ds, %eax             # nulled
      call puthex
      hlt
    idtr: .word 2047
      .long 0x20000
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('v' + '00000001' + '00003333' + '00009000' + '00001111' + '00000000');
    expect(m.mem[0x90100]).toBe(0x5a);
    expect(r.name).toBe('HLT');
  });

  it('hardware task switches: CALL to a TSS and IRET back (NT, back link, busy bits); #DF through a task gate', () => {
    const code = assemble(`${BOOT32}
      movl $0x10000067, gdt + 0x30      # TSS B at 0x31000 (double-fault task)
      movl $0x00008903, gdt + 0x34
      movl $0x20000067, gdt + 0x38      # TSS C at 0x32000
      movl $0x00008903, gdt + 0x3c
      lgdt gdtr2
      mov $0x28, %ax
      ltr %ax
      # TSS B and C: EIP, EFLAGS, ESP, segment selectors
      mov $0x31000, %edi
      movl $df_task, 0x20(%edi)
      movl $0x2, 0x24(%edi)
      movl $0x70000, 0x38(%edi)
      call init_segs
      mov $0x32000, %edi
      movl $c_task, 0x20(%edi)
      movl $0x2, 0x24(%edi)
      movl $0x68000, 0x38(%edi)
      call init_segs
      # IDT: vector 8 = task gate to TSS B; vector 13 not present
      movl $0x00300000, 0x20000 + 8 * 8
      movl $0x00008500, 0x20000 + 8 * 8 + 4
      lidt idtr
      lcall $0x38, $0               # task switch to C
      mov $'R', %al
      call putc
      pushf
      pop %eax
      shr $14, %eax
      and $1, %eax                  # NT is clear again
      call puthex
      int $13                       # gate 13 not present: #NP -> #DF -> task gate
    bad: jmp bad
    c_task:
      mov $'C', %al
      call putc
      movzwl 0x32000, %eax          # back link = TSS A
      call puthex
      pushf
      pop %eax
      shr $14, %eax
      and $1, %eax                  # NT set in the nested task
      call puthex
      iret
    df_task:
      mov $'D', %al
      call putc
      pop %eax                      # the #DF error code (0)
      call puthex
      str %ax
      movzwl %ax, %eax
      call puthex
      hlt
    init_segs:
      movw $0x10, 0x48(%edi)
      movw $0x08, 0x4c(%edi)
      movw $0x10, 0x50(%edi)
      movw $0x10, 0x54(%edi)
      movw $0x10, 0x58(%edi)
      movw $0x10, 0x5c(%edi)
      ret
    .p2align 3
    gdtr2: .word 0x47
      .long gdt
    idtr: .word 2047
      .long 0x20000
    ${LIB32}
    `.replace('.quad 0                   # 0x30 call gate (built at run time)', '.quad 0, 0, 0'), 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('C' + '00000028' + '00000001' + 'R' + '00000000' + 'D' + '00000000' + '00000030');
    expect(r.name).toBe('HLT');
  });

  it('legacy PAE paging (3 levels): 2 MiB and 4 KiB pages, NX with EFER.NXE, #PF error codes', () => {
    const code = assemble(`${BOOT32}
      mov $14, %eax; mov $pf_handler, %ebx; mov $0x8e, %ecx; call set_gate32
      lidt idtr
      # PDPT at 0x10000 (4 entries), PD0 at 0x11000, PT at 0x12000
      mov $0x10000, %edi
      xor %eax, %eax
      mov $(3 * 1024), %ecx
      rep stosl
      movl $0x11001, 0x10000                # PDPTE0 -> PD0 (present; no R/W U/S in PAE PDPTEs)
      movl $0x000083, 0x11000               # PD0[0]: 2 MiB page at 0, RW
      movl $0x12003, 0x11008                # PD0[1]: -> PT (covers 2..4 MiB)
      movl $0x000003, 0x12000               # 0x200000 -> phys 0x0, RW
      movl $0x001001, 0x12008               # 0x201000 -> phys 0x1000, read-only
      movl $0x002003, 0x12010               # 0x202000 -> phys 0x2000, RW, NX:
      movl $0x80000000, 0x12014
      mov $0xc0000080, %ecx                 # EFER.NXE
      rdmsr
      or $0x800, %eax
      wrmsr
      mov %cr4, %eax
      or $0x20, %eax
      mov %eax, %cr4
      mov $0x10000, %eax
      mov %eax, %cr3
      mov %cr0, %eax
      or $0x80010000, %eax
      mov %eax, %cr0
      movl $0x11223344, 0x200010            # through the 4 KiB PTE: lands at phys 0x10
      mov 0x10, %eax
      call puthex
      mov $0x201000, %eax
      mov %ebx, (%eax)                      # #PF 3
      mov $0x600000, %eax
      mov (%eax), %ebx                      # #PF 0 (PD0[3] not present)
      movb $0xc3, 0x2000                    # RET at phys 0x2000 (= linear 0x202000, NX)
      mov $0x202000, %eax
      call *%eax                            # #PF 0x11
      hlt
    pf_handler:
      mov $'P', %al
      call putc
      pop %eax
      call puthex
      mov %cr2, %eax
      call puthex
      mov %cr2, %eax
      cmp $0x202000, %eax
      je 1f
      addl $2, (%esp)
      iret
    1: hlt
    idtr: .word 2047
      .long 0x20000
    ${LIB32}
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    const r = runToHlt(m);
    expect(consoleText(m)).toBe('11223344' + 'P00000003' + '00201000' + 'P00000000' + '00600000' + 'P00000011' + '00202000');
    expect(r.name).toBe('HLT');
  });
});

describe('engine: BCD adjust instructions (SDM examples)', () => {
  it('DAA, DAS, AAA, AAS, AAM, AAD', () => {
    const code = assemble(`
      .code16
        mov $0x79, %al
        add $0x35, %al          # 0xAE
        daa                     # 0x14, CF=1
        setc %bl
        mov %al, %bh
        mov $0x35, %al
        sub $0x47, %al          # 0xEE
        das                     # 0x88, CF=1
        setc %cl
        mov %al, %ch
        mov $0x0008, %ax
        add $0x06, %al          # 0x0E
        aaa                     # AX = 0x0104, CF=1
        mov %ax, %dx
        mov $0x0102, %ax
        sub $0x05, %al          # AL=0xFD
        aas                     # AX = 0x0007 (AH-1 = 0, AL = 7), CF=1
        mov %ax, %si
        mov $63, %al
        aam                     # AH=6, AL=3
        mov %ax, %di
        mov $0x0607, %ax
        aad                     # AL = 67
        hlt
    `, 0x7c00);
    const m = createMachine(code, 0x7c00);
    runToHlt(m);
    const R = m.cpu.regs;
    expect(R[6]! & 0xffff).toBe(0x1401);
    expect(R[2]! & 0xffff).toBe(0x8801);
    expect(R[4]! & 0xffff).toBe(0x0104);
    expect(R[12]! & 0xffff).toBe(0x0007);
    expect(R[14]! & 0xffff).toBe(0x0603);
    expect(R[0]! & 0xffff).toBe(67);
  });
});
