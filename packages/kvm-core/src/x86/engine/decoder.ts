/**
 * Instruction decoding state and operand access (SDM Vol. 2 chapter 2): legacy prefixes,
 * REX, ModRM/SIB effective addresses in 16/32/64-bit addressing (RIP-relative too),
 * immediates, and register/memory operands of 1/2/4/8 bytes. One instruction is decoded
 * at a time, so the state is a single preallocated object `d`.
 */
import { GP_VECTOR } from './constants';
import type { X86Cpu } from './cpu';
import { DCF_ISMEM, DCF_RIPREL } from './decode-cache';

const TWO32 = 0x1_0000_0000;

export const d = {
  cpu: null as unknown as X86Cpu,
  regs: null as unknown as Int32Array,
  /** Offset of the first byte (RIP at the start) and of the next byte to fetch. */
  ipStart: 0,
  ip: 0,
  /** Operand size and address size in bytes (2, 4, 8). */
  opsize: 4,
  adsize: 4,
  /** Segment override (VCPU_SREG_*), or -1. */
  segOverride: -1,
  /** REX byte (0 if none), and its bits pre-shifted to register-number offsets (0 or 8). */
  rex: 0,
  rexW: false,
  rexR: 0,
  rexX: 0,
  rexB: 0,
  /** 0xf3 / 0xf2 or 0 */
  rep: 0,
  /** The last instruction had prefixes: the prefix state must be reset before the next one. */
  prefixed: true,
  lock: false,
  /** Last of 66/F3/F2 (the SSE mandatory prefix). */
  lastPrefix: 0,
  has66: false,
  // ModRM
  modrm: 0,
  mod: 0,
  reg: 0,
  rm: 0,
  isMem: false,
  /** Effective address (offset within the segment): unsigned for 16/32-bit addressing, signed in 64-bit. */
  ea: 0,
  /** The effective address as exact 64-bit halves (LEA). */
  eaLo: 0,
  eaHi: 0,
  eaSeg: 3,
  /** RIP-relative displacement pending the instruction's end. */
  ripRel: false,
  /** The high half of the last 64-bit operand read. */
  hi: 0,
  /** Fetch window: instruction bytes [ipStart, ipStart + winAvail) are winMem[winBase + k]. */
  winMem: new Uint8Array(0) as Uint8Array,
  winBase: 0,
  winAvail: 0,
  // ---- decode cache (decode-cache.ts)
  /** Bytes fetched so far from the window (99: a byte came from outside it, not cacheable). */
  len: 0,
  /** The cache entry whose ModRM decodeModrm replays, or -1. */
  rpl: -1,
  /** What decodeModrm found, for the cache entry: calls, end offset, EA parts. */
  /** Offset of the byte after the opcode, and the operand size there (execution may change d.opsize). */
  opEnd: 0,
  recOpsize: 4,
  modrmCount: 0,
  recModrmOk: false,
  recModrmEnd: 0,
  recBase: -1,
  recIndex: -1,
  recScale: 0,
  recDisp: 0,
  recFlags: 0,
};

/** Fetch one instruction byte at d.ip (CS limit and the 15-byte rule are checked). */
export function fetch8(): number {
  const k = d.ip - d.ipStart;
  if (k < d.winAvail) {
    d.ip++;
    d.len = k + 1;
    return d.winMem[d.winBase + k]!;
  }
  return fetch8Slow(k);
}

/**
 * The first byte of an instruction opens the fetch window (up to 15 bytes, the page end
 * and the CS limit); bytes beyond it come through the TLB one at a time with every check.
 */
function fetch8Slow(k: number): number {
  const cpu = d.cpu;
  if (k === 0) {
    const off = d.ip;
    let la: number;
    let avail: number;
    if (cpu.mode64) {
      la = off;
      avail = 15;
    } else {
      if (off > cpu.segLimit[1]!) cpu.raise(GP_VECTOR, 0);
      la = (cpu.segBase[1]! + off) >>> 0;
      avail = cpu.segLimit[1]! - off + 1;
      if (avail > 15) avail = 15;
    }
    const inPage = 4096 - (la & 0xfff);
    if (inPage < avail) avail = inPage;
    const base = cpu.fetchPage(la);
    d.winMem = cpu.winMem;
    d.winBase = base;
    d.winAvail = avail;
    d.ip = off + 1;
    d.len = 1;
    return d.winMem[base]!;
  }
  return fetch8Checked();
}

function fetch8Checked(): number {
  const cpu = d.cpu;
  const off = d.ip;
  let la: number;
  if (cpu.mode64) {
    la = off;
  } else {
    if (off > cpu.segLimit[1]!) cpu.raise(GP_VECTOR, 0);
    la = (cpu.segBase[1]! + off) >>> 0;
  }
  if (off - d.ipStart >= 15) cpu.raise(GP_VECTOR, 0);
  d.ip = off + 1;
  d.len = 99;
  return cpu.fetch8(la);
}

export function fetch16(): number {
  const b0 = fetch8();
  return b0 | (fetch8() << 8);
}

/** A 32-bit immediate as a signed Int32. */
export function fetch32(): number {
  const b0 = fetch8();
  const b1 = fetch8();
  const b2 = fetch8();
  return b0 | (b1 << 8) | (b2 << 16) | (fetch8() << 24);
}

/** Immediate of the operand size: 1 -> sign? no: raw byte; 2 -> word; 4/8 -> imm32 (sign-extended for 8). */
export function fetchImm(bytes: number): number {
  if (bytes === 1) return fetch8();
  if (bytes === 2) return fetch16();
  return fetch32();
}

/** Immediate byte sign-extended to 32 bits. */
export function fetchS8(): number {
  return (fetch8() << 24) >> 24;
}

// ---------------------------------------------------------------------------------------
// Registers
// ---------------------------------------------------------------------------------------

/** 8-bit register r: with no REX, 4..7 are AH CH DH BH. */
export function getReg8(r: number): number {
  const R = d.regs;
  if (r >= 4 && r < 8 && d.rex === 0) return (R[2 * (r - 4)]! >> 8) & 0xff;
  return R[2 * r]! & 0xff;
}

export function setReg8(r: number, v: number): void {
  const R = d.regs;
  if (r >= 4 && r < 8 && d.rex === 0) {
    const i = 2 * (r - 4);
    R[i] = (R[i]! & ~0xff00) | ((v & 0xff) << 8);
  } else {
    R[2 * r] = (R[2 * r]! & ~0xff) | (v & 0xff);
  }
}

/** Register of `bytes` size as an unsigned value (64-bit: low half, high half in d.hi). */
export function getReg(bytes: number, r: number): number {
  const R = d.regs;
  switch (bytes) {
    case 1: return getReg8(r);
    case 2: return R[2 * r]! & 0xffff;
    case 4: return R[2 * r]!; // 32-bit values travel as Int32 (no boxing)
    default:
      d.hi = R[2 * r + 1]!;
      return R[2 * r]!;
  }
}

/** Write a register: 8/16-bit merge, 32-bit zero-extends, 64-bit takes both halves. */
export function setReg(bytes: number, r: number, lo: number, hi: number): void {
  const R = d.regs;
  switch (bytes) {
    case 1: setReg8(r, lo); return;
    case 2: R[2 * r] = (R[2 * r]! & ~0xffff) | (lo & 0xffff); return;
    case 4: R[2 * r] = lo; R[2 * r + 1] = 0; return;
    default: R[2 * r] = lo; R[2 * r + 1] = hi;
  }
}

/** A register as a signed number (exact for canonical addresses; used for 64-bit addressing). */
export function regSigned64(r: number): number {
  return d.regs[2 * r + 1]! * TWO32 + (d.regs[2 * r]! >>> 0);
}

// ---------------------------------------------------------------------------------------
// ModRM and effective addresses
// ---------------------------------------------------------------------------------------

/**
 * Decode ModRM (and SIB, displacement). immBytes: immediate bytes that follow, so a
 * RIP-relative address can be computed from the end of the instruction (group 3 learns
 * of TEST's immediate only after the ModRM: it moves the address with ripRelPastImmediate).
 */
export function decodeModrm(immBytes: number): void {
  if (d.rpl >= 0) {
    replayModrm(immBytes);
    return;
  }
  d.modrmCount++;
  const m = fetch8();
  d.modrm = m;
  const mod = m >> 6;
  d.mod = mod;
  d.reg = ((m >> 3) & 7) | d.rexR;
  if (mod === 3) {
    d.rm = (m & 7) | d.rexB;
    d.isMem = false;
    d.recModrmOk = true;
    d.recModrmEnd = d.ip - d.ipStart;
    d.recFlags = 0;
    return;
  }
  d.isMem = true;
  const R = d.regs;
  let rm = m & 7;
  d.rm = rm;
  let seg = 3;
  if (d.adsize === 2) {
    let ea = 0;
    switch (rm) {
      case 0: ea = R[6]! + R[12]!; break; // BX+SI
      case 1: ea = R[6]! + R[14]!; break; // BX+DI
      case 2: ea = R[10]! + R[12]!; seg = 2; break; // BP+SI
      case 3: ea = R[10]! + R[14]!; seg = 2; break; // BP+DI
      case 4: ea = R[12]!; break;
      case 5: ea = R[14]!; break;
      case 6:
        if (mod === 0) ea = fetch16();
        else { ea = R[10]!; seg = 2; }
        break;
      default: ea = R[6]!; break;
    }
    if (mod === 1) ea += fetchS8();
    else if (mod === 2) ea += fetch16();
    d.ea = ea & 0xffff;
    d.eaLo = d.ea;
    d.eaHi = 0;
    d.eaSeg = d.segOverride >= 0 ? d.segOverride : seg;
    d.recModrmOk = false;
    return;
  }
  // 32/64-bit addressing: compute lo (exact double) and hi parts.
  let lo = 0;
  let hi = 0;
  let ripRel = false;
  let recBase = -1;
  let recIndex = -1;
  let recScale = 0;
  let disp = 0;
  if (rm === 4) {
    const sib = fetch8();
    const scale = 1 << (sib >> 6);
    const index = ((sib >> 3) & 7) | d.rexX;
    const base = (sib & 7) | d.rexB;
    if (index !== 4) {
      lo += (R[2 * index]! >>> 0) * scale;
      hi += R[2 * index + 1]! * scale;
      recIndex = index;
      recScale = scale;
    }
    if ((base & 7) === 5 && mod === 0) {
      disp = fetch32();
      lo += disp;
    } else {
      lo += R[2 * base]! >>> 0;
      hi += R[2 * base + 1]!;
      recBase = base;
      if ((base & 7) === 4 || (base & 7) === 5) seg = 2;
    }
  } else if (rm === 5 && mod === 0) {
    disp = fetch32();
    lo = disp;
    if (d.cpu.mode64) ripRel = true;
  } else {
    rm |= d.rexB;
    lo = R[2 * rm]! >>> 0;
    hi = R[2 * rm + 1]!;
    recBase = rm;
    if ((rm & 7) === 5) seg = 2;
  }
  if (mod === 1) { const v = fetchS8(); lo += v; disp += v; }
  else if (mod === 2) { const v = fetch32(); lo += v; disp += v; }
  d.recModrmOk = true;
  d.recModrmEnd = d.ip - d.ipStart;
  d.recBase = recBase;
  d.recIndex = recIndex;
  d.recScale = recScale;
  d.recDisp = disp | 0;
  d.recFlags = ripRel ? DCF_ISMEM | DCF_RIPREL : DCF_ISMEM;
  if (ripRel) {
    // RIP-relative: from the end of the instruction (immediates included).
    const end = d.ip + immBytes;
    d.ea = d.adsize === 8 ? addWrap64(end, lo) : (end + lo) >>> 0;
    d.eaLo = d.ea | 0;
    d.eaHi = d.adsize === 8 ? Math.floor(d.ea / TWO32) | 0 : 0;
    d.eaSeg = d.segOverride >= 0 ? d.segOverride : 3;
    return;
  }
  if (d.adsize === 8) {
    const h = (hi + Math.floor(lo / TWO32)) | 0;
    d.ea = h * TWO32 + (lo >>> 0);
    d.eaLo = lo | 0;
    d.eaHi = h;
  } else {
    d.ea = lo >>> 0;
    d.eaLo = d.ea | 0;
    d.eaHi = 0;
  }
  d.eaSeg = d.segOverride >= 0 ? d.segOverride : seg;
}

/**
 * decodeModrm for an instruction found in the decode cache: the fields come from entry
 * d.rpl, the effective address is recomputed from the current registers exactly as the
 * decode computes it (32/64-bit addressing only; 16-bit forms are not replayed).
 */
function replayModrm(immBytes: number): void {
  const c = d.cpu.dcache;
  const i = d.rpl;
  d.rpl = -1;
  const m = c.modrm[i]!;
  d.modrm = m;
  d.mod = m >> 6;
  d.reg = c.reg[i]!;
  d.rm = c.rm[i]!;
  d.ip = d.ipStart + c.modrmEnd[i]!;
  const f = c.flags[i]!;
  if ((f & DCF_ISMEM) === 0) {
    d.isMem = false;
    return;
  }
  d.isMem = true;
  d.eaSeg = c.eaSeg[i]!;
  const disp = c.disp[i]!;
  if (f & DCF_RIPREL) {
    const end = d.ip + immBytes;
    d.ea = d.adsize === 8 ? addWrap64(end, disp) : (end + disp) >>> 0;
    d.eaLo = d.ea | 0;
    d.eaHi = d.adsize === 8 ? Math.floor(d.ea / TWO32) | 0 : 0;
    return;
  }
  const R = d.regs;
  let lo = disp;
  let hi = 0;
  const index = c.index[i]!;
  if (index >= 0) {
    const scale = c.scale[i]!;
    lo += (R[2 * index]! >>> 0) * scale;
    hi += R[2 * index + 1]! * scale;
  }
  const base = c.base[i]!;
  if (base >= 0) {
    lo += R[2 * base]! >>> 0;
    hi += R[2 * base + 1]!;
  }
  if (d.adsize === 8) {
    const h = (hi + Math.floor(lo / TWO32)) | 0;
    d.ea = h * TWO32 + (lo >>> 0);
    d.eaLo = lo | 0;
    d.eaHi = h;
  } else {
    d.ea = lo >>> 0;
    d.eaLo = d.ea | 0;
    d.eaHi = 0;
  }
}

/** a + b (b a signed 32-bit displacement) in 64-bit wraparound, signed result. */
/**
 * A RIP-relative operand decoded with decodeModrm(0) whose instruction turns out to have
 * `n` immediate bytes after it (group 3's TEST): move the address to the instruction's end.
 */
export function ripRelPastImmediate(n: number): void {
  d.ea = d.adsize === 8 ? addWrap64(d.ea, n) : (d.ea + n) >>> 0;
  d.eaLo = d.ea | 0;
  d.eaHi = d.adsize === 8 ? Math.floor(d.ea / TWO32) | 0 : 0;
}

export function addWrap64(a: number, b: number): number {
  let r = a + b;
  if (r >= 0x8000_0000_0000_0000) r -= 0x1_0000_0000_0000_0000;
  else if (r < -0x8000_0000_0000_0000) r += 0x1_0000_0000_0000_0000;
  return r;
}

/** Truncate an offset to the address size. */
export function truncAddr(off: number): number {
  if (d.adsize === 2) return off & 0xffff;
  if (d.adsize === 4) return off >>> 0;
  return off;
}

/** The linear address of the memory operand for an access of `bytes` (segment checks). */
export function eaLinear(bytes: number, write: boolean): number {
  return d.cpu.linear(d.eaSeg, d.ea, bytes, write);
}

export function readMem(la: number, bytes: number): number {
  const cpu = d.cpu;
  switch (bytes) {
    case 1: return cpu.read8(la);
    case 2: return cpu.read16(la);
    case 4: return cpu.read32(la);
    default: {
      const lo = cpu.read64(la);
      d.hi = cpu.hi;
      return lo;
    }
  }
}

export function writeMem(la: number, bytes: number, lo: number, hi: number): void {
  const cpu = d.cpu;
  switch (bytes) {
    case 1: cpu.write8(la, lo); return;
    case 2: cpu.write16(la, lo); return;
    case 4: cpu.write32(la, lo); return;
    default: cpu.write64(la, lo, hi);
  }
}

/** Read the r/m operand (register or memory). */
export function readRm(bytes: number): number {
  if (!d.isMem) return getReg(bytes, d.rm);
  return readMem(eaLinear(bytes, false), bytes);
}

/** Write the r/m operand (register or memory). */
export function writeRm(bytes: number, lo: number, hi: number): void {
  if (!d.isMem) setReg(bytes, d.rm, lo, hi);
  else writeMem(eaLinear(bytes, true), bytes, lo, hi);
}
