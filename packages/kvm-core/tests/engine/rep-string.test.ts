import { describe, expect, it } from 'vitest';
import { assemble, createMachine, enterLongMode, runToHlt } from './harness';

/**
 * REP MOVS/STOS run whole pages at a time when both sides are RAM in the TLB
 * (string-io.ts repBulk). The results must be the element loop's, byte for byte: copies
 * and fills of every element size at odd addresses across page boundaries, and forward
 * copies whose source and destination overlap (the element loop replicates the pattern,
 * memmove would not).
 */
describe('engine: REP MOVS/STOS forwards, as the element loop', () => {
  it('copies and fills of every size across pages, overlapping copies replicate', () => {
    type Op = { kind: 'movs' | 'stos'; size: 1 | 2 | 4 | 8; si?: number; di: number; count: number; rax?: bigint };
    const ops: Op[] = [
      { kind: 'movs', size: 1, si: 0x200003, di: 0x280005, count: 10000 },
      { kind: 'movs', size: 4, si: 0x200003, di: 0x290001, count: 2500 },
      { kind: 'movs', size: 8, si: 0x200005, di: 0x2a0007, count: 1250 },
      { kind: 'movs', size: 2, si: 0x200001, di: 0x2a8ffe, count: 3000 },
      { kind: 'movs', size: 1, si: 0x2b0000, di: 0x2b0001, count: 100 }, // overlap by 1: replicate
      { kind: 'movs', size: 4, si: 0x2b1000, di: 0x2b1002, count: 50 }, // overlap inside an element
      { kind: 'movs', size: 1, si: 0x2b2ff0, di: 0x2b2ff8, count: 64 }, // overlap across a page end
      { kind: 'movs', size: 8, si: 0x2b4000, di: 0x2b3ffc, count: 600 }, // destination below, overlapping
      { kind: 'stos', size: 1, di: 0x2c0003, count: 9000 },
      { kind: 'stos', size: 2, di: 0x2d0ffd, count: 3000 },
      { kind: 'stos', size: 4, di: 0x2e0001, count: 2100 },
      { kind: 'stos', size: 8, di: 0x2f0ff9, count: 1100 },
      // One byte repeated (a native fill), and patterns that repeat in one half only.
      { kind: 'stos', size: 8, di: 0x2f3001, count: 700, rax: 0n },
      { kind: 'stos', size: 4, di: 0x2f4ffe, count: 900, rax: 0x5a5a5a5a5a5a5a5an },
      { kind: 'stos', size: 2, di: 0x2f5fff, count: 1500, rax: 0x7777n },
      { kind: 'stos', size: 8, di: 0x2f6003, count: 300, rax: 0x1111111122222222n },
      { kind: 'stos', size: 8, di: 0x2f7000, count: 100, rax: 0x1111111111111112n },
    ];
    const sfx = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' } as const;
    const body = ops.map((o) => `
      movabs $${o.rax ?? 0x8877665544332211n}, %rax
      mov $${o.di}, %rdi
      ${o.si !== undefined ? `mov $${o.si}, %rsi` : ''}
      mov $${o.count}, %rcx
      rep ${o.kind}${sfx[o.size]}
      cmp $0, %rcx
      jne fail
      mov $${o.di + o.count * o.size}, %rax
      cmp %rax, %rdi
      jne fail
      ${o.si !== undefined ? `mov $${o.si + o.count * o.size}, %rax
      cmp %rax, %rsi
      jne fail` : ''}`).join('\n');
    const code = assemble(`.code64
      cld
      mov $0x8877665544332211, %rax
      ${body}
      mov $1, %ebx
      hlt
    fail:
      mov $2, %ebx
      hlt
    `, 0x100000);
    const m = createMachine(code, 0x100000);
    enterLongMode(m);
    for (let i = 0x200000; i < 0x2f8000; i++) m.mem[i] = (i * 7 + (i >> 8) * 13) & 0xff;
    // The element loop, on a copy of memory: each element is read whole, then written.
    const ref = m.mem.slice();
    for (const o of ops) {
      const rax = Array.from({ length: 8 }, (_, b) => Number(((o.rax ?? 0x8877665544332211n) >> BigInt(8 * b)) & 0xffn));
      for (let e = 0; e < o.count; e++) {
        const d = o.di + e * o.size;
        if (o.kind === 'movs') {
          const s = o.si! + e * o.size;
          const v = ref.slice(s, s + o.size);
          ref.set(v, d);
        } else {
          for (let b = 0; b < o.size; b++) ref[d + b] = rax[b]!;
        }
      }
    }
    m.cpu.rip = 0x100000;
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(m.cpu.regs[6]! & 0xff, 'RCX/RSI/RDI after each REP').toBe(1);
    let firstDiff = -1;
    for (let i = 0x200000; i < 0x2f8000; i++) if (m.mem[i] !== ref[i]) { firstDiff = i; break; }
    expect(firstDiff, `first differing byte at 0x${firstDiff.toString(16)}`).toBe(-1);
  });
});
