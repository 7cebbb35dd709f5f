/**
 * The software TLB (cpu.ts, tlb.ts). A CR3 load drops exactly the non-global entries.
 * Its 4- and 8-byte hits through a DataView of the slot (cpu.ts tlbView):
 * cpu.read32/read64/write32/write64 must do exactly what the same access byte by byte
 * does (read8/write8), on a hit, a miss, at the end of a page and across it, and a store
 * across a page end that faults on the second page writes nothing. The compiled tier's
 * inline copies of these hits are checked in lockstep with the interpreter (jit.test.ts,
 * BODY_PAGE_END).
 */
import { describe, expect, it } from 'vitest';
import { assemble, createMachine, enterLongMode } from './harness';

function machine() {
  const m = createMachine(assemble('.code64\nhlt\n', 0x100000), 0x100000, 0x800000);
  enterLongMode(m);
  return m;
}

/** Offsets in a page around both of its ends, and a few in the middle. */
const OFFSETS = [0, 1, 3, 4, 5, 0x7f8, 0xff0, 0xff7, 0xff8, 0xff9, 0xffb, 0xffc, 0xffd, 0xfff];

describe('engine: software TLB', () => {
  it('read32/read64 read what read8 reads byte by byte, at every offset near page ends, hits and misses', () => {
    const m = machine();
    let s = 12345;
    for (let k = 0; k < 20000; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      m.mem[0x200000 + (s & 0x3fff)] = s >>> 24;
    }
    const bytes = (la: number, n: number): number[] => Array.from({ length: n }, (_, k) => m.cpu.read8(la + k));
    const word = (b: number[], at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24));
    for (let page = 0x200000; page < 0x204000; page += 0x1000) {
      for (const off of OFFSETS) {
        const la = page + off;
        const b = bytes(la, 8);
        for (const flush of [true, false]) {
          // After a flush the first access misses and fills the TLB; the second one hits.
          if (flush) m.cpu.flushTlb();
          expect(m.cpu.read32(la), `read32 ${la.toString(16)}`).toBe(word(b, 0));
          if (flush) m.cpu.flushTlb();
          m.cpu.hi = 0x5a5a;
          expect(m.cpu.read64(la), `read64 ${la.toString(16)}`).toBe(word(b, 0));
          expect(m.cpu.hi, `read64 high ${la.toString(16)}`).toBe(word(b, 4));
        }
      }
    }
  });

  it('write32/write64 write what write8 writes byte by byte, page-crossing stores included', () => {
    const a = machine();
    const b = machine();
    let s = 777;
    for (let k = 0; k < 4000; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const la = 0x300000 + ((k & 3) === 0 ? (s & 0x3000) + OFFSETS[s % OFFSETS.length]! : s % 0x4000);
      const lo = (s * 31) | 0;
      const hi = (s ^ 0x9e3779b9) | 0;
      const n = k & 1 ? 8 : 4;
      if (n === 8) a.cpu.write64(la, lo, hi); else a.cpu.write32(la, lo);
      for (let j = 0; j < n; j++) b.cpu.write8(la + j, ((j < 4 ? lo : hi) >> (8 * (j & 3))) & 0xff);
      if ((k & 255) === 0) { a.cpu.flushTlb(); b.cpu.flushTlb(); }
    }
    expect(Buffer.compare(Buffer.from(a.mem), Buffer.from(b.mem))).toBe(0);
  });

  it('a store across the end of the last mapped page faults (#PF) before writing anything', () => {
    const m = machine();
    // Fill the write TLB entry of the last page first, so the hit path is the one tried.
    m.cpu.write32(0x7ff000, 1);
    const before = Buffer.from(m.mem.subarray(0x7ff000));
    expect(() => m.cpu.write64(0x7ffffc, 1, 2)).toThrow();
    expect(() => m.cpu.write32(0x7ffffe, 3)).toThrow();
    expect(Buffer.compare(before, Buffer.from(m.mem.subarray(0x7ff000)))).toBe(0);
  });

  it('a CR3 load (flushTlbNonGlobal) drops the non-global entries and keeps the global ones, also after more fills than its list holds', () => {
    for (const refills of [0, 13000]) {
      const m = machine();
      const dv = new DataView(m.mem.buffer);
      // 0x200000-0x3fffff global (G in its PDE, CR4.PGE), 0x400000-0x5fffff not.
      dv.setUint32(0x12000 + 8, 0x200000 | 0x187, true);
      m.cpu.cr4 |= 0x80;
      m.cpu.flushTlb();
      m.mem[0x200010] = 0x11;
      m.mem[0x400010] = 0x22;
      m.mem[0x600010] = 0x33;
      // Many more fills of a non-global entry (each dropped by INVLPG first) than the list
      // holds: the flush scans instead (the entries below are filled after the list is full).
      for (let k = 0; k < refills; k++) {
        m.cpu.flushTlbPage(0x401000);
        m.cpu.read8(0x401000);
      }
      expect(m.cpu.read8(0x200010)).toBe(0x11);
      expect(m.cpu.read8(0x400010)).toBe(0x22);
      // Both PDEs now name 0x600000; only the non-global translation is dropped by the CR3 load.
      dv.setUint32(0x12000 + 8, 0x600000 | 0x187, true);
      dv.setUint32(0x12000 + 16, 0x600000 | 0x87, true);
      m.cpu.flushTlbNonGlobal();
      expect(m.cpu.read8(0x200010), `global, refills ${refills}`).toBe(0x11);
      expect(m.cpu.read8(0x400010), `non-global, refills ${refills}`).toBe(0x33);
      m.cpu.flushTlb();
      expect(m.cpu.read8(0x200010)).toBe(0x33);
    }
  });
});
