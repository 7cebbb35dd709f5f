/**
 * The fast forms of IMUL, MUL/NEG/NOT/TEST (F7), SETcc, the 8-bit ALU, INC/DEC, MOV r8,m8,
 * MOV r,imm32 (C7), MOV r64,imm64 and the hint NOPs (src/x86/engine/fast-path.ts) and their compiled code
 * (jit/emit.ts) against the general path: each instruction runs from the same state once
 * decoded in full (execute.ts), once from its decode-cache entry's fast form and once as a
 * compiled block, over edge and random operands and flags; all three must leave the same
 * registers, flags and memory. A memory operand that faults leaves the state as it was.
 * Also the 64x64 -> 128 multiply (alu.ts) against BigInt.
 */
import { describe, expect, it } from 'vitest';
import { imul32, imul64, mulu64, muls64, r64 } from '../../src/x86/engine/alu';
import { dcIndex } from '../../src/x86/engine/decode-cache';
import { step } from '../../src/x86/engine/execute';
import { FAULT } from '../../src/x86/engine/fault';
import { bcIndex, jitParams } from '../../src/x86/engine/jit/block-cache';
import { assemble, createMachine, enterLongMode, type Machine, runToHlt } from './harness';

const CODE = 0x8000;
const DATA = 0x20000;
const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x123456789abcdefn];

/** Deterministic 64-bit values (xorshift). */
function rng(seed: number): () => bigint {
  let s = BigInt(seed) | 1n;
  const M = (1n << 64n) - 1n;
  return () => {
    s ^= (s << 13n) & M; s ^= s >> 7n; s ^= (s << 17n) & M;
    return s;
  };
}

interface State { regs: Int32Array; flags: number; mem: Uint8Array }

function setState(m: Machine, st: State): void {
  m.cpu.regs.set(st.regs);
  m.cpu.flags = st.flags;
  m.mem.set(st.mem, DATA);
  m.cpu.rip = CODE;
  m.cpu.halted = false;
}

function getState(m: Machine): State {
  return { regs: m.cpu.regs.slice(), flags: m.cpu.flags, mem: m.mem.slice(DATA, DATA + 16) };
}

function machine(insn: string): Machine {
  const m = createMachine(assemble(`.code64\n${insn}\nhlt\n`, CODE), CODE);
  enterLongMode(m);
  return m;
}

/** The same in 32-bit protected mode (flat segments, CS.D = 1, SS.B = 1, no paging). */
function machine32(insn: string): Machine {
  const m = createMachine(assemble(`.code32\n${insn}\nhlt\n`, CODE), CODE);
  const cpu = m.cpu;
  cpu.cr0 = 0x11;
  cpu.segSel[1] = 0x8; cpu.segBase[1] = 0; cpu.segLimit[1] = 0xffffffff; cpu.segAr[1] = 0xc09b;
  for (const sg of [0, 2, 3, 4, 5]) {
    cpu.segSel[sg] = 0x10; cpu.segBase[sg] = 0; cpu.segLimit[sg] = 0xffffffff; cpu.segAr[sg] = 0xc093;
  }
  cpu.updateMode();
  cpu.flushTlb();
  return m;
}

/** Run the instruction from st: general path, fast form, compiled block. Returns the three end states and the entry's kind. */
function runThree(m: Machine, st: State): { states: State[]; kind: number; compiled: boolean } {
  const saved = jitParams.threshold;
  const savedHook = jitParams.onCompile;
  const states: State[] = [];
  let kind = 0;
  let compiled = false;
  try {
    jitParams.threshold = 0;
    m.cpu.dcache.clear();
    m.cpu.blocks.clear();
    setState(m, st);
    runToHlt(m, 10);
    states.push(getState(m));
    kind = m.cpu.dcache.kind[dcIndex(CODE)]!;
    setState(m, st);
    runToHlt(m, 10);
    states.push(getState(m));
    // Threshold 1: the first run compiles the block (and interprets), the second runs it.
    jitParams.threshold = 1;
    jitParams.onCompile = (rip) => { if (rip === CODE) compiled = true; };
    setState(m, st);
    runToHlt(m, 10);
    const bi = bcIndex(CODE);
    const fn = m.cpu.blocks.fn[bi];
    let ran = false;
    if (fn) m.cpu.blocks.fn[bi] = (...args) => { ran = true; return fn(...args); };
    setState(m, st);
    runToHlt(m, 10);
    compiled &&= ran;
    states.push(getState(m));
  } finally {
    jitParams.threshold = saved;
    jitParams.onCompile = savedHook;
  }
  return { states, kind, compiled };
}

function randomState(next: () => bigint, i: number): State {
  const regs = new Int32Array(32);
  for (let r = 0; r < 16; r++) {
    const v = i < EDGES.length * 2 && r !== 4 ? EDGES[(i + r) % EDGES.length]! : next();
    regs[2 * r] = Number(v & 0xffffffffn) | 0;
    regs[2 * r + 1] = Number(v >> 32n) | 0;
  }
  regs[2 * 3] = DATA; regs[2 * 3 + 1] = 0; // rbx: the memory operand
  regs[2 * 4] = 0x90000; regs[2 * 4 + 1] = 0; // rsp
  const mem = new Uint8Array(16);
  const v = i < EDGES.length ? EDGES[i]! : next();
  for (let k = 0; k < 8; k++) mem[k] = Number((v >> BigInt(8 * k)) & 0xffn);
  for (let k = 8; k < 16; k++) mem[k] = Number(next() & 0xffn);
  const fl = Number(next() & 0x8d5n); // CF PF AF ZF SF OF at random
  return { regs, flags: 0x2 | fl, mem };
}

const FORMS: string[] = [
  'imul %r9, %rax', 'imul %r9d, %eax', 'imul (%rbx), %rax', 'imul (%rbx), %ecx', 'imul $-7, %rcx, %rax',
  'imul $0x12345, %rcx, %rdx', 'imul $-3, (%rbx), %eax', 'imul $0x7fffffff, (%rbx), %r10', 'imul $100, %esi, %edi',
  'setb %sil', 'setne (%rbx)', 'setg %ah', 'setle %r10b', 'seto %al', 'setp %bl', 'setae 3(%rbx)', 'seta %dh',
  'mulq %rcx', 'mull %ecx', 'imulq %rcx', 'imull (%rbx)', 'mulq (%rbx)', 'imulq (%rbx)', 'negq %rcx', 'negl (%rbx)',
  'notq (%rbx)', 'notl %ecx', 'testq $-16, %rcx', 'testl $0x80000000, (%rbx)', 'negq (%rbx)', 'mull %r11d',
  'add %al, %ah', 'adc %sil, (%rbx)', 'sbb (%rbx), %cl', 'sub %bh, %dl', 'cmp $0x80, %al', 'and $0x7f, %al',
  'test $1, %al', 'cmpb $0x41, (%rbx)', 'addb $0xff, %r9b', 'xorb $3, %ah', 'testb $0x80, (%rbx)', 'testb %al, %al',
  'test %ah, %bl', 'or %r8b, %sil', 'sbb $1, %al', 'adc $0x7f, %al', 'cmp (%rbx), %ch', 'sub %al, 1(%rbx)', 'adcb $1, %dil',
  'incq %rcx', 'decl %ecx', 'incq (%rbx)', 'decl (%rbx)', 'incb %ah', 'decb (%rbx)', 'incb %sil', 'decq %r12', 'incl %r13d',
  'mov (%rbx), %ah', 'mov %al, %bh', 'mov (%rbx), %r9b', 'mov %ah, %cl', 'mov %r10b, %sil',
  'movq $-5, %rcx', '.byte 0xc7, 0xc1, 0xfb, 0xff, 0xff, 0xff', '.byte 0x49, 0xc7, 0xc0, 0x00, 0x00, 0x00, 0x80',
  'movabs $0x100000000, %rbx', 'movabs $0x8000000000000000, %r10', 'movabs $-2, %rax', 'movabs $0x123456789abcdef0, %r15',
  'nop', 'nopl 0(%rax)', 'nopw 0(%rax,%rax,1)', 'prefetcht0 (%rbx)',
  // Shifts by an immediate: compiled inline with lazy flags, then read by SETcc/CMOVcc.
  'shr $0x20, %rdx\nsetb %cl', 'shl $0x20, %r13\nseto %cl\nsetbe %dl', 'sar $63, %rax\nsetl %cl\nsetle %dl',
  'shr $1, %ecx\nseto %al\nsetp %dl', 'shl $5, %eax\nsetb %cl\nsets %dl', 'sar $31, %esi\nsetz %cl\nsetg %dl',
  'shl $33, %rcx\nsetb %al\nsetnz %dl', 'shr $40, %rax\nsetae %cl\nseto %dl', 'sar $32, %rdx\nsetb %cl\nsetge %al',
  'shl $1, %rsi\nseto %al\nsetb %cl',
  // ADC/SBB compiled inline with the carry in from the pending flags.
  'sub %rax, %r13\nadc %rcx, %rsi', 'add %rax, %rcx\nadc $0, %rdx\nsetb %al', 'cmp %eax, %ecx\nsbb %edx, %esi\nseto %al',
  'add %rax, %rcx\nsetb %dl\nsetae %al', 'adc (%rbx), %rax', 'sbb %rcx, (%rbx)', 'xor %eax, %eax\nadc %ecx, %edx',
  'shr $3, %rax\nadc %rcx, %rdx\nsetl %al', 'adcl $5, %ecx\nsetc %al', 'add %eax, %ecx\nsbb $-1, %edx\nsetbe %al',
  'sbb %r8, %r9\nsbb %r10, %r11\nsetnle %al',
  'cltq', 'cqto', 'cltd', 'cwtl', 'push $-5\npop %rcx', 'push $0x12345678\npop %rdx', 'pushq $0x7f\npop %rsi',
  'lea 8(%rbx), %rbp\nleave\nmov %rsp, %rcx\nmov $0x90000, %rsp', 'add %rax, %rcx\njb 1f\ninc %edx\n1:', 'shr $31, %r8\ncmovb %r9, %r10', 'sal $7, %edi\nsetnle %al\nsetpo %cl',
];

describe('engine: fast forms against the general path', () => {
  it.each(FORMS)('%s: general path, fast form and compiled code agree', (insn) => {
    const m = machine(insn);
    const next = rng(insn.length * 7919 + insn.charCodeAt(0));
    for (let i = 0; i < 48; i++) {
      const st = randomState(next, i);
      const { states, kind, compiled } = runThree(m, st);
      expect(kind, 'a fast form').not.toBe(0);
      expect(compiled, 'a compiled block').toBe(true);
      expect(states[0]!.regs[2 * 4]).toBe(0x90000);
      for (const s of states.slice(1)) {
        expect(Array.from(s.regs)).toEqual(Array.from(states[0]!.regs));
        expect(s.flags.toString(16)).toBe(states[0]!.flags.toString(16));
        expect(Array.from(s.mem)).toEqual(Array.from(states[0]!.mem));
      }
    }
  });

  const FORMS32 = ['inc %eax', 'dec %ecx', 'inc %esi\nsetz %al', 'dec %edi\nseto %cl\nsetc %dl', 'push $-5\npop %ecx',
    'push $0x12345678\npop %edx', 'lea 8(%ebx), %ebp\nleave\nmov %esp, %ecx\nmov $0x90000, %esp', 'cltd', 'cwtl',
    'imul $-3, (%ebx), %eax', 'setb (%ebx)', 'addb $0x80, 1(%ebx)', 'mull %ecx', 'decb %ah', 'shr $3, %eax\nadc %ecx, %edx',
    // MOV with moffs32 (A0-A3), with and without a segment override, and 66 90.
    'mov 0x20000, %eax', 'mov %eax, 0x20004', 'mov 0x20003, %al', 'mov %al, 0x20005', 'mov %fs:0x20008, %eax',
    'mov %eax, %gs:0x2000c', '.byte 0x66, 0x90'];
  it.each(FORMS32)('32-bit mode: %s: general path, fast form and compiled code agree', (insn) => {
    const m = machine32(insn);
    const next = rng(insn.length * 31 + insn.charCodeAt(1));
    for (let i = 0; i < 32; i++) {
      const st = randomState(next, i);
      for (let r = 0; r < 8; r++) st.regs[2 * r + 1] = 0;
      const { states, kind, compiled } = runThree(m, st);
      expect(kind, 'a fast form').not.toBe(0);
      expect(compiled, 'a compiled block').toBe(true);
      for (const s of states.slice(1)) {
        expect(Array.from(s.regs)).toEqual(Array.from(states[0]!.regs));
        expect(s.flags.toString(16)).toBe(states[0]!.flags.toString(16));
        expect(Array.from(s.mem)).toEqual(Array.from(states[0]!.mem));
      }
    }
  });

  it('32-bit mode: MOV moffs32 with an FS/GS override goes through that segment\'s base (fast form and compiled code)', () => {
    const m = machine32('mov %fs:0x1f000, %eax\nmov %al, %gs:0x1f00a\nmov %fs:0x1f004, %al\nmov %eax, %fs:0x1f00c');
    m.cpu.segBase[4] = 0x1000;
    m.cpu.segBase[5] = 0x1000;
    const next = rng(5);
    for (let i = 0; i < 8; i++) {
      const st = randomState(next, i);
      for (let r = 0; r < 8; r++) st.regs[2 * r + 1] = 0;
      const { states, kind, compiled } = runThree(m, st);
      expect(kind, 'a fast form').not.toBe(0);
      expect(compiled, 'a compiled block').toBe(true);
      // The general path read DATA through FS: EAX holds its first dword, with AL from byte 4.
      const w = st.mem[0]! | (st.mem[1]! << 8) | (st.mem[2]! << 16) | (st.mem[3]! << 24);
      expect(states[0]!.regs[0]).toBe((w & ~0xff) | st.mem[4]!);
      for (const s of states.slice(1)) {
        expect(Array.from(s.regs)).toEqual(Array.from(states[0]!.regs));
        expect(Array.from(s.mem)).toEqual(Array.from(states[0]!.mem));
      }
    }
  });

  const MEM_FORMS = FORMS.filter((f) => f.includes('(%rbx)') && !/^(nop|prefetch|lea)/.test(f));
  it.each(MEM_FORMS)('%s: a faulting memory operand (non-canonical) leaves RIP, registers and flags as before', (insn) => {
    const m = machine(insn);
    const next = rng(17);
    const st = randomState(next, 40);
    runThree(m, st);
    expect(m.cpu.dcache.kind[dcIndex(CODE)]).not.toBe(0);
    const bad = { ...st, regs: st.regs.slice() };
    bad.regs[2 * 3] = 0; bad.regs[2 * 3 + 1] = 0x8000_0000 | 0; // rbx non-canonical
    // The fast form (the entry is in the cache): #GP(0) before any change.
    setState(m, bad);
    let thrown: unknown = null;
    try { step(m.cpu); } catch (e) { thrown = e; }
    expect(thrown).toBe(FAULT);
    expect(m.cpu.faultVector).toBe(13);
    expect(Array.from(m.cpu.regs.slice(0, 32))).toEqual(Array.from(bad.regs));
    expect(m.cpu.flags).toBe(bad.flags);
    expect(Array.from(m.mem.slice(DATA, DATA + 16))).toEqual(Array.from(bad.mem));
    // Compiled: the block's fault point restores RIP and the flags (no IDT: the #GP ends in a triple fault).
    const saved = jitParams.threshold;
    try {
      jitParams.threshold = 1;
      setState(m, st);
      runToHlt(m, 10); // compiles the block
      expect(m.cpu.blocks.fn[bcIndex(CODE)]).toBeTruthy();
      setState(m, bad);
      runToHlt(m, 10);
    } finally {
      jitParams.threshold = saved;
    }
    expect(m.cpu.rip).toBe(CODE);
    expect(Array.from(m.cpu.regs.slice(0, 32))).toEqual(Array.from(bad.regs));
    expect(m.cpu.flags & 0x8d5).toBe(bad.flags & 0x8d5);
  });
});

describe('engine: 64-bit multiply (alu.ts)', () => {
  const M64 = (1n << 64n) - 1n;
  const split = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
  const join128 = (o: Int32Array): bigint =>
    BigInt(o[0]! >>> 0) | (BigInt(o[1]! >>> 0) << 32n) | (BigInt(o[2]! >>> 0) << 64n) | (BigInt(o[3]! >>> 0) << 96n);
  const signed = (v: bigint): bigint => (v >> 63n ? v - (1n << 64n) : v);

  it('mulu64 and muls64 are exact on edge and random operands', () => {
    const next = rng(12345);
    const vals = [...EDGES, 0xffffffff00000000n, 0x00000000ffff0000n, 0xdeadbeefcafebaben];
    for (let i = 0; i < 3000; i++) vals.push(next());
    const out = new Int32Array(4);
    for (let i = 0; i < vals.length; i++) {
      const a = vals[i]!;
      const b = vals[(i * 7 + 3) % vals.length]!;
      const [alo, ahi] = split(a);
      const [blo, bhi] = split(b);
      mulu64(alo, ahi, blo, bhi, out);
      expect(join128(out)).toBe(a * b);
      muls64(alo, ahi, blo, bhi, out);
      expect(join128(out)).toBe((signed(a) * signed(b)) & ((1n << 128n) - 1n));
    }
  });

  it('imul64 truncates exactly and sets CF/OF when the signed product does not fit', () => {
    const next = rng(999);
    const vals = [...EDGES, 0xffffffff80000000n, 0x7fffffffn, 0xffffffff7fffffffn];
    for (let i = 0; i < 2000; i++) {
      const v = next();
      vals.push(i & 1 ? v : BigInt.asUintN(64, BigInt.asIntN(32, v))); // half of them sign-extended 32-bit values
    }
    const cpu = { flags: 2 } as unknown as Parameters<typeof imul64>[0];
    for (let i = 0; i < vals.length; i++) {
      const a = vals[i]!;
      const b = vals[(i * 13 + 5) % vals.length]!;
      const [alo, ahi] = split(a);
      const [blo, bhi] = split(b);
      const lo = imul64(cpu, alo, ahi, blo, bhi);
      const full = signed(a) * signed(b);
      expect(BigInt(lo >>> 0) | (BigInt(r64.hi >>> 0) << 32n)).toBe(full & M64);
      const of = full !== BigInt.asIntN(64, full);
      expect((cpu.flags & 0x801) !== 0).toBe(of);
      expect((cpu.flags & 0x801) === 0 || (cpu.flags & 0x801) === 0x801).toBe(true);
    }
  });

  it('imul32 truncates exactly and sets CF/OF when the signed product does not fit 32 bits', () => {
    const next = rng(4242);
    const vals = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0x10000, 0xffff, 46341, -46341, 46340];
    for (let i = 0; i < 2000; i++) vals.push(Number(next() & 0xffffffffn) | 0 >> (i % 17));
    const cpu = { flags: 2 } as unknown as Parameters<typeof imul32>[0];
    for (let i = 0; i < vals.length; i++) {
      const a = vals[i]!;
      const b = vals[(i * 13 + 5) % vals.length]!;
      const lo = imul32(cpu, a, b);
      const full = BigInt(a) * BigInt(b);
      expect(lo).toBe(Number(BigInt.asIntN(32, full)));
      expect((cpu.flags & 0x801) !== 0).toBe(full !== BigInt.asIntN(32, full));
    }
  });
});
