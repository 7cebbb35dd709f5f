/**
 * Integer arithmetic on 32-bit halves with z/Architecture condition codes. Results of
 * 64-bit operations land in cpu.r0 (high) / cpu.r1 (low); nothing allocates.
 */
import type { S390Cpu } from './cpu';
import { PGM_FIXPOINT_OVERFLOW } from './pgm';
import { PM_FIXED_OVERFLOW } from './psw';

const TWO32 = 4294967296;

/** cc for a signed 32-bit result: 0 zero, 1 negative, 2 positive. */
export function ccS32(v: number): number {
  return v === 0 ? 0 : (v | 0) < 0 ? 1 : 2;
}

/** cc for a signed 64-bit result hi:lo. */
export function ccS64(hi: number, lo: number): number {
  if ((hi | 0) < 0) return 1;
  return hi === 0 && lo === 0 ? 0 : 2;
}

/** Signed compare of two numbers: 0 equal, 1 first low, 2 first high. */
export function ccCmp(a: number, b: number): number {
  return a === b ? 0 : a < b ? 1 : 2;
}

/** Signed 64-bit compare of ah:al with bh:bl. */
export function ccCmp64(ah: number, al: number, bh: number, bl: number): number {
  const sa = ah | 0;
  const sb = bh | 0;
  if (sa !== sb) return sa < sb ? 1 : 2;
  al >>>= 0;
  bl >>>= 0;
  return al === bl ? 0 : al < bl ? 1 : 2;
}

/** Unsigned 64-bit compare. */
export function ccCmpU64(ah: number, al: number, bh: number, bl: number): number {
  ah >>>= 0;
  bh >>>= 0;
  if (ah !== bh) return ah < bh ? 1 : 2;
  al >>>= 0;
  bl >>>= 0;
  return al === bl ? 0 : al < bl ? 1 : 2;
}

/** Raise fixed-point overflow after the result is stored, if the program mask allows. */
export function fixedOverflow(c: S390Cpu): void {
  c.cc = 3;
  if (c.pswMask0 & PM_FIXED_OVERFLOW) c.pgm(PGM_FIXPOINT_OVERFLOW);
}

/** Signed 32-bit add; returns the result and sets cc (overflow raises after store via post). */
export function addS32(c: S390Cpu, a: number, b: number): number {
  const r = (a + b) | 0;
  c.cc = ((a ^ r) & (b ^ r)) < 0 ? 3 : ccS32(r);
  return r;
}

export function subS32(c: S390Cpu, a: number, b: number): number {
  const r = (a - b) | 0;
  c.cc = ((a ^ b) & (a ^ r)) < 0 ? 3 : ccS32(r);
  return r;
}

/** Logical 32-bit add with carry-in; cc = (nonzero) | (carry << 1). */
export function addU32(c: S390Cpu, a: number, b: number, carryIn: number): number {
  const s = (a >>> 0) + (b >>> 0) + carryIn;
  const r = s >>> 0;
  c.cc = (r !== 0 ? 1 : 0) | (s > 0xffffffff ? 2 : 0);
  return r;
}

/** Logical 32-bit subtract with borrow-in (borrowIn = 1 means a borrow is pending). */
export function subU32(c: S390Cpu, a: number, b: number, borrowIn: number): number {
  const s = (a >>> 0) + ((~b) >>> 0) + 1 - borrowIn;
  const r = s >>> 0;
  c.cc = (r !== 0 ? 1 : 0) | (s > 0xffffffff ? 2 : 0);
  return r;
}

/** Signed 64-bit add ah:al + bh:bl into r0:r1, cc set (3 on overflow). */
export function addS64(c: S390Cpu, ah: number, al: number, bh: number, bl: number): void {
  const s = (al >>> 0) + (bl >>> 0);
  const lo = s >>> 0;
  const hi = ((ah >>> 0) + (bh >>> 0) + (s > 0xffffffff ? 1 : 0)) | 0;
  c.r0 = hi >>> 0;
  c.r1 = lo;
  c.cc = ((ah ^ hi) & (bh ^ hi)) < 0 ? 3 : ccS64(hi, lo);
}

export function subS64(c: S390Cpu, ah: number, al: number, bh: number, bl: number): void {
  const s = (al >>> 0) + ((~bl) >>> 0) + 1;
  const lo = s >>> 0;
  const hi = ((ah >>> 0) + ((~bh) >>> 0) + (s > 0xffffffff ? 1 : 0)) | 0;
  c.r0 = hi >>> 0;
  c.r1 = lo;
  c.cc = ((ah ^ bh) & (ah ^ hi)) < 0 ? 3 : ccS64(hi, lo);
}

/** Logical 64-bit add with carry-in into r0:r1. */
export function addU64(c: S390Cpu, ah: number, al: number, bh: number, bl: number, carryIn: number): void {
  const s = (al >>> 0) + (bl >>> 0) + carryIn;
  const lo = s >>> 0;
  const t = (ah >>> 0) + (bh >>> 0) + (s > 0xffffffff ? 1 : 0);
  const hi = t >>> 0;
  c.r0 = hi;
  c.r1 = lo;
  c.cc = ((hi | lo) !== 0 ? 1 : 0) | (t > 0xffffffff ? 2 : 0);
}

/** Logical 64-bit subtract with borrow-in into r0:r1. */
export function subU64(c: S390Cpu, ah: number, al: number, bh: number, bl: number, borrowIn: number): void {
  const s = (al >>> 0) + ((~bl) >>> 0) + 1 - borrowIn;
  const lo = s >>> 0;
  const t = (ah >>> 0) + ((~bh) >>> 0) + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0);
  const hi = t >>> 0;
  c.r0 = hi;
  c.r1 = lo;
  c.cc = ((hi | lo) !== 0 ? 1 : 0) | (t > 0xffffffff ? 2 : 0);
}

/** Unsigned 32x32 -> 64 multiply into r0:r1. */
export function mulU32(c: S390Cpu, a: number, b: number): void {
  a >>>= 0;
  b >>>= 0;
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const t = a0 * b0 + (mid % 65536) * 65536;
  c.r1 = t >>> 0;
  c.r0 = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(t / TWO32)) >>> 0;
}

/** Signed 32x32 -> 64 multiply into r0:r1. */
export function mulS32(c: S390Cpu, a: number, b: number): void {
  mulU32(c, a, b);
  let hi = c.r0;
  if ((a | 0) < 0) hi = (hi - (b >>> 0)) >>> 0;
  if ((b | 0) < 0) hi = (hi - (a >>> 0)) >>> 0;
  c.r0 = hi;
}

/** Low 64 bits of a 64x64 product into r0:r1 (same for signed and unsigned). */
export function mulLow64(c: S390Cpu, ah: number, al: number, bh: number, bl: number): void {
  mulU32(c, al, bl);
  c.r0 = (c.r0 + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** Unsigned 64x64 -> 128 multiply: r0:r1:r2:r3 (most significant first). */
export function mulU64(c: S390Cpu, ah: number, al: number, bh: number, bl: number): void {
  mulU32(c, al, bl);
  const w3 = c.r1;
  let w2 = c.r0;
  mulU32(c, ah, bl);
  let s = w2 + c.r1;
  w2 = s >>> 0;
  let w1 = c.r0 + Math.floor(s / TWO32);
  mulU32(c, al, bh);
  s = w2 + c.r1;
  w2 = s >>> 0;
  w1 += c.r0 + Math.floor(s / TWO32);
  let w0 = Math.floor(w1 / TWO32);
  w1 >>>= 0;
  mulU32(c, ah, bh);
  s = w1 + c.r1;
  w1 = s >>> 0;
  w0 = (w0 + c.r0 + Math.floor(s / TWO32)) >>> 0;
  c.r0 = w0;
  c.r1 = w1;
  c.r2 = w2;
  c.r3 = w3;
}

/** Signed 64x64 -> 128 multiply (MGRK / MG): r0:r1:r2:r3. */
export function mulS64(c: S390Cpu, ah: number, al: number, bh: number, bl: number): void {
  mulU64(c, ah, al, bh, bl);
  if ((ah | 0) < 0) subHigh(c, bh, bl);
  if ((bh | 0) < 0) subHigh(c, ah, al);
}

function subHigh(c: S390Cpu, h: number, l: number): void {
  const s = (c.r1 >>> 0) - (l >>> 0);
  c.r1 = s >>> 0;
  c.r0 = ((c.r0 >>> 0) - (h >>> 0) - (s < 0 ? 1 : 0)) >>> 0;
}

/** Sign-extended 16-bit immediate. */
export function sext16(v: number): number {
  return (v << 16) >> 16;
}

export function sext8(v: number): number {
  return (v << 24) >> 24;
}

/** Rotate the 64-bit value hi:lo left by n (0..63) into r0:r1. */
export function rotl64(c: S390Cpu, hi: number, lo: number, n: number): void {
  n &= 63;
  if (n >= 32) {
    const t = hi;
    hi = lo;
    lo = t;
    n -= 32;
  }
  if (n === 0) {
    c.r0 = hi >>> 0;
    c.r1 = lo >>> 0;
    return;
  }
  c.r0 = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  c.r1 = ((lo << n) | (hi >>> (32 - n))) >>> 0;
}

/** Shift hi:lo left logically by n (0..63) into r0:r1. */
export function shl64(c: S390Cpu, hi: number, lo: number, n: number): void {
  n &= 63;
  if (n === 0) {
    c.r0 = hi >>> 0;
    c.r1 = lo >>> 0;
  } else if (n < 32) {
    c.r0 = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    c.r1 = (lo << n) >>> 0;
  } else {
    c.r0 = (lo << (n - 32)) >>> 0;
    c.r1 = 0;
  }
}

export function shr64(c: S390Cpu, hi: number, lo: number, n: number): void {
  n &= 63;
  if (n === 0) {
    c.r0 = hi >>> 0;
    c.r1 = lo >>> 0;
  } else if (n < 32) {
    c.r1 = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    c.r0 = hi >>> n;
  } else {
    c.r1 = hi >>> (n - 32);
    c.r0 = 0;
  }
}

export function sar64(c: S390Cpu, hi: number, lo: number, n: number): void {
  n &= 63;
  if (n === 0) {
    c.r0 = hi >>> 0;
    c.r1 = lo >>> 0;
  } else if (n < 32) {
    c.r1 = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    c.r0 = (hi >> n) >>> 0;
  } else {
    c.r1 = (hi >> (n - 32)) >>> 0;
    c.r0 = (hi >> 31) >>> 0;
  }
}

/** Mask of bits [start..end] (MSB-first numbering, wrapping) of a 64-bit value, as r0:r1. */
export function rangeMask64(c: S390Cpu, start: number, end: number): void {
  let hi = 0;
  let lo = 0;
  for (let i = start; ; i = (i + 1) & 63) {
    if (i < 32) hi |= 1 << (31 - i);
    else lo |= 1 << (63 - i);
    if (i === end) break;
  }
  c.r0 = hi >>> 0;
  c.r1 = lo >>> 0;
}

/**
 * 64/64 unsigned or signed division helpers on numbers when the operands fit 53 bits;
 * the rare wider cases go through BigInt (not on the common path).
 */
export function divRemU128(c: S390Cpu, n0: number, n1: number, n2: number, n3: number, dh: number, dl: number): boolean {
  // Dividend n0:n1:n2:n3 (128-bit), divisor dh:dl. Quotient -> r2:r3, remainder -> r0:r1.
  if (n0 === 0 && n1 === 0 && n2 < 0x200000 && dh < 0x200000) {
    const n = n2 * TWO32 + n3;
    const d = dh * TWO32 + dl;
    let q = Math.floor(n / d);
    let r = n - q * d;
    if (r < 0) { q -= 1; r += d; } else if (r >= d) { q += 1; r -= d; }
    c.r2 = Math.floor(q / TWO32) >>> 0; c.r3 = q >>> 0;
    c.r0 = Math.floor(r / TWO32) >>> 0; c.r1 = r >>> 0;
    return true;
  }
  const B = (x: number) => BigInt(x >>> 0);
  const n = (B(n0) << 96n) | (B(n1) << 64n) | (B(n2) << 32n) | B(n3);
  const d = (B(dh) << 32n) | B(dl);
  const q = n / d;
  if (q >> 64n !== 0n) return false;
  const r = n % d;
  c.r2 = Number((q >> 32n) & 0xffffffffn); c.r3 = Number(q & 0xffffffffn);
  c.r0 = Number((r >> 32n) & 0xffffffffn); c.r1 = Number(r & 0xffffffffn);
  return true;
}

/** Signed 64/64 division: quotient -> r2:r3, remainder -> r0:r1; false on overflow. */
export function divRemS64(c: S390Cpu, nh: number, nl: number, dh: number, dl: number): boolean {
  const ns = nh | 0;
  const ds = dh | 0;
  if (ns >= -0x200000 && ns < 0x200000 && ds >= -0x200000 && ds < 0x200000) {
    const n = ns * TWO32 + (nl >>> 0);
    const d = ds * TWO32 + (dl >>> 0);
    const q = Math.trunc(n / d);
    let qq = q;
    let r = n - qq * d;
    // Correct a rounding error of the floating quotient (truncating toward zero).
    if (r !== 0 && (r < 0) !== (n < 0)) { qq += (n < 0) === (d < 0) ? -1 : 1; r = n - qq * d; }
    else if (Math.abs(r) >= Math.abs(d)) { qq += (n < 0) === (d < 0) ? 1 : -1; r = n - qq * d; }
    c.r2 = Math.floor(qq / TWO32) >>> 0; c.r3 = qq >>> 0;
    c.r0 = Math.floor(r / TWO32) >>> 0; c.r1 = r >>> 0;
    return true;
  }
  const S = (h: number, l: number) => BigInt.asIntN(64, (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0));
  const n = S(nh, nl);
  const d = S(dh, dl);
  const q = n / d;
  if (q > 0x7fffffffffffffffn || q < -0x8000000000000000n) return false;
  const r = n % d;
  const qu = BigInt.asUintN(64, q);
  const ru = BigInt.asUintN(64, r);
  c.r2 = Number(qu >> 32n); c.r3 = Number(qu & 0xffffffffn);
  c.r0 = Number(ru >> 32n); c.r1 = Number(ru & 0xffffffffn);
  return true;
}
