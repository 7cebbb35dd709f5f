/**
 * The compiled tier's memory fast paths (src/x86/engine/jit/mem-view.ts): ld32/ld64/st32/
 * st64 must do exactly what cpu.read32/read64/write32/write64 do, on a TLB hit (the inline
 * DataView path), a miss, at the end of a page and across it, and the code check
 * (sameCode) must see a change in any byte of a block.
 */
import { describe, expect, it } from 'vitest';
import { ld32, ld64, st32, st64 } from '../../src/x86/engine/jit/mem-view';
import { assemble, createMachine, enterLongMode } from './harness';

function machine() {
  const m = createMachine(assemble('.code64\nhlt\n', 0x100000), 0x100000, 0x800000);
  for (let i = 0x200000; i < m.mem.length; i += 4096) m.mem.fill((i >> 12) & 0xff, i, i + 4096);
  enterLongMode(m);
  return m;
}

describe('engine: compiled tier memory fast paths (mem-view)', () => {
  it('ld32/ld64 read what read32/read64 read, at every offset near page ends, hits and misses', () => {
    const m = machine();
    let s = 12345;
    for (let k = 0; k < 20000; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      m.mem[0x200000 + (s & 0x3fff)] = s >>> 24;
    }
    for (let page = 0x200000; page < 0x204000; page += 0x1000) {
      for (const off of [0, 1, 3, 4, 5, 0x7f8, 0xff0, 0xff7, 0xff8, 0xff9, 0xffb, 0xffc, 0xffd, 0xfff]) {
        const la = page + off;
        const a = m.cpu.read32(la);
        expect(ld32(m.cpu, la), `ld32 ${la.toString(16)}`).toBe(a);
        const lo = m.cpu.read64(la);
        const hi = m.cpu.hi;
        m.cpu.hi = 0x5a5a;
        expect(ld64(m.cpu, la), `ld64 ${la.toString(16)}`).toBe(lo);
        expect(m.cpu.hi).toBe(hi);
        // After a TLB flush the first access misses and takes the slow path.
        m.cpu.flushTlb();
        expect(ld64(m.cpu, la)).toBe(lo);
        expect(m.cpu.hi).toBe(hi);
      }
    }
  });

  it('st32/st64 write what write32/write64 write, page-crossing stores included; a fault leaves memory unchanged', () => {
    const a = machine();
    const b = machine();
    let s = 777;
    for (let k = 0; k < 4000; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const la = 0x300000 + (s % 0x4000);
      const lo = (s * 31) | 0;
      const hi = (s ^ 0x9e3779b9) | 0;
      if (k & 1) { a.cpu.write64(la, lo, hi); st64(b.cpu, la, lo, hi); } else { a.cpu.write32(la, lo); st32(b.cpu, la, lo); }
      if ((k & 255) === 0) { a.cpu.flushTlb(); b.cpu.flushTlb(); }
    }
    expect(Buffer.compare(Buffer.from(a.mem), Buffer.from(b.mem))).toBe(0);
    // 0x7ffffc: the last page of RAM; a store across its end faults (#PF: not mapped) before writing.
    const before = Buffer.from(b.mem.subarray(0x7ff000));
    expect(() => st64(b.cpu, 0x7ffffc, 1, 2)).toThrow();
    expect(() => st32(b.cpu, 0x7ffffe, 3)).toThrow();
    expect(Buffer.compare(before, Buffer.from(b.mem.subarray(0x7ff000)))).toBe(0);
  });
});
