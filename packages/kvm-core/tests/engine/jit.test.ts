/**
 * The compiled tier (src/x86/engine/jit): guests assembled with binutils run twice, once
 * on the interpreter alone (threshold 0) and once with every block compiled at its first
 * execution (threshold 1), in lockstep: the same small instruction budgets slice both runs,
 * and after every slice the whole architectural state (GPRs, RIP, EFLAGS, instructions
 * retired, the exit) must be identical. The guests mix the compiled forms with
 * interpreted instructions, loops, calls, self-modifying stores into the running block,
 * and end in a #PF inside a block (lazy flags and RIP at the fault must be exact).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bcIndex, jitParams, jitStats, PROBE_LIVE } from '../../src/x86/engine/jit/block-cache';
import { ENGINE_EXIT_BUDGET, ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_NAMES } from '../../src/x86/engine/guest-mode';
import { assemble, createMachine, enterLongMode, enterProtected32, snapshot, type Machine, type Snapshot } from './harness';

const saved = jitParams.threshold;
afterEach(() => { jitParams.threshold = saved; });

const BODY64 = `
  .code64
start:
  mov $0x200000, %rbx
  mov $0x7ff000, %rsp
  xor %r8d, %r8d
  mov $-5, %r9
  movabs $0x123456789abcdef0, %r10
outer:
  xor %eax, %eax
  xor %ecx, %ecx
inner:
  mov %eax, (%rbx,%rcx,4)
  add %ecx, %eax
  lea 3(%rcx,%rcx,2), %rdx
  xor %edx, %eax
  sub %r9, %r10
  adc $7, %r10
  sbb %rdx, %r10
  shl $3, %rdx
  sar %cl, %r10
  ror $5, %r10
  imul $13, %eax, %eax
  movzbl %al, %esi
  movsbq %dl, %rdi
  cmp %esi, %edi
  cmovl %esi, %edi
  cmovge %r10, %r11
  test $0x40, %al
  setnz %dl
  movsxd %eax, %r12
  add (%rbx,%rcx,4), %eax
  cmpl $0x1234, (%rbx)
  adcl $1, 4(%rbx)
  inc %ecx
  cmp $300, %ecx
  jl inner
  push %rax
  push %r10
  call func
  pop %r10
  pop %rax
  add $1, %r8d
  cmp $20, %r8d
  jne outer
  # A loop whose first instruction overwrites every flag (the block loops without materialising them).
  mov $1000, %ecx
tight:
  sub $1, %ecx
  lea 1(%rax,%rcx), %rax
  adc %rcx, %r14
  test %ecx, %ecx
  jnz tight
  # Self-modifying code inside one block: the store rewrites the immediate of the next instruction.
  xor %ecx, %ecx
smc:
  movb %cl, patched+1(%rip)
patched:
  mov $0x55, %eax
  add %eax, %r13d
  inc %ecx
  cmp $10, %ecx
  jne smc
  # Flags set by CMP, then a load that faults (#PF on an unmapped address) in the same block.
  mov $0x40000000, %esi
  cmp %r13, %r8
  mov (%rsi), %eax
  hlt
func:
  mov 8(%rsp), %rdx
  sub $1, %rdx
  neg %rdx
  ret
`;

const BODY32 = `
  .code32
start:
  mov $0x200000, %ebx
  mov $0x7ff000, %esp
  xor %edi, %edi
outer:
  xor %eax, %eax
  xor %ecx, %ecx
inner:
  mov %eax, (%ebx,%ecx,4)
  add %ecx, %eax
  lea 3(%ecx,%ecx,2), %edx
  xor %edx, %eax
  shl $3, %edx
  sar %cl, %edx
  cmp %edx, %eax
  cmovl %edx, %eax
  movzbl %al, %esi
  add (%ebx,%ecx,4), %eax
  movb %al, 1(%ebx,%ecx,4)
  movb $5, 2(%ebx)
  inc %ecx
  cmp $300, %ecx
  jb inner
  push %eax
  call func
  pop %eax
  add $1, %edi
  cmp $20, %edi
  jne outer
  mov $1000, %ecx
tight:
  sub $1, %ecx
  lea 1(%eax,%ecx), %eax
  adc %ecx, %esi
  test %ecx, %ecx
  jnz tight
  xor %ecx, %ecx
smc:
  movb %cl, patched+1
patched:
  mov $0x55, %eax
  add %eax, %ebp
  inc %ecx
  cmp $10, %ecx
  jne smc
  cmp %ebp, %edi
  mov 0xfffffff0, %eax
  hlt
func:
  mov 4(%esp), %edx
  sub $1, %edx
  ret
`;

/**
 * A region of several basic blocks: conditional branches that read flags set in an earlier
 * basic block (carried as a run-time pending kind), a CALL whose RET returns into the
 * region, nested loops, and flags read after the loop by interpreted instructions.
 */
const BODY_REGION = `
  .code64
start:
  mov $0x200000, %rbx
  mov $0x7ff000, %rsp
  xor %r8d, %r8d
  mov $7, %r9
  xor %r10d, %r10d
round:
  xor %ecx, %ecx
loop:
  mov (%rbx,%rcx,8), %rax
  add %r9, %rax
  cmp %rcx, %rax
  jne 1f
  add $3, %rax
1:
  jb 2f
  sub $1, %r9
2:
  ja 3f
  xor $5, %r9
3:
  call addone
  mov %rax, (%rbx,%rcx,8)
  jle 4f
  and $0x3ff, %r9d
4:
  add $1, %ecx
  cmp $200, %ecx
  jne loop
  add $1, %r8d
  cmp $30, %r8d
  jb round
  add %r9, %r8
  seto %dl
  setc %dh
  sbb %r10, %r11
  mov $0x40000000, %esi
  mov (%rsi), %eax
  hlt
addone:
  lea 1(%rax), %rax
  adc $0, %r10
  ret
`;

/**
 * MOVS/STOS without REP (gcc's byte-copy loops) inside compiled loops: copies, a STOSB that
 * rewrites the immediate of a later instruction now and then (the block must leave after it), and a
 * MOVSB whose source is not memory (#PF in 64-bit mode, an MMIO read in 32-bit mode without
 * paging: RSI, RDI and the flags of the CMP before it exact).
 */
const BODY_STRING = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  return `
  .code${bits}
start:
  mov $0x7ff000, %${r}sp
  mov $0x200000, %${r}si
  mov $0x201000, %${r}di
  mov $0x11223344, %eax
  xor %ecx, %ecx
copy:
  movsb
  stosl
  movsw
  add %eax, %edx
  add $1, %ecx
  cmp $200, %ecx
  jne copy
  std
  mov $50, %ecx
back:
  stosb
  movsl
  dec %ecx
  jnz back
  cld
  xor %ebx, %ebx
  mov $16, %ecx
smc:
  ${bits === 64 ? 'lea patched+1(%rip), %rdi' : 'mov $patched+1, %edi'}
  mov %ecx, %eax
  shr $2, %eax
  stosb
patched:
  mov $0x55, %edx
  add %edx, %ebx
  dec %ecx
  jnz smc
  mov $0x40000000, %${r}si
  cmp %ebx, %ecx
  movsb
  hlt
`;
};

/**
 * The 16-bit forms the tier compiles itself (MOV 66 89/8B/C7, 66 90, shifts, the ALU): the
 * LZMA decoder's u16 probability updates. Loads and stores keep bits 16-63 of the register, a
 * store patches the immediate of a later instruction now and then, and the last store
 * straddles the end of what is mapped (64-bit: #PF; 32-bit: past DS's limit, #GP) before
 * any byte is written, with the flags of the CMP before it pending.
 */
const BODY_WORD = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  return `
  .code${bits}
start:
  mov $0x7ff000, %${r}sp
  mov $0x200000, %${r}bx
  mov $-1, %${r}si
  mov $0x12345678, %edi
  xor %ecx, %ecx
  xor %edx, %edx
loop:
  mov %ecx, %eax
  imul $0x9e37, %eax, %eax
  movw %ax, (%${r}bx,%${r}cx,2)
  movw 2(%${r}bx,%${r}cx,2), %si
  add %esi, %edx
  movw $0x8001, 4(%${r}bx,%${r}cx,2)
  movw %dx, %di
  movw %cx, %bp
  add %ebp, %edx
  xchg %ax, %ax
  movw (%${r}bx), %di
  shrw $5, %si
  subw %si, %ax
  sarw %cl, %dx
  shlw $1, %di
  rolw $3, 6(%${r}bx)
  addw %ax, 8(%${r}bx)
  cmpw $0x100, (%${r}bx)
  adcw %cx, %di
  sbbw 8(%${r}bx), %ax
  andw $0xff0, %si
  subw $3, %dx
  testw %ax, %dx
  jns 2f
  orw %si, %bp
2:
  xorw 2(%${r}bx), %si
  movb $0x5a, %ah
  movb $1, %dl
  add %eax, %esi
  ${bits === 64 ? 'movb $0x33, %r9b\n  movb $0x44, %sil\n  add %r9d, %edx' : ''}
  add %esi, %edx
  add $1, %ecx
  cmp $300, %ecx
  jne loop
  xor %ebp, %ebp
  mov $16, %ecx
smc:
  mov %ecx, %eax
  shr $2, %eax
  movw %ax, patched+1${bits === 64 ? '(%rip)' : ''}
patched:
  mov $0x55, %eax
  add %eax, %ebp
  dec %ecx
  jnz smc
  mov $${bits === 64 ? '0x3fffffff' : '0x7fffffff'}, %${r}bx
  cmp %ebp, %ecx
  movw %cx, (%${r}bx)
  hlt
`;
};

/**
 * DIV r/m32 and ENDBR32/64, compiled by the tier itself (libgcc's __udivdi3): dividends
 * with EDX from 0 to just below the divisor (quotients up to 2^32 - 1), divisors from
 * registers and memory, and a #DE (EDX >= divisor) inside a block with CMP flags pending.
 */
const BODY_DIV = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  return `
  .code${bits}
start:
  mov $0x7ff000, %${r}sp
  mov $0x200000, %${r}bx
  mov $0x9e3779b9, %esi
  xor %edi, %edi
  xor %ebp, %ebp
loop:
  endbr${bits}
  imul $0x2545f491, %esi, %esi
  add $0x3c6ef372, %esi
  mov %esi, %ecx
  or $1, %ecx
  mov %esi, %eax
  mov %edi, %edx
  and $0x7fffffff, %edx
  cmp %ecx, %edx
  jb 1f
  shr $1, %edx
  shr $1, %ecx
  or $0x80000000, %ecx
1:
  div %ecx
  add %eax, %ebp
  xor %edx, %edi
  mov %ecx, (%${r}bx)
  mov %ebp, %eax
  xor %edx, %edx
  divl (%${r}bx)
  add %edx, %ebp
  add $0x11111, %edi
  cmp $0x2000000, %edi
  jb loop
  mov $5, %edx
  mov $5, %ecx
  cmp %ebp, %edi
  div %ecx
  hlt
`;
};

/**
 * A loop across a page boundary (0x100fe0..0x101040) with indirect CALLs through a register
 * and through memory and an indirect JMP: one region spans both pages, and the indirect
 * transfers leave it for their targets. The final load faults (64: #PF, 32: #GP).
 */
const BODY_CROSS = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  const q = bits === 64 ? '.quad' : '.long';
  return `
  .code${bits}
start:
  mov $0x7ff000, %${r}sp
  mov $0x200000, %${r}bx
  xor %ecx, %ecx
  xor %ebp, %ebp
  mov $target, %edi
  jmp loop
  .org 0xfe0
loop:
  add %ecx, %ebp
  imul $3, %ebp, %ebp
  mov %ebp, (%${r}bx)
  call *%${r}di
  mov $cont, %esi
  jmp *%${r}si
  .byte 0x0f, 0x0b
cont:
  add (%${r}bx), %ebp
  rol $5, %ebp
  call *fptr
  xor %ecx, %ebp
  add $1, %ecx
  cmp $300, %ecx
  jne loop
  mov $${bits === 64 ? '0x40000000' : '0x80000000'}, %esi
  mov (%${r}si), %eax
  hlt
target:
  add $7, %ebp
  ret
  .balign 8
fptr:
  ${q} target
`;
};

/**
 * A loop across 0x101000 whose second page the test remaps to a changed copy (ADD $1 -> $2
 * to ecx). The ADD (83 C1 01) starts at 0x100000 + addAt: 0x1000 puts it on the second
 * page, 0xfff makes it cross the page end (its immediate on the second page).
 */
const BODY_REMAP = (addAt: number): string => `
  .code64
start:
  mov $0x7ff000, %rsp
  xor %ecx, %ecx
  xor %ebp, %ebp
  jmp loop
  .org 0xff0
loop:
  add %ecx, %ebp
  imul $3, %ebp, %ebp
  rol $3, %ebp
  xor $0x55, %ebp
  lea 1(%rbp), %eax
  .org ${addAt}, 0x90
  add $1, %ecx
  cmp $20000, %ecx
  jb loop
  mov $0x40000000, %esi
  mov (%rsi), %eax
  hlt
`;

/**
 * A loop whose body is 900 instructions of straight code (three unrolled ALU operations,
 * 300 times), longer than a region: each region is straight code, its blocks cut at
 * MAX_BLOCK. The final load faults (64: #PF, 32: #GP).
 */
const BODY_UNROLLED = (bits: 64 | 32): string => `
  .code${bits}
start:
  mov $0x7ff000, %${bits === 64 ? 'r' : 'e'}sp
  xor %ecx, %ecx
  mov $1, %eax
  mov $2, %ebx
  mov $3, %edx
loop:
  .rept 300
  add %eax, %ebx
  rol $3, %ebx
  xor %ebx, %edx
  .endr
  add $1, %eax
  inc %ecx
  cmp $60, %ecx
  jne loop
  mov $${bits === 64 ? '0x40000000' : '0x80000000'}, %esi
  mov (%${bits === 64 ? 'r' : 'e'}si), %eax
  hlt
`;

/**
 * 64-bit base + displacement operands (computed in doubles by the tier): negative bases
 * with positive displacements, loads and stores through them, and finally a base that is
 * not canonical (#GP inside the block, flags of the CMP before it pending).
 */
const BODY_EA = `
  .code64
start:
  mov $0x7ff000, %rsp
  mov $-0x1000, %rbx
  xor %ecx, %ecx
  xor %edx, %edx
loop:
  mov 0x201000(%rbx,%rcx,8), %rax
  add %rcx, %rax
  mov %rax, 0x202000(%rbx)
  add 0x202000(%rbx), %rdx
  lea -8(%rbx), %rbx
  add $1, %ecx
  cmp $400, %ecx
  jne loop
  movabs $0x7ffffffffffffff0, %rbx
  cmp %rcx, %rdx
  mov 0x10(%rbx), %rax
  hlt
`;

/**
 * PUSH/POP/CALL/RET with the stack inline (64-bit mode, flat 32-bit SS): push and pop of
 * RSP itself, a stack that runs down into the code page now and then (the pushes rewrite
 * the immediate of a later instruction), and finally a stack pointer the push cannot use
 * (64-bit: not canonical, #SS; 32-bit: ESP = 2, wrapping past SS's limit, #SS).
 */
const BODY_STACK = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  return `
  .code${bits}
start:
  mov $0x7ff000, %${r}sp
  xor %ecx, %ecx
  xor %ebp, %ebp
loop:
  push %${r}cx
  push $0x1234
  push %${r}sp
  pop %${r}ax
  sub %${r}sp, %${r}ax
  add %eax, %ebp
  call fn
  pop %${r}dx
  pop %${r}dx
  add %edx, %ebp
  add $1, %ecx
  cmp $300, %ecx
  jne loop
  mov %${r}sp, %${r}si
  mov $16, %ecx
smc:
  ${bits === 64 ? 'lea patched+10(%rip), %rsp' : 'mov $patched+5, %esp'}
  mov %ecx, %eax
  shr $2, %eax
  push %${r}ax
patched:
  ${bits === 64 ? 'movabs $0x55, %rdx' : 'mov $0x55, %edx'}
  add %edx, %ebx
  dec %ecx
  jnz smc
  mov %${r}si, %${r}sp
  ${bits === 64 ? 'movabs $0x800000000004, %rsp' : 'mov $2, %esp'}
  cmp %ebx, %ecx
  push %${r}cx
  hlt
fn:
  mov ${bits / 8}(%${r}sp), %${r}ax
  xor %eax, %ebp
  ret
`;
};

/**
 * 4- and 8-byte loads, stores, read-modify-writes, pushes and pops at every offset around
 * the end of a page (0x200ff0 + 0..23: inside the page, crossing it, on the next page),
 * where the compiled code's inline TLB hit (emit.ts ld32/ld64/st) must give way to the
 * cpu's methods exactly as the interpreter does; then a store across the end of RAM (#PF,
 * 64-bit) or past the DS limit (#GP, 32-bit) with nothing written.
 */
const BODY_PAGE_END = (bits: 64 | 32): string => {
  const r = bits === 64 ? 'r' : 'e';
  const wide = bits === 64 ? `
  mov %rdi, (%rbx,%rcx)
  mov 1(%rbx,%rcx), %rdx
  add %rdx, %rsi
  add %rsi, 3(%rbx,%rcx)
  rol $7, %rdi` : '';
  return `
  .code${bits}
start:
  mov $0x200ff0, %${r}bx
  xor %ecx, %ecx
  mov $0x12345, %esi
  ${bits === 64 ? 'movabs $0x9e3779b97f4a7c15, %rdi' : 'mov $0x9e3779b9, %edi'}
loop:
  mov %ecx, %eax
  imul $0x01000193, %eax, %eax
  mov %eax, (%${r}bx,%${r}cx)
  mov (%${r}bx,%${r}cx), %edx
  add %edx, %esi
  add %esi, 2(%${r}bx,%${r}cx)
  xor 3(%${r}bx,%${r}cx), %esi
  ${wide}
  lea 0x201000(%${r}cx), %${r}sp
  push %${r}si
  push %${r}di
  pop %${r}ax
  add %${r}ax, %${r}si
  pop %${r}dx
  xor %${r}dx, %${r}si
  add $1, %ecx
  cmp $24, %ecx
  jne loop
  mov $${bits === 64 ? '0x7ffffc' : '0x7ffffffe'}, %${r}bx
  mov %${r}si, (%${r}bx)
  hlt
`;
};

function machine(mode: 64 | 32, body = mode === 64 ? BODY64 : BODY32): Machine {
  const org = 0x100000;
  const m = createMachine(assemble(body, org), org, 0x800000);
  if (mode === 64) enterLongMode(m);
  // Paging off, so a read above RAM is an MMIO exit: the DS limit (below the final load's
  // address) makes that load raise #GP(0) inside its block instead.
  else enterProtected32(m, 0x7fffffff);
  m.cpu.rip = org;
  // Exceptions end the run where they happen (not delivered): the test compares the fault state.
  m.interceptOverride = (_c, e) => (e.reason === ENGINE_EXIT_EXCEPTION ? true : undefined);
  return m;
}

/** A GDT at 0x1000 with descriptors (low and high words) from selector 0x08 on, in GDTR. */
function setGdt(m: Machine, descriptors: [number, number][]): void {
  const dv = new DataView(m.mem.buffer);
  const gdt = 0x1000;
  descriptors.forEach(([lo, hi], i) => {
    dv.setUint32(gdt + 8 * (i + 1), lo, true);
    dv.setUint32(gdt + 8 * (i + 1) + 4, hi, true);
  });
  m.cpu.gdtrBase = gdt;
  m.cpu.gdtrLimit = 8 * (descriptors.length + 1) - 1;
}

/** Hooks of a lockstep run: prepare each machine after it is made, act on both before slice n runs. */
interface LockstepHooks {
  prepare?: (m: Machine) => void;
  beforeSlice?: (n: number, a: Machine, b: Machine) => void;
}

/** Run interpreter and compiled tier side by side with the same budgets; returns the final state and the slices. */
function lockstep(mode: 64 | 32, seed: number, body?: string, maxBudget = 97, threshold = 1, hooks: LockstepHooks = {}):
  { last: Snapshot; slices: number; compiled: number } {
  const a = machine(mode, body);
  const b = machine(mode, body);
  hooks.prepare?.(a);
  hooks.prepare?.(b);
  let s = seed;
  let slices = 0;
  for (;;) {
    s = (s * 1103515245 + 12345) >>> 0;
    const budget = 1 + (s >>> 16) % maxBudget;
    hooks.beforeSlice?.(slices, a, b);
    jitParams.threshold = 0;
    const ra = a.cpu.run(budget);
    jitParams.threshold = threshold;
    const rb = b.cpu.run(budget);
    const sa = snapshot(a, ra);
    const sb = snapshot(b, rb);
    slices++;
    expect(sb, `slice ${slices} (budget ${budget})`).toEqual(sa);
    if (ra !== ENGINE_EXIT_BUDGET || a.cpu.halted) return { last: sa, slices, compiled: b.cpu.blocks.compiled };
    if (slices > 200_000) throw new Error('guest did not finish');
  }
}

/** lockstep() with the JavaScript source of every region compiled during the run. */
function lockstepSources(...args: Parameters<typeof lockstep>): ReturnType<typeof lockstep> & { sources: string } {
  const savedHook = jitParams.onCompile;
  let sources = '';
  jitParams.onCompile = (_rip, src) => { sources += src; };
  try {
    return { ...lockstep(...args), sources };
  } finally {
    jitParams.onCompile = savedHook;
  }
}

describe('engine: compiled tier (jit) in lockstep with the interpreter', () => {
  it('64-bit: same state after every budget slice, through SMC and a #PF inside a block', () => {
    const { last, slices, compiled } = lockstep(64, 1);
    expect(last.exit).toBe('EXCEPTION');
    expect(last.vector).toBe(14);
    expect(compiled).toBeGreaterThan(5);
    expect(slices).toBeGreaterThan(100);
    // The self-modifying loop added 0x00..0x09 as the patched immediates (0x55 never ran after the first patch).
    // r13 (regs 26/27) holds the sum 0+1+...+9 = 45.
    expect(last.regs[26]).toBe(45);
  });

  it('32-bit protected mode: same state after every slice, through SMC and a #GP inside a block', () => {
    const { last, compiled } = lockstep(32, 7);
    expect(last.exit).toBe('EXCEPTION');
    expect(last.vector).toBe(13);
    expect(compiled).toBeGreaterThan(5);
    expect(last.regs[10]).toBe(45); // ebp
  });

  it('a region: flags carried between basic blocks, a RET back into the region, loops; small and large slices', () => {
    for (const [seed, maxBudget] of [[3, 97], [5, 5000]] as const) {
      const { last, compiled } = lockstep(64, seed, BODY_REGION, maxBudget);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(14);
      expect(compiled).toBeGreaterThan(0);
      expect(last.regs[16]).toBe(30 + last.regs[18]!); // r8 = 30 + r9 (the final ADD; r9 < 2^31)
    }
  });

  it('MOVS/STOS without REP in compiled loops: copies both ways, a STOSB into the running code, a #PF on the source', () => {
    for (const bits of [64, 32] as const) {
      for (const threshold of [1, 3]) {
        const { last, compiled } = lockstep(bits, 9, BODY_STRING(bits), 97, threshold);
        // 64-bit: #PF (not mapped); 32-bit without paging: no memory there, an MMIO read.
        expect(last.exit).toBe(bits === 64 ? 'EXCEPTION' : 'MMIO');
        if (bits === 64) expect(last.vector).toBe(14);
        expect(compiled).toBeGreaterThan(0);
        // ebx: the patched immediates, ecx >> 2 for ecx = 16..1 (a new one every 4 iterations,
        // so compiled iterations run between the changes and must see each new one).
        expect(last.regs[6]).toBe(4 + 3 * 4 + 2 * 4 + 1 * 4);
      }
    }
  });

  it('16-bit MOVs, shifts and ALU forms (stores, loads, immediates, register forms) are compiled and stay in lockstep, SMC and a straddling store included', () => {
    for (const bits of [64, 32] as const) {
      const { last, compiled, sources } = lockstepSources(bits, 13, BODY_WORD(bits), 97, 1);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(bits === 64 ? 14 : 13);
      expect(compiled).toBeGreaterThan(0);
      // ebp: the patched immediates, ecx >> 2 for ecx = 16..1.
      expect(last.regs[10]).toBe(4 + 3 * 4 + 2 * 4 + 1 * 4);
      // Compiled, not run through the interpreter in place.
      expect(sources).toContain('cpu.write16(la, 32769)');
      expect(sources).toContain('cpu.read16(la)');
      expect(sources).toContain('H.shift(cpu, 5, 2,');
      expect(sources).toContain('H.alu(cpu, 3, 2,');
      expect(sources).not.toContain('H.step(cpu)');
    }
  });

  it('a loop across a page boundary is one region, and indirect CALL/JMP (register and memory) are compiled; lockstep', () => {
    for (const bits of [64, 32] as const) {
      for (const threshold of [1, 3]) {
        const { last, compiled, sources } = lockstepSources(bits, 23, BODY_CROSS(bits), 97, threshold);
        expect(last.exit).toBe('EXCEPTION');
        expect(last.vector).toBe(bits === 64 ? 14 : 13);
        expect(compiled).toBeGreaterThan(0);
        // Blocks on the second page check its mapping when the region was entered on the
        // first (at threshold 1 the region is compiled before the second page was fetched).
        if (threshold > 1) expect(sources).toContain('H.codeAt(cpu, m, o + ');
        // The indirect transfers chain to their dynamic target instead of running in the interpreter.
        expect(sources).toContain('nx = t; ch = 1; break run;');
        expect(sources).toContain('nx = tb; ch = 1; break run;');
        expect(sources).not.toContain('H.step(cpu)');
      }
    }
  });

  it('a two-page region sees its second page remapped (4 KiB page tables), an instruction crossing into it too: it leaves, and the new code runs; lockstep', () => {
    // addAt 0xfff: the ADD crosses the page end; its block is compiled and checks the second page too.
    for (const addAt of [0x1000, 0xfff]) {
      const { last, slices, sources, compiled } = lockstepSources(64, 29, BODY_REMAP(addAt), 97, 3, {
        prepare: (m) => {
          const dv = new DataView(m.mem.buffer);
          // The first 2 MiB through a page table at 0x13000 (identity), so 0x101000 can move.
          for (let i = 0; i < 512; i++) dv.setUint32(0x13000 + 8 * i, (i << 12) | 7, true);
          dv.setUint32(0x12000, 0x13000 | 7, true);
          // The copy at 0x301000 adds 2 to ecx: its immediate byte is on the second page.
          expect([...m.mem.subarray(0x100000 + addAt, 0x100000 + addAt + 3)]).toEqual([0x83, 0xc1, 0x01]);
          m.mem.copyWithin(0x301000, 0x101000, 0x102000);
          m.mem[0x300000 + addAt + 2] = 2;
          m.cpu.flushTlb();
        },
        beforeSlice: (n, a, b) => {
          if (n !== 400) return;
          // Both guests' PTE for 0x101000 now names the copy; the TLBs are flushed as by INVLPG.
          for (const m of [a, b]) {
            new DataView(m.mem.buffer).setUint32(0x13000 + 8 * 0x101, 0x301000 | 7, true);
            m.cpu.flushTlb();
          }
          expect(b.cpu.blocks.compiled).toBeGreaterThan(0);
        },
      });
      expect(slices).toBeGreaterThan(400);
      expect(last.exit).toBe('EXCEPTION');
      expect(compiled).toBeGreaterThan(0);
      expect(sources).toContain('H.codeAt(cpu, m, o + ');
      // The crossing ADD is compiled: its block checks the next page wherever the region was entered.
      if (addAt === 0xfff) expect(sources).toMatch(/[{}] if \(!H\.codeAt\(cpu, m, o \+ \d+, \d+, \d+\)\)/);
    }
  });

  it('unrolled straight code longer than a region compiles at the threshold, piece after piece on consecutive runs; lockstep', () => {
    for (const bits of [64, 32] as const) {
      // live: every probe-filter slot as if a region started at an aliasing RIP, so the
      // block cache's hot count (not the filter's) carries each continuation.
      for (const live of [false, true]) {
        const before = jitStats.instructions;
        // Threshold 10: straight code would wait for 10 * straightFactor runs, more than the loop's 60.
        const { last, compiled } = lockstep(bits, 41, BODY_UNROLLED(bits), 5000, 10,
          { prepare: (m) => { if (live) m.cpu.blocks.probe.fill(PROBE_LIVE); } });
        expect(last.exit).toBe('EXCEPTION');
        expect(last.vector).toBe(bits === 64 ? 14 : 13);
        expect(compiled).toBeGreaterThan(5);
        // Each region of the body makes its continuation as hot as itself, so the next one
        // compiles on the next run: two thirds of the 54000 instructions run compiled (one
        // third when each piece waits for its own threshold, none at threshold * straightFactor).
        expect(jitStats.instructions - before, `live ${live}`).toBeGreaterThan(0.5 * last.instret);
      }
    }
  });

  it('loads, stores, ALU on memory, pushes and pops at every offset around a page end, and a crossing store that faults, stay in lockstep (memory too)', () => {
    for (const bits of [64, 32] as const) {
      for (const threshold of [1, 3]) {
        // 64-bit: the page after 0x200000 is mapped to 0x3f5000 (4 KiB page tables), so an
        // access that read or wrote across the page end in the slot would hit the wrong bytes.
        const remap = (m: Machine): void => {
          if (bits !== 64) return;
          const dv = new DataView(m.mem.buffer);
          for (let i = 0; i < 512; i++) dv.setUint32(0x14000 + 8 * i, (0x200000 + (i << 12)) | 7, true);
          dv.setUint32(0x14000 + 8, 0x3f5000 | 7, true);
          dv.setUint32(0x12000 + 8, 0x14000 | 7, true);
          m.cpu.flushTlb();
        };
        const sameMemory = (_n: number, a: Machine, b: Machine): void => {
          expect(Buffer.compare(Buffer.from(a.mem), Buffer.from(b.mem))).toBe(0);
        };
        const { last, compiled, sources } = lockstepSources(bits, 37, BODY_PAGE_END(bits), 97, threshold, { prepare: remap, beforeSlice: sameMemory });
        expect(last.exit).toBe('EXCEPTION');
        expect(last.vector).toBe(bits === 64 ? 14 : 13);
        expect(compiled).toBeGreaterThan(0);
        // The TLB hits are inline: no helper call for a load or a store.
        expect(sources).toContain('TV[ti].getInt32(');
        expect(sources).toContain('TV[ti].setInt32(');
        expect(sources).not.toContain('H.ld');
        expect(sources).not.toMatch(/H\.st(32|64)\(/);
      }
    }
  });

  it('DIV r/m32 and ENDBR are compiled and stay in lockstep, a #DE inside a block included', () => {
    for (const bits of [64, 32] as const) {
      const { last, compiled, sources } = lockstepSources(bits, 17, BODY_DIV(bits), 97, 1);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(0);
      expect(compiled).toBeGreaterThan(0);
      expect(sources).toContain('cpu.raise(0)');
      expect(sources).not.toContain('H.step(cpu)');
    }
  });

  it('MOVS/STOS without REP are compiled (no interpreter step inside the block)', () => {
    for (const bits of [64, 32] as const) {
      const { sources } = lockstepSources(bits, 9, BODY_STRING(bits), 97, 1);
      expect(sources).toContain('cpu.write8(la');
      expect(sources).not.toContain('H.step(cpu)');
    }
  });

  it('64-bit base + displacement operands: negative bases, and a non-canonical sum (#GP) with flags pending', () => {
    const { last, compiled } = lockstep(64, 19, BODY_EA, 97, 1);
    expect(last.exit).toBe('EXCEPTION');
    expect(last.vector).toBe(13);
    expect(compiled).toBeGreaterThan(0);
  });

  it('PUSH/POP/CALL/RET inline: push/pop of rSP, pushes into the running code, an unusable stack pointer (#SS)', () => {
    for (const bits of [64, 32] as const) {
      for (const threshold of [1, 3]) {
        const { last, compiled } = lockstep(bits, 23, BODY_STACK(bits), 97, threshold);
        expect(last.exit).toBe('EXCEPTION');
        expect(last.vector).toBe(12);
        expect(compiled).toBeGreaterThan(0);
        // ebx: the patched immediates (little-endian low bytes), ecx >> 2 for ecx = 16..1.
        expect(last.regs[6]).toBe(4 + 3 * 4 + 2 * 4 + 1 * 4);
      }
    }
  });

  it('32-bit: a data segment that stops being flat in the middle of a loop (MOV DS) is seen by the next access (#GP)', () => {
    // GDT at 0x1000: 0x08 code, 0x10 flat data, 0x18 data with a 1 MiB limit (byte granular).
    const body = `
      .code32
      mov $0x7ff000, %esp
      mov $0x300000, %ebx
      xor %ecx, %ecx
      xor %edx, %edx
    loop:
      mov $0x10, %eax
      mov %eax, %ds
      add (%ebx), %ecx
      add $1, %edx
      cmp $500, %edx
      jne 1f
      mov $0x18, %eax
      mov %eax, %ds
    1:
      add (%ebx), %ecx
      mov %ecx, 4(%ebx)
      cmp $600, %edx
      jne loop
      hlt
    `;
    for (const threshold of [1, 3]) {
      const make = () => {
        const m = machine(32, body);
        setGdt(m, [[0x0000ffff, 0x00cf9b00], [0x0000ffff, 0x00cf9300], [0x0000ffff, 0x000f9300]]);
        m.cpu.segLimit[3] = 0xffffffff;
        return m;
      };
      const a = make();
      const b = make();
      let s = 29;
      let r = ENGINE_EXIT_BUDGET;
      let compiled = 0;
      for (let n = 0; n < 100_000 && r === ENGINE_EXIT_BUDGET && !a.cpu.halted; n++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const budget = 1 + (s >>> 16) % 97;
        jitParams.threshold = 0;
        r = a.cpu.run(budget);
        jitParams.threshold = threshold;
        const rb = b.cpu.run(budget);
        expect(snapshot(b, rb)).toEqual(snapshot(a, r));
        compiled = b.cpu.blocks.compiled;
      }
      expect(ENGINE_EXIT_NAMES[r]).toBe('EXCEPTION');
      expect(a.cpu.exit.vector).toBe(13);
      expect(compiled).toBeGreaterThan(0);
    }
  });

  it('32-bit with a 16-bit stack segment: the stack helpers, LEAVE and MUL use registers the region keeps in locals; a fault in a block after register writes keeps them (in a helper: #SS, inline: #GP)', () => {
    // GDT at 0x1000: 0x08 code, 0x10 flat data, 0x20 data at 0x700000 with a 64 KiB limit and B clear
    // (SP, not ESP): every PUSH, POP, CALL, RET and LEAVE runs through the interpreter's helpers.
    // The tail runs three times (compiled at threshold 1 after the first): its first two
    // instructions write registers, the third faults the third time, in the push helper
    // (#SS: SP wraps past the limit) or inline (#GP: past the DS limit of 2 GiB).
    const body = (fault: string) => `
      .code32
      mov $0x20, %eax
      mov %eax, %ss
      mov $0x8000, %esp
      xor %ecx, %ecx
      xor %ebp, %ebp
      mov $0x12345, %esi
    loop:
      push %ecx
      push %esi
      call fn
      pop %edi
      pop %edx
      add %edx, %ebp
      mov %esi, %eax
      mul %ecx
      add %eax, %ebp
      xor %edx, %esi
      add %edi, %esi
      add $1, %ecx
      cmp $300, %ecx
      jne loop
      mov $0x200000, %edx
      mov $2, %edi
    tail:
      add $7, %ecx
      mov %ebp, %ebx
      ${fault}
      dec %edi
      jnz tail
      mov $2, %esp
      mov $0x80000000, %edx
      jmp tail
    fn:
      push %ebp
      mov %esp, %ebp
      mov 8(%ebp), %eax
      imul $7, %eax, %eax
      mov %eax, 8(%ebp)
      leave
      ret
    `;
    for (const [fault, vector] of [['push %ecx', 12], ['mov (%edx), %eax', 13]] as const) {
      // Small slices, and slices long enough that the tail's last pass runs compiled.
      for (const [threshold, maxBudget] of [[1, 97], [3, 97], [1, 1_000_000]]) {
        const { last, compiled } = lockstep(32, 41, body(fault), maxBudget, threshold, {
          prepare: (m) => setGdt(m, [[0x0000ffff, 0x00cf9b00], [0x0000ffff, 0x00cf9300], [0, 0], [0x0000ffff, 0x00009370]]),
        });
        expect(last.exit).toBe('EXCEPTION');
        expect(last.vector).toBe(vector);
        expect(compiled).toBeGreaterThan(0);
        // The two instructions before the fault retired: their results are kept.
        expect(last.regs[2]).toBe(321);
        expect(last.regs[6]).toBe(last.regs[10]);
      }
    }
  });

  it('compiled stores into the running region\'s page (MOV, OR to memory, an 8-byte MOV; TLB hits and misses) leave it, and the patched code runs; lockstep', () => {
    // flush: INVLPG drops the code page's translation, so the one store (to p1) takes the
    // cpu's method (the region starts after the INVLPG); without it the stores hit the TLB.
    for (const [bits, flush] of [[64, false], [32, false], [64, true], [32, true]] as const) {
      const r = bits === 64 ? 'r' : 'e';
      // Each iteration stores c >> 5 into the immediates of the MOVs below it (same page,
      // same region): the bytes change every 32 iterations, and in between the region runs
      // compiled up to its first store (which leaves it, as any store to its pages does).
      const body = `
        .code${bits}
        mov $0x7ff000, %${r}sp
        xor %ecx, %ecx
        xor %ebx, %ebx
      loop:
        ${flush ? 'invlpg p1' : ''}
        mov %ecx, %eax
        shr $5, %eax
        ${flush ? '' : 'or %eax, p2+1'}
        ${flush ? '' : bits === 64 ? 'mov %rax, p3+2' : 'mov %eax, p3+1'}
        mov %eax, p1+1
      p1:
        mov $0x11, %edx
        add %edx, %ebx
      p2:
        mov $0x20, %edx
        add %edx, %ebx
      p3:
        ${bits === 64 ? 'movabs $0x33, %rdx' : 'mov $0x33, %edx'}
        add %edx, %ebx
        add $1, %ecx
        cmp $200, %ecx
        jne loop
        hlt
      `;
      let sum = 0;
      let p2 = 0x20;
      for (let c = 0; c < 200; c++) {
        if (!flush) p2 |= c >> 5;
        sum += (c >> 5) + p2 + (flush ? 0x33 : c >> 5);
      }
      for (const threshold of [1, 3]) {
        const { last, compiled } = lockstep(bits, 53, body, 97, threshold);
        expect(last.exit).toBe('HLT');
        expect(compiled).toBeGreaterThan(0);
        expect(last.regs[6]).toBe(sum);
      }
    }
  });

  it('hot code: regions compiled after a few executions and entered at any of their basic blocks stay in lockstep', () => {
    for (const threshold of [2, 7]) {
      const { last, compiled } = lockstep(64, 11, undefined, 97, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(14);
      expect(compiled).toBeGreaterThan(0);
      expect(last.regs[26]).toBe(45);
    }
  });

  it('a loop compiles at the threshold, straight-line code only at threshold * straightFactor', () => {
    // loop1 is a loop on its own; in loop2 a store the tier cannot compile (XCHG with
    // memory) ends every block, so no region there holds a loop.
    const body = `
      .code64
      mov $0x200000, %rbx
      xor %ecx, %ecx
    loop1:
      add $3, %eax
      inc %ecx
      cmp $100, %ecx
      jl loop1
      xor %ecx, %ecx
    loop2:
      inc %ecx
      jmp over
      nop
    over:
      add %ecx, %eax
      xchg %eax, (%rbx)
      cmp $100, %ecx
      jl loop2
      hlt
    `;
    const savedFactor = jitParams.straightFactor;
    const savedHook = jitParams.onCompile;
    const m = machine(64, body);
    const atCompile: number[] = [];
    let r = ENGINE_EXIT_BUDGET;
    try {
      jitParams.threshold = 4;
      jitParams.straightFactor = 5;
      jitParams.onCompile = () => { atCompile.push(m.cpu.regs[2]!); }; // ecx when each region is compiled
      for (let i = 0; i < 100 && r === ENGINE_EXIT_BUDGET; i++) r = m.cpu.run(1000);
    } finally {
      jitParams.straightFactor = savedFactor;
      jitParams.onCompile = savedHook;
    }
    // It ran to the HLT (an exit here), both loops 100 times.
    expect(ENGINE_EXIT_NAMES[r]).toBe('HLT');
    expect(m.cpu.regs[2]).toBe(100);
    // loop1's region: after its head ran 4 times. loop2's straight regions: after 20 runs.
    expect(atCompile[0]).toBeLessThan(8);
    expect(atCompile.length).toBeGreaterThan(1);
    for (const ecx of atCompile.slice(1)) expect(ecx).toBeGreaterThanOrEqual(19);
  });

  it('a region left before its first instruction (its crossing instruction\'s next page not in the fetch TLB) keeps its slot', () => {
    // The loop's first block ends in an instruction that crosses 0x101000.
    const m = machine(64, `
  .code64
start:
  xor %ecx, %ecx
  jmp loop
  .org 0xff8
loop:
  add $1, %ecx
  nop
  movabs $0x1122334455667788, %rax
  cmp $100000, %ecx
  jne loop
  hlt
`);
    // Threshold 3: the interpreter has run (and decode-cached) the crossing MOVABS before the region is compiled.
    jitParams.threshold = 3;
    m.cpu.run(200);
    const slot = bcIndex(0x100ff8);
    expect(m.cpu.blocks.tag[slot]).toBe(0x100ff8 * 4 + 2);
    const compiled = m.cpu.blocks.compiled;
    for (let i = 0; i < 20; i++) {
      // At the loop's start, drop the second page from the TLB: the region's entry block
      // finds it missing and leaves at once (0 retired); the interpreter fetches it, and
      // the next entry runs compiled.
      for (let j = 0; j < 10 && m.cpu.rip !== 0x100ff8; j++) m.cpu.run(1);
      expect(m.cpu.rip).toBe(0x100ff8);
      m.cpu.flushTlbPage(0x101000);
      m.cpu.run(40);
      expect(m.cpu.blocks.tag[slot], `round ${i}`).toBe(0x100ff8 * 4 + 2);
    }
    // Single steps start other regions inside the loop; the loop's own is never compiled again.
    expect(m.cpu.blocks.compiled).toBeLessThan(compiled + 3);
  });

  it('an address where no block can start does not evict the region compiled at an aliasing address', () => {
    // loop (0x100002) and far (0x11000a) share a block-cache slot; far starts with PUSHF,
    // which has no compiled form, so every try to compile there finds nothing.
    expect(bcIndex(0x100002)).toBe(bcIndex(0x11000a));
    const m = machine(64, `
  .code64
start:
  jmp setup
loop:
  add %eax, %ebx
  inc %ecx
  call far
  cmp $3000, %ecx
  jne loop
  hlt
setup:
  mov $0x7ff000, %rsp
  xor %ecx, %ecx
  jmp loop
  .org 0x1000a
far:
  pushf
  popf
  ret
`);
    jitParams.threshold = 1;
    const bc = m.cpu.blocks;
    const slot = bcIndex(0x100002);
    let held = 0;
    let runs = 0;
    for (; runs < 1000 && m.cpu.run(97) === ENGINE_EXIT_BUDGET; runs++) {
      if (bc.tag[slot] === 0x100002 * 4 + 2 && bc.fn[slot] !== null) held++;
    }
    expect(m.cpu.regs[2]).toBe(3000);
    // The loop's basic block is an entry of the region compiled at the CALL's return point,
    // and it stays in its slot: far's failed tries leave it there.
    expect(held).toBeGreaterThan(0.9 * runs);
  });

  it('a block never runs past the budget: run(n) retires exactly n instructions', () => {
    const m = machine(64);
    jitParams.threshold = 1;
    for (let i = 0; i < 2000; i++) {
      const before = m.cpu.instret;
      const n = 1 + (i * 37) % 61;
      const r = m.cpu.run(n);
      if (r !== ENGINE_EXIT_BUDGET) break;
      expect(m.cpu.instret - before).toBe(n);
    }
    expect(m.cpu.blocks.compiled).toBeGreaterThan(5);
  });

  it('threshold 0 turns the tier off', () => {
    const m = machine(64);
    jitParams.threshold = 0;
    m.cpu.run(100_000);
    expect(m.cpu.blocks.compiled).toBe(0);
  });
});

/**
 * One physical page of code mapped at two linear addresses (Linux: the vDSO in every
 * process, a PIE binary's page-cache pages at each process's own base): a block bakes its
 * linear RIP in (RIP-relative operands, return addresses, branch targets, the next RIP), so
 * a block compiled at one address must not run at the other.
 */
const ALIAS64 = `
  .code64
start:
  mov $0x7ff000, %rsp
  xor %ebx, %ebx
  mov $40, %ecx
low:
  call func
  dec %ecx
  jnz low
  mov $40, %ecx
  movabs $func + 0x800000, %rdi
high:
  call *%rdi
  dec %ecx
  jnz high
  hlt
func:
  lea func(%rip), %rax
  add %rax, %rbx
  call inner
  add %rdx, %rbx
  ret
inner:
  mov (%rsp), %rdx
  ret
`;

describe('engine: compiled tier, one physical page at two linear addresses', () => {
  it('a block compiled at one linear address is not run at the other (same state as the interpreter)', () => {
    const make = () => {
      const org = 0x100000;
      const m = createMachine(assemble(ALIAS64, org), org, 0x800000);
      enterLongMode(m);
      // PDE 4: linear 8 MiB..10 MiB -> physical 0..2 MiB (an alias of the code's 2 MiB page).
      new DataView(m.mem.buffer).setUint32(0x10000 + 0x2000 + 8 * 4, 0x87, true);
      m.cpu.flushTlb();
      m.cpu.rip = org;
      return m;
    };
    const a = make();
    const b = make();
    let slices = 0;
    let ra = ENGINE_EXIT_BUDGET;
    for (;;) {
      const budget = 1 + (slices * 37) % 53;
      jitParams.threshold = 0;
      ra = a.cpu.run(budget);
      jitParams.threshold = 1;
      const rb = b.cpu.run(budget);
      slices++;
      expect(snapshot(b, rb), `slice ${slices}`).toEqual(snapshot(a, ra));
      if (ra !== ENGINE_EXIT_BUDGET || a.cpu.halted) break;
      expect(slices).toBeLessThan(10_000);
    }
    expect(ENGINE_EXIT_NAMES[ra]).toBe('HLT');
    // rbx: 40 * (func + the return address after `call inner`) at both addresses.
    const func = a.cpu.regs[14]! - 0x800000; // rdi
    const sum = 40 * (2 * func + 15) + 40 * (2 * (func + 0x800000) + 15);
    expect(a.cpu.regs[6]! >>> 0).toBe(sum >>> 0);
    expect(b.cpu.blocks.compiled).toBeGreaterThan(3);
  });
});

describe('engine: compiled tier verify mode (KVMTS_JIT_VERIFY)', () => {
  it('a block that computes the wrong result is reported and the interpreter\'s state is kept', async () => {
    const { verifyBlock, verifyMismatches } = await import('../../src/x86/engine/jit/verify');
    const { d } = await import('../../src/x86/engine/decoder');
    const org = 0x100000;
    const m = createMachine(assemble('  .code64\n  inc %rax\n  movq %rax, 0x2000(%rip)\n  hlt\n', org), org, 0x800000);
    enterLongMode(m);
    m.cpu.rip = org;
    m.cpu.regs[0] = 41;
    d.cpu = m.cpu;
    d.regs = m.cpu.regs;
    const before = verifyMismatches();
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    // A "compiled block" for the two instructions that adds 2 and stores 0.
    const wrong = (cpu: typeof m.cpu, _m: Uint8Array, _o: number, R: Int32Array) => {
      R[0] = R[0]! + 2;
      cpu.write64(org + 10 + 0x2000, 0, 0);
      d.ip = org + 10;
      return 2;
    };
    let r: number;
    try {
      r = verifyBlock(m.cpu, wrong as never, m.mem, org, 100, 0, undefined);
    } finally {
      process.stderr.write = stderr;
    }
    expect(r).toBe(2);
    expect(verifyMismatches()).toBe(before + 1);
    expect(m.cpu.regs[0]).toBe(42);
    expect(d.ip).toBe(org + 10);
    expect(m.mem[org + 10 + 0x2000]).toBe(42);
  });

  it('compiled stores (inline TLB stores, pushes) are seen and undone by verify mode: no mismatch on correct code', async () => {
    const { verifyMismatches } = await import('../../src/x86/engine/jit/verify');
    const before = verifyMismatches();
    const saved = jitParams.verify;
    jitParams.verify = true;
    try {
      for (const bits of [64, 32] as const) {
        const m = machine(bits, BODY_STACK(bits));
        jitParams.threshold = 1;
        let r = ENGINE_EXIT_BUDGET;
        for (let i = 0; i < 1000 && r === ENGINE_EXIT_BUDGET; i++) r = m.cpu.run(997);
        expect(ENGINE_EXIT_NAMES[r]).toBe('EXCEPTION');
        expect(m.cpu.regs[6]).toBe(4 + 3 * 4 + 2 * 4 + 1 * 4);
        expect(m.cpu.blocks.compiled).toBeGreaterThan(0);
      }
    } finally {
      jitParams.verify = saved;
    }
    expect(verifyMismatches()).toBe(before);
  });
});

/**
 * 32-bit IMUL and ADC/SBB with lazy flags (flags.ts PEND_IMUL32, PEND_ADC32, PEND_SBB32):
 * lib/mpi's umul_ppmm as the i386 kernel runs it (four IMULs of 16-bit halves, CMP+CMOV,
 * SETB, ADC), then every condition read straight after an IMUL (products that overflow and
 * that do not), after an ADC and an SBB (carry in set and clear), flags carried into the
 * next basic block and read there by interpreted PUSHF, and #GP faults right after an IMUL
 * and after an ADC inside a block (the flags at the fault come from the pending kind).
 */
const BODY_MUL32 = `
  .code32
start:
  mov $0x200000, %ebx
  mov $0x7ff000, %esp
  mov $0x9e3779b9, %ebp
  xor %edi, %edi
  xor %esi, %esi
loop:
  mov (%ebx,%edi,4), %edx
  movzwl %dx, %ecx
  shr $16, %edx
  mov %ebp, %eax
  movzwl %ax, %eax
  imul %ecx, %eax
  imul %ebp, %ecx
  imul %edx, %ebp
  imul 4(%ebx,%edi,4), %edx
  add %eax, %ecx
  cmp %eax, %ecx
  cmovae %edx, %ebp
  setb %al
  add (%ebx,%edi,4), %ecx
  adc %ecx, %esi
  mov %ecx, (%ebx,%edi,4)
  sbb %edx, %esi
  adc $0, %ebp
  imul $0x10001, %ebp, %eax
  jo 1f
  inc %esi
1:
  imul %ebp, %eax
  jc 2f
  add $3, %esi
2:
  imul %eax, %eax
  js 3f
  xor $0x55, %esi
3:
  imul $7, %esi, %edx
  jp 4f
  sub $9, %esi
4:
  imul %edi, %edx
  jl 5f
  or $0x100, %esi
5:
  imul $-3, %edx, %edx
  jle 6f
  rol $3, %esi
6:
  imul %ecx, %edx
  seto %al
  setbe %ah
  cmovg %edx, %ecx
  imul $0x7fff, %ecx, %ecx
  pushf
  pop %eax
  add %eax, %esi
  adc %edx, %ecx
  jc 7f
  adc $1, %ecx
7:
  jz 8f
  sbb %eax, %edx
8:
  js 9f
  sbb $0, %edx
9:
  jp 10f
  adc %edi, %edx
10:
  sbb %ecx, %ebp
  jnc 11f
  imul %eax, %edx
11:
  pushf
  pop %eax
  xor %eax, %esi
  mov %esi, 8(%ebx,%edi,4)
  adc %eax, %esi
  jmp 12f
12:
  pushf
  pop %eax
  imul %edx, %esi
  jmp 13f
13:
  pushf
  pop %edx
  add %edx, %esi
  inc %edi
  cmp $400, %edi
  jb loop
  mov $0x7fffffff, %eax
  imul %eax, %eax
  mov 0xfffffff0, %eax
  hlt
`;

/**
 * Instructions that only read memory, run in place inside compiled blocks: the i386
 * kernel's strcmp (LODSB; SCASB; JNE; TESTB; JNE), strchr (LODSB; CMP AH, AL), CMPSB
 * and LODSL/SCASL without REP, both directions, and lib/mpi's DIV by a limb in memory
 * (IDIV too), ending in a #DE from DIV m32 inside a block.
 */
const BODY_READS32 = `
  .code32
start:
  mov $0x7ff000, %esp
  mov $0x200000, %ebx
  xor %ecx, %ecx
fill:
  mov %ecx, %eax
  and $0x3f, %eax
  add $0x30, %eax
  mov %al, (%ebx,%ecx)
  mov %al, 0x1000(%ebx,%ecx)
  inc %ecx
  cmp $0x800, %ecx
  jne fill
  movb $0, 0x7ff(%ebx)
  movb $0, 0x17fe(%ebx)
  xor %ebp, %ebp
  xor %edi, %edi
round:
  mov %ebx, %esi
  lea 0x1000(%ebx), %edi
  add %ebp, %esi
  add %ebp, %edi
cmp:
  lodsb
  scasb
  jne 1f
  testb %al, %al
  jne cmp
1:
  sbb %eax, %eax
  add %eax, %edx
  mov %ebx, %esi
  add %ebp, %esi
  mov $0x45, %ah
chr:
  lodsb
  cmp %ah, %al
  je 2f
  testb %al, %al
  jne chr
2:
  add %esi, %edx
  mov %ebx, %esi
  lea 0x1000(%ebx), %edi
  mov $40, %ecx
cmps:
  cmpsb
  setne %al
  add %eax, %edx
  lodsl
  scasl
  adc %eax, %edx
  dec %ecx
  jnz cmps
  std
  mov $30, %ecx
back:
  lodsb
  scasl
  cmpsb
  adc %eax, %edx
  dec %ecx
  jnz back
  cld
  mov %edx, %eax
  xor %edx, %edx
  movl $0x1234567, 0x2000(%ebx)
  divl 0x2000(%ebx)
  add %eax, %esi
  add %edx, %esi
  mov %esi, %eax
  cltd
  idivl 0x2000(%ebx)
  add %edx, %edi
  inc %ebp
  cmp $60, %ebp
  jne round
  movl $0, 0x2000(%ebx)
  cmp %esi, %edi
  divl 0x2000(%ebx)
  hlt
`;

/**
 * 64-bit ADC/SBB with lazy flags (flags.ts PEND_ADC64/PEND_SBB64, a run-time kind that
 * carries the carry in) and IMUL r64 inline for operands below 2^32: lib/mpi's
 * mpihelp_submul_1 limb loop as the amd64 kernel runs it (four IMULs of 32-bit halves, their
 * CF/SF read, IMULs with high words set, CMP+CMOVAE, SETB, SUB from memory, ADC), then every
 * condition read straight after an ADC and an SBB with the carry in set and clear, chained
 * ADCs (the carry read back from the lazy kind), flags carried into the next basic block and
 * read there by PUSHF (ADC and SBB whose carry out exists only through the carry in), and a
 * #GP right after an ADC inside a block.
 */
const BODY_ADC64 = `
  .code64
start:
  mov $0x200000, %rbx
  mov $0x7ff000, %rsp
  movabs $0x9e3779b97f4a7c15, %r9
  mov %r9, %r10
  shr $32, %r10
  mov %r9d, %r9d
  movabs $0x9e3779b97f4a7c15, %rax
  xor %edi, %edi
fill:
  mov %rax, (%rbx,%rdi,8)
  rol $13, %rax
  add %r10, %rax
  inc %edi
  cmp $512, %edi
  jb fill
  xor %edi, %edi
  xor %esi, %esi
  xor %r8d, %r8d
loop:
  mov (%rbx,%r8,8), %rcx
  mov %rcx, %rdx
  mov %ecx, %ecx
  shr $32, %rdx
  mov %rcx, %rax
  imul %r9, %rax
  mov %rdx, %r13
  imul %r9, %r13
  imul %r10, %rcx
  imul %r10, %rdx
  setc %r15b
  sets %r12b
  seto %r11b
  add %r15, %rdi
  add %r12, %rdi
  add %r11, %rdi
  imul %rsi, %r12
  jo 12f
  add %r12, %rdi
12:
  mov %rax, %r14
  mov %eax, %eax
  shr $32, %r14
  add %r13, %rcx
  add %r14, %rcx
  mov %rdx, %r14
  cmp %r13, %rcx
  mov %rcx, %r13
  cmovae %r14, %rdx
  add %rsi, %rax
  shl $32, %r13
  add %r13, %rax
  cmp %rsi, %rax
  setb %sil
  shr $32, %rcx
  mov 8(%rbx,%r8,8), %r13
  movzbl %sil, %esi
  sub %rax, %r13
  adc %rcx, %rsi
  mov %r13, 8(%rbx,%r8,8)
  add %rdx, %rsi
  adc %rax, %rcx
  jc 1f
  adc $1, %rcx
1:
  adc %rsi, %rdx
  jz 2f
  sbb %rax, %rdx
2:
  sbb %r13, %rcx
  js 3f
  adc %rcx, %rsi
3:
  sbb $-1, %rdx
  jp 4f
  adc %r8, %rdx
4:
  adc %rsi, %rdi
  jo 5f
  xor $0x55, %esi
5:
  sbb %rcx, %rdi
  jl 6f
  or $0x100, %rsi
6:
  adc %rax, %rdi
  jle 7f
  rol $3, %rsi
7:
  sbb %rdx, %rdi
  seto %al
  setbe %ah
  cmovg %rdx, %rcx
  adc %rdi, %rcx
  jmp 8f
8:
  pushf
  pop %rax
  add %rax, %rsi
  sbb %r8, %rcx
  jmp 9f
9:
  pushf
  pop %rdx
  imul %rdx, %rsi
  xor %rdx, %rsi
  mov %rsi, 16(%rbx,%r8,8)
  mov $-1, %rax
  xor %edx, %edx
  stc
  adc %rdx, %rax
  jmp 10f
10:
  pushf
  pop %r11
  add %r11, %rsi
  stc
  mov %rsi, %rax
  mov %rsi, %rdx
  sbb %rdx, %rax
  jc 11f
  inc %rsi
11:
  pushf
  pop %r11
  add %r11, %rsi
  inc %r8
  cmp $400, %r8
  jb loop
  movabs $0x8000000000000000, %rax
  mov %rax, %rdx
  clc
  adc %rax, %rax
  mov (%rdx), %rax
  hlt
`;

describe('engine: compiled tier, 64-bit ADC/SBB with lazy flags and inline IMUL', () => {
  it('same state as the interpreter after every slice (amd64 lib/mpi forms, every condition, a fault)', () => {
    for (const threshold of [1, 2]) {
      const { last, compiled } = lockstep(64, 29, BODY_ADC64, 97, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(13);
      expect(compiled).toBeGreaterThan(3);
      // The #GP (non-canonical load) came right after ADC 0x8000000000000000 + itself + 0:
      // CF = ZF = OF = 1, SF = 0 (bits 0, 6, 11, 7).
      expect(last.flags & 0x8c1).toBe(0x841);
    }
  });

  it('the ADC leaves its flags lazy and IMUL of 32-bit halves runs inline: no helper call for either', () => {
    const { sources } = lockstepSources(64, 31, BODY_ADC64, 97, 1);
    expect(sources).toContain('pk = 13 + th;');
    expect(sources).not.toContain('cpu.flags = F.flagsAdc64');
    expect(sources).toContain('if ((tah | tmh) === 0) { tr = Math.imul(ta, tm);');
  });
});

describe('engine: compiled tier, 32-bit IMUL and ADC/SBB with lazy flags', () => {
  it('LODS/SCAS/CMPS and DIV m32 run in place inside compiled loops, in lockstep; a #DE from DIV m32 in a block', () => {
    for (const threshold of [1, 3]) {
      const { last, compiled } = lockstep(32, 17, BODY_READS32, 97, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(0);
      expect(compiled).toBeGreaterThan(3);
    }
  });

  it('same state as the interpreter after every slice (i386 lib/mpi forms, every condition, faults)', () => {
    for (const threshold of [1, 2]) {
      const { last, compiled } = lockstep(32, 13, BODY_MUL32, 97, threshold);
      expect(last.exit).toBe('EXCEPTION');
      expect(last.vector).toBe(13);
      expect(compiled).toBeGreaterThan(3);
      // The fault came after IMUL 0x7fffffff * 0x7fffffff: CF = OF = 1 (bits 0 and 11), ZF = 0.
      expect(last.flags & 0x8c1).toBe(0x801);
    }
  });
});
