/**
 * The interpreter's straight run of fast forms (execute.ts runFast, called by the run loop
 * in run.ts) and the compiled tier's probe filter (jit/block-cache.ts, jit/run-block.ts).
 *
 * runFast: the same guest runs one instruction per run() call (the run loop then never
 * reaches runFast: every instruction goes through step()) and with random budgets (runFast
 * runs most of it), and after every slice the architectural state must be identical. The
 * guests rewrite the instruction right after the store inside one straight run, cross a
 * page boundary in the middle of a run, and end in a fault inside a run (RIP, registers,
 * flags and instructions retired exact at the fault).
 *
 * The probe filter: regions compile and are entered at their threshold, also a region
 * whose start shares its filter slot with another region's entry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { jitParams, jitStats, probeIndex } from '../../src/x86/engine/jit/block-cache';
import { ENGINE_EXIT_BUDGET, ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_NAMES } from '../../src/x86/engine/guest-mode';
import { assemble, createMachine, enterLongMode, enterProtected32, snapshot, type Machine, type Snapshot } from './harness';

const saved = jitParams.threshold;
afterEach(() => { jitParams.threshold = saved; });

const ORG = 0x100000;

/**
 * 64-bit: straight runs of fast forms with memory operands, a store that rewrites the
 * immediate of the very next instruction (already in the decode cache from the previous
 * round), a loop body that crosses a page boundary, and a #PF at the end of a run.
 */
const BODY64 = `
  .code64
start:
  mov $0x200000, %rbx
  mov $0x7ff000, %rsp
  xor %r13d, %r13d
  xor %ecx, %ecx
smc:
  mov %ecx, %eax
  add $3, %eax
  movb %al, patched+1(%rip)
patched:
  mov $0x55, %edx
  add %edx, %r13d
  lea 1(%rcx), %ecx
  mov %rcx, (%rbx,%rcx,8)
  add (%rbx,%rcx,8), %r13
  cmp $40, %ecx
  jne smc
  mov %r13, %r14
  xor %ecx, %ecx
  jmp cross
  .org 0xffa
cross:
  add %ecx, %r13d
  mov %r13, %rax
  shl $2, %rax
  xor %rax, %r12
  imul $7, %r12, %r12
  inc %ecx
  cmp $25, %ecx
  jne cross
  # The load faults (#PF above the 8 MiB mapped) in the fifth round, after the run has
  # retired the instructions before it (all in the decode cache by then).
  mov $0x400000, %esi
fault:
  add $7, %r12d
  cmp %r13, %r12
  mov (%rsi), %eax
  add $0x100000, %rsi
  jmp fault
`;

/** 32-bit protected mode: the same shapes. */
const BODY32 = `
  .code32
start:
  mov $0x200000, %ebx
  mov $0x7ff000, %esp
  xor %ebp, %ebp
  xor %ecx, %ecx
smc:
  mov %ecx, %eax
  add $3, %eax
  movb %al, patched+1
patched:
  mov $0x55, %edx
  add %edx, %ebp
  lea 1(%ecx), %ecx
  mov %ecx, (%ebx,%ecx,4)
  add (%ebx,%ecx,4), %ebp
  cmp $40, %ecx
  jne smc
  mov %ebp, %esi
  xor %ecx, %ecx
  jmp cross
  .org 0xffa
cross:
  add %ecx, %ebp
  mov %ebp, %eax
  shl $2, %eax
  xor %eax, %edi
  imul $7, %edi, %edi
  inc %ecx
  cmp $25, %ecx
  jne cross
  # The load raises #GP (DS limit 0x7fffff, the end of RAM) in the fifth round, inside a run.
  mov $0x400000, %edx
fault:
  add $7, %edi
  cmp %ebp, %edi
  mov (%edx), %eax
  add $0x100000, %edx
  jmp fault
`;

function machine(mode: 64 | 32): Machine {
  const code = assemble(mode === 64 ? BODY64 : BODY32, ORG);
  const m = createMachine(code, ORG, 0x800000);
  if (mode === 64) enterLongMode(m);
  else enterProtected32(m, 0x7fffff);
  m.cpu.rip = ORG;
  m.interceptOverride = (_c, e) => (e.reason === ENGINE_EXIT_EXCEPTION ? true : undefined);
  return m;
}

/** Machine a single-steps (run(1): step() only), machine b runs the same budgets whole. */
function lockstep(mode: 64 | 32, seed: number, threshold: number): { last: Snapshot; slices: number } {
  const a = machine(mode);
  const b = machine(mode);
  jitParams.threshold = threshold;
  let s = seed;
  let slices = 0;
  for (;;) {
    s = (s * 1103515245 + 12345) >>> 0;
    const budget = 1 + (s >>> 16) % 61;
    let ra = ENGINE_EXIT_BUDGET;
    for (let i = 0; i < budget && ra === ENGINE_EXIT_BUDGET && !a.cpu.halted; i++) ra = a.cpu.run(1);
    const rb = b.cpu.run(budget);
    const sa = snapshot(a, ra);
    const sb = snapshot(b, rb);
    slices++;
    expect(sb, `slice ${slices} (budget ${budget})`).toEqual(sa);
    if (ra !== ENGINE_EXIT_BUDGET || a.cpu.halted) return { last: sa, slices };
    if (slices > 100_000) throw new Error('guest did not finish');
  }
}

describe('engine: straight runs of fast forms (runFast) in lockstep with single steps', () => {
  it('64-bit: SMC of the next instruction inside a run, a run across a page boundary, #PF inside a run', () => {
    for (const threshold of [0, 2000]) {
      const { last, slices } = lockstep(64, 11, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(14);
      expect(last.regs[12]).toBe(0x800000); // RSI at the faulting load
      expect(slices).toBeGreaterThan(10);
      // The patched immediates 3..42 ran (0x55 never did): sum 900, plus the loads of 1..40 (820).
      expect(last.regs[28]).toBe(900 + 820); // r14
    }
  });

  it('32-bit protected mode: the same, ending in #GP inside a run', () => {
    for (const threshold of [0, 2000]) {
      const { last } = lockstep(32, 5, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(13);
      expect(last.regs[4]).toBe(0x800000); // EDX at the faulting load
      expect(last.regs[12]).toBe(900 + 820); // esi
    }
  });
});

/** A hot loop at A, and one at B whose RIP falls in A's probe-filter slot. */
function aliasBody(b: number): string {
  return `
  .code64
start:
  mov $0x7ff000, %rsp
  xor %eax, %eax
  mov $3000, %ecx
  jmp loopA
  .org 0x1000
loopA:
  add %ecx, %eax
  rol $3, %eax
  dec %ecx
  jnz loopA
  mov $3000, %ecx
  jmp loopB
  .org ${b - ORG}
loopB:
  xor %ecx, %eax
  ror $5, %eax
  dec %ecx
  jnz loopB
  hlt
`;
}

describe('engine: the compiled tier probe filter', () => {
  it('regions are compiled and entered at their threshold, also one whose filter slot is taken by another region', () => {
    const a = ORG + 0x1000;
    let b = a + 0x1000;
    while (probeIndex(b) !== probeIndex(a)) b++;
    expect(b).toBeLessThan(0x600000);
    const code = assemble(aliasBody(b), ORG);
    const run = (threshold: number): Machine => {
      const m = createMachine(code, ORG, 0x800000);
      enterLongMode(m);
      m.cpu.rip = ORG;
      jitParams.threshold = threshold;
      const r = m.cpu.run(1_000_000);
      expect(ENGINE_EXIT_NAMES[r]).toBe('HLT');
      return m;
    };
    const ref = run(0);
    const before = jitStats.instructions;
    const m = run(100);
    // Loop A's back edge becomes hot, compiles and runs compiled; loop B's start shares
    // A's filter slot (PROBE_LIVE), so the block cache counts it, and it compiles too.
    expect(m.cpu.blocks.compiled).toBeGreaterThanOrEqual(2);
    expect(jitStats.instructions - before).toBeGreaterThan(2 * 4 * 2500);
    expect(Array.from(m.cpu.regs.subarray(0, 32))).toEqual(Array.from(ref.cpu.regs.subarray(0, 32)));
    expect(m.cpu.flags).toBe(ref.cpu.flags);
    expect(m.cpu.instret).toBe(ref.cpu.instret);
  });
});
