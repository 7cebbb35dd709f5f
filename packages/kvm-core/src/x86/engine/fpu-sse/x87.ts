/**
 * execX87: the x87 FPU instructions D8-DF (SDM Vol. 2 opcode map Tables A-7..A-22)
 * over FpuSseState: the register stack (TOP, tags, overflow/underflow with C1), FSW
 * condition codes and exception flags with masking (ES/B summary; unmasked exceptions
 * leave the destination untouched and #MF is taken by the next waiting x87
 * instruction when CR0.NE), FOP/FIP/FDP, and the environment/state images of
 * FNSTENV/FLDENV/FNSAVE/FRSTOR (16- and 32-bit, real and protected mode layouts).
 */
import type { FpuSseHost } from './host';
import { CR0_NE, X86_VEC_MF, X86_VEC_UD } from './host';
import {
  FSW_B, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_ES, FSW_SF, TAG_EMPTY, type FpuSseState,
} from './state';
import {
  Ext, FE_IE, FMT_F32, FMT_F64, INDEFINITE, addx, cmpx, divx, extToFloat, extToInt, extToNumber,
  floatToExt, intToExt, isDenormx, isFinitex, isInfx, isNaNx, isUnsupportedx, isZerox, mulx,
  numberToExt, outBits, prem, premx, rndintx, scalex, sqrtx, x87Begin, xs, xtractx, zeroExt,
} from './x87-arith';

/** FCW bit 6 is reserved and reads as 1 whatever is loaded (observed on the host; reset value 0040H). */
const FCW_RESERVED_ONE = 0x40;

// ---- registers and stack ---------------------------------------------------------------

function getPhys(st: FpuSseState, r: number): Ext {
  const lo = BigInt(st.fprMant[2 * r]! >>> 0);
  const hi = BigInt(st.fprMant[2 * r + 1]! >>> 0);
  const e = st.fprExp[r]!;
  return new Ext(e >>> 15, e & 0x7fff, (hi << 32n) | lo);
}

function setPhys(st: FpuSseState, r: number, v: Ext): void {
  st.fprMant[2 * r] = Number(v.mant & 0xffffffffn);
  st.fprMant[2 * r + 1] = Number((v.mant >> 32n) & 0xffffffffn);
  st.fprExp[r] = (v.sign << 15) | (v.bexp & 0x7fff);
  st.ftwAbridged |= 1 << r;
}

function isEmpty(st: FpuSseState, i: number): boolean {
  return ((st.ftwAbridged >> st.st(i)) & 1) === 0;
}

function getSt(st: FpuSseState, i: number): Ext { return getPhys(st, st.st(i)); }
function setSt(st: FpuSseState, i: number, v: Ext): void { setPhys(st, st.st(i), v); }

function pop(st: FpuSseState): void {
  st.ftwAbridged &= ~(1 << st.top);
  st.top = (st.top + 1) & 7;
}

/** Condition-code and exception bookkeeping of the current instruction. */
let cc = 0;       // C3 C2 C1 C0 bits to write (FSW positions)
let ccMask = 0;   // which of them the instruction defines
let stackFault = 0;

function setC1(v: boolean): void { cc = (cc & ~FSW_C1) | (v ? FSW_C1 : 0); ccMask |= FSW_C1; }

/** Stack underflow: IE + SF, C1 = 0. Returns true when masked (the caller writes the indefinite). */
function underflow(): boolean {
  xs.flags |= FE_IE;
  stackFault = 1;
  setC1(false);
  return (xs.masks & FE_IE) !== 0;
}

/** Push with the overflow check: a full slot gives IE + SF, C1 = 1 and (masked) the indefinite. */
function push(st: FpuSseState, v: Ext): void {
  const t = (st.top - 1) & 7;
  if (((st.ftwAbridged >> t) & 1) !== 0) {
    xs.flags |= FE_IE;
    stackFault = 1;
    setC1(true);
    if ((xs.masks & FE_IE) === 0) return;
    v = INDEFINITE();
  }
  st.top = t;
  setPhys(st, t, v);
}

/** Whether the instruction's result may be written (no unmasked pre-computation exception). */
function canWrite(): boolean {
  return (xs.flags & ~xs.masks & 0x07) === 0; // IE, DE, ZE unmasked suppress the result
}

/** FLD m32/m64: an unmasked IE (SNaN) prevents the load; an unmasked DE does not (host-verified). */
function loadable(): boolean {
  return (xs.flags & ~xs.masks & FE_IE) === 0;
}

function commit(st: FpuSseState): void {
  let fsw = st.fswBits | (xs.flags & 0x3f);
  if (stackFault) fsw |= FSW_SF;
  fsw = (fsw & ~ccMask) | (cc & ccMask);
  if ((fsw & 0x3f & ~st.fcw) !== 0) fsw |= FSW_ES | FSW_B;
  st.fswBits = fsw;
}

// ---- memory operands ---------------------------------------------------------------------

function readMemFloat(host: FpuSseHost, ea: number, kind: number): Ext {
  switch (kind) {
    case 0: return floatToExt(host.read32(ea), 0, false, true);                 // m32fp
    case 1: return intToExt(BigInt(host.read32(ea) | 0));                        // m32int
    case 2: return floatToExt(host.read32(ea), host.read32(ea + 4), true, true); // m64fp
    default: return intToExt(BigInt((host.read16(ea) << 16) >> 16));      // m16int
  }
}

function readM80(host: FpuSseHost, ea: number): Ext {
  const lo = BigInt(host.read32(ea) >>> 0);
  const hi = BigInt(host.read32(ea + 4) >>> 0);
  const se = host.read16(ea + 8);
  return new Ext(se >>> 15, se & 0x7fff, (hi << 32n) | lo);
}

function writeM80(host: FpuSseHost, ea: number, v: Ext): void {
  host.probeWrite(ea, 10);
  host.write32(ea, Number(v.mant & 0xffffffffn));
  host.write32(ea + 4, Number((v.mant >> 32n) & 0xffffffffn));
  host.write16(ea + 8, (v.sign << 15) | v.bexp);
}

// ---- arithmetic helpers -------------------------------------------------------------------

const OP_ADD = 0, OP_MUL = 1, OP_SUB = 4, OP_SUBR = 5, OP_DIV = 6, OP_DIVR = 7;

function arith(op: number, a: Ext, b: Ext): Ext {
  switch (op) {
    case OP_ADD: return addx(a, b, false);
    case OP_MUL: return mulx(a, b);
    case OP_SUB: return addx(a, b, true);
    case OP_SUBR: return addx(b, a, true);
    case OP_DIV: return divx(a, b);
    default: return divx(b, a);
  }
}

/** dst(i) = dst op src, then optionally pop; handles underflow and unmasked exceptions. */
function arithSt(st: FpuSseState, op: number, dst: number, src: Ext | null, srcIdx: number, popAfter: boolean): void {
  setC1(false);
  if (isEmpty(st, dst) || (src === null && isEmpty(st, srcIdx))) {
    if (underflow()) { setSt(st, dst, INDEFINITE()); if (popAfter) pop(st); }
    return;
  }
  const a = getSt(st, dst);
  const b = src ?? getSt(st, srcIdx);
  const r = arith(op, a, b);
  if (!canWrite()) return;
  setC1(xs.up);
  setSt(st, dst, r);
  if (popAfter) pop(st);
}

function compare(st: FpuSseState, a: Ext | null, bIdx: number, b: Ext | null, signalQnan: boolean, pops: number, toEflags: boolean, host: FpuSseHost): void {
  setC1(false);
  let r: number;
  if (a === null || (b === null && isEmpty(st, bIdx))) {
    underflow();
    r = 3;
  } else {
    r = cmpx(a, b ?? getSt(st, bIdx), signalQnan);
  }
  const unmasked = (xs.flags & ~xs.masks & 0x3) !== 0;
  if (!unmasked) {
    if (toEflags) {
      host.setArithFlags(r >= 2 ? 1 : 0, r === 3 ? 1 : 0, r === 1 || r === 3 ? 1 : 0);
    } else {
      cc = (cc & FSW_C1) | (r === 1 ? FSW_C0 : r === 2 ? FSW_C3 : r === 3 ? FSW_C0 | FSW_C2 | FSW_C3 : 0);
      ccMask |= FSW_C0 | FSW_C2 | FSW_C3;
    }
    for (let i = 0; i < pops; i++) pop(st);
  }
}

function stTop(st: FpuSseState): Ext | null {
  return isEmpty(st, 0) ? null : getSt(st, 0);
}

/** Constants (SDM Vol. 1 8.3.8): 66-bit internal values rounded per RC. */
/** [exponent, significand rounded down, round-to-nearest rounds up] of 1, L2T, L2E, PI, LG2, LN2. */
const CONSTANTS: [number, bigint, boolean][] = [
  [0x3fff, 0x8000000000000000n, false], // 1
  [0x4000, 0xd49a784bcd1b8afen, false], // log2(10)
  [0x3fff, 0xb8aa3b295c17f0bbn, true],  // log2(e)
  [0x4000, 0xc90fdaa22168c234n, true],  // pi
  [0x3ffd, 0x9a209a84fbcff798n, true],  // log10(2)
  [0x3ffe, 0xb17217f7d1cf79abn, true],  // ln(2)
];

function constant(which: number, rc: number): Ext {
  const [e, m, nearUp] = CONSTANTS[which]!;
  if (which === 0) return new Ext(0, e, m);
  const up = rc === 0 ? nearUp : rc === 2;
  return new Ext(0, e, up ? m + 1n : m);
}

// ---- environment images -------------------------------------------------------------------

function envSize(opsize: number): number { return opsize === 16 ? 14 : 28; }

function storeEnv(st: FpuSseState, host: FpuSseHost, ea: number, opsize: number): void {
  const prot = (host.cr0 & 1) !== 0;
  const w = opsize === 16 ? 2 : 4;
  const put = (i: number, v: number) => {
    if (w === 2) host.write16(ea + 2 * i, v & 0xffff); else host.write32(ea + 4 * i, v >>> 0);
  };
  const hi16 = w === 4 ? 0xffff0000 : 0;
  put(0, st.fcw | hi16);
  put(1, st.fsw | hi16);
  put(2, st.ftw | hi16);
  if (prot) {
    put(3, st.fip);
    put(4, w === 4 ? (st.fcs & 0xffff) | ((st.fop & 0x7ff) << 16) : st.fcs);
    put(5, st.fdp);
    put(6, st.fds | hi16);
  } else {
    put(3, (st.fip & 0xffff) | hi16);
    put(4, w === 4 ? ((st.fip >>> 16) << 12) | (st.fop & 0x7ff) : (((st.fip >>> 16) & 0xf) << 12) | (st.fop & 0x7ff));
    put(5, (st.fdp & 0xffff) | hi16);
    put(6, w === 4 ? (st.fdp >>> 16) << 12 : ((st.fdp >>> 16) & 0xf) << 12);
  }
}

function loadEnv(st: FpuSseState, host: FpuSseHost, ea: number, opsize: number): void {
  const prot = (host.cr0 & 1) !== 0;
  const w = opsize === 16 ? 2 : 4;
  const get = (i: number) => (w === 2 ? host.read16(ea + 2 * i) : host.read32(ea + 4 * i) >>> 0);
  const v = [0, 1, 2, 3, 4, 5, 6].map(get); // all reads first: a fault changes nothing
  st.fcw = (v[0]! & 0xffff) | FCW_RESERVED_ONE;
  st.fsw = v[1]! & 0xffff;
  st.ftw = v[2]! & 0xffff;
  if (prot) {
    st.fip = v[3]!;
    st.fcs = v[4]! & 0xffff;
    st.fop = w === 4 ? (v[4]! >>> 16) & 0x7ff : st.fop;
    st.fdp = v[5]!;
    st.fds = v[6]! & 0xffff;
  } else {
    st.fip = (v[3]! & 0xffff) | (w === 4 ? ((v[4]! >>> 12) << 16) : (((v[4]! >>> 12) & 0xf) << 16));
    st.fop = v[4]! & 0x7ff;
    st.fdp = (v[5]! & 0xffff) | (w === 4 ? ((v[6]! >>> 12) << 16) : (((v[6]! >>> 12) & 0xf) << 16));
  }
  // Loaded flags with newly unmasked exceptions raise ES/B (taken at the next x87 instruction).
  recomputeEs(st);
}

function recomputeEs(st: FpuSseState): void {
  if ((st.fswBits & 0x3f & ~st.fcw) !== 0) st.fswBits |= FSW_ES | FSW_B;
  else st.fswBits &= ~(FSW_ES | FSW_B);
}

// ---- BCD -----------------------------------------------------------------------------------

function readBcd(host: FpuSseHost, ea: number): Ext {
  let v = 0n;
  const b: number[] = [];
  for (let i = 0; i < 10; i++) b.push(host.read8(ea + i));
  for (let i = 8; i >= 0; i--) v = v * 100n + BigInt((b[i]! >> 4) * 10 + (b[i]! & 15));
  const r = intToExt(v);
  if (b[9]! & 0x80) r.sign = 1;
  return r;
}

// ---- the dispatcher --------------------------------------------------------------------------

/** Integer store sizes for FIST/FISTP/FISTTP. */
function storeInt(host: FpuSseHost, ea: number, v: bigint | null, bits: number): void {
  const u = v === null ? 1n << BigInt(bits - 1) : BigInt.asUintN(bits, v);
  host.probeWrite(ea, bits / 8);
  if (bits === 16) host.write16(ea, Number(u));
  else if (bits === 32) host.write32(ea, Number(u));
  else { host.write32(ea, Number(u & 0xffffffffn)); host.write32(ea + 4, Number(u >> 32n)); }
}

export function execX87(st: FpuSseState, host: FpuSseHost, opcode: number, modrm: number, ea: number, opsize: 16 | 32 | 64): void {
  const reg = (modrm >> 3) & 7;
  const rmi = modrm & 7;
  const isMem = (modrm & 0xc0) !== 0xc0; // ea may be negative (int32 or high canonical)
  // Non-waiting control instructions do not check for pending exceptions.
  const noWait = isMem
    ? (opcode === 0xd9 && (reg === 6 || reg === 7)) || (opcode === 0xdd && (reg === 6 || reg === 7))
    : (opcode === 0xdb && (modrm === 0xe2 || modrm === 0xe3 || modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe4)) ||
      (opcode === 0xdf && modrm === 0xe0);
  if (!noWait && (st.fswBits & FSW_ES) !== 0 && (host.cr0 & CR0_NE) !== 0) host.raise(X86_VEC_MF);
  x87Begin(st.fcw);
  cc = 0;
  ccMask = 0;
  stackFault = 0;
  const control = noWait || (isMem && (opcode === 0xd9 && (reg === 4 || reg === 5))) || (isMem && opcode === 0xdd && reg === 4);
  if (isMem) execMem(st, host, opcode, reg, ea, opsize);
  else execReg(st, host, opcode, modrm, rmi);
  if (!control) {
    commit(st);
    st.fop = ((opcode & 7) << 8) | modrm;
    st.fip = host.fpuIp ?? st.fip;
    st.fcs = host.fpuCs ?? st.fcs;
    if (isMem) st.fdp = ea;
  }
}

function execMem(st: FpuSseState, host: FpuSseHost, opcode: number, reg: number, ea: number, opsize: number): void {
  switch (opcode) {
    case 0xd8: case 0xdc: case 0xda: case 0xde: {
      const kind = opcode === 0xd8 ? 0 : opcode === 0xdc ? 2 : opcode === 0xda ? 1 : 3;
      const v = readMemFloat(host, ea, kind);
      if (reg === 2 || reg === 3) {
        compare(st, stTop(st), 0, v, true, reg === 3 ? 1 : 0, false, host);
        return;
      }
      arithSt(st, reg, 0, v, 0, false);
      return;
    }
    case 0xd9:
      switch (reg) {
        case 0: { const v = floatToExt(host.read32(ea), 0, false); setC1(false); if (loadable()) push(st, v); return; }
        case 2: case 3: return storeFloat(st, host, ea, FMT_F32, reg === 3);
        case 4: loadEnv(st, host, ea, opsize); return;
        case 5: st.fcw = host.read16(ea) | FCW_RESERVED_ONE; recomputeEs(st); return;
        case 6:
          host.probeWrite(ea, envSize(opsize));
          storeEnv(st, host, ea, opsize);
          st.fcw |= 0x3f; // FNSTENV masks all exceptions after storing
          return;
        case 7: host.probeWrite(ea, 2); host.write16(ea, st.fcw); return;
        default: host.raise(X86_VEC_UD);
      }
    // falls through (raise never returns)
    case 0xdb:
      switch (reg) {
        case 0: { const v = readMemFloat(host, ea, 1); setC1(false); push(st, v); return; }
        case 1: case 2: case 3: return storeInteger(st, host, ea, 32, reg !== 2, reg === 1);
        case 5: { const v = readM80(host, ea); setC1(false); push(st, v); return; }
        case 7: {
          setC1(false);
          if (isEmpty(st, 0)) {
            if (underflow()) { writeM80(host, ea, INDEFINITE()); pop(st); }
            return;
          }
          writeM80(host, ea, getSt(st, 0));
          pop(st);
          return;
        }
        default: host.raise(X86_VEC_UD);
      }
    // falls through
    case 0xdd:
      switch (reg) {
        case 0: { const v = floatToExt(host.read32(ea), host.read32(ea + 4), true); setC1(false); if (loadable()) push(st, v); return; }
        case 1: return storeInteger(st, host, ea, 64, true, true);
        case 2: case 3: return storeFloat(st, host, ea, FMT_F64, reg === 3);
        case 4: { // FRSTOR
          const n = envSize(opsize);
          const regs: Ext[] = [];
          for (let i = 0; i < 8; i++) regs.push(readM80(host, ea + n + 10 * i));
          loadEnv(st, host, ea, opsize);
          const tags = st.ftwAbridged;
          for (let i = 0; i < 8; i++) setPhys(st, (st.top + i) & 7, regs[i]!);
          st.ftwAbridged = tags;
          return;
        }
        case 6: { // FNSAVE
          const n = envSize(opsize);
          host.probeWrite(ea, n + 80);
          storeEnv(st, host, ea, opsize);
          for (let i = 0; i < 8; i++) {
            const v = getSt(st, i);
            host.write32(ea + n + 10 * i, Number(v.mant & 0xffffffffn));
            host.write32(ea + n + 10 * i + 4, Number(v.mant >> 32n));
            host.write16(ea + n + 10 * i + 8, (v.sign << 15) | v.bexp);
          }
          st.fninit();
          return;
        }
        case 7: host.probeWrite(ea, 2); host.write16(ea, st.fsw); return;
        default: host.raise(X86_VEC_UD);
      }
    // falls through
    default: // 0xdf
      switch (reg) {
        case 0: { const v = readMemFloat(host, ea, 3); setC1(false); push(st, v); return; }
        case 1: case 2: case 3: return storeInteger(st, host, ea, 16, reg !== 2, reg === 1);
        case 4: { const v = readBcd(host, ea); setC1(false); push(st, v); return; }
        case 5: {
          const lo = BigInt(host.read32(ea) >>> 0);
          const hi = BigInt(host.read32(ea + 4) | 0);
          setC1(false);
          push(st, intToExt((hi << 32n) | lo));
          return;
        }
        case 6: return storeBcd(st, host, ea);
        default: return storeInteger(st, host, ea, 64, true, false);
      }
  }
}

function storeFloat(st: FpuSseState, host: FpuSseHost, ea: number, fmt: typeof FMT_F32, popAfter: boolean): void {
  const dbl = fmt === FMT_F64;
  setC1(false);
  if (isEmpty(st, 0)) {
    if (underflow()) {
      host.probeWrite(ea, dbl ? 8 : 4);
      if (dbl) { host.write32(ea, 0); host.write32(ea + 4, 0xfff80000); } else host.write32(ea, 0xffc00000);
      if (popAfter) pop(st);
    }
    return;
  }
  extToFloat(getSt(st, 0), fmt);
  // Unmasked IE/DE and unmasked OE/UE leave memory unchanged (SDM 8.5.3/8.5.4: no store).
  if ((xs.flags & ~xs.masks & 0x1b) !== 0) return;
  setC1(xs.up);
  host.probeWrite(ea, dbl ? 8 : 4);
  host.write32(ea, outBits.lo);
  if (dbl) host.write32(ea + 4, outBits.hi);
  if (popAfter) pop(st);
}

function storeInteger(st: FpuSseState, host: FpuSseHost, ea: number, bits: number, popAfter: boolean, truncate: boolean): void {
  setC1(false);
  if (isEmpty(st, 0)) {
    if (underflow()) { storeInt(host, ea, null, bits); if (popAfter) pop(st); }
    return;
  }
  const v = extToInt(getSt(st, 0), bits, truncate);
  if (v === null && (xs.masks & FE_IE) === 0) return;
  setC1(xs.up);
  storeInt(host, ea, v, bits);
  if (popAfter) pop(st);
}

function storeBcd(st: FpuSseState, host: FpuSseHost, ea: number): void {
  setC1(false);
  let v: bigint | null = null;
  if (isEmpty(st, 0)) {
    if (!underflow()) return;
  } else {
    v = extToInt(getSt(st, 0), 128, false);
    if (v !== null && (v >= 10n ** 18n || v <= -(10n ** 18n))) { xs.flags = (xs.flags & ~0x20) | FE_IE; xs.up = false; v = null; }
    if (v === null && (xs.masks & FE_IE) === 0) return;
    setC1(xs.up);
  }
  host.probeWrite(ea, 10);
  if (v === null) { // the BCD indefinite
    for (let i = 0; i < 7; i++) host.write8(ea + i, 0);
    host.write8(ea + 7, 0xc0); host.write8(ea + 8, 0xff); host.write8(ea + 9, 0xff);
  } else {
    let m = v < 0n ? -v : v;
    for (let i = 0; i < 9; i++) {
      const d = Number(m % 100n);
      m /= 100n;
      host.write8(ea + i, ((Math.floor(d / 10)) << 4) | (d % 10));
    }
    host.write8(ea + 9, v < 0n || (v === 0n && getSt(st, 0).sign === 1) ? 0x80 : 0);
  }
  pop(st);
}

function execReg(st: FpuSseState, host: FpuSseHost, opcode: number, modrm: number, i: number): void {
  const reg = (modrm >> 3) & 7;
  switch (opcode) {
    case 0xd8:
      if (reg === 2 || reg === 3) return compare(st, stTop(st), i, null, true, reg === 3 ? 1 : 0, false, host);
      return arithSt(st, reg, 0, null, i, false);
    case 0xdc: case 0xde: {
      if (reg === 2 || reg === 3) { // FCOM2/FCOMP3/FCOMP5 aliases, DE D9 = FCOMPP
        if (opcode === 0xde && reg === 3) {
          if (i !== 1) host.raise(X86_VEC_UD);
          return compare(st, stTop(st), 1, null, true, 2, false, host);
        }
        return compare(st, stTop(st), i, null, true, opcode === 0xde || reg === 3 ? 1 : 0, false, host);
      }
      // Register forms with ST(i) as destination swap SUB/SUBR and DIV/DIVR.
      const op = reg === 4 ? OP_SUBR : reg === 5 ? OP_SUB : reg === 6 ? OP_DIVR : reg === 7 ? OP_DIV : reg;
      return arithSt(st, op, i, null, 0, opcode === 0xde);
    }
    case 0xd9: return execD9(st, host, modrm, i);
    case 0xda:
      if (modrm === 0xe9) return compare(st, stTop(st), 1, null, false, 2, false, host); // FUCOMPP
      if (reg <= 3) return fcmov(st, host, reg, false, i);
      return host.raise(X86_VEC_UD);
    case 0xdb:
      if (reg <= 3) return fcmov(st, host, reg, true, i);
      if (modrm === 0xe2) { st.fswBits &= ~(0x3f | FSW_SF | FSW_ES | FSW_B); return; } // FNCLEX
      if (modrm === 0xe3) { st.fninit(); return; }
      if (modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe4) return; // FNENI/FNDISI/FNSETPM: no-ops since the 387
      if (reg === 5 || reg === 6) return compare(st, stTop(st), i, null, reg === 6, 0, true, host); // FUCOMI/FCOMI
      return host.raise(X86_VEC_UD);
    case 0xdd:
      switch (reg) {
        case 0: st.ftwAbridged &= ~(1 << st.st(i)); return; // FFREE
        case 1: return fxch(st, i);
        case 2: case 3: { // FST/FSTP ST(i)
          setC1(false);
          if (isEmpty(st, 0)) { if (underflow()) { setSt(st, i, INDEFINITE()); if (reg === 3) pop(st); } return; }
          setSt(st, i, getSt(st, 0));
          if (reg === 3) pop(st);
          return;
        }
        case 4: case 5: return compare(st, stTop(st), i, null, false, reg === 5 ? 1 : 0, false, host);
        default: return host.raise(X86_VEC_UD);
      }
    default: // 0xdf
      if (modrm === 0xe0) { host.setGpr16(0, st.fsw); return; } // FNSTSW AX
      if (reg === 0) { st.ftwAbridged &= ~(1 << st.st(i)); pop(st); return; } // FFREEP
      if (reg === 1) return fxch(st, i);
      if (reg === 2 || reg === 3) { // FSTP aliases
        setC1(false);
        if (isEmpty(st, 0)) { if (underflow()) { setSt(st, i, INDEFINITE()); pop(st); } return; }
        setSt(st, i, getSt(st, 0));
        pop(st);
        return;
      }
      if (reg === 5 || reg === 6) return compare(st, stTop(st), i, null, reg === 6, 1, true, host); // FUCOMIP/FCOMIP
      return host.raise(X86_VEC_UD);
  }
}

function fxch(st: FpuSseState, i: number): void {
  setC1(false);
  const e0 = isEmpty(st, 0);
  const ei = isEmpty(st, i);
  if (e0 || ei) {
    if (!underflow()) return;
    if (e0) setSt(st, 0, INDEFINITE());
    if (ei) setSt(st, i, INDEFINITE());
  }
  const a = getSt(st, 0);
  const b = getSt(st, i);
  setSt(st, 0, b);
  setSt(st, i, a);
}

function fcmov(st: FpuSseState, host: FpuSseHost, cond: number, negate: boolean, i: number): void {
  const f = host.getFlags();
  const cf = f & 1; const zf = (f >> 6) & 1; const pf = (f >> 2) & 1;
  let c = cond === 0 ? cf : cond === 1 ? zf : cond === 2 ? cf | zf : pf;
  if (negate) c ^= 1;
  setC1(false);
  if (isEmpty(st, 0) || isEmpty(st, i)) {
    if (underflow()) setSt(st, 0, INDEFINITE());
    return;
  }
  if (c) setSt(st, 0, getSt(st, i));
}

function unary(st: FpuSseState, f: (a: Ext) => Ext): void {
  setC1(false);
  if (isEmpty(st, 0)) { if (underflow()) setSt(st, 0, INDEFINITE()); return; }
  const r = f(getSt(st, 0));
  if (!canWrite()) return;
  setC1(xs.up);
  setSt(st, 0, r);
}

function execD9(st: FpuSseState, host: FpuSseHost, modrm: number, i: number): void {
  if (modrm < 0xc8) { // FLD ST(i)
    setC1(false);
    if (isEmpty(st, i)) { if (underflow()) push(st, INDEFINITE()); return; }
    push(st, getSt(st, i));
    return;
  }
  if (modrm < 0xd0) return fxch(st, i);
  if (modrm === 0xd0) return; // FNOP
  if (modrm >= 0xd8 && modrm < 0xe0) { // FSTP1 alias
    setC1(false);
    if (isEmpty(st, 0)) { if (underflow()) { setSt(st, i, INDEFINITE()); pop(st); } return; }
    setSt(st, i, getSt(st, 0));
    pop(st);
    return;
  }
  switch (modrm) {
    case 0xe0: return unary(st, (a) => new Ext(a.sign ^ 1, a.bexp, a.mant)); // FCHS
    case 0xe1: return unary(st, (a) => new Ext(0, a.bexp, a.mant));          // FABS
    case 0xe4: // FTST
      return compare(st, stTop(st), 0, zeroExt(0), true, 0, false, host);
    case 0xe5: return fxam(st);
    case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: {
      setC1(false);
      push(st, constant(modrm - 0xe8, xs.rc));
      return;
    }
    case 0xee: setC1(false); push(st, zeroExt(0)); return;
    case 0xf4: { // FXTRACT
      setC1(false);
      if (isEmpty(st, 0)) { if (underflow()) { setSt(st, 0, INDEFINITE()); push(st, INDEFINITE()); } return; }
      const [e, s] = xtractx(getSt(st, 0));
      if (!canWrite()) return;
      setSt(st, 0, e);
      push(st, s);
      return;
    }
    case 0xf5: case 0xf8: { // FPREM1 / FPREM
      setC1(false);
      if (isEmpty(st, 0) || isEmpty(st, 1)) { if (underflow()) setSt(st, 0, INDEFINITE()); return; }
      const r = premx(getSt(st, 0), getSt(st, 1), modrm === 0xf5);
      if (!canWrite()) return;
      setSt(st, 0, r);
      const q = prem.q;
      cc = (prem.incomplete ? FSW_C2 : 0) | (q & 4 ? FSW_C0 : 0) | (q & 2 ? FSW_C3 : 0) | (q & 1 ? FSW_C1 : 0);
      ccMask = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
      return;
    }
    case 0xf6: st.top = (st.top - 1) & 7; setC1(false); return; // FDECSTP
    case 0xf7: st.top = (st.top + 1) & 7; setC1(false); return; // FINCSTP
    case 0xfa: return unary(st, sqrtx);
    case 0xfc: return unary(st, rndintx);
    case 0xfd: { // FSCALE
      setC1(false);
      if (isEmpty(st, 0) || isEmpty(st, 1)) { if (underflow()) setSt(st, 0, INDEFINITE()); return; }
      const r = scalex(getSt(st, 0), getSt(st, 1));
      if (!canWrite()) return;
      setC1(xs.up);
      setSt(st, 0, r);
      return;
    }
    case 0xf0: case 0xf1: case 0xf2: case 0xf3: case 0xf9: case 0xfb: case 0xfe: case 0xff:
      return transcendental(st, modrm);
    default: host.raise(X86_VEC_UD);
  }
}

function fxam(st: FpuSseState): void {
  let c: number;
  const a = getSt(st, 0);
  if (isEmpty(st, 0)) c = FSW_C3 | FSW_C0;
  else if (isUnsupportedx(a)) c = 0;
  else if (isNaNx(a)) c = FSW_C0;
  else if (isInfx(a)) c = FSW_C2 | FSW_C0;
  else if (isZerox(a)) c = FSW_C3;
  else if (isDenormx(a)) c = FSW_C3 | FSW_C2;
  else c = FSW_C2;
  cc = c | (a.sign ? FSW_C1 : 0);
  ccMask = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
}

/**
 * F2XM1 FYL2X FPTAN FPATAN FYL2XP1 FSINCOS FSIN FCOS: computed with JS Math on doubles
 * and widened. These do NOT match the host's 64-bit results bit for bit (documented).
 */
function transcendental(st: FpuSseState, modrm: number): void {
  setC1(false);
  const two = modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf9;
  if (isEmpty(st, 0) || (two && isEmpty(st, 1))) {
    if (underflow()) {
      if (two) { setSt(st, 1, INDEFINITE()); pop(st); } else setSt(st, 0, INDEFINITE());
      if (modrm === 0xf2 || modrm === 0xfb) push(st, INDEFINITE());
    }
    return;
  }
  const a = getSt(st, 0);
  if (isNaNx(a) || isUnsupportedx(a) || (two && (isNaNx(getSt(st, 1)) || isUnsupportedx(getSt(st, 1))))) {
    const b = two ? getSt(st, 1) : a;
    const bad = isUnsupportedx(a) || isUnsupportedx(b);
    if (bad || (isNaNx(a) && (a.mant & (1n << 62n)) === 0n) || (isNaNx(b) && (b.mant & (1n << 62n)) === 0n)) xs.flags |= FE_IE;
    if (!canWrite()) return;
    const n = bad ? INDEFINITE() : isNaNx(a) ? new Ext(a.sign, a.bexp, a.mant | (1n << 62n)) : new Ext(b.sign, b.bexp, b.mant | (1n << 62n));
    if (two) { setSt(st, 1, n); pop(st); } else { setSt(st, 0, n); if (modrm === 0xf2 || modrm === 0xfb) push(st, n); }
    return;
  }
  const x = extToNumber(a);
  const trig = modrm === 0xf2 || modrm === 0xfb || modrm === 0xfe || modrm === 0xff;
  if (trig && isFinitex(a) && Math.abs(x) >= 2 ** 63) { // out of range: C2 = 1, operand unchanged
    cc = FSW_C2; ccMask |= FSW_C2;
    return;
  }
  if (trig) { cc &= ~FSW_C2; ccMask |= FSW_C2; }
  const wr = (v: number): Ext => {
    if (Number.isNaN(v)) { xs.flags |= FE_IE; return INDEFINITE(); }
    if (v !== 0 && isFinite(v)) xs.flags |= 0x20;
    return numberToExt(v);
  };
  switch (modrm) {
    case 0xf0: { const r = wr(Math.expm1(x * Math.LN2)); if (canWrite()) setSt(st, 0, r); return; }
    case 0xfe: { const r = wr(Math.sin(x)); if (canWrite()) setSt(st, 0, r); return; }
    case 0xff: { const r = wr(Math.cos(x)); if (canWrite()) setSt(st, 0, r); return; }
    case 0xf2: { const r = wr(Math.tan(x)); if (canWrite()) { setSt(st, 0, r); push(st, new Ext(0, 0x3fff, 1n << 63n)); } return; }
    case 0xfb: {
      const s = wr(Math.sin(x)); const c = wr(Math.cos(x));
      if (canWrite()) { setSt(st, 0, s); push(st, c); }
      return;
    }
    default: {
      const y = extToNumber(getSt(st, 1));
      let v: number;
      if (modrm === 0xf3) v = Math.atan2(y, x);
      else if (modrm === 0xf1) {
        if (x < 0) v = NaN;
        else if (x === 0) { if (y === 0) v = NaN; else { xs.flags |= 0x4; v = y > 0 ? -Infinity : Infinity; } }
        else v = y * Math.log2(x);
      } else v = y * Math.log1p(x) / Math.LN2;
      const r = wr(v);
      if (!canWrite()) return;
      setSt(st, 1, r);
      pop(st);
    }
  }
}

