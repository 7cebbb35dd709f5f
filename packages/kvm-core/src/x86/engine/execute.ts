/**
 * The one-byte opcode map (SDM Vol. 2 Table A-2): prefixes, then execution of one
 * instruction. The 0F map is in execute-0f.ts, string and port I/O in string-io.ts,
 * far transfers in far.ts, system instructions in system.ts.
 */
import { execVex, isVexPrefix } from './bmi';
import {
  ALU_CMP, alu, alu64, imul32, imul64, incDec, incDec64, muls64, mulu64, PARITY, r64, shift, shift64, SIGN_BIT, SIZE_MASK, szp,
} from './alu';
import {
  BP_VECTOR, BR_VECTOR, DE_VECTOR, EVENT_TYPE_PRIV_SW_EXCEPTION, EVENT_TYPE_SW_EXCEPTION, EVENT_TYPE_SW_INTR,
  FLAG_AF, FLAG_CF, FLAG_DF, FLAG_IF, FLAG_IOPL, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_VM,
  FLAG_ZF, GP_VECTOR, OF_VECTOR, UD_VECTOR, DB_VECTOR, FLAG_RF, CR0_EM, CR0_TS, NM_VECTOR,
} from './constants';
import type { X86Cpu } from './cpu';
import {
  d, decodeModrm, eaLinear, fetch16, fetch32, fetch8, fetchImm, fetchS8, getReg, readMem, readRm, ripRelPastImmediate, setReg,
  writeMem, writeRm,
} from './decoder';
import { exec0f } from './execute-0f';
import { farCall, farJmp, farRet } from './far';
import { execFwait, execX87 } from './fpu-sse/index';
import { fpuHost } from './fpu-host';
import { deliverEvent, iret, setFlagsPop } from './interrupts';
import { loadDataSegment } from './segments';
import { branchTo, peek, pop, push, relTarget, setStackPointer, spAdd, stackPointer } from './stack';
import { execIo, execString } from './string-io';
import { execHlt, checkIntercept } from './system';
import { ENGINE_EXIT_PAUSE } from './guest-mode';
import { classifyFast, execFast } from './fast-path';
import { probeCold } from './jit/block-cache';
import {
  BYTE_MASK, dcIndex, DCF_HAS66, DCF_LOCK, DCF_MODRM, DCF_PREFIXED, DCH_META, DCH_STRIDE, DCH_TAG_HI_LIMIT, DCH_TAG_LO, DCH_W0,
  dcTagHi, type DecodeCache,
} from './decode-cache';

const TWO32 = 0x1_0000_0000;
/** Legacy prefix bytes (segment overrides, 66, 67, F0, F2, F3). */
const IS_PREFIX = new Uint8Array(256);
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) IS_PREFIX[p] = 1;
const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
const mulOut = new Int32Array(4);
const popaScratch = new Int32Array(8);

/** Evaluate condition code cc (0..15: O NO B AE E NE BE A S NS P NP L GE LE G). */
export function cond(f: number, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (f & FLAG_OF) !== 0; break;
    case 1: r = (f & FLAG_CF) !== 0; break;
    case 2: r = (f & FLAG_ZF) !== 0; break;
    case 3: r = (f & (FLAG_CF | FLAG_ZF)) !== 0; break;
    case 4: r = (f & FLAG_SF) !== 0; break;
    case 5: r = (f & FLAG_PF) !== 0; break;
    case 6: r = ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
    default: r = (f & FLAG_ZF) !== 0 || ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
  }
  return cc & 1 ? !r : r;
}

/** The little-endian word of the 4 bytes at m[p] (bytes past the array read as 0). */
function word(m: Uint8Array, p: number): number {
  return m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);
}

/** The fetch window of an instruction that crosses a page end, gathered from both pages (crossWindow). */
const CROSS = new Uint8Array(16);

/**
 * Gather avail instruction bytes into CROSS: inPage of them at m[p], the rest from the start
 * of the next page (linear next), when the fetch TLB holds that page (no walk, so no fault
 * and no accessed bit for bytes the instruction may not use: those come through
 * fetch8Checked as before, which fills the TLB for the next time). With the bytes in one
 * window, an instruction that crosses a page end decodes once and hits the decode cache
 * like any other: its entry, keyed by its first byte, is valid while its bytes are the same.
 */
function crossWindow(cpu: X86Cpu, m: Uint8Array, p: number, inPage: number, next: number, avail: number): boolean {
  const tj = cpu.fetchEntryHit(cpu.mode64 ? next : next >>> 0);
  if (tj < 0) return false;
  const m2 = cpu.tlbMem[tj]!;
  const p2 = cpu.tlbOff[tj]!;
  CROSS.fill(0);
  for (let k = 0; k < inPage; k++) CROSS[k] = m[p + k]!;
  for (let k = inPage; k < avail; k++) CROSS[k] = m2[p2 + k - inPage]!;
  return true;
}

/**
 * The cached instruction of entry ci (hit record at H[h]) still has its bytes in memory
 * (m[p], len bytes): a changed instruction never matches its old entry (decode-cache.ts).
 */
function sameBytes(H: Int32Array, h: number, c: DecodeCache, ci: number, m: Uint8Array, p: number, len: number): boolean {
  if (len < 4) return (word(m, p) & BYTE_MASK[len]!) === H[h + DCH_W0];
  if (word(m, p) !== H[h + DCH_W0]) return false;
  if (len <= 4) return true;
  if (len < 8) return (word(m, p + 4) & BYTE_MASK[len - 4]!) === H[h + DCH_W0 + 1];
  if (word(m, p + 4) !== H[h + DCH_W0 + 1]) return false;
  if (len <= 8) return true;
  if ((word(m, p + 8) & BYTE_MASK[len < 12 ? len - 8 : 4]!) !== c.w2[ci]) return false;
  if (len <= 12) return true;
  return (word(m, p + 12) & BYTE_MASK[len - 12]!) === c.w3[ci];
}

/**
 * The last step() ran a cached instruction that has no fast form (string ops, system
 * instructions, forms the compiled tier stops at): the run loop probes the compiled tier
 * at the instruction after it, where code that is hot may go on in a straight line. Only
 * meaningful when step() returned false (the fast path leaves it as it was).
 */
export let replayed = false;

/**
 * sameBytes for runFast: an instruction of up to eight bytes through the page's DataView v
 * (two loads instead of eight) when those eight bytes lie in the page (page offset po);
 * longer ones, and any near the page end, through sameBytes.
 */
function sameBytesIn(H: Int32Array, h: number, c: DecodeCache, ci: number, v: DataView, m: Uint8Array, p: number, po: number, len: number): boolean {
  if (po > 4088 || len > 8) return sameBytes(H, h, c, ci, m, p, len);
  const w0 = v.getInt32(p, true);
  if (len < 4) return (w0 & BYTE_MASK[len]!) === H[h + DCH_W0];
  if (w0 !== H[h + DCH_W0]) return false;
  if (len === 4) return true;
  return (v.getInt32(p + 4, true) & BYTE_MASK[len - 4]!) === H[h + DCH_W0 + 1];
}

/**
 * Decode prefixes and execute one instruction starting at cpu.rip. On return d.ip is the
 * next RIP; true when it ran as a fast form (fast-path.ts: nothing the run loop checks
 * between instructions can have changed, except a pending MMIO write). An instruction found in the decode cache (decode-cache.ts) skips the prefix
 * loop and replays its ModRM; one decoded here is entered once it retires.
 */
export function step(cpu: X86Cpu): boolean {
  if (d.cpu !== cpu || d.regs !== cpu.regs) {
    d.cpu = cpu;
    d.regs = cpu.regs;
  }
  const rip = cpu.rip;
  d.ipStart = rip;
  const mode64 = cpu.mode64;
  const def32 = mode64 || cpu.csDefault32;
  // The fetch window: up to 15 bytes, the page end and the CS limit (as fetch8 opens it).
  let la: number;
  let avail: number;
  if (mode64) {
    la = rip;
    avail = 15;
  } else {
    const limit = cpu.segLimit[1]!;
    if (rip > limit) cpu.raise(GP_VECTOR, 0);
    la = (cpu.segBase[1]! + rip) >>> 0;
    avail = limit - rip + 1;
    if (avail > 15) avail = 15;
  }
  const po = la & 0xfff;
  const ti = cpu.fetchEntry(la);
  let mem = cpu.tlbMem[ti]!;
  let base = cpu.tlbOff[ti]! + po;
  const hpa = cpu.tlbHpa[ti]!;
  const pa = hpa + po;
  if (4096 - po < avail) {
    // The window runs into the next page: read it from both when that page is fetchable now.
    if (crossWindow(cpu, mem, base, 4096 - po, la - po + 4096, avail)) {
      mem = CROSS;
      base = 0;
    } else {
      avail = 4096 - po;
    }
  }
  const modeKey = mode64 ? 2 : def32 ? 1 : 0;
  const c = cpu.dcache;
  const ci = dcIndex(pa);
  const H = c.hit;
  const h = ci * DCH_STRIDE;
  const meta = H[h + DCH_META]!;
  if (H[h + DCH_TAG_LO] === (pa | 0) && meta >>> 16 === (hpa < TWO32 ? modeKey : dcTagHi(pa, modeKey))) {
    // Same page offset, so the entry lies in the page; the CS limit may have moved.
    const len = meta & 0xff;
    if (len <= avail && sameBytes(H, h, c, ci, mem, base, len)) {
      const kind = (meta >>> 8) & 0xff;
      if (kind !== 0) {
        execFast(cpu, c, ci, kind);
        return true;
      }
      d.winMem = mem;
      d.winBase = base;
      replayed = true;
      replay(cpu, c, ci);
      return false;
    }
  }
  replayed = false;
  d.ip = rip;
  d.rpl = -1;
  d.opsize = def32 ? 4 : 2;
  d.adsize = mode64 ? 8 : def32 ? 4 : 2;
  d.winMem = mem;
  d.winBase = base;
  d.winAvail = avail;
  if (d.prefixed) {
    // Only an instruction with prefixes leaves non-default decode state behind.
    d.prefixed = false;
    d.segOverride = -1;
    d.rex = 0;
    d.rexW = false;
    d.rexR = 0;
    d.rexX = 0;
    d.rexB = 0;
    d.rep = 0;
    d.lock = false;
    d.lastPrefix = 0;
    d.has66 = false;
  }
  // The bytes as they are before the instruction runs (it may overwrite itself).
  const w0 = word(mem, base);
  const w1 = word(mem, base + 4);
  const w2 = word(mem, base + 8);
  const w3 = word(mem, base + 12);
  d.len = 0;
  d.modrmCount = 0;
  let op = fetch8();
  if (IS_PREFIX[op] === 0 && (!mode64 || (op & 0xf0) !== 0x40)) {
    d.opEnd = d.ip - rip;
    d.recOpsize = d.opsize;
    exec1(cpu, op);
    dcEnter(c, ci, pa, modeKey, op, w0, w1, w2, w3);
    return false;
  }
  d.prefixed = true;
  for (;; op = fetch8()) {
    switch (op) {
      case 0x26: d.segOverride = 0; d.rex = 0; continue;
      case 0x2e: d.segOverride = 1; d.rex = 0; continue;
      case 0x36: d.segOverride = 2; d.rex = 0; continue;
      case 0x3e: d.segOverride = 3; d.rex = 0; continue;
      case 0x64: d.segOverride = 4; d.rex = 0; continue;
      case 0x65: d.segOverride = 5; d.rex = 0; continue;
      case 0x66: d.opsize = def32 ? 2 : 4; d.has66 = true; d.lastPrefix = 0x66; d.rex = 0; continue;
      case 0x67: d.adsize = mode64 ? 4 : def32 ? 2 : 4; d.rex = 0; continue;
      case 0xf0: d.lock = true; d.rex = 0; continue;
      case 0xf2: case 0xf3: d.rep = op; d.lastPrefix = op; d.rex = 0; continue;
    }
    if (mode64 && (op & 0xf0) === 0x40) {
      // REX: only effective when immediately before the opcode (a later prefix cancels it).
      d.rex = op;
      continue;
    }
    break;
  }
  if (d.rex !== 0) {
    const rex = d.rex;
    d.rexW = (rex & 8) !== 0;
    d.rexR = (rex & 4) << 1;
    d.rexX = (rex & 2) << 2;
    d.rexB = (rex & 1) << 3;
    if (d.rexW) d.opsize = 8;
  }
  // In 64-bit mode segment overrides other than FS/GS are ignored for addressing.
  if (mode64 && d.segOverride >= 0 && d.segOverride < 4) d.segOverride = -1;
  d.opEnd = d.ip - rip;
  d.recOpsize = d.opsize;
  exec1(cpu, op);
  dcEnter(c, ci, pa, modeKey, op, w0, w1, w2, w3);
  return false;
}

/**
 * Run the fast forms (fast-path.ts) found in the decode cache back to back from cpu.rip,
 * at most `left` of them: the run loop's straight run (run.ts) without a step() call and a
 * fetch translation per instruction. The mode, CS and CPL cannot change under a fast form,
 * so they are read once; the page of the last instruction is reused while RIP stays in it
 * and its fetch TLB entry still holds it. Each instruction is checked against memory as in
 * step(), so modified code stops the run (step() decodes it anew).
 *
 * Stops before an instruction that is not a cached fast form in the fetch TLB (step() runs
 * it), after a pending MMIO write or an armed MMIO read log, and, when `probe` is set (the
 * compiled tier is on), after a branch to a start that the probe filter does not answer
 * (jit/block-cache.ts probeCold): the run loop looks for a compiled block there.
 * Returns the instructions retired * 2, + 1 when it stopped after a branch; cpu.rip is the
 * next instruction's RIP, cpu.instret is the caller's to advance. A fault or exit propagates
 * as from step(): d.ipStart is the faulting instruction and cpu.jitRetired counts the ones
 * that retired before it (as for a compiled block).
 */
export function runFast(cpu: X86Cpu, left: number, probe: boolean): number {
  if (d.cpu !== cpu || d.regs !== cpu.regs) {
    d.cpu = cpu;
    d.regs = cpu.regs;
  }
  const mode64 = cpu.mode64;
  const modeKey = mode64 ? 2 : cpu.csDefault32 ? 1 : 0;
  const csBase = mode64 ? 0 : cpu.segBase[1]!;
  const csLimit = mode64 ? 0 : cpu.segLimit[1]!;
  const c = cpu.dcache;
  const H = c.hit;
  const tlbTag = cpu.tlbTag;
  const bc = cpu.blocks;
  let rip = cpu.rip;
  let k = 0;
  // The current page: its linear base, fetch TLB entry and that entry's tag when read.
  let page = -1;
  let ti = 0;
  let tag = 0;
  let mem = c.w0 as unknown as Uint8Array;
  let view = cpu.tlbView[0]!;
  let off = 0;
  let hpa = 0;
  let branched = false;
  try {
    while (k < left) {
      let la: number;
      let avail = 15;
      if (mode64) {
        la = rip;
      } else {
        if (rip > csLimit) break;
        la = (csBase + rip) >>> 0;
        if (csLimit - rip < 14) avail = csLimit - rip + 1;
      }
      const po = la & 0xfff;
      if (4096 - po < avail) avail = 4096 - po;
      const pb = la - po;
      if (pb !== page || tlbTag[ti] !== tag) {
        ti = cpu.fetchEntryHit(la);
        if (ti < 0) break;
        page = pb;
        tag = tlbTag[ti]!;
        mem = cpu.tlbMem[ti]!;
        view = cpu.tlbView[ti]!;
        off = cpu.tlbOff[ti]!;
        hpa = cpu.tlbHpa[ti]!;
      }
      const pa = hpa + po;
      const ci = dcIndex(pa);
      const h = ci * DCH_STRIDE;
      const meta = H[h + DCH_META]!;
      if (H[h + DCH_TAG_LO] !== (pa | 0) || meta >>> 16 !== (hpa < TWO32 ? modeKey : dcTagHi(pa, modeKey))) break;
      const kind = (meta >>> 8) & 0xff;
      const len = meta & 0xff;
      if (kind === 0 || len > avail || !sameBytesIn(H, h, c, ci, view, mem, off + po, po, len)) break;
      d.ipStart = rip;
      cpu.mmioLogNext = 0;
      execFast(cpu, c, ci, kind);
      k++;
      const next = d.ip;
      cpu.rip = next;
      const delta = next - rip;
      rip = next;
      if (cpu.mmioWritePending || cpu.mmioLogCount !== 0) break;
      // A branch: the run loop probes the compiled tier there, unless the filter answers.
      if (probe && (delta <= 0 || delta > 15) && !probeCold(bc, next)) {
        branched = true;
        break;
      }
    }
  } catch (e) {
    cpu.jitRetired = k;
    throw e;
  }
  return k * 2 + (branched ? 1 : 0);
}

/** Execute the instruction of cache entry ci: its prefix state, then the opcode with its ModRM replayed. */
function replay(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const f = c.flags[ci]!;
  d.opsize = c.opsize[ci]!;
  d.adsize = c.adsize[ci]!;
  if (f & DCF_PREFIXED) {
    d.prefixed = true;
    d.segOverride = c.seg[ci]! - 1;
    const rex = c.rex[ci]!;
    d.rex = rex;
    d.rexW = (rex & 8) !== 0;
    d.rexR = (rex & 4) << 1;
    d.rexX = (rex & 2) << 2;
    d.rexB = (rex & 1) << 3;
    d.rep = c.rep[ci]!;
    d.lock = (f & DCF_LOCK) !== 0;
    d.lastPrefix = c.lastPrefix[ci]!;
    d.has66 = (f & DCF_HAS66) !== 0;
  } else if (d.prefixed) {
    d.prefixed = false;
    d.segOverride = -1;
    d.rex = 0;
    d.rexW = false;
    d.rexR = 0;
    d.rexX = 0;
    d.rexB = 0;
    d.rep = 0;
    d.lock = false;
    d.lastPrefix = 0;
    d.has66 = false;
  }
  d.ip = d.ipStart + c.opEnd[ci]!;
  d.winAvail = c.len[ci]!;
  d.rpl = f & DCF_MODRM ? ci : -1;
  exec1(cpu, c.op[ci]!);
}

/** The instruction decoded by step() retired: enter it in the cache if it lay wholly in the fetch window. */
function dcEnter(c: DecodeCache, ci: number, pa: number, modeKey: number, op: number, w0: number, w1: number, w2: number, w3: number): void {
  const len = d.len;
  if (len > d.winAvail || len === 0) return;
  c.tag[ci] = pa * 4 + modeKey;
  c.len[ci] = len;
  c.w0[ci] = w0 & BYTE_MASK[len < 4 ? len : 4]!;
  c.w1[ci] = len <= 4 ? 0 : w1 & BYTE_MASK[len < 8 ? len - 4 : 4]!;
  c.w2[ci] = len <= 8 ? 0 : w2 & BYTE_MASK[len < 12 ? len - 8 : 4]!;
  c.w3[ci] = len <= 12 ? 0 : w3 & BYTE_MASK[len - 12]!;
  c.op[ci] = op;
  c.opEnd[ci] = d.opEnd;
  c.opsize[ci] = d.recOpsize;
  c.adsize[ci] = d.adsize;
  let f = 0;
  if (d.prefixed) {
    f = DCF_PREFIXED | (d.has66 ? DCF_HAS66 : 0) | (d.lock ? DCF_LOCK : 0);
    c.seg[ci] = d.segOverride + 1;
    c.rex[ci] = d.rex;
    c.rep[ci] = d.rep;
    c.lastPrefix[ci] = d.lastPrefix;
  }
  if (d.modrmCount === 1 && d.recModrmOk) {
    f |= DCF_MODRM | d.recFlags;
    c.modrm[ci] = d.modrm;
    c.reg[ci] = d.reg;
    c.rm[ci] = d.rm;
    c.modrmEnd[ci] = d.recModrmEnd;
    c.base[ci] = d.recBase;
    c.index[ci] = d.recIndex;
    c.scale[ci] = d.recScale;
    c.disp[ci] = d.recDisp;
    c.eaSeg[ci] = d.eaSeg;
  }
  c.flags[ci] = f;
  c.mode64[ci] = modeKey === 2 ? 1 : 0;
  if (!(f & DCF_PREFIXED)) { c.seg[ci] = 0; c.rex[ci] = 0; c.rep[ci] = 0; c.lastPrefix[ci] = 0; }
  const kind = classifyFast(c, ci, w0, w1, w2, w3);
  c.kind[ci] = kind;
  const H = c.hit;
  const h = ci * DCH_STRIDE;
  const hi = dcTagHi(pa, modeKey);
  H[h + DCH_TAG_LO] = pa | 0;
  H[h + DCH_META] = hi < DCH_TAG_HI_LIMIT ? hi << 16 | kind << 8 | len : -1;
  H[h + DCH_W0] = c.w0[ci]!;
  H[h + DCH_W0 + 1] = c.w1[ci]!;
}

/** LOCK is only valid on read-modify-write forms with a memory destination. */
function checkLock(allowed: boolean): void {
  if (d.lock && !(allowed && d.isMem)) d.cpu.raise(UD_VECTOR);
}

/** ALU op on r/m and reg operands: dir 0 = Ev,Gv ; 1 = Gv,Ev. */
function aluRm(cpu: X86Cpu, aop: number, bytes: number, dir: number): void {
  decodeModrm(0);
  if (bytes === 4 && !d.isMem && !d.lock) {
    // Register-register 32-bit form: straight on the register file.
    const R = d.regs;
    const dst = dir === 0 ? d.rm : d.reg;
    const src = dir === 0 ? d.reg : d.rm;
    const res = alu(cpu, aop, 4, R[2 * dst]!, R[2 * src]!);
    if (aop !== ALU_CMP) {
      R[2 * dst] = res;
      R[2 * dst + 1] = 0;
    }
    return;
  }
  if (dir === 0) {
    checkLock(aop !== ALU_CMP);
    if (bytes === 8) {
      const la = d.isMem ? eaLinear(8, aop !== ALU_CMP) : 0;
      const alo = d.isMem ? readMem(la, 8) : getReg(8, d.rm);
      const ahi = d.hi;
      const blo = getReg(8, d.reg);
      const res = alu64(cpu, aop, alo, ahi, blo, d.hi);
      if (aop !== ALU_CMP) {
        if (d.isMem) writeMem(la, 8, res, r64.hi);
        else setReg(8, d.rm, res, r64.hi);
      }
      return;
    }
    const la = d.isMem ? eaLinear(bytes, aop !== ALU_CMP) : 0;
    const a = d.isMem ? readMem(la, bytes) : getReg(bytes, d.rm);
    const res = alu(cpu, aop, bytes, a, getReg(bytes, d.reg));
    if (aop !== ALU_CMP) {
      if (d.isMem) writeMem(la, bytes, res, 0);
      else setReg(bytes, d.rm, res, 0);
    }
  } else {
    checkLock(false);
    if (bytes === 8) {
      const blo = readRm(8);
      const bhi = d.hi;
      const alo = getReg(8, d.reg);
      const res = alu64(cpu, aop, alo, d.hi, blo, bhi);
      if (aop !== ALU_CMP) setReg(8, d.reg, res, r64.hi);
      return;
    }
    const b = readRm(bytes);
    const res = alu(cpu, aop, bytes, getReg(bytes, d.reg), b);
    if (aop !== ALU_CMP) setReg(bytes, d.reg, res, 0);
  }
}

/** Group 1 / ALU with an immediate on r/m: the immediate is already sign-extended to 32 bits. */
function aluRmImm(cpu: X86Cpu, aop: number, bytes: number, imm: number): void {
  checkLock(aop !== ALU_CMP);
  if (bytes === 8) {
    const la = d.isMem ? eaLinear(8, aop !== ALU_CMP) : 0;
    const alo = d.isMem ? readMem(la, 8) : getReg(8, d.rm);
    const res = alu64(cpu, aop, alo, d.hi, imm | 0, imm < 0 ? -1 : 0);
    if (aop !== ALU_CMP) {
      if (d.isMem) writeMem(la, 8, res, r64.hi);
      else setReg(8, d.rm, res, r64.hi);
    }
    return;
  }
  const la = d.isMem ? eaLinear(bytes, aop !== ALU_CMP) : 0;
  const a = d.isMem ? readMem(la, bytes) : getReg(bytes, d.rm);
  const res = alu(cpu, aop, bytes, a, bytes === 4 ? imm : imm & SIZE_MASK[bytes]!);
  if (aop !== ALU_CMP) {
    if (d.isMem) writeMem(la, bytes, res, 0);
    else setReg(bytes, d.rm, res, 0);
  }
}

/** Accumulator with immediate (04/05, 0C/0D, ..., A8/A9 TEST). */
function aluAccImm(cpu: X86Cpu, aop: number, bytes: number, test: boolean): void {
  const imm = bytes === 1 ? fetch8() : bytes === 2 ? fetch16() : fetch32();
  if (bytes === 8) {
    const res = alu64(cpu, test ? 4 : aop, d.regs[0]!, d.regs[1]!, imm, imm < 0 ? -1 : 0);
    if (!test && aop !== ALU_CMP) setReg(8, 0, res, r64.hi);
    return;
  }
  const a = getReg(bytes, 0);
  const res = alu(cpu, test ? 4 : aop, bytes, a, imm);
  if (!test && aop !== ALU_CMP) setReg(bytes, 0, res, 0);
}

function opBytes(op: number): number {
  return op & 1 ? d.opsize : 1;
}

/** Stack operand size for PUSH/POP: 64-bit mode defaults to 8 (66 gives 2). */
function stackOpsize(): number {
  if (d.cpu.mode64) return d.opsize === 2 ? 2 : 8;
  return d.opsize;
}

export function exec1(cpu: X86Cpu, op: number): void {
  const R = d.regs;
  if (op < 0x40 && (op & 7) < 6) {
    const aop = op >> 3;
    switch (op & 7) {
      case 0: aluRm(cpu, aop, 1, 0); return;
      case 1: aluRm(cpu, aop, d.opsize, 0); return;
      case 2: aluRm(cpu, aop, 1, 1); return;
      case 3: aluRm(cpu, aop, d.opsize, 1); return;
      case 4: checkLock(false); aluAccImm(cpu, aop, 1, false); return;
      default: checkLock(false); aluAccImm(cpu, aop, d.opsize, false); return;
    }
  }
  if (d.lock && !(op >= 0x80 && op <= 0x83) && op !== 0x86 && op !== 0x87 && op !== 0xf6 && op !== 0xf7 && op !== 0xfe && op !== 0xff && op !== 0x0f) {
    cpu.raise(UD_VECTOR);
  }
  switch (op) {
    case 0x06: case 0x0e: case 0x16: case 0x1e: // PUSH ES/CS/SS/DS
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      push(d.opsize, cpu.segSel[op >> 3]!, 0);
      break;
    case 0x07: case 0x17: case 0x1f: { // POP ES/SS/DS
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const v = peek(d.opsize, 0);
      loadDataSegment(cpu, op >> 3, v & 0xffff);
      setStackPointer(spAdd(stackPointer(), d.opsize));
      if (op === 0x17) cpu.movSsBlocking = true;
      break;
    }
    case 0x27: case 0x2f: case 0x37: case 0x3f: // DAA DAS AAA AAS
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      bcdAdjust(cpu, op);
      break;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      // INC/DEC r (REX in 64-bit mode, never reached there).
      const r = op & 7;
      setReg(d.opsize, r, incDec(cpu, d.opsize, getReg(d.opsize, r), op >= 0x48), 0);
      break;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: {
      const r = (op & 7) | d.rexB;
      const sz = stackOpsize();
      const lo = getReg(sz, r);
      push(sz, lo, d.hi);
      break;
    }
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
      const r = (op & 7) | d.rexB;
      const sz = stackOpsize();
      const v = pop(sz);
      setReg(sz, r, v, d.hi);
      break;
    }
    case 0x60: { // PUSHA/PUSHAD
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const sz = d.opsize;
      const sp0 = stackPointer();
      // Check the whole frame first so a fault leaves nothing half-pushed.
      cpu.probeWrite(cpu.linear(2, spAdd(sp0, -8 * sz), 8 * sz, true), 8 * sz);
      for (let r = 0; r < 8; r++) {
        const v = r === 4 ? sp0 : getReg(sz, r);
        writeMem(cpu.linear(2, spAdd(sp0, -(r + 1) * sz), sz, true), sz, v, 0);
      }
      setStackPointer(spAdd(sp0, -8 * sz));
      break;
    }
    case 0x61: { // POPA/POPAD
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const sz = d.opsize;
      const v = popaScratch;
      for (let r = 7; r >= 0; r--) v[r] = peek(sz, (7 - r) * sz);
      for (let r = 0; r < 8; r++) if (r !== 4) setReg(sz, r, v[r]!, 0);
      setStackPointer(spAdd(stackPointer(), 8 * sz));
      break;
    }
    case 0x62: { // BOUND
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      decodeModrm(0);
      if (!d.isMem) cpu.raise(UD_VECTOR);
      const sz = d.opsize;
      const la = eaLinear(2 * sz, false);
      const lower = readMem(la, sz);
      const upper = readMem(sz === 2 ? la + 2 : la + 4, sz);
      const shiftBits = 32 - 8 * sz;
      const idx = (getReg(sz, d.reg) << shiftBits) >> shiftBits;
      if (idx < (lower << shiftBits) >> shiftBits || idx > (upper << shiftBits) >> shiftBits) cpu.raise(BR_VECTOR);
      break;
    }
    case 0x63:
      if (cpu.mode64) { // MOVSXD
        decodeModrm(0);
        const v = readRm(4) | 0;
        if (d.opsize === 8) setReg(8, d.reg, v, v >> 31);
        else setReg(d.opsize, d.reg, v, 0);
      } else arpl(cpu);
      break;
    case 0x68: { // PUSH imm
      const sz = stackOpsize();
      const imm = sz === 2 ? fetch16() : fetch32();
      push(sz, imm, imm < 0 ? -1 : 0);
      break;
    }
    case 0x6a: {
      const imm = fetchS8();
      const sz = stackOpsize();
      push(sz, sz === 2 ? imm & 0xffff : imm, imm < 0 ? -1 : 0);
      break;
    }
    case 0x69: case 0x6b: { // IMUL Gv, Ev, imm
      const sz = d.opsize;
      decodeModrm(op === 0x6b ? 1 : sz === 2 ? 2 : 4);
      const a = readRm(sz);
      const ahi = d.hi;
      const imm = op === 0x6b ? fetchS8() : sz === 2 ? (fetch16() << 16) >> 16 : fetch32();
      imul3(cpu, sz, d.reg, a, ahi, imm, imm < 0 ? -1 : 0);
      break;
    }
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
      execString(cpu, op);
      break;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      const rel = fetchS8();
      if (cond(cpu.flags, op & 15)) branchTo(relTarget(rel));
      break;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: {
      if (op === 0x82 && cpu.mode64) cpu.raise(UD_VECTOR);
      const bytes = op === 0x81 ? d.opsize : op === 0x83 ? d.opsize : 1;
      const immLen = op === 0x81 ? (bytes === 2 ? 2 : 4) : 1;
      decodeModrm(immLen);
      let imm: number;
      if (op === 0x81) imm = bytes === 2 ? fetch16() : fetch32();
      else if (op === 0x83) imm = fetchS8();
      else imm = fetch8();
      if (op === 0x83 && bytes === 2) imm &= 0xffff;
      aluRmImm(cpu, d.reg & 7, bytes, imm);
      break;
    }
    case 0x84: case 0x85: { // TEST
      const b = opBytes(op);
      decodeModrm(0);
      const a = readRm(b);
      const ahi = d.hi;
      if (b === 8) alu64(cpu, 4, a, ahi, getReg(8, d.reg), d.hi);
      else alu(cpu, 4, b, a, getReg(b, d.reg));
      break;
    }
    case 0x86: case 0x87: { // XCHG (implicitly locked)
      const b = opBytes(op);
      decodeModrm(0);
      if (d.lock && !d.isMem) cpu.raise(UD_VECTOR);
      const rv = getReg(b, d.reg);
      const rhi = d.hi;
      if (d.isMem) {
        const la = eaLinear(b, true);
        const mv = readMem(la, b);
        const mhi = d.hi;
        writeMem(la, b, rv, rhi);
        setReg(b, d.reg, mv, mhi);
      } else {
        const mv = getReg(b, d.rm);
        const mhi = d.hi;
        setReg(b, d.rm, rv, rhi);
        setReg(b, d.reg, mv, mhi);
      }
      break;
    }
    case 0x88: case 0x89: { // MOV Ev, Gv
      const b = opBytes(op);
      decodeModrm(0);
      if (b === 4 && !d.isMem) {
        R[2 * d.rm] = R[2 * d.reg]!;
        R[2 * d.rm + 1] = 0;
        break;
      }
      const v = getReg(b, d.reg);
      writeRm(b, v, d.hi);
      break;
    }
    case 0x8a: case 0x8b: { // MOV Gv, Ev
      const b = opBytes(op);
      decodeModrm(0);
      const v = readRm(b);
      setReg(b, d.reg, v, d.hi);
      break;
    }
    case 0x8c: { // MOV Ev, Sreg
      decodeModrm(0);
      const s = d.reg & 7;
      if (s > 5) cpu.raise(UD_VECTOR);
      const v = cpu.segSel[s]! & 0xffff;
      if (d.isMem) writeRm(2, v, 0);
      else setReg(d.opsize === 8 ? 8 : d.opsize === 4 ? 4 : 2, d.rm, v, 0);
      break;
    }
    case 0x8d: { // LEA
      decodeModrm(0);
      if (!d.isMem) cpu.raise(UD_VECTOR);
      if (d.opsize === 8) setReg(8, d.reg, d.eaLo, d.eaHi);
      else setReg(d.opsize, d.reg, d.opsize === 2 ? d.eaLo & 0xffff : d.eaLo, 0);
      break;
    }
    case 0x8e: { // MOV Sreg, Ew
      decodeModrm(0);
      const s = d.reg & 7;
      if (s === 1 || s > 5) cpu.raise(UD_VECTOR);
      const v = readRm(2);
      loadDataSegment(cpu, s, v);
      if (s === 2) cpu.movSsBlocking = true;
      break;
    }
    case 0x8f: { // POP Ev
      const sz = stackOpsize();
      // The address is computed after RSP is incremented (SDM "POP").
      const sp = stackPointer();
      const v = peek(sz, 0);
      const vhi = d.hi;
      setStackPointer(spAdd(sp, sz));
      try {
        decodeModrm(0);
        if ((d.reg & 7) !== 0) cpu.raise(UD_VECTOR);
        writeRm(sz, v, vhi);
      } catch (e) {
        setStackPointer(sp);
        throw e;
      }
      break;
    }
    case 0x90:
      if (d.rexB) { xchgAcc(8); break; }
      if (d.rep === 0xf3) checkIntercept(cpu, ENGINE_EXIT_PAUSE);
      break;
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
      xchgAcc((op & 7) | d.rexB);
      break;
    case 0x98: // CBW / CWDE / CDQE
      if (d.opsize === 2) setReg(2, 0, (R[0]! << 24) >> 24, 0);
      else if (d.opsize === 4) setReg(4, 0, (R[0]! << 16) >> 16, 0);
      else setReg(8, 0, R[0]!, R[0]! >> 31);
      break;
    case 0x99: // CWD / CDQ / CQO
      if (d.opsize === 2) setReg(2, 2, (R[0]! << 16) >> 31, 0);
      else if (d.opsize === 4) setReg(4, 2, R[0]! >> 31, 0);
      else setReg(8, 2, R[1]! >> 31, R[1]! >> 31);
      break;
    case 0x9a: { // CALL ptr16:16/32
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const off = d.opsize === 2 ? fetch16() : fetch32() >>> 0;
      const sel = fetch16();
      farCall(cpu, sel, off);
      break;
    }
    case 0x9b: // FWAIT
      if ((cpu.cr0 & (CR0_TS | 2)) === (CR0_TS | 2)) cpu.raise(NM_VECTOR);
      execFwait(cpu.fpu, fpuHost(cpu));
      break;
    case 0x9c: { // PUSHF
      if ((cpu.flags & FLAG_VM) && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) cpu.raise(GP_VECTOR, 0);
      const sz = stackOpsize();
      push(sz, cpu.getFlags() & 0x00fcffff, 0); // VM and RF read as 0
      break;
    }
    case 0x9d: { // POPF
      if ((cpu.flags & FLAG_VM) && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) cpu.raise(GP_VECTOR, 0);
      const sz = stackOpsize();
      const v = pop(sz);
      const mask = sz === 2 ? 0xffff : 0x3fffff;
      if (cpu.flags & FLAG_VM) {
        // Virtual-8086 with IOPL 3: IOPL is not changed.
        const keep = cpu.flags & FLAG_IOPL;
        setFlagsPop(cpu, v, mask, false, 3);
        cpu.flags = (cpu.flags & ~FLAG_IOPL) | keep;
      } else {
        setFlagsPop(cpu, v, mask & ~FLAG_RF, !cpu.pmode, cpu.cpl);
      }
      break;
    }
    case 0x9e: // SAHF
      if (cpu.mode64 && !d.rex && false) cpu.raise(UD_VECTOR);
      cpu.flags = (cpu.flags & ~(FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF)) | ((R[0]! >> 8) & (FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF));
      break;
    case 0x9f: // LAHF
      R[0] = (R[0]! & ~0xff00) | (((cpu.getFlags() & 0xd7) | 2) << 8);
      break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: { // MOV moffs
      const b = opBytes(op);
      const off = d.adsize === 8 ? fetch64Addr() : d.adsize === 4 ? fetch32() >>> 0 : fetch16();
      const seg = d.segOverride >= 0 ? d.segOverride : 3;
      if (op < 0xa2) {
        const v = readMem(cpu.linear(seg, off, b, false), b);
        setReg(b, 0, v, d.hi);
      } else {
        const v = getReg(b, 0);
        writeMem(cpu.linear(seg, off, b, true), b, v, d.hi);
      }
      break;
    }
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
      execString(cpu, op);
      break;
    case 0xa8: aluAccImm(cpu, 4, 1, true); break;
    case 0xa9: aluAccImm(cpu, 4, d.opsize, true); break;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      setReg(1, (op & 7) | d.rexB, fetch8(), 0);
      break;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf: {
      const r = (op & 7) | d.rexB;
      if (d.opsize === 8) {
        const lo = fetch32();
        const hi = fetch32();
        setReg(8, r, lo, hi);
      } else {
        setReg(d.opsize, r, d.opsize === 2 ? fetch16() : fetch32(), 0);
      }
      break;
    }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const b = opBytes(op);
      decodeModrm(op <= 0xc1 ? 1 : 0);
      const grp = d.reg & 7;
      const la = d.isMem ? eaLinear(b, true) : 0;
      const a = d.isMem ? readMem(la, b) : getReg(b, d.rm);
      const ahi = d.hi;
      let count = op <= 0xc1 ? fetch8() : op <= 0xd1 ? 1 : R[2]! & 0xff;
      count &= b === 8 ? 63 : 31;
      let res: number;
      let rhi = 0;
      if (b === 8) { res = shift64(cpu, grp, a, ahi, count); rhi = r64.hi; }
      else res = shift(cpu, grp, b, a, count);
      if (d.isMem) writeMem(la, b, res, rhi);
      else setReg(b, d.rm, res, rhi);
      break;
    }
    case 0xc2: case 0xc3: { // RET near
      const n = op === 0xc2 ? fetch16() : 0;
      const sz = stackOpsize();
      const t = peek(sz, 0);
      const target = sz === 8 ? d.hi * TWO32 + (t >>> 0) : t;
      branchTo(target);
      setStackPointer(spAdd(stackPointer(), sz + n));
      break;
    }
    case 0xc4: case 0xc5: { // LES / LDS, or a VEX prefix (BMI1/BMI2 only; bmi.ts)
      if (isVexPrefix(cpu)) { execVex(cpu, op); break; }
      loadFarPointer(cpu, op === 0xc4 ? 0 : 3);
      break;
    }
    case 0xc6: case 0xc7: { // MOV Ev, imm
      const b = opBytes(op);
      decodeModrm(b === 1 ? 1 : b === 2 ? 2 : 4);
      if ((d.reg & 7) !== 0) cpu.raise(UD_VECTOR);
      const imm = fetchImm(b === 8 ? 4 : b);
      writeRm(b, imm, imm < 0 ? -1 : 0);
      break;
    }
    case 0xc8: enter(cpu); break;
    case 0xc9: { // LEAVE
      const sz = stackOpsize();
      const bp = cpu.mode64 ? R[11]! * TWO32 + (R[10]! >>> 0) : cpu.ss32 ? R[10]! >>> 0 : R[10]! & 0xffff;
      const v = readMem(cpu.linear(2, bp, sz, false), sz);
      const vhi = d.hi;
      setStackPointer(spAdd(bp, sz));
      setReg(sz, 5, v, vhi);
      break;
    }
    case 0xca: case 0xcb: { // RETF
      const n = op === 0xca ? fetch16() : 0;
      farRet(cpu, n);
      break;
    }
    case 0xcc: // INT3
      softInt(cpu, BP_VECTOR, EVENT_TYPE_SW_EXCEPTION);
      break;
    case 0xcd: { // INT n
      const v = fetch8();
      softInt(cpu, v, EVENT_TYPE_SW_INTR);
      break;
    }
    case 0xce: // INTO
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      if (cpu.flags & FLAG_OF) softInt(cpu, OF_VECTOR, EVENT_TYPE_SW_EXCEPTION);
      break;
    case 0xcf: // IRET
      iret(cpu, d.opsize * 8, d.ip);
      d.ip = cpu.rip;
      break;
    case 0xd4: { // AAM
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const base = fetch8();
      if (base === 0) cpu.raise(DE_VECTOR);
      const al = R[0]! & 0xff;
      const res = ((Math.floor(al / base) & 0xff) << 8) | (al % base);
      R[0] = (R[0]! & ~0xffff) | res;
      cpu.flags = (cpu.flags & ~ARITH) | szp(res & 0xff, 1);
      break;
    }
    case 0xd5: { // AAD
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const base = fetch8();
      const res = (((R[0]! >> 8) & 0xff) * base + (R[0]! & 0xff)) & 0xff;
      R[0] = (R[0]! & ~0xffff) | res;
      cpu.flags = (cpu.flags & ~ARITH) | szp(res, 1);
      break;
    }
    case 0xd6: // SALC (undocumented, valid outside 64-bit mode)
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      R[0] = (R[0]! & ~0xff) | (cpu.flags & FLAG_CF ? 0xff : 0);
      break;
    case 0xd7: { // XLAT
      const seg = d.segOverride >= 0 ? d.segOverride : 3;
      const bx = d.adsize === 8 ? R[7]! * TWO32 + (R[6]! >>> 0) : d.adsize === 4 ? R[6]! >>> 0 : R[6]! & 0xffff;
      let off = bx + (R[0]! & 0xff);
      off = d.adsize === 2 ? off & 0xffff : d.adsize === 4 ? off >>> 0 : off;
      R[0] = (R[0]! & ~0xff) | cpu.read8(cpu.linear(seg, off, 1, false));
      break;
    }
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: {
      decodeModrm(0);
      if (cpu.cr0 & (CR0_EM | CR0_TS)) cpu.raise(NM_VECTOR);
      const ea = d.isMem ? eaLinear(1, false) : -1;
      execX87(cpu.fpu, fpuHost(cpu), op, d.modrm, ea, d.opsize === 8 ? 64 : d.opsize === 4 ? 32 : 16);
      break;
    }
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: { // LOOPNE LOOPE LOOP JCXZ
      const rel = fetchS8();
      const as = d.adsize;
      let cnt: number;
      let zero: boolean;
      if (op === 0xe3) {
        zero = as === 8 ? (R[2]! | R[3]!) === 0 : as === 4 ? R[2] === 0 : (R[2]! & 0xffff) === 0;
        if (zero) branchTo(relTarget(rel));
        break;
      }
      if (as === 8) {
        const lo = (R[2]! - 1) | 0;
        if (R[2] === 0) R[3] = (R[3]! - 1) | 0;
        R[2] = lo;
        zero = (R[2]! | R[3]!) === 0;
      } else if (as === 4) {
        cnt = (R[2]! - 1) | 0;
        R[2] = cnt;
        zero = cnt === 0;
      } else {
        cnt = (R[2]! - 1) & 0xffff;
        R[2] = (R[2]! & ~0xffff) | cnt;
        zero = cnt === 0;
      }
      const zf = (cpu.flags & FLAG_ZF) !== 0;
      const take = !zero && (op === 0xe2 || (op === 0xe1 ? zf : !zf));
      if (take) branchTo(relTarget(rel));
      break;
    }
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef:
      execIo(cpu, op);
      break;
    case 0xe8: { // CALL rel
      const rel = d.opsize === 2 ? (fetch16() << 16) >> 16 : fetch32();
      const ret = d.ip;
      const target = relTarget(rel);
      const sz = stackOpsize();
      branchTo(target);
      push(sz, ret | 0, Math.floor(ret / TWO32) | 0);
      break;
    }
    case 0xe9: { // JMP rel
      const rel = d.opsize === 2 ? (fetch16() << 16) >> 16 : fetch32();
      branchTo(relTarget(rel));
      break;
    }
    case 0xea: { // JMP ptr16:16/32
      if (cpu.mode64) cpu.raise(UD_VECTOR);
      const off = d.opsize === 2 ? fetch16() : fetch32() >>> 0;
      const sel = fetch16();
      farJmp(cpu, sel, off);
      break;
    }
    case 0xeb: {
      const rel = fetchS8();
      branchTo(relTarget(rel));
      break;
    }
    case 0xf1: // INT1 / ICEBP
      softInt(cpu, DB_VECTOR, EVENT_TYPE_PRIV_SW_EXCEPTION);
      break;
    case 0xf4: // HLT
      execHlt(cpu);
      break;
    case 0xf5: cpu.flags ^= FLAG_CF; break;
    case 0xf6: case 0xf7: group3(cpu, opBytes(op)); break;
    case 0xf8: cpu.flags &= ~FLAG_CF; break;
    case 0xf9: cpu.flags |= FLAG_CF; break;
    case 0xfa: // CLI
      if (cpu.pmode && cpu.cpl > ((cpu.flags & FLAG_IOPL) >> 12)) cpu.raise(GP_VECTOR, 0);
      if ((cpu.flags & FLAG_VM) && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) cpu.raise(GP_VECTOR, 0);
      cpu.flags &= ~FLAG_IF;
      break;
    case 0xfb: // STI: interrupts stay blocked until after the next instruction
      if (cpu.pmode && cpu.cpl > ((cpu.flags & FLAG_IOPL) >> 12)) cpu.raise(GP_VECTOR, 0);
      if ((cpu.flags & FLAG_VM) && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) cpu.raise(GP_VECTOR, 0);
      if (!(cpu.flags & FLAG_IF)) cpu.stiBlocking = true;
      cpu.flags |= FLAG_IF;
      break;
    case 0xfc: cpu.flags &= ~FLAG_DF; break;
    case 0xfd: cpu.flags |= FLAG_DF; break;
    case 0xfe: case 0xff: group45(cpu, op); break;
    case 0x0f:
      exec0f(cpu);
      break;
    default:
      cpu.raise(UD_VECTOR);
  }
}

function fetch64Addr(): number {
  const lo = fetch32();
  const hi = fetch32();
  return hi * TWO32 + (lo >>> 0);
}

function xchgAcc(r: number): void {
  const sz = d.opsize;
  const a = getReg(sz, 0);
  const ahi = d.hi;
  const b = getReg(sz, r);
  const bhi = d.hi;
  setReg(sz, 0, b, bhi);
  setReg(sz, r, a, ahi);
}

/** Software interrupt: the return address is the next instruction. */
function softInt(cpu: X86Cpu, vector: number, type: number): void {
  cpu.rip = d.ip;
  try {
    deliverEvent(cpu, vector, type, 0, false);
  } catch (e) {
    cpu.rip = d.ipStart;
    throw e;
  }
  d.ip = cpu.rip;
}

/** LES/LDS/LSS/LFS/LGS: m16:16/32/64 into Sreg:reg. */
export function loadFarPointer(cpu: X86Cpu, seg: number): void {
  decodeModrm(0);
  if (!d.isMem) cpu.raise(UD_VECTOR);
  const sz = d.opsize;
  const la = eaLinear(sz + 2, false);
  const off = readMem(la, sz);
  const offHi = d.hi;
  const sel = cpu.read16(la + sz);
  loadDataSegment(cpu, seg, sel);
  setReg(sz, d.reg, off, offHi);
  if (seg === 2) cpu.movSsBlocking = true;
}

function arpl(cpu: X86Cpu): void {
  if (!cpu.pmode) cpu.raise(UD_VECTOR);
  decodeModrm(0);
  const dst = readRm(2);
  const src = getReg(2, d.reg);
  if ((dst & 3) < (src & 3)) {
    writeRm(2, (dst & ~3) | (src & 3), 0);
    cpu.flags |= FLAG_ZF;
  } else {
    cpu.flags &= ~FLAG_ZF;
  }
}

/** ENTER imm16, imm8 (SDM "ENTER"). */
function enter(cpu: X86Cpu): void {
  const size = fetch16();
  const level = fetch8() & 31;
  const sz = stackOpsize();
  const R = d.regs;
  const sp0 = stackPointer();
  let sp = spAdd(sp0, -sz);
  const bpLo = getReg(sz, 5);
  const bpHi = d.hi;
  writeMem(cpu.linear(2, sp, sz, true), sz, bpLo, bpHi);
  const frame = sp;
  if (level > 0) {
    let bp = cpu.mode64 ? R[11]! * TWO32 + (R[10]! >>> 0) : cpu.ss32 ? R[10]! >>> 0 : R[10]! & 0xffff;
    for (let i = 1; i < level; i++) {
      bp = spAdd(bp, -sz);
      const v = readMem(cpu.linear(2, bp, sz, false), sz);
      const vhi = d.hi;
      sp = spAdd(sp, -sz);
      writeMem(cpu.linear(2, sp, sz, true), sz, v, vhi);
    }
    sp = spAdd(sp, -sz);
    writeMem(cpu.linear(2, sp, sz, true), sz, frame | 0, Math.floor(frame / TWO32) | 0);
  }
  const newSp = spAdd(sp, -size);
  cpu.linear(2, newSp, 1, true);
  if (sz === 8) setReg(8, 5, frame | 0, Math.floor(frame / TWO32) | 0);
  else setReg(sz, 5, frame, 0);
  setStackPointer(newSp);
}

/** Three-operand / two-operand IMUL into register `dst` (signed, truncated, CF=OF=overflow). */
export function imul3(cpu: X86Cpu, sz: number, dst: number, a: number, ahi: number, b: number, bhi: number): void {
  if (sz === 8) {
    const lo = imul64(cpu, a, ahi, b, bhi);
    setReg(8, dst, lo, r64.hi);
    return;
  }
  if (sz === 4) {
    setReg(4, dst, imul32(cpu, a, b), 0);
    return;
  }
  const sa = (a << 16) >> 16;
  const sb = (b << 16) >> 16;
  const p = sa * sb;
  const res = (p << 16) >> 16;
  const of = res !== p;
  const ures = res & 0xffff;
  setReg(sz, dst, ures, 0);
  cpu.flags = (cpu.flags & ~ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | ((ures & SIGN_BIT[sz]!) ? FLAG_SF : 0) | PARITY[ures & 0xff]!;
}

/** Group 3: TEST NOT NEG MUL IMUL DIV IDIV. */
function group3(cpu: X86Cpu, b: number): void {
  const R = d.regs;
  decodeModrm(0);
  const sub = d.reg & 7;
  if (sub === 0 || sub === 1) {
    checkLock(false);
    // TEST r/m, imm: the ModRM was decoded before the group was known, so a RIP-relative
    // operand still counts from before the immediate; move it past the immediate's bytes.
    if (cpu.mode64 && (d.modrm & 0xc7) === 0x05) ripRelPastImmediate(b === 8 ? 4 : b);
    const a = readRm(b);
    const ahi = d.hi;
    const imm = b === 1 ? fetch8() : b === 2 ? fetch16() : fetch32();
    if (b === 8) alu64(cpu, 4, a, ahi, imm, imm < 0 ? -1 : 0);
    else alu(cpu, 4, b, a, imm);
    return;
  }
  checkLock(sub === 2 || sub === 3);
  const la = d.isMem ? eaLinear(b, sub <= 3) : 0;
  const a = d.isMem ? readMem(la, b) : getReg(b, d.rm);
  const ahi = d.hi;
  if (sub === 2 || sub === 3) {
    let res: number;
    let rhi = 0;
    if (sub === 2) { // NOT: no flags
      res = b === 8 || b === 4 ? ~a : ~a & SIZE_MASK[b]!;
      rhi = ~ahi;
    } else if (b === 8) {
      res = alu64(cpu, 5, 0, 0, a, ahi);
      rhi = r64.hi;
    } else {
      res = alu(cpu, 5, b, 0, a);
    }
    if (d.isMem) writeMem(la, b, res, rhi);
    else setReg(b, d.rm, res, rhi);
    return;
  }
  if (sub === 4 || sub === 5) { // MUL / IMUL (one operand)
    const signed = sub === 5;
    if (b === 1) {
      const al = R[0]! & 0xff;
      const p = signed ? ((al << 24) >> 24) * ((a << 24) >> 24) : al * a;
      R[0] = (R[0]! & ~0xffff) | (p & 0xffff);
      const of = signed ? ((p << 24) >> 24) !== p : (p & 0xff00) !== 0;
      cpu.flags = (cpu.flags & ~ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | szp(p & 0xff, 1);
    } else if (b === 2) {
      const ax = R[0]! & 0xffff;
      const p = signed ? ((ax << 16) >> 16) * ((a << 16) >> 16) : ax * a;
      setReg(2, 0, p & 0xffff, 0);
      setReg(2, 2, (p >> 16) & 0xffff, 0);
      const of = signed ? ((p << 16) >> 16) !== p : (p >>> 16) !== 0;
      cpu.flags = (cpu.flags & ~ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | szp(p & 0xffff, 2);
    } else if (b === 4) {
      if (signed) muls64(R[0]!, R[0]! >> 31, a | 0, a >> 31, mulOut);
      else mulu64(R[0]!, 0, a, 0, mulOut);
      const lo = mulOut[0]!;
      const hi = mulOut[1]!;
      setReg(4, 0, lo, 0);
      setReg(4, 2, hi, 0);
      const of = signed ? hi !== lo >> 31 : hi !== 0;
      cpu.flags = (cpu.flags & ~ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | szp(lo, 4);
    } else {
      if (signed) muls64(R[0]!, R[1]!, a, ahi, mulOut);
      else mulu64(R[0]!, R[1]!, a, ahi, mulOut);
      const lo = mulOut[0]!;
      const hi = mulOut[1]!;
      const of = signed ? !(mulOut[2] === hi >> 31 && mulOut[3] === hi >> 31) : (mulOut[2]! | mulOut[3]!) !== 0;
      setReg(8, 0, lo, hi);
      setReg(8, 2, mulOut[2]!, mulOut[3]!);
      cpu.flags = (cpu.flags & ~ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | (hi < 0 ? FLAG_SF : 0) | PARITY[lo & 0xff]!;
    }
    return;
  }
  divide(cpu, b, sub === 7, a, ahi);
}

/** DIV / IDIV: #DE on a zero divisor or a quotient that does not fit. Flags are undefined (left unchanged). */
function divide(cpu: X86Cpu, b: number, signed: boolean, divisorLo: number, divisorHi: number): void {
  const R = d.regs;
  if (b === 1 || b === 2) {
    const bits = 8 * b;
    const dividend = b === 1 ? R[0]! & 0xffff : ((R[4]! & 0xffff) << 16) | (R[0]! & 0xffff);
    let q: number;
    let r: number;
    if (signed) {
      const sd = b === 1 ? (dividend << 16) >> 16 : dividend | 0;
      const sv = b === 1 ? (divisorLo << 24) >> 24 : (divisorLo << 16) >> 16;
      if (sv === 0) cpu.raise(DE_VECTOR);
      q = Math.trunc(sd / sv);
      r = sd - q * sv;
      if (q > (1 << (bits - 1)) - 1 || q < -(1 << (bits - 1))) cpu.raise(DE_VECTOR);
    } else {
      const ud = dividend >>> 0;
      if (divisorLo === 0) cpu.raise(DE_VECTOR);
      q = Math.floor(ud / divisorLo);
      r = ud % divisorLo;
      if (q >= 1 << bits) cpu.raise(DE_VECTOR);
    }
    if (b === 1) R[0] = (R[0]! & ~0xffff) | ((r & 0xff) << 8) | (q & 0xff);
    else { setReg(2, 0, q & 0xffff, 0); setReg(2, 2, r & 0xffff, 0); }
    return;
  }
  // 32- and 64-bit: in doubles when dividend and divisor fit 52 bits (the common case),
  // otherwise exact with BigInt (a rare path).
  if (divideSmall(cpu, b, signed, divisorLo, divisorHi)) return;
  let dividend: bigint;
  let divisor: bigint;
  if (b === 4) {
    dividend = (BigInt(R[4]! >>> 0) << 32n) | BigInt(R[0]! >>> 0);
    divisor = BigInt(divisorLo >>> 0);
    if (signed) { dividend = BigInt.asIntN(64, dividend); divisor = BigInt.asIntN(32, divisor); }
  } else {
    dividend = (BigInt(R[5]! >>> 0) << 96n) | (BigInt(R[4]! >>> 0) << 64n) | (BigInt(R[1]! >>> 0) << 32n) | BigInt(R[0]! >>> 0);
    divisor = (BigInt(divisorHi >>> 0) << 32n) | BigInt(divisorLo >>> 0);
    if (signed) { dividend = BigInt.asIntN(128, dividend); divisor = BigInt.asIntN(64, divisor); }
  }
  if (divisor === 0n) cpu.raise(DE_VECTOR);
  const q = dividend / divisor;
  const r = dividend % divisor;
  const bits = BigInt(8 * b);
  if (signed ? q > (1n << (bits - 1n)) - 1n || q < -(1n << (bits - 1n)) : q >= 1n << bits) cpu.raise(DE_VECTOR);
  if (b === 4) {
    setReg(4, 0, Number(BigInt.asUintN(32, q)) | 0, 0);
    setReg(4, 2, Number(BigInt.asUintN(32, r)) | 0, 0);
  } else {
    const uq = BigInt.asUintN(64, q);
    const ur = BigInt.asUintN(64, r);
    setReg(8, 0, Number(uq & 0xffffffffn) | 0, Number(uq >> 32n) | 0);
    setReg(8, 2, Number(ur & 0xffffffffn) | 0, Number(ur >> 32n) | 0);
  }
}

const TWO52 = 0x10_0000_0000_0000;

/**
 * DIV/IDIV r32/r64 when |dividend| and |divisor| are below 2^52: exact in doubles (the
 * floating quotient is corrected by one step). Returns false to take the BigInt path.
 */
function divideSmall(cpu: X86Cpu, b: number, signed: boolean, divisorLo: number, divisorHi: number): boolean {
  const R = d.regs;
  let n: number;
  let v: number;
  if (b === 4) {
    const hi = R[4]!;
    const lo = R[0]! >>> 0;
    if (signed) {
      if (hi !== (R[0]! >> 31) && (hi < -0x100000 || hi >= 0x100000)) return false;
      n = hi * TWO32 + lo;
      v = divisorLo | 0;
    } else {
      if ((hi >>> 0) >= 0x100000) return false;
      n = (hi >>> 0) * TWO32 + lo;
      v = divisorLo >>> 0;
    }
  } else {
    const hi = R[1]!;
    const top = R[5]!;
    const top2 = R[4]!;
    // RDX must be the sign/zero extension of RAX, and RAX within 52 bits.
    if (signed) {
      if (top !== (hi >> 31) || top2 !== (hi >> 31) || hi < -0x100000 || hi >= 0x100000) return false;
      if (divisorHi < -0x100000 || divisorHi >= 0x100000) return false;
      n = hi * TWO32 + (R[0]! >>> 0);
      v = divisorHi * TWO32 + (divisorLo >>> 0);
    } else {
      if (top !== 0 || top2 !== 0 || (hi >>> 0) >= 0x100000 || (divisorHi >>> 0) >= 0x100000) return false;
      n = (hi >>> 0) * TWO32 + (R[0]! >>> 0);
      v = (divisorHi >>> 0) * TWO32 + (divisorLo >>> 0);
    }
  }
  if (v === 0) cpu.raise(DE_VECTOR);
  if (n >= TWO52 || n <= -TWO52) return false;
  let q = Math.trunc(n / v);
  let r = n - q * v;
  // Correct a quotient the rounded division put one off (r must have n's sign, |r| < |v|).
  const av = Math.abs(v);
  if (Math.abs(r) >= av || (r !== 0 && (r < 0) !== (n < 0))) {
    const step = (r < 0) === (v < 0) ? 1 : -1;
    q += step;
    r -= step * v;
  }
  // The quotient's range as constants: `2 ** bits` with a variable exponent is a Math.pow call.
  const lim = b === 4 ? 0x8000_0000 : 0x8000_0000_0000_0000;
  if (signed ? q >= lim || q < -lim : q >= 2 * lim) cpu.raise(DE_VECTOR);
  if (b === 4) {
    setReg(4, 0, q | 0, 0);
    setReg(4, 2, r | 0, 0);
  } else {
    setReg(8, 0, q | 0, Math.floor(q / TWO32) | 0);
    setReg(8, 2, r | 0, Math.floor(r / TWO32) | 0);
  }
  return true;
}

/** Groups 4/5: INC DEC (FE/FF), CALL JMP (near/far indirect), PUSH (FF). */
function group45(cpu: X86Cpu, op: number): void {
  decodeModrm(0);
  const sub = d.reg & 7;
  if (sub <= 1) {
    checkLock(true);
    const b = op === 0xfe ? 1 : d.opsize;
    const la = d.isMem ? eaLinear(b, true) : 0;
    const a = d.isMem ? readMem(la, b) : getReg(b, d.rm);
    let res: number;
    let rhi = 0;
    if (b === 8) { res = incDec64(cpu, a, d.hi, sub === 1); rhi = r64.hi; }
    else res = incDec(cpu, b, a, sub === 1);
    if (d.isMem) writeMem(la, b, res, rhi);
    else setReg(b, d.rm, res, rhi);
    return;
  }
  if (op === 0xfe || d.lock) cpu.raise(UD_VECTOR);
  switch (sub) {
    case 2: { // CALL near indirect
      const sz = cpu.mode64 ? 8 : d.opsize;
      const t = readRm(sz);
      const target = sz === 8 ? d.hi * TWO32 + (t >>> 0) : t;
      const ret = d.ip;
      const saved = d.opsize;
      d.opsize = sz;
      branchTo(target);
      push(sz, ret | 0, Math.floor(ret / TWO32) | 0);
      d.opsize = saved;
      return;
    }
    case 4: { // JMP near indirect
      const sz = cpu.mode64 ? 8 : d.opsize;
      const t = readRm(sz);
      const target = sz === 8 ? d.hi * TWO32 + (t >>> 0) : t;
      d.opsize = sz;
      branchTo(target);
      return;
    }
    case 3: case 5: { // CALL/JMP far m16:16/32/64
      if (!d.isMem) cpu.raise(UD_VECTOR);
      const sz = d.opsize;
      const la = eaLinear(sz + 2, false);
      const off = readMem(la, sz);
      const offHi = d.hi;
      const sel = cpu.read16(la + sz);
      const target = sz === 8 ? offHi * TWO32 + (off >>> 0) : off;
      if (sub === 3) farCall(cpu, sel, target);
      else farJmp(cpu, sel, target);
      return;
    }
    case 6: { // PUSH Ev
      const sz = stackOpsize();
      const v = readRm(sz);
      push(sz, v, d.hi);
      return;
    }
    default:
      cpu.raise(UD_VECTOR);
  }
}

/** DAA DAS AAA AAS (SDM pseudo-code). */
function bcdAdjust(cpu: X86Cpu, op: number): void {
  const R = d.regs;
  let al = R[0]! & 0xff;
  let f = cpu.flags;
  const oldAl = al;
  const oldCf = f & FLAG_CF;
  if (op === 0x27 || op === 0x2f) {
    const sub = op === 0x2f;
    let cf = 0;
    let af = 0;
    if ((al & 0xf) > 9 || (f & FLAG_AF)) {
      al = sub ? al - 6 : al + 6;
      cf = oldCf | (sub ? (oldAl < 6 ? 1 : 0) : (al > 0xff ? 1 : 0));
      af = FLAG_AF;
      al &= 0xff;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (sub ? al - 0x60 : al + 0x60) & 0xff;
      cf = 1;
    }
    R[0] = (R[0]! & ~0xff) | al;
    f = (f & ~ARITH) | cf | af | szp(al, 1);
    cpu.flags = f;
    return;
  }
  const sub = op === 0x3f;
  let ax = R[0]! & 0xffff;
  if ((al & 0xf) > 9 || (f & FLAG_AF)) {
    if (sub) {
      // AX <- AX - 6 is a 16-bit subtraction (AL's borrow reaches AH), then AH <- AH - 1,
      // as the SDM's AAS pseudo-code says and the host CPU does.
      ax = (ax - 6 - 0x100) & 0xffff;
    } else {
      ax = (ax + 0x106) & 0xffff;
    }
    f |= FLAG_AF | FLAG_CF;
  } else {
    f &= ~(FLAG_AF | FLAG_CF);
  }
  ax &= 0xff0f;
  R[0] = (R[0]! & ~0xffff) | ax;
  cpu.flags = (f & ~(FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF)) | szp(ax & 0xff, 1);
}

