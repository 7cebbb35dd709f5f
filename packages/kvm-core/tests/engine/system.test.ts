import { describe, expect, it } from 'vitest';
import { ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_HLT, ENGINE_EXIT_NAMES as ENGINE_EXIT_NAMES_T } from '../../src/x86/engine/guest-mode';
import { msrRead, msrValue, msrWrite } from '../../src/x86/engine/msr';
import { assemble, consoleText, createMachine, enterLongMode, runToHlt, type Machine } from './harness';

function machine64(src: string): Machine {
  const m = createMachine(assemble(`.code64\n${src}`, 0x8000), 0x8000);
  enterLongMode(m);
  m.cpu.rip = 0x8000;
  m.cpu.regs[8] = 0x90000;
  return m;
}

describe('engine: paging features and system instructions', () => {
  it('IA32_SPEC_CTRL holds IBRS and refuses reserved bits (#GP); IA32_PRED_CMD takes IBPB and is write-only', () => {
    const m = machine64(`
      mov $0x48, %ecx           # SPEC_CTRL = IBRS
      mov $1, %eax
      xor %edx, %edx
      wrmsr
      rdmsr
      mov %eax, %r12d
      mov $0x49, %ecx           # PRED_CMD = IBPB
      wrmsr
      mov $0x48, %ecx
      mov $2, %eax              # STIBP: not enumerated, reserved here
      wrmsr
      hlt
    `);
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_EXCEPTION;
    expect(m.cpu.run(100)).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.vector).toBe(13);
    expect(m.cpu.regs[24]).toBe(1);
    // The refused write left SPEC_CTRL as it was; PRED_CMD cannot be read.
    expect(msrRead(m.cpu, 0x48)).toBe(true);
    expect(msrValue.lo).toBe(1);
    expect(msrRead(m.cpu, 0x49)).toBe(false);
    expect(msrWrite(m.cpu, 0x49, 0, 1)).toBe(false);
  });

  it('NX (EFER.NXE): fetching from an XD page is #PF with I/D set; 1 GiB pages translate', () => {
    const m = machine64(`
      mov $0x40000010, %rax     # 1 GiB page (PDPT entry 1) -> physical 0
      mov (%rax), %ebx
      mov $0x200000, %rax
      jmp *%rax                 # 2 MiB page with XD set
    `);
    const dv = new DataView(m.mem.buffer);
    dv.setUint32(0x11000 + 8, 0x87 | 0x80, true); // PDPT[1]: PS, 1 GiB at 0
    dv.setUint32(0x12000 + 8 + 4, 0x80000000, true); // PD[1] XD
    m.mem.set([0x11, 0x22, 0x33, 0x44], 0x10);
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_EXCEPTION;
    const r = m.cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.regs[6]).toBe(0x44332211);
    expect(m.cpu.exit.vector).toBe(14);
    expect(m.cpu.exit.errorCode).toBe(0x11);
    expect(m.cpu.exit.linearAddress).toBe(0x200000);
  });

  it('reserved bits in a paging entry give #PF with RSVD; CR0.WP=0 lets ring 0 write read-only pages', () => {
    const m = machine64(`
      mov $0x200000, %rax
      movl $5, (%rax)           # read-only page, WP=0: allowed
      mov %cr0, %rbx
      or $0x10000, %rbx
      mov %rbx, %cr0            # WP=1
      movl $6, (%rax)           # now #PF 3
    `);
    const dv = new DataView(m.mem.buffer);
    dv.setUint32(0x12000 + 8, (1 << 21) | 0x85, true); // PD[1]: user, read-only
    m.cpu.cr0 &= ~0x10000;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_EXCEPTION;
    let r = m.cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.mem[0x200000]).toBe(5);
    expect(m.cpu.exit.errorCode).toBe(3);
    // A reserved bit (bit 51) in the PD entry.
    dv.setUint32(0x12000 + 8 + 4, 1 << 19, true);
    m.cpu.flushTlb();
    r = m.cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.errorCode).toBe(0xb); // P | W | RSVD
  });

  it('CMPXCHG8B/16B, XSAVE/XGETBV, RDTSCP/RDPID, SWAPGS, LAR/LSL', () => {
    const m = machine64(`
      mov $0x100000, %rsi
      movq $0x1111, (%rsi)
      movq $0x2222, 8(%rsi)
      mov $0x1111, %eax
      xor %edx, %edx
      mov $0xaaaa, %ebx
      mov $0xbbbb, %ecx
      cmpxchg8b (%rsi)          # equal: stores ECX:EBX
      setz %r8b
      mov $0x2222, %edx
      xor %eax, %eax
      cmpxchg16b (%rsi)         # RDX:RAX = 0x2222:0 != 0x2222:(0xbbbb0000aaaa) -> loads
      setz %r9b
      mov %rax, %r10
      mov %cr4, %rax
      or $0x40000, %rax         # OSXSAVE
      mov %rax, %cr4
      xor %ecx, %ecx
      xgetbv
      mov %eax, %r11d
      mov $3, %eax              # enable SSE state in XCR0
      xor %edx, %edx
      xsetbv
      mov $0x101000, %rdi
      xsave (%rdi)
      mov $0xc0000103, %ecx     # TSC_AUX
      mov $7, %eax
      xor %edx, %edx
      wrmsr
      rdtscp
      mov %ecx, %r12d
      rdpid %r13
      mov $0xc0000102, %ecx     # KERNEL_GS_BASE
      mov $0x5000, %eax
      xor %edx, %edx
      wrmsr
      swapgs
      mov $0xc0000101, %ecx     # GS_BASE
      rdmsr
      mov %eax, %r14d
      lgdt gdtr(%rip)
      mov $0x10, %eax
      lsl %eax, %r15d
      lar %eax, %ebp
      hlt
    .p2align 3
    gdt: .quad 0, 0
      .quad 0x00af9a000000ffff
    gdt_end:
    gdtr: .word gdt_end - gdt - 1
      .quad gdt
    `);
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_HLT;
    const r = m.cpu.run(1000);
    expect(r).toBe(ENGINE_EXIT_HLT);
    const R = m.cpu.regs;
    expect(R[16]! & 0xff).toBe(1);
    expect(m.mem[0x100000]).toBe(0xaa);
    expect(R[18]! & 0xff).toBe(0);
    expect(R[20]).toBe(0xaaaa);
    expect(R[21]).toBe(0xbbbb);
    expect(R[22]).toBe(1); // XCR0 = x87
    expect(m.mem[0x101000 + 512]).toBe(3); // XSTATE_BV
    expect(m.mem[0x101000 + 24]).toBe(0x80); // MXCSR 0x1f80 in the legacy area
    expect(R[24]).toBe(7);
    expect(R[26]).toBe(7);
    expect(R[28]).toBe(0x5000);
    expect(R[30]).toBe(-1); // limit 0xfffff, 4 KiB granular -> 0xffffffff
    expect(R[10]).toBe(0x00a09a00); // LAR: second dword & 0x00f0ff00 (as KVM's emulator; never loaded, so not accessed)
  });
});

describe('engine: real-mode specials', () => {
  it('unreal mode: a 4 GiB DS limit survives the return to real mode', () => {
    const code = assemble(`
      .code16
        cli
        xor %ax, %ax
        mov %ax, %ds
        lgdt gdtr
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        mov $0x08, %bx
        mov %bx, %ds              # 4 GiB flat data
        and $0xfe, %al
        mov %eax, %cr0
        xor %ax, %ax
        mov %ax, %ds              # real mode again: base 0, the limit stays 4 GiB
        mov $0x200000, %esi
        movl $0x12345678, (%esi)
        mov (%esi), %eax
        hlt
      .p2align 3
      gdt: .quad 0
        .quad 0x00cf92000000ffff
      gdt_end:
      gdtr: .word gdt_end - gdt - 1
        .long gdt
    `, 0x7c00);
    const m = createMachine(code, 0x7c00);
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(m.cpu.regs[0]).toBe(0x12345678);
    expect(Array.from(m.mem.subarray(0x200000, 0x200004))).toEqual([0x78, 0x56, 0x34, 0x12]);
    expect(consoleText(m)).toBe('');
  });

  it('real mode: beyond the 64 KiB limit is #GP, delivered through the IVT', () => {
    const code = assemble(`
      .code16
        xor %ax, %ax
        mov %ax, %ds
        mov %ax, %ss
        mov $0x7000, %sp
        movw $gp_handler, 13*4
        movw $0, 13*4+2
        mov $0xffff, %bx
        mov (%bx), %ax            # word at 0xffff crosses the limit -> #GP
        hlt
      gp_handler:
        mov $'G', %al
        out %al, $0xe9
        hlt
    `, 0x7c00);
    const m = createMachine(code, 0x7c00);
    runToHlt(m);
    expect(consoleText(m)).toBe('G');
  });
});

describe('engine: SMEP/SMAP and compatibility mode', () => {
  it('SMEP: ring 0 fetching from a user page faults; SMAP: ring 0 reading a user page faults unless EFLAGS.AC (STAC)', () => {
    const m = machine64(`
      mov %cr4, %rax
      or $0x300000, %rax        # SMEP | SMAP
      mov %rax, %cr4
      mov $0x200000, %rbx       # user page
      stac
      mov (%rbx), %ecx          # allowed with AC=1
      clac
      mov (%rbx), %ecx          # #PF 1 (SMAP)
    `);
    // Only PD[1] (2..4 MiB) is a user page; the code page (PD[0]) is supervisor.
    const dv = new DataView(m.mem.buffer);
    dv.setUint32(0x12000, 0x83, true);
    m.mem[0x200000] = 0xc3;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_EXCEPTION;
    let r = m.cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.errorCode).toBe(1);
    expect(m.cpu.exit.linearAddress).toBe(0x200000);
    // SMEP: jump to the user page.
    m.cpu.flags |= 0x40000;
    m.cpu.rip = 0x200000;
    r = m.cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.errorCode).toBe(0x11);
  });

  it('compatibility mode: a far return into 32-bit code under long mode, INT to a 64-bit handler, IRETQ back', () => {
    const m = machine64(`
      lgdt gdtr(%rip)
      lidt idtr(%rip)
      # gate 0x80 -> handler64
      lea handler64(%rip), %rax
      mov %ax, 0x20000 + 0x800
      movw $0x10, 0x20000 + 0x802
      movw $0x8e00, 0x20000 + 0x804
      shr $16, %rax
      mov %ax, 0x20000 + 0x806
      movl $0, 0x20000 + 0x808
      movl $0, 0x20000 + 0x80c
      pushq $0x08
      lea compat(%rip), %rax
      push %rax
      lretq
    compat:
      .code32
      mov $0x12345678, %eax
      push %eax
      pop %ebx
      mov %esp, %edx
      int $0x80
      mov %cs, %eax
      hlt
      .code64
    handler64:
      mov 8(%rsp), %r8          # CS of the interrupted compat code
      mov %rsp, %r9
      iretq
    .p2align 3
    gdt: .quad 0
      .quad 0x00cf9a000000ffff  # 0x08 code32
      .quad 0x00af9a000000ffff  # 0x10 code64
      .quad 0x00cf92000000ffff  # 0x18 data
    gdt_end:
    gdtr: .word gdt_end - gdt - 1
      .quad gdt
    idtr: .word 4095
      .quad 0x20000
    `);
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_HLT || e.reason === ENGINE_EXIT_EXCEPTION;
    const r = m.cpu.run(1000);
    expect(ENGINE_EXIT_NAMES_T[r]).toBe('HLT');
    const R = m.cpu.regs;
    expect(R[6]).toBe(0x12345678);
    expect(R[16]).toBe(0x08);
    expect(R[0]).toBe(0x08);
    expect(m.cpu.mode64).toBe(false);
    expect(m.cpu.longMode).toBe(true);
    expect((R[18]! + 40) & 0xf).toBe(0); // RSP was aligned to 16 before the 5-qword frame was pushed
  });
});
