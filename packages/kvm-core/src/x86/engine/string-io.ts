/**
 * String instructions (MOVS CMPS STOS LODS SCAS INS OUTS) with REP/REPE/REPNE, both
 * directions and every address size, and port I/O (IN/OUT) with the I/O permission
 * checks (IOPL, the TSS I/O bitmap; SDM Vol. 1 chapter 19).
 */
import { alu, alu64 } from './alu';
import { FLAG_DF, FLAG_IOPL, FLAG_VM, FLAG_ZF, GP_VECTOR } from './constants';
import { ACCESS_READ, ACCESS_WRITE, type X86Cpu } from './cpu';
import { d, fetch8, getReg, readMem, setReg, writeMem } from './decoder';
import { EXIT } from './fault';
import { ENGINE_EXIT_IO } from './guest-mode';

const TWO32 = 0x1_0000_0000;
/** Iterations of a REP string instruction per step before yielding (interrupts are taken between). */
const REP_CHUNK = 4096;

/** Index register (RSI=6 / RDI=7 / RCX=1) by address size. */
function getIdx(r: number): number {
  const R = d.regs;
  if (d.adsize === 8) return R[2 * r + 1]! * TWO32 + (R[2 * r]! >>> 0);
  if (d.adsize === 4) return R[2 * r]! >>> 0;
  return R[2 * r]! & 0xffff;
}

function setIdx(r: number, v: number): void {
  const R = d.regs;
  if (d.adsize === 8) {
    R[2 * r] = v | 0;
    R[2 * r + 1] = Math.floor(v / TWO32) | 0;
  } else if (d.adsize === 4) {
    R[2 * r] = v | 0;
    R[2 * r + 1] = 0;
  } else {
    R[2 * r] = (R[2 * r]! & ~0xffff) | (v & 0xffff);
  }
}

function advance(v: number, delta: number): number {
  const r = v + delta;
  if (d.adsize === 8) {
    if (r >= 0x8000_0000_0000_0000) return r - 0x1_0000_0000_0000_0000;
    if (r < -0x8000_0000_0000_0000) return r + 0x1_0000_0000_0000_0000;
    return r;
  }
  return d.adsize === 4 ? r >>> 0 : r & 0xffff;
}

/** Is RCX (by address size) zero? */
function countZero(): boolean {
  const R = d.regs;
  if (d.adsize === 8) return (R[2]! | R[3]!) === 0;
  if (d.adsize === 4) return R[2] === 0;
  return (R[2]! & 0xffff) === 0;
}

function decCount(): void {
  const R = d.regs;
  if (d.adsize === 8) {
    if (R[2] === 0) R[3] = (R[3]! - 1) | 0;
    R[2] = (R[2]! - 1) | 0;
  } else if (d.adsize === 4) {
    R[2] = (R[2]! - 1) | 0;
    R[3] = 0;
  } else {
    R[2] = (R[2]! & ~0xffff) | ((R[2]! - 1) & 0xffff);
  }
}

/**
 * REP MOVS/STOS forwards (DF=0, 32/64-bit addressing) while each side stays on one page
 * that the TLB maps as RAM: the iterations up to the nearer page end, RCX or `max` run as
 * one copy or fill, exactly as the element loop would run them (the first element's
 * segment checks are the loop's own, the rest of the run is inside a 4 GiB segment, and a
 * forward copy only takes this path when source and destination do not overlap). Returns
 * the elements done with RSI/RDI/RCX updated, or 0 to take the element loop (a page not
 * in the TLB, MMIO, a page crossing, a segment with a limit).
 */
function repBulk(cpu: X86Cpu, op: number, bytes: number, srcSeg: number, max: number): number {
  const R = d.regs;
  const count = d.adsize === 8 ? R[3]! * TWO32 + (R[2]! >>> 0) : R[2]! >>> 0;
  const movs = op === 0xa4 || op === 0xa5;
  let si = 0;
  let sla = 0;
  let se = -1;
  if (movs) {
    si = getIdx(6);
    sla = cpu.linear(srcSeg, si, bytes, false);
    se = cpu.tlbEntry(sla, ACCESS_READ);
    if (se < 0 || !wholeSegment(cpu, srcSeg)) return 0;
  }
  const di = getIdx(7);
  const dla = cpu.linear(0, di, bytes, true);
  const de = cpu.tlbEntry(dla, ACCESS_WRITE);
  if (de < 0 || !wholeSegment(cpu, 0)) return 0;
  let k = Math.min(count, max, Math.floor((4096 - (dla & 0xfff)) / bytes));
  if (movs) k = Math.min(k, Math.floor((4096 - (sla & 0xfff)) / bytes));
  const n = k * bytes;
  // 32-bit addressing wraps RSI/RDI at 4 GiB: leave that to the element loop.
  if (k < 2 || (d.adsize === 4 && (di + n > TWO32 || (movs && si + n > TWO32)))) return 0;
  const dm = cpu.tlbMem[de]!;
  const dp = cpu.tlbOff[de]! + (dla & 0xfff);
  if (movs) {
    const sm = cpu.tlbMem[se]!;
    const sp = cpu.tlbOff[se]! + (sla & 0xfff);
    if (sm.buffer === dm.buffer) {
      const s0 = sm.byteOffset + sp;
      const d0 = dm.byteOffset + dp;
      if (s0 < d0 + n && d0 < s0 + n) return 0;
    }
    if (sm === dm) dm.copyWithin(dp, sp, sp + n);
    else dm.set(sm.subarray(sp, sp + n), dp);
    setIdx(6, advance(si, n));
  } else {
    const lo = R[0]!;
    const hi = bytes === 8 ? R[1]! : lo;
    const b = lo & 0xff;
    // One byte repeated (zeroing pages with STOSQ: the usual case): one native fill.
    // Otherwise the first element, then copies of what is written so far, doubling.
    const same = bytes === 1 || (bytes === 2 ? ((lo >> 8) & 0xff) === b : lo === ((b * 0x01010101) | 0) && hi === lo);
    if (same) {
      dm.fill(b, dp, dp + n);
    } else {
      for (let j = 0; j < bytes; j++) dm[dp + j] = (j < 4 ? lo : hi) >> (8 * (j & 3));
      for (let w = bytes; w < n; w *= 2) dm.copyWithin(dp + w, dp, dp + Math.min(w, n - w));
    }
  }
  setIdx(7, advance(di, n));
  const left = count - k;
  if (d.adsize === 8) {
    R[2] = left | 0;
    R[3] = Math.floor(left / TWO32) | 0;
  } else {
    R[2] = left | 0;
    R[3] = 0;
  }
  return k;
}

/** Offsets anywhere in 4 GiB are inside the segment (64-bit mode, or a 4 GiB limit). */
function wholeSegment(cpu: X86Cpu, seg: number): boolean {
  return cpu.mode64 || cpu.segLimit[seg] === 0xffffffff;
}

export function execString(cpu: X86Cpu, op: number): void {
  const bytes = op & 1 ? d.opsize : 1;
  const ioBytes = op & 1 ? (d.opsize === 2 ? 2 : 4) : 1;
  const rep = d.rep;
  const delta0 = cpu.flags & FLAG_DF ? -1 : 1;
  const srcSeg = d.segOverride >= 0 ? d.segOverride : 3;
  const isIns = op === 0x6c || op === 0x6d;
  const isOuts = op === 0x6e || op === 0x6f;
  if (isIns || isOuts) {
    const port = d.regs[4]! & 0xffff;
    checkIoPermission(cpu, port, ioBytes);
    const e = cpu.exit;
    e.port = port;
    e.size = ioBytes;
    e.isIn = isIns;
    e.isString = true;
    e.isRep = rep !== 0;
    e.addrSize = d.adsize * 8;
    e.segment = isIns ? 0 : srcSeg;
    e.valueLo = 0;
    e.reason = ENGINE_EXIT_IO;
    e.instrLen = d.ip - d.ipStart;
    if (cpu.controller.intercept(cpu, e)) throw EXIT;
  }
  if (rep !== 0 && countZero()) return;
  const bulk = rep !== 0 && delta0 === 1 && d.adsize !== 2 && (op === 0xa4 || op === 0xa5 || op === 0xaa || op === 0xab);
  for (let n = 0; n < REP_CHUNK; n++) {
    if (bulk) {
      const k = repBulk(cpu, op, bytes, srcSeg, REP_CHUNK - n);
      if (k > 0) {
        n += k - 1;
        if (countZero()) return;
        continue;
      }
    }
    let stop = false;
    switch (op) {
      case 0xa4: case 0xa5: { // MOVS
        const si = getIdx(6);
        const di = getIdx(7);
        const v = readMem(cpu.linear(srcSeg, si, bytes, false), bytes);
        writeMem(cpu.linear(0, di, bytes, true), bytes, v, d.hi);
        setIdx(6, advance(si, delta0 * bytes));
        setIdx(7, advance(di, delta0 * bytes));
        break;
      }
      case 0xa6: case 0xa7: { // CMPS: [rSI] - [rDI]
        const si = getIdx(6);
        const di = getIdx(7);
        const a = readMem(cpu.linear(srcSeg, si, bytes, false), bytes);
        const ahi = d.hi;
        const b = readMem(cpu.linear(0, di, bytes, false), bytes);
        if (bytes === 8) alu64(cpu, 7, a, ahi, b, d.hi);
        else alu(cpu, 7, bytes, a, b);
        setIdx(6, advance(si, delta0 * bytes));
        setIdx(7, advance(di, delta0 * bytes));
        stop = true;
        break;
      }
      case 0xaa: case 0xab: { // STOS
        const di = getIdx(7);
        const v = getReg(bytes, 0);
        writeMem(cpu.linear(0, di, bytes, true), bytes, v, d.hi);
        setIdx(7, advance(di, delta0 * bytes));
        break;
      }
      case 0xac: case 0xad: { // LODS
        const si = getIdx(6);
        const v = readMem(cpu.linear(srcSeg, si, bytes, false), bytes);
        setReg(bytes, 0, v, d.hi);
        setIdx(6, advance(si, delta0 * bytes));
        break;
      }
      case 0xae: case 0xaf: { // SCAS: rAX - [rDI]
        const di = getIdx(7);
        const b = readMem(cpu.linear(0, di, bytes, false), bytes);
        const bhi = d.hi;
        const a = getReg(bytes, 0);
        if (bytes === 8) alu64(cpu, 7, a, d.hi, b, bhi);
        else alu(cpu, 7, bytes, a, b);
        setIdx(7, advance(di, delta0 * bytes));
        stop = true;
        break;
      }
      case 0x6c: case 0x6d: { // INS
        const di = getIdx(7);
        const la = cpu.linear(0, di, ioBytes, true);
        cpu.probeWrite(la, ioBytes);
        const v = portIn(cpu, d.regs[4]! & 0xffff, ioBytes);
        writeMem(la, ioBytes, v, 0);
        setIdx(7, advance(di, delta0 * ioBytes));
        break;
      }
      default: { // OUTS
        const si = getIdx(6);
        const v = readMem(cpu.linear(srcSeg, si, ioBytes, false), ioBytes);
        portOut(cpu, d.regs[4]! & 0xffff, ioBytes, v);
        setIdx(6, advance(si, delta0 * ioBytes));
        break;
      }
    }
    if (rep === 0) return;
    decCount();
    if (countZero()) return;
    if (stop) {
      const zf = (cpu.flags & FLAG_ZF) !== 0;
      if (rep === 0xf3 ? !zf : zf) return;
    }
    if (cpu.mmioWritePending) break;
  }
  // Not finished: restart the instruction (RCX/RSI/RDI are already updated).
  d.ip = d.ipStart;
}

/** IN/OUT with an immediate port or DX. */
export function execIo(cpu: X86Cpu, op: number): void {
  const bytes = op & 1 ? (d.opsize === 2 ? 2 : 4) : 1;
  const port = op < 0xe8 ? fetch8() : d.regs[4]! & 0xffff;
  const isIn = (op & 2) === 0;
  checkIoPermission(cpu, port, bytes);
  const e = cpu.exit;
  e.port = port;
  e.size = bytes;
  e.isIn = isIn;
  e.isString = false;
  e.isRep = false;
  e.valueLo = isIn ? 0 : d.regs[0]! & (bytes === 1 ? 0xff : bytes === 2 ? 0xffff : -1);
  e.reason = ENGINE_EXIT_IO;
  e.instrLen = d.ip - d.ipStart;
  if (cpu.controller.intercept(cpu, e)) throw EXIT;
  if (isIn) {
    const v = portIn(cpu, port, bytes);
    setReg(bytes, 0, v, 0);
  } else {
    portOut(cpu, port, bytes, e.valueLo);
  }
}

function portIn(cpu: X86Cpu, port: number, bytes: number): number {
  const hook = cpu.ioRead;
  if (hook === null) return bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff;
  return hook(port, bytes);
}

function portOut(cpu: X86Cpu, port: number, bytes: number, v: number): void {
  const hook = cpu.ioWrite;
  if (hook !== null) hook(port, bytes, v);
}

/** Protected mode with CPL > IOPL, or virtual-8086 mode: consult the TSS I/O permission bitmap. */
export function checkIoPermission(cpu: X86Cpu, port: number, bytes: number): void {
  if (!(cpu.cr0 & 1)) return;
  const vm = (cpu.flags & FLAG_VM) !== 0;
  if (!vm && cpu.cpl <= (cpu.flags & FLAG_IOPL) >> 12) return;
  const trAr = cpu.segAr[6]!;
  const type = trAr & 0xf;
  if (type !== 9 && type !== 0xb) cpu.raise(GP_VECTOR, 0);
  const limit = cpu.segLimit[6]!;
  if (limit < 0x67) cpu.raise(GP_VECTOR, 0);
  const base = cpu.segBase[6]!;
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  try {
    const mapBase = cpu.read16(cpu.longMode ? base + 0x66 : (base + 0x66) >>> 0);
    const off = mapBase + (port >> 3);
    if (off + 1 > limit) cpu.raise(GP_VECTOR, 0);
    const w = cpu.read16(cpu.longMode ? base + off : (base + off) >>> 0);
    const mask = ((1 << bytes) - 1) << (port & 7);
    if (w & mask) cpu.raise(GP_VECTOR, 0);
  } finally {
    cpu.accessUser = saved;
  }
}
