/**
 * The code emitter of the block compiler: JavaScript source for one decoded instruction
 * (a decode-cache entry with a fast form, ../fast-path.ts), with exactly the semantics of
 * that fast form. Everything the entry says is baked in as constants (registers, the
 * displacement, the immediate, RIP-relative addresses, branch targets); the state the
 * instruction depends on at run time (segment state, paging, SS.B, CPL) is read at run time
 * through the same X86Cpu helpers the interpreter uses.
 *
 * Exactness: every instruction that may fault (a memory operand, a stack access, a branch
 * target check) first records its index in the local `k`; the block's catch handler turns
 * k into the faulting instruction's RIP, the materialised flags before it and the number
 * of instructions retired (compiler.ts). Registers and memory are only written after the
 * instruction's last possible fault, and the lazy-flag locals (flags.ts) last of all.
 * After a store, the block leaves when the store made an MMIO exit pending or hit one of
 * the physical pages the region's code lives on (self-modifying code: the next instruction
 * must be decoded again).
 */
import { TLB_MASK, TLB_WRITE_BASE } from '../tlb';
import { AR_TYPE_CODE, AR_TYPE_DC, AR_TYPE_RW, AR_UNUSABLE, EFER_LMA, FLAG_CF, FLAG_DF, FLAG_OF, FLAG_SF, FLAGS_ARITH } from '../constants';
import { ALU_ADC, ALU_ADD, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB } from '../alu';
import { addWrap64 } from '../decoder';
import { jitParams } from './block-cache';
import { SYNC_IN, SYNC_OUT } from './reg-locals';
import { DCF_HAS66, DCF_ISMEM, DCF_LOCK, DCF_MODRM, DCF_PREFIXED, DCF_RIPREL, type DecodeCache } from '../decode-cache';
import {
  FK_ALU_MI, FK_ALU_MR, FK_ALU_RI, FK_ALU_RM, FK_ALU_RR, FK_CALL, FK_CMOV, FK_JCC, FK_JMP, FK_LEA, FK_MOV8_MI, FK_MOV8_ST,
  FK_MOV_LD, FK_MOV_MI, FK_MOV_RI, FK_MOV_RI64, FK_MOV_RR, FK_MOV_ST, FK_MOVSXD, FK_MOVX, FK_NONE, FK_POP, FK_PUSH, FK_RET, FK_SHIFT,
  FK_ALU8, FK_GRP3, FK_IMUL, FK_INCDEC, FK_MOV8_LD, FK_NOP, FK_SETCC, FK_CDQ, FK_LEAVE, FK_PUSH_IMM,
} from '../fast-path';
import {
  directCondition, materialiseExpr, materialiseStmt, pendingKind, PEND_DYN, PEND_ADD32, PEND_ADD64, PEND_LOGIC32, PEND_LOGIC64, PEND_NONE,
  PEND_ADC32, PEND_IMUL32, PEND_SBB32, PEND_ADC64, PEND_SBB64,
  PEND_SHIFT32, PEND_SHIFT64, PEND_SUB32, PEND_SUB64,
} from './flags';

const TWO32 = 0x1_0000_0000;
/** The access-rights bits that make a segment flat read/write data for cpu.linear's checks. */
const FLAT_AR_MASK = AR_UNUSABLE | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_DC;
const TWO47 = 0x8000_0000_0000;
/** aux bit of the fast ALU forms: CMP/TEST (flags only). */
const FA_NOWRITE = 8;

/** One fault point per instruction: the RIP and the pending flags kind (flags.ts PEND_*) in effect before it. */
export interface FaultPoint {
  rip: number;
  pend: number;
}

export class BlockEmitter {
  readonly out: string[] = [];
  /** Pending flags state (flags.ts PEND_*) at the current point. */
  pend = PEND_NONE;
  /** Indexed by instruction: its fault point, or undefined when it cannot fault. */
  readonly faults: (FaultPoint | undefined)[] = [];
  /** Segments whose flatness the region's code asks (flatPrologue). */
  readonly flatSegs = new Set<number>();
  /** The basic block ended with a branch (its exits are emitted). */
  ended = false;
  /** Index (in the region) of the first instruction of the basic block being emitted. */
  bbStart = 0;
  /**
   * The region compiler's transfer of control after instruction i to the constant target t
   * (compiler.ts): a jump to another basic block of the region, or the region's exit.
   */
  goto: ((i: number, t: number) => string) | null = null;
  /** The region compiler's RET after instruction i to the address in local `t` (a return into the region, or the exit). */
  retGoto: ((i: number) => string) | null = null;
  /** The return addresses of the CALLs emitted so far (the region compiles the code there too). */
  readonly callEnds: number[] = [];

  constructor(readonly mode64: boolean, readonly def32: boolean, readonly startRip: number, readonly startPa: number) {}

  /**
   * Leave after instruction i for the constant RIP target (or local), chaining straight
   * into the block compiled there (chain.ts chainTo) at the region's exit, once the
   * guest registers are back in R (compiler.ts).
   */
  chainStmts(i: number, target: number | string): string {
    return `${pendingKind(this.pend)} ret += ${this.n(i)}; nx = ${target}; ch = 1; break run;`;
  }

  /**
   * A statement that calls an interpreter helper reading or writing the guest registers
   * in cpu.regs (the stack helpers, LEAVE, MUL/DIV, step): the region keeps the registers
   * in locals (reg-locals.ts), so they go back to R before it and are read again after it.
   */
  private withRegs(stmt: string): string {
    return `${SYNC_OUT} ${stmt} ${SYNC_IN}`;
  }

  /*
   * 4- and 8-byte accesses: the TLB hit of a page-internal access inline, as in cpu.read32
   * and its kin (the tag of the page and privilege, then one DataView access per 4 bytes);
   * a miss, MMIO or a page-crossing access calls the cpu's method. The address is a local
   * or R[8] (evaluated more than once); ti and tq are scratch.
   */

  /** An expression: the 32-bit load at address a. */
  private ld32(a: string): string {
    return `((tq = ${a} & 4095) <= 4092 && TT[ti = (${a} >>> 12) & ${TLB_MASK}] === ${a} - tq + cpu.accessUser ? TV[ti].getInt32(TO[ti] + tq, true) : cpu.read32(${a}))`;
  }

  /** Statements: the 64-bit load at address a into locals lo and hi. */
  private ld64(a: string, lo: string, hi: string): string {
    return `if ((tq = ${a} & 4095) <= 4088 && TT[ti = (${a} >>> 12) & ${TLB_MASK}] === ${a} - tq + cpu.accessUser) ` +
      `{ tq += TO[ti]; ${lo} = TV[ti].getInt32(tq, true); ${hi} = TV[ti].getInt32(tq + 4, true); } else { ${lo} = cpu.read64(${a}); ${hi} = cpu.hi; }`;
  }

  /**
   * Statements: the 4- or 8-byte store of (lo, hi) at address a. In verify mode always the
   * cpu's method, which verify.ts patches on the instance to log and undo stores. Both ways
   * leave in tp what afterStore(..., true) tests: the hit's physical page (a RAM page, no
   * MMIO), or H.stored's answer after the cpu's method.
   */
  private st(size: 4 | 8, a: string, lo: string, hi: string): string {
    const slow = `{ ${size === 8 ? `cpu.write64(${a}, ${lo}, ${hi});` : `cpu.write32(${a}, ${lo});`} tp = H.stored(cpu, ${a}, ${size}, PLO, PHI); }`;
    if (jitParams.verify) return slow;
    const hit = size === 8
      ? `{ tq += TO[ti]; TV[ti].setInt32(tq, ${lo}, true); TV[ti].setInt32(tq + 4, ${hi}, true); tp = TH[ti]; }`
      : `{ TV[ti].setInt32(TO[ti] + tq, ${lo}, true); tp = TH[ti]; }`;
    return `if ((tq = ${a} & 4095) <= ${4096 - size} && TT[ti = ${TLB_WRITE_BASE} + ((${a} >>> 12) & ${TLB_MASK})] === ${a} - tq + cpu.accessUser) ${hit} else ${slow}`;
  }

  /** Instruction i at rip may fault from here on. */
  private faultPoint(i: number, rip: number): void {
    if (this.faults[i] !== undefined) return;
    this.faults[i] = { rip, pend: this.pend };
    this.out.push(`k = ${i};`);
  }

  private materialise(): void {
    const s = materialiseStmt(this.pend);
    if (s !== '') this.out.push(s);
    this.pend = PEND_NONE;
  }

  /** The statements leaving the block after instruction i with d.ip = next. */
  exitStmts(i: number, next: string): string {
    return `${pendingKind(this.pend)} ret += ${this.n(i)}; nx = ${next}; break run;`;
  }

  /** Instructions of the current basic block retired once instruction i retires. */
  n(i: number): number {
    return i - this.bbStart + 1;
  }

  /** Control goes to the constant target t after instruction i. */
  branch(i: number, t: number): string {
    return this.goto !== null ? this.goto(i, t) : this.chainStmts(i, t);
  }

  /** The effective address of entry ci as an expression (32/64-bit addressing), end = the next RIP. */
  private ea(c: DecodeCache, ci: number, end: number): string {
    const disp = c.disp[ci]!;
    const ad8 = c.adsize[ci] === 8;
    if (c.flags[ci]! & DCF_RIPREL) return String(ad8 ? addWrap64(end, disp) : (end + disp) >>> 0);
    const base = c.base[ci]!;
    const index = c.index[ci]!;
    const scale = c.scale[ci]!;
    if (!ad8) {
      let s = String(disp);
      if (base >= 0) s += ` + R[${2 * base}]`;
      if (index >= 0) s += ` + R[${2 * index}] * ${scale}`;
      return `((${s}) >>> 0)`;
    }
    if (base < 0 && index < 0) return String(disp);
    let lo = String(disp);
    let hi = '0';
    if (base >= 0) { lo += ` + (R[${2 * base}] >>> 0)`; hi += ` + R[${2 * base + 1}]`; }
    if (index >= 0) { lo += ` + (R[${2 * index}] >>> 0) * ${scale}`; hi += ` + R[${2 * index + 1}] * ${scale}`; }
    return `(lo = ${lo}, ((${hi} + (lo - (lo >>> 0)) / 4294967296) | 0) * 4294967296 + (lo >>> 0))`;
  }

  /** la = the linear address of the memory operand of entry ci (segmentation checks as cpu.linear). */
  private linear(c: DecodeCache, ci: number, end: number, size: number, write: boolean): void {
    const seg = c.eaSeg[ci]!;
    const base = c.base[ci]!;
    if (this.mode64 && seg !== 4 && seg !== 5 && c.adsize[ci] === 8 && (c.flags[ci]! & DCF_RIPREL) === 0 && c.index[ci]! < 0 && base >= 0) {
      // base + disp in doubles: exact whenever the 64-bit sum is canonical (|base| < 2^53
      // then, and a sum that wraps past 2^63 is not canonical either way), so the
      // canonical check below decides as on the exact halves.
      this.linearAt(seg, `(R[${2 * base + 1}] * 4294967296 + (R[${2 * base}] >>> 0) + ${c.disp[ci]!})`, 8, size, write);
      return;
    }
    this.linearAt(seg, this.ea(c, ci, end), c.adsize[ci]!, size, write);
  }

  /** la = the linear address of offset ea (an expression) in segment seg, address size adsize. */
  private linearAt(seg: number, ea: string, adsize: number, size: number, write: boolean): void {
    if (this.mode64 && seg !== 4 && seg !== 5) {
      this.out.push(`la = ${ea}; if (la < ${-TWO47} || la > ${TWO47 - size}) cpu.raise(${seg === 2 ? 12 : 13}, 0);`);
    } else if (!this.mode64 && adsize === 4) {
      // A flat segment (base 0, limit 4 GiB, usable read/write data, not expand-down)
      // outside long mode: cpu.linear would return the offset itself (as an Int32), so
      // skip the call; anything else goes through it.
      // Whether the segment is flat is asked once per call of the region (flatPrologue).
      this.flatSegs.add(seg);
      this.out.push(`la = ${ea}; if (la > ${0xffffffff - (size - 1)} || !FLAT_${seg}) la = cpu.linear(${seg}, la, ${size}, ${write}); else la = la | 0;`);
    } else {
      this.out.push(`la = cpu.linear(${seg}, ${ea}, ${size}, ${write});`);
    }
  }

  /**
   * CALL/JMP r/m (FF /2, FF /4) near, 64-bit or 32-bit operand: the indirect calls of a
   * kernel whose retpolines were patched to `call *%rax` (and function-pointer calls
   * through memory). The target is loaded and checked, a CALL pushes the return address,
   * then the region leaves for the target, chaining to the region compiled there.
   */
  private emitIndirect(c: DecodeCache, ci: number, i: number, rip: number, end: number): boolean {
    const o = this.out;
    const f = c.flags[ci]!;
    const sub = c.reg[ci]! & 7;
    if ((sub !== 2 && sub !== 4) || (f & DCF_MODRM) === 0 || (f & DCF_LOCK) !== 0 || c.modrmEnd[ci] !== c.len[ci]) return false;
    if ((f & DCF_HAS66) !== 0 || (!this.mode64 && !this.def32)) return false;
    const size = this.mode64 ? 8 : 4;
    this.faultPoint(i, rip);
    if ((f & DCF_ISMEM) !== 0) {
      this.linear(c, ci, end, size, false);
      const [lo, hi] = this.load(size);
      o.push(size === 8 ? `t = ${hi} * 4294967296 + (${lo} >>> 0);` : `t = ${lo} >>> 0;`);
    } else {
      const rm = c.rm[ci]!;
      o.push(size === 8 ? `t = R[${2 * rm + 1}] * 4294967296 + (R[${2 * rm}] >>> 0);` : `t = R[${2 * rm}] >>> 0;`);
    }
    o.push(this.mode64 ? `if (t < ${-TWO47} || t >= ${TWO47}) cpu.raise(13, 0);` : 'if (t > cpu.segLimit[1]) cpu.raise(13, 0);');
    if (sub === 2) {
      // The target waits in tb while the return address is pushed (pushStmts writes la and the stack only).
      o.push('tb = t;');
      this.pushStmts(size, String(end | 0), String(Math.floor(end / TWO32) | 0));
      this.afterStore(i, 'tb', size);
      this.callEnds.push(end);
    }
    o.push(this.chainStmts(i, sub === 2 ? 'tb' : 't'));
    this.ended = true;
    return true;
  }

  /**
   * After a store of size bytes at la by instruction i: leave on MMIO or a write to one of
   * the region's code pages. viaSt: every way to here stored through st(), which left the
   * answer in tp (a hit cannot be MMIO or cross a page).
   */
  private afterStore(i: number, end: number | string, size: number, viaSt = false): void {
    if (viaSt) {
      this.out.push(`if (tp >= PLO && tp <= PHI) { ${this.exitStmts(i, String(end))} }`);
      return;
    }
    // The second page only when the store crossed into it.
    // The region's pages are physically contiguous (compiler.ts): PLO..PHI bounds their bases.
    const second = size === 1 ? '' : ` || ((la & 4095) > ${4096 - size} && (tp = TH[${TLB_WRITE_BASE} + (((la + ${size - 1}) >>> 12) & ${TLB_MASK})]) >= PLO && tp <= PHI)`;
    this.out.push(`if (cpu.mmioWritePending || ((tp = TH[${TLB_WRITE_BASE} + ((la >>> 12) & ${TLB_MASK})]) >= PLO && tp <= PHI)${second}) { ${this.exitStmts(i, String(end))} }`);
  }

  /** The linear address of the stack top (after a push), for afterStore. */
  private stackLa(): string {
    return this.mode64 ? 'R[9] * 4294967296 + (R[8] >>> 0)' : '(cpu.segBase[2] + (cpu.ss32 ? R[8] >>> 0 : R[8] & 0xffff))';
  }

  /**
   * SS is flat 32-bit stack (base 0, limit 4 GiB, usable read/write data, not expand-down,
   * B set) outside long mode: cpu.linear(2, off) is the offset itself, as for linear().
   */
  private ssFlat(): string {
    this.flatSegs.add(2);
    return 'cpu.ss32 && FLAT_2';
  }

  /**
   * The flat-segment tests of the segments this region's code uses (FLAT_n), evaluated once
   * at each call: a segment register or EFER changes only through instructions that end a
   * block (far transfers, segment loads, WRMSR; MOV Sreg, r is not run in place, see
   * inlineable), interrupts are taken only outside a call, and a chained call evaluates
   * its own.
   */
  flatPrologue(): string {
    const tests = [...this.flatSegs].sort().map((g) => `FLAT_${g} = cpu.segBase[${g}] === 0 && cpu.segLimit[${g}] === 4294967295 && ` +
      `(cpu.segAr[${g}] & ${FLAT_AR_MASK}) === ${AR_TYPE_RW} && (cpu.efer & ${EFER_LMA}) === 0`);
    return tests.length === 0 ? '' : `const ${tests.join(', ')};`;
  }

  /**
   * PUSH of size bytes (lo, hi: expressions of the old state), as push() in ../stack.ts:
   * the new stack top's address checked, the store, then rSP; la is the address stored to.
   * 64-bit mode and a flat 32-bit SS inline (the canonical check raises #SS(0) as
   * cpu.linear does), anything else through the interpreter's push.
   */
  private pushStmts(size: number, lo: string, hi: string): void {
    const o = this.out;
    if (this.mode64 && size === 8) {
      o.push(`la = R[9] * 4294967296 + (R[8] >>> 0) - 8; if (la < ${-TWO47} || la > ${TWO47 - 8}) cpu.raise(12, 0);`);
      o.push(`${this.st(8, 'la', lo, hi)} R[8] = la | 0; R[9] = Math.floor(la / 4294967296) | 0;`);
    } else if (!this.mode64 && size === 4) {
      o.push(`if ((R[8] >>> 0) >= 4 && ${this.ssFlat()}) { la = (R[8] - 4) | 0; ${this.st(4, 'la', lo, '0')} R[8] = la; } ` +
        `else { ${this.withRegs(`H.push(4, ${lo}, 0);`)} la = ${this.stackLa()}; }`);
    } else {
      o.push(`${this.withRegs(`H.push(${size}, ${lo}, ${hi});`)} la = ${this.stackLa()};`);
    }
  }

  /** POP of size bytes into (t, th), rSP stepped, as pop() in ../stack.ts (inline as pushStmts). */
  private popStmts(size: number): void {
    const o = this.out;
    if (this.mode64 && size === 8) {
      o.push(`la = R[9] * 4294967296 + (R[8] >>> 0); if (la < ${-TWO47} || la > ${TWO47 - 8}) cpu.raise(12, 0);`);
      o.push(`${this.ld64('la', 't', 'th')} la += 8; R[8] = la | 0; R[9] = Math.floor(la / 4294967296) | 0;`);
    } else if (!this.mode64 && size === 4) {
      o.push(`if ((R[8] >>> 0) <= 4294967292 && ${this.ssFlat()}) { t = ${this.ld32('R[8]')}; R[8] = (R[8] + 4) | 0; } else { ${this.withRegs('t = H.pop(4);')} } th = 0;`);
    } else {
      o.push(`${this.withRegs(`t = H.pop(${size});`)} th = ${size === 8 ? 'd.hi' : '0'};`);
    }
  }

  /** RET: the return address into t (checked: canonical, or within CS's limit), then rSP stepped. */
  private retStmts(size: number): void {
    const o = this.out;
    if (this.mode64 && size === 8) {
      o.push(`la = R[9] * 4294967296 + (R[8] >>> 0); if (la < ${-TWO47} || la > ${TWO47 - 8}) cpu.raise(12, 0);`);
      o.push(`${this.ld64('la', 't', 'th')} t = th * 4294967296 + (t >>> 0);`);
      o.push(`if (t < ${-TWO47} || t >= ${TWO47}) cpu.raise(13, 0);`);
      o.push('la += 8; R[8] = la | 0; R[9] = Math.floor(la / 4294967296) | 0;');
    } else if (!this.mode64 && size === 4) {
      o.push(`tb = (R[8] >>> 0) <= 4294967292 && ${this.ssFlat()} ? 1 : 0; if (tb !== 0) t = ${this.ld32('R[8]')} >>> 0; else { ${this.withRegs('t = H.peek(4, 0) >>> 0;')} }`);
      o.push('if (t > cpu.segLimit[1]) cpu.raise(13, 0);');
      o.push(`if (tb !== 0) R[8] = (R[8] + 4) | 0; else { ${this.withRegs('H.setStackPointer(H.spAdd(H.stackPointer(), 4));')} }`);
    } else {
      o.push(`${this.withRegs(`t = H.peek(${size}, 0);`)} t = ${size === 8 ? 'd.hi * 4294967296 + (t >>> 0)' : 't >>> 0'};`);
      o.push(this.mode64 ? `if (t < ${-TWO47} || t >= ${TWO47}) cpu.raise(13, 0);` : 'if (t > cpu.segLimit[1]) cpu.raise(13, 0);');
      o.push(this.withRegs(`H.setStackPointer(H.spAdd(H.stackPointer(), ${size}));`));
    }
  }

  /** A near-branch target check (nearBranch in fast-path.ts) for the constant target t. */
  private branchCheck(t: number): string {
    if (this.mode64) return t >= -TWO47 && t < TWO47 ? '' : 'cpu.raise(13, 0);';
    return `if (${t} > cpu.segLimit[1]) cpu.raise(13, 0);`;
  }

  /** end + rel in the mode's arithmetic (relTarget). */
  private relTarget(end: number, rel: number): number {
    const t = end + rel;
    if (this.mode64) {
      if (t >= 0x8000_0000_0000_0000) return t - 0x1_0000_0000_0000_0000;
      if (t < -0x8000_0000_0000_0000) return t + 0x1_0000_0000_0000_0000;
      return t;
    }
    return t >>> 0;
  }

  /** A condition expression for cc, materialising the flags when no direct form exists. */
  private condition(cc: number): string {
    const direct = directCondition(this.pend, cc);
    if (direct !== null) return direct;
    this.materialise();
    return `H.cond(cpu.flags, ${cc})`;
  }

  /**
   * The ALU operation aop on (a, ah) and (b, bh) expressions; result to the statements
   * `store` builds from (lo, hi) expressions, unless the operation only sets flags.
   */
  private aluOp(aop: number, size: number, a: string, ah: string, b: string, bh: string, nowrite: boolean, store: (lo: string, hi: string) => string): void {
    const o = this.out;
    if (aop === ALU_ADC || aop === ALU_SBB) {
      this.adcSbb(aop === ALU_SBB, size, a, ah, b, bh, nowrite, store);
      return;
    }
    if (size === 8) {
      o.push(`ta = ${a}; tah = ${ah}; tb = ${b}; tbh = ${bh};`);
      switch (aop) {
        case ALU_ADD: o.push('t = (ta >>> 0) + (tb >>> 0); tr = t | 0; trh = (tah + tbh + (t > 4294967295 ? 1 : 0)) | 0;'); break;
        case ALU_SUB: case ALU_CMP: o.push('t = (ta >>> 0) - (tb >>> 0); tr = t | 0; trh = (tah - tbh - (t < 0 ? 1 : 0)) | 0;'); break;
        case ALU_AND: o.push('tr = ta & tb; trh = tah & tbh;'); break;
        case ALU_OR: o.push('tr = ta | tb; trh = tah | tbh;'); break;
        default: o.push('tr = ta ^ tb; trh = tah ^ tbh;'); break;
      }
      if (!nowrite) o.push(store('tr', 'trh'));
      o.push('fa = ta; fah = tah; fb = tb; fbh = tbh; fr = tr; frh = trh;');
      this.pend = aop === ALU_ADD ? PEND_ADD64 : aop === ALU_SUB || aop === ALU_CMP ? PEND_SUB64 : PEND_LOGIC64;
      return;
    }
    o.push(`ta = ${a}; tb = ${b};`);
    switch (aop) {
      case ALU_ADD: o.push('tr = (ta + tb) | 0;'); break;
      case ALU_SUB: case ALU_CMP: o.push('tr = (ta - tb) | 0;'); break;
      case ALU_AND: o.push('tr = ta & tb;'); break;
      case ALU_OR: o.push('tr = ta | tb;'); break;
      default: o.push('tr = ta ^ tb;'); break;
    }
    if (!nowrite) o.push(store('tr', '0'));
    o.push('fa = ta; fb = tb; fr = tr;');
    this.pend = aop === ALU_ADD ? PEND_ADD32 : aop === ALU_SUB || aop === ALU_CMP ? PEND_SUB32 : PEND_LOGIC32;
  }

  /** 32/64-bit read of [la] into (t, cpu.hi) expressions. */
  private load(size: number): [string, string] {
    if (size === 8) { this.out.push(this.ld64('la', 't', 'th')); return ['t', 'th']; }
    this.out.push(`t = ${this.ld32('la')};`);
    return ['t', '0'];
  }

  private storeMem(size: number, lo: string, hi: string): string {
    return this.st(size === 8 ? 8 : 4, 'la', lo, hi);
  }

  /**
   * Emit instruction i (decode-cache entry ci, fast form kind) at rip; end is the next RIP.
   * Returns false when the form is not compiled (the block ends before it).
   */
  emit(c: DecodeCache, ci: number, kind: number, i: number, rip: number, end: number): boolean {
    const o = this.out;
    const size = c.opsize[ci]!;
    const reg = c.reg[ci]!;
    const rm = c.rm[ci]!;
    const aux = c.aux[ci]!;
    const imm = c.imm[ci]!;
    const isMem = (c.flags[ci]! & DCF_ISMEM) !== 0;
    const regLo = (r: number) => `R[${2 * r}]`;
    const regHi = (r: number) => `R[${2 * r + 1}]`;
    const toReg = (r: number) => (lo: string, hi: string) => `R[${2 * r}] = ${lo}; R[${2 * r + 1}] = ${hi};`;
    switch (kind) {
      case FK_MOV_RR:
        o.push(size === 8 ? `R[${2 * reg}] = R[${2 * rm}]; R[${2 * reg + 1}] = R[${2 * rm + 1}];` : `R[${2 * reg}] = R[${2 * rm}]; R[${2 * reg + 1}] = 0;`);
        return true;
      case FK_MOV_RI:
        o.push(`R[${2 * reg}] = ${imm}; R[${2 * reg + 1}] = ${aux ? imm >> 31 : 0};`);
        return true;
      case FK_MOV_RI64:
        o.push(`R[${2 * reg}] = ${imm}; R[${2 * reg + 1}] = ${c.disp[ci]!};`);
        return true;
      case FK_MOV_LD: {
        this.faultPoint(i, rip);
        this.linear(c, ci, end, size, false);
        const [lo, hi] = this.load(size);
        o.push(toReg(reg)(lo, hi));
        return true;
      }
      case FK_MOV_ST:
        this.faultPoint(i, rip);
        this.linear(c, ci, end, size, true);
        o.push(this.storeMem(size, regLo(reg), regHi(reg)));
        this.afterStore(i, end, size, true);
        return true;
      case FK_MOV_MI:
        this.faultPoint(i, rip);
        this.linear(c, ci, end, size, true);
        o.push(this.storeMem(size, String(imm), imm < 0 ? '-1' : '0'));
        this.afterStore(i, end, size, true);
        return true;
      case FK_LEA: {
        const ad8 = c.adsize[ci] === 8;
        if (c.flags[ci]! & DCF_RIPREL) {
          const ea = ad8 ? addWrap64(end, c.disp[ci]!) : (end + c.disp[ci]!) >>> 0;
          o.push(`R[${2 * reg}] = ${ea | 0}; R[${2 * reg + 1}] = ${size === 8 && ad8 ? Math.floor(ea / TWO32) | 0 : 0};`);
          return true;
        }
        const base = c.base[ci]!;
        const index = c.index[ci]!;
        const scale = c.scale[ci]!;
        let lo = String(c.disp[ci]!);
        let hi = '0';
        if (index >= 0) { lo += ` + (R[${2 * index}] >>> 0) * ${scale}`; hi += ` + R[${2 * index + 1}] * ${scale}`; }
        if (base >= 0) { lo += ` + (R[${2 * base}] >>> 0)`; hi += ` + R[${2 * base + 1}]`; }
        if (size === 8 && ad8) o.push(`lo = ${lo}; th = (${hi} + (lo - (lo >>> 0)) / 4294967296) | 0; R[${2 * reg}] = lo | 0; R[${2 * reg + 1}] = th;`);
        else o.push(`R[${2 * reg}] = (${lo}) | 0; R[${2 * reg + 1}] = 0;`);
        return true;
      }
      case FK_ALU_RR:
        this.aluOp(aux & 7, size, regLo(reg), regHi(reg), regLo(rm), regHi(rm), (aux & FA_NOWRITE) !== 0, toReg(reg));
        return true;
      case FK_ALU_RI:
        this.aluOp(aux & 7, size, regLo(rm), regHi(rm), String(imm), imm < 0 ? '-1' : '0', (aux & FA_NOWRITE) !== 0, toReg(rm));
        return true;
      case FK_ALU_RM: {
        this.faultPoint(i, rip);
        this.linear(c, ci, end, size, false);
        if (size === 8) o.push(this.ld64('la', 'tm', 'tmh'));
        else o.push(`tm = ${this.ld32('la')};`);
        this.aluOp(aux & 7, size, regLo(reg), regHi(reg), 'tm', size === 8 ? 'tmh' : '0', (aux & FA_NOWRITE) !== 0, toReg(reg));
        return true;
      }
      case FK_ALU_MR:
      case FK_ALU_MI: {
        const write = (aux & FA_NOWRITE) === 0;
        this.faultPoint(i, rip);
        this.linear(c, ci, end, size, write);
        if (size === 8) o.push(this.ld64('la', 'tm', 'tmh'));
        else o.push(`tm = ${this.ld32('la')};`);
        const b = kind === FK_ALU_MR ? regLo(reg) : String(imm);
        const bh = kind === FK_ALU_MR ? regHi(reg) : imm < 0 ? '-1' : '0';
        this.aluOp(aux & 7, size, 'tm', size === 8 ? 'tmh' : '0', b, bh, !write, (lo, hi) => this.storeMem(size, lo, hi));
        if (write) this.afterStore(i, end, size, true);
        return true;
      }
      case FK_JCC: {
        const t = this.relTarget(end, imm);
        const cnd = this.condition(aux);
        const check = this.branchCheck(t);
        if (check !== '') this.faultPoint(i, rip);
        o.push(`if (${cnd}) { ${check} ${this.branch(i, t)} }`);
        o.push(this.branch(i, end));
        this.ended = true;
        return true;
      }
      case FK_JMP: {
        const t = this.relTarget(end, imm);
        const check = this.branchCheck(t);
        if (check !== '') { this.faultPoint(i, rip); o.push(check); }
        o.push(this.branch(i, t));
        this.ended = true;
        return true;
      }
      case FK_CALL: {
        const t = this.relTarget(end, imm);
        this.faultPoint(i, rip);
        o.push(this.branchCheck(t));
        this.pushStmts(aux, String(end | 0), String(Math.floor(end / TWO32) | 0));
        // A pending MMIO exit (the push) is the run loop's, and a push onto this region's
        // own page may have changed its code: leave for either.
        this.afterStore(i, t, aux);
        o.push(this.branch(i, t));
        this.callEnds.push(end);
        this.ended = true;
        return true;
      }
      case FK_RET:
        this.faultPoint(i, rip);
        this.retStmts(aux);
        o.push(this.retGoto !== null ? this.retGoto(i) : this.exitStmts(i, 't'));
        this.ended = true;
        return true;
      case FK_PUSH:
        this.faultPoint(i, rip);
        this.pushStmts(aux, `R[${2 * reg}]`, aux === 8 ? `R[${2 * reg + 1}]` : '0');
        this.afterStore(i, end, aux);
        return true;
      case FK_POP:
        this.faultPoint(i, rip);
        this.popStmts(aux);
        o.push(`R[${2 * reg}] = t; R[${2 * reg + 1}] = ${aux === 8 ? 'th' : '0'};`);
        return true;
      case FK_SHIFT: {
        if (this.shiftInline(c, ci)) return true;
        this.materialise();
        const src = aux >> 3;
        const count = src === 0 ? String(imm & (size === 8 ? 63 : 31)) : src === 1 ? '1' : `(R[2] & ${size === 8 ? 63 : 31})`;
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, size, true);
          const [lo, hi] = this.load(size);
          if (size === 8) o.push(`tr = H.shift64(cpu, ${aux & 7}, ${lo}, ${hi}, ${count}); trh = H.r64.hi;`);
          else o.push(`tr = H.shift(cpu, ${aux & 7}, 4, ${lo}, ${count}); trh = 0;`);
          o.push(this.storeMem(size, 'tr', 'trh'));
          this.afterStore(i, end, size, true);
        } else if (size === 8) {
          o.push(`tr = H.shift64(cpu, ${aux & 7}, R[${2 * rm}], R[${2 * rm + 1}], ${count}); R[${2 * rm}] = tr; R[${2 * rm + 1}] = H.r64.hi;`);
        } else {
          o.push(`tr = H.shift(cpu, ${aux & 7}, 4, R[${2 * rm}], ${count}); R[${2 * rm}] = tr; R[${2 * rm + 1}] = 0;`);
        }
        return true;
      }
      case FK_MOVSXD:
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 4, false);
          o.push(`t = ${this.ld32('la')} | 0;`);
        } else {
          o.push(`t = R[${2 * rm}];`);
        }
        o.push(`R[${2 * reg}] = t; R[${2 * reg + 1}] = ${size === 8 ? 't >> 31' : '0'};`);
        return true;
      case FK_MOVX: {
        const bytes = aux & 3;
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, bytes, false);
          o.push(bytes === 1 ? 't = cpu.read8(la);' : 't = cpu.read16(la);');
        } else if (bytes === 1) {
          const rex = c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0;
          o.push(rm >= 4 && rm < 8 && rex === 0 ? `t = (R[${2 * (rm - 4)}] >> 8) & 0xff;` : `t = R[${2 * rm}] & 0xff;`);
        } else {
          o.push(`t = R[${2 * rm}] & 0xffff;`);
        }
        if (aux & 4) o.push(bytes === 1 ? 't = (t << 24) >> 24;' : 't = (t << 16) >> 16;');
        o.push(`R[${2 * reg}] = t; R[${2 * reg + 1}] = ${size === 8 && (aux & 4) ? 't >> 31' : '0'};`);
        return true;
      }
      case FK_CMOV: {
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, size, false);
          const [lo, hi] = this.load(size);
          o.push(`tm = ${lo}; tmh = ${hi};`);
        } else {
          o.push(`tm = R[${2 * rm}]; tmh = ${size === 8 ? `R[${2 * rm + 1}]` : '0'};`);
        }
        const cnd = this.condition(aux);
        o.push(`if (${cnd}) { R[${2 * reg}] = tm; R[${2 * reg + 1}] = tmh; }${size === 4 ? ` else { R[${2 * reg + 1}] = 0; }` : ''}`);
        return true;
      }
      case FK_MOV8_ST: {
        const rex = c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0;
        const src = reg >= 4 && reg < 8 && rex === 0 ? `((R[${2 * (reg - 4)}] >> 8) & 0xff)` : `(R[${2 * reg}] & 0xff)`;
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 1, true);
          o.push(`cpu.write8(la, ${src});`);
          this.afterStore(i, end, 1);
        } else if (rm >= 4 && rm < 8 && rex === 0) {
          o.push(`t = ${src}; R[${2 * (rm - 4)}] = (R[${2 * (rm - 4)}] & ~0xff00) | (t << 8);`);
        } else {
          o.push(`t = ${src}; R[${2 * rm}] = (R[${2 * rm}] & ~0xff) | t;`);
        }
        return true;
      }
      case FK_MOV8_MI:
        this.faultPoint(i, rip);
        this.linear(c, ci, end, 1, true);
        o.push(`cpu.write8(la, ${imm & 0xff});`);
        this.afterStore(i, end, 1);
        return true;
    }
    const formDone = this.emitForm(c, ci, kind, i, rip, end);
    if (formDone) return true;
    const op = c.op[ci]!;
    if (kind === FK_NONE && c.opsize[ci] === 2 && this.emitWord(c, ci, i, rip, end)) return true;
    if (kind === FK_NONE && c.rep[ci] === 0 && (op === 0xa4 || op === 0xa5 || op === 0xaa || op === 0xab) && c.adsize[ci] !== 2 &&
      (c.flags[ci]! & DCF_LOCK) === 0) {
      this.emitString(c, ci, i, rip, end);
      return true;
    }
    if (kind === FK_NONE && this.emitDivEndbr(c, ci, i, rip, end)) return true;
    if (kind === FK_NONE && op === 0xff && this.emitIndirect(c, ci, i, rip, end)) return true;
    if (kind === FK_NONE && op >= 0xb0 && op <= 0xb7 && (c.flags[ci]! & (DCF_MODRM | DCF_LOCK)) === 0 && c.rep[ci] === 0 && c.len[ci] === c.opEnd[ci]! + 1) {
      // MOV r8, imm8 (B0+r; the i386 XZ decompressor's `mov $1, %al`): REX.B names r8b-r15b,
      // any REX spl-dil, none AH-BH for 4-7.
      const rex = c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0;
      this.out.push(this.setReg8((op & 7) | ((rex & 1) << 3), rex, String(byteOf(c, ci, c.opEnd[ci]!))));
      return true;
    }
    if (kind === FK_NONE && inlineable(c, ci)) {
      // An instruction without a compiled form that neither writes memory nor leaves the
      // block's straight line by itself: the interpreter runs it in place; the block goes
      // on only when it fell through and the run loop would have nothing to do first.
      this.materialise();
      this.faultPoint(i, rip);
      o.push(this.withRegs(`cpu.rip = ${rip}; H.step(cpu);`));
      o.push(`if (d.ip !== ${end} || cpu.mode64 !== ${this.mode64} || ${this.mode64 ? 'false' : `cpu.csDefault32 !== ${this.def32}`} || ` +
        `cpu.stiBlocking || cpu.movSsBlocking || cpu.mmioWritePending || !H.mayContinue(cpu)) { pk = 0; ret += ${this.n(i)}; nx = d.ip; break run; }`);
      return true;
    }
    return false;
  }


  /**
   * MOVS/STOS without REP (gcc's byte-copy loops, memcpy in bench-32), 32- and 64-bit
   * address size, as execString in ../string-io.ts does one iteration: read [seg:rSI] (DS
   * or the override), write [ES:rDI], then step rSI/rDI by the size, backwards when DF.
   * Nothing is written before the last possible fault; the block checks the store like
   * its own (SMC, MMIO).
   */
  private emitString(c: DecodeCache, ci: number, i: number, rip: number, end: number): void {
    const o = this.out;
    const op = c.op[ci]!;
    const ad = c.adsize[ci]!;
    const size = op & 1 ? c.opsize[ci]! : 1;
    const f = c.flags[ci]!;
    const srcSeg = f & DCF_PREFIXED && c.seg[ci]! > 0 ? c.seg[ci]! - 1 : 3;
    const idx = (r: number) => (ad === 8 ? `(R[${2 * r + 1}] * 4294967296 + (R[${2 * r}] >>> 0))` : `(R[${2 * r}] >>> 0)`);
    this.faultPoint(i, rip);
    // tb: rDI before the instruction (and rSI in tr for MOVS).
    o.push(`tb = ${idx(7)};`);
    let lo: string;
    let hi = '0';
    if (op === 0xa4 || op === 0xa5) {
      o.push(`tr = ${idx(6)};`);
      this.linearAt(srcSeg, 'tr', ad, size, false);
      switch (size) {
        case 1: o.push('tm = cpu.read8(la);'); break;
        case 2: o.push('tm = cpu.read16(la);'); break;
        case 4: o.push(`tm = ${this.ld32('la')};`); break;
        default: o.push(this.ld64('la', 'tm', 'tmh')); hi = 'tmh'; break;
      }
      lo = 'tm';
    } else {
      const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
      lo = size === 1 ? this.reg8(0, rex) : size === 2 ? '(R[0] & 0xffff)' : 'R[0]';
      if (size === 8) hi = 'R[1]';
    }
    this.linearAt(0, 'tb', ad, size, true);
    switch (size) {
      case 1: o.push(`cpu.write8(la, ${lo});`); break;
      case 2: o.push(`cpu.write16(la, ${lo});`); break;
      case 4: o.push(this.st(4, 'la', lo, '0')); break;
      default: o.push(this.st(8, 'la', lo, hi)); break;
    }
    // The index registers step by the size; string-io.ts advance/setIdx.
    o.push(`th = (cpu.flags & ${FLAG_DF}) !== 0 ? ${-size} : ${size};`);
    const step = (r: number, v: string) => {
      if (ad === 8) {
        o.push(`t = ${v} + th; if (t >= 9223372036854775808) t -= 18446744073709551616; else if (t < -9223372036854775808) t += 18446744073709551616;`);
        o.push(`R[${2 * r}] = t | 0; R[${2 * r + 1}] = Math.floor(t / 4294967296) | 0;`);
      } else {
        o.push(`R[${2 * r}] = (${v} + th) | 0; R[${2 * r + 1}] = 0;`);
      }
    };
    if (op === 0xa4 || op === 0xa5) step(6, 'tr');
    step(7, 'tb');
    this.afterStore(i, end, size);
  }

  /**
   * DIV r/m32 (F7 /6) and ENDBR32/ENDBR64 (F3 0F 1E FB/FA, a NOP here), which the
   * interpreter has no fast form for: libgcc's __udivdi3 (bench-32's 64-bit division)
   * runs both on every call. DIV is execute.ts divide(): #DE on a zero divisor or a
   * quotient of 2^32 or more (EDX >= the divisor); EDX:EAX / src in two 48-bit steps,
   * each exact in doubles; EAX = quotient, EDX = remainder (zero-extended); flags unchanged.
   */
  private emitDivEndbr(c: DecodeCache, ci: number, i: number, rip: number, end: number): boolean {
    const f = c.flags[ci]!;
    const op = c.op[ci]!;
    if ((f & DCF_LOCK) !== 0 || (f & DCF_MODRM) === 0 || c.adsize[ci] === 2) return false;
    const len = c.len[ci]!;
    if (op === 0x0f) {
      return c.rep[ci] === 0xf3 && byteOf(c, ci, c.opEnd[ci]!) === 0x1e && (c.modrm[ci] === 0xfa || c.modrm[ci] === 0xfb) &&
        c.modrmEnd[ci] === len && (f & DCF_ISMEM) === 0;
    }
    if (op !== 0xf7 || c.rep[ci] !== 0 || c.opsize[ci] !== 4 || (c.reg[ci]! & 7) !== 6 || c.modrmEnd[ci] !== len) return false;
    const o = this.out;
    this.faultPoint(i, rip);
    if (f & DCF_ISMEM) {
      this.linear(c, ci, end, 4, false);
      o.push(`tb = ${this.ld32('la')} >>> 0;`);
    } else {
      o.push(`tb = R[${2 * c.rm[ci]!}] >>> 0;`);
    }
    o.push('th = R[4] >>> 0; if (tb === 0 || th >= tb) cpu.raise(0);');
    o.push('ta = R[0] >>> 0; t = th * 65536 + (ta >>> 16); tr = Math.floor(t / tb); t = (t - tr * tb) * 65536 + (ta & 0xffff); tm = Math.floor(t / tb);');
    o.push('R[4] = (t - tm * tb) | 0; R[5] = 0; R[0] = (tr * 65536 + tm) | 0; R[1] = 0;');
    return true;
  }

  /**
   * The 16-bit MOVs (66 89, 66 8B, 66 C7 /0) and 66 90 (a NOP), which the interpreter has
   * no fast form for: the XZ decompressor of the Linux boot protocol stores every LZMA
   * probability (a u16) with MOV m16, r16, so without them its loop left the compiled code
   * at each decoded bit. A 16-bit register write keeps bits 16-63 (SDM vol. 1, 3.4.1.1).
   */
  private emitWord(c: DecodeCache, ci: number, i: number, rip: number, end: number): boolean {
    const f = c.flags[ci]!;
    const op = c.op[ci]!;
    const len = c.len[ci]!;
    if ((f & DCF_LOCK) !== 0 || c.rep[ci] !== 0 || c.adsize[ci] === 2) return false;
    const o = this.out;
    if (!(f & DCF_MODRM)) {
      // 66 90 is XCHG AX, AX: nothing changes (REX.B would name R8W).
      const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
      return op === 0x90 && len === c.opEnd[ci] && (rex & 1) === 0;
    }
    const reg = c.reg[ci]!;
    const rm = c.rm[ci]!;
    const isMem = (f & DCF_ISMEM) !== 0;
    const modrmEnd = c.modrmEnd[ci]!;
    switch (op) {
      case 0x89:
        if (len !== modrmEnd) return false;
        if (!isMem) {
          o.push(`R[${2 * rm}] = (R[${2 * rm}] & -65536) | (R[${2 * reg}] & 0xffff);`);
          return true;
        }
        this.faultPoint(i, rip);
        this.linear(c, ci, end, 2, true);
        o.push(`cpu.write16(la, R[${2 * reg}] & 0xffff);`);
        this.afterStore(i, end, 2);
        return true;
      case 0x8b:
        if (len !== modrmEnd) return false;
        if (!isMem) {
          o.push(`R[${2 * reg}] = (R[${2 * reg}] & -65536) | (R[${2 * rm}] & 0xffff);`);
          return true;
        }
        this.faultPoint(i, rip);
        this.linear(c, ci, end, 2, false);
        o.push(`R[${2 * reg}] = (R[${2 * reg}] & -65536) | cpu.read16(la);`);
        return true;
      case 0xc1: case 0xd1: case 0xd3: {
        // Shifts and rotates of a word (the LZMA probability update: prob -= prob >> 5).
        if (len !== modrmEnd + (op === 0xc1 ? 1 : 0)) return false;
        const count = op === 0xc1 ? String(byteOf(c, ci, modrmEnd) & 31) : op === 0xd1 ? '1' : '(R[2] & 31)';
        this.materialise();
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 2, true);
          o.push(`cpu.write16(la, H.shift(cpu, ${reg & 7}, 2, cpu.read16(la), ${count}));`);
          this.afterStore(i, end, 2);
        } else {
          o.push(`tr = H.shift(cpu, ${reg & 7}, 2, R[${2 * rm}] & 0xffff, ${count}); R[${2 * rm}] = (R[${2 * rm}] & -65536) | (tr & 0xffff);`);
        }
        return true;
      }
      case 0xc7: {
        if (!isMem || (reg & 7) !== 0 || len !== modrmEnd + 2) return false;
        const imm = byteOf(c, ci, modrmEnd) | (byteOf(c, ci, modrmEnd + 1) << 8);
        this.faultPoint(i, rip);
        this.linear(c, ci, end, 2, true);
        o.push(`cpu.write16(la, ${imm});`);
        this.afterStore(i, end, 2);
        return true;
      }
    }
    return this.emitWordAlu(c, ci, i, rip, end);
  }

  /**
   * The word ALU forms (66 01/03 ... 39/3B, 81/83, 85): alu() of ../alu.ts on 16-bit
   * operands after materialising the flags (ADC/SBB read CF; every form sets them), the
   * result merged into bits 0-15.
   */
  private emitWordAlu(c: DecodeCache, ci: number, i: number, rip: number, end: number): boolean {
    const o = this.out;
    const op = c.op[ci]!;
    const len = c.len[ci]!;
    const reg = c.reg[ci]!;
    const rm = c.rm[ci]!;
    const isMem = (c.flags[ci]! & DCF_ISMEM) !== 0;
    const modrmEnd = c.modrmEnd[ci]!;
    let aop: number;
    let src: string;
    let toReg = false;
    if (op < 0x40 && (op & 5) === 1) {
      // 01 03 09 0B ... 39 3B: Ev,Gv (bit 1 clear) or Gv,Ev.
      if (len !== modrmEnd) return false;
      aop = op >> 3;
      toReg = (op & 2) !== 0;
      src = toReg ? '' : `(R[${2 * reg}] & 0xffff)`;
    } else if (op === 0x85) {
      if (len !== modrmEnd) return false;
      aop = 4;
      src = `(R[${2 * reg}] & 0xffff)`;
    } else if (op === 0x81 || op === 0x83) {
      if (len !== modrmEnd + (op === 0x81 ? 2 : 1)) return false;
      aop = reg & 7;
      const imm = op === 0x81 ? byteOf(c, ci, modrmEnd) | (byteOf(c, ci, modrmEnd + 1) << 8) : ((byteOf(c, ci, modrmEnd) << 24) >> 24) & 0xffff;
      src = String(imm);
    } else {
      return false;
    }
    // TEST (85) is AND without the write; CMP writes nothing either.
    const op7 = op === 0x85 ? ALU_AND : aop;
    const write = op !== 0x85 && aop !== ALU_CMP;
    this.materialise();
    let rmVal = `(R[${2 * rm}] & 0xffff)`;
    if (isMem) {
      this.faultPoint(i, rip);
      this.linear(c, ci, end, 2, write && !toReg);
      o.push('tm = cpu.read16(la);');
      rmVal = 'tm';
    }
    if (toReg) {
      o.push(`tr = H.alu(cpu, ${op7}, 2, (R[${2 * reg}] & 0xffff), ${rmVal});`);
      if (write) o.push(`R[${2 * reg}] = (R[${2 * reg}] & -65536) | (tr & 0xffff);`);
      return true;
    }
    o.push(`tr = H.alu(cpu, ${op7}, 2, ${rmVal}, ${src});`);
    if (write) {
      if (isMem) { o.push('cpu.write16(la, tr);'); this.afterStore(i, end, 2); }
      else o.push(`R[${2 * rm}] = (R[${2 * rm}] & -65536) | (tr & 0xffff);`);
    }
    return true;
  }

  /**
   * SHL/SHR/SAR of a register by a nonzero immediate count, inline with lazy flags
   * (PEND_SHIFT32/64): such a shift sets every arithmetic flag, so the pending ones are
   * dead. Exactly shift()/shift64() in ../alu.ts. False for any other shift.
   */
  private shiftInline(c: DecodeCache, ci: number): boolean {
    const aux = c.aux[ci]!;
    const op = aux & 7;
    if ((c.flags[ci]! & DCF_ISMEM) || aux >> 3 !== 0 || op < 4) return false;
    const size = c.opsize[ci]!;
    const n = c.imm[ci]! & (size === 8 ? 63 : 31);
    if (n === 0) return false;
    const rm = c.rm[ci]!;
    const lo = `R[${2 * rm}]`;
    const hi = `R[${2 * rm + 1}]`;
    const o = this.out;
    if (size === 4) {
      o.push(`ta = ${lo};`);
      if (op === 5) o.push(`tr = (ta >>> ${n}) | 0; fa = ((ta >>> ${n - 1}) & 1) | (ta < 0 ? 2048 : 0);`);
      else if (op === 7) o.push(`tr = ta >> ${n}; fa = (ta >> ${n - 1}) & 1;`);
      else o.push(`tr = ta << ${n}; t = (ta >>> ${32 - n}) & 1; fa = t | ((tr < 0 ? 1 : 0) !== t ? 2048 : 0);`);
      o.push(`${lo} = tr; ${hi} = 0; fr = tr;`);
      this.pend = PEND_SHIFT32;
      return true;
    }
    o.push(`ta = ${lo}; tah = ${hi};`);
    if (op === 5 || op === 7) {
      const sh = op === 5 ? '>>>' : '>>';
      const of = op === 5 ? ' | (tah < 0 ? 2048 : 0)' : '';
      if (n < 32) o.push(`tr = (ta >>> ${n}) | (tah << ${32 - n}); trh = (tah ${sh} ${n}) | 0; fa = ((ta >>> ${n - 1}) & 1)${of};`);
      else if (n === 32) o.push(`tr = tah; trh = ${op === 5 ? '0' : 'tah >> 31'}; fa = (ta >>> 31)${of};`);
      else o.push(`tr = (tah ${sh} ${n - 32}) | 0; trh = ${op === 5 ? '0' : 'tah >> 31'}; fa = ((tah ${sh} ${n - 33}) & 1)${of};`);
    } else {
      if (n < 32) o.push(`t = (tah >>> ${32 - n}) & 1; trh = (tah << ${n}) | (ta >>> ${32 - n}); tr = ta << ${n};`);
      else if (n === 32) o.push('t = tah & 1; trh = ta; tr = 0;');
      else o.push(`t = (ta >>> ${64 - n}) & 1; trh = ta << ${n - 32}; tr = 0;`);
      o.push('fa = t | ((trh < 0 ? 1 : 0) !== t ? 2048 : 0);');
    }
    o.push(`${lo} = tr; ${hi} = trh; fr = tr; frh = trh;`);
    this.pend = PEND_SHIFT64;
    return true;
  }

  /**
   * ADC/SBB inline: the carry in straight from the pending operands when they give CF
   * directly (else materialised), the result in JS, and the flags left lazy (operands,
   * result and carry in kept: 32-bit as PEND_ADC32/PEND_SBB32, 64-bit as a run-time kind).
   */
  private adcSbb(sbb: boolean, size: number, a: string, ah: string, b: string, bh: string, nowrite: boolean, store: (lo: string, hi: string) => string): void {
    const o = this.out;
    const direct = directCondition(this.pend, 2);
    if (direct === null) this.materialise();
    o.push(`th = ${direct === null ? 'cpu.flags & 1' : `${direct} ? 1 : 0`};`);
    if (size === 8) {
      o.push(`ta = ${a}; tah = ${ah}; tb = ${b}; tbh = ${bh};`);
      if (sbb) o.push('t = (ta >>> 0) - (tb >>> 0) - th; tr = t | 0; trh = (tah - tbh - (t < 0 ? 1 : 0)) | 0;');
      else o.push('t = (ta >>> 0) + (tb >>> 0) + th; tr = t | 0; trh = (tah + tbh + (t > 4294967295 ? 1 : 0)) | 0;');
      if (!nowrite) o.push(store('tr', 'trh'));
      // Lazy, as a run-time kind that carries the carry in (flags.ts PEND_ADC64/PEND_SBB64).
      o.push(`fa = ta; fah = tah; fb = tb; fbh = tbh; fr = tr; frh = trh; pk = ${sbb ? PEND_SBB64 : PEND_ADC64} + th;`);
      this.pend = PEND_DYN;
      return;
    } else {
      o.push(`ta = ${a}; tb = ${b};`);
      o.push(sbb ? 'tr = (ta - tb - th) | 0;' : 'tr = (ta + tb + th) | 0;');
      if (!nowrite) o.push(store('tr', '0'));
      // Lazy (flags.ts PEND_ADC32/PEND_SBB32): the carry in travels in fah.
      o.push('fa = ta; fb = tb; fah = th; fr = tr;');
      this.pend = sbb ? PEND_SBB32 : PEND_ADC32;
      return;
    }
    this.pend = PEND_NONE;
  }
  /** An 8-bit register as an expression (AH..BH for 4..7 without REX). */
  private reg8(r: number, rex: number): string {
    return r >= 4 && r < 8 && rex === 0 ? `((R[${2 * (r - 4)}] >> 8) & 0xff)` : `(R[${2 * r}] & 0xff)`;
  }

  /** The statement writing the 8-bit register r from the expression v (a byte). */
  private setReg8(r: number, rex: number, v: string): string {
    if (r >= 4 && r < 8 && rex === 0) return `R[${2 * (r - 4)}] = (R[${2 * (r - 4)}] & ~0xff00) | (${v} << 8);`;
    return `R[${2 * r}] = (R[${2 * r}] & ~0xff) | ${v};`;
  }

  /**
   * The forms added for IMUL, SETcc, group 3, the 8-bit ALU, INC/DEC, NOP and MOV r8, m8
   * (fast-path.ts FK_IMUL ... FK_MOV8_LD), with that fast form's semantics. The operations
   * that set every arithmetic flag from their operands (IMUL, MUL, NEG, TEST, the 8-bit
   * ALU other than ADC/SBB) compute them through the interpreter's helper into cpu.flags,
   * where the pending ones are dead; ADC/SBB and INC/DEC read flags and materialise first.
   */
  private emitForm(c: DecodeCache, ci: number, kind: number, i: number, rip: number, end: number): boolean {
    const o = this.out;
    const size = c.opsize[ci]!;
    const reg = c.reg[ci]!;
    const rm = c.rm[ci]!;
    const aux = c.aux[ci]!;
    const imm = c.imm[ci]!;
    const f = c.flags[ci]!;
    const isMem = (f & DCF_ISMEM) !== 0;
    const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
    switch (kind) {
      case FK_NOP:
        return true;
      case FK_CDQ:
        if (aux === 0) o.push(size === 8 ? 'R[1] = R[0] >> 31;' : 'R[0] = (R[0] << 16) >> 16; R[1] = 0;');
        else o.push(size === 8 ? 'R[4] = R[5] = R[1] >> 31;' : 'R[4] = R[0] >> 31; R[5] = 0;');
        return true;
      case FK_PUSH_IMM:
        this.faultPoint(i, rip);
        this.pushStmts(aux, String(imm), String(imm >> 31));
        this.afterStore(i, end, aux);
        return true;
      case FK_LEAVE:
        this.faultPoint(i, rip);
        o.push(this.withRegs(`H.leave(cpu, ${aux});`));
        return true;
      case FK_IMUL: {
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, size, false);
          const [lo, hi] = this.load(size);
          o.push(`tm = ${lo}; tmh = ${hi};`);
        } else {
          o.push(`tm = R[${2 * rm}]; tmh = R[${2 * rm + 1}];`);
        }
        const a = aux ? String(imm) : `R[${2 * reg}]`;
        const ah = aux ? String(imm >> 31) : `R[${2 * reg + 1}]`;
        if (size === 8) {
          // Operands both below 2^32 (lib/mpi's 32x32 partial products on amd64) inline, as
          // imul64's own fast path: the exact low word, the high word from the double product
          // (its rounding error is far below 2^32), CF = OF = SF = bit 63; the rest through it.
          o.push(`ta = ${a}; tah = ${ah};`);
          o.push(`if ((tah | tmh) === 0) { tr = Math.imul(ta, tm); trh = ((((ta >>> 0) * (tm >>> 0) - (tr >>> 0)) * ${2 ** -32} + 0.5) >>> 0) | 0; `
            + `cpu.flags = (cpu.flags & ${~FLAGS_ARITH}) | (trh < 0 ? ${FLAG_CF | FLAG_OF | FLAG_SF} : 0) | F.PARITY[tr & 255]; } `
            + 'else { tr = H.imul64(cpu, ta, tah, tm, tmh); trh = H.r64.hi; }');
          o.push(`R[${2 * reg}] = tr; R[${2 * reg + 1}] = trh;`);
          this.pend = PEND_NONE;
        } else {
          // Lazy flags (flags.ts PEND_IMUL32): the product in JS, the operands kept.
          o.push(`ta = ${a}; tr = Math.imul(ta, tm); R[${2 * reg}] = tr; R[${2 * reg + 1}] = 0; fa = ta; fb = tm; fr = tr;`);
          this.pend = PEND_IMUL32;
        }
        return true;
      }
      case FK_SETCC: {
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 1, true);
          o.push(`cpu.write8(la, ${this.condition(aux)} ? 1 : 0);`);
          this.afterStore(i, end, 1);
        } else {
          o.push(`t = ${this.condition(aux)} ? 1 : 0;`);
          o.push(this.setReg8(rm, rex, 't'));
        }
        return true;
      }
      case FK_GRP3: {
        const writes = aux === 2 || aux === 3;
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, size, writes);
          const [lo, hi] = this.load(size);
          o.push(`tm = ${lo}; tmh = ${hi};`);
        } else {
          o.push(`tm = R[${2 * rm}]; tmh = ${size === 8 ? `R[${2 * rm + 1}]` : '0'};`);
        }
        // MUL, IMUL, DIV and IDIV (aux 4-7) read and write rDX:rAX in cpu.regs.
        const g = `tr = H.grp3(cpu, ${aux}, ${size}, tm, tmh, ${imm}); trh = H.r64.hi;`;
        o.push(aux >= 4 ? this.withRegs(g) : g);
        if (writes) {
          if (isMem) { o.push(this.storeMem(size, 'tr', 'trh')); this.afterStore(i, end, size, true); }
          else o.push(`R[${2 * rm}] = tr; R[${2 * rm + 1}] = trh;`);
        }
        if (aux !== 2) this.pend = PEND_NONE;
        return true;
      }
      case FK_ALU8: {
        const aop = aux & 7;
        const write = (aux & FA_NOWRITE) === 0;
        if (aop === ALU_ADC || aop === ALU_SBB) this.materialise();
        const toReg = (aux & 16) !== 0;
        const src = aux & 32 ? String(imm & 0xff) : null;
        if (toReg) {
          let b = src;
          if (b === null) {
            if (isMem) {
              this.faultPoint(i, rip);
              this.linear(c, ci, end, 1, false);
              o.push('tm = cpu.read8(la);');
              b = 'tm';
            } else {
              b = this.reg8(rm, rex);
            }
          }
          o.push(`tr = H.alu(cpu, ${aop}, 1, ${this.reg8(reg, rex)}, ${b});`);
          if (write) o.push(this.setReg8(reg, rex, 'tr'));
        } else if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 1, write);
          o.push(`tr = H.alu(cpu, ${aop}, 1, cpu.read8(la), ${src ?? this.reg8(reg, rex)});`);
          if (write) { o.push('cpu.write8(la, tr);'); this.afterStore(i, end, 1); }
        } else {
          o.push(`tr = H.alu(cpu, ${aop}, 1, ${this.reg8(rm, rex)}, ${src ?? this.reg8(reg, rex)});`);
          if (write) o.push(this.setReg8(rm, rex, 'tr'));
        }
        this.pend = PEND_NONE;
        return true;
      }
      case FK_INCDEC: {
        this.materialise();
        const dec = (aux & 1) !== 0;
        if (aux & 2) {
          if (isMem) {
            this.faultPoint(i, rip);
            this.linear(c, ci, end, 1, true);
            o.push(`cpu.write8(la, H.incDec(cpu, 1, cpu.read8(la), ${dec}));`);
            this.afterStore(i, end, 1);
          } else {
            o.push(`tr = H.incDec(cpu, 1, ${this.reg8(rm, rex)}, ${dec});`);
            o.push(this.setReg8(rm, rex, 'tr'));
          }
          return true;
        }
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, size, true);
          const [lo, hi] = this.load(size);
          if (size === 8) o.push(`tr = H.incDec64(cpu, ${lo}, ${hi}, ${dec}); trh = H.r64.hi;`);
          else o.push(`tr = H.incDec(cpu, 4, ${lo}, ${dec}); trh = 0;`);
          o.push(this.storeMem(size, 'tr', 'trh'));
          this.afterStore(i, end, size, true);
        } else if (size === 8) {
          o.push(`R[${2 * rm}] = H.incDec64(cpu, R[${2 * rm}], R[${2 * rm + 1}], ${dec}); R[${2 * rm + 1}] = H.r64.hi;`);
        } else {
          o.push(`R[${2 * rm}] = H.incDec(cpu, 4, R[${2 * rm}], ${dec}); R[${2 * rm + 1}] = 0;`);
        }
        return true;
      }
      case FK_MOV8_LD: {
        let v: string;
        if (isMem) {
          this.faultPoint(i, rip);
          this.linear(c, ci, end, 1, false);
          o.push('t = cpu.read8(la);');
          v = 't';
        } else {
          o.push(`t = ${this.reg8(rm, rex)};`);
          v = 't';
        }
        o.push(this.setReg8(reg, rex, v));
        return true;
      }
    }
    return false;
  }
}

/**
 * Instructions the block may run through the interpreter and continue after: register
 * forms (no memory operand: a store could hit the block's own code) of ModRM instructions
 * other than group 5 (PUSH/CALL/JMP r/m), MOV Sreg (segments stay as flatPrologue found them) and the system opcodes 0F 00/01, MOV CR/DR, the
 * MSR/SYSENTER row; and a few register-only one-byte opcodes.
 */
function inlineable(c: DecodeCache, ci: number): boolean {
  const op = c.op[ci]!;
  const f = c.flags[ci]!;
  // Also instructions that only read memory (no store can hit the block's code): DIV/IDIV
  // m (F6/F7 /6 /7: the i386 kernel's lib/mpi divides by a limb in memory).
  if ((f & (DCF_MODRM | DCF_ISMEM)) === (DCF_MODRM | DCF_ISMEM) && (op === 0xf6 || op === 0xf7) && (c.reg[ci]! & 6) === 6) return true;
  if (f & DCF_MODRM) {
    if (f & DCF_ISMEM) return false;
    if (op === 0xff) return false;
    // MOV Sreg, r: a segment may change only where a block ends (flatPrologue).
    if (op === 0x8e) return false;
    if (op === 0x0f) {
      const w = c.opEnd[ci]!;
      const op2 = byteOf(c, ci, w);
      if (op2 <= 0x01 || (op2 >= 0x20 && op2 <= 0x23) || (op2 >= 0x30 && op2 <= 0x37)) return false;
    }
    return true;
  }
  if (op < 0x40) return (op & 7) === 4 || (op & 7) === 5;
  if (op >= 0x40 && op <= 0x4f) return c.mode64[ci] === 0;
  if (op >= 0x90 && op <= 0x99) return true;
  if (op >= 0xb0 && op <= 0xbf) return true;
  switch (op) {
    case 0x9e: case 0x9f: case 0xa8: case 0xa9: case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd:
      return true;
    // LODS, SCAS and CMPS without REP only read memory: the i386 kernel's strcmp/strchr
    // loops (arch/x86/lib/string_32.c: LODSB; SCASB; JNE) run compiled around them.
    case 0xa6: case 0xa7: case 0xac: case 0xad: case 0xae: case 0xaf:
      return c.rep[ci] === 0;
    case 0x0f: {
      const op2 = byteOf(c, ci, c.opEnd[ci]!);
      return op2 >= 0xc8 && op2 <= 0xcf;
    }
  }
  return false;
}

/** Byte k of the instruction bytes of entry ci. */
function byteOf(c: DecodeCache, ci: number, k: number): number {
  const w = k < 4 ? c.w0[ci]! : k < 8 ? c.w1[ci]! : k < 12 ? c.w2[ci]! : c.w3[ci]!;
  return (w >>> (8 * (k & 3))) & 0xff;
}
