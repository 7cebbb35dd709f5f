/**
 * The two-byte opcode map 0F xx (SDM Vol. 2 Table A-3) for the integer and system
 * instructions; x87/MMX/SSE opcodes are routed to the FPU/SSE unit (fpu-sse/) after the
 * CR0.EM/TS and CR4.OSFXSR checks.
 */
import { execAdx } from './bmi';
import { crc32Word } from './fpu-sse/sse42';
import { alu, alu64, PARITY, r64, SIZE_MASK, szp } from './alu';
import {
  AR_S, AR_UNUSABLE, CR0_EM, CR0_TS, CR4_OSFXSR, FLAG_CF, FLAG_OF, FLAG_ZF, FLAG_SF, FLAG_PF, FLAG_AF, NM_VECTOR, UD_VECTOR, GP_VECTOR,
} from './constants';
import type { X86Cpu } from './cpu';
import {
  d, decodeModrm, eaLinear, fetch16, fetch32, fetch8, getReg, readMem, readRm, setReg, writeMem, writeRm,
} from './decoder';
import { cond, imul3, loadFarPointer } from './execute';
import { EA_REG, execSse, execSseControl, isSseOpcode, SSE_HAS_IMM8, type SseMap, type SsePrefix } from './fpu-sse/index';
import { fpuHost } from './fpu-host';
import { ENGINE_EXIT_RDPMC, ENGINE_EXIT_RSM } from './guest-mode';
import { desc, descAr, descLimit, loadDataSegment, readDescriptor } from './segments';
import { branchTo, peek, push, relTarget, setStackPointer, spAdd, stackPointer } from './stack';
import {
  execCpuid, execGroup6, execGroup7, execMovCr, execMovDr, execRdmsr, execRdtsc, execSyscall, execSysenter,
  execSysexit, execSysret, execWrmsr, execClts, execGroup15, execGroup9, execInvd, checkIntercept,
} from './system';

const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
const TWO32 = 0x1_0000_0000;

function isSseRouted(op: number): boolean {
  return (op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f) || op === 0xc2 ||
    (op >= 0xc4 && op <= 0xc6) || op >= 0xd0;
}

/** MMX forms (no mandatory prefix) in the routed ranges follow the x87 rules for EM/TS. */
function isMmxForm(op: number, prefix: number): boolean {
  return prefix === 0 && ((op >= 0x60 && op <= 0x7f) || op >= 0xd0 || op === 0xc4 || op === 0xc5);
}

function mandatoryPrefix(): SsePrefix {
  if (d.rep === 0xf3 || d.rep === 0xf2) return d.rep as SsePrefix;
  return d.has66 ? 0x66 : 0;
}

/** Route an SSE/MMX instruction to the FPU/SSE unit. */
function routeSse(cpu: X86Cpu, map: SseMap, op: number): void {
  const prefix = mandatoryPrefix();
  if (prefix === 0x66) d.opsize = cpu.mode64 || cpu.csDefault32 ? (d.rexW ? 8 : 4) : 2;
  if (!isSseOpcode(map, op, prefix)) cpu.raise(UD_VECTOR);
  if (map === 0x0f && isMmxForm(op, prefix)) {
    if (cpu.cr0 & CR0_EM) cpu.raise(UD_VECTOR);
    if (cpu.cr0 & CR0_TS) cpu.raise(NM_VECTOR);
  } else {
    if ((cpu.cr0 & CR0_EM) || !(cpu.cr4 & CR4_OSFXSR)) cpu.raise(UD_VECTOR);
    if (cpu.cr0 & CR0_TS) cpu.raise(NM_VECTOR);
  }
  if (map === 0x0f && op === 0x77) { // EMMS has no ModRM byte
    execSse(cpu.fpu, fpuHost(cpu), map, op, prefix, 0, 0, EA_REG, d.rexW, 0);
    return;
  }
  const hasImm = SSE_HAS_IMM8(map, op);
  decodeModrm(hasImm ? 1 : 0);
  const ea = d.isMem ? eaLinear(1, false) : EA_REG;
  const imm8 = hasImm ? fetch8() : 0;
  execSse(cpu.fpu, fpuHost(cpu), map, op, prefix, d.reg, d.rm, ea, d.rexW, imm8);
}

export function exec0f(cpu: X86Cpu): void {
  const op = fetch8();
  const R = d.regs;
  if (d.lock && !(op === 0xb0 || op === 0xb1 || op === 0xc0 || op === 0xc1 || op === 0xc7 || op === 0xab || op === 0xb3 || op === 0xbb || op === 0xba)) {
    cpu.raise(UD_VECTOR);
  }
  if (op === 0x38 || op === 0x3a) {
    const op3 = fetch8();
    if (op === 0x38 && (op3 === 0xf0 || op3 === 0xf1) && d.rep !== 0xf2) { movbe(cpu, op3); return; }
    if (op === 0x38 && op3 === 0xf1 && d.rep === 0xf2 && d.has66 && !d.rexW) { // CRC32 r32, r/m16
      decodeModrm(0);
      setReg(4, d.reg, crc32Word(getReg(4, d.reg), readRm(2)) | 0, 0);
      return;
    }
    if (op === 0x38 && op3 === 0xf6 && (d.rep === 0xf3 || (d.has66 && d.rep === 0))) { execAdx(cpu); return; }
    routeSse(cpu, op === 0x38 ? 0x0f38 : 0x0f3a, op3);
    return;
  }
  if (op === 0x77) { // EMMS
    routeSse(cpu, 0x0f, op);
    return;
  }
  if (isSseRouted(op) && !(op >= 0xc8 && op <= 0xcf)) {
    routeSse(cpu, 0x0f, op);
    return;
  }
  switch (op) {
    case 0x00: execGroup6(cpu); return;
    case 0x01: execGroup7(cpu); return;
    case 0x02: case 0x03: larLsl(cpu, op === 0x03); return;
    case 0x05: execSyscall(cpu); return;
    case 0x06: execClts(cpu); return;
    case 0x07: execSysret(cpu); return;
    case 0x08: case 0x09: execInvd(cpu, op); return;
    case 0x0b: cpu.raise(UD_VECTOR); return; // UD2
    case 0x0d: decodeModrm(0); return; // PREFETCHW: a hint
    case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
      // Hint NOPs (NOP Ev, PREFETCHh, ENDBR32/64 = F3 0F 1E FB/FA).
      decodeModrm(0);
      return;
    case 0x20: case 0x22: execMovCr(cpu, op === 0x22); return;
    case 0x21: case 0x23: execMovDr(cpu, op === 0x23); return;
    case 0x30: execWrmsr(cpu); return;
    case 0x31: execRdtsc(cpu, false); return;
    case 0x32: execRdmsr(cpu); return;
    case 0x33: // RDPMC: offered to the controller; no counters are exposed otherwise
      checkIntercept(cpu, ENGINE_EXIT_RDPMC);
      cpu.raise(GP_VECTOR, 0);
      return;
    case 0x34: execSysenter(cpu); return;
    case 0x35: execSysexit(cpu); return;
    case 0xa2: execCpuid(cpu); return;
    case 0xa0: case 0xa8: { // PUSH FS/GS
      const sz = cpu.mode64 ? (d.opsize === 2 ? 2 : 8) : d.opsize;
      push(sz, cpu.segSel[op === 0xa0 ? 4 : 5]!, 0);
      return;
    }
    case 0xa1: case 0xa9: { // POP FS/GS
      const sz = cpu.mode64 ? (d.opsize === 2 ? 2 : 8) : d.opsize;
      const v = peek(sz, 0);
      loadDataSegment(cpu, op === 0xa1 ? 4 : 5, v & 0xffff);
      setStackPointer(spAdd(stackPointer(), sz));
      return;
    }
    case 0xa3: case 0xab: case 0xb3: case 0xbb: bitTest(cpu, op === 0xa3 ? 0 : op === 0xab ? 1 : op === 0xb3 ? 2 : 3, false); return;
    case 0xba: bitTest(cpu, -1, true); return;
    case 0xa4: case 0xa5: case 0xac: case 0xad: shiftDouble(cpu, op); return;
    case 0xae: execGroup15(cpu, (kind, ea) => execSseControl(cpu.fpu, fpuHost(cpu), kind, ea)); return;
    case 0xaf: { // IMUL Gv, Ev
      decodeModrm(0);
      const sz = d.opsize;
      const b = readRm(sz);
      const bhi = d.hi;
      const a = getReg(sz, d.reg);
      imul3(cpu, sz, d.reg, a, d.hi, b, bhi);
      return;
    }
    case 0xb0: case 0xb1: cmpxchg(cpu, op === 0xb0 ? 1 : d.opsize); return;
    case 0xb2: loadFarPointer(cpu, 2); return;
    case 0xb4: loadFarPointer(cpu, 4); return;
    case 0xb5: loadFarPointer(cpu, 5); return;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: { // MOVZX / MOVSX
      decodeModrm(0);
      const src = op & 1 ? 2 : 1;
      let v = readRm(src);
      const signed = op >= 0xbe;
      if (signed) v = src === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
      const sz = d.opsize;
      if (sz === 8) setReg(8, d.reg, v, signed ? v >> 31 : 0);
      else setReg(sz, d.reg, sz === 2 ? v & 0xffff : v, 0);
      return;
    }
    case 0xb8: { // POPCNT (F3)
      if (d.rep !== 0xf3) cpu.raise(UD_VECTOR);
      decodeModrm(0);
      const sz = d.opsize;
      const v = readRm(sz);
      const n = popcnt(v) + (sz === 8 ? popcnt(d.hi) : 0);
      setReg(sz, d.reg, n, 0);
      cpu.flags = (cpu.flags & ~ARITH) | (n === 0 ? FLAG_ZF : 0);
      return;
    }
    case 0xbc: case 0xbd: bitScan(cpu, op === 0xbd); return;
    case 0xc0: case 0xc1: xadd(cpu, op === 0xc0 ? 1 : d.opsize); return;
    case 0xc7: execGroup9(cpu); return;
    case 0xc3: { // MOVNTI m32/m64, r (a non-temporal hint on a plain store)
      decodeModrm(0);
      if (!d.isMem || d.opsize === 2) cpu.raise(UD_VECTOR);
      const v = getReg(d.opsize, d.reg);
      writeRm(d.opsize, v, d.hi);
      return;
    }
    case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf: { // BSWAP
      const r = (op & 7) | d.rexB;
      if (d.opsize === 8) {
        const lo = R[2 * r]!;
        const hi = R[2 * r + 1]!;
        R[2 * r] = bswap32(hi);
        R[2 * r + 1] = bswap32(lo);
      } else if (d.opsize === 4) {
        setReg(4, r, bswap32(R[2 * r]!), 0);
      } else {
        setReg(2, r, 0, 0); // BSWAP r16 is undefined; hardware zeroes it
      }
      return;
    }
    case 0xff: cpu.raise(UD_VECTOR); return; // UD0
    case 0xaa: // RSM: offered to the controller; outside SMM it is #UD
      checkIntercept(cpu, ENGINE_EXIT_RSM);
      cpu.raise(UD_VECTOR);
      return;
  }
  if (op >= 0x40 && op <= 0x4f) { // CMOVcc: the source is read even when the condition is false
    decodeModrm(0);
    const sz = d.opsize;
    const v = readRm(sz);
    const vhi = d.hi;
    if (cond(cpu.flags, op & 15)) setReg(sz, d.reg, v, vhi);
    else if (sz === 4) R[2 * d.reg + 1] = 0; // a 32-bit destination is zero-extended regardless
    return;
  }
  if (op >= 0x80 && op <= 0x8f) { // Jcc rel16/32
    const rel = d.opsize === 2 ? (fetch16() << 16) >> 16 : fetch32();
    if (cond(cpu.flags, op & 15)) branchTo(relTarget(rel));
    return;
  }
  if (op >= 0x90 && op <= 0x9f) { // SETcc
    decodeModrm(0);
    writeRm(1, cond(cpu.flags, op & 15) ? 1 : 0, 0);
    return;
  }
  cpu.raise(UD_VECTOR);
}

function popcnt(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function movbe(cpu: X86Cpu, op3: number): void {
  decodeModrm(0);
  if (!d.isMem) cpu.raise(UD_VECTOR);
  const sz = d.opsize;
  if (op3 === 0xf0) {
    const v = readRm(sz);
    if (sz === 8) setReg(8, d.reg, bswap32(d.hi), bswap32(v));
    else if (sz === 4) setReg(4, d.reg, bswap32(v), 0);
    else setReg(2, d.reg, ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
  } else {
    const v = getReg(sz, d.reg);
    if (sz === 8) writeRm(8, bswap32(d.hi), bswap32(v));
    else if (sz === 4) writeRm(4, bswap32(v), 0);
    else writeRm(2, ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
  }
}

/** BT BTS BTR BTC (op 0..3); imm: the 0F BA group with an immediate bit offset. */
function bitTest(cpu: X86Cpu, opArg: number, imm: boolean): void {
  decodeModrm(imm ? 1 : 0);
  let op = opArg;
  if (imm) {
    const sub = d.reg & 7;
    if (sub < 4) cpu.raise(UD_VECTOR);
    op = sub - 4;
  }
  if (d.lock && (op === 0 || !d.isMem)) cpu.raise(UD_VECTOR);
  const sz = d.opsize;
  const bits = sz * 8;
  let la = 0;
  let bit: number;
  if (imm) {
    bit = fetch8() & (bits - 1);
    if (d.isMem) la = eaLinear(sz, op !== 0);
  } else {
    const off = getReg(sz, d.reg);
    const offHi = d.hi;
    if (d.isMem) {
      // A register bit offset addresses memory beyond the operand (signed).
      let sOff: number;
      if (sz === 8) sOff = offHi * TWO32 + (off >>> 0);
      else if (sz === 4) sOff = off | 0;
      else sOff = (off << 16) >> 16;
      const byteDelta = Math.floor(sOff / bits) * sz;
      bit = ((sOff % bits) + bits) % bits;
      const saved = d.ea;
      let ea = d.ea + byteDelta;
      ea = d.adsize === 2 ? ea & 0xffff : d.adsize === 4 ? ea >>> 0 : ea;
      d.ea = ea;
      la = eaLinear(sz, op !== 0);
      d.ea = saved;
    } else {
      bit = off & (bits - 1);
    }
  }
  let lo = d.isMem ? readMem(la, sz) : getReg(sz, d.rm);
  let hi = d.hi;
  const inHi = bit >= 32;
  const m = 1 << (bit & 31);
  const cf = ((inHi ? hi : lo) & m) !== 0 ? 1 : 0;
  cpu.flags = (cpu.flags & ~FLAG_CF) | cf;
  if (op === 0) return;
  let w = inHi ? hi : lo;
  if (op === 1) w |= m;
  else if (op === 2) w &= ~m;
  else w ^= m;
  if (inHi) hi = w; else lo = w;
  if (sz === 4) lo |= 0;
  else if (sz === 2) lo &= 0xffff;
  if (d.isMem) writeMem(la, sz, lo, hi);
  else setReg(sz, d.rm, lo, hi);
}

/** BSF/BSR, and TZCNT/LZCNT with F3. */
function bitScan(cpu: X86Cpu, reverse: boolean): void {
  decodeModrm(0);
  const sz = d.opsize;
  const lo = readRm(sz);
  const hi = sz === 8 ? d.hi : 0;
  const bits = sz * 8;
  let idx = -1;
  if (reverse) {
    if (sz === 8 && hi !== 0) idx = 63 - Math.clz32(hi);
    else if (lo !== 0) idx = 31 - Math.clz32(lo);
  } else {
    if (lo !== 0) idx = 31 - Math.clz32(lo & -lo);
    else if (sz === 8 && hi !== 0) idx = 63 - Math.clz32(hi & -hi);
  }
  if (d.rep === 0xf3) {
    // TZCNT / LZCNT: the count, CF = source zero, ZF = result zero.
    const n = idx < 0 ? bits : reverse ? bits - 1 - idx : idx;
    setReg(sz, d.reg, n, 0);
    cpu.flags = (cpu.flags & ~ARITH) | (idx < 0 ? FLAG_CF : 0) | (n === 0 ? FLAG_ZF : 0);
    return;
  }
  if (idx < 0) {
    // Source zero: ZF=1, destination unchanged (what Intel and AMD hardware do).
    cpu.flags = (cpu.flags & ~ARITH) | FLAG_ZF;
    return;
  }
  setReg(sz, d.reg, idx, 0);
  cpu.flags = (cpu.flags & ~ARITH) | PARITY[idx]!;
}

/** SHLD/SHRD (A4/A5 = SHLD imm/CL, AC/AD = SHRD imm/CL). */
function shiftDouble(cpu: X86Cpu, op: number): void {
  const hasImm = op === 0xa4 || op === 0xac;
  decodeModrm(hasImm ? 1 : 0);
  const sz = d.opsize;
  const left = op < 0xa8;
  const la = d.isMem ? eaLinear(sz, true) : 0;
  const dst = d.isMem ? readMem(la, sz) : getReg(sz, d.rm);
  const dhi = d.hi;
  const src = getReg(sz, d.reg);
  const shi = d.hi;
  const count = (hasImm ? fetch8() : d.regs[2]! & 0xff) & (sz === 8 ? 63 : 31);
  if (count === 0) {
    // Flags and value unchanged, but a 32-bit register destination is still zero-extended.
    if (!d.isMem && sz === 4) setReg(4, d.rm, dst, 0);
    return;
  }
  const bits = sz * 8;
  if (count > bits) { // 16-bit operands with counts 17..31: undefined; leave as hardware-ish (no change)
    return;
  }
  // Work in BigInt-free 32-bit pieces: build the result bit by bit for 64-bit, directly otherwise.
  let lo: number;
  let hi = 0;
  let cf: number;
  if (sz === 8) {
    let dl = dst, dh = dhi, sl = src, sh = shi;
    cf = 0;
    for (let i = 0; i < count; i++) {
      if (left) {
        cf = dh >>> 31;
        dh = (dh << 1) | (dl >>> 31);
        dl = (dl << 1) | (sh >>> 31);
        sh = (sh << 1) | (sl >>> 31);
        sl <<= 1;
      } else {
        cf = dl & 1;
        dl = (dl >>> 1) | (dh << 31);
        dh = (dh >>> 1) | (sl << 31);
        sl = (sl >>> 1) | (sh << 31);
        sh >>>= 1;
      }
    }
    lo = dl | 0;
    hi = dh | 0;
    const of = ((hi ^ dhi) < 0) ? FLAG_OF : 0;
    cpu.flags = (cpu.flags & ~ARITH) | cf | (count === 1 ? of : 0) | ((lo | hi) === 0 ? FLAG_ZF : 0) | (hi < 0 ? FLAG_SF : 0) | PARITY[lo & 0xff]!;
  } else {
    const mask = SIZE_MASK[sz]!;
    if (left) {
      // (dst:src) << count, take the top `bits`.
      if (sz === 4) {
        lo = (dst << count) | (src >>> (32 - count));
        cf = (dst >>> (32 - count)) & 1;
      } else {
        const comb = ((dst & 0xffff) * 65536 + (src & 0xffff)) * 2 ** count;
        lo = Math.floor(comb / 65536) & 0xffff;
        cf = Math.floor(comb / 2 ** 32) & 1;
      }
    } else if (sz === 4) {
      lo = (dst >>> count) | (src << (32 - count));
      cf = (dst >>> (count - 1)) & 1;
    } else {
      const comb = (src & 0xffff) * 65536 + (dst & 0xffff);
      lo = Math.floor(comb / 2 ** count) & 0xffff;
      cf = Math.floor(comb / 2 ** (count - 1)) & 1;
    }
    const sign = sz === 4 ? 0x80000000 : 0x8000;
    const of = ((lo ^ dst) & sign) !== 0 ? FLAG_OF : 0;
    cpu.flags = (cpu.flags & ~ARITH) | cf | (count === 1 ? of : 0) | szp(lo & mask, sz);
  }
  if (d.isMem) writeMem(la, sz, lo, hi);
  else setReg(sz, d.rm, lo, hi);
}

function cmpxchg(cpu: X86Cpu, sz: number): void {
  decodeModrm(0);
  const la = d.isMem ? eaLinear(sz, true) : 0;
  const dst = d.isMem ? readMem(la, sz) : getReg(sz, d.rm);
  const dhi = d.hi;
  const acc = getReg(sz, 0);
  const ahi = d.hi;
  if (sz === 8) alu64(cpu, 7, acc, ahi, dst, dhi);
  else alu(cpu, 7, sz, acc, dst);
  if (cpu.flags & FLAG_ZF) {
    const src = getReg(sz, d.reg);
    if (d.isMem) writeMem(la, sz, src, d.hi);
    else setReg(sz, d.rm, src, d.hi);
  } else {
    // The destination is written back with its own value (a locked RMW always writes).
    if (d.isMem) writeMem(la, sz, dst, dhi);
    setReg(sz, 0, dst, dhi);
  }
}

function xadd(cpu: X86Cpu, sz: number): void {
  decodeModrm(0);
  const la = d.isMem ? eaLinear(sz, true) : 0;
  const dst = d.isMem ? readMem(la, sz) : getReg(sz, d.rm);
  const dhi = d.hi;
  const src = getReg(sz, d.reg);
  const shi = d.hi;
  let res: number;
  let rhi = 0;
  if (sz === 8) { res = alu64(cpu, 0, dst, dhi, src, shi); rhi = r64.hi; }
  else res = alu(cpu, 0, sz, dst, src);
  setReg(sz, d.reg, dst, dhi);
  if (d.isMem) writeMem(la, sz, res, rhi);
  else setReg(sz, d.rm, res, rhi);
}

/** LAR / LSL (SDM): ZF=1 and the rights/limit when the descriptor is visible at CPL/RPL, else ZF=0. */
function larLsl(cpu: X86Cpu, lsl: boolean): void {
  if (!cpu.pmode) cpu.raise(UD_VECTOR);
  decodeModrm(0);
  const sel = readRm(2);
  let ok = (sel & 0xfffc) !== 0;
  if (ok) {
    const limit = sel & 4 ? cpu.segLimit[7]! : cpu.gdtrLimit;
    if ((sel & 4) && (cpu.segAr[7]! & AR_UNUSABLE)) ok = false;
    if ((sel & 0xfff8) + 7 > limit) ok = false;
  }
  if (ok) {
    readDescriptor(cpu, sel);
    const ar = descAr(desc.hi);
    const type = ar & 0xf;
    const dpl = (ar >> 5) & 3;
    if (ar & AR_S) {
      const conforming = (type & 0xc) === 0xc;
      if (!conforming && (dpl < cpu.cpl || dpl < (sel & 3))) ok = false;
    } else {
      const long = cpu.longMode;
      const valid = lsl
        ? (long ? type === 2 || type === 9 || type === 0xb : type === 1 || type === 2 || type === 3 || type === 9 || type === 0xb)
        : (long ? type === 2 || type === 9 || type === 0xb || type === 0xc
          : type === 1 || type === 2 || type === 3 || type === 4 || type === 5 || type === 9 || type === 0xb || type === 0xc);
      if (!valid || dpl < cpu.cpl || dpl < (sel & 3)) ok = false;
    }
  }
  if (!ok) { cpu.flags &= ~FLAG_ZF; return; }
  cpu.flags |= FLAG_ZF;
  const v = lsl ? descLimit(desc.lo, desc.hi) : desc.hi & 0x00f0ff00;
  if (d.opsize === 8) setReg(8, d.reg, v | 0, 0);
  else setReg(d.opsize, d.reg, d.opsize === 2 ? v & 0xffff : v | 0, 0);
}
