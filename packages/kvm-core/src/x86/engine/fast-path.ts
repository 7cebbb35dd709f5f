/**
 * Fast forms of the most frequent instructions, executed straight from a decode-cache
 * entry (decode-cache.ts) without the opcode switch: MOV/LEA, the ALU operations with
 * register, memory and immediate operands, Jcc and MOVZX/MOVSX, IMUL/MUL, SETcc, the
 * 8-bit ALU, INC/DEC and the NOPs, in 32- and 64-bit operand size without LOCK/REP. Compiled code spends most of its instructions here
 * (measured on the bench guests and the Linux XZ decompressor). Each form does exactly
 * what the general path in execute.ts does, through the same ALU and memory helpers.
 */
import { ALU_CMP, alu, alu32, alu64, imul32, imul64, incDec, incDec64, muls64, mulu64, PARITY, r64, shift, shift64, szp } from './alu';
import { FLAG_CF, FLAG_OF, FLAG_SF as FLAG_SF_BIT, FLAGS_ARITH } from './constants';
import { GP_VECTOR } from './constants';
import { isCanonical, type X86Cpu } from './cpu';
import {
  DCF_ISMEM, DCF_LOCK, DCF_MODRM, DCF_PREFIXED, DCF_RIPREL, type DecodeCache,
} from './decode-cache';
import { addWrap64, d } from './decoder';
import { peek, pop, push, setStackPointer, spAdd, stackPointer } from './stack';
import { cond } from './execute';

const TWO32 = 0x1_0000_0000;

export const FK_NONE = 0;
/** MOV reg, reg (89/8B register form). reg: destination, rm: source. */
export const FK_MOV_RR = 1;
/** MOV m, reg (89). */
export const FK_MOV_ST = 2;
/** MOV reg, m (8B). */
export const FK_MOV_LD = 3;
/** LEA reg, m (8D). */
export const FK_LEA = 4;
/** ALU reg, reg: reg is the destination, rm the source; aux = ALU op | FA_NOWRITE. */
export const FK_ALU_RR = 5;
/** ALU m, reg (01, 09, ..., 39, 85). */
export const FK_ALU_MR = 6;
/** ALU reg, m (03, 0B, ..., 3B). */
export const FK_ALU_RM = 7;
/** ALU reg, imm (81/83 register form). */
export const FK_ALU_RI = 8;
/** ALU m, imm (81/83 memory form). */
export const FK_ALU_MI = 9;
/** Jcc rel8/rel32 (70-7F, 0F 80-8F); aux = condition, imm = displacement. */
export const FK_JCC = 10;
/** MOVZX/MOVSX reg, r/m8/16 (0F B6/B7/BE/BF); aux = source bytes | 4 when signed. */
export const FK_MOVX = 11;

/** PUSH reg (50+r); aux = stack operand size. */
export const FK_PUSH = 12;
/** POP reg (58+r); aux = stack operand size. */
export const FK_POP = 13;
/** CALL rel32 (E8); imm = displacement. */
export const FK_CALL = 14;
/** JMP rel8/rel32 (EB/E9); imm = displacement. */
export const FK_JMP = 15;
/** RET (C3). */
export const FK_RET = 16;
/** MOV reg, imm32 (B8+r, 32-bit operand size). */
export const FK_MOV_RI = 17;
/** MOV m, imm32 (C7 /0), sign-extended for 64-bit. */
export const FK_MOV_MI = 18;
/** Group 2 shift/rotate on r/m (C1, D1, D3); aux = operation | count source << 3 (0 imm8, 1 one, 2 CL). */
export const FK_SHIFT = 19;
/** MOVSXD reg, r/m32 (63 in 64-bit mode). */
export const FK_MOVSXD = 20;

/** CMOVcc reg, r/m (0F 40-4F); aux = condition. */
export const FK_CMOV = 21;
/** MOV r/m8, reg8 (88). */
export const FK_MOV8_ST = 22;
/** MOV m8, imm8 (C6 /0). */
export const FK_MOV8_MI = 23;

/** IMUL reg, r/m (0F AF) and IMUL reg, r/m, imm (69/6B); aux = 1 with the immediate (imm). */
export const FK_IMUL = 24;
/** SETcc r/m8 (0F 90-9F); aux = condition. */
export const FK_SETCC = 25;
/** Group 3 on r/m (F7): TEST r/m, imm (/0), NOT (/2), NEG (/3), MUL (/4), IMUL (/5); aux = /r. */
export const FK_GRP3 = 26;
/**
 * 8-bit ALU (00-3B byte forms, 04-3C AL imm8, 80 /x, 84, A8, F6 /0): aux = op | FA_NOWRITE
 * | A8_TOREG (the register reg is the destination, else r/m) | A8_IMM (the source is imm,
 * else the other operand).
 */
export const FK_ALU8 = 27;
/** NOP (90, the hint NOPs 0F 18-1F /r): no operand is accessed. */
export const FK_NOP = 28;
/** INC/DEC r/m (FE/FF /0 /1, and 40-4F outside 64-bit mode on register rm); aux = 1 for DEC | 2 for the byte form. */
export const FK_INCDEC = 29;
/** MOV reg8, r/m8 (8A). */
export const FK_MOV8_LD = 30;

/** CWDE/CDQE (98, aux 0) and CDQ/CQO (99, aux 1). */
export const FK_CDQ = 31;
/** PUSH imm32/imm8 (68/6A), sign-extended; aux = stack operand size. */
export const FK_PUSH_IMM = 32;
/** LEAVE (C9); aux = stack operand size. */
export const FK_LEAVE = 33;
/**
 * MOV r64, imm64 (REX.W B8+r, "movabs"): imm = the low half, disp (unused without ModRM)
 * the high half. The kernel's multi-precision and hashing code loads 64-bit constants in
 * its loops with it.
 */
export const FK_MOV_RI64 = 34;

/** FK_ALU8 aux bits. */
const A8_TOREG = 16;
const A8_IMM = 32;

/** aux bit: the ALU operation only sets flags (CMP, TEST). */
const FA_NOWRITE = 8;

/** The byte at offset k of an instruction held as four little-endian words. */
function byteAt(w0: number, w1: number, w2: number, w3: number, k: number): number {
  const w = k < 4 ? w0 : k < 8 ? w1 : k < 12 ? w2 : w3;
  return (w >>> (8 * (k & 3))) & 0xff;
}

function imm32At(w0: number, w1: number, w2: number, w3: number, k: number): number {
  return byteAt(w0, w1, w2, w3, k) | (byteAt(w0, w1, w2, w3, k + 1) << 8) | (byteAt(w0, w1, w2, w3, k + 2) << 16) |
    (byteAt(w0, w1, w2, w3, k + 3) << 24);
}

/**
 * Choose the fast form of the entry just filled (ci), or FK_NONE. op is the first opcode
 * byte; the words are the instruction bytes.
 */
export function classifyFast(c: DecodeCache, ci: number, w0: number, w1: number, w2: number, w3: number): number {
  const f = c.flags[ci]!;
  const op = c.op[ci]!;
  const opEnd = c.opEnd[ci]!;
  const len = c.len[ci]!;
  if (f & DCF_LOCK) return FK_NONE;
  if ((f & DCF_PREFIXED) && c.rep[ci] !== 0) return FK_NONE;
  if (op === 0x0f && (f & DCF_MODRM) && c.modrmEnd[ci] === len) {
    const op2 = byteAt(w0, w1, w2, w3, opEnd);
    if (op2 >= 0x18 && op2 <= 0x1f) return FK_NOP;
  }
  // 66 90 (XCHG AX, AX): gcc's 2-byte NOP padding (the i386 kernel pads loop heads with it).
  if (op === 0x90 && !(f & DCF_MODRM) && len === opEnd && (c.rex[ci]! & 1) === 0) return FK_NOP;
  const size = c.opsize[ci]!;
  if (size !== 4 && size !== 8) return FK_NONE;
  if (op >= 0xa0 && op <= 0xa3 && !c.mode64[ci] && c.adsize[ci] === 4 && len === opEnd + 4 && c.lastPrefix[ci] === 0 && (f & 6) === 0) {
    return moffsForm(c, ci, op, imm32At(w0, w1, w2, w3, opEnd));
  }
  if (op >= 0x70 && op <= 0x7f) {
    if (f & DCF_PREFIXED) return FK_NONE;
    c.aux[ci] = op & 15;
    c.imm[ci] = (byteAt(w0, w1, w2, w3, opEnd) << 24) >> 24;
    return FK_JCC;
  }
  if (!(f & DCF_MODRM)) {
    const stack = c.mode64[ci] ? 8 : size;
    const onlyRex = !(f & DCF_PREFIXED) || (c.seg[ci] === 0 && !(f & 6) && c.lastPrefix[ci] === 0 && c.adsize[ci] !== 2 &&
      (c.mode64[ci] ? true : c.rex[ci] === 0));
    if (op === 0x90 && len === opEnd && (c.rex[ci]! & 1) === 0) return FK_NOP;
    if (op >= 0x40 && op <= 0x4f && !c.mode64[ci] && len === opEnd) {
      c.aux[ci] = op >= 0x48 ? 1 : 0;
      c.rm[ci] = op & 7;
      return FK_INCDEC;
    }
    if (((op & 0xc7) === 0x04 || op === 0xa8) && onlyRex && len === opEnd + 1) {
      // ALU AL, imm8 (04 0C ... 3C, A8 TEST).
      const aop = op === 0xa8 ? 4 : op >> 3;
      c.aux[ci] = aop | (aop === ALU_CMP || op === 0xa8 ? FA_NOWRITE : 0) | A8_TOREG | A8_IMM;
      c.imm[ci] = byteAt(w0, w1, w2, w3, opEnd);
      c.reg[ci] = 0;
      return FK_ALU8;
    }
    if ((op === 0x98 || op === 0x99) && onlyRex && len === opEnd) {
      c.aux[ci] = op & 1;
      return FK_CDQ;
    }
    if ((op === 0x68 || op === 0x6a || op === 0xc9) && onlyRex) {
      c.aux[ci] = stack;
      if (op === 0xc9) return len === opEnd ? FK_LEAVE : FK_NONE;
      if (op === 0x6a) {
        if (len !== opEnd + 1) return FK_NONE;
        c.imm[ci] = (byteAt(w0, w1, w2, w3, opEnd) << 24) >> 24;
      } else {
        if (len !== opEnd + 4) return FK_NONE;
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
      }
      return FK_PUSH_IMM;
    }
    if (op >= 0x50 && op <= 0x5f && onlyRex && len === opEnd) {
      c.aux[ci] = stack;
      c.reg[ci] = (op & 7) | (c.rex[ci]! & 1 && (f & DCF_PREFIXED) ? 8 : 0);
      return op < 0x58 ? FK_PUSH : FK_POP;
    }
    if ((op & 0xc7) === 0x05 || op === 0xa9) {
      // ALU eAX/rAX, imm32 (05 0D ... 3D, A9 TEST): the register-immediate form on register 0.
      if (!onlyRex || len !== opEnd + 4) return FK_NONE;
      const aop = op === 0xa9 ? 4 : op >> 3;
      c.aux[ci] = aop | (aop === ALU_CMP || op === 0xa9 ? FA_NOWRITE : 0);
      c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
      c.rm[ci] = 0;
      return FK_ALU_RI;
    }
    if (f & DCF_PREFIXED) {
      if (op >= 0xb8 && op <= 0xbf && onlyRex && size === 4 && len === opEnd + 4) {
        c.reg[ci] = (op & 7) | (c.rex[ci]! & 1 ? 8 : 0);
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
        c.aux[ci] = 0;
        return FK_MOV_RI;
      }
      if (op >= 0xb8 && op <= 0xbf && onlyRex && size === 8 && len === opEnd + 8) {
        c.reg[ci] = (op & 7) | (c.rex[ci]! & 1 ? 8 : 0);
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
        c.disp[ci] = imm32At(w0, w1, w2, w3, opEnd + 4);
        return FK_MOV_RI64;
      }
      return FK_NONE;
    }
    switch (op) {
      case 0xe8:
        if (len !== opEnd + 4) return FK_NONE;
        c.aux[ci] = stack;
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
        return FK_CALL;
      case 0xe9:
        if (len !== opEnd + 4) return FK_NONE;
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
        return FK_JMP;
      case 0xeb:
        c.imm[ci] = (byteAt(w0, w1, w2, w3, opEnd) << 24) >> 24;
        return FK_JMP;
      case 0xc3:
        c.aux[ci] = stack;
        return FK_RET;
    }
    if (op >= 0xb8 && op <= 0xbf && size === 4 && len === opEnd + 4) {
      c.reg[ci] = op & 7;
      c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd);
      c.aux[ci] = 0;
      return FK_MOV_RI;
    }
    if (op === 0x0f && len === opEnd + 5) {
      const op2 = byteAt(w0, w1, w2, w3, opEnd);
      if (op2 >= 0x80 && op2 <= 0x8f) {
        c.aux[ci] = op2 & 15;
        c.imm[ci] = imm32At(w0, w1, w2, w3, opEnd + 1);
        return FK_JCC;
      }
    }
    return FK_NONE;
  }
  if (c.adsize[ci] === 2) return FK_NONE;
  const isMem = (f & DCF_ISMEM) !== 0;
  const modrmEnd = c.modrmEnd[ci]!;
  if (op < 0x40 && (op & 5) === 0) {
    // 00 02 08 0A ... 38 3A: ALU Eb,Gb (bit 1 clear) or Gb,Eb.
    if (modrmEnd !== len) return FK_NONE;
    const aop = op >> 3;
    c.aux[ci] = aop | (aop === ALU_CMP ? FA_NOWRITE : 0) | (op & 2 ? A8_TOREG : 0);
    return FK_ALU8;
  }
  if (op < 0x40 && (op & 5) === 1) {
    // 01 03 09 0B ... 39 3B: ALU Ev,Gv (bit 1 clear) or Gv,Ev.
    const aop = op >> 3;
    const aux = aop | (aop === ALU_CMP ? FA_NOWRITE : 0);
    if (modrmEnd !== len) return FK_NONE;
    c.aux[ci] = aux;
    if (!isMem) {
      if ((op & 2) === 0) { const t = c.rm[ci]!; c.rm[ci] = c.reg[ci]!; c.reg[ci] = t; }
      return FK_ALU_RR;
    }
    return op & 2 ? FK_ALU_RM : FK_ALU_MR;
  }
  switch (op) {
    case 0x85:
      if (modrmEnd !== len) return FK_NONE;
      c.aux[ci] = 4 | FA_NOWRITE;
      if (!isMem) { const t = c.rm[ci]!; c.rm[ci] = c.reg[ci]!; c.reg[ci] = t; return FK_ALU_RR; }
      return FK_ALU_MR;
    case 0x89:
      if (modrmEnd !== len) return FK_NONE;
      if (!isMem) { const t = c.rm[ci]!; c.rm[ci] = c.reg[ci]!; c.reg[ci] = t; return FK_MOV_RR; }
      return FK_MOV_ST;
    case 0x8b:
      if (modrmEnd !== len) return FK_NONE;
      return isMem ? FK_MOV_LD : FK_MOV_RR;
    case 0x8d:
      if (modrmEnd !== len || !isMem) return FK_NONE;
      return FK_LEA;
    case 0x81:
    case 0x83: {
      const aop = c.reg[ci]! & 7;
      if (op === 0x83) {
        if (len !== modrmEnd + 1) return FK_NONE;
        c.imm[ci] = (byteAt(w0, w1, w2, w3, modrmEnd) << 24) >> 24;
      } else {
        if (len !== modrmEnd + 4) return FK_NONE;
        c.imm[ci] = imm32At(w0, w1, w2, w3, modrmEnd);
      }
      c.aux[ci] = aop | (aop === ALU_CMP ? FA_NOWRITE : 0);
      return isMem ? FK_ALU_MI : FK_ALU_RI;
    }
    case 0xc7:
      if ((c.reg[ci]! & 7) !== 0 || len !== modrmEnd + 4) return FK_NONE;
      c.imm[ci] = imm32At(w0, w1, w2, w3, modrmEnd);
      if (!isMem) {
        // MOV r, imm32: sign-extended to 64 bits under REX.W.
        c.reg[ci] = c.rm[ci]!;
        c.aux[ci] = size === 8 ? 1 : 0;
        return FK_MOV_RI;
      }
      return FK_MOV_MI;
    case 0x84:
      if (modrmEnd !== len) return FK_NONE;
      c.aux[ci] = 4 | FA_NOWRITE;
      return FK_ALU8;
    case 0x80:
      if (len !== modrmEnd + 1) return FK_NONE;
      c.aux[ci] = (c.reg[ci]! & 7) | ((c.reg[ci]! & 7) === ALU_CMP ? FA_NOWRITE : 0) | A8_IMM;
      c.imm[ci] = byteAt(w0, w1, w2, w3, modrmEnd);
      return FK_ALU8;
    case 0xf6:
      if ((c.reg[ci]! & 7) !== 0 || len !== modrmEnd + 1) return FK_NONE;
      c.aux[ci] = 4 | FA_NOWRITE | A8_IMM;
      c.imm[ci] = byteAt(w0, w1, w2, w3, modrmEnd);
      return FK_ALU8;
    case 0xf7: {
      const sub = c.reg[ci]! & 7;
      if (sub === 1 || sub >= 6) return FK_NONE;
      if (sub === 0) {
        if (len !== modrmEnd + 4) return FK_NONE;
        c.imm[ci] = imm32At(w0, w1, w2, w3, modrmEnd);
      } else if (len !== modrmEnd) {
        return FK_NONE;
      }
      c.aux[ci] = sub;
      return FK_GRP3;
    }
    case 0xfe:
    case 0xff: {
      const sub = c.reg[ci]! & 7;
      if (sub > 1 || len !== modrmEnd) return FK_NONE;
      c.aux[ci] = sub | (op === 0xfe ? 2 : 0);
      return FK_INCDEC;
    }
    case 0x8a:
      if (modrmEnd !== len) return FK_NONE;
      return FK_MOV8_LD;
    case 0x69:
    case 0x6b:
      if (op === 0x6b) {
        if (len !== modrmEnd + 1) return FK_NONE;
        c.imm[ci] = (byteAt(w0, w1, w2, w3, modrmEnd) << 24) >> 24;
      } else {
        if (len !== modrmEnd + 4) return FK_NONE;
        c.imm[ci] = imm32At(w0, w1, w2, w3, modrmEnd);
      }
      c.aux[ci] = 1;
      return FK_IMUL;
    case 0xc1: case 0xd1: case 0xd3:
      if (len !== modrmEnd + (op === 0xc1 ? 1 : 0)) return FK_NONE;
      c.aux[ci] = (c.reg[ci]! & 7) | ((op === 0xc1 ? 0 : op === 0xd1 ? 1 : 2) << 3);
      if (op === 0xc1) c.imm[ci] = byteAt(w0, w1, w2, w3, modrmEnd);
      return FK_SHIFT;
    case 0x63:
      if (!c.mode64[ci] || modrmEnd !== len) return FK_NONE;
      return FK_MOVSXD;
    case 0x88:
      if (modrmEnd !== len) return FK_NONE;
      return FK_MOV8_ST;
    case 0xc6:
      if (!isMem || (c.reg[ci]! & 7) !== 0 || len !== modrmEnd + 1) return FK_NONE;
      c.imm[ci] = byteAt(w0, w1, w2, w3, modrmEnd);
      return FK_MOV8_MI;
    case 0x0f: {
      const op2 = byteAt(w0, w1, w2, w3, opEnd);
      if (op2 >= 0x40 && op2 <= 0x4f && modrmEnd === len) {
        c.aux[ci] = op2 & 15;
        return FK_CMOV;
      }
      if (op2 >= 0x90 && op2 <= 0x9f && modrmEnd === len) {
        c.aux[ci] = op2 & 15;
        return FK_SETCC;
      }
      if (op2 === 0xaf && modrmEnd === len) {
        c.aux[ci] = 0;
        return FK_IMUL;
      }
      if (op2 !== 0xb6 && op2 !== 0xb7 && op2 !== 0xbe && op2 !== 0xbf) return FK_NONE;
      if (modrmEnd !== len) return FK_NONE;
      c.aux[ci] = (op2 & 1 ? 2 : 1) | (op2 >= 0xbe ? 4 : 0);
      return FK_MOVX;
    }
  }
  return FK_NONE;
}

/**
 * MOV AL/EAX, moffs32 and MOV moffs32, AL/EAX (A0-A3) outside 64-bit mode, as the MOV
 * r/m forms with a displacement-only memory operand (DS or the segment override). i386
 * gcc loads and stores globals through EAX this way (amd64 code uses RIP-relative ModRM
 * instead), and the i386 kernel's per-CPU variables are `mov %fs:moffs, %eax`.
 */
function moffsForm(c: DecodeCache, ci: number, op: number, moffs: number): number {
  c.base[ci] = -1;
  c.index[ci] = -1;
  c.scale[ci] = 1;
  c.disp[ci] = moffs;
  c.eaSeg[ci] = c.seg[ci]! > 0 ? c.seg[ci]! - 1 : 3;
  c.flags[ci] = c.flags[ci]! | DCF_ISMEM;
  c.reg[ci] = 0;
  c.rm[ci] = 0;
  c.modrmEnd[ci] = c.len[ci]!;
  switch (op) {
    case 0xa0: return FK_MOV8_LD;
    case 0xa1: return FK_MOV_LD;
    case 0xa2: return FK_MOV8_ST;
    default: return FK_MOV_ST;
  }
}

/** The effective address of entry ci (32/64-bit addressing), as replayModrm computes it. */
function fastEa(c: DecodeCache, ci: number, R: Int32Array, end: number): number {
  const disp = c.disp[ci]!;
  const adsize = c.adsize[ci]!;
  if (c.flags[ci]! & DCF_RIPREL) return adsize === 8 ? addWrap64(end, disp) : (end + disp) >>> 0;
  let lo = disp;
  let hi = 0;
  const index = c.index[ci]!;
  if (index >= 0) {
    const scale = c.scale[ci]!;
    lo += (R[2 * index]! >>> 0) * scale;
    hi += R[2 * index + 1]! * scale;
  }
  const base = c.base[ci]!;
  if (base >= 0) {
    lo += R[2 * base]! >>> 0;
    hi += R[2 * base + 1]!;
  }
  if (adsize === 8) return ((hi + Math.floor(lo / TWO32)) | 0) * TWO32 + (lo >>> 0);
  return lo >>> 0;
}

/**
 * LEA: the effective address as exact halves into register reg (the double EA of a
 * non-canonical 64-bit sum is not exact), as the decoder's d.eaLo/d.eaHi.
 */
function lea(c: DecodeCache, ci: number, R: Int32Array, end: number, reg: number, size: number): void {
  const adsize = c.adsize[ci]!;
  if (c.flags[ci]! & DCF_RIPREL) {
    const ea = adsize === 8 ? addWrap64(end, c.disp[ci]!) : (end + c.disp[ci]!) >>> 0;
    R[2 * reg] = ea | 0;
    R[2 * reg + 1] = size === 8 && adsize === 8 ? Math.floor(ea / TWO32) | 0 : 0;
    return;
  }
  let lo = c.disp[ci]!;
  let hi = 0;
  const index = c.index[ci]!;
  if (index >= 0) {
    const scale = c.scale[ci]!;
    lo += (R[2 * index]! >>> 0) * scale;
    hi += R[2 * index + 1]! * scale;
  }
  const base = c.base[ci]!;
  if (base >= 0) {
    lo += R[2 * base]! >>> 0;
    hi += R[2 * base + 1]!;
  }
  R[2 * reg] = lo | 0;
  R[2 * reg + 1] = size === 8 && adsize === 8 ? (hi + Math.floor(lo / TWO32)) | 0 : 0;
}

/** A near branch to t (already wrapped to the mode's arithmetic): canonical / CS-limit check, as branchTo. */
function nearBranch(cpu: X86Cpu, t: number): void {
  if (cpu.mode64) {
    if (!isCanonical(t)) cpu.raise(GP_VECTOR, 0);
  } else if (t > cpu.segLimit[1]!) {
    cpu.raise(GP_VECTOR, 0);
  }
  d.ip = t;
}

/** end + rel in the current mode's arithmetic (relTarget). */
function relTarget(cpu: X86Cpu, end: number, rel: number): number {
  const t = end + rel;
  if (cpu.mode64) {
    if (t >= 0x8000_0000_0000_0000) return t - 0x1_0000_0000_0000_0000;
    if (t < -0x8000_0000_0000_0000) return t + 0x1_0000_0000_0000_0000;
    return t;
  }
  return t >>> 0;
}

/**
 * Execute fast form `kind` of entry ci; d.ipStart is the instruction's RIP. Sets d.ip to
 * the next RIP. One small function per form, so V8 inlines the EA and memory helpers
 * into each (values stay unboxed).
 */
export function execFast(cpu: X86Cpu, c: DecodeCache, ci: number, kind: number): void {
  d.ip = d.ipStart + c.len[ci]!;
  switch (kind) {
    case FK_MOV_RR: fkMovRr(cpu, c, ci); return;
    case FK_MOV_ST: fkMovSt(cpu, c, ci); return;
    case FK_MOV_LD: fkMovLd(cpu, c, ci); return;
    case FK_LEA: fkLea(cpu, c, ci); return;
    case FK_ALU_RR: fkAluRr(cpu, c, ci); return;
    case FK_ALU_MR: fkAluMr(cpu, c, ci); return;
    case FK_ALU_RM: fkAluRm(cpu, c, ci); return;
    case FK_ALU_RI: fkAluRi(cpu, c, ci); return;
    case FK_ALU_MI: fkAluMi(cpu, c, ci); return;
    case FK_JCC: fkJcc(cpu, c, ci); return;
    case FK_JMP: fkJmp(cpu, c, ci); return;
    case FK_CALL: fkCall(cpu, c, ci); return;
    case FK_RET: fkRet(cpu, c, ci); return;
    case FK_PUSH: fkPush(cpu, c, ci); return;
    case FK_POP: fkPop(cpu, c, ci); return;
    case FK_MOV_RI: fkMovRi(cpu, c, ci); return;
    case FK_MOV_RI64: { const R = cpu.regs; const reg = c.reg[ci]!; R[2 * reg] = c.imm[ci]!; R[2 * reg + 1] = c.disp[ci]!; return; }
    case FK_MOV_MI: fkMovMi(cpu, c, ci); return;
    case FK_SHIFT: fkShift(cpu, c, ci); return;
    case FK_MOVSXD: fkMovsxd(cpu, c, ci); return;
    case FK_MOVX: fkMovx(cpu, c, ci); return;
    case FK_CMOV: fkCmov(cpu, c, ci); return;
    case FK_MOV8_ST: fkMov8St(cpu, c, ci); return;
    case FK_MOV8_MI: fkMov8Mi(cpu, c, ci); return;
    case FK_IMUL: fkImul(cpu, c, ci); return;
    case FK_SETCC: fkSetcc(cpu, c, ci); return;
    case FK_GRP3: fkGrp3(cpu, c, ci); return;
    case FK_ALU8: fkAlu8(cpu, c, ci); return;
    case FK_NOP: return;
    case FK_INCDEC: fkIncDec(cpu, c, ci); return;
    case FK_MOV8_LD: fkMov8Ld(cpu, c, ci); return;
    case FK_CDQ: fkCdq(cpu, c, ci); return;
    case FK_PUSH_IMM: { const imm = c.imm[ci]!; push(c.aux[ci]!, imm, imm >> 31); return; }
    case FK_LEAVE: leave(cpu, c.aux[ci]!); return;
  }
}

function fkMovRr(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const rm = c.rm[ci]!;
  R[2 * reg] = R[2 * rm]!;
  R[2 * reg + 1] = size === 8 ? R[2 * rm + 1]! : 0;
}

function fkMovSt(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, true);
  if (size === 8) cpu.write64(la, R[2 * reg]!, R[2 * reg + 1]!);
  else cpu.write32(la, R[2 * reg]!);
}

function fkMovLd(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, false);
  if (size === 8) {
    const lo = cpu.read64(la);
    R[2 * reg] = lo;
    R[2 * reg + 1] = cpu.hi;
  } else {
    R[2 * reg] = cpu.read32(la);
    R[2 * reg + 1] = 0;
  }
}

function fkLea(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  lea(c, ci, R, end, reg, size);
}

function fkAluRr(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const rm = c.rm[ci]!;
  const aux = c.aux[ci]!;
  if (size === 8) {
    const lo = alu64(cpu, aux & 7, R[2 * reg]!, R[2 * reg + 1]!, R[2 * rm]!, R[2 * rm + 1]!);
    if (!(aux & FA_NOWRITE)) { R[2 * reg] = lo; R[2 * reg + 1] = r64.hi; }
  } else {
    const res = alu32(cpu, aux & 7, R[2 * reg]!, R[2 * rm]!);
    if (!(aux & FA_NOWRITE)) { R[2 * reg] = res; R[2 * reg + 1] = 0; }
  }
}

function fkAluMr(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const aux = c.aux[ci]!;
  const write = (aux & FA_NOWRITE) === 0;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, write);
  if (size === 8) {
    const alo = cpu.read64(la);
    const lo = alu64(cpu, aux & 7, alo, cpu.hi, R[2 * reg]!, R[2 * reg + 1]!);
    if (write) cpu.write64(la, lo, r64.hi);
  } else {
    const res = alu32(cpu, aux & 7, cpu.read32(la), R[2 * reg]!);
    if (write) cpu.write32(la, res);
  }
}

function fkAluRm(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const aux = c.aux[ci]!;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, false);
  if (size === 8) {
    const blo = cpu.read64(la);
    const lo = alu64(cpu, aux & 7, R[2 * reg]!, R[2 * reg + 1]!, blo, cpu.hi);
    if (!(aux & FA_NOWRITE)) { R[2 * reg] = lo; R[2 * reg + 1] = r64.hi; }
  } else {
    const res = alu32(cpu, aux & 7, R[2 * reg]!, cpu.read32(la));
    if (!(aux & FA_NOWRITE)) { R[2 * reg] = res; R[2 * reg + 1] = 0; }
  }
}

function fkAluRi(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const rm = c.rm[ci]!;
  const aux = c.aux[ci]!;
  const imm = c.imm[ci]!;
  if (size === 8) {
    const lo = alu64(cpu, aux & 7, R[2 * rm]!, R[2 * rm + 1]!, imm, imm < 0 ? -1 : 0);
    if (!(aux & FA_NOWRITE)) { R[2 * rm] = lo; R[2 * rm + 1] = r64.hi; }
  } else {
    const res = alu32(cpu, aux & 7, R[2 * rm]!, imm);
    if (!(aux & FA_NOWRITE)) { R[2 * rm] = res; R[2 * rm + 1] = 0; }
  }
}

function fkAluMi(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const aux = c.aux[ci]!;
  const imm = c.imm[ci]!;
  const write = (aux & FA_NOWRITE) === 0;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, write);
  if (size === 8) {
    const alo = cpu.read64(la);
    const lo = alu64(cpu, aux & 7, alo, cpu.hi, imm, imm < 0 ? -1 : 0);
    if (write) cpu.write64(la, lo, r64.hi);
  } else {
    const res = alu32(cpu, aux & 7, cpu.read32(la), imm);
    if (write) cpu.write32(la, res);
  }
}

function fkJcc(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const end = d.ip;
  if (cond(cpu.flags, c.aux[ci]!)) nearBranch(cpu, relTarget(cpu, end, c.imm[ci]!));
}

function fkJmp(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const end = d.ip;
  nearBranch(cpu, relTarget(cpu, end, c.imm[ci]!));
}

function fkCall(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const end = d.ip;
  const sz = c.aux[ci]!;
  nearBranch(cpu, relTarget(cpu, end, c.imm[ci]!));
  push(sz, end | 0, Math.floor(end / TWO32) | 0);
}

function fkRet(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const sz = c.aux[ci]!;
  const t = peek(sz, 0);
  nearBranch(cpu, sz === 8 ? d.hi * TWO32 + (t >>> 0) : t >>> 0);
  setStackPointer(spAdd(stackPointer(), sz));
}

function fkPush(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const reg = c.reg[ci]!;
  const sz = c.aux[ci]!;
  if (sz === 8) push(8, R[2 * reg]!, R[2 * reg + 1]!);
  else push(4, R[2 * reg]!, 0);
}

function fkPop(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const reg = c.reg[ci]!;
  const sz = c.aux[ci]!;
  const v = pop(sz);
  R[2 * reg] = v;
  R[2 * reg + 1] = sz === 8 ? d.hi : 0;
}

function fkMovRi(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const reg = c.reg[ci]!;
  const imm = c.imm[ci]!;
  R[2 * reg] = imm;
  R[2 * reg + 1] = c.aux[ci]! ? imm >> 31 : 0;
}

function fkMovMi(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const imm = c.imm[ci]!;
  const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, true);
  if (size === 8) cpu.write64(la, imm, imm < 0 ? -1 : 0);
  else cpu.write32(la, imm);
}

function fkShift(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const rm = c.rm[ci]!;
  const aux = c.aux[ci]!;
  const isMem = (c.flags[ci]! & DCF_ISMEM) !== 0;
  const la = isMem ? cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), size, true) : 0;
  let a: number;
  let ahi = 0;
  if (size === 8) {
    if (isMem) { a = cpu.read64(la); ahi = cpu.hi; } else { a = R[2 * rm]!; ahi = R[2 * rm + 1]!; }
  } else {
    a = isMem ? cpu.read32(la) : R[2 * rm]!;
  }
  const src = aux >> 3;
  let count = src === 0 ? c.imm[ci]! : src === 1 ? 1 : R[2]! & 0xff;
  count &= size === 8 ? 63 : 31;
  let res: number;
  let rhi = 0;
  if (size === 8) { res = shift64(cpu, aux & 7, a, ahi, count); rhi = r64.hi; }
  else res = shift(cpu, aux & 7, 4, a, count);
  if (isMem) {
    if (size === 8) cpu.write64(la, res, rhi);
    else cpu.write32(la, res);
  } else {
    R[2 * rm] = res;
    R[2 * rm + 1] = rhi;
  }
}

function fkMovsxd(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const rm = c.rm[ci]!;
  const v = c.flags[ci]! & DCF_ISMEM ? cpu.read32(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), 4, false)) | 0 : R[2 * rm]!;
  R[2 * reg] = v;
  R[2 * reg + 1] = size === 8 ? v >> 31 : 0;
}

function fkMovx(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const end = d.ip;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  const rm = c.rm[ci]!;
  const aux = c.aux[ci]!;
  let v: number;
  if (c.flags[ci]! & DCF_ISMEM) {
    const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, end), aux & 3, false);
    v = aux & 1 ? cpu.read8(la) : cpu.read16(la);
  } else if (aux & 1) {
    // 8-bit register: without REX, 4..7 are AH CH DH BH.
    const rex = c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0;
    v = rm >= 4 && rm < 8 && rex === 0 ? (R[2 * (rm - 4)]! >> 8) & 0xff : R[2 * rm]! & 0xff;
  } else {
    v = R[2 * rm]! & 0xffff;
  }
  if (aux & 4) v = aux & 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  R[2 * reg] = v;
  R[2 * reg + 1] = size === 8 && (aux & 4) ? v >> 31 : 0;
}

/** CMOVcc: the source is read (and may fault) whatever the condition; a 32-bit destination is zero-extended regardless. */
function fkCmov(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  let v: number;
  let vhi: number;
  if (c.flags[ci]! & DCF_ISMEM) {
    const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), size, false);
    if (size === 8) { v = cpu.read64(la); vhi = cpu.hi; } else { v = cpu.read32(la); vhi = 0; }
  } else {
    const rm = c.rm[ci]!;
    v = R[2 * rm]!;
    vhi = size === 8 ? R[2 * rm + 1]! : 0;
  }
  if (cond(cpu.flags, c.aux[ci]!)) {
    R[2 * reg] = v;
    R[2 * reg + 1] = vhi;
  } else if (size === 4) {
    R[2 * reg + 1] = 0;
  }
}

/** The 8-bit register r: without any REX prefix, 4..7 are AH CH DH BH. */
function reg8(R: Int32Array, r: number, rex: number): number {
  return r >= 4 && r < 8 && rex === 0 ? (R[2 * (r - 4)]! >> 8) & 0xff : R[2 * r]! & 0xff;
}

function fkMov8St(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const rex = c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0;
  const v = reg8(R, c.reg[ci]!, rex);
  if (c.flags[ci]! & DCF_ISMEM) {
    cpu.write8(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, true), v);
    return;
  }
  const r = c.rm[ci]!;
  if (r >= 4 && r < 8 && rex === 0) {
    const i = 2 * (r - 4);
    R[i] = (R[i]! & ~0xff00) | (v << 8);
  } else {
    R[2 * r] = (R[2 * r]! & ~0xff) | v;
  }
}

function fkMov8Mi(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  cpu.write8(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, cpu.regs, d.ip), 1, true), c.imm[ci]!);
}

/** Write the 8-bit register r (AH..BH for 4..7 without REX), other bits unchanged. */
function setReg8(R: Int32Array, r: number, rex: number, v: number): void {
  if (r >= 4 && r < 8 && rex === 0) {
    const i = 2 * (r - 4);
    R[i] = (R[i]! & ~0xff00) | (v << 8);
  } else {
    R[2 * r] = (R[2 * r]! & ~0xff) | v;
  }
}

/** IMUL: the destination register times r/m (0F AF), or r/m times the immediate (69/6B). */
function fkImul(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const reg = c.reg[ci]!;
  let b: number;
  let bhi: number;
  if (c.flags[ci]! & DCF_ISMEM) {
    const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), size, false);
    if (size === 8) { b = cpu.read64(la); bhi = cpu.hi; } else { b = cpu.read32(la); bhi = 0; }
  } else {
    const rm = c.rm[ci]!;
    b = R[2 * rm]!;
    bhi = R[2 * rm + 1]!;
  }
  let a: number;
  let ahi: number;
  if (c.aux[ci]!) { a = c.imm[ci]!; ahi = a >> 31; } else { a = R[2 * reg]!; ahi = R[2 * reg + 1]!; }
  if (size === 8) {
    const lo = imul64(cpu, a, ahi, b, bhi);
    R[2 * reg] = lo;
    R[2 * reg + 1] = r64.hi;
  } else {
    R[2 * reg] = imul32(cpu, a, b);
    R[2 * reg + 1] = 0;
  }
}

function fkSetcc(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const v = cond(cpu.flags, c.aux[ci]!) ? 1 : 0;
  if (c.flags[ci]! & DCF_ISMEM) {
    cpu.write8(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, true), v);
    return;
  }
  setReg8(R, c.rm[ci]!, c.flags[ci]! & DCF_PREFIXED ? c.rex[ci]! : 0, v);
}

const mulOut = new Int32Array(4);

/** F7 /0 /2 /3 /4 /5 at 32 and 64 bits, as group3 in execute.ts. */
function fkGrp3(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  const sub = c.aux[ci]!;
  const isMem = (c.flags[ci]! & DCF_ISMEM) !== 0;
  const rm = c.rm[ci]!;
  const la = isMem ? cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), size, sub === 2 || sub === 3) : 0;
  let a: number;
  let ahi = 0;
  if (size === 8) {
    if (isMem) { a = cpu.read64(la); ahi = cpu.hi; } else { a = R[2 * rm]!; ahi = R[2 * rm + 1]!; }
  } else {
    a = isMem ? cpu.read32(la) : R[2 * rm]!;
  }
  const res = grp3(cpu, sub, size, a, ahi, c.imm[ci]!);
  if (sub !== 2 && sub !== 3) return;
  const rhi = r64.hi;
  if (isMem) {
    if (size === 8) cpu.write64(la, res, rhi);
    else cpu.write32(la, res);
  } else {
    R[2 * rm] = res;
    R[2 * rm + 1] = rhi;
  }
}

/**
 * The operation of F7 /sub (0 TEST with imm, 2 NOT, 3 NEG, 4 MUL, 5 IMUL) on the operand
 * (a, ahi) of size 4 or 8: NOT and NEG return the result (high half in r64.hi, 0 at 32
 * bits) for the caller to store; MUL and IMUL write rDX:rAX.
 */
export function grp3(cpu: X86Cpu, sub: number, size: number, a: number, ahi: number, imm: number): number {
  const R = cpu.regs;
  if (sub === 0) {
    if (size === 8) alu64(cpu, 4, a, ahi, imm, imm >> 31);
    else alu32(cpu, 4, a, imm);
    return 0;
  }
  if (sub === 2) { r64.hi = size === 8 ? ~ahi : 0; return ~a; } // NOT: no flags
  if (sub === 3) {
    if (size === 8) return alu64(cpu, 5, 0, 0, a, ahi);
    r64.hi = 0;
    return alu32(cpu, 5, 0, a);
  }
  // MUL / IMUL: rDX:rAX = rAX * r/m.
  const signed = sub === 5;
  let lo: number;
  let hi: number;
  let of: boolean;
  if (size === 4) {
    if (signed) muls64(R[0]!, R[0]! >> 31, a | 0, a >> 31, mulOut);
    else mulu64(R[0]!, 0, a, 0, mulOut);
    lo = mulOut[0]!;
    hi = mulOut[1]!;
    of = signed ? hi !== lo >> 31 : hi !== 0;
    R[0] = lo; R[1] = 0;
    R[4] = hi; R[5] = 0;
    cpu.flags = (cpu.flags & ~FLAGS_ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | szp(lo >>> 0, 4);
  } else {
    if (signed) muls64(R[0]!, R[1]!, a, ahi, mulOut);
    else mulu64(R[0]!, R[1]!, a, ahi, mulOut);
    lo = mulOut[0]!;
    hi = mulOut[1]!;
    of = signed ? !(mulOut[2] === hi >> 31 && mulOut[3] === hi >> 31) : (mulOut[2]! | mulOut[3]!) !== 0;
    R[0] = lo; R[1] = hi;
    R[4] = mulOut[2]!; R[5] = mulOut[3]!;
    cpu.flags = (cpu.flags & ~FLAGS_ARITH) | (of ? FLAG_CF | FLAG_OF : 0) | (hi < 0 ? FLAG_SF_BIT : 0) | PARITY[lo & 0xff]!;
  }
  return 0;
}

/** 8-bit ALU (FK_ALU8): destination reg or r/m, source imm, r/m or reg. */
function fkAlu8(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const f = c.flags[ci]!;
  const aux = c.aux[ci]!;
  const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
  const write = (aux & FA_NOWRITE) === 0;
  const isMem = (f & DCF_ISMEM) !== 0;
  if (aux & A8_TOREG) {
    const reg = c.reg[ci]!;
    let b: number;
    if (aux & A8_IMM) b = c.imm[ci]!;
    else if (isMem) b = cpu.read8(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, false));
    else b = reg8(R, c.rm[ci]!, rex);
    const res = alu(cpu, aux & 7, 1, reg8(R, reg, rex), b);
    if (write) setReg8(R, reg, rex, res);
    return;
  }
  if (isMem) {
    const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, write);
    const a = cpu.read8(la);
    const res = alu(cpu, aux & 7, 1, a, aux & A8_IMM ? c.imm[ci]! : reg8(R, c.reg[ci]!, rex));
    if (write) cpu.write8(la, res);
    return;
  }
  const rm = c.rm[ci]!;
  const res = alu(cpu, aux & 7, 1, reg8(R, rm, rex), aux & A8_IMM ? c.imm[ci]! : reg8(R, c.reg[ci]!, rex));
  if (write) setReg8(R, rm, rex, res);
}

/** INC/DEC: CF kept. */
function fkIncDec(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const aux = c.aux[ci]!;
  const dec = (aux & 1) !== 0;
  const f = c.flags[ci]!;
  const rm = c.rm[ci]!;
  if (aux & 2) {
    const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
    if (f & DCF_ISMEM) {
      const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, true);
      cpu.write8(la, incDec(cpu, 1, cpu.read8(la), dec));
    } else {
      setReg8(R, rm, rex, incDec(cpu, 1, reg8(R, rm, rex), dec));
    }
    return;
  }
  const size = c.opsize[ci]!;
  if (f & DCF_ISMEM) {
    const la = cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), size, true);
    if (size === 8) {
      const lo = incDec64(cpu, cpu.read64(la), cpu.hi, dec);
      cpu.write64(la, lo, r64.hi);
    } else {
      cpu.write32(la, incDec(cpu, 4, cpu.read32(la), dec));
    }
    return;
  }
  if (size === 8) {
    R[2 * rm] = incDec64(cpu, R[2 * rm]!, R[2 * rm + 1]!, dec);
    R[2 * rm + 1] = r64.hi;
  } else {
    R[2 * rm] = incDec(cpu, 4, R[2 * rm]!, dec);
    R[2 * rm + 1] = 0;
  }
}

function fkMov8Ld(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const f = c.flags[ci]!;
  const rex = f & DCF_PREFIXED ? c.rex[ci]! : 0;
  const v = f & DCF_ISMEM ? cpu.read8(cpu.linear(c.eaSeg[ci]!, fastEa(c, ci, R, d.ip), 1, false)) : reg8(R, c.rm[ci]!, rex);
  setReg8(R, c.reg[ci]!, rex, v);
}

function fkCdq(cpu: X86Cpu, c: DecodeCache, ci: number): void {
  const R = cpu.regs;
  const size = c.opsize[ci]!;
  if (c.aux[ci] === 0) { // CWDE / CDQE
    if (size === 8) { R[1] = R[0]! >> 31; } else { R[0] = (R[0]! << 16) >> 16; R[1] = 0; }
  } else if (size === 8) { // CQO
    R[4] = R[5] = R[1]! >> 31;
  } else { // CDQ
    R[4] = R[0]! >> 31;
    R[5] = 0;
  }
}

/** LEAVE with stack operand size sz (4 or 8): rSP = rBP (by SS.B outside 64-bit mode), then POP rBP. */
export function leave(cpu: X86Cpu, sz: number): void {
  const R = cpu.regs;
  const bp = cpu.mode64 ? R[11]! * TWO32 + (R[10]! >>> 0) : cpu.ss32 ? R[10]! >>> 0 : R[10]! & 0xffff;
  const la = cpu.linear(2, bp, sz, false);
  let v: number;
  let vhi = 0;
  if (sz === 8) { v = cpu.read64(la); vhi = cpu.hi; } else { v = cpu.read32(la); }
  setStackPointer(spAdd(bp, sz));
  R[10] = v;
  R[11] = vhi;
}
