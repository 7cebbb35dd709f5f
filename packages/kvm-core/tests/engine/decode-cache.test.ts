/**
 * The decoded-instruction cache (src/x86/engine/decode-cache.ts): entries are keyed by
 * physical address and checked against the bytes in memory, so code rewritten by the
 * guest or by the host runs as rewritten, and an entry reached through another linear
 * address computes RIP-relative operands from the RIP it runs at.
 */
import { describe, expect, it } from 'vitest';
import { dcIndex, DC_MODE64 } from '../../src/x86/engine/decode-cache';
import { assemble, createMachine, enterLongMode, runToHlt } from './harness';

function find(code: Uint8Array, pattern: number[]): number {
  for (let i = 0; i + pattern.length <= code.length; i++) {
    if (pattern.every((b, k) => code[i + k] === b)) return i;
  }
  throw new Error(`pattern ${pattern.map((b) => b.toString(16)).join(' ')} not in the code`);
}

function longModeMachine(src: string) {
  const code = assemble(`.code64\n${src}`, 0x8000);
  const m = createMachine(code, 0x8000);
  enterLongMode(m);
  m.cpu.regs[8] = 0x90000;
  m.cpu.rip = 0x8000;
  return { m, code };
}

describe('engine: decoded-instruction cache', () => {
  it('the guest rewriting the immediates of cached fast-form instructions (MOV r,imm; ADD eAX,imm) changes what runs', () => {
    const { m } = longModeMachine(`
      xor %esi, %esi
      mov $3, %ecx
    again:
    patch_mov:
      mov $1, %eax
    patch_add:
      add $0x100, %eax
      add %eax, %esi
      incl patch_mov+1(%rip)
      addl $0x100, patch_add+1(%rip)
      dec %ecx
      jnz again
      hlt
    `);
    runToHlt(m);
    expect(m.cpu.regs[2 * 6]).toBe((1 + 0x100) + (2 + 0x200) + (3 + 0x300));
  });

  it('the host rewriting guest code between runs (as DMA would), with another instruction length, runs the new code', () => {
    const { m, code } = longModeMachine(`
      mov $0x11111111, %eax
      lea 5(%rax), %ebx
      hlt
    `);
    const lea = 0x8000 + find(code, [0x8d, 0x58, 0x05]);
    for (let i = 0; i < 3; i++) {
      m.cpu.rip = 0x8000;
      m.cpu.halted = false;
      runToHlt(m);
      expect(m.cpu.regs[2 * 3]! >>> 0).toBe(0x11111116);
    }
    // lea 7(%rax,%rax,1), %ebx ; hlt  (4 bytes where the 3-byte LEA was)
    m.mem.set([0x8d, 0x5c, 0x00, 0x07, 0xf4], lea);
    m.mem.set([0x22, 0x22, 0x22, 0x02], 0x8001); // mov $0x02222222, %eax
    m.cpu.rip = 0x8000;
    m.cpu.halted = false;
    runToHlt(m);
    expect(m.cpu.regs[2 * 3]! >>> 0).toBe(2 * 0x02222222 + 7);
  });

  it('one physical page at two linear addresses: RIP-relative addresses follow the RIP the cached instruction runs at', () => {
    const { m } = longModeMachine(`
      lea 0x10(%rip), %rax
      mov %rax, %rbx
      hlt
    `);
    // Alias: linear 8 MiB.. maps physical 0.. (a 2 MiB page in the PD enterLongMode built).
    new DataView(m.mem.buffer).setUint32(0x10000 + 0x2000 + 8 * 4, 0x87, true);
    m.cpu.flushTlb();
    runToHlt(m);
    expect(m.cpu.regs[2 * 3]).toBe(0x8000 + 7 + 0x10);
    m.cpu.rip = 0x808000;
    m.cpu.halted = false;
    runToHlt(m);
    expect(m.cpu.regs[2 * 3]).toBe(0x808000 + 7 + 0x10);
  });

  it('an instruction that crosses a page end is cached; new bytes on its second page, or that page remapped, run as new', () => {
    // ADD $imm32, %esi (81 C6 imm32) at 0x8ffe: its immediate lies on the page at 0x9000.
    const { m, code } = longModeMachine(`
      xor %esi, %esi
      mov $100, %ecx
    again:
      .org 0xffe, 0x90
      add $0x10101, %esi
      dec %ecx
      jnz again
      hlt
    `);
    expect(0x8000 + find(code, [0x81, 0xc6, 0x01, 0x01, 0x01, 0x00])).toBe(0x8ffe);
    const dv = new DataView(m.mem.buffer);
    // The first 2 MiB through a page table at 0x13000 (identity), so the page at 0x9000 can move.
    for (let i = 0; i < 512; i++) dv.setUint32(0x13000 + 8 * i, (i << 12) | 7, true);
    dv.setUint32(0x12000, 0x13000 | 7, true);
    m.cpu.flushTlb();
    const rerun = (): number => {
      m.cpu.rip = 0x8000;
      m.cpu.halted = false;
      runToHlt(m);
      return m.cpu.regs[2 * 6]! >>> 0;
    };
    expect(rerun()).toBe(100 * 0x10101);
    // Entered in the decode cache under its first byte's physical address.
    expect(m.cpu.dcache.tag[dcIndex(0x8ffe)]).toBe(0x8ffe * 4 + DC_MODE64);
    // The host writes the immediate's bytes on the second page.
    dv.setUint32(0x9000, 0x20202, true);
    expect(rerun()).toBe(100 * 0x20202);
    // The guest's page table moves linear 0x9000 to a copy with another immediate.
    m.mem.copyWithin(0x20000, 0x9000, 0xa000);
    dv.setUint32(0x20000, 0x30303, true);
    dv.setUint32(0x13000 + 8 * 9, 0x20000 | 7, true);
    m.cpu.flushTlb();
    expect(rerun()).toBe(100 * 0x30303);
    expect(rerun()).toBe(100 * 0x30303);
  });
});
