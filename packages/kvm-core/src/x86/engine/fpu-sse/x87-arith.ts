/**
 * x87 arithmetic on the exact 80-bit double-extended format (SDM Vol. 1 4.2.2, 8.x):
 * sign, 15-bit biased exponent, 64-bit significand with explicit integer bit. Values
 * are computed exactly in BigInt and rounded once by softfloat.roundPack per FCW.RC and
 * FCW.PC, with x87's NaN rules (SDM Vol. 1 Table 4-7: the QNaN operand, or of two NaNs
 * the larger significand) and its invalid-operand classes (pseudo-NaN, pseudo-infinity,
 * unnormal). x87 is not on the engine's hot path, so BigInt is acceptable here.
 */
import {
  FE_DE, FE_IE, FE_OE, FE_PE, FE_UE, FE_ZE, FMT_F32, FMT_F64, R, RC_RD, RC_RN, RC_RU, RC_RZ,
  RM_OM, RM_UM, RM_WRAP, bitLength, isqrt, roundPack, type FloatFormat,
} from './softfloat';

export class Ext {
  constructor(public sign: number, public bexp: number, public mant: bigint) {}
}

const J = 1n << 63n;
const QBIT = 1n << 62n;
const M64 = (1n << 64n) - 1n;
const BIAS = 16383;

export const INDEFINITE = (): Ext => new Ext(1, 0x7fff, 0xc000000000000000n);
export const zeroExt = (sign: number): Ext => new Ext(sign, 0, 0n);
export const infExt = (sign: number): Ext => new Ext(sign, 0x7fff, J);

/** Flags raised by the current operation and whether it rounded up (C1). */
export const xs = {
  flags: 0, up: false, rc: 0, pc: 64, masks: 0x3f,
  /** A memory operand was a single/double denormal (normal once widened): DE is raised by the operation, after NaN checks. */
  pendingDE: false,
};

export function x87Begin(fcw: number): void {
  xs.flags = 0;
  xs.up = false;
  xs.pendingDE = false;
  xs.rc = (fcw >> 10) & 3;
  const pc = (fcw >> 8) & 3;
  xs.pc = pc === 0 ? 24 : pc === 2 ? 53 : 64;
  xs.masks = fcw & 0x3f;
}

export function isNaNx(a: Ext): boolean { return a.bexp === 0x7fff && (a.mant & J) !== 0n && (a.mant & (J - 1n)) !== 0n; }
export function isSNaNx(a: Ext): boolean { return isNaNx(a) && (a.mant & QBIT) === 0n; }
export function isInfx(a: Ext): boolean { return a.bexp === 0x7fff && a.mant === J; }
export function isZerox(a: Ext): boolean { return a.bexp === 0 && a.mant === 0n; }
export function isDenormx(a: Ext): boolean { return a.bexp === 0 && a.mant !== 0n; }
/** Pseudo-NaN, pseudo-infinity, unnormal: invalid operands on the 387 and later. */
export function isUnsupportedx(a: Ext): boolean {
  return a.bexp !== 0 && (a.mant & J) === 0n;
}
export function isFinitex(a: Ext): boolean { return a.bexp !== 0x7fff; }

/** Exponent of the significand's LSB: value = mant * 2^lsbExp. */
function lsbExp(a: Ext): number {
  return (a.bexp === 0 ? 1 : a.bexp) - BIAS - 63;
}

function quiet(a: Ext): Ext { return new Ext(a.sign, a.bexp, a.mant | QBIT); }

/**
 * NaN/unsupported operand handling for two-operand arithmetic; returns the result or
 * null when both operands are ordinary values. Sets IE as the SDM says.
 */
function nanOperands(a: Ext, b: Ext): Ext | null {
  if (isUnsupportedx(a) || isUnsupportedx(b)) { xs.flags |= FE_IE; return INDEFINITE(); }
  const an = isNaNx(a);
  const bn = isNaNx(b);
  if (!an && !bn) return null;
  const as = an && isSNaNx(a);
  const bs = bn && isSNaNx(b);
  if (as || bs) xs.flags |= FE_IE;
  if (an && bn) {
    // One SNaN and one QNaN: the QNaN; otherwise the larger significand (Table 4-7).
    if (as !== bs) return quiet(as ? b : a);
    const ma = a.mant | QBIT;
    const mb = b.mant | QBIT;
    if (ma === mb) return quiet(a.sign === 0 ? a : b);
    return quiet(ma > mb ? a : b);
  }
  return quiet(an ? a : b);
}

/**
 * Sets DE for denormal operands. Returns true when DE is unmasked: a pre-computation
 * exception, so the operation is not carried out (no OE/UE/PE, destination untouched).
 */
function denormCheck(a: Ext, b: Ext | null): boolean {
  if (xs.pendingDE || isDenormx(a) || (b !== null && isDenormx(b))) {
    xs.flags |= FE_DE;
    return (xs.masks & FE_DE) === 0;
  }
  return false;
}

/** Rounds exact sign*mant*2^exp (+sticky) to extended format under RC/PC; exponent wrap when unmasked. */
export function roundExt(sign: number, mant: bigint, exp: number, sticky: boolean, prec = xs.pc): Ext {
  const mode = RM_WRAP | (xs.masks & FE_OE ? RM_OM : 0) | (xs.masks & FE_UE ? RM_UM : 0);
  const fmt: FloatFormat = { prec, emin: -16382, emax: 16383 };
  xs.flags |= roundPack(sign, mant, exp, sticky, fmt, xs.rc, mode);
  xs.up = R.up;
  const m = R.mant << BigInt(64 - prec);
  return new Ext(sign, R.bexp, m & M64);
}

export function addx(a: Ext, b: Ext, negB: boolean): Ext {
  const bs = negB ? b.sign ^ 1 : b.sign;
  const n = nanOperands(a, b);
  if (n) return n;
  if (!isFinitex(a) && !isFinitex(b) && a.sign !== bs) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (denormCheck(a, b)) return INDEFINITE();
  if (!isFinitex(a) || !isFinitex(b)) return isFinitex(a) ? infExt(bs) : infExt(a.sign);
  const ea = lsbExp(a);
  const eb = lsbExp(b);
  const e = Math.min(ea, eb);
  const va = (a.mant << BigInt(ea - e)) * (a.sign ? -1n : 1n);
  const vb = (b.mant << BigInt(eb - e)) * (bs ? -1n : 1n);
  const v = va + vb;
  if (v === 0n) {
    if (isZerox(a) && isZerox(b) && a.sign === bs) return zeroExt(a.sign);
    return zeroExt(xs.rc === RC_RD ? 1 : 0);
  }
  return roundExt(v < 0n ? 1 : 0, v < 0n ? -v : v, e, false);
}

export function mulx(a: Ext, b: Ext): Ext {
  const n = nanOperands(a, b);
  if (n) return n;
  const sign = a.sign ^ b.sign;
  const inf = !isFinitex(a) || !isFinitex(b);
  if (inf && (isZerox(a) || isZerox(b))) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (denormCheck(a, b)) return INDEFINITE();
  if (inf) return infExt(sign);
  if (isZerox(a) || isZerox(b)) return zeroExt(sign);
  return roundExt(sign, a.mant * b.mant, lsbExp(a) + lsbExp(b), false);
}

export function divx(a: Ext, b: Ext): Ext {
  const n = nanOperands(a, b);
  if (n) return n;
  const sign = a.sign ^ b.sign;
  if (!isFinitex(a) && !isFinitex(b)) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (isZerox(b)) {
    if (isZerox(a)) { xs.flags |= FE_IE; return INDEFINITE(); }
    if (isFinitex(a)) { xs.flags |= FE_ZE; return infExt(sign); }
  }
  if (denormCheck(a, b)) return INDEFINITE();
  if (!isFinitex(a)) return infExt(sign);
  if (!isFinitex(b)) return zeroExt(sign);
  if (isZerox(a)) return zeroExt(sign);
  const shift = 140 + bitLength(b.mant) - bitLength(a.mant);
  const num = a.mant << BigInt(shift);
  const q = num / b.mant;
  return roundExt(sign, q, lsbExp(a) - lsbExp(b) - shift, num % b.mant !== 0n);
}

export function sqrtx(a: Ext): Ext {
  if (isUnsupportedx(a)) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (isNaNx(a)) { if (isSNaNx(a)) xs.flags |= FE_IE; return quiet(a); }
  if (isZerox(a)) return a;
  if (a.sign) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (!isFinitex(a)) return a;
  if (denormCheck(a, null)) return INDEFINITE();
  let m = a.mant;
  let e = lsbExp(a);
  if (e & 1) { m <<= 1n; e -= 1; }
  const shift = 2 * 80 - (bitLength(m) & ~1);
  const ext = m << BigInt(shift);
  const r = isqrt(ext);
  return roundExt(0, r, (e - shift) / 2, r * r !== ext);
}

/** Converts to single/double for FST m32/m64: returns raw bits (lo, hi) via out. */
export const outBits = { lo: 0, hi: 0 };
export function extToFloat(a: Ext, fmt: FloatFormat): void {
  const dbl = fmt === FMT_F64;
  if (isUnsupportedx(a)) { xs.flags |= FE_IE; setNaNBits(1, 0xc000000000000000n, dbl); return; }
  if (isNaNx(a)) {
    if (isSNaNx(a)) xs.flags |= FE_IE;
    setNaNBits(a.sign, a.mant | QBIT, dbl);
    return;
  }
  if (!isFinitex(a)) { setBits(a.sign, dbl ? 0x7ff : 0xff, 0n, dbl); return; }
  if (isZerox(a)) { setBits(a.sign, 0, 0n, dbl); return; }
  // FST/FSTP m32/m64 raise no denormal-operand exception (SDM FST: #IA #U #O #P only).
  const mode = (xs.masks & FE_OE ? RM_OM : 0) | (xs.masks & FE_UE ? RM_UM : 0);
  xs.flags |= roundPack(a.sign, a.mant, lsbExp(a), false, fmt, xs.rc, mode);
  xs.up = R.up;
  const fracBits = fmt.prec - 1;
  setBits(a.sign, R.bexp, R.mant & ((1n << BigInt(fracBits)) - 1n), dbl);
}

function setNaNBits(sign: number, mant: bigint, dbl: boolean): void {
  // The top fraction bits of the 64-bit significand (below J) become the NaN's fraction.
  if (dbl) setBits(sign, 0x7ff, (mant >> 11n) & ((1n << 52n) - 1n), true);
  else setBits(sign, 0xff, (mant >> 40n) & ((1n << 23n) - 1n), false);
}

function setBits(sign: number, bexp: number, frac: bigint, dbl: boolean): void {
  if (dbl) {
    outBits.lo = Number(frac & 0xffffffffn) >>> 0;
    outBits.hi = ((sign << 31) | (bexp << 20) | Number(frac >> 32n)) >>> 0;
  } else {
    outBits.lo = ((sign << 31) | (bexp << 23) | Number(frac)) >>> 0;
    outBits.hi = 0;
  }
}

/** FLD m32/m64: exact widening; SNaN -> IE and quieted; denormal -> DE. */
export function floatToExt(lo: number, hi: number, dbl: boolean, operand = false): Ext {
  let sign: number; let bexp: number; let frac: bigint; let fb: number; let emax: number;
  if (dbl) {
    sign = hi >>> 31; bexp = (hi >>> 20) & 0x7ff; frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo >>> 0); fb = 52; emax = 0x7ff;
  } else {
    sign = lo >>> 31; bexp = (lo >>> 23) & 0xff; frac = BigInt(lo & 0x7fffff); fb = 23; emax = 0xff;
  }
  if (bexp === emax) {
    if (frac === 0n) return infExt(sign);
    const m = J | (frac << BigInt(63 - fb));
    // As an arithmetic operand an SNaN stays signaling (the operation raises IE and
    // applies the NaN rules); FLD quiets it and raises IE itself.
    if (operand) return new Ext(sign, 0x7fff, m);
    if ((m & QBIT) === 0n) xs.flags |= FE_IE;
    return new Ext(sign, 0x7fff, m | QBIT);
  }
  if (bexp === 0) {
    if (frac === 0n) return zeroExt(sign);
    if (operand) xs.pendingDE = true; else xs.flags |= FE_DE;
    // Normalize: value = frac * 2^(1 - bias - fb)
    const e = 1 - (dbl ? 1023 : 127) - fb;
    const bl = bitLength(frac);
    return new Ext(sign, e + bl - 1 + BIAS, frac << BigInt(64 - bl));
  }
  const e = bexp - (dbl ? 1023 : 127);
  return new Ext(sign, e + BIAS, J | (frac << BigInt(63 - fb)));
}

/** FILD: exact conversion of a signed integer (BigInt). */
export function intToExt(v: bigint): Ext {
  if (v === 0n) return zeroExt(0);
  const sign = v < 0n ? 1 : 0;
  const m = sign ? -v : v;
  const bl = bitLength(m);
  return new Ext(sign, bl - 1 + BIAS, m << BigInt(64 - bl));
}

/**
 * Rounds to an integer per RC (or truncation); returns null for NaN/inf/unsupported and
 * values outside [min, max] (the caller stores the integer indefinite and raises IE).
 */
export function extToInt(a: Ext, bits: number, truncate: boolean): bigint | null {
  if (isUnsupportedx(a) || !isFinitex(a)) { xs.flags |= FE_IE; return null; }
  if (isZerox(a)) return 0n;
  const r = roundToIntegral(a, truncate ? RC_RZ : xs.rc);
  const lim = 1n << BigInt(bits - 1);
  if (r < -lim || r >= lim) { xs.flags = (xs.flags & ~FE_PE) | FE_IE; xs.up = false; return null; }
  return r;
}

/** Exact rounding of a finite value to an integer under rc; sets PE and up. */
function roundToIntegral(a: Ext, rc: number): bigint {
  const e = lsbExp(a);
  if (e >= 0) return (a.sign ? -1n : 1n) * (a.mant << BigInt(e));
  const s = BigInt(-e);
  let q = a.mant >> s;
  const rem = a.mant & ((1n << s) - 1n);
  if (rem !== 0n) {
    xs.flags |= FE_PE;
    const half = 1n << (s - 1n);
    let inc = false;
    if (rc === RC_RN) inc = rem > half || (rem === half && (q & 1n) === 1n);
    else if (rc === RC_RU) inc = a.sign === 0;
    else if (rc === RC_RD) inc = a.sign === 1;
    if (inc) { q += 1n; xs.up = true; }
  }
  return a.sign ? -q : q;
}

/** FRNDINT. */
export function rndintx(a: Ext): Ext {
  if (isUnsupportedx(a)) { xs.flags |= FE_IE; return INDEFINITE(); }
  if (isNaNx(a)) { if (isSNaNx(a)) xs.flags |= FE_IE; return quiet(a); }
  if (!isFinitex(a) || isZerox(a)) return a;
  if (denormCheck(a, null)) return INDEFINITE();
  const r = roundToIntegral(a, xs.rc);
  if (r === 0n) return zeroExt(a.sign);
  const e = intToExt(r);
  return e;
}

/**
 * Compare for FCOM/FUCOM/FCOMI/FTST/FICOM: 0 greater, 1 less, 2 equal, 3 unordered.
 * signalQnan: FCOM-class (any NaN is invalid) versus FUCOM-class (SNaN only).
 */
export function cmpx(a: Ext, b: Ext, signalQnan: boolean): number {
  if (isUnsupportedx(a) || isUnsupportedx(b)) { xs.flags |= FE_IE; return 3; }
  if (isNaNx(a) || isNaNx(b)) {
    if (signalQnan || isSNaNx(a) || isSNaNx(b)) xs.flags |= FE_IE;
    return 3;
  }
  denormCheck(a, b); // an unmasked DE suppresses the condition codes (compare() checks)
  const va = valueCmpKey(a);
  const vb = valueCmpKey(b);
  return va > vb ? 0 : va < vb ? 1 : 2;
}

/** A totally ordered key for finite/infinite values (zeros compare equal). */
function valueCmpKey(a: Ext): bigint {
  if (isZerox(a)) return 0n;
  let mag: bigint;
  if (!isFinitex(a)) mag = 1n << 200n;
  else {
    // Normalize so denormals and normals compare by (exponent, significand).
    const bl = bitLength(a.mant);
    const E = lsbExp(a) + bl - 1 + 20000;
    mag = (BigInt(E) << 64n) | (a.mant << BigInt(64 - bl));
  }
  return a.sign ? -mag : mag;
}

/** FSCALE: ST0 * 2^trunc(ST1). */
export function scalex(a: Ext, b: Ext): Ext {
  const n = nanOperands(a, b);
  if (n) return n;
  if (!isFinitex(b)) {
    if (b.sign === 0 && isZerox(a)) { xs.flags |= FE_IE; return INDEFINITE(); }
    if (b.sign === 1 && !isFinitex(a)) { xs.flags |= FE_IE; return INDEFINITE(); }
    if (denormCheck(a, b)) return INDEFINITE();
    if (b.sign === 0) return isFinitex(a) ? infExt(a.sign) : a;
    return zeroExt(a.sign);
  }
  if (denormCheck(a, b)) return INDEFINITE();
  if (!isFinitex(a) || isZerox(a)) return a;
  const saveRc = xs.rc;
  const flags = xs.flags;
  const t = truncInt(b);
  xs.rc = saveRc;
  xs.flags = flags;
  const k = t > 100000n ? 100000 : t < -100000n ? -100000 : Number(t);
  return roundExt(a.sign, a.mant, lsbExp(a) + k, false, 64);
}

function truncInt(a: Ext): bigint {
  const e = lsbExp(a);
  if (e >= 0) return (a.sign ? -1n : 1n) * (a.mant << BigInt(Math.min(e, 200)));
  const q = a.mant >> BigInt(-e);
  return a.sign ? -q : q;
}

/** FXTRACT: returns [exponent, significand]; zero gives ZE, -inf and signed zero. */
export function xtractx(a: Ext): [Ext, Ext] {
  if (isUnsupportedx(a)) { xs.flags |= FE_IE; return [INDEFINITE(), INDEFINITE()]; }
  if (isNaNx(a)) { if (isSNaNx(a)) xs.flags |= FE_IE; return [quiet(a), quiet(a)]; }
  if (!isFinitex(a)) return [infExt(0), a];
  if (isZerox(a)) { xs.flags |= FE_ZE; return [infExt(1), a]; }
  if (denormCheck(a, null)) return [INDEFINITE(), INDEFINITE()];
  const bl = bitLength(a.mant);
  const E = lsbExp(a) + bl - 1;
  return [intToExt(BigInt(E)), new Ext(a.sign, BIAS, a.mant << BigInt(64 - bl))];
}

/**
 * FPREM (truncating quotient) / FPREM1 (IEEE round-to-nearest quotient). Returns the
 * remainder and sets quotient bits / C2 via `prem`.
 */
export const prem = { q: 0, incomplete: false };
export function premx(a: Ext, b: Ext, ieee: boolean): Ext {
  prem.q = 0;
  prem.incomplete = false;
  const n = nanOperands(a, b);
  if (n) return n;
  if (!isFinitex(a) || isZerox(b)) { xs.flags |= FE_IE; return INDEFINITE(); }
  // x mod inf = x; a pseudo-denormal comes back in its normal encoding (exponent 1), as on the host.
  if (!isFinitex(b)) { denormCheck(a, null); return a.bexp === 0 && (a.mant & J) !== 0n ? new Ext(a.sign, 1, a.mant) : a; }
  if (denormCheck(a, b)) return INDEFINITE();
  if (isZerox(a)) return a;
  const ea = lsbExp(a) + bitLength(a.mant) - 1;
  const eb = lsbExp(b) + bitLength(b.mant) - 1;
  const d = ea - eb;
  let e = Math.min(lsbExp(a), lsbExp(b));
  let A = a.mant << BigInt(lsbExp(a) - e);
  let B = b.mant << BigInt(lsbExp(b) - e);
  if (d >= 64) {
    // Partial remainder (SDM FPREM: "N is an implementation-dependent number between 32
    // and 63"); the host (and Bochs) use N = 32 + (D mod 32).
    prem.incomplete = true;
    const shift = BigInt(d - (32 + (d & 31)));
    const Bs = B << shift;
    const q = A / Bs;
    A -= q * Bs;
    prem.q = 0;
    return A === 0n ? zeroExt(a.sign) : roundExt(a.sign, A, e, false, 64);
  }
  let q = A / B;
  let r = A - q * B;
  if (ieee) {
    const twice = 2n * r;
    if (twice > B || (twice === B && (q & 1n) === 1n)) { q += 1n; r -= B; }
  }
  prem.q = Number(q & 7n);
  let sign = a.sign;
  if (r < 0n) { sign ^= 1; r = -r; }
  if (r === 0n) return zeroExt(a.sign);
  return roundExt(sign, r, e, false, 64);
}

/** Exact value to a JS double (for the transcendental approximations). */
export function extToNumber(a: Ext): number {
  if (isNaNx(a) || isUnsupportedx(a)) return NaN;
  if (!isFinitex(a)) return a.sign ? -Infinity : Infinity;
  if (isZerox(a)) return a.sign ? -0 : 0;
  const bl = bitLength(a.mant);
  const top = Number(a.mant >> BigInt(Math.max(0, bl - 64)));
  const v = top * 2 ** (lsbExp(a) + Math.max(0, bl - 64));
  return a.sign ? -v : v;
}

/** A JS double to extended (exact). */
export function numberToExt(x: number): Ext {
  if (Number.isNaN(x)) return INDEFINITE();
  const b = new Float64Array([x]);
  const u = new Uint32Array(b.buffer);
  const saved = xs.flags;
  const r = floatToExt(u[0]!, u[1]!, true);
  xs.flags = saved;
  return r;
}

export { FE_IE, FMT_F32, FMT_F64 };
