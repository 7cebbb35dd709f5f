/**
 * The block compiler: the second tier of the x86 engine.
 *
 * Design. The interpreter (../execute.ts) decodes each instruction once into the decode
 * cache and runs the frequent forms from there (../fast-path.ts). When a run of such
 * instructions starting at one physical address has begun often enough (block-cache.ts
 * jitParams.threshold), this compiler turns it into one JavaScript function with
 * `new Function`: straight-line code, one instruction after the other (emit.ts), up to the
 * first branch, the first instruction without a fast form, the end of the page or
 * MAX_BLOCK instructions. Constants from decoding are baked in; EFLAGS are lazy inside
 * the block (flags.ts) and materialised whenever anything can observe them.
 *
 * The block is keyed, like the decode cache, by the physical address of its first byte and
 * the mode bits that change decoding; it compares its bytes with memory on every entry,
 * and it leaves right after a store to its own page, so self-modifying code, DMA, other
 * vCPUs and slot remaps are all seen. The run loop (../run.ts) enters a block only when
 * nothing can happen between its instructions that the interpreter would check: no TF/RF,
 * no instruction breakpoints, no MMIO read being replayed, and budget left for every
 * instruction of the block; so interrupt windows, NMI, kicks, -icount and the
 * instructions_retired count stay exact. A fault or exit inside a block leaves the exact
 * state of the interpreter: the catch handler sets the faulting instruction's RIP and the
 * flags before it, and reports how many instructions retired before it.
 */
import { alu, alu64, r64, shift, shift64, PARITY } from '../alu';
import type { X86Cpu } from '../cpu';
import { BYTE_MASK, type DecodeCache, dcIndex } from '../decode-cache';
import { d } from '../decoder';
import { cond, step } from '../execute';
import { mayContinue } from './may-continue';
import { peek, pop, push, setStackPointer, spAdd, stackPointer } from '../stack';
import type { BlockFn } from './block-cache';
import { BlockEmitter } from './emit';
import { flagsAdd32, flagsAdd64, flagsLogic32, flagsLogic64, flagsSub32, flagsSub64 } from './flags';

/** Most instructions in one block (the block cache's count is a byte). */
export const MAX_BLOCK = 48;

/** Helpers the generated code calls (bound once, passed to every block factory). */
/**
 * The one call site through which blocks enter each other: it sees every block, so V8
 * never inlines one compiled block into another (that multiplies its compile time).
 */
function callBlock(fn: BlockFn, cpu: X86Cpu, m: Uint8Array, o: number, R: Int32Array, left: number, depth: number): number {
  return fn(cpu, m, o, R, left, depth);
}

const H = { alu, alu64, r64, shift, shift64, cond, push, pop, peek, setStackPointer, spAdd, stackPointer, step, mayContinue, callBlock };
const F = { flagsAdd32, flagsSub32, flagsLogic32, flagsAdd64, flagsSub64, flagsLogic64, PARITY };

/** The result of compile(): the function, its instruction count and byte length. */
export interface CompiledBlock {
  fn: BlockFn;
  count: number;
  len: number;
  source: string;
}

/** The little-endian word of the 4 bytes at m[p]. */
function word(m: Uint8Array, p: number): number {
  return m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);
}

/** Entry ci still holds the bytes at m[p]. */
function entryMatches(c: DecodeCache, ci: number, m: Uint8Array, p: number): boolean {
  const len = c.len[ci]!;
  if ((word(m, p) & BYTE_MASK[len < 4 ? len : 4]!) !== c.w0[ci]) return false;
  if (len > 4 && (word(m, p + 4) & BYTE_MASK[len < 8 ? len - 4 : 4]!) !== c.w1[ci]) return false;
  if (len > 8 && (word(m, p + 8) & BYTE_MASK[len < 12 ? len - 8 : 4]!) !== c.w2[ci]) return false;
  if (len > 12 && (word(m, p + 12) & BYTE_MASK[len - 12]!) !== c.w3[ci]) return false;
  return true;
}

/**
 * Compile the block at physical address pa (RIP rip; its bytes at m[o]), mode key
 * modeKey (decode-cache DC_MODE64 | DC_DEF32). Returns null when the first instruction
 * cannot be compiled, undefined when it is not in the decode cache yet.
 */
export function compileBlock(cpu: X86Cpu, pa: number, rip: number, modeKey: number, m: Uint8Array, o: number): CompiledBlock | null | undefined {
  const c = cpu.dcache;
  const mode64 = (modeKey & 2) !== 0;
  const e = new BlockEmitter(mode64, (modeKey & 1) !== 0, rip, pa);
  const pageEnd = 4096 - (pa & 0xfff);
  let off = 0;
  let n = 0;
  let ip = rip;
  while (n < MAX_BLOCK && !e.ended) {
    const p = pa + off;
    const ci = dcIndex(p);
    if (c.tag[ci] !== p * 4 + modeKey) {
      // Not decoded (yet): the interpreter decodes it when it runs it; try again then.
      if (n === 0) return undefined;
      break;
    }
    const len = c.len[ci]!;
    if (off + len > pageEnd || !entryMatches(c, ci, m, o + off)) break;
    const kind = c.kind[ci]!;
    let end = ip + len;
    if (!mode64) end = end >>> 0;
    else if (end >= 0x8000_0000_0000_0000) end -= 0x1_0000_0000_0000_0000;
    if (!e.emit(c, ci, kind, n, ip, end)) break;
    n++;
    off += len;
    ip = end;
  }
  if (n === 0) return null;
  const body = e.out;
  if (!e.ended) body.push(e.chainStmts(n - 1, ip));
  // The byte check: the block's code as it was compiled.
  const checks: string[] = [];
  let k = 0;
  for (; k + 4 <= off; k += 4) checks.push(`(m[o + ${k}] | (m[o + ${k + 1}] << 8) | (m[o + ${k + 2}] << 16) | (m[o + ${k + 3}] << 24)) !== ${word(m, o + k)}`);
  for (; k < off; k++) checks.push(`m[o + ${k}] !== ${m[o + k]!}`);
  const cases: string[] = [];
  e.faults.forEach((f, i) => {
    if (f !== undefined) cases.push(`case ${i}: d.ipStart = ${f.rip}; cpu.flags = ${f.flags}; break;`);
  });
  const source = [
    'return function block(cpu, m, o, R, left, depth) {',
    `  if (${checks.join(' || ')}) return 0;`,
    '  const TH = cpu.tlbHpa, BC = cpu.blocks, BT = BC.tag, BR = BC.rip, BF = BC.fn, BN = BC.count, BL = BC.len;',
    `  const PAGE = ${pa - (pa % 4096)};`,
    '  let k = 0, la = 0, lo = 0, t = 0, th = 0, tm = 0, tmh = 0, ta = 0, tah = 0, tb = 0, tbh = 0, tr = 0, trh = 0;',
    '  let fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, ret = 0, base = 0, nf = null;',
    '  try {',
    '   for (;;) {',
    ...body.map((l) => `    ${l}`),
    '   }',
    '  } catch (e) {',
    '    if (k < 0) { cpu.jitRetired += base; throw e; }',
    `    switch (k) { ${cases.join(' ')} }`,
    '    cpu.jitRetired = ret + k;',
    '    throw e;',
    '  }',
    '};',
  ].join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('H', 'F', 'd', source) as (h: typeof H, f: typeof F, dd: typeof d) => BlockFn;
  return { fn: factory(H, F, d), count: n, len: off, source };
}
