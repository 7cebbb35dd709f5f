/**
 * Exact IEEE-754 rounding in software (BigInt), shared by the x87 unit (80-bit extended,
 * any precision control) and by the rare paths of SSE double arithmetic (results near the
 * overflow or underflow threshold, denormal operands). Not used on SSE's common path.
 *
 * A finite value is (-1)^sign * mant * 2^exp with mant a non-negative BigInt; `sticky`
 * says that nonzero bits lie below mant's last bit (the value is a little larger in
 * magnitude), which is how division and square root hand over their remainders.
 */

/** Exception flag bits: the same positions in FSW, FCW (masks) and MXCSR. */
export const FE_IE = 1;
export const FE_DE = 2;
export const FE_ZE = 4;
export const FE_OE = 8;
export const FE_UE = 16;
export const FE_PE = 32;

/** Rounding control (FCW.RC and MXCSR.RC encodings). */
export const RC_RN = 0;
export const RC_RD = 1;
export const RC_RU = 2;
export const RC_RZ = 3;

/** roundPack mode bits. */
export const RM_FTZ = 1;          // MXCSR.FTZ: tiny results flush to zero (UM masked)
export const RM_UM = 2;           // underflow masked
export const RM_OM = 4;           // overflow masked
export const RM_TINY_BEFORE = 8;  // detect tininess before rounding
export const RM_WRAP = 16;        // x87: unmasked OE/UE deliver the exponent-wrapped result

/** A target format: precision in bits (with the integer bit), exponent range, bias. */
export interface FloatFormat {
  readonly prec: number;
  readonly emin: number;
  readonly emax: number;
}

export const FMT_F32: FloatFormat = { prec: 24, emin: -126, emax: 127 };
export const FMT_F64: FloatFormat = { prec: 53, emin: -1022, emax: 1023 };
export const FMT_F80: FloatFormat = { prec: 64, emin: -16382, emax: 16383 };

/** x87's exponent wrap for unmasked overflow/underflow (SDM Vol. 1 8.5.3, 8.5.4). */
const X87_WRAP = 24576;

/** Result of roundPack (module-level so the caller need not allocate). */
export const R = {
  sign: 0,
  /** Biased exponent: 0 for zero/denormal, 2*emax+1 for infinity. */
  bexp: 0,
  /** prec-bit significand with the integer bit (0 for zero; 2^(prec-1) for infinity). */
  mant: 0n,
  /** The result's magnitude was rounded up (x87 C1). */
  up: false,
};

export function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** Rounding of mant*2^exp (+sticky) to a multiple of 2^lsb; returns the quotient, sets rInexact. */
let rInexact = false;
function roundAt(sign: number, mant: bigint, exp: number, sticky: boolean, lsb: number, rc: number): bigint {
  const shift = lsb - exp;
  let q: bigint;
  let cmp: number; // remainder compared with half an ulp: -1 below, 0 equal, 1 above
  let inexact: boolean;
  if (shift <= 0) {
    q = mant << BigInt(-shift);
    inexact = sticky;
    cmp = -1;
  } else {
    const s = BigInt(shift);
    q = mant >> s;
    const rem = mant & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    inexact = rem !== 0n || sticky;
    cmp = rem > half ? 1 : rem < half ? -1 : sticky ? 1 : 0;
  }
  rInexact = inexact;
  if (!inexact) return q;
  let inc = false;
  switch (rc) {
    case RC_RN: inc = cmp > 0 || (cmp === 0 && (q & 1n) === 1n); break;
    case RC_RD: inc = sign === 1; break;
    case RC_RU: inc = sign === 0; break;
    default: inc = false;
  }
  return inc ? q + 1n : q;
}

/**
 * Rounds the exact value to the format per IEEE 754 and x86's rules; writes R and returns
 * the exception flags (FE_*). The caller deals with zero (mant 0 and no sticky).
 */
export function roundPack(sign: number, mant: bigint, exp: number, sticky: boolean,
  fmt: FloatFormat, rc: number, mode: number): number {
  const { prec, emin, emax } = fmt;
  const bias = emax;
  R.sign = sign;
  R.up = false;
  if (mant === 0n && !sticky) {
    R.bexp = 0;
    R.mant = 0n;
    return 0;
  }
  const E = exp + bitLength(mant) - 1;
  // Rounding with an unbounded exponent range decides overflow and tininess-after-rounding.
  let m1 = roundAt(sign, mant, exp, sticky, E - prec + 1, rc);
  const inexact1 = rInexact;
  let E1 = E;
  if (m1 === 1n << BigInt(prec)) {
    m1 >>= 1n;
    E1++;
  }
  if (E1 > emax) {
    if (mode & RM_OM) {
      const toInf = rc === RC_RN || (rc === RC_RU && sign === 0) || (rc === RC_RD && sign === 1);
      if (toInf) {
        R.bexp = 2 * emax + 1;
        R.mant = 1n << BigInt(prec - 1);
        R.up = true;
      } else {
        R.bexp = 2 * emax;
        R.mant = (1n << BigInt(prec)) - 1n;
      }
      return FE_OE | FE_PE;
    }
    if ((mode & RM_WRAP) === 0) { // a store: nothing is written, only OE is reported
      R.bexp = 2 * emax + 1;
      R.mant = 1n << BigInt(prec - 1);
      return FE_OE;
    }
    if (E1 - X87_WRAP > emax) { // too large even with the bias adjust: infinity
      R.bexp = 2 * emax + 1;
      R.mant = 1n << BigInt(prec - 1);
      R.up = true;
      return FE_OE | FE_PE;
    }
    R.bexp = E1 + bias - X87_WRAP;
    R.mant = m1;
    R.up = inexact1 && upOf(sign, mant, exp, sticky, m1, E1 - prec + 1);
    return FE_OE | (inexact1 ? FE_PE : 0);
  }
  if (E < emin) {
    const tiny = (mode & RM_TINY_BEFORE) !== 0 ? true : E1 < emin;
    if (tiny && (mode & RM_UM) === 0) {
      if ((mode & RM_WRAP) === 0) { R.bexp = 0; R.mant = 0n; return FE_UE; }
      if (E1 + X87_WRAP < emin) { // too small even with the bias adjust: zero
        R.bexp = 0;
        R.mant = 0n;
        return FE_UE | FE_PE;
      }
      R.bexp = E1 + bias + X87_WRAP;
      R.mant = m1;
      R.up = inexact1 && upOf(sign, mant, exp, sticky, m1, E1 - prec + 1);
      return FE_UE | (inexact1 ? FE_PE : 0);
    }
    if (tiny && (mode & RM_FTZ) !== 0) {
      R.bexp = 0;
      R.mant = 0n;
      return FE_UE | FE_PE;
    }
    const m2 = roundAt(sign, mant, exp, sticky, emin - prec + 1, rc);
    const inexact2 = rInexact;
    R.up = inexact2 && upOf(sign, mant, exp, sticky, m2, emin - prec + 1);
    if (m2 >= 1n << BigInt(prec - 1)) {
      R.bexp = 1;
      R.mant = m2;
    } else {
      R.bexp = 0;
      R.mant = m2;
    }
    return inexact2 ? (tiny ? FE_UE | FE_PE : FE_PE) : 0;
  }
  R.bexp = E1 + bias;
  R.mant = m1;
  R.up = inexact1 && upOf(sign, mant, exp, sticky, m1, E1 - prec + 1);
  return inexact1 ? FE_PE : 0;
}

/** Whether the rounded magnitude q*2^lsb exceeds the exact magnitude. */
function upOf(_sign: number, mant: bigint, exp: number, _sticky: boolean, q: bigint, lsb: number): boolean {
  // Compare q*2^lsb with mant*2^exp (sticky only adds below mant's LSB, so a tie on the
  // shifted values means the exact value is larger: not rounded up).
  const d = lsb - exp;
  if (d >= 0) return (q << BigInt(d)) > mant;
  return q > mant >> BigInt(-d);
}

/** Integer square root with remainder flag: floor(sqrt(n)). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
