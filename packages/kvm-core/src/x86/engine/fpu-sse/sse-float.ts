/**
 * SSE/SSE2 scalar floating point on raw bit patterns, with MXCSR semantics: rounding
 * control, DAZ, FTZ, the six exception flags, and x86's NaN rules (SDM Vol. 1 4.8.3.5,
 * Table 4-7, 11.5.2). Singles are computed in JS doubles (exact for + - * and correct
 * after one extra rounding step that knows the direction of the double's error);
 * doubles are computed in JS doubles with the exact error from TwoSum/TwoProduct, and
 * only results near the overflow/underflow thresholds or denormal operands go to the
 * BigInt rounding of softfloat.ts (a rare path). NaNs never pass through JS
 * arithmetic, so payloads are exact.
 *
 * Per instruction: sseBegin(mxcsr), then element operations, which OR their flags
 * into `sf.flags`; the caller commits (or raises #XM/#UD for unmasked ones).
 */
import {
  FE_DE, FE_IE, FE_OE, FE_PE, FE_UE, FE_ZE, FMT_F64, R, RC_RD, RC_RN, RC_RU, RC_RZ, RM_FTZ,
  RM_OM, RM_UM, bitLength, isqrt, roundPack,
} from './softfloat';

/** Per-instruction control and the flags raised so far. */
export const sf = {
  rc: 0,
  daz: false,
  ftz: false,
  /** MXCSR exception mask bits (bits 12:7 shifted down to FE_* positions). */
  masks: 0x3f,
  flags: 0,
  /** Set by tininess detection mode: x86 detects tininess after rounding. */
  tinyBefore: false,
};

export function sseBegin(mxcsr: number): void {
  sf.rc = (mxcsr >> 13) & 3;
  sf.daz = (mxcsr & 0x40) !== 0;
  sf.ftz = (mxcsr & 0x8000) !== 0;
  sf.masks = (mxcsr >> 7) & 0x3f;
  sf.flags = 0;
}

export const OP_ADD = 0;
export const OP_SUB = 1;
export const OP_MUL = 2;
export const OP_DIV = 3;
export const OP_MIN = 4;
export const OP_MAX = 5;
export const OP_SQRT = 6;

// Scratch views for bit <-> number conversions (no allocation per operation).
const f32b = new Float32Array(1);
const u32b = new Uint32Array(f32b.buffer);
const f64b = new Float64Array(1);
const u64b = new Uint32Array(f64b.buffer);

export function f32ToNum(bits: number): number {
  u32b[0] = bits;
  return f32b[0]!;
}

export function numToF32(x: number): number {
  f32b[0] = x;
  return u32b[0]!;
}

export function f64ToNum(lo: number, hi: number): number {
  u64b[0] = lo;
  u64b[1] = hi;
  return f64b[0]!;
}

/** Result of 64-bit operations. */
export let r64lo = 0;
export let r64hi = 0;
function set64(x: number): void {
  f64b[0] = x;
  r64lo = u64b[0]!;
  r64hi = u64b[1]!;
}
function set64bits(lo: number, hi: number): void {
  r64lo = lo >>> 0;
  r64hi = hi >>> 0;
}

/** 2^k for integer k in [-1022, 1023], exact. */
const POW2 = new Float64Array(2046);
for (let k = -1022; k <= 1023; k++) {
  u64b[0] = 0;
  u64b[1] = (k + 1023) << 20;
  POW2[k + 1022] = f64b[0]!;
}
function pow2(k: number): number {
  return POW2[k + 1022]!;
}

/** Range guards of the double fast paths (beyond them the exact slow path runs). */
const P2_900 = 2 ** 900;
const P2_M900 = 2 ** -900;
const P2_1020 = 2 ** 1020;
const P2_63 = 2 ** 63;
const P2_M1022 = 2 ** -1022;

// ---- classification -------------------------------------------------------------

export function isNaN32(a: number): boolean {
  return (a & 0x7f800000) === 0x7f800000 && (a & 0x7fffff) !== 0;
}
export function isSNaN32(a: number): boolean {
  return isNaN32(a) && (a & 0x400000) === 0;
}
export function isDenorm32(a: number): boolean {
  return (a & 0x7f800000) === 0 && (a & 0x7fffff) !== 0;
}
export function isNaN64(hi: number, lo: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
}
export function isSNaN64(hi: number, lo: number): boolean {
  return isNaN64(hi, lo) && (hi & 0x80000) === 0;
}
export function isDenorm64(hi: number, lo: number): boolean {
  return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0;
}

/** DAZ: denormal source operands read as zero of the same sign. */
export function daz32(a: number): number {
  return sf.daz && isDenorm32(a) ? a & 0x80000000 : a;
}

export const F32_DEFAULT_NAN = 0xffc00000;
export const F64_DEFAULT_NAN_HI = 0xfff80000;

// ---- error-free transformations (for the double fast paths) ----------------------

let tpLo = 0;
/** TwoProduct: a*b = p + tpLo exactly (Dekker/Veltkamp; no overflow/underflow assumed). */
function twoProduct(a: number, b: number, p: number): void {
  const ca = 134217729 * a;
  const ahi = ca - (ca - a);
  const alo = a - ahi;
  const cb = 134217729 * b;
  const bhi = cb - (cb - b);
  const blo = b - bhi;
  tpLo = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo;
}

// ---- rounding a double-with-error-sign to single ----------------------------------

/**
 * Rounds exact = d + (tiny error of sign errSign) to single precision under sf's
 * control; returns the single's bits. d is nonzero and finite (a JS double that is the
 * round-to-nearest double of the exact value, or the exact value itself).
 */
export function roundToF32(d: number, errSign: number): number {
  const neg = d < 0 ? 1 : 0;
  const ad = neg ? -d : d;
  const errMag = neg ? -errSign : errSign;
  const rc = sf.rc;
  let e: number;
  if (ad < 1e-60) {
    e = -1100; // far below single's range: certainly tiny
  } else {
    f64b[0] = ad;
    e = ((u64b[1]! >>> 20) & 0x7ff) - 1023;
    // An exact power of two approached from below has the smaller exponent.
    if (errMag < 0 && (u64b[1]! & 0xfffff) === 0 && u64b[0] === 0) e--;
  }
  let m1 = 0;
  let E1 = e;
  let inexact1 = false;
  if (e > -1000) {
    const q1 = pow2(e - 23);
    m1 = roundMag(ad / q1, errMag, neg, rc);
    inexact1 = rmInexact;
    if (m1 === 0x1000000) {
      m1 = 0x800000;
      E1 = e + 1;
    }
  }
  if (E1 > 127) {
    if ((sf.masks & FE_OE) === 0) {
      sf.flags |= FE_OE | (inexact1 ? FE_PE : 0);
      return neg ? 0xff800000 : 0x7f800000;
    }
    sf.flags |= FE_OE | FE_PE;
    const toInf = rc === RC_RN || (rc === RC_RU && !neg) || (rc === RC_RD && neg === 1);
    return ((neg << 31) | (toInf ? 0x7f800000 : 0x7f7fffff)) >>> 0;
  }
  if (e < -126) {
    const tiny = sf.tinyBefore || E1 < -126;
    if (tiny && (sf.masks & FE_UE) === 0) {
      sf.flags |= FE_UE | (inexact1 || e <= -1000 ? FE_PE : 0);
      return (neg << 31) >>> 0;
    }
    if (tiny && sf.ftz) {
      sf.flags |= FE_UE | FE_PE;
      return (neg << 31) >>> 0;
    }
    const m2 = roundMag(ad * pow2(149), errMag, neg, rc);
    if (rmInexact) sf.flags |= tiny ? FE_UE | FE_PE : FE_PE;
    // m2 <= 2^23: the bits are the significand field directly (2^23 is the min normal).
    return ((neg << 31) | m2) >>> 0;
  }
  if (inexact1) sf.flags |= FE_PE;
  return ((neg << 31) | (((E1 + 127) << 23) + (m1 - 0x800000))) >>> 0;
}

/**
 * Rounds a non-negative magnitude n (plus an error of sign errMag, smaller than n's
 * last bit) to an integer per rc; rmInexact reports inexactness.
 */
let rmInexact = false;
function roundMag(n: number, errMag: number, neg: number, rc: number): number {
  let fl = Math.floor(n);
  const frac = n - fl;
  let cmp: number; // against one half: -1 below, 0 tie, 1 above
  if (frac === 0) {
    if (errMag === 0) {
      rmInexact = false;
      return fl;
    }
    if (errMag < 0) {
      fl -= 1;
      cmp = 1;
    } else {
      cmp = -1;
    }
  } else if (frac === 0.5) {
    cmp = errMag;
  } else {
    cmp = frac > 0.5 ? 1 : -1;
  }
  rmInexact = true;
  let up: boolean;
  if (rc === RC_RN) up = cmp > 0 || (cmp === 0 && (fl % 2) === 1);
  else if (rc === RC_RZ) up = false;
  else if (rc === RC_RU) up = neg === 0;
  else up = neg === 1;
  return up ? fl + 1 : fl;
}

// ---- single-precision arithmetic --------------------------------------------------

const F32_MIN_NORMAL = 2 ** -126;
const F32_MAX = 3.4028234663852886e38;
/** rn32: the double result was already exact (so the caller checks its own error term). */
let rnExact = false;

/**
 * The common case: round-to-nearest and a normal single result. Rounding the double to
 * single is then correct (double rounding is innocuous for + - * / sqrt of singles,
 * 53 >= 2*24+2); returns the bits, or -1 when roundToF32 must decide (other rounding
 * modes, overflow, tiny results).
 */
function rn32(d: number): number {
  if (sf.rc !== RC_RN) return -1;
  const r = Math.fround(d);
  // |d| (not |r|) against the normal range: a value below it is tiny even when it rounds up to it.
  const ad = d < 0 ? -d : d;
  const ar = r < 0 ? -r : r;
  if (!(ad >= F32_MIN_NORMAL && ar <= F32_MAX)) return -1;
  rnExact = r === d;
  if (!rnExact) sf.flags |= FE_PE;
  return numToF32(r);
}

/** One single-precision arithmetic element: returns the result bits, ORs flags into sf. */
export function f32Arith(op: number, a: number, b: number): number {
  a = daz32(a) >>> 0;
  b = daz32(b) >>> 0;
  const unary = op === OP_SQRT;
  const aNaN = !unary && isNaN32(a);
  const bNaN = isNaN32(b);
  if (aNaN || bNaN) {
    if (op === OP_MIN || op === OP_MAX) {
      sf.flags |= FE_IE;
      return b;
    }
    if ((aNaN && isSNaN32(a)) || (bNaN && isSNaN32(b))) sf.flags |= FE_IE;
    return ((aNaN ? a : b) | 0x400000) >>> 0;
  }
  // Precedence (SDM Vol. 1 4.9.2): invalid and divide-by-zero before denormal.
  const den = (!unary && isDenorm32(a)) || isDenorm32(b) ? FE_DE : 0;
  const x = f32ToNum(a);
  const y = f32ToNum(b);
  switch (op) {
    case OP_MIN:
      sf.flags |= den;
      return x < y ? a : b;
    case OP_MAX:
      sf.flags |= den;
      return x > y ? a : b;
    case OP_SQRT: {
      if (y === 0 || y === Infinity) return b;
      if (y < 0) {
        sf.flags |= FE_IE;
        return F32_DEFAULT_NAN;
      }
      sf.flags |= den;
      const d = Math.sqrt(y);
      const fast = rn32(d);
      if (fast >= 0 && !rnExact) return fast;
      twoProduct(d, d, d * d);
      const r = (y - d * d) - tpLo;
      if (fast >= 0) { if (r !== 0) sf.flags |= FE_PE; return fast; }
      return roundToF32(d, r > 0 ? 1 : r < 0 ? -1 : 0);
    }
    case OP_MUL: {
      if ((x === 0 && !isFinite(y)) || (y === 0 && !isFinite(x))) {
        sf.flags |= FE_IE;
        return F32_DEFAULT_NAN;
      }
      sf.flags |= den;
      const d = x * y; // exact: 24 + 24 bits
      if (d === 0 || !isFinite(d)) return numToF32(d);
      const fast = rn32(d);
      return fast >= 0 ? fast : roundToF32(d, 0);
    }
    case OP_DIV: {
      if ((x === 0 && y === 0) || (!isFinite(x) && !isFinite(y))) {
        sf.flags |= FE_IE;
        return F32_DEFAULT_NAN;
      }
      if (y === 0 && isFinite(x)) {
        sf.flags |= FE_ZE;
        return ((a ^ b) & 0x80000000 | 0x7f800000) >>> 0;
      }
      sf.flags |= den;
      const d = x / y;
      if (d === 0 || !isFinite(d)) return numToF32(d);
      const fast = rn32(d);
      if (fast >= 0 && !rnExact) return fast;
      twoProduct(d, y, d * y);
      const r = (x - d * y) - tpLo;
      if (fast >= 0) { if (r !== 0) sf.flags |= FE_PE; return fast; }
      const s = r === 0 ? 0 : (r > 0) === (y > 0) ? 1 : -1;
      return roundToF32(d, s);
    }
    default: {
      const y2 = op === OP_SUB ? -y : y;
      if (!isFinite(x) && !isFinite(y2) && x !== y2) {
        sf.flags |= FE_IE;
        return F32_DEFAULT_NAN;
      }
      sf.flags |= den;
      const d = x + y2;
      if (!isFinite(d)) return numToF32(d);
      if (d === 0) return zeroSum32(x, y2);
      const fast = rn32(d);
      if (fast >= 0 && !rnExact) return fast;
      const bb = d - x;
      const err = (x - (d - bb)) + (y2 - bb);
      if (fast >= 0) { if (err !== 0) sf.flags |= FE_PE; return fast; }
      return roundToF32(d, err > 0 ? 1 : err < 0 ? -1 : 0);
    }
  }
}

/** Sign of an exact zero sum (IEEE 754 6.3): +0 unless both are -0, or -0 under RD. */
function zeroSum32(x: number, y: number): number {
  if (x === 0 && y === 0 && Object.is(x, -0) === Object.is(y, -0)) return Object.is(x, -0) ? 0x80000000 : 0;
  return sf.rc === RC_RD ? 0x80000000 : 0;
}

// ---- double-precision arithmetic --------------------------------------------------

function daz64(hi: number, lo: number): boolean {
  return sf.daz && isDenorm64(hi, lo);
}

/** One double-precision arithmetic element: result in r64lo/r64hi, flags into sf. */
export function f64Arith(op: number, alo: number, ahi: number, blo: number, bhi: number): void {
  alo >>>= 0; ahi >>>= 0; blo >>>= 0; bhi >>>= 0;
  if (daz64(ahi, alo)) { ahi &= 0x80000000; alo = 0; ahi >>>= 0; }
  if (daz64(bhi, blo)) { bhi &= 0x80000000; blo = 0; bhi >>>= 0; }
  const unary = op === OP_SQRT;
  const aNaN = !unary && isNaN64(ahi, alo);
  const bNaN = isNaN64(bhi, blo);
  if (aNaN || bNaN) {
    if (op === OP_MIN || op === OP_MAX) {
      sf.flags |= FE_IE;
      set64bits(blo, bhi);
      return;
    }
    if ((aNaN && isSNaN64(ahi, alo)) || (bNaN && isSNaN64(bhi, blo))) sf.flags |= FE_IE;
    if (aNaN) set64bits(alo, ahi | 0x80000);
    else set64bits(blo, bhi | 0x80000);
    return;
  }
  const aDen = !unary && isDenorm64(ahi, alo);
  const bDen = isDenorm64(bhi, blo);
  // Precedence (SDM Vol. 1 4.9.2): invalid and divide-by-zero before denormal.
  const den = aDen || bDen ? FE_DE : 0;
  const x = f64ToNum(alo, ahi);
  const y = f64ToNum(blo, bhi);
  const rc = sf.rc;
  switch (op) {
    case OP_MIN:
      sf.flags |= den;
      if (x < y) set64bits(alo, ahi); else set64bits(blo, bhi);
      return;
    case OP_MAX:
      sf.flags |= den;
      if (x > y) set64bits(alo, ahi); else set64bits(blo, bhi);
      return;
    case OP_SQRT: {
      if (y === 0 || y === Infinity) { set64bits(blo, bhi); return; }
      if (y < 0) { sf.flags |= FE_IE; set64bits(0, F64_DEFAULT_NAN_HI); return; }
      sf.flags |= den;
      if (bDen || y > P2_900 || y < P2_M900) { slow64(op, x, y); return; }
      const d = Math.sqrt(y);
      twoProduct(d, d, d * d);
      const r = (y - d * d) - tpLo;
      finish64(d, r > 0 ? 1 : r < 0 ? -1 : 0);
      return;
    }
    case OP_MUL: {
      if ((x === 0 && !isFinite(y)) || (y === 0 && !isFinite(x))) {
        sf.flags |= FE_IE; set64bits(0, F64_DEFAULT_NAN_HI); return;
      }
      sf.flags |= den;
      const d = x * y;
      if (x === 0 || y === 0 || !isFinite(x) || !isFinite(y)) { set64(d); return; }
      const ad = Math.abs(d);
      if (ad < P2_M900 || ad > P2_900 || Math.abs(x) > P2_900 || Math.abs(y) > P2_900 || aDen || bDen) {
        slow64(op, x, y); return;
      }
      twoProduct(x, y, d);
      finish64(d, tpLo > 0 ? 1 : tpLo < 0 ? -1 : 0);
      return;
    }
    case OP_DIV: {
      if ((x === 0 && y === 0) || (!isFinite(x) && !isFinite(y))) {
        sf.flags |= FE_IE; set64bits(0, F64_DEFAULT_NAN_HI); return;
      }
      if (y === 0 && isFinite(x)) {
        sf.flags |= FE_ZE;
        set64bits(0, ((ahi ^ bhi) & 0x80000000) | 0x7ff00000);
        return;
      }
      sf.flags |= den;
      const d = x / y;
      if (x === 0 || !isFinite(x) || !isFinite(y)) { set64(d); return; }
      const ad = Math.abs(d);
      const ax = Math.abs(x);
      const ay = Math.abs(y);
      if (ad < P2_M900 || ad > P2_900 || ax < P2_M900 || ax > P2_900 || ay < P2_M900 || ay > P2_900) {
        slow64(op, x, y); return;
      }
      twoProduct(d, y, d * y);
      const r = (x - d * y) - tpLo;
      finish64(d, r === 0 ? 0 : (r > 0) === (y > 0) ? 1 : -1);
      return;
    }
    default: {
      const y2 = op === OP_SUB ? -y : y;
      if (!isFinite(x) && !isFinite(y2) && x !== y2) {
        sf.flags |= FE_IE; set64bits(0, F64_DEFAULT_NAN_HI); return;
      }
      sf.flags |= den;
      const d = x + y2;
      if (!isFinite(x) || !isFinite(y2)) { set64(d); return; }
      if (!isFinite(d) || Math.abs(d) > P2_1020 || aDen || bDen) { slow64(OP_ADD, x, y2); return; }
      if (d === 0) {
        if (x === 0 && y2 === 0 && Object.is(x, -0) === Object.is(y2, -0)) set64(x);
        else set64(rc === RC_RD ? -0 : 0);
        return;
      }
      if (Math.abs(d) < P2_M1022) { // a sum in the subnormal range is exact, and tiny
        if ((sf.masks & FE_UE) === 0) sf.flags |= FE_UE;
        else if (sf.ftz) { sf.flags |= FE_UE | FE_PE; set64(d < 0 ? -0 : 0); return; }
        set64(d);
        return;
      }
      const bb = d - x;
      const err = (x - (d - bb)) + (y2 - bb);
      finish64(d, err > 0 ? 1 : err < 0 ? -1 : 0);
    }
  }
}

/** d is the round-to-nearest result; exact = d + error of sign errSign. Applies rc. */
function finish64(d: number, errSign: number): void {
  if (errSign === 0) { set64(d); return; }
  sf.flags |= FE_PE;
  const rc = sf.rc;
  let r = d;
  if (rc === RC_RU) { if (errSign > 0) r = nextUp(d); }
  else if (rc === RC_RD) { if (errSign < 0) r = nextDown(d); }
  else if (rc === RC_RZ) {
    if (d > 0 && errSign < 0) r = nextDown(d);
    else if (d < 0 && errSign > 0) r = nextUp(d);
  }
  set64(r);
}

function nextUp(d: number): number {
  f64b[0] = d;
  let lo = u64b[0]!;
  let hi = u64b[1]!;
  if (d === 0) { u64b[0] = 1; u64b[1] = 0; return f64b[0]!; }
  if (d > 0) { lo = (lo + 1) >>> 0; if (lo === 0) hi++; }
  else { if (lo === 0) hi--; lo = (lo - 1) >>> 0; }
  u64b[0] = lo; u64b[1] = hi;
  return f64b[0]!;
}

function nextDown(d: number): number {
  return -nextUp(-d);
}

/** Exact value of a finite double as (mant, exp) BigInt pair. */
let xm = 0n;
let xe = 0;
function unpack64(x: number): void {
  f64b[0] = x;
  const hi = u64b[1]!;
  const lo = u64b[0]!;
  const be = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (be === 0) {
    xe = -1074;
  } else {
    m |= 1n << 52n;
    xe = be - 1075;
  }
  xm = m;
}

/**
 * The rare path: exact BigInt arithmetic on finite nonzero-or-zero operands and a
 * correctly rounded double result (overflow/underflow thresholds, denormal operands).
 */
function slow64(op: number, x: number, y: number): void {
  const sa = x < 0 || Object.is(x, -0) ? 1 : 0;
  const sb = y < 0 || Object.is(y, -0) ? 1 : 0;
  unpack64(x);
  const am = xm; const ae = xe;
  unpack64(y);
  const bm = xm; const be = xe;
  let sign: number; let m: bigint; let e: number; let sticky = false;
  if (op === OP_ADD) {
    const emin = Math.min(ae, be);
    const A = am << BigInt(ae - emin);
    const B = bm << BigInt(be - emin);
    const v = (sa ? -A : A) + (sb ? -B : B);
    if (v === 0n) { set64(sf.rc === RC_RD ? -0 : 0); return; }
    sign = v < 0n ? 1 : 0;
    m = v < 0n ? -v : v;
    e = emin;
  } else if (op === OP_MUL) {
    sign = sa ^ sb;
    m = am * bm;
    e = ae + be;
    if (m === 0n) { set64(sign ? -0 : 0); return; }
  } else if (op === OP_DIV) {
    sign = sa ^ sb;
    if (am === 0n) { set64(sign ? -0 : 0); return; }
    const shift = 2 * 64 + bitLength(bm) - bitLength(am);
    const num = am << BigInt(shift);
    m = num / bm;
    sticky = num % bm !== 0n;
    e = ae - be - shift;
  } else { // sqrt of a positive value
    sign = 0;
    let mm = bm;
    let ee = be;
    if ((ee & 1) !== 0) { mm <<= 1n; ee -= 1; }
    const shift = 2 * 64 - (bitLength(mm) & ~1);
    const ext = mm << BigInt(shift);
    m = isqrt(ext);
    sticky = m * m !== ext;
    e = (ee - shift) / 2;
  }
  const mode = RM_OM * ((sf.masks & FE_OE) ? 1 : 0) | RM_UM * ((sf.masks & FE_UE) ? 1 : 0) |
    (sf.ftz ? RM_FTZ : 0);
  sf.flags |= roundPack(sign, m, e, sticky, FMT_F64, sf.rc, mode);
  const frac = R.mant & ((1n << 52n) - 1n);
  const hi = (R.sign << 31) | (R.bexp << 20) | Number(frac >> 32n);
  set64bits(Number(frac & 0xffffffffn), hi);
}

// ---- comparisons ------------------------------------------------------------------

/** CMPPS/CMPSS predicate (imm8 bits 2:0) on singles: true/false, flags into sf. */
export function f32Cmp(pred: number, a: number, b: number): boolean {
  a = daz32(a) >>> 0;
  b = daz32(b) >>> 0;
  const un = isNaN32(a) || isNaN32(b);
  if (un) {
    if ((pred & 3) === 1 || (pred & 3) === 2 || isSNaN32(a) || isSNaN32(b)) sf.flags |= FE_IE;
  } else if (isDenorm32(a) || isDenorm32(b)) {
    sf.flags |= FE_DE;
  }
  return cmpResult(pred, un, f32ToNum(a), f32ToNum(b));
}

export function f64Cmp(pred: number, alo: number, ahi: number, blo: number, bhi: number): boolean {
  if (daz64(ahi, alo)) { ahi &= 0x80000000; alo = 0; }
  if (daz64(bhi, blo)) { bhi &= 0x80000000; blo = 0; }
  const un = isNaN64(ahi, alo) || isNaN64(bhi, blo);
  if (un) {
    if ((pred & 3) === 1 || (pred & 3) === 2 || isSNaN64(ahi, alo) || isSNaN64(bhi, blo)) sf.flags |= FE_IE;
  } else if (isDenorm64(ahi, alo) || isDenorm64(bhi, blo)) {
    sf.flags |= FE_DE;
  }
  return cmpResult(pred, un, f64ToNum(alo, ahi), f64ToNum(blo, bhi));
}

function cmpResult(pred: number, un: boolean, x: number, y: number): boolean {
  switch (pred & 7) {
    case 0: return !un && x === y;
    case 1: return !un && x < y;
    case 2: return !un && x <= y;
    case 3: return un;
    case 4: return un || x !== y;
    case 5: return un || !(x < y);
    case 6: return un || !(x <= y);
    default: return !un;
  }
}

/**
 * COMISS/UCOMISS/COMISD/UCOMISD: returns 0 (greater), 1 (less), 2 (equal), 3 (unordered);
 * COMIS* signal invalid on any NaN, UCOMIS* only on SNaN.
 */
export function f32Comi(a: number, b: number, signalQnan: boolean): number {
  a = daz32(a) >>> 0;
  b = daz32(b) >>> 0;
  if (isNaN32(a) || isNaN32(b)) {
    if (signalQnan || isSNaN32(a) || isSNaN32(b)) sf.flags |= FE_IE;
    return 3;
  }
  if (isDenorm32(a) || isDenorm32(b)) sf.flags |= FE_DE;
  const x = f32ToNum(a);
  const y = f32ToNum(b);
  return x > y ? 0 : x < y ? 1 : 2;
}

export function f64Comi(alo: number, ahi: number, blo: number, bhi: number, signalQnan: boolean): number {
  if (daz64(ahi, alo)) { ahi &= 0x80000000; alo = 0; }
  if (daz64(bhi, blo)) { bhi &= 0x80000000; blo = 0; }
  if (isNaN64(ahi, alo) || isNaN64(bhi, blo)) {
    if (signalQnan || isSNaN64(ahi, alo) || isSNaN64(bhi, blo)) sf.flags |= FE_IE;
    return 3;
  }
  if (isDenorm64(ahi, alo) || isDenorm64(bhi, blo)) sf.flags |= FE_DE;
  const x = f64ToNum(alo, ahi);
  const y = f64ToNum(blo, bhi);
  return x > y ? 0 : x < y ? 1 : 2;
}

// ---- conversions ------------------------------------------------------------------

/** CVTSS2SD / CVTPS2PD element: result in r64lo/r64hi. */
export function cvtF32ToF64(a: number): void {
  a = daz32(a) >>> 0;
  if (isNaN32(a)) {
    if (isSNaN32(a)) sf.flags |= FE_IE;
    set64bits((a << 29) >>> 0, ((a & 0x80000000) | 0x7ff80000 | ((a & 0x3fffff) >>> 3)) >>> 0);
    return;
  }
  if (isDenorm32(a)) sf.flags |= FE_DE;
  set64(f32ToNum(a));
}

/** CVTSD2SS / CVTPD2PS element. */
export function cvtF64ToF32(lo: number, hi: number): number {
  lo >>>= 0; hi >>>= 0;
  if (daz64(hi, lo)) return (hi & 0x80000000) >>> 0;
  if (isNaN64(hi, lo)) {
    if (isSNaN64(hi, lo)) sf.flags |= FE_IE;
    return ((hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29)) >>> 0;
  }
  if (isDenorm64(hi, lo)) sf.flags |= FE_DE;
  const x = f64ToNum(lo, hi);
  if (x === 0 || !isFinite(x)) return numToF32(x);
  return roundToF32(x, 0);
}

/** CVTSI2SS / CVTDQ2PS / CVTPI2PS: a signed 64-bit integer (hi:lo; hi = sign of lo for int32). */
export function cvtI64ToF32(lo: number, hi: number): number {
  const big = (hi | 0) * 0x1_0000_0000;
  const d = big + (lo >>> 0);
  if (d === 0) return 0;
  const bb = d - big;
  const err = (big - (d - bb)) + ((lo >>> 0) - bb);
  return roundToF32(d, err > 0 ? 1 : err < 0 ? -1 : 0);
}

/** CVTSI2SD / CVTDQ2PD / CVTPI2PD: result in r64lo/r64hi. */
export function cvtI64ToF64(lo: number, hi: number): void {
  const big = (hi | 0) * 0x1_0000_0000;
  const d = big + (lo >>> 0);
  const bb = d - big;
  const err = (big - (d - bb)) + ((lo >>> 0) - bb);
  finish64(d, err > 0 ? 1 : err < 0 ? -1 : 0);
}

/** Integer result of float-to-integer conversions (lo, hi). */
export let ciLo = 0;
export let ciHi = 0;

/**
 * Converts a finite-or-not number (already DAZ'ed / classified by the caller) to a
 * signed integer of 32 or 64 bits, rounding per rc (truncate for CVTT*). Out of range
 * or NaN gives the integer indefinite (0x80000000 / 0x8000000000000000) and IE.
 */
function cvtNumToInt(x: number, isNaN: boolean, bits: 32 | 64, rc: number): void {
  if (isNaN || !isFinite(x)) {
    sf.flags |= FE_IE;
    indefinite(bits);
    return;
  }
  const neg = x < 0 ? 1 : 0;
  const n = roundMag(neg ? -x : x, 0, neg, rc);
  const inexact = rmInexact;
  const r = neg ? -n : n;
  if (bits === 32 ? (r < -0x80000000 || r > 0x7fffffff) : (r < -P2_63 || r >= P2_63)) {
    sf.flags |= FE_IE;
    indefinite(bits);
    return;
  }
  if (inexact) sf.flags |= FE_PE;
  if (bits === 32) {
    ciLo = r >>> 0;
    ciHi = r < 0 ? 0xffffffff : 0;
  } else {
    const hi = Math.floor(r / 0x1_0000_0000);
    ciLo = (r - hi * 0x1_0000_0000) >>> 0;
    ciHi = hi >>> 0;
  }
}

function indefinite(bits: 32 | 64): void {
  if (bits === 32) { ciLo = 0x80000000; ciHi = 0; } else { ciLo = 0; ciHi = 0x80000000; }
}

/** CVT(T)SS2SI / CVT(T)PS2DQ / CVT(T)PS2PI element; truncate selects CVTT*. */
export function cvtF32ToInt(a: number, bits: 32 | 64, truncate: boolean): void {
  a = daz32(a) >>> 0;
  cvtNumToInt(f32ToNum(a), isNaN32(a), bits, truncate ? RC_RZ : sf.rc);
}

/** CVT(T)SD2SI / CVT(T)PD2DQ / CVT(T)PD2PI element. */
export function cvtF64ToInt(lo: number, hi: number, bits: 32 | 64, truncate: boolean): void {
  if (daz64(hi, lo)) { hi &= 0x80000000; lo = 0; }
  cvtNumToInt(f64ToNum(lo, hi), isNaN64(hi, lo), bits, truncate ? RC_RZ : sf.rc);
}

// ---- approximations -----------------------------------------------------------------

/**
 * RCPSS/RCPPS and RSQRTSS/RSQRTPS. The architecture only bounds the relative error
 * (|err| <= 1.5*2^-12) and each CPU family uses its own table, so this returns the
 * correctly rounded single of the exact value; it will not match a given host bit for
 * bit. Special cases follow the SDM: denormal inputs act as zero, tiny results flush
 * to zero, no MXCSR flags.
 */
export function f32Approx(rsqrt: boolean, a: number): number {
  a >>>= 0;
  if (isNaN32(a)) return (a | 0x400000) >>> 0;
  const sign = a & 0x80000000;
  if ((a & 0x7f800000) === 0) return (sign | 0x7f800000) >>> 0;
  const x = f32ToNum(a);
  if (rsqrt) {
    if (sign) return F32_DEFAULT_NAN;
    if (x === Infinity) return 0;
    return numToF32(1 / Math.sqrt(x));
  }
  if (!isFinite(x)) return sign >>> 0;
  const r = 1 / x;
  if (Math.abs(r) < 2 ** -126) return sign >>> 0;
  return numToF32(r);
}


// ---- ROUNDPS/PD/SS/SD ------------------------------------------------------------------

/** Round to an integral value in the same format (SSE4.1 ROUND*): IE on SNaN, PE unless suppressed. */
function rint(x: number, rc: number): number {
  let r: number;
  if (rc === RC_RN) {
    const fl = Math.floor(x);
    const d = x - fl;
    r = d > 0.5 || (d === 0.5 && fl % 2 !== 0) ? fl + 1 : fl;
  } else if (rc === RC_RD) r = Math.floor(x);
  else if (rc === RC_RU) r = Math.ceil(x);
  else r = Math.trunc(x);
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}

export function roundIntegral32(a: number, rc: number, noPe: boolean): number {
  a = daz32(a) >>> 0;
  if (isNaN32(a)) { if (isSNaN32(a)) sf.flags |= FE_IE; return (a | 0x400000) >>> 0; }
  const x = f32ToNum(a);
  if (!isFinite(x)) return a;
  const r = rint(x, rc);
  if (r !== x && !noPe) sf.flags |= FE_PE;
  return numToF32(r);
}

export function roundIntegral64(lo: number, hi: number, rc: number, noPe: boolean): void {
  lo >>>= 0; hi >>>= 0;
  if (daz64(hi, lo)) { set64bits(0, hi & 0x80000000); return; }
  if (isNaN64(hi, lo)) { if (isSNaN64(hi, lo)) sf.flags |= FE_IE; set64bits(lo, hi | 0x80000); return; }
  const x = f64ToNum(lo, hi);
  if (!isFinite(x)) { set64bits(lo, hi); return; }
  const r = rint(x, rc);
  if (r !== x && !noPe) sf.flags |= FE_PE;
  set64(r);
}

