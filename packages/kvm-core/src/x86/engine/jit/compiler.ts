/**
 * The region compiler: the second tier of the x86 engine.
 *
 * Design. The interpreter (../execute.ts) decodes each instruction once into the decode
 * cache and runs the frequent forms from there (../fast-path.ts). When an address where a
 * block starts has begun often enough (block-cache.ts jitParams.threshold), this compiler
 * turns the code around it into one JavaScript function with `new Function`: a region of
 * basic blocks on that 4 KiB page and a physically adjacent one (regionSpan), found by
 * following constant branch targets (and the return addresses of CALLs) through
 * instructions the interpreter has already decoded.
 * Each basic block is straight-line code (emit.ts) up to its branch, the first instruction
 * without a compiled form, or MAX_BLOCK instructions; the function loops over them with
 * `switch (pc)`, so a guest loop is a JavaScript loop and V8 optimises it as one. A region
 * keeps only the loop through its start (straight-line code: the blocks near it), since V8
 * optimises a function later the bigger it is, and every basic block of it is an entry (the
 * function's `pc` argument), so one loop is one function.
 * Constants from decoding are baked in. EFLAGS are lazy (flags.ts): known at compile time
 * inside a basic block, carried between blocks as a run-time kind (`pk`), and
 * materialised whenever anything can observe them.
 *
 * The region is keyed, like the decode cache, by the physical address of its first byte
 * and the mode bits that change decoding. Each basic block compares its bytes with memory
 * when a call first enters it, and the region leaves right after a store to its own pages,
 * so self-modifying code, DMA, other vCPUs and slot remaps are all seen. The run loop
 * (../run.ts) enters a region only when nothing can happen between its instructions that
 * the interpreter would check: no TF/RF, no instruction breakpoints, no MMIO read being
 * replayed, and budget left for its first basic block; every jump to another basic block
 * checks the budget, and a backward one asks mayContinue, so interrupt windows, NMI,
 * kicks, -icount and the instructions_retired count stay exact. A fault or exit inside a
 * region leaves the exact state of the interpreter: the catch handler sets the faulting
 * instruction's RIP and the flags before it, and reports how many instructions retired.
 */
import { alu, alu64, r64, shift, shift64, PARITY } from '../alu';
import { imul32, imul64, incDec, incDec64 } from '../alu';
import { grp3, leave } from '../fast-path';
import type { X86Cpu } from '../cpu';
import { BYTE_MASK, type DecodeCache, dcIndex } from '../decode-cache';
import { d } from '../decoder';
import { cond, step } from '../execute';
import { mayContinue } from './may-continue';
import { peek, pop, push, setStackPointer, spAdd, stackPointer } from '../stack';
import type { BlockFn } from './block-cache';
import { BlockEmitter } from './emit';
import { chainTo } from './chain';
import { flagsAdd32, flagsAdd64, flagsDyn, flagsLogic32, flagsLogic64, flagsShift32, flagsShift64, flagsSub32, flagsSub64, materialiseStmt, PEND_DYN } from './flags';
import { flagsAdc32, flagsAdc64, flagsSbb32, flagsSbb64 } from './flags';
import { bcIndex, codeLinear, jitStats } from './block-cache';
import { viewOf } from '../data-view';
import { TLB_MASK, TLB_WRITE_BASE } from '../tlb';
import { localiseRegisters, REG_LOAD, REG_STORE } from './reg-locals';

/** Most instructions in one basic block (the block cache's count is a byte). */
export const MAX_BLOCK = 48;

/** The len code bytes at m[p] still are the words w[at..] (the last one masked to its bytes). */
function sameCode(m: Uint8Array, p: number, w: Int32Array, at: number, len: number): boolean {
  // Whole words through a DataView (one load each); the tail byte by byte, since the word
  // past the block's end may lie past the end of m.
  const v = viewOf(m);
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    if (v.getInt32(p + k, true) !== w[at++]) return false;
  }
  if (k < len && (word(m, p + k) & BYTE_MASK[len - k]!) !== w[at]) return false;
  return true;
}

/**
 * The code at rip (a basic block of a region on another page than the one it was entered
 * on) is fetched from m[p], physical page hpa: the fetch TLB maps rip there now. Faults
 * and misses answer false (the region leaves, the interpreter fetches).
 */
function codeAt(cpu: X86Cpu, m: Uint8Array, p: number, rip: number, hpa: number): boolean {
  const la = codeLinear(cpu, rip);
  if (Number.isNaN(la)) return false;
  const ti = cpu.fetchEntryHit(la);
  return ti >= 0 && cpu.tlbMem[ti] === m && cpu.tlbOff[ti]! + (la & 0xfff) === p && cpu.tlbHpa[ti] === hpa;
}

/**
 * The offsets from the start's page base that a region at linear address la (m[o], page
 * offset po, physical pa) may span: its own page, and the page before or after it when the
 * fetch TLB maps that one to the physically adjacent page of the same memory. Loops cross
 * page boundaries (the kernel's blake2s round loop does); contiguous pages keep one
 * offset arithmetic for all the region's code, and codeAt checks the mapping on entry.
 */
function regionSpan(cpu: X86Cpu, la: number, pa: number, m: Uint8Array, o: number): { lo: number; hi: number } {
  if (Number.isNaN(la)) return { lo: 0, hi: 4096 };
  const po = la & 0xfff;
  const adjacent = (d: number): boolean => {
    const ti = cpu.fetchEntryHit(cpu.mode64 ? la - po + d : (la - po + d) >>> 0);
    return ti >= 0 && cpu.tlbMem[ti] === m && cpu.tlbOff[ti] === o - po + d && cpu.tlbHpa[ti] === pa - po + d;
  };
  return { lo: adjacent(-4096) ? -4096 : 0, hi: adjacent(4096) ? 8192 : 4096 };
}

/**
 * After a store of size bytes at la through the cpu's method (a TLB miss, MMIO, a page
 * crossing): a value in plo..phi when the region must leave (an MMIO write is pending, or
 * a page the store wrote is one of the region's code pages, bases plo..phi), else -1.
 * The write TLB maps the pages stored to now (the store filled it).
 */
function stored(cpu: X86Cpu, la: number, size: number, plo: number, phi: number): number {
  if (cpu.mmioWritePending) return plo;
  const th = cpu.tlbHpa;
  const tp = th[TLB_WRITE_BASE + ((la >>> 12) & TLB_MASK)]!;
  if (tp >= plo && tp <= phi) return tp;
  if ((la & 4095) > 4096 - size) {
    const tn = th[TLB_WRITE_BASE + (((la + size - 1) >>> 12) & TLB_MASK)]!;
    if (tn >= plo && tn <= phi) return tn;
  }
  return -1;
}

/** Helpers the generated code calls (bound once, passed to every region factory). */
const H = {
  sameCode, codeAt, stored, chainTo, alu, alu64, r64, shift, shift64, cond, push, pop, peek, setStackPointer, spAdd, stackPointer, step, mayContinue,
  // The operation helpers of the forms compiled by BlockEmitter.emitForm.
  imul32, imul64, incDec, incDec64, grp3, leave,
};
const F = {
  flagsAdd32, flagsSub32, flagsLogic32, flagsAdd64, flagsSub64, flagsLogic64, flagsDyn, PARITY,
  flagsShift32, flagsShift64, flagsAdc32, flagsAdc64, flagsSbb32, flagsSbb64,
};

/** A basic block of a region as an entry: offset from the region start, RIP, instructions, bytes. */
export interface RegionEntry {
  delta: number;
  rip: number;
  count: number;
  len: number;
}

/** The result of compile(): the function and its entries (index 0: the region's start). */
export interface CompiledBlock {
  fn: BlockFn;
  entries: RegionEntry[];
  source: string;
  /**
   * Where a long straight region (a basic block of MAX_BLOCK instructions) stops while its
   * straight line goes on: after its basic blocks that end without a branch (at MAX_BLOCK,
   * the page end, an instruction without a compiled form) into code outside it. rip is the
   * RIP there, delta its offset from the region's first byte when it lies in the region's
   * physically contiguous span (else NaN). run-block.ts makes each as hot as the region, so
   * an unrolled body compiles piece after piece on consecutive runs.
   */
  continuations: { rip: number; delta: number }[];
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

/** How deep compiled regions may chain into each other before returning to the run loop. */
const MAX_CHAIN_DEPTH = 8;

/** Most instructions in one region, and basic blocks (the byte-check mask is a 32-bit int). */
export const MAX_REGION = 160;
const MAX_BBS = 32;
/** A region without a loop through its start keeps the basic blocks this many jumps from it. */
const STRAIGHT_DEPTH = 2;

/** Compiled regions by code bytes and source, shared by all vCPUs (oldest dropped first). */
const sharedRegions = new Map<string, BlockFn>();
const MAX_SHARED_REGIONS = 16384;

/** One basic block of a region: its offset from the region's start, RIP and code. */
interface BasicBlock {
  /** Region index of its first instruction. */
  start: number;
  /** Its page: -1, 0 or 1 from the region start's page (regionSpan). */
  page: number;
  /** Its last instruction crosses into the next page (whose mapping the block checks too). */
  cross: boolean;
  /** It ends without a branch: the straight line goes on at delta + len. */
  falls: boolean;
  delta: number;
  rip: number;
  /** Instructions, bytes, and the generated statements. */
  count: number;
  len: number;
  code: string[];
}

/**
 * Compile the region starting at physical address pa (RIP rip; its bytes at m[o]), mode
 * key modeKey (decode-cache DC_MODE64 | DC_DEF32). A region is the code on that page
 * reachable from pa through decoded instructions with compiled forms: basic blocks, each
 * ending at a branch, joined by their constant branch targets on the same page, in one
 * function that loops over them (`switch (pc)`), so a loop of the guest is a loop of the
 * generated code. Returns null when the first instruction cannot be compiled, undefined
 * when it is not in the decode cache yet, false when the region has no loop and straightOk
 * is false (nothing is built). continued: pa continues a long straight region compiled
 * before (its CompiledBlock.continuations): it is one too, however short its basic blocks
 * came out (the decode cache may miss some of its instructions).
 */
export function compileBlock(cpu: X86Cpu, pa: number, rip: number, modeKey: number, m: Uint8Array, o: number,
  straightOk = true, continued = false): CompiledBlock | null | undefined | false {
  const c = cpu.dcache;
  const mode64 = (modeKey & 2) !== 0;
  const span = regionSpan(cpu, codeLinear(cpu, rip), pa, m, o);
  /**
   * Lay the region out: its basic blocks (only those starting at an offset in keep, when
   * given), their code and the edges between them.
   */
  const layout = (keep: Set<number> | null) => {
    const e = new BlockEmitter(mode64, (modeKey & 1) !== 0, rip, pa);
    const po = pa % 4096;
    const bbs: BasicBlock[] = [];
    /** Basic block index by offset from the region start. */
    const byDelta = new Map<number, number>();
    const worklist: number[] = [];
    let total = 0;
    /** The decode-cache entry of the instruction at delta, if decoded with the bytes in memory now. */
    const entryAt = (delta: number): number => {
      const p = pa + delta;
      const ci = dcIndex(p);
      if (c.tag[ci] !== p * 4 + modeKey) return -1;
      const len = c.len[ci]!;
      // Within the span (an instruction may cross into the next page of the span: its block ends there).
      if (po + delta < span.lo || po + delta + len > span.hi) return -1;
      if (!entryMatches(c, ci, m, o + delta)) return -1;
      return ci;
    };
    /** The basic block starting at target t (a RIP), made on first use; -1 when t is outside the region. */
    const blockAt = (t: number): number => {
      const delta = t - rip;
      if (!(po + delta >= span.lo && po + delta < span.hi)) return -1;
      const known = byDelta.get(delta);
      if (known !== undefined) return known;
      if (bbs.length >= MAX_BBS || total >= MAX_REGION || (keep !== null && !keep.has(delta)) || entryAt(delta) < 0) return -1;
      byDelta.set(delta, bbs.length);
      bbs.push({ start: 0, page: (po + delta) >> 12, cross: false, falls: false, delta, rip: t, count: 0, len: 0, code: [] });
      worklist.push(bbs.length - 1);
      return bbs.length - 1;
    };
    e.goto = (i, t) => {
      const j = blockAt(t);
      if (j < 0) return e.chainStmts(i, t);
      // Leave the pending flags kind to the next block (flags.ts PEND_DYN).
      const pk = e.pend === PEND_DYN ? '' : `pk = ${e.pend};`;
      const back = bbs[j]!.delta <= bbs[current]!.delta;
      edges.push(current, j);
      // The next block runs only when the budget holds all of it; a loop's back edge also
      // asks the run loop's question (mayContinue), so events are seen once per iteration.
      return `${pk} ret += ${e.n(i)}; if (ret + BN_${j} > left${back ? ' || !H.mayContinue(cpu)' : ''}) { nx = ${t}; break run; } pc = ${j}; continue;`;
    };
    // RETs: a return to the instruction after one of the region's CALLs stays in the region.
    const retSites: { token: string; pend: number; n: number }[] = [];
    e.retGoto = (i) => {
      const token = `/*RET${retSites.length}*/`;
      retSites.push({ token, pend: e.pend, n: e.n(i) });
      retFrom.push(current);
      return token;
    };
    const returnPoints = new Set<number>();
    let current = 0;
    /** The region's control-flow edges (pairs of basic block indexes) and the blocks with a RET. */
    const edges: number[] = [];
    const retFrom: number[] = [];
    if (entryAt(0) < 0) return undefined;
    blockAt(rip);
    let index = 0;
    while (worklist.length > 0) {
      current = worklist.shift()!;
      const bb = bbs[current]!;
      e.out.length = 0;
      // Any basic block, the first one too, may be entered from another with flags pending (pk).
      e.pend = PEND_DYN;
      e.ended = false;
      e.bbStart = index;
      bb.start = index;
      let off = bb.delta;
      let ip = bb.rip;
      while (bb.count < MAX_BLOCK && total < MAX_REGION && !e.ended) {
        // A basic block lies in one page: the next one's is checked where the block starts (codeAt).
        if (bb.count > 0 && ((po + off) >> 12) !== bb.page) break;
        const ci = entryAt(off);
        if (ci < 0) break;
        const len = c.len[ci]!;
        let end = ip + len;
        if (!mode64) end = end >>> 0;
        else if (end >= 0x8000_0000_0000_0000) end -= 0x1_0000_0000_0000_0000;
        if (!e.emit(c, ci, c.kind[ci]!, index, ip, end)) break;
        bb.count++;
        total++;
        index++;
        off += len;
        ip = end;
      }
      if (bb.count === 0) {
        if (current === 0) return null;
        // Nothing compiled here after all: the interpreter runs this instruction.
        e.out.push(`nx = ${bb.rip}; break run;`);
      } else if (!e.ended) {
        bb.falls = true;
        e.out.push(e.branch(index - 1, ip));
      }
      bb.len = off - bb.delta;
      bb.cross = bb.len > 0 && ((po + off - 1) >> 12) !== bb.page;
      bb.code = e.out.slice();
      while (e.callEnds.length > 0) {
        const r = e.callEnds.pop()!;
        if (blockAt(r) >= 0) returnPoints.add(r);
      }
    }
    // A RET may return to any return point.
    for (const r of retFrom) for (const p of returnPoints) edges.push(r, byDelta.get(p - rip)!);
    return { e, bbs, retSites, returnPoints, index, edges };
  };
  const first = layout(null);
  if (first === null || first === undefined) return first;
  // Keep the loop through the region's start: the basic blocks from which the start can be
  // reached again. V8 optimises a function later the bigger it is, and code that leaves the
  // loop runs once per entry (it chains to the region compiled there, when hot itself).
  // Without such a loop, only the blocks near the start (STRAIGHT_DEPTH jumps away).
  const n0 = first.bbs.length;
  const reach = new Uint8Array(n0);
  let grew = true;
  while (grew) {
    grew = false;
    for (let x = 0; x < first.edges.length; x += 2) {
      const a = first.edges[x]!;
      const b = first.edges[x + 1]!;
      if (reach[a] === 0 && (b === 0 || reach[b] === 1)) {
        reach[a] = 1;
        grew = true;
      }
    }
  }
  const loops = reach[0] === 1;
  const keep = new Set<number>();
  if (loops) {
    first.bbs.forEach((bb, j) => { if (reach[j] === 1) keep.add(bb.delta); });
  } else {
    const depth = new Int8Array(n0).fill(-1);
    depth[0] = 0;
    keep.add(0);
    for (let dd = 0; dd < STRAIGHT_DEPTH; dd++) {
      for (let x = 0; x < first.edges.length; x += 2) {
        const a = first.edges[x]!;
        const b = first.edges[x + 1]!;
        if (depth[a] === dd && depth[b] < 0) {
          depth[b] = dd + 1;
          keep.add(first.bbs[b]!.delta);
        }
      }
    }
  }
  // Long straight code: a kept basic block cut at MAX_BLOCK, that many instructions
  // without a branch. Ordinary code branches every few instructions; this is unrolled code
  // (the kernel's blake2s and sha256 bodies, 1500 instructions each, run some 20k times at
  // boot), where one entry runs a whole region. Such a region is compiled at the
  // threshold, not at threshold * straightFactor (which that code never reaches), and its
  // continuations with it.
  let long = false;
  if (!loops) {
    long = continued || first.bbs.some((bb) => keep.has(bb.delta) && bb.count === MAX_BLOCK);
    if (!straightOk && !long) return false;
  }
  const second = keep.size === n0 ? first : layout(keep);
  if (second === null || second === undefined) return second;
  const { e, bbs, retSites, returnPoints, index } = second;
  const po = pa % 4096;
  const continuations = !long ? [] : bbs.filter((bb) => bb.falls && !bbs.some((b) => b.delta === bb.delta + bb.len))
    .map((bb) => {
      const delta = bb.delta + bb.len;
      return { rip: mode64 ? bb.rip + bb.len : (bb.rip + bb.len) >>> 0, delta: po + delta >= span.lo && po + delta < span.hi ? delta : NaN };
    });
  const retDispatch = (site: { pend: number; n: number }): string => {
    const pk = site.pend === PEND_DYN ? '' : `pk = ${site.pend};`;
    const cases = bbs.map((bb, j) => (returnPoints.has(bb.rip) ? `case ${bb.rip}: if (ret + BN_${j} > left || !H.mayContinue(cpu)) break; pc = ${j}; continue;` : ''))
      .filter((x) => x !== '').join(' ');
    return `${pk} ret += ${site.n}; switch (t) { ${cases} } nx = t; break run;`;
  };
  // The byte check of each basic block, on its first entry in a call (bit j of `ok`): the
  // code as it was compiled. A block whose code changed drops the region from the cache.
  const selfBi = bcIndex(pa);
  const words: number[] = [];
  // Every basic block is an entry too (the block cache maps each one's address to this
  // function and its index): its offset from the region start, and where its words are.
  const entryDelta = new Int32Array(bbs.length);
  const entryWords = new Int32Array(bbs.length);
  const entryLen = new Int32Array(bbs.length);
  bbs.forEach((bb, j) => {
    entryDelta[j] = bb.delta;
    entryWords[j] = words.length;
    entryLen[j] = bb.len;
    for (let k = 0; k < bb.len; k += 4) {
      const left = bb.len - k;
      words.push(word(m, o + bb.delta + k) & BYTE_MASK[left < 4 ? left : 4]!);
    }
  });
  const check = (j: number): string => `!H.sameCode(m, o + ${entryDelta[j]}, W, ${entryWords[j]}, ${entryLen[j]})`;
  // The fault points as data (less source for V8 than a switch): for instruction k, its RIP,
  // the pending flags kind before it (PEND_DYN: the run-time pk) and its index in its basic block.
  const faultRip = new Float64Array(index);
  const faultPend = new Int8Array(index);
  const faultN = new Int16Array(index).fill(-1);
  e.faults.forEach((f, i) => {
    if (f === undefined) return;
    const bb = bbs.find((b) => b.start <= i && i < b.start + b.count)!;
    faultRip[i] = f.rip;
    faultPend[i] = f.pend;
    faultN[i] = i - bb.start;
  });
  for (const bb of bbs) {
    for (let l = 0; l < bb.code.length; l++) {
      const line = bb.code[l]!;
      if (!line.includes('/*RET')) continue;
      const site = retSites.find((x) => line.includes(x.token))!;
      bb.code[l] = line.replace(site.token, retDispatch(site));
    }
  }
  const body: string[] = [];
  const pageBase = pa - (pa % 4096);
  // The pages the region's code lies on (a crossing instruction's block reaches the next).
  const pageLo = Math.min(...bbs.map((bb) => bb.page));
  const pageHi = Math.max(...bbs.map((bb) => bb.page + (bb.cross ? 1 : 0)));
  const crossMask = bbs.reduce((mask, bb, j) => (bb.cross ? mask | (1 << j) : mask), 0);
  bbs.forEach((bb, j) => {
    body.push(`case ${j}:`);
    // A block on another page than the entry's: that page must still be mapped where it was.
    let mapped = pageLo === pageHi ? '' : `if (EP !== ${bb.page} && !H.codeAt(cpu, m, o + ${bb.delta}, ${bb.rip}, ${pageBase + 4096 * bb.page})) { nx = ${bb.rip}; break run; } `;
    if (bb.cross) {
      // Its last instruction runs on into the next page: that one too.
      const next = 4096 * (bb.page + 1) - (pa % 4096);
      const nextRip = mode64 ? rip + next : (rip + next) >>> 0;
      mapped += `if (!H.codeAt(cpu, m, o + ${next}, ${nextRip}, ${pageBase + 4096 * (bb.page + 1)})) { nx = ${bb.rip}; break run; } `;
    }
    body.push(`  if ((ok & ${(1 << j) | 0}) === 0) { ${mapped}if (${check(j)}) { BT[${selfBi}] = -1; nx = ${bb.rip}; break run; } ok |= ${(1 << j) | 0}; }`);
    for (const l of bb.code) body.push(`  ${l}`);
  });
  const consts = bbs.map((bb, j) => `BN_${j} = ${bb.count}`).join(', ');
  const raw = [
    // Entered at basic block pc, whose first byte is at m[oe].
    'return function block(cpu, m, oe, R, left, depth, pc) {',
    '  const o = oe - BD[pc];',
    '  if (!H.sameCode(m, oe, W, BW[pc], BL[pc])) return -1;',
    `  ${REG_LOAD}`,
    '  const TH = cpu.tlbHpa, TT = cpu.tlbTag, TO = cpu.tlbOff, TV = cpu.tlbView, BT = cpu.blocks.tag;',
    `  ${e.flatPrologue()}`,
    `  const PLO = ${pageBase + 4096 * pageLo}, PHI = ${pageBase + 4096 * pageHi}, PEND_DYN = ${PEND_DYN}, ${consts};`,
    ...(pageLo === pageHi ? [] : [`  const EP = (${pa % 4096} + BD[pc]) >> 12;`]),
    '  let k = 0, la = 0, lo = 0, t = 0, tp = 0, ti = 0, tq = 0, th = 0, tm = 0, tmh = 0, ta = 0, tah = 0, tb = 0, tbh = 0, tr = 0, trh = 0;',
    // The entry block's bytes were checked above; one that crosses a page end checks its second page's mapping in its case.
    `  let fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, pk = 0, ret = 0, base = 0, nf = null, sy = 0, ch = 0, ok = ${crossMask === 0 ? '1 << pc' : `(1 << pc) & ${~crossMask}`}, nx = 0;`,
    '  try {',
    '   run: for (;;) {',
    '    switch (pc) {',
    ...body.map((l) => `    ${l}`),
    '    }',
    '   }',
    // Every exit: the pending flags kind in pk, the next RIP in nx; ch: chain to the
    // region compiled at nx (a constant target outside this one) while the nesting is shallow.
    `   ${materialiseStmt(PEND_DYN)}`,
    `   ${REG_STORE}`,
    `   if (ch !== 0 && depth < ${MAX_CHAIN_DEPTH} && ret < left) { base = ret; k = -1; t = H.chainTo(cpu, nx, left - ret, depth + 1); if (t !== 0) return base + t; }`,
    '   d.ip = nx;',
    '   return ret;',
    '  } catch (e) {',
    '    if (k < 0) { cpu.jitRetired += base; throw e; }',
    `    if (sy === 0) { ${REG_STORE} }`,
    '    if (FN[k] < 0) throw e;',
    '    const q = FP[k] === PEND_DYN ? pk : FP[k];',
    '    if (q !== 0) cpu.flags = F.flagsDyn(q, cpu.flags, fa, fah, fb, fbh, fr, frh);',
    '    d.ipStart = FR[k]; cpu.jitRetired = ret + FN[k];',
    '    throw e;',
    '  }',
    '};',
    // Profiles and stack traces name the block by its guest RIP.
    `//# sourceURL=kvmts-block-${rip.toString(16)}.js`,
  ].join('\n');
  const source = localiseRegisters(raw);
  // The same guest code compiles to the same source (with the same code bytes): every vCPU
  // and every VM in this process shares one function, already optimised by V8.
  const key = `${words.join(',')}\n${faultRip.join(',')}\n${faultPend.join(',')}\n${faultN.join(',')}\n${source}`;
  let fn = sharedRegions.get(key);
  jitStats.regions++;
  if (fn === undefined) {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('H', 'F', 'd', 'W', 'FR', 'FP', 'FN', 'BD', 'BW', 'BL', source) as (h: typeof H, f: typeof F, dd: typeof d, w: Int32Array,
      fr: Float64Array, fp: Int8Array, fn: Int16Array, bd: Int32Array, bw: Int32Array, bl: Int32Array) => BlockFn;
    fn = factory(H, F, d, Int32Array.from(words), faultRip, faultPend, faultN, entryDelta, entryWords, entryLen);
    if (sharedRegions.size >= MAX_SHARED_REGIONS) sharedRegions.delete(sharedRegions.keys().next().value!);
    sharedRegions.set(key, fn);
    jitStats.functions++;
    jitStats.sourceChars += source.length;
    jitStats.compileMs += performance.now() - t0;
  }
  return { fn, entries: bbs.map((bb) => ({ delta: bb.delta, rip: bb.rip, count: bb.count, len: bb.len })), source, continuations };
}
