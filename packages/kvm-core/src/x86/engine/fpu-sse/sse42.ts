/**
 * SSE4.2: the string compares PCMPESTRM/PCMPESTRI/PCMPISTRM/PCMPISTRI (66 0F 3A 60-63,
 * SDM Vol. 2 4.1 "Imm8 Control Byte Operation for String Compare") and CRC32
 * (F2 0F 38 F0/F1, CRC-32C). The string compares write OF SF ZF AF PF CF, which needs
 * the optional FpuSseHost.setStatusFlags; without it they raise #UD.
 */
import type { FpuSseHost } from './host';
import { EA_REG, X86_VEC_UD } from './host';
import type { FpuSseState } from './state';
import { A16, A8, B16, B8 } from './packed-int';

const As8 = new Int8Array(A8.buffer);
const As16 = new Int16Array(A8.buffer);
const Bs8 = new Int8Array(B8.buffer);
const Bs16 = new Int16Array(B8.buffer);

/** Element i of the operand as a number, per the source format imm8[1:0]. */
function elemA(fmt: number, i: number): number {
  return fmt === 0 ? A8[i]! : fmt === 1 ? A16[i]! : fmt === 2 ? As8[i]! : As16[i]!;
}
function elemB(fmt: number, i: number): number {
  return fmt === 0 ? B8[i]! : fmt === 1 ? B16[i]! : fmt === 2 ? Bs8[i]! : Bs16[i]!;
}

/** Explicit length from EAX/EDX (RAX/RDX with REX.W): absolute value saturated to n. */
function explicitLen(host: FpuSseHost, reg: number, rexW: boolean, n: number): number {
  const lo = host.getGpr32(reg) | 0;
  if (rexW) {
    const hi = host.getGprHi32(reg) | 0;
    if (hi !== 0 && hi !== -1) return n;
    if (hi === -1 && lo >= 0) return n; // below -2^31
    if (hi === 0 && lo < 0) return n;   // at least 2^31
  }
  const a = Math.abs(lo);
  return a > n ? n : a;
}

function implicitLen(fmt: number, b: boolean, n: number): number {
  for (let i = 0; i < n; i++) if ((b ? elemB(fmt, i) : elemA(fmt, i)) === 0) return i;
  return n;
}

/** PCMPxSTRx on A (xmm reg) and B (xmm/m128), already loaded. */
export function pcmpstr(st: FpuSseState, host: FpuSseHost, op: number, rexW: boolean, imm8: number): void {
  if (host.setStatusFlags === undefined) host.raise(X86_VEC_UD);
  const fmt = imm8 & 3;
  const n = fmt & 1 ? 8 : 16;
  const agg = (imm8 >> 2) & 3;
  const pol = (imm8 >> 4) & 3;
  const explicit = op === 0x60 || op === 0x61;
  const lenA = explicit ? explicitLen(host, 0, rexW, n) : implicitLen(fmt, false, n);
  const lenB = explicit ? explicitLen(host, 2, rexW, n) : implicitLen(fmt, true, n);
  let res1 = 0;
  for (let j = 0; j < n; j++) {
    const vb = j < lenB;
    const b = elemB(fmt, j);
    let bit: boolean;
    switch (agg) {
      case 0: { // equal any
        bit = false;
        if (vb) for (let i = 0; i < lenA; i++) if (elemA(fmt, i) === b) { bit = true; break; }
        break;
      }
      case 1: { // ranges: A holds (low, high) pairs
        bit = false;
        if (vb) for (let i = 0; i + 1 < lenA + 1 && i + 1 < n; i += 2) {
          const lo = elemA(fmt, i); const hi = elemA(fmt, i + 1);
          const okLo = i < lenA && lo <= b;
          const okHi = i + 1 < lenA && b <= hi;
          if (okLo && okHi) { bit = true; break; }
        }
        break;
      }
      case 2: { // equal each
        const va = j < lenA;
        bit = va && vb ? elemA(fmt, j) === b : !va && !vb;
        break;
      }
      default: { // equal ordered: A as a substring starting at B[j]
        bit = true;
        for (let k = 0; k < n - j; k++) {
          if (k >= lenA) break;               // A exhausted: matches
          if (j + k >= lenB) { bit = false; break; }
          if (elemA(fmt, k) !== elemB(fmt, j + k)) { bit = false; break; }
        }
      }
    }
    if (bit) res1 |= 1 << j;
  }
  const all = (1 << n) - 1;
  let res2 = res1;
  if (pol === 1) res2 = ~res1 & all;
  else if (pol === 3) res2 = (res1 ^ ((1 << lenB) - 1)) & all;
  if (op === 0x61 || op === 0x63) { // index into ECX
    let idx = n;
    if (res2 !== 0) idx = imm8 & 0x40 ? 31 - Math.clz32(res2) : 31 - Math.clz32(res2 & -res2);
    host.setGpr32(1, idx);
  } else { // mask into XMM0
    const x = st.xmm;
    x[0] = 0; x[1] = 0; x[2] = 0; x[3] = 0;
    if ((imm8 & 0x40) === 0) x[0] = res2;
    else for (let j = 0; j < n; j++) {
      if ((res2 >> j) & 1) {
        if (n === 16) x[j >> 2] = (x[j >> 2]! | (0xff << (8 * (j & 3)))) >>> 0;
        else x[j >> 1] = (x[j >> 1]! | (0xffff << (16 * (j & 1)))) >>> 0;
      }
    }
  }
  host.setStatusFlags!(res2 & 1, lenA < n ? 1 : 0, lenB < n ? 1 : 0, 0, 0, res2 !== 0 ? 1 : 0);
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as CRC32 computes it. */
const CRC32C = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C[i] = c >>> 0;
}

/** CRC-32C of a 16-bit source (66 F2 0F 38 F1, decoded by the integer engine). */
export function crc32Word(crc: number, v: number): number {
  let c = crc >>> 0;
  c = (CRC32C[(c ^ v) & 0xff]! ^ (c >>> 8)) >>> 0;
  c = (CRC32C[(c ^ (v >>> 8)) & 0xff]! ^ (c >>> 8)) >>> 0;
  return c;
}

/**
 * CRC32 r32/r64, r/m8 (F0) or r/m32, r/m64 (F1 with REX.W). The 16-bit source form
 * (66 F2 0F 38 F1) cannot be told apart through the contract's single mandatory prefix;
 * the integer engine runs it with crc32Word.
 */
export function crc32(host: FpuSseHost, op: number, reg: number, rm: number, ea: number, rexW: boolean): void {
  let lo: number; let hi = 0; let bytes: number;
  if (op === 0xf0) {
    bytes = 1;
    if (ea !== EA_REG) lo = host.read8(ea);
    else if (rm >= 4 && rm < 8 && host.rex !== true) lo = (host.getGpr32(rm - 4) >>> 8) & 0xff; // AH CH DH BH
    else lo = host.getGpr32(rm) & 0xff;
  }
  else if (rexW) { bytes = 8; lo = ea !== EA_REG ? host.read32(ea) : host.getGpr32(rm); hi = ea !== EA_REG ? host.read32(ea + 4) : host.getGprHi32(rm); }
  else { bytes = 4; lo = ea !== EA_REG ? host.read32(ea) : host.getGpr32(rm); }
  let c = host.getGpr32(reg) >>> 0;
  for (let i = 0; i < bytes; i++) {
    const byte = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
    c = (CRC32C[(c ^ byte) & 0xff]! ^ (c >>> 8)) >>> 0;
  }
  if (rexW) host.setGpr64(reg, c, 0); else host.setGpr32(reg, c);
}

