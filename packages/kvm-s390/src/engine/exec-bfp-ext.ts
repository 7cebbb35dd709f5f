/**
 * Extended (128-bit) BFP: what gcc emits for unsigned 64-bit <-> double conversions on
 * z10 (CXGBR, AXBR, LDXBR ...) and for long double. A value lives in an FPR pair
 * (r, r+2) as IEEE binary128. These instructions are rare, so they compute exactly
 * with BigInt (sign, integer significand, binary exponent) and round once to
 * nearest-even; the common short/long BFP path never comes here.
 */
import type { S390Cpu } from './cpu';
import { PGM_SPECIFICATION } from './pgm';

const BIAS = 16383;
const FRAC = 112n;

/** An exact value: (-1)^neg * m * 2^e, or a special. */
interface Exact { neg: boolean; m: bigint; e: number; kind: 'num' | 'inf' | 'nan' }

function pairOk(c: S390Cpu, r: number): void {
  if (r & 2) c.pgm(PGM_SPECIFICATION);
}

function getX(c: S390Cpu, r: number): Exact {
  const f = c.fpr;
  const hi = (BigInt(f[2 * r]!) << 32n) | BigInt(f[2 * r + 1]!);
  const lo = (BigInt(f[2 * (r + 2)]!) << 32n) | BigInt(f[2 * (r + 2) + 1]!);
  const neg = (hi >> 63n) !== 0n;
  const exp = Number((hi >> 48n) & 0x7fffn);
  const frac = ((hi & 0xffffffffffffn) << 64n) | lo;
  if (exp === 0x7fff) return { neg, m: frac, e: 0, kind: frac === 0n ? 'inf' : 'nan' };
  if (exp === 0) return { neg, m: frac, e: 1 - BIAS - 112, kind: 'num' };
  return { neg, m: frac | (1n << FRAC), e: exp - BIAS - 112, kind: 'num' };
}

function putBits(c: S390Cpu, r: number, hi: bigint, lo: bigint): void {
  const f = c.fpr;
  f[2 * r] = Number(hi >> 32n); f[2 * r + 1] = Number(hi & 0xffffffffn);
  f[2 * (r + 2)] = Number(lo >> 32n); f[2 * (r + 2) + 1] = Number(lo & 0xffffffffn);
}

function bitlen(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** Round m * 2^e to `bits` significant bits, nearest-even; returns the new [m, e]. */
function roundTo(m: bigint, e: number, bits: number, minE: number): [bigint, number] {
  let shift = bitlen(m) - bits;
  if (e + shift < minE) shift = minE - e; // subnormal range: fixed exponent
  if (shift < 0) { // normalize up (as far as the exponent range allows)
    let up = -shift;
    if (e - up < minE) up = Math.max(0, e - minE);
    return [m << BigInt(up), e - up];
  }
  if (shift === 0) return [m, e];
  const half = 1n << BigInt(shift - 1);
  const rem = m & ((1n << BigInt(shift)) - 1n);
  let q = m >> BigInt(shift);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return bitlen(q) > bits ? [q >> 1n, e + shift + 1] : [q, e + shift];
}

function setX(c: S390Cpu, r: number, v: Exact): void {
  const sign = v.neg ? 1n << 63n : 0n;
  if (v.kind === 'nan') { putBits(c, r, sign | (0x7fffn << 48n) | (1n << 47n), 0n); return; }
  if (v.kind === 'inf' || v.m === 0n) {
    putBits(c, r, sign | (v.kind === 'inf' ? 0x7fffn << 48n : 0n), 0n);
    return;
  }
  const [m, e] = roundTo(v.m, v.e, 113, 1 - BIAS - 112);
  const biased = e + 112 + BIAS;
  if (biased >= 0x7fff) { putBits(c, r, sign | (0x7fffn << 48n), 0n); return; }
  const normal = bitlen(m) === 113;
  const expField = normal ? BigInt(biased) : 0n;
  const frac = m & ((1n << FRAC) - 1n);
  putBits(c, r, sign | (expField << 48n) | (frac >> 64n), frac & 0xffffffffffffffffn);
}

function cmpExact(a: Exact, b: Exact): number {
  if (a.kind === 'nan' || b.kind === 'nan') return 3;
  const sa = a.kind === 'inf' ? (a.neg ? -2 : 2) : 0;
  const sb = b.kind === 'inf' ? (b.neg ? -2 : 2) : 0;
  if (sa !== 0 || sb !== 0) return sa === sb ? 0 : sa < sb ? 1 : 2;
  const d = sub(a, b);
  return d.m === 0n ? 0 : d.neg ? 1 : 2;
}

function add(a: Exact, b: Exact): Exact {
  if (a.kind !== 'num' || b.kind !== 'num') {
    if (a.kind === 'nan' || b.kind === 'nan' || (a.kind === 'inf' && b.kind === 'inf' && a.neg !== b.neg)) return { neg: false, m: 0n, e: 0, kind: 'nan' };
    return a.kind === 'inf' ? a : b;
  }
  const e = Math.min(a.e, b.e);
  const ma = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const mb = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const s = ma + mb;
  return { neg: s < 0n, m: s < 0n ? -s : s, e, kind: 'num' };
}

function sub(a: Exact, b: Exact): Exact {
  return add(a, { ...b, neg: !b.neg });
}

function mul(a: Exact, b: Exact): Exact {
  if (a.kind !== 'num' || b.kind !== 'num') return { neg: a.neg !== b.neg, m: 0n, e: 0, kind: a.kind === 'nan' || b.kind === 'nan' ? 'nan' : 'inf' };
  return { neg: a.neg !== b.neg, m: a.m * b.m, e: a.e + b.e, kind: 'num' };
}

function div(a: Exact, b: Exact): Exact {
  if (a.kind !== 'num' || b.kind !== 'num' || b.m === 0n) {
    if (a.kind === 'num' && b.kind === 'num' && a.m !== 0n) return { neg: a.neg !== b.neg, m: 0n, e: 0, kind: 'inf' };
    return { neg: false, m: 0n, e: 0, kind: 'nan' };
  }
  const k = 240;
  const n = a.m << BigInt(k);
  const q = n / b.m;
  const sticky = n % b.m !== 0n ? 1n : 0n;
  return { neg: a.neg !== b.neg, m: (q << 1n) | sticky, e: a.e - b.e - k - 1, kind: 'num' };
}

function fromDouble(v: number): Exact {
  if (v !== v) return { neg: false, m: 0n, e: 0, kind: 'nan' };
  if (!Number.isFinite(v)) return { neg: v < 0, m: 0n, e: 0, kind: 'inf' };
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const bits = dv.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  const neg = (bits >> 63n) !== 0n;
  if (exp === 0) return { neg, m: frac, e: -1074, kind: 'num' };
  return { neg, m: frac | (1n << 52n), e: exp - 1075, kind: 'num' };
}

function toDouble(v: Exact, bits: 53 | 24): number {
  if (v.kind === 'nan') return NaN;
  if (v.kind === 'inf') return v.neg ? -Infinity : Infinity;
  if (v.m === 0n) return v.neg ? -0 : 0;
  const [m, e] = roundTo(v.m, v.e, bits, bits === 53 ? -1074 : -149);
  const r = Number(m) * 2 ** e;
  return v.neg ? -r : r;
}

/** Integer conversion with BFP rounding method m3 (0: FPC mode). */
function toInt(c: S390Cpu, v: Exact, m3: number): bigint | null {
  if (v.kind !== 'num') return null;
  let mode = m3 === 0 ? [4, 5, 6, 7][c.fpc & 3]! : m3;
  if (v.e >= 0) return (v.neg ? -1n : 1n) * (v.m << BigInt(v.e));
  const sh = BigInt(-v.e);
  let q = v.m >> sh;
  const rem = v.m & ((1n << sh) - 1n);
  const half = 1n << (sh - 1n);
  if (mode === 1) mode = rem >= half ? 8 : 5;
  if (mode === 4 && (rem > half || (rem === half && (q & 1n) === 1n))) q += 1n;
  else if (mode === 8) q += 1n;
  else if (mode === 6 && !v.neg && rem !== 0n) q += 1n;
  else if (mode === 7 && v.neg && rem !== 0n) q += 1n;
  return v.neg ? -q : q;
}

function ccX(v: Exact): number {
  if (v.kind === 'nan') return 3;
  if (v.kind === 'num' && v.m === 0n) return 0;
  return v.neg ? 1 : 2;
}

/** B3xx extended-BFP operations; returns false if `sub` is not one of them. */
export function execBfpExt(c: S390Cpu, sub: number, h1: number, getL: (r: number) => number, setL: (r: number, v: number) => void): boolean {
  const r1 = (h1 >>> 4) & 15;
  const r2 = h1 & 15;
  const m3 = h1 >>> 12;
  const g = c.gr;
  switch (sub) {
    case 0x40: case 0x41: case 0x42: case 0x43: { // LPXBR LNXBR LTXBR LCXBR
      pairOk(c, r1); pairOk(c, r2);
      const v = getX(c, r2);
      if (sub === 0x40) v.neg = false; else if (sub === 0x41) v.neg = true; else if (sub === 0x43) v.neg = !v.neg;
      setX(c, r1, v);
      c.cc = ccX(v);
      return true;
    }
    case 0x45: pairOk(c, r2); setL(r1, toDouble(getX(c, r2), 53)); return true; // LDXBR
    case 0x46: { pairOk(c, r2); const f = Math.fround(toDouble(getX(c, r2), 24)); const b = new DataView(new ArrayBuffer(4)); b.setFloat32(0, f); c.fpr[2 * r1] = b.getUint32(0); return true; } // LEXBR
    case 0x05: pairOk(c, r1); setX(c, r1, fromDouble(getL(r2))); return true; // LXDBR
    case 0x06: { pairOk(c, r1); const b = new DataView(new ArrayBuffer(4)); b.setUint32(0, c.fpr[2 * r2]!); setX(c, r1, fromDouble(b.getFloat32(0))); return true; } // LXEBR
    case 0x48: case 0x49: pairOk(c, r1); pairOk(c, r2); c.cc = cmpExact(getX(c, r1), getX(c, r2)); return true; // KXBR CXBR
    case 0x4a: case 0x4b: case 0x4c: case 0x4d: { // AXBR SXBR MXBR DXBR
      pairOk(c, r1); pairOk(c, r2);
      const a = getX(c, r1);
      const b = getX(c, r2);
      const v = sub === 0x4a ? add(a, b) : sub === 0x4b ? sub_(a, b) : sub === 0x4c ? mul(a, b) : div(a, b);
      setX(c, r1, v);
      if (sub <= 0x4b) c.cc = ccX(getX(c, r1));
      return true;
    }
    case 0x65: pairOk(c, r1); pairOk(c, r2); for (const d of [0, 2]) { c.fpr[2 * (r1 + d)] = c.fpr[2 * (r2 + d)]!; c.fpr[2 * (r1 + d) + 1] = c.fpr[2 * (r2 + d) + 1]!; } return true; // LXR
    case 0x76: pairOk(c, r1); putBits(c, r1, 0n, 0n); return true; // LZXR
    case 0x96: case 0x92: pairOk(c, r1); setX(c, r1, exactInt(BigInt(sub === 0x96 ? g[2 * r2 + 1]! | 0 : g[2 * r2 + 1]!))); return true; // CXFBR CXLFBR
    case 0xa6: case 0xa2: { // CXGBR CXLGBR
      pairOk(c, r1);
      const u = (BigInt(g[2 * r2]!) << 32n) | BigInt(g[2 * r2 + 1]!);
      setX(c, r1, exactInt(sub === 0xa6 ? BigInt.asIntN(64, u) : u));
      return true;
    }
    case 0x9a: case 0xaa: case 0x9e: case 0xae: { // CFXBR CGXBR CLFXBR CLGXBR
      pairOk(c, r2);
      const v = getX(c, r2);
      const i = toInt(c, v, m3);
      const bits = sub === 0x9a || sub === 0x9e ? 32 : 64;
      const unsigned = sub === 0x9e || sub === 0xae;
      const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
      const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
      let r: bigint;
      if (i === null || i > max || i < min) { c.cc = 3; r = i === null ? (unsigned ? 0n : min) : i > max ? max : min; }
      else { c.cc = ccX(v); r = i; }
      const u = BigInt.asUintN(64, r);
      if (bits === 32) g[2 * r1 + 1] = Number(u & 0xffffffffn);
      else { g[2 * r1] = Number(u >> 32n); g[2 * r1 + 1] = Number(u & 0xffffffffn); }
      return true;
    }
    default:
      return false;
  }
}

function sub_(a: Exact, b: Exact): Exact {
  return sub(a, b);
}

function exactInt(v: bigint): Exact {
  return { neg: v < 0n, m: v < 0n ? -v : v, e: 0, kind: 'num' };
}
