/**
 * The 0F 38 and 0F 3A maps: SSSE3 (MMX and XMM forms), SSE4.1 and SSE4.2 (PCMPGTQ here;
 * PCMPxSTRx and CRC32 in sse42.ts) (SDM Vol. 2 opcode map Tables ).
 */
import type { FpuSseHost } from './host';
import { CR0_NE, CR4_OSXMMEXCPT, EA_REG, X86_VEC_GP, X86_VEC_MF, X86_VEC_UD, X86_VEC_XM } from './host';
import type { FpuSseState } from './state';
import { FSW_ES } from './state';
import { A16, A32, A8, B16, B32, B8, R16, R32, R8 } from './packed-int';
import { crc32, pcmpstr } from './sse42';
import { OP_ADD, OP_MUL, f32Arith, f64Arith, r64hi, r64lo, roundIntegral32, roundIntegral64, sf, sseBegin } from './sse-float';

const As8 = new Int8Array(A8.buffer);
const As16 = new Int16Array(A8.buffer);
const As32 = new Int32Array(A8.buffer);
const Bs8 = new Int8Array(B8.buffer);
const Bs16 = new Int16Array(B8.buffer);
const Bs32 = new Int32Array(B8.buffer);

const P_NONE = 1;
const P_66 = 2;
const P_F2 = 8;
const MAP38 = new Uint8Array(256);
const MAP3A = new Uint8Array(256);
for (let op = 0x00; op <= 0x0b; op++) MAP38[op] = P_NONE | P_66;
for (const op of [0x1c, 0x1d, 0x1e]) MAP38[op] = P_NONE | P_66;
for (const op of [0x10, 0x14, 0x15, 0x17, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2a, 0x2b,
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41]) MAP38[op] = P_66;
MAP3A[0x0f] = P_NONE | P_66;
MAP38[0xf0] = P_F2;
MAP38[0xf1] = P_F2;
for (const op of [0x60, 0x61, 0x62, 0x63]) MAP3A[op] = P_66;
for (const op of [0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x40, 0x41, 0x42]) MAP3A[op] = P_66;

/** PMOVSX/PMOVZX BW BD BQ WD WQ DQ: element sizes in bytes. */
const PMOV_SRC = new Uint8Array([1, 1, 1, 2, 2, 4]);
const PMOV_DST = new Uint8Array([2, 4, 8, 4, 8, 8]);
/** DPPS products (no allocation per instruction). */
const DP = new Uint32Array(4);

export function isSse4Opcode(map: 0x0f38 | 0x0f3a, op: number, prefix: number): boolean {
  const bit = prefix === 0 ? P_NONE : prefix === 0x66 ? P_66 : prefix === 0xf2 ? P_F2 : 0;
  return ((map === 0x0f38 ? MAP38 : MAP3A)[op & 0xff]! & bit) !== 0;
}

function loadSrc(st: FpuSseState, host: FpuSseHost, rm: number, ea: number, bytes: number, align: boolean, mmx: boolean): void {
  B32[0] = 0; B32[1] = 0; B32[2] = 0; B32[3] = 0;
  if (ea === EA_REG) {
    if (mmx) { B32[0] = st.fprMant[2 * (rm & 7)]!; B32[1] = st.fprMant[2 * (rm & 7) + 1]!; return; }
    for (let i = 0; i < 4; i++) B32[i] = st.xmm[4 * rm + i]!;
    return;
  }
  if (align && (ea & 15) !== 0) host.raise(X86_VEC_GP, 0);
  if (bytes === 2) { B32[0] = host.read16(ea); return; }
  for (let i = 0; i < bytes >> 2; i++) B32[i] = host.read32(ea + 4 * i);
}

function loadDst(st: FpuSseState, reg: number, mmx: boolean): void {
  if (mmx) { A32[0] = st.fprMant[2 * (reg & 7)]!; A32[1] = st.fprMant[2 * (reg & 7) + 1]!; A32[2] = 0; A32[3] = 0; return; }
  for (let i = 0; i < 4; i++) A32[i] = st.xmm[4 * reg + i]!;
}

function store(st: FpuSseState, reg: number, mmx: boolean): void {
  if (mmx) {
    const i = reg & 7;
    st.top = 0;
    st.ftwAbridged = 0xff;
    st.fprMant[2 * i] = R32[0]!; st.fprMant[2 * i + 1] = R32[1]!; st.fprExp[i] = 0xffff;
    return;
  }
  for (let i = 0; i < 4; i++) st.xmm[4 * reg + i] = R32[i]!;
}

function copyA(): void { R32[0] = A32[0]!; R32[1] = A32[1]!; R32[2] = A32[2]!; R32[3] = A32[3]!; }
function ss16(v: number): number { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }

function simdCommit(st: FpuSseState, host: FpuSseHost): void {
  let f = sf.flags;
  if ((f & ~sf.masks & 0x07) !== 0) f &= 0x07; // as in sse-exec.ts
  st.mxcsr |= f;
  if ((f & ~sf.masks & 0x3f) !== 0) host.raise((host.cr4 & CR4_OSXMMEXCPT) !== 0 ? X86_VEC_XM : X86_VEC_UD);
}

/** Signed 32x32 -> 64 product into R32[i], R32[i+1]. */
function muls32(a: number, b: number, i: number): void {
  const neg = (a < 0) !== (b < 0);
  const ua = Math.abs(a); const ub = Math.abs(b);
  const al = ua % 0x10000; const ah = Math.floor(ua / 0x10000);
  const bl = ub % 0x10000; const bh = Math.floor(ub / 0x10000);
  const ll = al * bl; const mid = ah * bl + al * bh; const hh = ah * bh;
  const lo = ll + (mid % 0x10000) * 0x10000;
  let rlo = lo % 0x1_0000_0000;
  let rhi = hh + Math.floor(mid / 0x10000) + Math.floor(lo / 0x1_0000_0000);
  if (neg) { // two's complement of the 64-bit magnitude
    const nlo = (0x1_0000_0000 - rlo) % 0x1_0000_0000;
    rhi = (~rhi + (rlo === 0 ? 1 : 0)) >>> 0;
    rlo = nlo;
  }
  R32[i] = rlo >>> 0;
  R32[i + 1] = rhi >>> 0;
}

export function execSse4(st: FpuSseState, host: FpuSseHost, map: 0x0f38 | 0x0f3a, op: number, prefix: number,
  reg: number, rm: number, ea: number, rexW: boolean, imm8: number): void {
  if (!isSse4Opcode(map, op, prefix)) host.raise(X86_VEC_UD);
  if (map === 0x0f38 && op >= 0xf0) { crc32(host, op, reg, rm, ea, rexW); return; }
  if (map === 0x0f3a && op >= 0x60) { // PCMPxSTRx: unaligned m128 allowed (SDM 4.1.1)
    for (let i = 0; i < 4; i++) A32[i] = st.xmm[4 * reg + i]!;
    loadSrc(st, host, rm, ea, 16, false, false);
    pcmpstr(st, host, op, rexW, imm8);
    return;
  }
  const mmx = prefix === 0;
  const len = mmx ? 8 : 16;
  // MMX forms (SSSE3): #MF first; the x87 -> MMX transition happens in store(), after
  // every memory access, so a faulting instruction changes nothing.
  if (mmx && (st.fswBits & FSW_ES) !== 0 && (host.cr0 & CR0_NE) !== 0) host.raise(X86_VEC_MF);
  if (map === 0x0f3a) return exec3a(st, host, op, reg, rm, ea, rexW, imm8, mmx, len);
  // PMOVSX/PMOVZX read 2..8 bytes; everything else 16 (aligned) or 8 (MMX).
  if (op >= 0x20 && op <= 0x35 && (op & 0xf) <= 5) {
    const k = op & 0xf;
    const bytes = k === 2 ? 2 : k === 1 || k === 4 ? 4 : 8;
    loadSrc(st, host, rm, ea, bytes, false, false);
    const zx = op >= 0x30;
    const se = PMOV_SRC[k]!; // source element bytes
    const de = PMOV_DST[k]!; // destination element bytes
    for (let i = 0; i < 16 / de; i++) {
      let v: number;
      if (se === 1) v = zx ? B8[i]! : Bs8[i]!;
      else if (se === 2) v = zx ? B16[i]! : Bs16[i]!;
      else v = zx ? B32[i]! : Bs32[i]!;
      if (de === 2) R16[i] = v;
      else if (de === 4) R32[i] = v;
      else { R32[2 * i] = v; R32[2 * i + 1] = v < 0 ? 0xffffffff : 0; }
    }
    store(st, reg, false);
    return;
  }
  if (op === 0x2a) { // MOVNTDQA
    if (ea === EA_REG) host.raise(X86_VEC_UD);
    loadSrc(st, host, rm, ea, 16, true, false);
    R32.set(B32);
    store(st, reg, false);
    return;
  }
  loadDst(st, reg, mmx);
  loadSrc(st, host, rm, ea, len, !mmx, mmx);
  const n8 = len; const n16 = len >> 1; const n32 = len >> 2;
  switch (op) {
    case 0x00: for (let i = 0; i < n8; i++) R8[i] = B8[i]! & 0x80 ? 0 : A8[B8[i]! & (n8 - 1)]!; break;
    case 0x01: case 0x03: case 0x05: case 0x07: { // PHADDW PHADDSW PHSUBW PHSUBSW
      const sub = op >= 0x05; const sat = op === 0x03 || op === 0x07;
      for (let i = 0; i < n16 / 2; i++) {
        const x = sub ? As16[2 * i]! - As16[2 * i + 1]! : As16[2 * i]! + As16[2 * i + 1]!;
        const y = sub ? Bs16[2 * i]! - Bs16[2 * i + 1]! : Bs16[2 * i]! + Bs16[2 * i + 1]!;
        R16[i] = sat ? ss16(x) : x;
        R16[n16 / 2 + i] = sat ? ss16(y) : y;
      }
      break;
    }
    case 0x02: case 0x06: { // PHADDD PHSUBD
      const sub = op === 0x06;
      for (let i = 0; i < n32 / 2; i++) {
        R32[i] = sub ? A32[2 * i]! - A32[2 * i + 1]! : A32[2 * i]! + A32[2 * i + 1]!;
        R32[n32 / 2 + i] = sub ? B32[2 * i]! - B32[2 * i + 1]! : B32[2 * i]! + B32[2 * i + 1]!;
      }
      break;
    }
    case 0x04: for (let i = 0; i < n16; i++) R16[i] = ss16(A8[2 * i]! * Bs8[2 * i]! + A8[2 * i + 1]! * Bs8[2 * i + 1]!); break;
    case 0x08: for (let i = 0; i < n8; i++) R8[i] = Bs8[i]! < 0 ? -As8[i]! : Bs8[i] === 0 ? 0 : A8[i]!; break;
    case 0x09: for (let i = 0; i < n16; i++) R16[i] = Bs16[i]! < 0 ? -As16[i]! : Bs16[i] === 0 ? 0 : A16[i]!; break;
    case 0x0a: for (let i = 0; i < n32; i++) R32[i] = Bs32[i]! < 0 ? -As32[i]! : Bs32[i] === 0 ? 0 : A32[i]!; break;
    case 0x0b: for (let i = 0; i < n16; i++) R16[i] = (((As16[i]! * Bs16[i]!) >> 14) + 1) >> 1; break;
    case 0x1c: for (let i = 0; i < n8; i++) R8[i] = Math.abs(Bs8[i]!); break;
    case 0x1d: for (let i = 0; i < n16; i++) R16[i] = Math.abs(Bs16[i]!); break;
    case 0x1e: for (let i = 0; i < n32; i++) R32[i] = Math.abs(Bs32[i]!); break;
    case 0x10: { // PBLENDVB (mask XMM0)
      for (let i = 0; i < 16; i++) R8[i] = ((st.xmm[i >> 2]! >>> (8 * (i & 3))) & 0x80) ? B8[i]! : A8[i]!;
      break;
    }
    case 0x14: for (let i = 0; i < 4; i++) R32[i] = st.xmm[i]! & 0x80000000 ? B32[i]! : A32[i]!; break;
    case 0x15:
      for (let i = 0; i < 4; i += 2) {
        const m = st.xmm[i + 1]! & 0x80000000;
        R32[i] = m ? B32[i]! : A32[i]!; R32[i + 1] = m ? B32[i + 1]! : A32[i + 1]!;
      }
      break;
    case 0x17: { // PTEST: ZF = (dst AND src) = 0, CF = (NOT dst AND src) = 0
      let and = 0; let andn = 0;
      for (let i = 0; i < 4; i++) { and |= A32[i]! & B32[i]!; andn |= ~A32[i]! & B32[i]!; }
      host.setArithFlags(and === 0 ? 1 : 0, 0, andn === 0 ? 1 : 0);
      return;
    }
    case 0x28: muls32(As32[0]!, Bs32[0]!, 0); muls32(As32[2]!, Bs32[2]!, 2); break;
    case 0x29: case 0x37:
      for (let q = 0; q < 2; q++) {
        const ahi = As32[2 * q + 1]!; const bhi = Bs32[2 * q + 1]!;
        const alo = A32[2 * q]!; const blo = B32[2 * q]!;
        const t = op === 0x29 ? ahi === bhi && alo === blo : ahi > bhi || (ahi === bhi && alo > blo);
        R32[2 * q] = t ? 0xffffffff : 0; R32[2 * q + 1] = t ? 0xffffffff : 0;
      }
      break;
    case 0x2b:
      for (let i = 0; i < 4; i++) {
        const a = As32[i]!; const b = Bs32[i]!;
        R16[i] = a < 0 ? 0 : a > 65535 ? 65535 : a;
        R16[4 + i] = b < 0 ? 0 : b > 65535 ? 65535 : b;
      }
      break;
    case 0x38: for (let i = 0; i < 16; i++) R8[i] = Math.min(As8[i]!, Bs8[i]!); break;
    case 0x39: for (let i = 0; i < 4; i++) R32[i] = Math.min(As32[i]!, Bs32[i]!); break;
    case 0x3a: for (let i = 0; i < 8; i++) R16[i] = Math.min(A16[i]!, B16[i]!); break;
    case 0x3b: for (let i = 0; i < 4; i++) R32[i] = Math.min(A32[i]!, B32[i]!); break;
    case 0x3c: for (let i = 0; i < 16; i++) R8[i] = Math.max(As8[i]!, Bs8[i]!); break;
    case 0x3d: for (let i = 0; i < 4; i++) R32[i] = Math.max(As32[i]!, Bs32[i]!); break;
    case 0x3e: for (let i = 0; i < 8; i++) R16[i] = Math.max(A16[i]!, B16[i]!); break;
    case 0x3f: for (let i = 0; i < 4; i++) R32[i] = Math.max(A32[i]!, B32[i]!); break;
    case 0x40: for (let i = 0; i < 4; i++) R32[i] = Math.imul(A32[i]!, B32[i]!); break;
    default: { // 0x41 PHMINPOSUW
      let m = 0;
      for (let i = 1; i < 8; i++) if (B16[i]! < B16[m]!) m = i;
      R32[0] = B16[m]! | (m << 16); R32[1] = 0; R32[2] = 0; R32[3] = 0;
    }
  }
  store(st, reg, mmx);
}

function exec3a(st: FpuSseState, host: FpuSseHost, op: number, reg: number, rm: number, ea: number, rexW: boolean,
  imm8: number, mmx: boolean, len: number): void {
  const isMem = ea !== EA_REG;
  switch (op) {
    case 0x14: case 0x15: case 0x16: case 0x17: { // PEXTRB PEXTRW PEXTRD/Q EXTRACTPS: xmm(reg) -> r/m
      const x = st.xmm;
      let lo: number; let hi = 0; let bytes: number;
      if (op === 0x14) { lo = (x[4 * reg + ((imm8 & 15) >> 2)]! >>> (8 * (imm8 & 3))) & 0xff; bytes = 1; }
      else if (op === 0x15) { lo = (x[4 * reg + ((imm8 & 7) >> 1)]! >>> (16 * (imm8 & 1))) & 0xffff; bytes = 2; }
      else if (op === 0x16 && rexW) { lo = x[4 * reg + 2 * (imm8 & 1)]!; hi = x[4 * reg + 2 * (imm8 & 1) + 1]!; bytes = 8; }
      else { lo = x[4 * reg + (imm8 & 3)]!; bytes = 4; }
      if (!isMem) {
        if (bytes === 8) host.setGpr64(rm, lo, hi); else host.setGpr32(rm, lo);
        return;
      }
      host.probeWrite(ea, bytes);
      if (bytes === 1) host.write8(ea, lo);
      else if (bytes === 2) host.write16(ea, lo);
      else { host.write32(ea, lo); if (bytes === 8) host.write32(ea + 4, hi); }
      return;
    }
    case 0x20: case 0x22: { // PINSRB PINSRD/Q
      let lo: number; let hi = 0;
      if (op === 0x20) lo = isMem ? host.read8(ea) : host.getGpr32(rm) & 0xff;
      else if (isMem) { lo = host.read32(ea); if (rexW) hi = host.read32(ea + 4); }
      else { lo = host.getGpr32(rm); hi = host.getGprHi32(rm); }
      loadDst(st, reg, false); copyA();
      if (op === 0x20) R8[imm8 & 15] = lo;
      else if (rexW) { R32[2 * (imm8 & 1)] = lo; R32[2 * (imm8 & 1) + 1] = hi; }
      else R32[imm8 & 3] = lo;
      store(st, reg, false);
      return;
    }
    case 0x21: { // INSERTPS
      const v = isMem ? host.read32(ea) : st.xmm[4 * rm + ((imm8 >> 6) & 3)]!;
      loadDst(st, reg, false); copyA();
      R32[(imm8 >> 4) & 3] = v;
      for (let i = 0; i < 4; i++) if (imm8 & (1 << i)) R32[i] = 0;
      store(st, reg, false);
      return;
    }
    default: break;
  }
  const scalar = op === 0x0a ? 4 : op === 0x0b ? 8 : 0;
  loadDst(st, reg, mmx);
  loadSrc(st, host, rm, ea, scalar || len, scalar === 0 && !mmx, mmx);
  copyA();
  switch (op) {
    case 0x0f: // PALIGNR: (dst:src) >> imm8 bytes
      for (let i = 0; i < len; i++) { const k = i + imm8; R8[i] = k < len ? B8[k]! : k < 2 * len ? A8[k - len]! : 0; }
      break;
    case 0x08: case 0x09: case 0x0a: case 0x0b: { // ROUNDPS/PD/SS/SD
      sseBegin(st.mxcsr);
      const rc = imm8 & 4 ? sf.rc : imm8 & 3;
      const noPe = (imm8 & 8) !== 0;
      if (op === 0x08) for (let i = 0; i < 4; i++) R32[i] = roundIntegral32(B32[i]!, rc, noPe);
      else if (op === 0x0a) R32[0] = roundIntegral32(B32[0]!, rc, noPe);
      else {
        for (let i = 0; i < (op === 0x09 ? 4 : 2); i += 2) {
          roundIntegral64(B32[i]!, B32[i + 1]!, rc, noPe);
          R32[i] = r64lo; R32[i + 1] = r64hi;
        }
      }
      simdCommit(st, host);
      break;
    }
    case 0x0c: for (let i = 0; i < 4; i++) if (imm8 & (1 << i)) R32[i] = B32[i]!; break;
    case 0x0d: for (let i = 0; i < 2; i++) if (imm8 & (1 << i)) { R32[2 * i] = B32[2 * i]!; R32[2 * i + 1] = B32[2 * i + 1]!; } break;
    case 0x0e: for (let i = 0; i < 8; i++) if (imm8 & (1 << i)) R16[i] = B16[i]!; break;
    case 0x40: { // DPPS: products of the selected lanes, summed pairwise, broadcast
      sseBegin(st.mxcsr);
      for (let i = 0; i < 4; i++) DP[i] = imm8 & (0x10 << i) ? f32Arith(OP_MUL, A32[i]!, B32[i]!) : 0;
      const s = f32Arith(OP_ADD, f32Arith(OP_ADD, DP[0]!, DP[1]!), f32Arith(OP_ADD, DP[2]!, DP[3]!));
      for (let i = 0; i < 4; i++) R32[i] = imm8 & (1 << i) ? s : 0;
      simdCommit(st, host);
      break;
    }
    case 0x41: { // DPPD
      sseBegin(st.mxcsr);
      let p0lo = 0; let p0hi = 0; let p1lo = 0; let p1hi = 0;
      if (imm8 & 0x10) { f64Arith(OP_MUL, A32[0]!, A32[1]!, B32[0]!, B32[1]!); p0lo = r64lo; p0hi = r64hi; }
      if (imm8 & 0x20) { f64Arith(OP_MUL, A32[2]!, A32[3]!, B32[2]!, B32[3]!); p1lo = r64lo; p1hi = r64hi; }
      f64Arith(OP_ADD, p0lo, p0hi, p1lo, p1hi);
      for (let i = 0; i < 2; i++) { R32[2 * i] = imm8 & (1 << i) ? r64lo : 0; R32[2 * i + 1] = imm8 & (1 << i) ? r64hi : 0; }
      simdCommit(st, host);
      break;
    }
    default: { // 0x42 MPSADBW
      const so = (imm8 & 3) * 4; const d0 = imm8 & 4;
      for (let i = 0; i < 8; i++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += Math.abs(A8[d0 + i + j]! - B8[so + j]!);
        R16[i] = s;
      }
    }
  }
  store(st, reg, mmx);
}
