/**
 * Integer arithmetic with its EFLAGS effects (SDM Vol. 1 Appendix A, Vol. 2 per
 * instruction): the eight ALU operations, INC/DEC, shifts and rotates, for 8/16/32-bit
 * operands as unsigned numbers and 64-bit operands as lo/hi Int32 halves. Flags are
 * computed eagerly into cpu.flags; 64-bit results return the low half and leave the high
 * half in `r64.hi`.
 */
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './constants';
import type { X86Cpu } from './cpu';

const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
const TWO32 = 0x1_0000_0000;

/** PF for each low byte: set when the number of 1 bits is even. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  let n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = n & 1 ? 0 : FLAG_PF;
}

export const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff];
export const SIGN_BIT = [0, 0x80, 0x8000, 0, 0x80000000];

/** The 64-bit result's high half. */
export const r64 = { hi: 0 };

export const ALU_ADD = 0;
export const ALU_OR = 1;
export const ALU_ADC = 2;
export const ALU_SBB = 3;
export const ALU_AND = 4;
export const ALU_SUB = 5;
export const ALU_XOR = 6;
export const ALU_CMP = 7;

/** ZF, SF, PF of a result of `bytes` bytes (unsigned). */
export function szp(res: number, bytes: number): number {
  return (res === 0 ? FLAG_ZF : 0) | ((res & SIGN_BIT[bytes]!) !== 0 ? FLAG_SF : 0) | PARITY[res & 0xff]!;
}

/**
 * op in ALU_*, bytes 1/2/4. 8/16-bit operands are unsigned; 32-bit operands and the
 * 32-bit result are Int32 (unsigned only inside, so nothing is boxed across calls).
 */
export function alu(cpu: X86Cpu, op: number, bytes: number, a: number, b: number): number {
  if (bytes === 4) { a >>>= 0; b >>>= 0; }
  const mask = SIZE_MASK[bytes]!;
  const sign = SIGN_BIT[bytes]!;
  let res: number;
  let f: number;
  switch (op) {
    case ALU_ADD:
    case ALU_ADC: {
      const cin = op === ALU_ADC ? cpu.flags & FLAG_CF : 0;
      const r = a + b + cin;
      res = bytes === 4 ? r >>> 0 : r & mask;
      f = (r > mask ? FLAG_CF : 0) | ((a ^ b ^ res) & FLAG_AF) | ((((a ^ res) & (b ^ res)) & sign) !== 0 ? FLAG_OF : 0);
      break;
    }
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP: {
      const cin = op === ALU_SBB ? cpu.flags & FLAG_CF : 0;
      const r = a - b - cin;
      res = bytes === 4 ? r >>> 0 : r & mask;
      f = (r < 0 ? FLAG_CF : 0) | ((a ^ b ^ res) & FLAG_AF) | ((((a ^ b) & (a ^ res)) & sign) !== 0 ? FLAG_OF : 0);
      break;
    }
    case ALU_OR:
      res = bytes === 4 ? (a | b) >>> 0 : a | b;
      f = 0;
      break;
    case ALU_AND:
      res = bytes === 4 ? (a & b) >>> 0 : a & b;
      f = 0;
      break;
    default:
      res = bytes === 4 ? (a ^ b) >>> 0 : a ^ b;
      f = 0;
      break;
  }
  cpu.flags = (cpu.flags & ~ARITH) | f | szp(res, bytes);
  return bytes === 4 ? res | 0 : res;
}

/**
 * alu() for 32-bit operands, in Int32 arithmetic throughout (the interpreter's fast forms
 * call it for every 32-bit ALU instruction; the generic alu's unsigned doubles and table
 * lookups cost it a tenth of the interpreter's time). ADC and SBB take the generic path.
 */
export function alu32(cpu: X86Cpu, op: number, a: number, b: number): number {
  a |= 0;
  b |= 0;
  let res: number;
  let f: number;
  switch (op) {
    case ALU_ADD:
      res = (a + b) | 0;
      f = ((res >>> 0) < (a >>> 0) ? FLAG_CF : 0) | ((a ^ b ^ res) & FLAG_AF) | (((a ^ res) & (b ^ res)) < 0 ? FLAG_OF : 0);
      break;
    case ALU_SUB:
    case ALU_CMP:
      res = (a - b) | 0;
      f = ((a >>> 0) < (b >>> 0) ? FLAG_CF : 0) | ((a ^ b ^ res) & FLAG_AF) | (((a ^ b) & (a ^ res)) < 0 ? FLAG_OF : 0);
      break;
    case ALU_OR: res = a | b; f = 0; break;
    case ALU_AND: res = a & b; f = 0; break;
    case ALU_XOR: res = a ^ b; f = 0; break;
    default: return alu(cpu, op, 4, a, b);
  }
  cpu.flags = (cpu.flags & ~ARITH) | f | (res === 0 ? FLAG_ZF : 0) | (res < 0 ? FLAG_SF : 0) | PARITY[res & 0xff]!;
  return res;
}

/** 64-bit ALU on halves. */
export function alu64(cpu: X86Cpu, op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  let lo: number;
  let hi: number;
  let f: number;
  switch (op) {
    case ALU_ADD:
    case ALU_ADC: {
      const cin = op === ALU_ADC ? cpu.flags & FLAG_CF : 0;
      const l = (alo >>> 0) + (blo >>> 0) + cin;
      const h = (ahi >>> 0) + (bhi >>> 0) + (l >= TWO32 ? 1 : 0);
      lo = l | 0;
      hi = h | 0;
      f = (h >= TWO32 ? FLAG_CF : 0) | ((alo ^ blo ^ lo) & FLAG_AF) | (((ahi ^ hi) & (bhi ^ hi)) < 0 ? FLAG_OF : 0);
      break;
    }
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP: {
      const cin = op === ALU_SBB ? cpu.flags & FLAG_CF : 0;
      const l = (alo >>> 0) - (blo >>> 0) - cin;
      const h = (ahi >>> 0) - (bhi >>> 0) - (l < 0 ? 1 : 0);
      lo = l | 0;
      hi = h | 0;
      f = (h < 0 ? FLAG_CF : 0) | ((alo ^ blo ^ lo) & FLAG_AF) | (((ahi ^ bhi) & (ahi ^ hi)) < 0 ? FLAG_OF : 0);
      break;
    }
    case ALU_OR: lo = alo | blo; hi = ahi | bhi; f = 0; break;
    case ALU_AND: lo = alo & blo; hi = ahi & bhi; f = 0; break;
    default: lo = alo ^ blo; hi = ahi ^ bhi; f = 0; break;
  }
  cpu.flags = (cpu.flags & ~ARITH) | f | szp64(lo, hi);
  r64.hi = hi;
  return lo;
}

export function szp64(lo: number, hi: number): number {
  return ((lo | hi) === 0 ? FLAG_ZF : 0) | (hi < 0 ? FLAG_SF : 0) | PARITY[lo & 0xff]!;
}

/** INC (dec=false) / DEC: CF is preserved. */
export function incDec(cpu: X86Cpu, bytes: number, a: number, dec: boolean): number {
  const cf = cpu.flags & FLAG_CF;
  const res = alu(cpu, dec ? ALU_SUB : ALU_ADD, bytes, a, 1);
  cpu.flags = (cpu.flags & ~FLAG_CF) | cf;
  return res;
}

export function incDec64(cpu: X86Cpu, lo: number, hi: number, dec: boolean): number {
  const cf = cpu.flags & FLAG_CF;
  const res = alu64(cpu, dec ? ALU_SUB : ALU_ADD, lo, hi, 1, 0);
  cpu.flags = (cpu.flags & ~FLAG_CF) | cf;
  return res;
}

/**
 * Group 2 shifts/rotates (ROL ROR RCL RCR SHL SHR SAL SAR = 0..7) for 1/2/4 bytes.
 * count is already masked (5 bits). A zero count changes nothing, flags included.
 */
export function shift(cpu: X86Cpu, op: number, bytes: number, a: number, count: number): number {
  if (count === 0) return a;
  if (bytes === 4) return shiftU(cpu, op, bytes, a >>> 0, count) | 0;
  return shiftU(cpu, op, bytes, a, count);
}

function shiftU(cpu: X86Cpu, op: number, bytes: number, a: number, count: number): number {
  const bits = bytes * 8;
  const mask = SIZE_MASK[bytes]!;
  const sign = SIGN_BIT[bytes]!;
  let res: number;
  let cf: number;
  let of: number;
  let flags = cpu.flags;
  switch (op) {
    case 0: { // ROL
      const c = count % bits;
      res = c === 0 ? a : ((a << c) | (a >>> (bits - c))) & mask;
      if (bytes === 4) res >>>= 0;
      cf = res & 1;
      of = ((res & sign) !== 0 ? 1 : 0) ^ cf;
      cpu.flags = (flags & ~(FLAG_CF | FLAG_OF)) | cf | (of ? FLAG_OF : 0);
      return res;
    }
    case 1: { // ROR
      const c = count % bits;
      res = c === 0 ? a : ((a >>> c) | (a << (bits - c))) & mask;
      if (bytes === 4) res >>>= 0;
      cf = (res & sign) !== 0 ? 1 : 0;
      of = (((res << 1) ^ res) & sign) !== 0 ? 1 : 0;
      cpu.flags = (flags & ~(FLAG_CF | FLAG_OF)) | cf | (of ? FLAG_OF : 0);
      return res;
    }
    case 2: { // RCL: rotate through CF, (bits+1)-bit rotation
      const c = count % (bits + 1);
      res = a;
      cf = flags & FLAG_CF;
      for (let i = 0; i < c; i++) {
        const out = (res & sign) !== 0 ? 1 : 0;
        res = ((res << 1) | cf) & mask;
        if (bytes === 4) res >>>= 0;
        cf = out;
      }
      of = ((res & sign) !== 0 ? 1 : 0) ^ cf;
      cpu.flags = (flags & ~(FLAG_CF | FLAG_OF)) | cf | (of ? FLAG_OF : 0);
      return res;
    }
    case 3: { // RCR
      const c = count % (bits + 1);
      res = a;
      cf = flags & FLAG_CF;
      of = (((res & sign) !== 0 ? 1 : 0) ^ cf);
      for (let i = 0; i < c; i++) {
        const out = res & 1;
        res = (res >>> 1) | (cf ? sign : 0);
        if (bytes === 4) res >>>= 0;
        cf = out;
      }
      cpu.flags = (flags & ~(FLAG_CF | FLAG_OF)) | cf | (of ? FLAG_OF : 0);
      return res;
    }
    case 4:
    case 6: { // SHL/SAL
      if (count > bits) {
        res = 0;
        cf = 0;
      } else {
        cf = count === bits ? a & 1 : (a >>> (bits - count)) & 1;
        res = count === 32 ? 0 : (a << count) & mask;
        if (bytes === 4) res >>>= 0;
      }
      of = ((res & sign) !== 0 ? 1 : 0) ^ cf;
      break;
    }
    case 5: { // SHR
      cf = count > bits ? 0 : (a >>> (count - 1)) & 1;
      res = count >= 32 ? 0 : a >>> count;
      of = (a & sign) !== 0 ? 1 : 0;
      break;
    }
    default: { // SAR
      const sa = bytes === 4 ? a | 0 : bytes === 2 ? (a << 16) >> 16 : (a << 24) >> 24;
      const c = count > bits - 1 ? bits - 1 : count;
      cf = (sa >> (count >= bits ? bits - 1 : count - 1)) & 1;
      res = (sa >> c) & mask;
      if (bytes === 4) res >>>= 0;
      of = 0;
      break;
    }
  }
  flags &= ~ARITH;
  cpu.flags = flags | cf | (of ? FLAG_OF : 0) | szp(res, bytes);
  return res;
}

/** 64-bit shifts/rotates on halves (count masked to 6 bits). */
export function shift64(cpu: X86Cpu, op: number, lo: number, hi: number, count: number): number {
  if (count === 0) { r64.hi = hi; return lo; }
  let rl = lo;
  let rh = hi;
  let cf = 0;
  let of = 0;
  const flags = cpu.flags;
  switch (op) {
    case 0: // ROL
    case 1: // ROR
    case 2: // RCL
    case 3: { // RCR
      cf = flags & FLAG_CF;
      const n = op <= 1 ? count : count % 65;
      if (op === 3) of = ((rh < 0 ? 1 : 0) ^ cf);
      for (let i = 0; i < n; i++) {
        if (op === 0 || op === 2) {
          const out = rh < 0 ? 1 : 0;
          const inb = op === 0 ? out : cf;
          rh = (rh << 1) | (rl >>> 31);
          rl = (rl << 1) | inb;
          cf = out;
        } else {
          const out = rl & 1;
          const inb = op === 1 ? out : cf;
          rl = (rl >>> 1) | (rh << 31);
          rh = (rh >>> 1) | (inb << 31);
          cf = out;
        }
      }
      if (op === 0) { cf = rl & 1; of = (rh < 0 ? 1 : 0) ^ cf; }
      else if (op === 1) { cf = rh < 0 ? 1 : 0; of = ((rh ^ (rh << 1)) < 0) ? 1 : 0; }
      else if (op === 2) of = (rh < 0 ? 1 : 0) ^ cf;
      cpu.flags = (flags & ~(FLAG_CF | FLAG_OF)) | cf | (of ? FLAG_OF : 0);
      r64.hi = rh | 0;
      return rl | 0;
    }
    case 4:
    case 6: // SHL
      if (count < 32) {
        cf = (rh >>> (32 - count)) & 1;
        rh = (rh << count) | (count === 0 ? 0 : rl >>> (32 - count));
        rl = rl << count;
      } else {
        cf = count === 32 ? rh & 1 : (rl >>> (64 - count)) & 1;
        rh = count === 32 ? rl : rl << (count - 32);
        rl = 0;
      }
      of = (rh < 0 ? 1 : 0) ^ cf;
      break;
    case 5: // SHR
      of = hi < 0 ? 1 : 0;
      if (count < 32) {
        cf = (rl >>> (count - 1)) & 1;
        rl = (rl >>> count) | (rh << (32 - count));
        rh = rh >>> count;
      } else {
        cf = count === 32 ? rl >>> 31 : (rh >>> (count - 33)) & 1;
        rl = count === 32 ? rh : rh >>> (count - 32);
        rh = 0;
      }
      break;
    default: // SAR
      if (count < 32) {
        cf = (rl >>> (count - 1)) & 1;
        rl = (rl >>> count) | (rh << (32 - count));
        rh = rh >> count;
      } else {
        cf = count === 32 ? rl >>> 31 : (rh >> (count - 33)) & 1;
        rl = count === 32 ? rh : rh >> (count - 32);
        rh = rh >> 31;
      }
      of = 0;
      break;
  }
  rl |= 0;
  rh |= 0;
  cpu.flags = (flags & ~ARITH) | cf | (of ? FLAG_OF : 0) | szp64(rl, rh);
  r64.hi = rh;
  return rl;
}

const TWO_M32 = 2 ** -32;

/**
 * High word of the unsigned product of 32-bit values a, b (as uint32) whose low word is lo
 * (Math.imul): the double product is within 2^11 of exact and so is p - lo, far inside the
 * 2^32 step between candidate high words, so rounding (p - lo) / 2^32 gives it exactly.
 */
function mulHiU32(a: number, b: number, lo: number): number {
  return ((a * b - lo) * TWO_M32 + 0.5) >>> 0;
}

/**
 * Unsigned 64x64 -> 128 multiply into out[0..3] (little-endian 32-bit words): four
 * 32x32 -> 64 products (Math.imul for each low word) and their column sums, which stay
 * below 2^35 and so are exact in doubles.
 */
export function mulu64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array): void {
  const a0 = alo >>> 0, a1 = ahi >>> 0, b0 = blo >>> 0, b1 = bhi >>> 0;
  const l00 = Math.imul(alo, blo) >>> 0;
  const h00 = mulHiU32(a0, b0, l00);
  const l01 = Math.imul(alo, bhi) >>> 0;
  const h01 = mulHiU32(a0, b1, l01);
  const l10 = Math.imul(ahi, blo) >>> 0;
  const h10 = mulHiU32(a1, b0, l10);
  const l11 = Math.imul(ahi, bhi) >>> 0;
  const h11 = mulHiU32(a1, b1, l11);
  const mid = h00 + l01 + l10;
  const w1 = mid >>> 0;
  const high = h01 + h10 + l11 + (mid - w1) * TWO_M32;
  const w2 = high >>> 0;
  out[0] = l00;
  out[1] = w1;
  out[2] = w2;
  out[3] = h11 + (high - w2) * TWO_M32;
}

/** Signed 64x64 -> 128 multiply (two's complement correction of the unsigned product). */
export function muls64(alo: number, ahi: number, blo: number, bhi: number, out: Int32Array): void {
  mulu64(alo, ahi, blo, bhi, out);
  // high -= (a < 0 ? b : 0) + (b < 0 ? a : 0), as 64-bit subtractions on out[2..3].
  if (ahi < 0) sub128hi(out, blo, bhi);
  if (bhi < 0) sub128hi(out, alo, ahi);
}

function sub128hi(out: Int32Array, lo: number, hi: number): void {
  const l = (out[2]! >>> 0) - (lo >>> 0);
  const h = (out[3]! >>> 0) - (hi >>> 0) - (l < 0 ? 1 : 0);
  out[2] = l | 0;
  out[3] = h | 0;
}

const ARITH_MUL = ARITH;

/**
 * IMUL (two- and three-operand forms) at 64 bits, truncated: returns the low half and
 * leaves the high half in r64.hi. CF = OF = the signed product does not fit 64 bits; SF
 * and PF from the result, ZF and AF clear (as imul3 in execute.ts).
 */
export function imul64(cpu: X86Cpu, alo: number, ahi: number, blo: number, bhi: number): number {
  let lo: number;
  let hi: number;
  let of: boolean;
  if (ahi === alo >> 31 && bhi === blo >> 31) {
    // Both operands are sign-extended 32-bit values: the product fits in 63 bits.
    lo = Math.imul(alo, blo);
    hi = mulHiS32(alo, blo, lo);
    of = false;
  } else if ((ahi | bhi) === 0) {
    // Both operands below 2^32 (the 32x32 partial products of a multi-word multiply, as
    // in Linux's lib/mpi): the product is exact in 64 bits and fits iff bit 63 is clear.
    lo = Math.imul(alo, blo);
    hi = mulHiU32(alo >>> 0, blo >>> 0, lo >>> 0) | 0;
    of = hi < 0;
  } else {
    muls64(alo, ahi, blo, bhi, imulOut);
    lo = imulOut[0]!;
    hi = imulOut[1]!;
    of = imulOut[2] !== hi >> 31 || imulOut[3] !== hi >> 31;
  }
  cpu.flags = (cpu.flags & ~ARITH_MUL) | (of ? FLAG_CF | FLAG_OF : 0) | (hi < 0 ? FLAG_SF : 0) | PARITY[lo & 0xff]!;
  r64.hi = hi;
  return lo;
}

const imulOut = new Int32Array(4);

/** High word of the signed 64-bit product of Int32 a, b with low word lo. */
function mulHiS32(a: number, b: number, lo: number): number {
  // The unsigned high word, corrected for two's complement: signed = unsigned - (a<0)*b*2^32 - (b<0)*a*2^32.
  let h = mulHiU32(a >>> 0, b >>> 0, lo >>> 0);
  if (a < 0) h -= b;
  if (b < 0) h -= a;
  return h | 0;
}

/** IMUL at 32 bits, truncated; flags as imul64 (the double product is exact whenever it fits). */
export function imul32(cpu: X86Cpu, a: number, b: number): number {
  const lo = Math.imul(a, b);
  const of = (a | 0) * (b | 0) !== lo;
  cpu.flags = (cpu.flags & ~ARITH_MUL) | (of ? FLAG_CF | FLAG_OF : 0) | (lo < 0 ? FLAG_SF : 0) | PARITY[lo & 0xff]!;
  return lo;
}
