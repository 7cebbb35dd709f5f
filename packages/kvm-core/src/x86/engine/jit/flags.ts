/**
 * Lazy flags of compiled blocks. A compiled ADD/SUB/CMP/AND/OR/XOR/TEST does not compute
 * EFLAGS: it leaves its operands and result in the block's locals (fa fb fr, and the high
 * halves fah fbh frh for 64-bit operands) and the compiler remembers, at compile time,
 * which kind of operation set them last (a Pending). A Jcc or CMOVcc reads the condition
 * straight from those operands (CMP+JL is one signed compare); anything else that observes
 * EFLAGS (a helper that reads or merges flags, the block's exit, a fault or exit in the
 * middle of the block) first materialises them into cpu.flags with the functions below,
 * which compute exactly what alu()/alu64() in ../alu.ts compute.
 */
import { PARITY } from '../alu';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_SF, FLAG_ZF, FLAGS_ARITH } from '../constants';

const TWO32 = 0x1_0000_0000;

/** What set the arithmetic flags last (compile-time state of the block compiler). */
export const PEND_NONE = 0;
export const PEND_ADD32 = 1;
export const PEND_SUB32 = 2;
export const PEND_LOGIC32 = 3;
export const PEND_ADD64 = 4;
export const PEND_SUB64 = 5;
export const PEND_LOGIC64 = 6;
/**
 * A shift (SHL/SHR/SAR by a nonzero constant): fa holds its CF and OF bits, fr (frh) the
 * result, from which ZF, SF and PF come; AF is clear (as shift()/shift64() in ../alu.ts).
 */
export const PEND_SHIFT32 = 7;
export const PEND_SHIFT64 = 8;
/**
 * Unknown at compile time: a basic block of a region entered from several places. The
 * kind is in the generated code's local `pk` (one of the above, PEND_NONE when cpu.flags
 * is up to date) and the operands in the same locals; flagsDyn materialises it.
 */
export const PEND_DYN = 9;
/**
 * A 32-bit IMUL (two- and three-operand forms): fa and fb hold the Int32 operands, fr the
 * truncated product. CF = OF = the signed product does not fit 32 bits (the double product
 * is exact whenever it fits), SF and PF from fr, ZF and AF clear, as imul32 in ../alu.ts.
 * Lazy because gcc's 32-bit multiword multiply (lib/mpi's umul_ppmm on i386: four IMULs
 * per limb) overwrites these flags right away.
 */
export const PEND_IMUL32 = 10;
/** A 32-bit ADC / SBB: fa, fb the operands, fah the carry in (0 or 1), fr the result. */
export const PEND_ADC32 = 11;
export const PEND_SBB32 = 12;
/**
 * A 64-bit ADC / SBB, only ever a run-time kind (pk; the compile-time state is PEND_DYN):
 * fa fah, fb fbh the operands, fr frh the result, and the carry in is the kind's offset
 * (PEND_ADC64 + cin). Lazy because lib/mpi's 64-bit limb loops (mpihelp_addmul_1,
 * mpihelp_submul_1: one ADC per limb) overwrite these flags right away.
 */
export const PEND_ADC64 = 13;
export const PEND_SBB64 = 15;

/** EFLAGS after a 32-bit ADD of a + b = r (Int32 values), other bits from old. */
export function flagsAdd32(old: number, a: number, b: number, r: number): number {
  const cf = (a >>> 0) + (b >>> 0) > 0xffffffff ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((a ^ r) & (b ^ r)) < 0 ? FLAG_OF : 0) |
    (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 32-bit SUB/CMP of a - b = r. */
export function flagsSub32(old: number, a: number, b: number, r: number): number {
  const cf = (a >>> 0) < (b >>> 0) ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((a ^ b) & (a ^ r)) < 0 ? FLAG_OF : 0) |
    (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 32-bit AND/OR/XOR/TEST with result r: CF, OF, AF clear. */
export function flagsLogic32(old: number, r: number): number {
  return (old & ~FLAGS_ARITH) | (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

export function flagsAdd64(old: number, a: number, ah: number, b: number, bh: number, r: number, rh: number): number {
  const carry = (a >>> 0) + (b >>> 0) >= TWO32 ? 1 : 0;
  const cf = (ah >>> 0) + (bh >>> 0) + carry >= TWO32 ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((ah ^ rh) & (bh ^ rh)) < 0 ? FLAG_OF : 0) |
    ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

export function flagsSub64(old: number, a: number, ah: number, b: number, bh: number, r: number, rh: number): number {
  const borrow = (a >>> 0) < (b >>> 0) ? 1 : 0;
  const cf = (ah >>> 0) - (bh >>> 0) - borrow < 0 ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((ah ^ bh) & (ah ^ rh)) < 0 ? FLAG_OF : 0) |
    ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

export function flagsLogic64(old: number, r: number, rh: number): number {
  return (old & ~FLAGS_ARITH) | ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS with the run-time pending kind pk (PEND_ADD32..PEND_SBB64 + 1) materialised. */
export function flagsDyn(pk: number, old: number, a: number, ah: number, b: number, bh: number, r: number, rh: number): number {
  switch (pk) {
    case PEND_ADD32: return flagsAdd32(old, a, b, r);
    case PEND_SUB32: return flagsSub32(old, a, b, r);
    case PEND_LOGIC32: return flagsLogic32(old, r);
    case PEND_ADD64: return flagsAdd64(old, a, ah, b, bh, r, rh);
    case PEND_SUB64: return flagsSub64(old, a, ah, b, bh, r, rh);
    case PEND_LOGIC64: return flagsLogic64(old, r, rh);
    case PEND_SHIFT32: return flagsShift32(old, a, r);
    case PEND_SHIFT64: return flagsShift64(old, a, r, rh);
    case PEND_IMUL32: return flagsImul32(old, a, b, r);
    case PEND_ADC32: return flagsAdc32(old, a, b, ah, r);
    case PEND_SBB32: return flagsSbb32(old, a, b, ah, r);
    case PEND_ADC64: case PEND_ADC64 + 1: return flagsAdc64(old, a, ah, b, bh, pk - PEND_ADC64, r, rh);
    case PEND_SBB64: case PEND_SBB64 + 1: return flagsSbb64(old, a, ah, b, bh, pk - PEND_SBB64, r, rh);
    default: return old;
  }
}

/** EFLAGS after a 32-bit IMUL of a * b truncated to r (imul32 in ../alu.ts). */
export function flagsImul32(old: number, a: number, b: number, r: number): number {
  return (old & ~FLAGS_ARITH) | (a * b !== r ? FLAG_CF | FLAG_OF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 32-bit ADC of a + b + cin = r (Int32 values), as alu() computes them. */
export function flagsAdc32(old: number, a: number, b: number, cin: number, r: number): number {
  const cf = (a >>> 0) + (b >>> 0) + cin > 0xffffffff ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((a ^ r) & (b ^ r)) < 0 ? FLAG_OF : 0) |
    (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 32-bit SBB of a - b - cin = r. */
export function flagsSbb32(old: number, a: number, b: number, cin: number, r: number): number {
  const cf = (a >>> 0) - (b >>> 0) - cin < 0 ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((a ^ b) & (a ^ r)) < 0 ? FLAG_OF : 0) |
    (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 64-bit ADC, as alu64() computes them. */
export function flagsAdc64(old: number, a: number, ah: number, b: number, bh: number, cin: number, r: number, rh: number): number {
  const carry = (a >>> 0) + (b >>> 0) + cin >= TWO32 ? 1 : 0;
  const cf = (ah >>> 0) + (bh >>> 0) + carry >= TWO32 ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((ah ^ rh) & (bh ^ rh)) < 0 ? FLAG_OF : 0) |
    ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 64-bit SBB. */
export function flagsSbb64(old: number, a: number, ah: number, b: number, bh: number, cin: number, r: number, rh: number): number {
  const borrow = (a >>> 0) - (b >>> 0) - cin < 0 ? 1 : 0;
  const cf = (ah >>> 0) - (bh >>> 0) - borrow < 0 ? FLAG_CF : 0;
  return (old & ~FLAGS_ARITH) | cf | ((a ^ b ^ r) & FLAG_AF) | (((ah ^ bh) & (ah ^ rh)) < 0 ? FLAG_OF : 0) |
    ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** EFLAGS after a 32-bit shift: co = its CF | OF bits, r the result. */
export function flagsShift32(old: number, co: number, r: number): number {
  return (old & ~FLAGS_ARITH) | co | (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

export function flagsShift64(old: number, co: number, r: number, rh: number): number {
  return (old & ~FLAGS_ARITH) | co | ((r | rh) === 0 ? FLAG_ZF : 0) | (rh < 0 ? FLAG_SF : 0) | PARITY[r & 0xff]!;
}

/** A JS expression for EFLAGS with pending state p materialised (the generated code's helpers are F.*). */
export function materialiseExpr(p: number): string {
  switch (p) {
    case PEND_ADD32: return 'F.flagsAdd32(cpu.flags, fa, fb, fr)';
    case PEND_SUB32: return 'F.flagsSub32(cpu.flags, fa, fb, fr)';
    case PEND_LOGIC32: return 'F.flagsLogic32(cpu.flags, fr)';
    case PEND_ADD64: return 'F.flagsAdd64(cpu.flags, fa, fah, fb, fbh, fr, frh)';
    case PEND_SUB64: return 'F.flagsSub64(cpu.flags, fa, fah, fb, fbh, fr, frh)';
    case PEND_LOGIC64: return 'F.flagsLogic64(cpu.flags, fr, frh)';
    case PEND_DYN: return '(pk === 0 ? cpu.flags : F.flagsDyn(pk, cpu.flags, fa, fah, fb, fbh, fr, frh))';
    case PEND_SHIFT32: return 'F.flagsShift32(cpu.flags, fa, fr)';
    case PEND_SHIFT64: return 'F.flagsShift64(cpu.flags, fa, fr, frh)';
    case PEND_IMUL32: case PEND_ADC32: case PEND_SBB32: return `F.flagsDyn(${p}, cpu.flags, fa, fah, fb, fbh, fr, frh)`;
    default: return 'cpu.flags';
  }
}

/** The statement that materialises pending state p into cpu.flags ('' when nothing is pending). */
export function materialiseStmt(p: number): string {
  if (p === PEND_DYN) return 'if (pk !== 0) { cpu.flags = F.flagsDyn(pk, cpu.flags, fa, fah, fb, fbh, fr, frh); pk = 0; }';
  return p === PEND_NONE ? '' : `cpu.flags = ${materialiseExpr(p)};`;
}

/**
 * The statement handing compile-time pending state p to the run-time kind `pk` (a block
 * boundary or the exit, where flagsDyn materialises it): nothing when p is PEND_DYN.
 */
export function pendingKind(p: number): string {
  return p === PEND_DYN ? '' : `pk = ${p};`;
}

/**
 * A JS boolean expression for condition cc (the Jcc/CMOVcc/SETcc encoding) read directly
 * from the pending operands, or null when this pairing needs materialised flags.
 */
export function directCondition(p: number, cc: number): string | null {
  const e = directCondition0(p, cc >> 1);
  if (e === null) return null;
  return cc & 1 ? `!(${e})` : `(${e})`;
}

function directCondition0(p: number, c: number): string | null {
  switch (p) {
    case PEND_SUB32:
      switch (c) {
        case 0: return '((fa ^ fb) & (fa ^ fr)) < 0';
        case 1: return '(fa >>> 0) < (fb >>> 0)';
        case 2: return 'fr === 0';
        case 3: return '(fa >>> 0) <= (fb >>> 0)';
        case 4: return 'fr < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        case 6: return 'fa < fb';
        default: return 'fa <= fb';
      }
    case PEND_LOGIC32:
      switch (c) {
        case 0: case 1: return 'false';
        case 2: case 3: return 'fr === 0';
        case 4: case 6: return 'fr < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return 'fr <= 0';
      }
    case PEND_ADD32:
      switch (c) {
        case 1: return '(fa >>> 0) + (fb >>> 0) > 4294967295';
        case 2: return 'fr === 0';
        case 4: return 'fr < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return null;
      }
    case PEND_SUB64:
      switch (c) {
        case 1: return 'fah !== fbh ? (fah >>> 0) < (fbh >>> 0) : (fa >>> 0) < (fb >>> 0)';
        case 2: return 'fr === 0 && frh === 0';
        case 3: return 'fah !== fbh ? (fah >>> 0) < (fbh >>> 0) : (fa >>> 0) <= (fb >>> 0)';
        case 4: return 'frh < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        case 6: return 'fah !== fbh ? fah < fbh : (fa >>> 0) < (fb >>> 0)';
        case 7: return 'fah !== fbh ? fah < fbh : (fa >>> 0) <= (fb >>> 0)';
        default: return null;
      }
    case PEND_LOGIC64:
      switch (c) {
        case 0: case 1: return 'false';
        case 2: case 3: return '(fr | frh) === 0';
        case 4: case 6: return 'frh < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return 'frh < 0 || (fr | frh) === 0';
      }
    case PEND_SHIFT32:
    case PEND_SHIFT64: {
      const z = p === PEND_SHIFT32 ? 'fr === 0' : '(fr | frh) === 0';
      const sf = p === PEND_SHIFT32 ? 'fr < 0' : 'frh < 0';
      switch (c) {
        case 0: return '(fa & 2048) !== 0';
        case 1: return '(fa & 1) !== 0';
        case 2: return z;
        case 3: return `(fa & 1) !== 0 || ${z}`;
        case 4: return sf;
        case 5: return 'F.PARITY[fr & 255] !== 0';
        case 6: return `(${sf}) !== ((fa & 2048) !== 0)`;
        default: return `${z} || (${sf}) !== ((fa & 2048) !== 0)`;
      }
    }
    case PEND_IMUL32: {
      const of = 'fa * fb !== fr';
      switch (c) {
        case 0: case 1: case 3: return of;
        case 2: return 'false';
        case 4: return 'fr < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return `(fr < 0) !== (${of})`;
      }
    }
    case PEND_ADC32:
    case PEND_SBB32:
      switch (c) {
        case 1: return p === PEND_ADC32 ? '(fa >>> 0) + (fb >>> 0) + fah > 4294967295' : '(fa >>> 0) - (fb >>> 0) - fah < 0';
        case 2: return 'fr === 0';
        case 4: return 'fr < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return null;
      }
    case PEND_ADD64:
      switch (c) {
        case 1: return '(fah >>> 0) + (fbh >>> 0) + ((fa >>> 0) + (fb >>> 0) > 4294967295 ? 1 : 0) > 4294967295';
        case 2: return '(fr | frh) === 0';
        case 4: return 'frh < 0';
        case 5: return 'F.PARITY[fr & 255] !== 0';
        default: return null;
      }
  }
  return null;
}
