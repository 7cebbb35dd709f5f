import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_EXT_INTR } from '../../src/x86/engine/constants';
import {
  ENGINE_EXIT_BUDGET, ENGINE_EXIT_IO, ENGINE_EXIT_MMIO,
} from '../../src/x86/engine/guest-mode';
import { assemble, consoleText, createMachine, enterLongMode, runToHlt, type Machine } from './harness';
import { LIB64 } from './guest-lib';

/** 64-bit prologue: a GDT (0x10 code64, 0x18 data) and an IDT at 0x20000. */
const PRO64 = `
  .code64
  start:
    lgdt gdtr(%rip)
    lidt idtr(%rip)
    jmp main
  .p2align 3
  gdt: .quad 0, 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
  gdt_end:
  gdtr: .word gdt_end - gdt - 1
    .quad gdt
  idtr: .word 4095
    .quad 0x20000
`;

function machine64(src: string): Machine {
  const m = createMachine(assemble(`${PRO64}${src}${LIB64}`, 0x8000), 0x8000);
  enterLongMode(m);
  m.cpu.regs[8] = 0x90000;
  m.cpu.rip = 0x8000;
  return m;
}

describe('engine: string instructions, self-modifying code, MMIO', () => {
  it('REP MOVS/STOS forwards and backwards, REPE CMPS, REPNE SCAS, LODS', () => {
    const m = machine64(`
    main:
      cld
      lea src(%rip), %rsi
      mov $0x100000, %rdi
      mov $13, %ecx
      rep movsb                 # copy forwards
      std
      lea src+12(%rip), %rsi
      mov $0x10010c, %rdi
      mov $13, %ecx
      rep movsb                 # copy backwards (same bytes, 0x100100)
      cld
      mov $0x100200, %rdi
      mov $0x41424344, %eax
      mov $4, %ecx
      rep stosl
      mov $0x100000, %rsi
      mov $0x100100, %rdi
      mov $13, %ecx
      repe cmpsb                # equal: runs to the end, RCX = 0
      mov %ecx, %eax
      call puthex
      lea src(%rip), %rdi
      mov $'w', %al
      mov $13, %ecx
      repne scasb               # find 'w'
      mov %ecx, %eax
      call puthex
      mov $0x100200, %rsi
      lodsl
      call puthex
      hlt
    src: .ascii "hello, world!"
    `);
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(consoleText(m)).toBe('00000000' + '00000005' + '41424344');
    const text = (a: number) => String.fromCharCode(...m.mem.subarray(a, a + 13));
    expect(text(0x100000)).toBe('hello, world!');
    expect(text(0x100100)).toBe('hello, world!');
    expect(Array.from(m.mem.subarray(0x100200, 0x100210))).toEqual(Array(4).fill([0x44, 0x43, 0x42, 0x41]).flat());
  });

  it('self-modifying code: a store into the next instructions changes what runs', () => {
    const m = machine64(`
    main:
      mov $0, %ebx
    again:
      movb $'A', patch+1(%rip)  # rewrite the immediate of the mov below
      jmp patch
    patch:
      mov $'x', %al
      call putc
      inc %ebx
      movb $'B', patch+1(%rip)
      cmp $2, %ebx
      jne patch
      hlt
    `);
    runToHlt(m);
    expect(consoleText(m)).toBe('AB');
  });

  it('MMIO: reads exit and complete with the data userspace supplies; writes exit with their data', () => {
    const m = machine64(`
    main:
      mov $0x500000, %rbx       # beyond RAM (4 MiB): no memslot -> MMIO
      mov (%rbx), %eax
      call puthex
      add $1, %eax
      mov %eax, 0x10(%rbx)
      movw $0x1234, 0x20(%rbx)
      hlt
    `);
    const cpu = m.cpu;
    let r = cpu.run(1000);
    expect(r).toBe(ENGINE_EXIT_MMIO);
    expect(cpu.exit.isWrite).toBe(false);
    expect(cpu.exit.gpa).toBe(0x500000);
    expect(cpu.exit.size).toBe(4);
    cpu.completeMmioRead(new Uint8Array([0x78, 0x56, 0x34, 0x12]));
    const out: string[] = [];
    for (;;) {
      r = cpu.run(1000);
      if (r === ENGINE_EXIT_IO) { out.push(String.fromCharCode(cpu.exit.valueLo & 0xff)); cpu.rip += cpu.exit.instrLen; continue; }
      break;
    }
    expect(out.join('')).toBe('12345678');
    expect(r).toBe(ENGINE_EXIT_MMIO);
    expect(cpu.exit.isWrite).toBe(true);
    expect(cpu.exit.gpa).toBe(0x500010);
    expect(Array.from(cpu.exit.data.subarray(0, 4))).toEqual([0x79, 0x56, 0x34, 0x12]);
    r = cpu.run(1000);
    expect(r).toBe(ENGINE_EXIT_MMIO);
    expect(cpu.exit.size).toBe(2);
    expect(Array.from(cpu.exit.data.subarray(0, 2))).toEqual([0x34, 0x12]);
    expect(runToHlt(m).name).toBe('HLT');
  });
});

describe('engine: interrupts, shadows, HLT, NMI, injection', () => {
  const HANDLERS = `
      mov $0x40, %rdi; lea irq_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
      mov $2, %rdi; lea nmi_handler(%rip), %rsi; mov $0x8e, %edx; xor %ecx, %ecx; call set_gate
  `;
  const HANDLER_CODE = `
    irq_handler:
      mov $'I', %al
      call putc
      mov (%rsp), %rax          # return RIP
      call puthex
      iretq
    nmi_handler:
      mov $'N', %al
      call putc
      iretq
  `;

  it('STI blocks interrupts for one instruction; HLT sleeps until an interrupt wakes it; the IRQ source is acknowledged', () => {
    const m = machine64(`
    main:
      ${HANDLERS}
      mov $'a', %al
      call putc
      sti
    after_sti:
      nop
    after_nop:
      cli
      mov $'b', %al
      call putc
      sti
      hlt
    after_hlt:
      mov $'c', %al
      call putc
      cli
      hlt
      ${HANDLER_CODE}
    `);
    const cpu = m.cpu;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_IO;
    let pending = 0;
    let acked = 0;
    cpu.interruptSource = { hasInterrupt: () => pending > 0, acknowledge: () => { pending--; acked++; return 0x40; } };
    const out: number[] = [];
    const go = () => {
      for (;;) {
        const r = cpu.run(10_000);
        if (r === ENGINE_EXIT_IO) { out.push(cpu.exit.valueLo & 0xff); cpu.rip += cpu.exit.instrLen; if (out.length === 1) pending = 1; continue; }
        return r;
      }
    };
    // 'a' is printed, then the pending IRQ is taken only after the NOP that follows STI.
    let r = go();
    expect(r).toBe(ENGINE_EXIT_BUDGET);
    expect(cpu.halted).toBe(true);
    pending = 1;
    r = go();
    expect(cpu.halted).toBe(true);
    const text = String.fromCharCode(...out);
    // I + the return RIP (after the NOP), b, I + return RIP after HLT, c
    expect(text[0]).toBe('a');
    expect(text[1]).toBe('I');
    expect(text.slice(10, 11)).toBe('b');
    expect(text[11]).toBe('I');
    expect(text.slice(20)).toBe('c');
    const ripAfterNop = parseInt(text.slice(2, 10), 16);
    const ripAfterHlt = parseInt(text.slice(12, 20), 16);
    expect(m.mem[ripAfterNop - 1]).toBe(0x90); // the NOP ran before the interrupt
    expect(m.mem[ripAfterHlt - 1]).toBe(0xf4); // HLT returns to the next instruction
    expect(acked).toBe(2);
  });

  it('NMI is delivered through vector 2 and blocked until IRET; injected events are delivered on entry', () => {
    const m = machine64(`
    main:
      ${HANDLERS}
      mov $'a', %al
      call putc
    spin:
      pause
      jmp spin
      ${HANDLER_CODE}
    `);
    const cpu = m.cpu;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_IO;
    const out: number[] = [];
    const go = (budget: number) => {
      for (;;) {
        const r = cpu.run(budget);
        if (r === ENGINE_EXIT_IO) { out.push(cpu.exit.valueLo & 0xff); cpu.rip += cpu.exit.instrLen; continue; }
        return r;
      }
    };
    go(2000);
    cpu.nmiPending = true;
    go(2000);
    expect(cpu.nmiBlocking).toBe(false);
    cpu.injectEvent(0x40, EVENT_TYPE_EXT_INTR);
    go(2000);
    const text = String.fromCharCode(...out);
    expect(text.slice(0, 2)).toBe('aN');
    expect(text[2]).toBe('I');
  });
});
