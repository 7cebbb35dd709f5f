/**
 * Packed integer operations shared by MMX (8-byte operands) and SSE2 (16-byte operands):
 * the 0F 60-76 and 0F D1-FE opcode families. They read the destination copy `A` and the
 * source `B` and write `Rr`; the caller copies Rr to the destination register.
 * Scratch buffers are module-level typed arrays: no allocation per instruction.
 */
export const A8 = new Uint8Array(16);
export const A16 = new Uint16Array(A8.buffer);
export const A32 = new Uint32Array(A8.buffer);
const As8 = new Int8Array(A8.buffer);
const As16 = new Int16Array(A8.buffer);
const As32 = new Int32Array(A8.buffer);
export const B8 = new Uint8Array(16);
export const B16 = new Uint16Array(B8.buffer);
export const B32 = new Uint32Array(B8.buffer);
const Bs8 = new Int8Array(B8.buffer);
const Bs16 = new Int16Array(B8.buffer);
const Bs32 = new Int32Array(B8.buffer);
export const R8 = new Uint8Array(16);
export const R16 = new Uint16Array(R8.buffer);
export const R32 = new Uint32Array(R8.buffer);

function ss8(v: number): number { return v > 127 ? 127 : v < -128 ? -128 : v; }
function us8(v: number): number { return v > 255 ? 255 : v < 0 ? 0 : v; }
function ss16(v: number): number { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
function us16(v: number): number { return v > 65535 ? 65535 : v < 0 ? 0 : v; }

/** Whether the packed-integer table handles this 0F opcode. */
export function isPackedIntOp(op: number): boolean {
  return (op >= 0x60 && op <= 0x6d) || (op >= 0x74 && op <= 0x76) ||
    (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xe5 && op !== 0xe6) ||
    (op >= 0xe8 && op <= 0xef) || (op >= 0xf1 && op <= 0xf6) || (op >= 0xf8 && op <= 0xfe);
}

/** Shift count of the register forms (PSRLW mm, mm/m64 ...): the source's low 64 bits. */
function shiftCount(): number {
  return B32[1] !== 0 ? 0xffff : B32[0]! > 0xffff ? 0xffff : B32[0]!;
}

/** Logical/arithmetic shifts of `len` bytes of A by count, element size bits: into Rr. */
export function packedShift(kind: number /* 0 srl, 1 sra, 2 sll */, esize: number, count: number, len: number): void {
  if (esize === 16) {
    const n = len >> 1;
    for (let i = 0; i < n; i++) {
      const v = A16[i]!;
      if (kind === 0) R16[i] = count > 15 ? 0 : v >>> count;
      else if (kind === 2) R16[i] = count > 15 ? 0 : (v << count) & 0xffff;
      else R16[i] = (As16[i]! >> (count > 15 ? 15 : count)) & 0xffff;
    }
  } else if (esize === 32) {
    const n = len >> 2;
    for (let i = 0; i < n; i++) {
      const v = A32[i]!;
      if (kind === 0) R32[i] = count > 31 ? 0 : v >>> count;
      else if (kind === 2) R32[i] = count > 31 ? 0 : v << count;
      else R32[i] = As32[i]! >> (count > 31 ? 31 : count);
    }
  } else { // 64 (no arithmetic form in MMX/SSE2)
    const n = len >> 3;
    for (let i = 0; i < n; i++) {
      const lo = A32[2 * i]!;
      const hi = A32[2 * i + 1]!;
      let rlo = 0;
      let rhi = 0;
      if (count === 0) { rlo = lo; rhi = hi; }
      else if (count < 32) {
        if (kind === 0) { rlo = (lo >>> count) | (hi << (32 - count)); rhi = hi >>> count; }
        else { rhi = (hi << count) | (lo >>> (32 - count)); rlo = lo << count; }
      } else if (count < 64) {
        if (kind === 0) { rlo = hi >>> (count - 32); rhi = 0; }
        else { rhi = lo << (count - 32); rlo = 0; }
      }
      R32[2 * i] = rlo;
      R32[2 * i + 1] = rhi;
    }
  }
}

/** Byte shifts of the whole 128-bit register (PSRLDQ/PSLLDQ). */
export function byteShift(left: boolean, count: number): void {
  for (let i = 0; i < 16; i++) {
    const j = left ? i - count : i + count;
    R8[i] = j >= 0 && j < 16 ? A8[j]! : 0;
  }
}

/** One packed-integer opcode over `len` bytes (8 = MMX, 16 = XMM). */
export function packedIntOp(op: number, len: number): void {
  const n8 = len;
  const n16 = len >> 1;
  const n32 = len >> 2;
  switch (op) {
    case 0x60: for (let i = 0; i < n8 / 2; i++) { R8[2 * i] = A8[i]!; R8[2 * i + 1] = B8[i]!; } break;
    case 0x61: for (let i = 0; i < n16 / 2; i++) { R16[2 * i] = A16[i]!; R16[2 * i + 1] = B16[i]!; } break;
    case 0x62: for (let i = 0; i < n32 / 2; i++) { R32[2 * i] = A32[i]!; R32[2 * i + 1] = B32[i]!; } break;
    case 0x63:
      for (let i = 0; i < n16; i++) { R8[i] = ss8(As16[i]!); R8[n16 + i] = ss8(Bs16[i]!); }
      break;
    case 0x64: for (let i = 0; i < n8; i++) R8[i] = As8[i]! > Bs8[i]! ? 0xff : 0; break;
    case 0x65: for (let i = 0; i < n16; i++) R16[i] = As16[i]! > Bs16[i]! ? 0xffff : 0; break;
    case 0x66: for (let i = 0; i < n32; i++) R32[i] = As32[i]! > Bs32[i]! ? 0xffffffff : 0; break;
    case 0x67:
      for (let i = 0; i < n16; i++) { R8[i] = us8(As16[i]!); R8[n16 + i] = us8(Bs16[i]!); }
      break;
    case 0x68: for (let i = 0; i < n8 / 2; i++) { R8[2 * i] = A8[n8 / 2 + i]!; R8[2 * i + 1] = B8[n8 / 2 + i]!; } break;
    case 0x69: for (let i = 0; i < n16 / 2; i++) { R16[2 * i] = A16[n16 / 2 + i]!; R16[2 * i + 1] = B16[n16 / 2 + i]!; } break;
    case 0x6a: for (let i = 0; i < n32 / 2; i++) { R32[2 * i] = A32[n32 / 2 + i]!; R32[2 * i + 1] = B32[n32 / 2 + i]!; } break;
    case 0x6b:
      for (let i = 0; i < n32; i++) { R16[i] = ss16(As32[i]!) & 0xffff; R16[n32 + i] = ss16(Bs32[i]!) & 0xffff; }
      break;
    case 0x6c: R32[0] = A32[0]!; R32[1] = A32[1]!; R32[2] = B32[0]!; R32[3] = B32[1]!; break;
    case 0x6d: R32[0] = A32[2]!; R32[1] = A32[3]!; R32[2] = B32[2]!; R32[3] = B32[3]!; break;
    case 0x74: for (let i = 0; i < n8; i++) R8[i] = A8[i] === B8[i] ? 0xff : 0; break;
    case 0x75: for (let i = 0; i < n16; i++) R16[i] = A16[i] === B16[i] ? 0xffff : 0; break;
    case 0x76: for (let i = 0; i < n32; i++) R32[i] = A32[i] === B32[i] ? 0xffffffff : 0; break;
    case 0xd1: packedShift(0, 16, shiftCount(), len); break;
    case 0xd2: packedShift(0, 32, shiftCount(), len); break;
    case 0xd3: packedShift(0, 64, shiftCount(), len); break;
    case 0xd4: add64(len, false); break;
    case 0xd5: for (let i = 0; i < n16; i++) R16[i] = Math.imul(As16[i]!, Bs16[i]!) & 0xffff; break;
    case 0xd8: for (let i = 0; i < n8; i++) R8[i] = us8(A8[i]! - B8[i]!); break;
    case 0xd9: for (let i = 0; i < n16; i++) R16[i] = us16(A16[i]! - B16[i]!); break;
    case 0xda: for (let i = 0; i < n8; i++) R8[i] = A8[i]! < B8[i]! ? A8[i]! : B8[i]!; break;
    case 0xdb: for (let i = 0; i < n32; i++) R32[i] = A32[i]! & B32[i]!; break;
    case 0xdc: for (let i = 0; i < n8; i++) R8[i] = us8(A8[i]! + B8[i]!); break;
    case 0xdd: for (let i = 0; i < n16; i++) R16[i] = us16(A16[i]! + B16[i]!); break;
    case 0xde: for (let i = 0; i < n8; i++) R8[i] = A8[i]! > B8[i]! ? A8[i]! : B8[i]!; break;
    case 0xdf: for (let i = 0; i < n32; i++) R32[i] = ~A32[i]! & B32[i]!; break;
    case 0xe0: for (let i = 0; i < n8; i++) R8[i] = (A8[i]! + B8[i]! + 1) >> 1; break;
    case 0xe1: packedShift(1, 16, shiftCount(), len); break;
    case 0xe2: packedShift(1, 32, shiftCount(), len); break;
    case 0xe3: for (let i = 0; i < n16; i++) R16[i] = (A16[i]! + B16[i]! + 1) >> 1; break;
    case 0xe4: for (let i = 0; i < n16; i++) R16[i] = (A16[i]! * B16[i]!) >>> 16; break;
    case 0xe5: for (let i = 0; i < n16; i++) R16[i] = ((As16[i]! * Bs16[i]!) >> 16) & 0xffff; break;
    case 0xe8: for (let i = 0; i < n8; i++) R8[i] = ss8(As8[i]! - Bs8[i]!) & 0xff; break;
    case 0xe9: for (let i = 0; i < n16; i++) R16[i] = ss16(As16[i]! - Bs16[i]!) & 0xffff; break;
    case 0xea: for (let i = 0; i < n16; i++) R16[i] = As16[i]! < Bs16[i]! ? A16[i]! : B16[i]!; break;
    case 0xeb: for (let i = 0; i < n32; i++) R32[i] = A32[i]! | B32[i]!; break;
    case 0xec: for (let i = 0; i < n8; i++) R8[i] = ss8(As8[i]! + Bs8[i]!) & 0xff; break;
    case 0xed: for (let i = 0; i < n16; i++) R16[i] = ss16(As16[i]! + Bs16[i]!) & 0xffff; break;
    case 0xee: for (let i = 0; i < n16; i++) R16[i] = As16[i]! > Bs16[i]! ? A16[i]! : B16[i]!; break;
    case 0xef: for (let i = 0; i < n32; i++) R32[i] = A32[i]! ^ B32[i]!; break;
    case 0xf1: packedShift(2, 16, shiftCount(), len); break;
    case 0xf2: packedShift(2, 32, shiftCount(), len); break;
    case 0xf3: packedShift(2, 64, shiftCount(), len); break;
    case 0xf4: // PMULUDQ: low dword of each qword, unsigned 64-bit product
      for (let q = 0; q < len >> 3; q++) mulu32(A32[2 * q]!, B32[2 * q]!, 2 * q);
      break;
    case 0xf5:
      for (let i = 0; i < n32; i++) {
        R32[i] = (As16[2 * i]! * Bs16[2 * i]! + As16[2 * i + 1]! * Bs16[2 * i + 1]!) | 0;
      }
      break;
    case 0xf6: // PSADBW
      for (let q = 0; q < len >> 3; q++) {
        let s = 0;
        for (let i = 0; i < 8; i++) s += Math.abs(A8[8 * q + i]! - B8[8 * q + i]!);
        R32[2 * q] = s;
        R32[2 * q + 1] = 0;
      }
      break;
    case 0xf8: for (let i = 0; i < n8; i++) R8[i] = A8[i]! - B8[i]!; break;
    case 0xf9: for (let i = 0; i < n16; i++) R16[i] = A16[i]! - B16[i]!; break;
    case 0xfa: for (let i = 0; i < n32; i++) R32[i] = A32[i]! - B32[i]!; break;
    case 0xfb: add64(len, true); break;
    case 0xfc: for (let i = 0; i < n8; i++) R8[i] = A8[i]! + B8[i]!; break;
    case 0xfd: for (let i = 0; i < n16; i++) R16[i] = A16[i]! + B16[i]!; break;
    case 0xfe: for (let i = 0; i < n32; i++) R32[i] = A32[i]! + B32[i]!; break;
    default: throw new Error(`packedIntOp: 0F ${op.toString(16)} is not a packed integer op`);
  }
}

function add64(len: number, sub: boolean): void {
  for (let q = 0; q < len >> 3; q++) {
    const alo = A32[2 * q]!;
    const blo = B32[2 * q]!;
    if (sub) {
      const lo = (alo - blo) >>> 0;
      R32[2 * q] = lo;
      R32[2 * q + 1] = A32[2 * q + 1]! - B32[2 * q + 1]! - (alo < blo ? 1 : 0);
    } else {
      const lo = (alo + blo) >>> 0;
      R32[2 * q] = lo;
      R32[2 * q + 1] = A32[2 * q + 1]! + B32[2 * q + 1]! + (lo < alo ? 1 : 0);
    }
  }
}

/** Unsigned 32x32 -> 64 into R32[i], R32[i+1] (16-bit limbs keep every step exact). */
function mulu32(a: number, b: number, i: number): void {
  const al = a & 0xffff; const ah = a >>> 16;
  const bl = b & 0xffff; const bh = b >>> 16;
  const ll = al * bl;
  const mid = ah * bl + al * bh; // < 2^33
  const hh = ah * bh;
  const lo = ll + (mid % 0x10000) * 0x10000;
  R32[i] = lo >>> 0;
  R32[i + 1] = (hh + Math.floor(mid / 0x10000) + Math.floor(lo / 0x1_0000_0000)) >>> 0;
}
