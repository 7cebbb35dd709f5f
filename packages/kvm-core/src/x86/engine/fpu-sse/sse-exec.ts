/**
 * execSse: MMX, SSE and SSE2 instructions of map 0F (SDM Vol. 2 opcode map Table A-3),
 * dispatched on opcode and mandatory prefix (none / 66 / F3 / F2). The decoder has
 * already done the CR0.EM/TS and CR4.OSFXSR checks; this file raises what the
 * instructions themselves raise: #GP(0) for misaligned 16-byte operands, #UD for
 * forbidden register/memory forms, #XM/#UD for unmasked SIMD exceptions, #MF for a
 * pending x87 exception on MMX instructions.
 */
import type { FpuSseHost } from './host';
import { CR0_NE, CR4_OSXMMEXCPT, EA_REG, X86_VEC_GP, X86_VEC_MF, X86_VEC_UD, X86_VEC_XM } from './host';
import type { FpuSseState } from './state';
import { FSW_ES } from './state';
import { execSse4, isSse4Opcode } from './sse4';
import {
  A16, A32, A8, B16, B32, B8, R16, R32, R8, byteShift, isPackedIntOp, packedIntOp, packedShift,
} from './packed-int';
import {
  OP_ADD, OP_DIV, OP_MAX, OP_MIN, OP_MUL, OP_SQRT, OP_SUB, ciHi, ciLo, cvtF32ToF64, cvtF32ToInt,
  cvtF64ToF32, cvtF64ToInt, cvtI64ToF32, cvtI64ToF64, f32Approx, f32Arith, f32Cmp, f32Comi,
  f64Arith, f64Cmp, f64Comi, r64hi, r64lo, sf, sseBegin,
} from './sse-float';

export type SseMap = 0x0f | 0x0f38 | 0x0f3a;
export type SsePrefix = 0 | 0x66 | 0xf3 | 0xf2;

const P_NONE = 1;
const P_66 = 2;
const P_F3 = 4;
const P_F2 = 8;
const P_ALL = 15;

/** Which mandatory prefixes each 0F opcode is defined with (a bit per prefix). */
const MAP0F = new Uint8Array(256);
function def(ops: number[], p: number): void {
  for (const op of ops) MAP0F[op] = MAP0F[op]! | p;
}
def([0x10, 0x11], P_ALL);
def([0x12], P_NONE | P_66 | P_F3 | P_F2);
def([0x13, 0x14, 0x15, 0x17], P_NONE | P_66);
def([0x16], P_NONE | P_66 | P_F3);
def([0x28, 0x29, 0x2b, 0x2e, 0x2f], P_NONE | P_66);
def([0x2a, 0x2c, 0x2d], P_ALL);
def([0x50, 0x54, 0x55, 0x56, 0x57], P_NONE | P_66);
def([0x51, 0x58, 0x59, 0x5a, 0x5c, 0x5d, 0x5e, 0x5f], P_ALL);
def([0x52, 0x53], P_NONE | P_F3);
def([0x5b], P_NONE | P_66 | P_F3);
for (let op = 0x60; op <= 0x6b; op++) def([op], P_NONE | P_66);
def([0x6c, 0x6d], P_66);
def([0x6e], P_NONE | P_66);
def([0x6f, 0x7f], P_NONE | P_66 | P_F3);
def([0x70], P_ALL);
def([0x71, 0x72, 0x73, 0x74, 0x75, 0x76], P_NONE | P_66);
def([0x77], P_NONE);
def([0x7c, 0x7d], P_66 | P_F2);
def([0x7e], P_NONE | P_66 | P_F3);
def([0xc2], P_ALL);
def([0xc4, 0xc5, 0xc6], P_NONE | P_66);
def([0xd0], P_66 | P_F2);
for (let op = 0xd1; op <= 0xfe; op++) if (op !== 0xd6 && op !== 0xe6 && op !== 0xf0) def([op], P_NONE | P_66);
def([0xd6], P_66 | P_F3 | P_F2);
def([0xe6], P_66 | P_F3 | P_F2);
def([0xf0], P_F2);

function prefixBit(prefix: SsePrefix): number {
  return prefix === 0 ? P_NONE : prefix === 0x66 ? P_66 : prefix === 0xf3 ? P_F3 : P_F2;
}

/** Whether the instruction has an imm8 after ModRM (the decoder needs the length). */
export const SSE_HAS_IMM8 = (map: SseMap, op: number): boolean => {
  if (map === 0x0f3a) return true;
  if (map === 0x0f38) return false;
  return (op >= 0x70 && op <= 0x73) || op === 0xc2 || (op >= 0xc4 && op <= 0xc6);
};

/** True when the unit implements this opcode with this mandatory prefix. */
export function isSseOpcode(map: SseMap, op: number, prefix: SsePrefix): boolean {
  if (map !== 0x0f) return isSse4Opcode(map, op, prefix);
  return (MAP0F[op & 0xff]! & prefixBit(prefix)) !== 0;
}

// ---- operand access ----------------------------------------------------------------

function ud(host: FpuSseHost): never {
  return host.raise(X86_VEC_UD);
}

/** Source operand of `bytes` bytes into B (from XMM rm or memory; 16-byte aligned if asked). */
function loadXmmSrc(st: FpuSseState, host: FpuSseHost, rm: number, ea: number, bytes: number, align: boolean): void {
  if (ea === EA_REG) {
    const x = st.xmm;
    const o = rm * 4;
    B32[0] = x[o]!; B32[1] = x[o + 1]!; B32[2] = x[o + 2]!; B32[3] = x[o + 3]!;
    return;
  }
  if (align && (ea & 15) !== 0) host.raise(X86_VEC_GP, 0);
  B32[1] = 0; B32[2] = 0; B32[3] = 0;
  if (bytes === 4) { B32[0] = host.read32(ea); return; }
  B32[0] = host.read32(ea);
  B32[1] = host.read32(ea + 4);
  if (bytes === 16) {
    B32[2] = host.read32(ea + 8);
    B32[3] = host.read32(ea + 12);
  }
}

function loadXmmDst(st: FpuSseState, reg: number): void {
  const x = st.xmm;
  const o = reg * 4;
  A32[0] = x[o]!; A32[1] = x[o + 1]!; A32[2] = x[o + 2]!; A32[3] = x[o + 3]!;
}

function storeXmm(st: FpuSseState, reg: number): void {
  const x = st.xmm;
  const o = reg * 4;
  x[o] = R32[0]!; x[o + 1] = R32[1]!; x[o + 2] = R32[2]!; x[o + 3] = R32[3]!;
}

function writeMem(host: FpuSseHost, ea: number, n: number, align: boolean): void {
  if (align && (ea & 15) !== 0) host.raise(X86_VEC_GP, 0);
  host.probeWrite(ea, n * 4);
  for (let i = 0; i < n; i++) host.write32(ea + 4 * i, R32[i]!);
}

/**
 * MMX instructions: a pending x87 exception is taken first (#MF), then the x87 -> MMX
 * transition sets TOP=0 and all tags valid. mmxEnter does both, for paths with nothing
 * left that can fault; the others call mmxCheck first and mmxTransition after their
 * memory accesses, so a faulting instruction changes nothing.
 */
function mmxCheck(st: FpuSseState, host: FpuSseHost): void {
  if ((st.fswBits & FSW_ES) !== 0 && (host.cr0 & CR0_NE) !== 0) host.raise(X86_VEC_MF);
}

function mmxTransition(st: FpuSseState): void {
  st.top = 0;
  st.ftwAbridged = 0xff;
}

function mmxEnter(st: FpuSseState, host: FpuSseHost): void {
  mmxCheck(st, host);
  mmxTransition(st);
}

function loadMmxSrc(st: FpuSseState, host: FpuSseHost, rm: number, ea: number, bytes: number): void {
  B32[2] = 0; B32[3] = 0;
  if (ea === EA_REG) {
    B32[0] = st.fprMant[2 * (rm & 7)]!;
    B32[1] = st.fprMant[2 * (rm & 7) + 1]!;
  } else {
    B32[0] = host.read32(ea);
    B32[1] = bytes === 8 ? host.read32(ea + 4) : 0;
  }
}

function loadMmxDst(st: FpuSseState, reg: number): void {
  A32[0] = st.fprMant[2 * (reg & 7)]!;
  A32[1] = st.fprMant[2 * (reg & 7) + 1]!;
  A32[2] = 0; A32[3] = 0;
}

/** Writing MMi: significand = value, sign/exponent all ones (SDM Vol. 1 9.5.1). */
export function writeMmx(st: FpuSseState, reg: number, lo: number, hi: number): void {
  const i = reg & 7;
  st.fprMant[2 * i] = lo;
  st.fprMant[2 * i + 1] = hi;
  st.fprExp[i] = 0xffff;
}

/** Commits the SIMD floating-point flags, or raises #XM (#UD without CR4.OSXMMEXCPT). */
function simdCommit(st: FpuSseState, host: FpuSseHost): void {
  let f = sf.flags;
  // An unmasked pre-computation exception (IE DE ZE) suppresses the post-computation
  // flags (OE UE PE) of the whole instruction (SDM Vol. 1 11.5.1; host-verified).
  if ((f & ~sf.masks & 0x07) !== 0) f &= 0x07;
  st.mxcsr |= f;
  if ((f & ~sf.masks & 0x3f) !== 0) {
    host.raise((host.cr4 & CR4_OSXMMEXCPT) !== 0 ? X86_VEC_XM : X86_VEC_UD);
  }
}

function gpr64(host: FpuSseHost, rm: number, ea: number, rexW: boolean): void {
  if (ea === EA_REG) {
    B32[0] = host.getGpr32(rm);
    B32[1] = rexW ? host.getGprHi32(rm) : 0;
  } else {
    B32[0] = host.read32(ea);
    B32[1] = rexW ? host.read32(ea + 4) : 0;
  }
}

function arithOpOf(op: number): number {
  switch (op) {
    case 0x51: return OP_SQRT;
    case 0x58: return OP_ADD;
    case 0x59: return OP_MUL;
    case 0x5c: return OP_SUB;
    case 0x5d: return OP_MIN;
    case 0x5e: return OP_DIV;
    default: return OP_MAX;
  }
}

// ---- the dispatcher ------------------------------------------------------------------

export function execSse(st: FpuSseState, host: FpuSseHost, map: SseMap, op: number, prefix: SsePrefix,
  reg: number, rm: number, ea: number, rexW: boolean, imm8: number): void {
  if (map !== 0x0f) { execSse4(st, host, map, op, prefix, reg, rm, ea, rexW, imm8); return; }
  if (!isSseOpcode(map, op, prefix)) ud(host);
  const isMem = ea !== EA_REG;
  switch (op) {
    case 0x10: case 0x11: return movUps(st, host, op === 0x11, prefix, reg, rm, ea);
    case 0x12: case 0x13: case 0x16: case 0x17: return movLowHigh(st, host, op, prefix, reg, rm, ea);
    case 0x14: case 0x15: {
      loadXmmDst(st, reg);
      loadXmmSrc(st, host, rm, ea, 16, true);
      const hiHalf = op === 0x15 ? 2 : 0;
      if (prefix === 0) {
        R32[0] = A32[hiHalf]!; R32[1] = B32[hiHalf]!; R32[2] = A32[hiHalf + 1]!; R32[3] = B32[hiHalf + 1]!;
      } else {
        R32[0] = A32[hiHalf]!; R32[1] = A32[hiHalf + 1]!; R32[2] = B32[hiHalf]!; R32[3] = B32[hiHalf + 1]!;
      }
      storeXmm(st, reg);
      return;
    }
    case 0x28: loadXmmSrc(st, host, rm, ea, 16, true); copyB(); storeXmm(st, reg); return;
    case 0x29:
      loadXmmDst(st, reg);
      copyA();
      if (isMem) writeMem(host, ea, 4, true); else storeXmm(st, rm);
      return;
    case 0x2b:
      if (!isMem) ud(host);
      loadXmmDst(st, reg); copyA(); writeMem(host, ea, 4, true);
      return;
    case 0x2a: return cvtToFloat(st, host, prefix, reg, rm, ea, rexW);
    case 0x2c: case 0x2d: return cvtToInt(st, host, prefix, reg, rm, ea, rexW, op === 0x2c);
    case 0x2e: case 0x2f: {
      sseBegin(st.mxcsr);
      let r: number;
      if (prefix === 0) {
        loadXmmSrc(st, host, rm, ea, 4, false);
        r = f32Comi(st.xmm[reg * 4]!, B32[0]!, op === 0x2f);
      } else {
        loadXmmSrc(st, host, rm, ea, 8, false);
        r = f64Comi(st.xmm[reg * 4]!, st.xmm[reg * 4 + 1]!, B32[0]!, B32[1]!, op === 0x2f);
      }
      simdCommit(st, host);
      host.setArithFlags(r >= 2 ? 1 : 0, r === 3 ? 1 : 0, r === 1 || r === 3 ? 1 : 0);
      return;
    }
    case 0x50: {
      if (isMem) ud(host);
      const x = st.xmm;
      const o = rm * 4;
      const m = prefix === 0
        ? (x[o]! >>> 31) | ((x[o + 1]! >>> 31) << 1) | ((x[o + 2]! >>> 31) << 2) | ((x[o + 3]! >>> 31) << 3)
        : (x[o + 1]! >>> 31) | ((x[o + 3]! >>> 31) << 1);
      host.setGpr32(reg, m);
      return;
    }
    case 0x51: case 0x58: case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      return floatArith(st, host, arithOpOf(op), prefix, reg, rm, ea);
    case 0x52: case 0x53: {
      loadXmmDst(st, reg);
      loadXmmSrc(st, host, rm, ea, prefix === 0 ? 16 : 4, prefix === 0);
      copyA();
      const n = prefix === 0 ? 4 : 1;
      for (let i = 0; i < n; i++) R32[i] = f32Approx(op === 0x52, B32[i]!);
      storeXmm(st, reg);
      return;
    }
    case 0x54: case 0x55: case 0x56: case 0x57: {
      loadXmmDst(st, reg);
      loadXmmSrc(st, host, rm, ea, 16, true);
      for (let i = 0; i < 4; i++) {
        const a = A32[i]!; const b = B32[i]!;
        R32[i] = op === 0x54 ? a & b : op === 0x55 ? ~a & b : op === 0x56 ? a | b : a ^ b;
      }
      storeXmm(st, reg);
      return;
    }
    case 0x5a: case 0x5b: case 0xe6: return cvtPacked(st, host, op, prefix, reg, rm, ea);
    case 0x6e: {
      gpr64(host, rm, ea, rexW);
      if (prefix === 0) {
        mmxEnter(st, host);
        writeMmx(st, reg, B32[0]!, B32[1]!);
      } else {
        R32[0] = B32[0]!; R32[1] = B32[1]!; R32[2] = 0; R32[3] = 0;
        storeXmm(st, reg);
      }
      return;
    }
    case 0x7e: {
      if (prefix === 0xf3) { // MOVQ xmm, xmm/m64
        loadXmmSrc(st, host, rm, ea, 8, false);
        R32[0] = B32[0]!; R32[1] = B32[1]!; R32[2] = 0; R32[3] = 0;
        storeXmm(st, reg);
        return;
      }
      let lo: number; let hi: number;
      if (prefix === 0) {
        mmxCheck(st, host);
        if (isMem) host.probeWrite(ea, rexW ? 8 : 4);
        mmxTransition(st);
        lo = st.fprMant[2 * (reg & 7)]!; hi = st.fprMant[2 * (reg & 7) + 1]!;
      } else {
        lo = st.xmm[reg * 4]!; hi = st.xmm[reg * 4 + 1]!;
      }
      if (isMem) {
        host.probeWrite(ea, rexW ? 8 : 4);
        host.write32(ea, lo);
        if (rexW) host.write32(ea + 4, hi);
      } else if (rexW) {
        host.setGpr64(rm, lo, hi);
      } else {
        host.setGpr32(rm, lo);
      }
      return;
    }
    case 0x6f: {
      if (prefix === 0) {
        mmxCheck(st, host);
        loadMmxSrc(st, host, rm, ea, 8);
        mmxTransition(st);
        writeMmx(st, reg, B32[0]!, B32[1]!);
        return;
      }
      loadXmmSrc(st, host, rm, ea, 16, prefix === 0x66);
      copyB();
      storeXmm(st, reg);
      return;
    }
    case 0x7f: {
      if (prefix === 0) {
        mmxCheck(st, host);
        if (isMem) host.probeWrite(ea, 8);
        mmxTransition(st);
        const lo = st.fprMant[2 * (reg & 7)]!; const hi = st.fprMant[2 * (reg & 7) + 1]!;
        if (isMem) {
          host.probeWrite(ea, 8);
          host.write32(ea, lo); host.write32(ea + 4, hi);
        } else {
          writeMmx(st, rm, lo, hi);
        }
        return;
      }
      loadXmmDst(st, reg);
      copyA();
      if (isMem) writeMem(host, ea, 4, prefix === 0x66); else storeXmm(st, rm);
      return;
    }
    case 0x70: {
      if (prefix === 0) {
        mmxCheck(st, host);
        loadMmxSrc(st, host, rm, ea, 8);
        mmxTransition(st);
        for (let i = 0; i < 4; i++) R16[i] = B16[(imm8 >> (2 * i)) & 3]!;
        writeMmx(st, reg, R32[0]!, R32[1]!);
        return;
      }
      loadXmmSrc(st, host, rm, ea, 16, true);
      if (prefix === 0x66) {
        for (let i = 0; i < 4; i++) R32[i] = B32[(imm8 >> (2 * i)) & 3]!;
      } else if (prefix === 0xf3) {
        R32[0] = B32[0]!; R32[1] = B32[1]!;
        for (let i = 0; i < 4; i++) R16[4 + i] = B16[4 + ((imm8 >> (2 * i)) & 3)]!;
      } else {
        for (let i = 0; i < 4; i++) R16[i] = B16[(imm8 >> (2 * i)) & 3]!;
        R32[2] = B32[2]!; R32[3] = B32[3]!;
      }
      storeXmm(st, reg);
      return;
    }
    case 0x71: case 0x72: case 0x73: {
      if (isMem) ud(host);
      const sub = reg & 7;
      const esize = op === 0x71 ? 16 : op === 0x72 ? 32 : 64;
      const mmx = prefix === 0;
      // Valid: 71/72 /2 /4 /6, 73 /2 /6 (+ /3 /7 with 66).
      const ok = op === 0x73
        ? sub === 2 || sub === 6 || (!mmx && (sub === 3 || sub === 7))
        : sub === 2 || sub === 4 || sub === 6;
      if (!ok) ud(host);
      if (mmx) { mmxEnter(st, host); loadMmxDst(st, rm); } else loadXmmDst(st, rm);
      if (sub === 3 || sub === 7) byteShift(sub === 7, imm8 > 16 ? 16 : imm8);
      else packedShift(sub === 2 ? 0 : sub === 4 ? 1 : 2, esize, imm8, mmx ? 8 : 16);
      if (mmx) writeMmx(st, rm, R32[0]!, R32[1]!); else storeXmm(st, rm);
      return;
    }
    case 0x77: // EMMS: all tags empty
      if ((st.fswBits & FSW_ES) !== 0 && (host.cr0 & CR0_NE) !== 0) host.raise(X86_VEC_MF);
      st.ftwAbridged = 0;
      return;
    case 0x7c: case 0x7d: case 0xd0: return sse3Arith(st, host, op, prefix, reg, rm, ea);
    case 0xc2: return cmpOp(st, host, prefix, reg, rm, ea, imm8);
    case 0xc4: { // PINSRW
      const v = isMem ? host.read16(ea) : host.getGpr32(rm) & 0xffff;
      if (prefix === 0) {
        mmxEnter(st, host);
        loadMmxDst(st, reg);
        copyA();
        R16[imm8 & 3] = v;
        writeMmx(st, reg, R32[0]!, R32[1]!);
      } else {
        loadXmmDst(st, reg);
        copyA();
        R16[imm8 & 7] = v;
        storeXmm(st, reg);
      }
      return;
    }
    case 0xc5: { // PEXTRW
      if (isMem) ud(host);
      let v: number;
      if (prefix === 0) {
        mmxEnter(st, host);
        loadMmxDst(st, rm);
        v = A16[imm8 & 3]!;
      } else {
        loadXmmDst(st, rm);
        v = A16[imm8 & 7]!;
      }
      host.setGpr32(reg, v);
      return;
    }
    case 0xc6: { // SHUFPS / SHUFPD
      loadXmmDst(st, reg);
      loadXmmSrc(st, host, rm, ea, 16, true);
      if (prefix === 0) {
        R32[0] = A32[imm8 & 3]!; R32[1] = A32[(imm8 >> 2) & 3]!;
        R32[2] = B32[(imm8 >> 4) & 3]!; R32[3] = B32[(imm8 >> 6) & 3]!;
      } else {
        const a = (imm8 & 1) * 2; const b = ((imm8 >> 1) & 1) * 2;
        R32[0] = A32[a]!; R32[1] = A32[a + 1]!; R32[2] = B32[b]!; R32[3] = B32[b + 1]!;
      }
      storeXmm(st, reg);
      return;
    }
    case 0xd6: {
      if (prefix === 0x66) { // MOVQ xmm/m64, xmm
        const lo = st.xmm[reg * 4]!; const hi = st.xmm[reg * 4 + 1]!;
        if (isMem) {
          host.probeWrite(ea, 8);
          host.write32(ea, lo); host.write32(ea + 4, hi);
        } else {
          R32[0] = lo; R32[1] = hi; R32[2] = 0; R32[3] = 0;
          storeXmm(st, rm);
        }
        return;
      }
      if (isMem) ud(host);
      mmxEnter(st, host);
      if (prefix === 0xf3) { // MOVQ2DQ xmm, mm
        R32[0] = st.fprMant[2 * (rm & 7)]!; R32[1] = st.fprMant[2 * (rm & 7) + 1]!; R32[2] = 0; R32[3] = 0;
        storeXmm(st, reg);
      } else { // MOVDQ2Q mm, xmm
        writeMmx(st, reg, st.xmm[rm * 4]!, st.xmm[rm * 4 + 1]!);
      }
      return;
    }
    case 0xd7: { // PMOVMSKB
      if (isMem) ud(host);
      let m = 0;
      if (prefix === 0) {
        mmxEnter(st, host);
        loadMmxDst(st, rm);
        for (let i = 0; i < 8; i++) m |= (A8[i]! >> 7) << i;
      } else {
        loadXmmDst(st, rm);
        for (let i = 0; i < 16; i++) m |= (A8[i]! >> 7) << i;
      }
      host.setGpr32(reg, m);
      return;
    }
    case 0xe7: { // MOVNTQ / MOVNTDQ
      if (!isMem) ud(host);
      if (prefix === 0) {
        mmxCheck(st, host);
        host.probeWrite(ea, 8);
        mmxTransition(st);
        host.write32(ea, st.fprMant[2 * (reg & 7)]!);
        host.write32(ea + 4, st.fprMant[2 * (reg & 7) + 1]!);
        return;
      }
      loadXmmDst(st, reg); copyA(); writeMem(host, ea, 4, true);
      return;
    }
    case 0xf0: // LDDQU
      if (!isMem) ud(host);
      loadXmmSrc(st, host, rm, ea, 16, false); copyB(); storeXmm(st, reg);
      return;
    case 0xf7: return maskMov(st, host, prefix, reg, rm, ea);
    default:
      if (isPackedIntOp(op)) {
        if (prefix === 0) {
          mmxCheck(st, host);
          // The unpack-low forms read only 32 bits from memory.
          loadMmxSrc(st, host, rm, ea, op >= 0x60 && op <= 0x62 ? 4 : 8);
          mmxTransition(st);
          loadMmxDst(st, reg);
          packedIntOp(op, 8);
          writeMmx(st, reg, R32[0]!, R32[1]!);
        } else {
          loadXmmDst(st, reg);
          loadXmmSrc(st, host, rm, ea, 16, true);
          packedIntOp(op, 16);
          storeXmm(st, reg);
        }
        return;
      }
      ud(host);
  }
}

function copyA(): void { R32[0] = A32[0]!; R32[1] = A32[1]!; R32[2] = A32[2]!; R32[3] = A32[3]!; }
function copyB(): void { R32[0] = B32[0]!; R32[1] = B32[1]!; R32[2] = B32[2]!; R32[3] = B32[3]!; }

/** 0F 10/11: MOVUPS MOVUPD MOVSS MOVSD (load and store forms). */
function movUps(st: FpuSseState, host: FpuSseHost, store: boolean, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  const scalar = prefix === 0xf3 ? 1 : prefix === 0xf2 ? 2 : 0; // dwords moved by scalar forms
  if (!store) {
    if (scalar === 0) { loadXmmSrc(st, host, rm, ea, 16, false); copyB(); storeXmm(st, reg); return; }
    loadXmmSrc(st, host, rm, ea, scalar * 4, false);
    if (ea !== EA_REG) { // from memory: upper part zeroed
      R32[0] = B32[0]!; R32[1] = scalar === 2 ? B32[1]! : 0; R32[2] = 0; R32[3] = 0;
    } else {
      loadXmmDst(st, reg); copyA();
      R32[0] = B32[0]!; if (scalar === 2) R32[1] = B32[1]!;
    }
    storeXmm(st, reg);
    return;
  }
  loadXmmDst(st, reg);
  copyA();
  if (ea !== EA_REG) { writeMem(host, ea, scalar === 0 ? 4 : scalar, false); return; }
  if (scalar === 0) { storeXmm(st, rm); return; }
  st.xmm[rm * 4] = A32[0]!;
  if (scalar === 2) st.xmm[rm * 4 + 1] = A32[1]!;
}

/** 0F 12/13/16/17: MOVLPS MOVHLPS MOVLPD MOVSLDUP MOVDDUP MOVHPS MOVLHPS MOVHPD MOVSHDUP. */
function movLowHigh(st: FpuSseState, host: FpuSseHost, op: number, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  const isMem = ea !== EA_REG;
  if (op === 0x13 || op === 0x17) { // stores of the low/high qword
    if (!isMem) ud(host);
    const o = reg * 4 + (op === 0x17 ? 2 : 0);
    R32[0] = st.xmm[o]!; R32[1] = st.xmm[o + 1]!;
    writeMem(host, ea, 2, false);
    return;
  }
  if (prefix === 0xf3) { // MOVSLDUP (12) / MOVSHDUP (16)
    loadXmmSrc(st, host, rm, ea, 16, true);
    const k = op === 0x16 ? 1 : 0;
    R32[0] = B32[k]!; R32[1] = B32[k]!; R32[2] = B32[2 + k]!; R32[3] = B32[2 + k]!;
    storeXmm(st, reg);
    return;
  }
  if (prefix === 0xf2) { // MOVDDUP
    loadXmmSrc(st, host, rm, ea, 8, false);
    R32[0] = B32[0]!; R32[1] = B32[1]!; R32[2] = B32[0]!; R32[3] = B32[1]!;
    storeXmm(st, reg);
    return;
  }
  if (prefix === 0x66 && !isMem) ud(host);
  loadXmmDst(st, reg);
  copyA();
  if (isMem) {
    B32[0] = host.read32(ea); B32[1] = host.read32(ea + 4);
  } else { // MOVHLPS takes the source's high qword, MOVLHPS its low qword
    const o = rm * 4 + (op === 0x12 ? 2 : 0);
    B32[0] = st.xmm[o]!; B32[1] = st.xmm[o + 1]!;
  }
  const d = op === 0x12 ? 0 : 2;
  R32[d] = B32[0]!; R32[d + 1] = B32[1]!;
  storeXmm(st, reg);
}

/** ADD SUB MUL DIV MIN MAX SQRT in ps / pd / ss / sd forms. */
function floatArith(st: FpuSseState, host: FpuSseHost, aop: number, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  loadXmmDst(st, reg);
  sseBegin(st.mxcsr);
  copyA();
  switch (prefix) {
    case 0:
      loadXmmSrc(st, host, rm, ea, 16, true);
      for (let i = 0; i < 4; i++) R32[i] = f32Arith(aop, A32[i]!, B32[i]!);
      break;
    case 0xf3:
      loadXmmSrc(st, host, rm, ea, 4, false);
      R32[0] = f32Arith(aop, A32[0]!, B32[0]!);
      break;
    case 0x66:
      loadXmmSrc(st, host, rm, ea, 16, true);
      for (let i = 0; i < 4; i += 2) {
        f64Arith(aop, A32[i]!, A32[i + 1]!, B32[i]!, B32[i + 1]!);
        R32[i] = r64lo; R32[i + 1] = r64hi;
      }
      break;
    default:
      loadXmmSrc(st, host, rm, ea, 8, false);
      f64Arith(aop, A32[0]!, A32[1]!, B32[0]!, B32[1]!);
      R32[0] = r64lo; R32[1] = r64hi;
  }
  simdCommit(st, host);
  storeXmm(st, reg);
}

/** SSE3 HADDPS/HSUBPS/HADDPD/HSUBPD (7C/7D) and ADDSUBPS/ADDSUBPD (D0). */
function sse3Arith(st: FpuSseState, host: FpuSseHost, op: number, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  loadXmmDst(st, reg);
  loadXmmSrc(st, host, rm, ea, 16, true);
  sseBegin(st.mxcsr);
  const sub = op === 0x7d;
  if (prefix === 0xf2) { // single
    if (op === 0xd0) {
      for (let i = 0; i < 4; i++) R32[i] = f32Arith(i & 1 ? OP_ADD : OP_SUB, A32[i]!, B32[i]!);
    } else {
      const o = sub ? OP_SUB : OP_ADD;
      R32[0] = f32Arith(o, A32[0]!, A32[1]!); R32[1] = f32Arith(o, A32[2]!, A32[3]!);
      R32[2] = f32Arith(o, B32[0]!, B32[1]!); R32[3] = f32Arith(o, B32[2]!, B32[3]!);
    }
  } else if (op === 0xd0) {
    f64Arith(OP_SUB, A32[0]!, A32[1]!, B32[0]!, B32[1]!); R32[0] = r64lo; R32[1] = r64hi;
    f64Arith(OP_ADD, A32[2]!, A32[3]!, B32[2]!, B32[3]!); R32[2] = r64lo; R32[3] = r64hi;
  } else {
    const o = sub ? OP_SUB : OP_ADD;
    f64Arith(o, A32[0]!, A32[1]!, A32[2]!, A32[3]!); R32[0] = r64lo; R32[1] = r64hi;
    f64Arith(o, B32[0]!, B32[1]!, B32[2]!, B32[3]!); R32[2] = r64lo; R32[3] = r64hi;
  }
  simdCommit(st, host);
  storeXmm(st, reg);
}

/** CMPPS CMPPD CMPSS CMPSD with the imm8 predicate (bits 2:0; legacy SSE ignores 7:3). */
function cmpOp(st: FpuSseState, host: FpuSseHost, prefix: SsePrefix, reg: number, rm: number, ea: number, imm8: number): void {
  const pred = imm8 & 7;
  loadXmmDst(st, reg);
  sseBegin(st.mxcsr);
  copyA();
  switch (prefix) {
    case 0:
      loadXmmSrc(st, host, rm, ea, 16, true);
      for (let i = 0; i < 4; i++) R32[i] = f32Cmp(pred, A32[i]!, B32[i]!) ? 0xffffffff : 0;
      break;
    case 0xf3:
      loadXmmSrc(st, host, rm, ea, 4, false);
      R32[0] = f32Cmp(pred, A32[0]!, B32[0]!) ? 0xffffffff : 0;
      break;
    case 0x66:
      loadXmmSrc(st, host, rm, ea, 16, true);
      for (let i = 0; i < 4; i += 2) {
        const m = f64Cmp(pred, A32[i]!, A32[i + 1]!, B32[i]!, B32[i + 1]!) ? 0xffffffff : 0;
        R32[i] = m; R32[i + 1] = m;
      }
      break;
    default: {
      loadXmmSrc(st, host, rm, ea, 8, false);
      const m = f64Cmp(pred, A32[0]!, A32[1]!, B32[0]!, B32[1]!) ? 0xffffffff : 0;
      R32[0] = m; R32[1] = m;
    }
  }
  simdCommit(st, host);
  storeXmm(st, reg);
}

/** 0F 2A: CVTPI2PS CVTPI2PD CVTSI2SS CVTSI2SD. */
function cvtToFloat(st: FpuSseState, host: FpuSseHost, prefix: SsePrefix, reg: number, rm: number, ea: number, rexW: boolean): void {
  loadXmmDst(st, reg);
  copyA();
  if (prefix === 0 || prefix === 0x66) {
    // The MMX register form transitions to MMX mode; the memory form does not.
    if (ea === EA_REG) mmxEnter(st, host);
    loadMmxSrc(st, host, rm, ea, 8);
    sseBegin(st.mxcsr);
    if (prefix === 0) {
      R32[0] = cvtI64ToF32(B32[0]!, B32[0]! >> 31);
      R32[1] = cvtI64ToF32(B32[1]!, B32[1]! >> 31);
    } else {
      cvtI64ToF64(B32[0]!, B32[0]! >> 31); R32[0] = r64lo; R32[1] = r64hi;
      cvtI64ToF64(B32[1]!, B32[1]! >> 31); R32[2] = r64lo; R32[3] = r64hi;
    }
  } else {
    gpr64(host, rm, ea, rexW);
    const lo = B32[0]!;
    const hi = rexW ? B32[1]! : lo >> 31;
    sseBegin(st.mxcsr);
    if (prefix === 0xf3) R32[0] = cvtI64ToF32(lo, hi);
    else { cvtI64ToF64(lo, hi); R32[0] = r64lo; R32[1] = r64hi; }
  }
  simdCommit(st, host);
  storeXmm(st, reg);
}

/** 0F 2C/2D: CVT(T)PS2PI CVT(T)PD2PI CVT(T)SS2SI CVT(T)SD2SI. */
function cvtToInt(st: FpuSseState, host: FpuSseHost, prefix: SsePrefix, reg: number, rm: number, ea: number, rexW: boolean, trunc: boolean): void {
  sseBegin(st.mxcsr);
  if (prefix === 0 || prefix === 0x66) {
    let lo: number; let hi: number;
    if (prefix === 0) {
      loadXmmSrc(st, host, rm, ea, 8, false);
      cvtF32ToInt(B32[0]!, 32, trunc); lo = ciLo;
      cvtF32ToInt(B32[1]!, 32, trunc); hi = ciLo;
    } else {
      loadXmmSrc(st, host, rm, ea, 16, true);
      cvtF64ToInt(B32[0]!, B32[1]!, 32, trunc); lo = ciLo;
      cvtF64ToInt(B32[2]!, B32[3]!, 32, trunc); hi = ciLo;
    }
    mmxCheck(st, host);
    simdCommit(st, host);
    mmxTransition(st);
    writeMmx(st, reg, lo, hi);
    return;
  }
  const bits = rexW ? 64 : 32;
  if (prefix === 0xf3) {
    loadXmmSrc(st, host, rm, ea, 4, false);
    cvtF32ToInt(B32[0]!, bits, trunc);
  } else {
    loadXmmSrc(st, host, rm, ea, 8, false);
    cvtF64ToInt(B32[0]!, B32[1]!, bits, trunc);
  }
  simdCommit(st, host);
  if (rexW) host.setGpr64(reg, ciLo, ciHi); else host.setGpr32(reg, ciLo);
}

/** 0F 5A / 5B / E6: the packed and scalar float<->float and float<->int32 conversions. */
function cvtPacked(st: FpuSseState, host: FpuSseHost, op: number, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  loadXmmDst(st, reg);
  copyA();
  sseBegin(st.mxcsr);
  if (op === 0x5a) {
    switch (prefix) {
      case 0: // CVTPS2PD xmm, xmm/m64
        loadXmmSrc(st, host, rm, ea, 8, false);
        cvtF32ToF64(B32[0]!); R32[0] = r64lo; R32[1] = r64hi;
        cvtF32ToF64(B32[1]!); R32[2] = r64lo; R32[3] = r64hi;
        break;
      case 0x66: // CVTPD2PS: upper half zeroed
        loadXmmSrc(st, host, rm, ea, 16, true);
        R32[0] = cvtF64ToF32(B32[0]!, B32[1]!); R32[1] = cvtF64ToF32(B32[2]!, B32[3]!);
        R32[2] = 0; R32[3] = 0;
        break;
      case 0xf3: // CVTSS2SD
        loadXmmSrc(st, host, rm, ea, 4, false);
        cvtF32ToF64(B32[0]!); R32[0] = r64lo; R32[1] = r64hi;
        break;
      default: // CVTSD2SS
        loadXmmSrc(st, host, rm, ea, 8, false);
        R32[0] = cvtF64ToF32(B32[0]!, B32[1]!);
    }
  } else if (op === 0x5b) {
    loadXmmSrc(st, host, rm, ea, 16, true);
    if (prefix === 0) { // CVTDQ2PS
      for (let i = 0; i < 4; i++) R32[i] = cvtI64ToF32(B32[i]!, B32[i]! >> 31);
    } else { // CVTPS2DQ (66) / CVTTPS2DQ (F3)
      for (let i = 0; i < 4; i++) { cvtF32ToInt(B32[i]!, 32, prefix === 0xf3); R32[i] = ciLo; }
    }
  } else if (prefix === 0xf3) { // CVTDQ2PD xmm, xmm/m64
    loadXmmSrc(st, host, rm, ea, 8, false);
    cvtI64ToF64(B32[0]!, B32[0]! >> 31); R32[0] = r64lo; R32[1] = r64hi;
    cvtI64ToF64(B32[1]!, B32[1]! >> 31); R32[2] = r64lo; R32[3] = r64hi;
  } else { // CVTTPD2DQ (66) / CVTPD2DQ (F2): upper half zeroed
    loadXmmSrc(st, host, rm, ea, 16, true);
    cvtF64ToInt(B32[0]!, B32[1]!, 32, prefix === 0x66); R32[0] = ciLo;
    cvtF64ToInt(B32[2]!, B32[3]!, 32, prefix === 0x66); R32[1] = ciLo;
    R32[2] = 0; R32[3] = 0;
  }
  simdCommit(st, host);
  storeXmm(st, reg);
}

/**
 * MASKMOVQ / MASKMOVDQU: byte-masked store of `reg` to DS:rDI. The decoder may pass the
 * linear address of DS:rDI as ea; with ea = -1 the unit uses rDI with a flat DS
 * (64-bit RDI in 64-bit mode, EDI otherwise).
 */
function maskMov(st: FpuSseState, host: FpuSseHost, prefix: SsePrefix, reg: number, rm: number, ea: number): void {
  let la = ea;
  if (la < 0) {
    la = host.getGpr32(7) >>> 0;
    if (host.mode64) la += (host.getGprHi32(7) & 0x1fffff) * 0x1_0000_0000;
  }
  let n: number;
  if (prefix === 0) {
    mmxCheck(st, host);
    loadMmxDst(st, reg);
    loadMmxSrc(st, host, rm, EA_REG, 8);
    n = 8;
  } else {
    loadXmmDst(st, reg);
    loadXmmSrc(st, host, rm, EA_REG, 16, false);
    n = 16;
  }
  for (let i = 0; i < n; i++) if (B8[i]! & 0x80) host.probeWrite(la + i, 1);
  if (prefix === 0) mmxTransition(st);
  for (let i = 0; i < n; i++) if (B8[i]! & 0x80) host.write8(la + i, A8[i]!);
}
