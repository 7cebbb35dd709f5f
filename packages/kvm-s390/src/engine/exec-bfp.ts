/**
 * Binary floating point (short and long BFP) and the FPR load/store instructions.
 * FPRs are kept as 32-bit halves; a short value lives in the high word. Values are
 * converted through one shared scratch buffer (no allocation). Arithmetic rounds to
 * nearest-even (the FPC default); short results are rounded once from the exact-enough
 * double (double rounding is harmless for +, -, *, / and sqrt at these widths).
 */
import type { S390Cpu } from './cpu';
import { PGM_DATA, PGM_OPERATION, PGM_SPECIFICATION } from './pgm';
import { execBfpExt } from './exec-bfp-ext';

const scratch = new ArrayBuffer(8);
const f64 = new Float64Array(scratch);
const f32 = new Float32Array(scratch, 0, 1);
const u32 = new Uint32Array(scratch);
// INVARIANT: the host is little-endian (x86-64 / arm64), so u32[1] is the high word.

function getL(c: S390Cpu, r: number): number {
  u32[0] = c.fpr[2 * r + 1]!;
  u32[1] = c.fpr[2 * r]!;
  return f64[0]!;
}

function setL(c: S390Cpu, r: number, v: number): void {
  f64[0] = v;
  c.fpr[2 * r] = u32[1]!;
  c.fpr[2 * r + 1] = u32[0]!;
}

function getS(c: S390Cpu, r: number): number {
  u32[0] = c.fpr[2 * r]!;
  return f32[0]!;
}

function setS(c: S390Cpu, r: number, v: number): void {
  f32[0] = v;
  c.fpr[2 * r] = u32[0]!;
}

function memL(c: S390Cpu, a: number): number {
  c.rd64(a);
  u32[1] = c.r0;
  u32[0] = c.r1;
  return f64[0]!;
}

function memS(c: S390Cpu, a: number): number {
  u32[0] = c.rd32(a);
  return f32[0]!;
}

/** cc of a BFP result: 0 zero, 1 negative, 2 positive, 3 NaN. */
function ccF(v: number): number {
  if (v !== v) return 3;
  if (v === 0) return 0;
  return v < 0 ? 1 : 2;
}

function ccCmpF(a: number, b: number): number {
  if (a !== a || b !== b) return 3;
  return a === b ? 0 : a < b ? 1 : 2;
}

/** Round a double to an integer using BFP rounding method m (0 = FPC mode). */
function roundTo(c: S390Cpu, v: number, m: number): number {
  let mode = m;
  if (mode === 0) {
    switch (c.fpc & 7) {
      case 0: mode = 4; break;
      case 1: mode = 5; break;
      case 2: mode = 6; break;
      case 3: mode = 7; break;
      default: mode = 4;
    }
  }
  switch (mode) {
    case 1: // round to nearest, ties away from zero
      return v < 0 ? -Math.round(-v) : Math.round(v + 0) === v + 0.5 ? Math.round(v) : Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
    case 5: return Math.trunc(v);
    case 6: return Math.ceil(v);
    case 7: return Math.floor(v);
    default: { // 4: nearest even
      const f = Math.floor(v);
      const d = v - f;
      if (d < 0.5) return f;
      if (d > 0.5) return f + 1;
      return f % 2 === 0 ? f : f + 1;
    }
  }
}

/** Convert to a signed/unsigned integer of 32/64 bits into r0:r1 with cc; NaN/overflow -> cc 3. */
function toFixed(c: S390Cpu, v: number, m: number, bits: 32 | 64, unsigned: boolean): void {
  if (v !== v) {
    c.cc = 3;
    if (unsigned) { c.r0 = 0; c.r1 = 0; } else if (bits === 32) { c.r0 = 0; c.r1 = 0x80000000; } else { c.r0 = 0x80000000; c.r1 = 0; }
    return;
  }
  const r = roundTo(c, v, m);
  const max = unsigned ? (bits === 32 ? 4294967295 : 18446744073709551615) : (bits === 32 ? 2147483647 : 9223372036854775807);
  const min = unsigned ? 0 : (bits === 32 ? -2147483648 : -9223372036854775808);
  c.cc = v === 0 ? 0 : v < 0 ? 1 : 2;
  if (r > max || r < min || (bits === 64 && !unsigned && r >= 9223372036854775807)) {
    c.cc = 3;
    if (unsigned) { if (r < min) { c.r0 = 0; c.r1 = 0; } else { c.r0 = bits === 64 ? 0xffffffff : 0; c.r1 = 0xffffffff; } }
    else if (r < 0) { if (bits === 32) { c.r0 = 0; c.r1 = 0x80000000; } else { c.r0 = 0x80000000; c.r1 = 0; } }
    else if (bits === 32) { c.r0 = 0; c.r1 = 0x7fffffff; } else { c.r0 = 0x7fffffff; c.r1 = 0xffffffff; }
    return;
  }
  if (bits === 32) { c.r0 = r < 0 ? 0xffffffff : 0; c.r1 = r >>> 0; return; }
  if (r >= 0) { c.r1 = r % 4294967296; c.r0 = Math.floor(r / 4294967296) >>> 0; }
  else {
    // two's complement of a negative value below 2^63 in magnitude
    const a = -r;
    let lo = a % 4294967296;
    let hi = Math.floor(a / 4294967296);
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    c.r0 = hi;
    c.r1 = lo;
  }
}

/** GR r as a signed 64-bit value converted to double (rounded to nearest). */
function gr64ToDouble(c: S390Cpu, r: number, unsigned: boolean): number {
  const hi = c.gr[2 * r]!;
  const lo = c.gr[2 * r + 1]!;
  if (unsigned || (hi | 0) >= 0) return hi * 4294967296 + lo;
  // negative: -(~v + 1), computed exactly enough then rounded once by the double ops
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return -(nhi * 4294967296 + nlo);
}

export function execBfp(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const op = h0 >>> 8;
  const r1 = (h0 >>> 4) & 15;
  switch (op) {
    case 0x28: c.fpr[2 * r1] = c.fpr[2 * (h0 & 15)]!; c.fpr[2 * r1 + 1] = c.fpr[2 * (h0 & 15) + 1]!; return; // LDR
    case 0x38: c.fpr[2 * r1] = c.fpr[2 * (h0 & 15)]!; return; // LER
    case 0x60: c.wr64(c.ea(h1 >>> 12, h0 & 15, h1 & 0xfff), c.fpr[2 * r1]!, c.fpr[2 * r1 + 1]!); return; // STD
    case 0x68: c.rd64(c.ea(h1 >>> 12, h0 & 15, h1 & 0xfff)); c.fpr[2 * r1] = c.r0; c.fpr[2 * r1 + 1] = c.r1; return; // LD
    case 0x70: c.wr32(c.ea(h1 >>> 12, h0 & 15, h1 & 0xfff), c.fpr[2 * r1]!); return; // STE
    case 0x78: c.fpr[2 * r1] = c.rd32(c.ea(h1 >>> 12, h0 & 15, h1 & 0xfff)); return; // LE
    case 0xb3: execB3(c, h0, h1); return;
    case 0xed: execED(c, h0, h1, h2); return;
    default: c.pgm(PGM_OPERATION);
  }
}

function execB3(c: S390Cpu, h0: number, h1: number): void {
  const sub = h0 & 0xff;
  curCpu = c;
  const r1 = (h1 >>> 4) & 15;
  const r2 = h1 & 15;
  const m3 = h1 >>> 12;
  const g = c.gr;
  switch (sub) {
    case 0x00: { const v = Math.abs(getS(c, r2)); setS(c, r1, v); c.cc = ccF(v); return; } // LPEBR
    case 0x01: { const v = -Math.abs(getS(c, r2)); setS(c, r1, v); c.cc = ccF(v); return; } // LNEBR
    case 0x02: { c.fpr[2 * r1] = c.fpr[2 * r2]!; c.cc = ccF(getS(c, r1)); return; } // LTEBR
    case 0x03: { c.fpr[2 * r1] = (c.fpr[2 * r2]! ^ 0x80000000) >>> 0; c.cc = ccF(getS(c, r1)); return; } // LCEBR
    case 0x04: setL(c, r1, getS(c, r2)); return; // LDEBR
    case 0x09: c.cc = ccCmpF(getS(c, r1), getS(c, r2)); return; // CEBR
    case 0x08: c.cc = ccCmpF(getS(c, r1), getS(c, r2)); return; // KEBR
    case 0x0a: { const v = Math.fround(getS(c, r1) + getS(c, r2)); setS(c, r1, v); c.cc = ccF(v); return; } // AEBR
    case 0x0b: { const v = Math.fround(getS(c, r1) - getS(c, r2)); setS(c, r1, v); c.cc = ccF(v); return; } // SEBR
    case 0x0d: divCheck(c, getS(c, r2)); setS(c, r1, Math.fround(getS(c, r1) / getS(c, r2))); return; // DEBR
    // RRD format (MA*BR / MS*BR): R1 in bits 16-19, R3 in 24-27: R1 = R3 * R2 +/- R1
    case 0x0e: { const d = h1 >>> 12; setS(c, d, Math.fround(getS(c, r1) * getS(c, r2) + getS(c, d))); return; } // MAEBR
    case 0x0f: { const d = h1 >>> 12; setS(c, d, Math.fround(getS(c, r1) * getS(c, r2) - getS(c, d))); return; } // MSEBR
    case 0x10: { const v = Math.abs(getL(c, r2)); setL(c, r1, v); c.cc = ccF(v); return; } // LPDBR
    case 0x11: { const v = -Math.abs(getL(c, r2)); setL(c, r1, v); c.cc = ccF(v); return; } // LNDBR
    case 0x12: { c.fpr[2 * r1] = c.fpr[2 * r2]!; c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!; c.cc = ccF(getL(c, r1)); return; } // LTDBR
    case 0x13: { c.fpr[2 * r1] = (c.fpr[2 * r2]! ^ 0x80000000) >>> 0; c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!; c.cc = ccF(getL(c, r1)); return; } // LCDBR
    case 0x14: setS(c, r1, Math.fround(Math.sqrt(getS(c, r2)))); return; // SQEBR
    case 0x15: setL(c, r1, Math.sqrt(getL(c, r2))); return; // SQDBR
    case 0x17: setS(c, r1, Math.fround(getS(c, r1) * getS(c, r2))); return; // MEEBR
    case 0x18: case 0x19: c.cc = ccCmpF(getL(c, r1), getL(c, r2)); return; // KDBR CDBR
    case 0x1a: { const v = getL(c, r1) + getL(c, r2); setL(c, r1, v); c.cc = ccF(v); return; } // ADBR
    case 0x1b: { const v = getL(c, r1) - getL(c, r2); setL(c, r1, v); c.cc = ccF(v); return; } // SDBR
    case 0x1c: setL(c, r1, getL(c, r1) * getL(c, r2)); return; // MDBR
    case 0x1d: divCheck(c, getL(c, r2)); setL(c, r1, getL(c, r1) / getL(c, r2)); return; // DDBR
    case 0x1e: { const d = h1 >>> 12; setL(c, d, fma(getL(c, r1), getL(c, r2), getL(c, d))); return; } // MADBR
    case 0x1f: { const d = h1 >>> 12; setL(c, d, fma(getL(c, r1), getL(c, r2), -getL(c, d))); return; } // MSDBR
    case 0x44: setS(c, r1, Math.fround(getL(c, r2))); return; // LEDBR
    case 0x57: setS(c, r1, Math.fround(roundTo(c, getS(c, r2), m3))); return; // FIEBR
    case 0x5f: setL(c, r1, roundTo(c, getL(c, r2), m3)); return; // FIDBR
    case 0x74: c.fpr[2 * r1] = 0; return; // LZER
    case 0x75: c.fpr[2 * r1] = 0; c.fpr[2 * r1 + 1] = 0; return; // LZDR
    case 0x84: c.fpc = g[2 * r1 + 1]!; return; // SFPC
    case 0x8c: g[2 * r1 + 1] = c.fpc; return; // EFPC
    case 0x94: setS(c, r1, Math.fround(g[2 * r2 + 1]! | 0)); return; // CEFBR
    case 0x95: setL(c, r1, g[2 * r2 + 1]! | 0); return; // CDFBR
    case 0xa4: setS(c, r1, Math.fround(gr64ToDouble(c, r2, false))); return; // CEGBR
    case 0xa5: setL(c, r1, gr64ToDouble(c, r2, false)); return; // CDGBR
    case 0x90: setS(c, r1, Math.fround(g[2 * r2 + 1]!)); return; // CELFBR
    case 0x91: setL(c, r1, g[2 * r2 + 1]!); return; // CDLFBR
    case 0xa0: setS(c, r1, Math.fround(gr64ToDouble(c, r2, true))); return; // CELGBR
    case 0xa1: setL(c, r1, gr64ToDouble(c, r2, true)); return; // CDLGBR
    case 0x98: toFixed(c, getS(c, r2), m3, 32, false); g[2 * r1 + 1] = c.r1; return; // CFEBR
    case 0x99: toFixed(c, getL(c, r2), m3, 32, false); g[2 * r1 + 1] = c.r1; return; // CFDBR
    case 0xa8: toFixed(c, getS(c, r2), m3, 64, false); c.set64(r1, c.r0, c.r1); return; // CGEBR
    case 0xa9: toFixed(c, getL(c, r2), m3, 64, false); c.set64(r1, c.r0, c.r1); return; // CGDBR
    case 0x9c: toFixed(c, getS(c, r2), m3, 32, true); g[2 * r1 + 1] = c.r1; return; // CLFEBR
    case 0x9d: toFixed(c, getL(c, r2), m3, 32, true); g[2 * r1 + 1] = c.r1; return; // CLFDBR
    case 0xac: toFixed(c, getS(c, r2), m3, 64, true); c.set64(r1, c.r0, c.r1); return; // CLGEBR
    case 0xad: toFixed(c, getL(c, r2), m3, 64, true); c.set64(r1, c.r0, c.r1); return; // CLGDBR
    case 0xc1: c.fpr[2 * r1] = g[2 * r2]!; c.fpr[2 * r1 + 1] = g[2 * r2 + 1]!; return; // LDGR
    case 0xcd: c.set64(r1, c.fpr[2 * r2]!, c.fpr[2 * r2 + 1]!); return; // LGDR
    case 0x70: { // LPDFR
      c.fpr[2 * r1] = c.fpr[2 * r2]! & 0x7fffffff; c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!; return;
    }
    case 0x71: { // LNDFR
      c.fpr[2 * r1] = (c.fpr[2 * r2]! | 0x80000000) >>> 0; c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!; return;
    }
    case 0x73: { // LCDFR
      c.fpr[2 * r1] = (c.fpr[2 * r2]! ^ 0x80000000) >>> 0; c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!; return;
    }
    case 0x72: { // CPSDR r1,r3,r2: magnitude of r2 with the sign of r3
      const r3 = h1 >>> 12;
      c.fpr[2 * r1] = ((c.fpr[2 * r2]! & 0x7fffffff) | (c.fpr[2 * r3]! & 0x80000000)) >>> 0;
      c.fpr[2 * r1 + 1] = c.fpr[2 * r2 + 1]!;
      return;
    }
    default:
      if (!execBfpExt(c, sub, h1, getLr, setLr)) c.pgm(PGM_OPERATION);
  }
}

/** FPR accessors handed to the extended-BFP code (bound once, not per call). */
let curCpu: S390Cpu | null = null;
function getLr(r: number): number { return getL(curCpu!, r); }
function setLr(r: number, v: number): void { setL(curCpu!, r, v); }

/** Division by zero: IEEE division-by-zero, trapping when its FPC mask bit is on. */
function divCheck(c: S390Cpu, d: number): void {
  if (d === 0 && (c.fpc & 0x40000000)) {
    c.dataExcCode = 0x40;
    c.fpc = (c.fpc & ~0xff00) | 0x4000;
    c.pgm(PGM_DATA);
  }
}

/** Fused multiply-add a*b+c; exact where the product fits, else the double approximation. */
function fma(a: number, b: number, c: number): number {
  return a * b + c;
}

function execED(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const r1 = (h0 >>> 4) & 15;
  const x2 = h0 & 15;
  const b2 = h1 >>> 12;
  const sub = h2 & 0xff;
  // RXY-format FPR loads/stores with a 20-bit displacement
  if (sub >= 0x64 && sub <= 0x67) {
    const d = (((h2 >>> 8) << 24) >> 12) | (h1 & 0xfff);
    const a = c.ea(b2, x2, d);
    if (sub === 0x64) c.fpr[2 * r1] = c.rd32(a); // LEY
    else if (sub === 0x65) { c.rd64(a); c.fpr[2 * r1] = c.r0; c.fpr[2 * r1 + 1] = c.r1; } // LDY
    else if (sub === 0x66) c.wr32(a, c.fpr[2 * r1]!); // STEY
    else c.wr64(a, c.fpr[2 * r1]!, c.fpr[2 * r1 + 1]!); // STDY
    return;
  }
  const a = c.ea(b2, x2, h1 & 0xfff);
  switch (sub) {
    case 0x04: setL(c, r1, memS(c, a)); return; // LDEB
    case 0x09: case 0x08: c.cc = ccCmpF(getS(c, r1), memS(c, a)); return; // CEB KEB
    case 0x0a: { const v = Math.fround(getS(c, r1) + memS(c, a)); setS(c, r1, v); c.cc = ccF(v); return; } // AEB
    case 0x0b: { const v = Math.fround(getS(c, r1) - memS(c, a)); setS(c, r1, v); c.cc = ccF(v); return; } // SEB
    case 0x0d: { const d = memS(c, a); divCheck(c, d); setS(c, r1, Math.fround(getS(c, r1) / d)); return; } // DEB
    case 0x17: setS(c, r1, Math.fround(getS(c, r1) * memS(c, a))); return; // MEEB
    case 0x19: case 0x18: c.cc = ccCmpF(getL(c, r1), memL(c, a)); return; // CDB KDB
    case 0x1a: { const v = getL(c, r1) + memL(c, a); setL(c, r1, v); c.cc = ccF(v); return; } // ADB
    case 0x1b: { const v = getL(c, r1) - memL(c, a); setL(c, r1, v); c.cc = ccF(v); return; } // SDB
    case 0x1c: setL(c, r1, getL(c, r1) * memL(c, a)); return; // MDB
    case 0x1d: { const d = memL(c, a); divCheck(c, d); setL(c, r1, getL(c, r1) / d); return; } // DDB
    case 0x15: setL(c, r1, Math.sqrt(memL(c, a))); return; // SQDB
    case 0x1e: { const d = h2 >>> 12; setL(c, d, fma(memL(c, a), getL(c, r1), getL(c, d))); return; } // MADB (RXF: R1 = R3 * m + R1; R3 sits in the R1 slot)
    case 0x1f: { const d = h2 >>> 12; setL(c, d, fma(memL(c, a), getL(c, r1), -getL(c, d))); return; } // MSDB
    case 0x10: case 0x11: case 0x12: { // TCEB TCDB TCXB: test data class
      const v = sub === 0x10 ? memS(c, a) : getL(c, r1);
      const mask = c.ea(b2, x2, h1 & 0xfff);
      const neg = v < 0 || Object.is(v, -0) ? 1 : 0;
      let bit: number;
      if (v === 0) bit = 11 - neg;
      else if (v !== v) bit = 3 - neg; // treat as quiet NaN
      else if (!Number.isFinite(v)) bit = 5 - neg;
      else bit = 9 - neg; // normal (subnormals reported as normal)
      c.cc = (mask >>> bit) & 1;
      return;
    }
    default:
      if (sub === 0x14) { c.pgm(PGM_SPECIFICATION); return; }
      c.pgm(PGM_OPERATION);
  }
}
