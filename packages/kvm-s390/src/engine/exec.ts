/**
 * The interpreter: one z/Architecture instruction, already fetched as up to three
 * halfwords, with the PSW already pointing past it (branches overwrite it).
 * Dispatch is a switch on the first byte, then on the extended opcode of the format.
 * Unknown opcodes raise the operation exception in the guest.
 */
import type { S390Cpu } from './cpu';
import {
  addS32, addS64, addU32, addU64, ccCmp, ccCmp64, ccCmpU64, ccS32, ccS64, divRemS64, divRemU128,
  fixedOverflow, mulLow64, mulS32, mulS64, mulU32, mulU64, rangeMask64, rotl64, sar64, sext16, sext8,
  shl64, shr64, subS32, subS64, subU32, subU64,
} from './arith';
import { PGM_EXECUTE, PGM_FIXPOINT_DIVIDE, PGM_OPERATION } from './pgm';
import { execStorage } from './exec-storage';
import { execControl } from './exec-control';
import { execBfp } from './exec-bfp';

const TWO32 = 4294967296;

/** RXY / RSY / SIY 20-bit signed displacement from the 2nd and 3rd halfwords. */
function dispY(h1: number, h2: number): number {
  return (((h2 >>> 8) << 24) >> 12) | (h1 & 0xfff);
}

/** Relative target: ia + 2*i (i already signed). */
function rel(c: S390Cpu, ia: number, i: number): number {
  return c.wrapNum(ia + 2 * i);
}

/** Branch-condition test: mask bit 8>>cc. */
function cond(c: S390Cpu, m: number): boolean {
  return ((m >>> (3 - c.cc)) & 1) !== 0;
}

/** The link information BAS/BRAS/BASR store: the next address in the current mode. */
function link(c: S390Cpu, r: number): void {
  const a = c.pswAddr;
  if (c.amode64) {
    const lo = a >>> 0;
    c.set64(r, Math.floor((a - lo) / TWO32) >>> 0, lo);
  } else if (c.pswMask1 & 0x80000000) {
    c.setU32(r, (a | 0x80000000) >>> 0);
  } else {
    c.setU32(r, a & 0xffffff);
  }
}

/** Address from the register value r in the current mode (for BCR/BASR targets). */
function regAddr(c: S390Cpu, r: number): number {
  return c.wrapAddr(c.gr[2 * r]!, c.gr[2 * r + 1]!);
}

function mustEven(c: S390Cpu, r: number): void {
  if (r & 1) c.specification();
}

export function execute(c: S390Cpu, h0: number, h1: number, h2: number, ia: number): void {
  const g = c.gr;
  const op = h0 >>> 8;
  const r1 = (h0 >>> 4) & 15;
  const r2 = h0 & 15;
  switch (op) {
    // ------------------------------------------------------------------ RR
    case 0x04: { // SPM
      c.cc = (g[2 * r1 + 1]! >>> 28) & 3;
      c.pswMask0 = ((c.pswMask0 & ~0xf00) | ((g[2 * r1 + 1]! >>> 16) & 0xf00)) >>> 0;
      return;
    }
    case 0x05: { // BALR (24/31-bit link as BASR in 31/64)
      const t = regAddr(c, r2);
      link(c, r1);
      if (r2 !== 0) c.pswAddr = t;
      return;
    }
    case 0x06: { // BCTR
      const t = regAddr(c, r2);
      const v = (g[2 * r1 + 1]! - 1) >>> 0;
      g[2 * r1 + 1] = v;
      if (v !== 0 && r2 !== 0) c.pswAddr = t;
      return;
    }
    case 0x07: // BCR
      if (r2 !== 0 && cond(c, r1)) c.pswAddr = regAddr(c, r2);
      return;
    case 0x0a: // SVC: the interruption is taken at once (no intercept under SIE)
      c.svc(h0 & 0xff);
      return;
    case 0x0d: { // BASR
      const t = regAddr(c, r2);
      link(c, r1);
      if (r2 !== 0) c.pswAddr = t;
      return;
    }
    case 0x10: { // LPR
      const v = c.getS32(r2);
      if (v === -0x80000000) { g[2 * r1 + 1] = v >>> 0; fixedOverflow(c); return; }
      const r = Math.abs(v);
      g[2 * r1 + 1] = r;
      c.cc = ccS32(r);
      return;
    }
    case 0x11: { // LNR
      const v = c.getS32(r2);
      const r = v > 0 ? -v : v;
      g[2 * r1 + 1] = r >>> 0;
      c.cc = r === 0 ? 0 : 1;
      return;
    }
    case 0x12: { // LTR
      const v = g[2 * r2 + 1]!;
      g[2 * r1 + 1] = v;
      c.cc = ccS32(v | 0);
      return;
    }
    case 0x13: { // LCR
      const v = c.getS32(r2);
      const r = (-v) | 0;
      g[2 * r1 + 1] = r >>> 0;
      if (v === -0x80000000) { fixedOverflow(c); return; }
      c.cc = ccS32(r);
      return;
    }
    case 0x14: { const r = g[2 * r1 + 1]! & g[2 * r2 + 1]!; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // NR
    case 0x15: c.cc = ccCmp(g[2 * r1 + 1]!, g[2 * r2 + 1]!); return; // CLR
    case 0x16: { const r = g[2 * r1 + 1]! | g[2 * r2 + 1]!; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // OR
    case 0x17: { const r = g[2 * r1 + 1]! ^ g[2 * r2 + 1]!; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // XR
    case 0x18: g[2 * r1 + 1] = g[2 * r2 + 1]!; return; // LR
    case 0x19: c.cc = ccCmp(c.getS32(r1), c.getS32(r2)); return; // CR
    case 0x1a: { g[2 * r1 + 1] = addS32(c, c.getS32(r1), c.getS32(r2)) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // AR
    case 0x1b: { g[2 * r1 + 1] = subS32(c, c.getS32(r1), c.getS32(r2)) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // SR
    case 0x1c: { // MR (even-odd pair, multiplicand in r1+1)
      mustEven(c, r1);
      mulS32(c, g[2 * r1 + 3]!, g[2 * r2 + 1]!);
      g[2 * r1 + 1] = c.r0;
      g[2 * r1 + 3] = c.r1;
      return;
    }
    case 0x1d: { // DR
      mustEven(c, r1);
      divide32(c, r1, g[2 * r2 + 1]! | 0);
      return;
    }
    case 0x1e: g[2 * r1 + 1] = addU32(c, g[2 * r1 + 1]!, g[2 * r2 + 1]!, 0); return; // ALR
    case 0x1f: g[2 * r1 + 1] = subU32(c, g[2 * r1 + 1]!, g[2 * r2 + 1]!, 0); return; // SLR
    case 0x0e: case 0x0f: case 0xd1: case 0xd2: case 0xd3: case 0xd4: case 0xd5: case 0xd6: case 0xd7:
    case 0xdc: case 0xdd: case 0xa8: case 0xa9: case 0xe8: case 0x93:
      execStorage(c, h0, h1, h2);
      return;
    // ------------------------------------------------------------------ RX
    case 0x40: c.wr16(c.ea(h1 >>> 12, r2, h1 & 0xfff), g[2 * r1 + 1]! & 0xffff); return; // STH
    case 0x41: { // LA
      laInto(c, r1, h1 >>> 12, r2, h1 & 0xfff);
      return;
    }
    case 0x42: c.wr8(c.ea(h1 >>> 12, r2, h1 & 0xfff), g[2 * r1 + 1]! & 0xff); return; // STC
    case 0x43: g[2 * r1 + 1] = ((g[2 * r1 + 1]! & 0xffffff00) | c.rd8(c.ea(h1 >>> 12, r2, h1 & 0xfff))) >>> 0; return; // IC
    case 0x44: { // EX
      execTarget(c, r1, c.ea(h1 >>> 12, r2, h1 & 0xfff));
      return;
    }
    case 0x45: { // BAL
      const t = c.ea(h1 >>> 12, r2, h1 & 0xfff);
      link(c, r1);
      c.pswAddr = t;
      return;
    }
    case 0x46: { // BCT
      const t = c.ea(h1 >>> 12, r2, h1 & 0xfff);
      const v = (g[2 * r1 + 1]! - 1) >>> 0;
      g[2 * r1 + 1] = v;
      if (v !== 0) c.pswAddr = t;
      return;
    }
    case 0x47: { // BC
      if (cond(c, r1)) c.pswAddr = c.ea(h1 >>> 12, r2, h1 & 0xfff);
      return;
    }
    case 0x48: g[2 * r1 + 1] = sext16(c.rd16(c.ea(h1 >>> 12, r2, h1 & 0xfff))) >>> 0; return; // LH
    case 0x49: c.cc = ccCmp(c.getS32(r1), sext16(c.rd16(c.ea(h1 >>> 12, r2, h1 & 0xfff)))); return; // CH
    case 0x4a: { g[2 * r1 + 1] = addS32(c, c.getS32(r1), sext16(c.rd16(c.ea(h1 >>> 12, r2, h1 & 0xfff)))) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // AH
    case 0x4b: { g[2 * r1 + 1] = subS32(c, c.getS32(r1), sext16(c.rd16(c.ea(h1 >>> 12, r2, h1 & 0xfff)))) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // SH
    case 0x4c: g[2 * r1 + 1] = Math.imul(c.getS32(r1), sext16(c.rd16(c.ea(h1 >>> 12, r2, h1 & 0xfff)))) >>> 0; return; // MH
    case 0x4d: { // BAS
      const t = c.ea(h1 >>> 12, r2, h1 & 0xfff);
      link(c, r1);
      c.pswAddr = t;
      return;
    }
    case 0x50: c.wr32(c.ea(h1 >>> 12, r2, h1 & 0xfff), g[2 * r1 + 1]!); return; // ST
    case 0x54: { const r = g[2 * r1 + 1]! & c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)); g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // N
    case 0x55: c.cc = ccCmp(g[2 * r1 + 1]!, c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff))); return; // CL
    case 0x56: { const r = g[2 * r1 + 1]! | c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)); g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // O
    case 0x57: { const r = g[2 * r1 + 1]! ^ c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)); g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // X
    case 0x58: g[2 * r1 + 1] = c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)); return; // L
    case 0x59: c.cc = ccCmp(c.getS32(r1), c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)) | 0); return; // C
    case 0x5a: { g[2 * r1 + 1] = addS32(c, c.getS32(r1), c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)) | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // A
    case 0x5b: { g[2 * r1 + 1] = subS32(c, c.getS32(r1), c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)) | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // S
    case 0x5c: { mustEven(c, r1); mulS32(c, g[2 * r1 + 3]!, c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff))); g[2 * r1 + 1] = c.r0; g[2 * r1 + 3] = c.r1; return; } // M
    case 0x5d: { mustEven(c, r1); divide32(c, r1, c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)) | 0); return; } // D
    case 0x5e: g[2 * r1 + 1] = addU32(c, g[2 * r1 + 1]!, c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)), 0); return; // AL
    case 0x5f: g[2 * r1 + 1] = subU32(c, g[2 * r1 + 1]!, c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff)), 0); return; // SL
    case 0x71: g[2 * r1 + 1] = Math.imul(c.getS32(r1), c.rd32(c.ea(h1 >>> 12, r2, h1 & 0xfff))) >>> 0; return; // MS
    // ------------------------------------------------------------------ RS
    case 0x86: case 0x87: { // BXH, BXLE
      const r3 = r2;
      const t = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const inc = c.getS32(r3);
      const cmp = c.getS32(r3 | 1);
      const sum = (c.getS32(r1) + inc) | 0;
      g[2 * r1 + 1] = sum >>> 0;
      if (op === 0x86 ? sum > cmp : sum <= cmp) c.pswAddr = t;
      return;
    }
    case 0x88: case 0x89: case 0x8a: case 0x8b: { // SRL SLL SRA SLA
      const n = c.ea(h1 >>> 12, 0, h1 & 0xfff) & 63;
      const v = g[2 * r1 + 1]!;
      if (op === 0x88) g[2 * r1 + 1] = n > 31 ? 0 : v >>> n;
      else if (op === 0x89) g[2 * r1 + 1] = n > 31 ? 0 : (v << n) >>> 0;
      else if (op === 0x8a) { const r = (v | 0) >> (n > 31 ? 31 : n); g[2 * r1 + 1] = r >>> 0; c.cc = ccS32(r); }
      else slaShift32(c, r1, n);
      return;
    }
    case 0x8c: case 0x8d: case 0x8e: case 0x8f: { // SRDL SLDL SRDA SLDA
      mustEven(c, r1);
      const n = c.ea(h1 >>> 12, 0, h1 & 0xfff) & 63;
      const hi = g[2 * r1 + 1]!;
      const lo = g[2 * r1 + 3]!;
      if (op === 0x8c) shr64(c, hi, lo, n);
      else if (op === 0x8d) shl64(c, hi, lo, n);
      else if (op === 0x8e) { sar64(c, hi, lo, n); c.cc = ccS64(c.r0, c.r1); }
      else { slaShift64(c, hi, lo, n); }
      g[2 * r1 + 1] = c.r0;
      g[2 * r1 + 3] = c.r1;
      if (op === 0x8f && c.cc === 3) fixedOverflow(c);
      return;
    }
    case 0x84: case 0x85: { // BRXH, BRXLE
      const r3 = r2;
      const inc = c.getS32(r3);
      const cmp = c.getS32(r3 | 1);
      const sum = (c.getS32(r1) + inc) | 0;
      g[2 * r1 + 1] = sum >>> 0;
      if (op === 0x84 ? sum > cmp : sum <= cmp) c.pswAddr = rel(c, ia, sext16(h1));
      return;
    }
    case 0x90: stm(c, r1, r2, c.ea(h1 >>> 12, 0, h1 & 0xfff)); return; // STM
    case 0x98: lm(c, r1, r2, c.ea(h1 >>> 12, 0, h1 & 0xfff)); return; // LM
    case 0x9a: { // LAM
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) { c.ar[i] = c.rd32(c.wrapNum(a + 4 * k)); if (i === r2) break; }
      return;
    }
    case 0x9b: { // STAM
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) { c.wr32(c.wrapNum(a + 4 * k), c.ar[i]!); if (i === r2) break; }
      return;
    }
    case 0xba: { // CS
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 3) c.specification();
      const cur = c.rd32(a);
      if (cur === g[2 * r1 + 1]) { c.wr32(a, g[2 * r2 + 1]!); c.cc = 0; } else { g[2 * r1 + 1] = cur; c.cc = 1; }
      return;
    }
    case 0xbb: { // CDS
      if ((r1 | r2) & 1) c.specification();
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.specification();
      c.rd64(a);
      if (c.r0 === g[2 * r1 + 1] && c.r1 === g[2 * r1 + 3]) { c.wr64(a, g[2 * r2 + 1]!, g[2 * r2 + 3]!); c.cc = 0; } else { g[2 * r1 + 1] = c.r0; g[2 * r1 + 3] = c.r1; c.cc = 1; }
      return;
    }
    case 0xbd: clm(c, g[2 * r1 + 1]!, r2, c.ea(h1 >>> 12, 0, h1 & 0xfff)); return; // CLM
    case 0xbe: stcm(c, g[2 * r1 + 1]!, r2, c.ea(h1 >>> 12, 0, h1 & 0xfff)); return; // STCM
    case 0xbf: g[2 * r1 + 1] = icm(c, g[2 * r1 + 1]!, r2, c.ea(h1 >>> 12, 0, h1 & 0xfff)); return; // ICM
    // ------------------------------------------------------------------ SI
    case 0x91: { const v = c.rd8(c.ea(h1 >>> 12, 0, h1 & 0xfff)); c.cc = tmCc(v, h0 & 0xff, 8); return; } // TM
    case 0x92: c.wr8(c.ea(h1 >>> 12, 0, h1 & 0xfff), h0 & 0xff); return; // MVI
    case 0x94: case 0x96: case 0x97: { // NI OI XI
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const v = c.rd8(a);
      const r = op === 0x94 ? v & h0 : op === 0x96 ? (v | h0) & 0xff : (v ^ h0) & 0xff;
      c.wr8(a, r & 0xff);
      c.cc = (r & 0xff) !== 0 ? 1 : 0;
      return;
    }
    case 0x95: c.cc = ccCmp(c.rd8(c.ea(h1 >>> 12, 0, h1 & 0xfff)), h0 & 0xff); return; // CLI
    // ------------------------------------------------------------------ extended groups
    case 0xa5: execA5(c, h0, h1); return;
    case 0xa7: execA7(c, h0, h1, ia); return;
    case 0xb9: execB9(c, h0, h1); return;
    case 0xc0: case 0xc2: case 0xc4: case 0xc6: case 0xc8: case 0xcc:
      execRil(c, h0, h1, h2, ia);
      return;
    case 0xe3: execE3(c, h0, h1, h2); return;
    case 0xeb: execEB(c, h0, h1, h2); return;
    case 0xec: execEC(c, h0, h1, h2, ia); return;
    case 0xe5:
      if ((h0 & 0xff) >= 0x44 && (h0 & 0xff) <= 0x5d) { execE5(c, h0, h1, h2); return; }
      execControl(c, h0, h1, h2);
      return;
    // BFP / FPR loads and stores
    case 0x28: case 0x38: case 0x60: case 0x68: case 0x70: case 0x78: case 0xb3: case 0xed:
      execBfp(c, h0, h1, h2);
      return;
    // Privileged and control instructions
    case 0x80: case 0x82: case 0x83: case 0xac: case 0xad: case 0xae: case 0xb1: case 0xb2:
    case 0xb6: case 0xb7:
      execControl(c, h0, h1, h2);
      return;
    default:
      c.pgm(PGM_OPERATION);
  }
}

// ---------------------------------------------------------------------- helpers

function laInto(c: S390Cpu, r1: number, b: number, x: number, d: number): void {
  const g = c.gr;
  let s = d;
  let hi = 0;
  if (b !== 0) { s += g[2 * b + 1]!; hi += g[2 * b]!; }
  if (x !== 0) { s += g[2 * x + 1]!; hi += g[2 * x]!; }
  const lo = s >>> 0;
  if (c.amode64) { g[2 * r1] = (hi + (s - lo) / TWO32) >>> 0; g[2 * r1 + 1] = lo; }
  else if (c.pswMask1 & 0x80000000) g[2 * r1 + 1] = lo & 0x7fffffff;
  else g[2 * r1 + 1] = (g[2 * r1 + 1]! & 0xff000000 & 0) | (lo & 0xffffff);
}

function divide32(c: S390Cpu, r1: number, d: number): void {
  const g = c.gr;
  if (d === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
  const hi = g[2 * r1 + 1]! | 0;
  const lo = g[2 * r1 + 3]!;
  if (!divRemS64(c, hi >>> 0, lo, d < 0 ? 0xffffffff : 0, d >>> 0)) c.pgm(PGM_FIXPOINT_DIVIDE);
  // quotient must fit 32 bits signed
  const qh = c.r2 | 0;
  const ql = c.r3 | 0;
  if (!((qh === 0 && ql >= 0) || (qh === -1 && ql < 0))) c.pgm(PGM_FIXPOINT_DIVIDE);
  g[2 * r1 + 1] = c.r1;
  g[2 * r1 + 3] = c.r3;
}

function slaShift32(c: S390Cpu, r1: number, n: number): void {
  const g = c.gr;
  const v = g[2 * r1 + 1]! | 0;
  let r = v;
  let ovf = false;
  for (let i = 0; i < n; i++) {
    const nr = (r << 1) | 0;
    if ((nr & 0x80000000) !== (v & 0x80000000)) ovf = true;
    r = nr;
  }
  r = (v & 0x80000000) | (r & 0x7fffffff);
  g[2 * r1 + 1] = r >>> 0;
  if (ovf) fixedOverflow(c);
  else c.cc = ccS32(r | 0);
}

function slaShift64(c: S390Cpu, hi: number, lo: number, n: number): void {
  const sign = hi & 0x80000000;
  let h = hi >>> 0;
  let l = lo >>> 0;
  let ovf = false;
  for (let i = 0; i < n; i++) {
    const nh = ((h << 1) | (l >>> 31)) >>> 0;
    l = (l << 1) >>> 0;
    h = nh;
    if ((h & 0x80000000) !== sign) ovf = true;
  }
  h = ((h & 0x7fffffff) | sign) >>> 0;
  c.r0 = h;
  c.r1 = l;
  c.cc = ovf ? 3 : ccS64(h, l);
}

function stm(c: S390Cpu, r1: number, r3: number, a: number): void {
  const n = ((r3 - r1) & 15) + 1;
  c.probeWrite(a, 4 * n);
  for (let i = r1, k = 0; k < n; i = (i + 1) & 15, k++) c.wr32(c.wrapNum(a + 4 * k), c.gr[2 * i + 1]!);
}

function lm(c: S390Cpu, r1: number, r3: number, a: number): void {
  const n = ((r3 - r1) & 15) + 1;
  c.probeRead(a, 4 * n);
  for (let i = r1, k = 0; k < n; i = (i + 1) & 15, k++) c.gr[2 * i + 1] = c.rd32(c.wrapNum(a + 4 * k));
}

function tmCc(v: number, mask: number, bits: number): number {
  const sel = v & mask;
  if (sel === 0) return 0;
  if (sel === mask) return 3;
  // mixed: cc 1 if the leftmost selected bit is zero, 2 if one
  let top = 1 << (bits - 1);
  while ((mask & top) === 0) top >>>= 1;
  return (v & top) !== 0 ? 2 : 1;
}

function clm(c: S390Cpu, v: number, m: number, a: number): void {
  let k = 0;
  for (let i = 0; i < 4; i++) {
    if (m & (8 >> i)) {
      const rb = (v >>> (24 - 8 * i)) & 0xff;
      const mb = c.rd8(c.wrapNum(a + k++));
      if (rb !== mb) { c.cc = rb < mb ? 1 : 2; return; }
    }
  }
  c.cc = 0;
}

function stcm(c: S390Cpu, v: number, m: number, a: number): void {
  let k = 0;
  for (let i = 0; i < 4; i++) if (m & (8 >> i)) c.wr8(c.wrapNum(a + k++), (v >>> (24 - 8 * i)) & 0xff);
}

function icm(c: S390Cpu, v: number, m: number, a: number): number {
  let k = 0;
  let first = -1;
  let any = 0;
  for (let i = 0; i < 4; i++) {
    if (m & (8 >> i)) {
      const b = c.rd8(c.wrapNum(a + k++));
      if (first < 0) first = b;
      any |= b;
      const sh = 24 - 8 * i;
      v = ((v & ~(0xff << sh)) | (b << sh)) >>> 0;
    }
  }
  c.cc = m === 0 || any === 0 ? 0 : first & 0x80 ? 1 : 2;
  return v;
}

/** EX / EXRL: run the target with bits 8-15 ORed from r1 (unless r1 is 0). */
function execTarget(c: S390Cpu, r1: number, t: number): void {
  if (c.executing) c.pgm(PGM_EXECUTE);
  if (t & 1) c.specification();
  let t0 = c.fetch16(t);
  if ((t0 >>> 8) === 0x44 || ((t0 >>> 8) === 0xc6 && (t0 & 15) === 0)) c.pgm(PGM_EXECUTE);
  if (r1 !== 0) t0 |= c.gr[2 * r1 + 1]! & 0xff;
  const len = (t0 >>> 14) === 0 ? 2 : (t0 >>> 14) === 3 ? 6 : 4;
  const t1 = len > 2 ? c.fetch16(c.wrapNum(t + 2)) : 0;
  const t2 = len > 4 ? c.fetch16(c.wrapNum(t + 4)) : 0;
  c.executing = true;
  try {
    execute(c, t0, t1, t2, t);
  } finally {
    c.executing = false;
  }
}

// ---------------------------------------------------------------------- A5 / A7 (RI)

function execA5(c: S390Cpu, h0: number, i2: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const hiIdx = 2 * r1;
  const loIdx = 2 * r1 + 1;
  switch (h0 & 15) {
    case 0x0: g[hiIdx] = ((g[hiIdx]! & 0x0000ffff) | (i2 << 16)) >>> 0; return; // IIHH
    case 0x1: g[hiIdx] = ((g[hiIdx]! & 0xffff0000) | i2) >>> 0; return; // IIHL
    case 0x2: g[loIdx] = ((g[loIdx]! & 0x0000ffff) | (i2 << 16)) >>> 0; return; // IILH
    case 0x3: g[loIdx] = ((g[loIdx]! & 0xffff0000) | i2) >>> 0; return; // IILL
    case 0x4: { const r = g[hiIdx]! & ((i2 << 16) | 0xffff); g[hiIdx] = r >>> 0; c.cc = (r >>> 16) !== 0 ? 1 : 0; return; } // NIHH
    case 0x5: { const r = g[hiIdx]! & (0xffff0000 | i2); g[hiIdx] = r >>> 0; c.cc = (r & 0xffff) !== 0 ? 1 : 0; return; } // NIHL
    case 0x6: { const r = g[loIdx]! & ((i2 << 16) | 0xffff); g[loIdx] = r >>> 0; c.cc = (r >>> 16) !== 0 ? 1 : 0; return; } // NILH
    case 0x7: { const r = g[loIdx]! & (0xffff0000 | i2); g[loIdx] = r >>> 0; c.cc = (r & 0xffff) !== 0 ? 1 : 0; return; } // NILL
    case 0x8: { const r = g[hiIdx]! | (i2 << 16); g[hiIdx] = r >>> 0; c.cc = (r >>> 16) !== 0 ? 1 : 0; return; } // OIHH
    case 0x9: { const r = g[hiIdx]! | i2; g[hiIdx] = r >>> 0; c.cc = (r & 0xffff) !== 0 ? 1 : 0; return; } // OIHL
    case 0xa: { const r = g[loIdx]! | (i2 << 16); g[loIdx] = r >>> 0; c.cc = (r >>> 16) !== 0 ? 1 : 0; return; } // OILH
    case 0xb: { const r = g[loIdx]! | i2; g[loIdx] = r >>> 0; c.cc = (r & 0xffff) !== 0 ? 1 : 0; return; } // OILL
    case 0xc: g[hiIdx] = (i2 << 16) >>> 0; g[loIdx] = 0; return; // LLIHH
    case 0xd: g[hiIdx] = i2; g[loIdx] = 0; return; // LLIHL
    case 0xe: g[hiIdx] = 0; g[loIdx] = (i2 << 16) >>> 0; return; // LLILH
    case 0xf: g[hiIdx] = 0; g[loIdx] = i2; return; // LLILL
  }
}

function execA7(c: S390Cpu, h0: number, i2: number, ia: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const s = sext16(i2);
  switch (h0 & 15) {
    case 0x0: c.cc = tmCc(g[2 * r1 + 1]! >>> 16, i2, 16); return; // TMLH
    case 0x1: c.cc = tmCc(g[2 * r1 + 1]! & 0xffff, i2, 16); return; // TMLL
    case 0x2: c.cc = tmCc(g[2 * r1]! >>> 16, i2, 16); return; // TMHH
    case 0x3: c.cc = tmCc(g[2 * r1]! & 0xffff, i2, 16); return; // TMHL
    case 0x4: if (cond(c, r1)) c.pswAddr = rel(c, ia, s); return; // BRC
    case 0x5: link(c, r1); c.pswAddr = rel(c, ia, s); return; // BRAS
    case 0x6: { const v = (g[2 * r1 + 1]! - 1) >>> 0; g[2 * r1 + 1] = v; if (v !== 0) c.pswAddr = rel(c, ia, s); return; } // BRCT
    case 0x7: { // BRCTG
      subU64(c, g[2 * r1]!, g[2 * r1 + 1]!, 0, 1, 0);
      g[2 * r1] = c.r0; g[2 * r1 + 1] = c.r1;
      if ((c.r0 | c.r1) !== 0) c.pswAddr = rel(c, ia, s);
      // BRCTG leaves the condition code unchanged
      return;
    }
    case 0x8: g[2 * r1 + 1] = s >>> 0; return; // LHI
    case 0x9: c.setS64From32(r1, s); return; // LGHI
    case 0xa: { g[2 * r1 + 1] = addS32(c, c.getS32(r1), s) >>> 0; if (c.cc === 3) fixedOverflow(c); return; } // AHI
    case 0xb: { addS64(c, g[2 * r1]!, g[2 * r1 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0); g[2 * r1] = c.r0; g[2 * r1 + 1] = c.r1; if (c.cc === 3) fixedOverflow(c); return; } // AGHI
    case 0xc: g[2 * r1 + 1] = Math.imul(c.getS32(r1), s) >>> 0; return; // MHI
    case 0xd: mulLow64(c, g[2 * r1]!, g[2 * r1 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0); g[2 * r1] = c.r0; g[2 * r1 + 1] = c.r1; return; // MGHI
    case 0xe: c.cc = ccCmp(c.getS32(r1), s); return; // CHI
    case 0xf: c.cc = ccCmp64(g[2 * r1]!, g[2 * r1 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0); return; // CGHI
  }
}

// ---------------------------------------------------------------------- RIL (C0..CC)

function execRil(c: S390Cpu, h0: number, h1: number, h2: number, ia: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const i2 = ((h1 << 16) | h2) >>> 0;
  const s2 = i2 | 0;
  const sh = s2 < 0 ? 0xffffffff : 0;
  switch (h0 & 0xff0f) {
    case 0xc000: { const a = rel(c, ia, s2); const lo = a >>> 0; if (c.amode64) c.set64(r1, Math.floor((a - lo) / TWO32) >>> 0, lo); else g[2 * r1 + 1] = lo; return; } // LARL
    case 0xc001: c.set64(r1, sh, i2); return; // LGFI
    case 0xc004: if (cond(c, r1)) c.pswAddr = rel(c, ia, s2); return; // BRCL
    case 0xc005: link(c, r1); c.pswAddr = rel(c, ia, s2); return; // BRASL
    case 0xc006: { const r = (g[2 * r1]! ^ i2) >>> 0; g[2 * r1] = r; c.cc = r !== 0 ? 1 : 0; return; } // XIHF
    case 0xc007: { const r = (g[2 * r1 + 1]! ^ i2) >>> 0; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // XILF
    case 0xc008: g[2 * r1] = i2; return; // IIHF
    case 0xc009: g[2 * r1 + 1] = i2; return; // IILF
    case 0xc00a: { const r = (g[2 * r1]! & i2) >>> 0; g[2 * r1] = r; c.cc = r !== 0 ? 1 : 0; return; } // NIHF
    case 0xc00b: { const r = (g[2 * r1 + 1]! & i2) >>> 0; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // NILF
    case 0xc00c: { const r = (g[2 * r1]! | i2) >>> 0; g[2 * r1] = r; c.cc = r !== 0 ? 1 : 0; return; } // OIHF
    case 0xc00d: { const r = (g[2 * r1 + 1]! | i2) >>> 0; g[2 * r1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // OILF
    case 0xc00e: c.set64(r1, i2, 0); return; // LLIHF
    case 0xc00f: c.set64(r1, 0, i2); return; // LLILF
    case 0xc200: mulLow64(c, g[2 * r1]!, g[2 * r1 + 1]!, sh, i2); c.set64(r1, c.r0, c.r1); return; // MSGFI
    case 0xc201: g[2 * r1 + 1] = Math.imul(c.getS32(r1), s2) >>> 0; return; // MSFI
    case 0xc204: subU64(c, g[2 * r1]!, g[2 * r1 + 1]!, 0, i2, 0); c.set64(r1, c.r0, c.r1); return; // SLGFI
    case 0xc205: g[2 * r1 + 1] = subU32(c, g[2 * r1 + 1]!, i2, 0); return; // SLFI
    case 0xc208: addS64(c, g[2 * r1]!, g[2 * r1 + 1]!, sh, i2); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // AGFI
    case 0xc209: g[2 * r1 + 1] = addS32(c, c.getS32(r1), s2) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // AFI
    case 0xc20a: addU64(c, g[2 * r1]!, g[2 * r1 + 1]!, 0, i2, 0); c.set64(r1, c.r0, c.r1); return; // ALGFI
    case 0xc20b: g[2 * r1 + 1] = addU32(c, g[2 * r1 + 1]!, i2, 0); return; // ALFI
    case 0xc20c: c.cc = ccCmp64(g[2 * r1]!, g[2 * r1 + 1]!, sh, i2); return; // CGFI
    case 0xc20d: c.cc = ccCmp(c.getS32(r1), s2); return; // CFI
    case 0xc20e: c.cc = ccCmpU64(g[2 * r1]!, g[2 * r1 + 1]!, 0, i2); return; // CLGFI
    case 0xc20f: c.cc = ccCmp(g[2 * r1 + 1]!, i2); return; // CLFI
    case 0xc402: g[2 * r1 + 1] = c.rd16(rel(c, ia, s2)); return; // LLHRL
    case 0xc404: { const v = sext16(c.rd16(rel(c, ia, s2))); c.setS64From32(r1, v); return; } // LGHRL
    case 0xc405: g[2 * r1 + 1] = sext16(c.rd16(rel(c, ia, s2))) >>> 0; return; // LHRL
    case 0xc406: c.set64(r1, 0, c.rd16(rel(c, ia, s2))); return; // LLGHRL
    case 0xc407: c.wr16(rel(c, ia, s2), g[2 * r1 + 1]! & 0xffff); return; // STHRL
    case 0xc408: { const a = rel(c, ia, s2); if (a & 7) c.specification(); c.rd64(a); c.set64(r1, c.r0, c.r1); return; } // LGRL
    case 0xc40b: { const a = rel(c, ia, s2); if (a & 7) c.specification(); c.wr64(a, g[2 * r1]!, g[2 * r1 + 1]!); return; } // STGRL
    case 0xc40c: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.setS64From32(r1, c.rd32(a) | 0); return; } // LGFRL
    case 0xc40d: { const a = rel(c, ia, s2); if (a & 3) c.specification(); g[2 * r1 + 1] = c.rd32(a); return; } // LRL
    case 0xc40e: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.set64(r1, 0, c.rd32(a)); return; } // LLGFRL
    case 0xc40f: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.wr32(a, g[2 * r1 + 1]!); return; } // STRL
    case 0xc600: execTarget(c, r1, rel(c, ia, s2)); return; // EXRL
    case 0xc602: return; // PFDRL: prefetch, no effect
    case 0xc604: { const v = sext16(c.rd16(rel(c, ia, s2))); c.cc = ccCmp64(g[2 * r1]!, g[2 * r1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); return; } // CGHRL
    case 0xc605: c.cc = ccCmp(c.getS32(r1), sext16(c.rd16(rel(c, ia, s2)))); return; // CHRL
    case 0xc606: c.cc = ccCmpU64(g[2 * r1]!, g[2 * r1 + 1]!, 0, c.rd16(rel(c, ia, s2))); return; // CLGHRL
    case 0xc607: c.cc = ccCmp(g[2 * r1 + 1]! & 0xffff, c.rd16(rel(c, ia, s2))); return; // CLHRL
    case 0xc608: { const a = rel(c, ia, s2); if (a & 7) c.specification(); c.rd64(a); c.cc = ccCmp64(g[2 * r1]!, g[2 * r1 + 1]!, c.r0, c.r1); return; } // CGRL
    case 0xc60a: { const a = rel(c, ia, s2); if (a & 7) c.specification(); c.rd64(a); c.cc = ccCmpU64(g[2 * r1]!, g[2 * r1 + 1]!, c.r0, c.r1); return; } // CLGRL
    case 0xc60c: { const a = rel(c, ia, s2); if (a & 3) c.specification(); const v = c.rd32(a) | 0; c.cc = ccCmp64(g[2 * r1]!, g[2 * r1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); return; } // CGFRL
    case 0xc60d: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.cc = ccCmp(c.getS32(r1), c.rd32(a) | 0); return; } // CRL
    case 0xc60e: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.cc = ccCmpU64(g[2 * r1]!, g[2 * r1 + 1]!, 0, c.rd32(a)); return; } // CLGFRL
    case 0xc60f: { const a = rel(c, ia, s2); if (a & 3) c.specification(); c.cc = ccCmp(g[2 * r1 + 1]!, c.rd32(a)); return; } // CLRL
    case 0xcc08: addS32(c, g[2 * r1]! | 0, s2); g[2 * r1] = (g[2 * r1]! + s2) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // AIH
    default:
      c.pgm(PGM_OPERATION);
  }
}

// ---------------------------------------------------------------------- B9 (RRE / RRF)

function execB9(c: S390Cpu, h0: number, h1: number): void {
  const g = c.gr;
  const r1 = (h1 >>> 4) & 15;
  const r2 = h1 & 15;
  const r3 = h1 >>> 12;
  const a1 = 2 * r1;
  const b1 = 2 * r2;
  const b3 = 2 * r3;
  const s2lo = g[b1 + 1]! | 0;
  const s2hi = s2lo < 0 ? 0xffffffff : 0;
  switch (h0 & 0xff) {
    case 0x00: { // LPGR
      const hi = g[b1]!; const lo = g[b1 + 1]!;
      if ((hi | 0) < 0) { subS64(c, 0, 0, hi, lo); c.set64(r1, c.r0, c.r1); if (c.cc === 3) { fixedOverflow(c); return; } c.cc = ccS64(c.r0, c.r1); }
      else { c.set64(r1, hi, lo); c.cc = ccS64(hi, lo); }
      return;
    }
    case 0x01: { // LNGR
      const hi = g[b1]!; const lo = g[b1 + 1]!;
      if ((hi | 0) >= 0 && (hi | lo) !== 0) { subS64(c, 0, 0, hi, lo); c.set64(r1, c.r0, c.r1); } else c.set64(r1, hi, lo);
      c.cc = (g[a1]! | g[a1 + 1]!) === 0 ? 0 : 1;
      return;
    }
    case 0x02: c.set64(r1, g[b1]!, g[b1 + 1]!); c.cc = ccS64(g[a1]!, g[a1 + 1]!); return; // LTGR
    case 0x03: subS64(c, 0, 0, g[b1]!, g[b1 + 1]!); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // LCGR
    case 0x04: c.set64(r1, g[b1]!, g[b1 + 1]!); return; // LGR
    case 0x06: { const v = sext8(g[b1 + 1]! & 0xff); c.setS64From32(r1, v); return; } // LGBR
    case 0x07: { const v = sext16(g[b1 + 1]! & 0xffff); c.setS64From32(r1, v); return; } // LGHR
    case 0x08: addS64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // AGR
    case 0x09: subS64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // SGR
    case 0x0a: addU64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // ALGR
    case 0x0b: subU64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // SLGR
    case 0x0c: mulLow64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!); c.set64(r1, c.r0, c.r1); return; // MSGR
    case 0x0d: dsg(c, r1, g[b1]!, g[b1 + 1]!); return; // DSGR
    case 0x0f: c.set64(r1, bswap(g[b1 + 1]!), bswap(g[b1]!)); return; // LRVGR
    case 0x10: { // LPGFR
      const v = s2lo;
      if (v < 0) { subS64(c, 0, 0, 0xffffffff, v >>> 0); c.set64(r1, c.r0, c.r1); } else c.set64(r1, 0, v >>> 0);
      c.cc = ccS64(g[a1]!, g[a1 + 1]!);
      return;
    }
    case 0x12: c.set64(r1, s2hi, s2lo >>> 0); c.cc = ccS64(s2hi, s2lo >>> 0); return; // LTGFR
    case 0x13: subS64(c, 0, 0, s2hi, s2lo >>> 0); c.set64(r1, c.r0, c.r1); return; // LCGFR
    case 0x14: c.set64(r1, s2hi, s2lo >>> 0); return; // LGFR
    case 0x16: c.set64(r1, 0, g[b1 + 1]!); return; // LLGFR
    case 0x17: c.set64(r1, 0, g[b1 + 1]! & 0x7fffffff); return; // LLGTR
    case 0x18: addS64(c, g[a1]!, g[a1 + 1]!, s2hi, s2lo >>> 0); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // AGFR
    case 0x19: subS64(c, g[a1]!, g[a1 + 1]!, s2hi, s2lo >>> 0); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // SGFR
    case 0x1a: addU64(c, g[a1]!, g[a1 + 1]!, 0, g[b1 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // ALGFR
    case 0x1b: subU64(c, g[a1]!, g[a1 + 1]!, 0, g[b1 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // SLGFR
    case 0x1c: mulLow64(c, g[a1]!, g[a1 + 1]!, s2hi, s2lo >>> 0); c.set64(r1, c.r0, c.r1); return; // MSGFR
    case 0x1d: dsg(c, r1, s2hi, s2lo >>> 0); return; // DSGFR
    case 0x1f: g[a1 + 1] = bswap(g[b1 + 1]!); return; // LRVR
    case 0x20: c.cc = ccCmp64(g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!); return; // CGR
    case 0x21: c.cc = ccCmpU64(g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!); return; // CLGR
    case 0x26: g[a1 + 1] = sext8(g[b1 + 1]! & 0xff) >>> 0; return; // LBR
    case 0x27: g[a1 + 1] = sext16(g[b1 + 1]! & 0xffff) >>> 0; return; // LHR
    case 0x30: c.cc = ccCmp64(g[a1]!, g[a1 + 1]!, s2hi, s2lo >>> 0); return; // CGFR
    case 0x31: c.cc = ccCmpU64(g[a1]!, g[a1 + 1]!, 0, g[b1 + 1]!); return; // CLGFR
    case 0x46: { // BCTGR
      const t = c.wrapAddr(g[b1]!, g[b1 + 1]!);
      subU64(c, g[a1]!, g[a1 + 1]!, 0, 1, 0);
      c.set64(r1, c.r0, c.r1);
      if ((c.r0 | c.r1) !== 0 && r2 !== 0) c.pswAddr = t;
      return;
    }
    case 0x80: { const hi = (g[a1]! & g[b1]!) >>> 0; const lo = (g[a1 + 1]! & g[b1 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // NGR
    case 0x81: { const hi = (g[a1]! | g[b1]!) >>> 0; const lo = (g[a1 + 1]! | g[b1 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // OGR
    case 0x82: { const hi = (g[a1]! ^ g[b1]!) >>> 0; const lo = (g[a1 + 1]! ^ g[b1 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // XGR
    case 0x83: { // FLOGR
      if (r1 & 1) c.specification();
      const hi = g[b1]!; const lo = g[b1 + 1]!;
      let n: number;
      let rest: number;
      if (hi !== 0) n = Math.clz32(hi);
      else if (lo !== 0) n = 32 + Math.clz32(lo);
      else n = 64;
      if (n === 64) { c.set64(r1, 0, 64); c.set64(r1 + 1, 0, 0); c.cc = 0; return; }
      // r1+1 gets the source with the found bit cleared
      if (n < 32) { rest = (hi & ~(0x80000000 >>> n)) >>> 0; c.set64(r1 + 1, rest, lo); }
      else { rest = (lo & ~(0x80000000 >>> (n - 32))) >>> 0; c.set64(r1 + 1, 0, rest); }
      c.set64(r1, 0, n);
      c.cc = 2;
      return;
    }
    case 0x84: c.set64(r1, 0, g[b1 + 1]! & 0xff); return; // LLGCR
    case 0x85: c.set64(r1, 0, g[b1 + 1]! & 0xffff); return; // LLGHR
    case 0x86: { // MLGR
      if (r1 & 1) c.specification();
      mulU64(c, g[a1 + 2]!, g[a1 + 3]!, g[b1]!, g[b1 + 1]!);
      c.set64(r1, c.r0, c.r1);
      c.set64(r1 + 1, c.r2, c.r3);
      return;
    }
    case 0x87: { // DLGR
      if (r1 & 1) c.specification();
      const dh = g[b1]!; const dl = g[b1 + 1]!;
      if ((dh | dl) === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      if (!divRemU128(c, g[a1]!, g[a1 + 1]!, g[a1 + 2]!, g[a1 + 3]!, dh, dl)) c.pgm(PGM_FIXPOINT_DIVIDE);
      c.set64(r1, c.r0, c.r1);
      c.set64(r1 + 1, c.r2, c.r3);
      return;
    }
    case 0x88: addU64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!, c.cc >>> 1); c.set64(r1, c.r0, c.r1); return; // ALCGR
    case 0x89: subU64(c, g[a1]!, g[a1 + 1]!, g[b1]!, g[b1 + 1]!, (c.cc & 2) ? 0 : 1); c.set64(r1, c.r0, c.r1); return; // SLBGR
    case 0x94: g[a1 + 1] = g[b1 + 1]! & 0xff; return; // LLCR
    case 0x95: g[a1 + 1] = g[b1 + 1]! & 0xffff; return; // LLHR
    case 0x96: { if (r1 & 1) c.specification(); mulU32(c, g[a1 + 3]!, g[b1 + 1]!); g[a1 + 1] = c.r0; g[a1 + 3] = c.r1; return; } // MLR
    case 0x97: { // DLR
      if (r1 & 1) c.specification();
      const d = g[b1 + 1]!;
      if (d === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      if (!divRemU128(c, 0, 0, g[a1 + 1]!, g[a1 + 3]!, 0, d) || c.r2 !== 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      g[a1 + 1] = c.r1;
      g[a1 + 3] = c.r3;
      return;
    }
    case 0x98: g[a1 + 1] = addU32(c, g[a1 + 1]!, g[b1 + 1]!, c.cc >>> 1); return; // ALCR
    case 0x99: g[a1 + 1] = subU32(c, g[a1 + 1]!, g[b1 + 1]!, (c.cc & 2) ? 0 : 1); return; // SLBR
    case 0xe1: { // POPCNT (per byte counts)
      const hi = popcntBytes(g[b1]!); const lo = popcntBytes(g[b1 + 1]!);
      c.set64(r1, hi, lo);
      c.cc = (hi | lo) !== 0 ? 1 : 0;
      return;
    }
    case 0xe2: if (cond(c, r3)) c.set64(r1, g[b1]!, g[b1 + 1]!); return; // LOCGR (m3 in r3 position)
    case 0xf2: if (cond(c, r3)) g[a1 + 1] = g[b1 + 1]!; return; // LOCR
    case 0xe4: { const hi = (g[b1]! & g[b3]!) >>> 0; const lo = (g[b1 + 1]! & g[b3 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // NGRK
    case 0xe6: { const hi = (g[b1]! | g[b3]!) >>> 0; const lo = (g[b1 + 1]! | g[b3 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // OGRK
    case 0xe7: { const hi = (g[b1]! ^ g[b3]!) >>> 0; const lo = (g[b1 + 1]! ^ g[b3 + 1]!) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // XGRK
    case 0xe8: addS64(c, g[b1]!, g[b1 + 1]!, g[b3]!, g[b3 + 1]!); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // AGRK
    case 0xe9: subS64(c, g[b1]!, g[b1 + 1]!, g[b3]!, g[b3 + 1]!); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // SGRK
    case 0xea: addU64(c, g[b1]!, g[b1 + 1]!, g[b3]!, g[b3 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // ALGRK
    case 0xeb: subU64(c, g[b1]!, g[b1 + 1]!, g[b3]!, g[b3 + 1]!, 0); c.set64(r1, c.r0, c.r1); return; // SLGRK
    case 0xec: { // MGRK (z14): signed 128-bit product into r1 pair
      if (r1 & 1) c.specification();
      mulS64(c, g[b1]!, g[b1 + 1]!, g[b3]!, g[b3 + 1]!);
      c.set64(r1, c.r0, c.r1); c.set64(r1 + 1, c.r2, c.r3);
      return;
    }
    case 0xf4: { const r = (g[b1 + 1]! & g[b3 + 1]!) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // NRK
    case 0xf6: { const r = (g[b1 + 1]! | g[b3 + 1]!) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // ORK
    case 0xf7: { const r = (g[b1 + 1]! ^ g[b3 + 1]!) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // XRK
    case 0xf8: g[a1 + 1] = addS32(c, g[b1 + 1]! | 0, g[b3 + 1]! | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // ARK
    case 0xf9: g[a1 + 1] = subS32(c, g[b1 + 1]! | 0, g[b3 + 1]! | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // SRK
    case 0xfa: g[a1 + 1] = addU32(c, g[b1 + 1]!, g[b3 + 1]!, 0); return; // ALRK
    case 0xfb: g[a1 + 1] = subU32(c, g[b1 + 1]!, g[b3 + 1]!, 0); return; // SLRK
    default:
      execControl(c, h0, h1, 0);
  }
}

/** Population count of each byte of a word, each in its byte (POPCNT). */
function popcntBytes(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return ((x + (x >>> 4)) & 0x0f0f0f0f) >>> 0;
}

function bswap(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function dsg(c: S390Cpu, r1: number, dh: number, dl: number): void {
  if (r1 & 1) c.specification();
  if ((dh | dl) === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
  const g = c.gr;
  if (!divRemS64(c, g[2 * r1 + 2]!, g[2 * r1 + 3]!, dh, dl)) c.pgm(PGM_FIXPOINT_DIVIDE);
  c.set64(r1, c.r0, c.r1);
  c.set64(r1 + 1, c.r2, c.r3);
}

// ---------------------------------------------------------------------- E3 (RXY)

function execE3(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const a1 = 2 * r1;
  const a = c.ea(h1 >>> 12, h0 & 15, dispY(h1, h2));
  switch (h2 & 0xff) {
    case 0x02: c.rd64(a); c.set64(r1, c.r0, c.r1); c.cc = ccS64(c.r0, c.r1); return; // LTG
    case 0x04: c.rd64(a); c.set64(r1, c.r0, c.r1); return; // LG
    case 0x08: c.rd64(a); addS64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // AG
    case 0x09: c.rd64(a); subS64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; // SG
    case 0x0a: c.rd64(a); addU64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1, 0); c.set64(r1, c.r0, c.r1); return; // ALG
    case 0x0b: c.rd64(a); subU64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1, 0); c.set64(r1, c.r0, c.r1); return; // SLG
    case 0x0c: c.rd64(a); mulLow64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1); c.set64(r1, c.r0, c.r1); return; // MSG
    case 0x0d: c.rd64(a); dsg(c, r1, c.r0, c.r1); return; // DSG
    case 0x0f: c.rd64(a); c.set64(r1, bswap(c.r1), bswap(c.r0)); return; // LRVG
    case 0x12: { const v = c.rd32(a); g[a1 + 1] = v; c.cc = ccS32(v | 0); return; } // LT
    case 0x14: c.setS64From32(r1, c.rd32(a) | 0); return; // LGF
    case 0x15: c.setS64From32(r1, sext16(c.rd16(a))); return; // LGH
    case 0x16: c.set64(r1, 0, c.rd32(a)); return; // LLGF
    case 0x17: c.set64(r1, 0, c.rd32(a) & 0x7fffffff); return; // LLGT
    case 0x18: { const v = c.rd32(a) | 0; addS64(c, g[a1]!, g[a1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; } // AGF
    case 0x19: { const v = c.rd32(a) | 0; subS64(c, g[a1]!, g[a1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; } // SGF
    case 0x1a: addU64(c, g[a1]!, g[a1 + 1]!, 0, c.rd32(a), 0); c.set64(r1, c.r0, c.r1); return; // ALGF
    case 0x1b: subU64(c, g[a1]!, g[a1 + 1]!, 0, c.rd32(a), 0); c.set64(r1, c.r0, c.r1); return; // SLGF
    case 0x1c: { const v = c.rd32(a) | 0; mulLow64(c, g[a1]!, g[a1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); c.set64(r1, c.r0, c.r1); return; } // MSGF
    case 0x1d: { const v = c.rd32(a) | 0; dsg(c, r1, v < 0 ? 0xffffffff : 0, v >>> 0); return; } // DSGF
    case 0x1e: g[a1 + 1] = bswap(c.rd32(a)); return; // LRV
    case 0x1f: g[a1 + 1] = ((g[a1 + 1]! & 0xffff0000) | (bswap(c.rd16(a)) >>> 16)) >>> 0; return; // LRVH
    case 0x20: c.rd64(a); c.cc = ccCmp64(g[a1]!, g[a1 + 1]!, c.r0, c.r1); return; // CG
    case 0x21: c.rd64(a); c.cc = ccCmpU64(g[a1]!, g[a1 + 1]!, c.r0, c.r1); return; // CLG
    case 0x24: c.wr64(a, g[a1]!, g[a1 + 1]!); return; // STG
    case 0x2f: c.wr64(a, bswap(g[a1 + 1]!), bswap(g[a1]!)); return; // STRVG
    case 0x30: { const v = c.rd32(a) | 0; c.cc = ccCmp64(g[a1]!, g[a1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); return; } // CGF
    case 0x31: c.cc = ccCmpU64(g[a1]!, g[a1 + 1]!, 0, c.rd32(a)); return; // CLGF
    case 0x32: { const v = c.rd32(a) | 0; c.setS64From32(r1, v); c.cc = ccS32(v); return; } // LTGF
    case 0x34: { const v = sext16(c.rd16(a)); c.cc = ccCmp64(g[a1]!, g[a1 + 1]!, v < 0 ? 0xffffffff : 0, v >>> 0); return; } // CGH
    case 0x36: return; // PFD
    case 0x3e: c.wr32(a, bswap(g[a1 + 1]!)); return; // STRV
    case 0x3f: c.wr16(a, bswap(g[a1 + 1]!) >>> 16); return; // STRVH
    case 0x46: { // BCTG
      subU64(c, g[a1]!, g[a1 + 1]!, 0, 1, 0);
      c.set64(r1, c.r0, c.r1);
      if ((c.r0 | c.r1) !== 0) c.pswAddr = a;
      return;
    }
    case 0x50: c.wr32(a, g[a1 + 1]!); return; // STY
    case 0x51: g[a1 + 1] = Math.imul(g[a1 + 1]! | 0, c.rd32(a) | 0) >>> 0; return; // MSY
    case 0x54: { const r = (g[a1 + 1]! & c.rd32(a)) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // NY
    case 0x55: c.cc = ccCmp(g[a1 + 1]!, c.rd32(a)); return; // CLY
    case 0x56: { const r = (g[a1 + 1]! | c.rd32(a)) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // OY
    case 0x57: { const r = (g[a1 + 1]! ^ c.rd32(a)) >>> 0; g[a1 + 1] = r; c.cc = r !== 0 ? 1 : 0; return; } // XY
    case 0x58: g[a1 + 1] = c.rd32(a); return; // LY
    case 0x59: c.cc = ccCmp(g[a1 + 1]! | 0, c.rd32(a) | 0); return; // CY
    case 0x5a: g[a1 + 1] = addS32(c, g[a1 + 1]! | 0, c.rd32(a) | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // AY
    case 0x5b: g[a1 + 1] = subS32(c, g[a1 + 1]! | 0, c.rd32(a) | 0) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // SY
    case 0x5c: { if (r1 & 1) c.specification(); mulS32(c, g[a1 + 3]!, c.rd32(a)); g[a1 + 1] = c.r0; g[a1 + 3] = c.r1; return; } // MFY
    case 0x5e: g[a1 + 1] = addU32(c, g[a1 + 1]!, c.rd32(a), 0); return; // ALY
    case 0x5f: g[a1 + 1] = subU32(c, g[a1 + 1]!, c.rd32(a), 0); return; // SLY
    case 0x70: c.wr16(a, g[a1 + 1]! & 0xffff); return; // STHY
    case 0x71: laInto(c, r1, h1 >>> 12, h0 & 15, dispY(h1, h2)); return; // LAY
    case 0x72: c.wr8(a, g[a1 + 1]! & 0xff); return; // STCY
    case 0x73: g[a1 + 1] = ((g[a1 + 1]! & 0xffffff00) | c.rd8(a)) >>> 0; return; // ICY
    case 0x76: g[a1 + 1] = sext8(c.rd8(a)) >>> 0; return; // LB
    case 0x77: c.setS64From32(r1, sext8(c.rd8(a))); return; // LGB
    case 0x78: g[a1 + 1] = sext16(c.rd16(a)) >>> 0; return; // LHY
    case 0x79: c.cc = ccCmp(g[a1 + 1]! | 0, sext16(c.rd16(a))); return; // CHY
    case 0x7a: g[a1 + 1] = addS32(c, g[a1 + 1]! | 0, sext16(c.rd16(a))) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // AHY
    case 0x7b: g[a1 + 1] = subS32(c, g[a1 + 1]! | 0, sext16(c.rd16(a))) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // SHY
    case 0x7c: g[a1 + 1] = Math.imul(g[a1 + 1]! | 0, sext16(c.rd16(a))) >>> 0; return; // MHY
    case 0x80: { c.rd64(a); const hi = (g[a1]! & c.r0) >>> 0; const lo = (g[a1 + 1]! & c.r1) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // NG
    case 0x81: { c.rd64(a); const hi = (g[a1]! | c.r0) >>> 0; const lo = (g[a1 + 1]! | c.r1) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // OG
    case 0x82: { c.rd64(a); const hi = (g[a1]! ^ c.r0) >>> 0; const lo = (g[a1 + 1]! ^ c.r1) >>> 0; c.set64(r1, hi, lo); c.cc = (hi | lo) !== 0 ? 1 : 0; return; } // XG
    case 0x86: { if (r1 & 1) c.specification(); c.rd64(a); mulU64(c, g[a1 + 2]!, g[a1 + 3]!, c.r0, c.r1); c.set64(r1, c.r0, c.r1); c.set64(r1 + 1, c.r2, c.r3); return; } // MLG
    case 0x87: { // DLG
      if (r1 & 1) c.specification();
      c.rd64(a);
      const dh = c.r0; const dl = c.r1;
      if ((dh | dl) === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      if (!divRemU128(c, g[a1]!, g[a1 + 1]!, g[a1 + 2]!, g[a1 + 3]!, dh, dl)) c.pgm(PGM_FIXPOINT_DIVIDE);
      c.set64(r1, c.r0, c.r1); c.set64(r1 + 1, c.r2, c.r3);
      return;
    }
    case 0x88: c.rd64(a); addU64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1, c.cc >>> 1); c.set64(r1, c.r0, c.r1); return; // ALCG
    case 0x89: c.rd64(a); subU64(c, g[a1]!, g[a1 + 1]!, c.r0, c.r1, (c.cc & 2) ? 0 : 1); c.set64(r1, c.r0, c.r1); return; // SLBG
    case 0x90: c.set64(r1, 0, c.rd8(a)); return; // LLGC
    case 0x91: c.set64(r1, 0, c.rd16(a)); return; // LLGH
    case 0x94: g[a1 + 1] = c.rd8(a); return; // LLC
    case 0x95: g[a1 + 1] = c.rd16(a); return; // LLH
    case 0x96: { if (r1 & 1) c.specification(); mulU32(c, g[a1 + 3]!, c.rd32(a)); g[a1 + 1] = c.r0; g[a1 + 3] = c.r1; return; } // ML
    case 0x97: { // DL
      if (r1 & 1) c.specification();
      const d = c.rd32(a);
      if (d === 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      if (!divRemU128(c, 0, 0, g[a1 + 1]!, g[a1 + 3]!, 0, d) || c.r2 !== 0) c.pgm(PGM_FIXPOINT_DIVIDE);
      g[a1 + 1] = c.r1; g[a1 + 3] = c.r3;
      return;
    }
    case 0x98: g[a1 + 1] = addU32(c, g[a1 + 1]!, c.rd32(a), c.cc >>> 1); return; // ALC
    case 0x99: g[a1 + 1] = subU32(c, g[a1 + 1]!, c.rd32(a), (c.cc & 2) ? 0 : 1); return; // SLB
    default:
      c.pgm(PGM_OPERATION);
  }
}

// ---------------------------------------------------------------------- EB (RSY / SIY)

function execEB(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const r3 = h0 & 15;
  const a1 = 2 * r1;
  const b3 = 2 * r3;
  const op = h2 & 0xff;
  const d = dispY(h1, h2);
  const b2 = h1 >>> 12;
  switch (op) {
    case 0x04: { // LMG
      const a = c.ea(b2, 0, d);
      const n = ((r3 - r1) & 15) + 1;
      c.probeRead(a, 8 * n);
      for (let i = r1, k = 0; k < n; i = (i + 1) & 15, k++) { c.rd64(c.wrapNum(a + 8 * k)); c.set64(i, c.r0, c.r1); }
      return;
    }
    case 0x24: { // STMG
      const a = c.ea(b2, 0, d);
      const n = ((r3 - r1) & 15) + 1;
      c.probeWrite(a, 8 * n);
      for (let i = r1, k = 0; k < n; i = (i + 1) & 15, k++) c.wr64(c.wrapNum(a + 8 * k), g[2 * i]!, g[2 * i + 1]!);
      return;
    }
    case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x1c: { // SRAG SLAG SRLG SLLG RLLG
      const n = c.ea(b2, 0, d) & 63;
      const hi = g[b3]!; const lo = g[b3 + 1]!;
      if (op === 0x0a) { sar64(c, hi, lo, n); c.set64(r1, c.r0, c.r1); c.cc = ccS64(c.r0, c.r1); }
      else if (op === 0x0b) { slaShift64(c, hi, lo, n); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); }
      else if (op === 0x0c) { shr64(c, hi, lo, n); c.set64(r1, c.r0, c.r1); }
      else if (op === 0x0d) { shl64(c, hi, lo, n); c.set64(r1, c.r0, c.r1); }
      else { rotl64(c, hi, lo, n); c.set64(r1, c.r0, c.r1); }
      return;
    }
    case 0x1d: { const n = c.ea(b2, 0, d) & 31; const v = g[b3 + 1]!; g[a1 + 1] = n === 0 ? v : ((v << n) | (v >>> (32 - n))) >>> 0; return; } // RLL
    case 0xdc: { const n = c.ea(b2, 0, d) & 63; const r = (g[b3 + 1]! | 0) >> (n > 31 ? 31 : n); g[a1 + 1] = r >>> 0; c.cc = ccS32(r); return; } // SRAK
    case 0xdd: { const n = c.ea(b2, 0, d) & 63; g[a1 + 1] = g[b3 + 1]!; slaShift32(c, r1, n); return; } // SLAK
    case 0xde: { const n = c.ea(b2, 0, d) & 63; g[a1 + 1] = n > 31 ? 0 : g[b3 + 1]! >>> n; return; } // SRLK
    case 0xdf: { const n = c.ea(b2, 0, d) & 63; g[a1 + 1] = n > 31 ? 0 : (g[b3 + 1]! << n) >>> 0; return; } // SLLK
    case 0x14: { // CSY
      const a = c.ea(b2, 0, d);
      if (a & 3) c.specification();
      const cur = c.rd32(a);
      if (cur === g[a1 + 1]) { c.wr32(a, g[b3 + 1]!); c.cc = 0; } else { g[a1 + 1] = cur; c.cc = 1; }
      return;
    }
    case 0x30: { // CSG
      const a = c.ea(b2, 0, d);
      if (a & 7) c.specification();
      c.rd64(a);
      if (c.r0 === g[a1] && c.r1 === g[a1 + 1]) { c.wr64(a, g[b3]!, g[b3 + 1]!); c.cc = 0; } else { c.set64(r1, c.r0, c.r1); c.cc = 1; }
      return;
    }
    case 0x3e: { // CDSG
      if ((r1 | r3) & 1) c.specification();
      const a = c.ea(b2, 0, d);
      if (a & 15) c.specification();
      c.rd64(a);
      const h = c.r0; const l = c.r1;
      c.rd64(c.wrapNum(a + 8));
      if (h === g[a1] && l === g[a1 + 1] && c.r0 === g[a1 + 2] && c.r1 === g[a1 + 3]) {
        c.probeWrite(a, 16);
        c.wr64(a, g[b3]!, g[b3 + 1]!); c.wr64(c.wrapNum(a + 8), g[b3 + 2]!, g[b3 + 3]!); c.cc = 0;
      } else { c.set64(r1, h, l); c.set64(r1 + 1, c.r0, c.r1); c.cc = 1; }
      return;
    }
    case 0x20: { const a = c.ea(b2, 0, d); clm(c, g[a1]!, r3, a); return; } // CLMH
    case 0x21: { const a = c.ea(b2, 0, d); clm(c, g[a1 + 1]!, r3, a); return; } // CLMY
    case 0x2c: stcm(c, g[a1]!, r3, c.ea(b2, 0, d)); return; // STCMH
    case 0x2d: stcm(c, g[a1 + 1]!, r3, c.ea(b2, 0, d)); return; // STCMY
    case 0x80: g[a1] = icm(c, g[a1]!, r3, c.ea(b2, 0, d)); return; // ICMH
    case 0x81: g[a1 + 1] = icm(c, g[a1 + 1]!, r3, c.ea(b2, 0, d)); return; // ICMY
    case 0x90: stm(c, r1, r3, c.ea(b2, 0, d)); return; // STMY
    case 0x98: lm(c, r1, r3, c.ea(b2, 0, d)); return; // LMY
    case 0x51: { const v = c.rd8(c.ea(b2, 0, d)); c.cc = tmCc(v, (h0 & 0xff), 8); return; } // TMY
    case 0x52: c.wr8(c.ea(b2, 0, d), h0 & 0xff); return; // MVIY
    case 0x54: case 0x56: case 0x57: { // NIY OIY XIY
      const a = c.ea(b2, 0, d);
      const v = c.rd8(a);
      const i = h0 & 0xff;
      const r = op === 0x54 ? v & i : op === 0x56 ? v | i : v ^ i;
      c.wr8(a, r);
      c.cc = r !== 0 ? 1 : 0;
      return;
    }
    case 0x55: c.cc = ccCmp(c.rd8(c.ea(b2, 0, d)), h0 & 0xff); return; // CLIY
    case 0x6a: case 0x6e: { // ASI ALSI
      const a = c.ea(b2, 0, d);
      const i = sext8(h0 & 0xff);
      const v = c.rd32(a);
      const r = op === 0x6a ? addS32(c, v | 0, i) : addU32(c, v, i >>> 0, 0);
      c.wr32(a, r >>> 0);
      if (op === 0x6a && c.cc === 3) fixedOverflow(c);
      return;
    }
    case 0x7a: case 0x7e: { // AGSI ALGSI
      const a = c.ea(b2, 0, d);
      const i = sext8(h0 & 0xff);
      c.rd64(a);
      if (op === 0x7a) addS64(c, c.r0, c.r1, i < 0 ? 0xffffffff : 0, i >>> 0);
      else addU64(c, c.r0, c.r1, i < 0 ? 0xffffffff : 0, i >>> 0, 0);
      const cc = c.cc;
      c.wr64(a, c.r0, c.r1);
      c.cc = cc;
      if (op === 0x7a && cc === 3) fixedOverflow(c);
      return;
    }
    case 0xe2: if (cond(c, r3)) { c.rd64(c.ea(b2, 0, d)); c.set64(r1, c.r0, c.r1); } return; // LOCG
    case 0xe3: if (cond(c, r3)) c.wr64(c.ea(b2, 0, d), g[a1]!, g[a1 + 1]!); return; // STOCG
    case 0xf2: if (cond(c, r3)) g[a1 + 1] = c.rd32(c.ea(b2, 0, d)); return; // LOC
    case 0xf3: if (cond(c, r3)) c.wr32(c.ea(b2, 0, d), g[a1 + 1]!); return; // STOC
    case 0xf8: case 0xfa: case 0xf4: case 0xf6: case 0xf7: { // LAA LAAL LAN LAO LAX
      const a = c.ea(b2, 0, d);
      if (a & 3) c.specification();
      const v = c.rd32(a);
      const s = g[b3 + 1]!;
      let r: number;
      if (op === 0xf8) r = addS32(c, v | 0, s | 0) >>> 0;
      else if (op === 0xfa) r = addU32(c, v, s, 0);
      else { r = (op === 0xf4 ? v & s : op === 0xf6 ? v | s : v ^ s) >>> 0; c.cc = r !== 0 ? 1 : 0; }
      const cc = c.cc;
      c.wr32(a, r);
      g[a1 + 1] = v;
      c.cc = cc;
      return;
    }
    case 0xe8: case 0xea: case 0xe4: case 0xe6: case 0xe7: { // LAAG LAALG LANG LAOG LAXG
      const a = c.ea(b2, 0, d);
      if (a & 7) c.specification();
      c.rd64(a);
      const vh = c.r0; const vl = c.r1;
      const sh = g[b3]!; const sl = g[b3 + 1]!;
      if (op === 0xe8) addS64(c, vh, vl, sh, sl);
      else if (op === 0xea) addU64(c, vh, vl, sh, sl, 0);
      else {
        c.r0 = (op === 0xe4 ? vh & sh : op === 0xe6 ? vh | sh : vh ^ sh) >>> 0;
        c.r1 = (op === 0xe4 ? vl & sl : op === 0xe6 ? vl | sl : vl ^ sl) >>> 0;
        c.cc = (c.r0 | c.r1) !== 0 ? 1 : 0;
      }
      const cc = c.cc;
      c.wr64(a, c.r0, c.r1);
      c.set64(r1, vh, vl);
      c.cc = cc;
      return;
    }
    case 0x9a: { // LAMY
      const a = c.ea(b2, 0, d);
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) { c.ar[i] = c.rd32(c.wrapNum(a + 4 * k)); if (i === r3) break; }
      return;
    }
    case 0x9b: { // STAMY
      const a = c.ea(b2, 0, d);
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) { c.wr32(c.wrapNum(a + 4 * k), c.ar[i]!); if (i === r3) break; }
      return;
    }
    case 0x44: case 0x45: { // BXHG BXLEG
      const t = c.ea(b2, 0, d);
      const ch = g[(r3 | 1) * 2]!; const cl = g[(r3 | 1) * 2 + 1]!;
      const cc = c.cc;
      addU64(c, g[a1]!, g[a1 + 1]!, g[b3]!, g[b3 + 1]!, 0);
      c.cc = cc;
      c.set64(r1, c.r0, c.r1);
      const cmp = ccCmp64(c.r0, c.r1, ch, cl);
      if (op === 0x44 ? cmp === 2 : cmp !== 2) c.pswAddr = t;
      return;
    }
    default:
      execControl(c, h0, h1, h2);
  }
}

// ---------------------------------------------------------------------- EC (RIE / RRS)

function execEC(c: S390Cpu, h0: number, h1: number, h2: number, ia: number): void {
  const g = c.gr;
  const r1 = (h0 >>> 4) & 15;
  const r2 = h0 & 15;
  const a1 = 2 * r1;
  const b2 = 2 * r2;
  const op = h2 & 0xff;
  const m3 = h2 >>> 12;
  switch (op) {
    case 0x51: case 0x54: case 0x55: case 0x56: case 0x57: case 0x59: case 0x5d: { // RISBLG RNSBG RISBG ROSBG RXSBG RISBGN RISBHG
      let i3 = (h1 >>> 8) & 0xff;
      let i4 = h1 & 0xff;
      const i5 = (h2 >>> 8) & 63;
      const zero = (i4 & 0x80) !== 0;
      const test = (i3 & 0x80) !== 0;
      i3 &= 63;
      i4 &= 63;
      if (op === 0x51 || op === 0x5d) { // high/low word variants: bit positions within one word
        i3 &= 31; i4 &= 31;
        const base = op === 0x5d ? 0 : 32;
        i3 += base; i4 += base;
      }
      rotl64(c, g[b2]!, g[b2 + 1]!, i5);
      const rh = c.r0; const rl = c.r1;
      rangeMask64(c, i3, i4);
      let mh = c.r0; let ml = c.r1;
      if (op === 0x51) mh = 0; // RISBLG only touches bits 32-63
      if (op === 0x5d) ml = 0; // RISBHG only bits 0-31
      const oh = g[a1]!; const ol = g[a1 + 1]!;
      if (op === 0x55 || op === 0x59 || op === 0x51 || op === 0x5d) {
        // Insert the selected bits of the rotated source; the others are kept, or
        // zeroed with the Z bit (only within the affected word for RISBHG/RISBLG).
        let nh = zero ? rh & mh : (oh & ~mh) | (rh & mh);
        let nl = zero ? rl & ml : (ol & ~ml) | (rl & ml);
        if (op === 0x51) nh = oh;
        if (op === 0x5d) nl = ol;
        c.set64(r1, nh >>> 0, nl >>> 0);
        if (op === 0x55) c.cc = ccS64(nh >>> 0, nl >>> 0);
        return;
      }
      // RNSBG / ROSBG / RXSBG: operate on the selected bits, cc from them
      const sh = op === 0x54 ? rh & oh : op === 0x56 ? rh | oh : rh ^ oh;
      const sl = op === 0x54 ? rl & ol : op === 0x56 ? rl | ol : rl ^ ol;
      const selH = (sh & mh) >>> 0; const selL = (sl & ml) >>> 0;
      c.cc = (selH | selL) !== 0 ? 1 : 0;
      if (!test) c.set64(r1, ((oh & ~mh) | selH) >>> 0, ((ol & ~ml) | selL) >>> 0);
      return;
    }
    case 0x64: case 0x65: case 0x76: case 0x77: { // CGRJ CLGRJ CRJ CLRJ
      const cc = op === 0x64 ? ccCmp64(g[a1]!, g[a1 + 1]!, g[b2]!, g[b2 + 1]!)
        : op === 0x65 ? ccCmpU64(g[a1]!, g[a1 + 1]!, g[b2]!, g[b2 + 1]!)
          : op === 0x76 ? ccCmp(g[a1 + 1]! | 0, g[b2 + 1]! | 0) : ccCmp(g[a1 + 1]!, g[b2 + 1]!);
      if ((m3 >>> (3 - cc)) & 1) c.pswAddr = rel(c, ia, sext16(h1));
      return;
    }
    case 0x7c: case 0x7d: case 0x7e: case 0x7f: { // CGIJ CLGIJ CIJ CLIJ (m3 in r2 field, i2 in byte 4)
      const i2 = (h2 >>> 8) & 0xff;
      const si = sext8(i2);
      const cc = op === 0x7c ? ccCmp64(g[a1]!, g[a1 + 1]!, si < 0 ? 0xffffffff : 0, si >>> 0)
        : op === 0x7d ? ccCmpU64(g[a1]!, g[a1 + 1]!, 0, i2)
          : op === 0x7e ? ccCmp(g[a1 + 1]! | 0, si) : ccCmp(g[a1 + 1]!, i2);
      if ((r2 >>> (3 - cc)) & 1) c.pswAddr = rel(c, ia, sext16(h1));
      return;
    }
    case 0xe4: case 0xe5: case 0xf6: case 0xf7: { // CGRB CLGRB CRB CLRB (RRS)
      const t = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const cc = op === 0xe4 ? ccCmp64(g[a1]!, g[a1 + 1]!, g[b2]!, g[b2 + 1]!)
        : op === 0xe5 ? ccCmpU64(g[a1]!, g[a1 + 1]!, g[b2]!, g[b2 + 1]!)
          : op === 0xf6 ? ccCmp(g[a1 + 1]! | 0, g[b2 + 1]! | 0) : ccCmp(g[a1 + 1]!, g[b2 + 1]!);
      if ((m3 >>> (3 - cc)) & 1) c.pswAddr = t;
      return;
    }
    case 0x44: case 0x45: { // BRXHG BRXLG
      const r3 = r2;
      const ch = g[(r3 | 1) * 2]!; const cl = g[(r3 | 1) * 2 + 1]!;
      const cc = c.cc;
      addU64(c, g[a1]!, g[a1 + 1]!, g[2 * r3]!, g[2 * r3 + 1]!, 0);
      c.cc = cc;
      c.set64(r1, c.r0, c.r1);
      const cmp = ccCmp64(c.r0, c.r1, ch, cl);
      if (op === 0x44 ? cmp === 2 : cmp !== 2) c.pswAddr = rel(c, ia, sext16(h1));
      return;
    }
    case 0xd8: g[a1 + 1] = addS32(c, g[b2 + 1]! | 0, sext16(h1)) >>> 0; if (c.cc === 3) fixedOverflow(c); return; // AHIK
    case 0xd9: { const s = sext16(h1); addS64(c, g[b2]!, g[b2 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0); c.set64(r1, c.r0, c.r1); if (c.cc === 3) fixedOverflow(c); return; } // AGHIK
    case 0xda: { const s = sext16(h1); g[a1 + 1] = addU32(c, g[b2 + 1]!, s >>> 0, 0); if (s < 0) c.cc = (g[a1 + 1] !== 0 ? 1 : 0) | (c.cc & 2); return; } // ALHSIK
    case 0xdb: { const s = sext16(h1); addU64(c, g[b2]!, g[b2 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0, 0); c.set64(r1, c.r0, c.r1); return; } // ALGHSIK
    case 0x70: case 0x72: case 0x71: case 0x73: { // CGIT CIT CLGIT CLFIT: trap -> data exception (DXC 0xff)
      const s = sext16(h1);
      const cc = op === 0x70 ? ccCmp64(g[a1]!, g[a1 + 1]!, s < 0 ? 0xffffffff : 0, s >>> 0)
        : op === 0x72 ? ccCmp(g[a1 + 1]! | 0, s)
          : op === 0x71 ? ccCmpU64(g[a1]!, g[a1 + 1]!, 0, h1) : ccCmp(g[a1 + 1]!, h1);
      if ((m3 >>> (3 - cc)) & 1) { c.dataExcCode = 0xff00; c.pgm(0x07); }
      return;
    }
    default:
      c.pgm(PGM_OPERATION);
  }
}

// ---------------------------------------------------------------------- E5 (SIL)

function execE5(c: S390Cpu, h0: number, h1: number, i2: number): void {
  const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
  const s = sext16(i2);
  switch (h0 & 0xff) {
    case 0x44: c.wr16(a, i2); return; // MVHHI
    case 0x48: c.wr64(a, s < 0 ? 0xffffffff : 0, s >>> 0); return; // MVGHI
    case 0x4c: c.wr32(a, s >>> 0); return; // MVHI
    case 0x54: c.cc = ccCmp(sext16(c.rd16(a)), s); return; // CHHSI
    case 0x55: c.cc = ccCmp(c.rd16(a), i2); return; // CLHHSI
    case 0x58: c.rd64(a); c.cc = ccCmp64(c.r0, c.r1, s < 0 ? 0xffffffff : 0, s >>> 0); return; // CGHSI
    case 0x59: c.rd64(a); c.cc = ccCmpU64(c.r0, c.r1, 0, i2); return; // CLGHSI
    case 0x5c: c.cc = ccCmp(c.rd32(a) | 0, s); return; // CHSI
    case 0x5d: c.cc = ccCmp(c.rd32(a), i2); return; // CLFHSI
    default:
      c.pgm(PGM_OPERATION);
  }
}
