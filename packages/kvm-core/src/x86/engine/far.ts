/**
 * Far control transfers (SDM "JMP", "CALL", "RET"): real-mode and virtual-8086 far
 * jumps, protected-mode transfers to code segments with the conforming/non-conforming
 * rules, call gates (16/32-bit and 64-bit) with the inner-stack switch through the TSS,
 * and far returns to the same or an outer privilege level. Task switches are not
 * implemented (reported as an internal error).
 */
import { AR_DB, AR_L, AR_P, AR_S, AR_TYPE_CODE, AR_TYPE_DC, AR_TYPE_RW, GP_VECTOR, NP_VECTOR, SS_VECTOR, TS_VECTOR } from './constants';
import { isCanonical, type X86Cpu } from './cpu';
import { d, readMem, writeMem } from './decoder';
import { nullifyDataSegments } from './interrupts';
import {
  checkDirectCodeTarget, desc, descAr, descBase, descLimit, loadCacheFromDesc, loadCs, loadSegmentReal, readDescriptor,
  setDescriptorAccessed,
} from './segments';
import { peek, push, setStackPointer, spAdd, stackPointer } from './stack';

const TWO32 = 0x1_0000_0000;

/** The operand size of a far transfer: 64-bit mode uses 4 unless REX.W. */
function farOpsize(): number {
  return d.opsize;
}

/** Set the new IP after a CS load: truncated and checked against the new CS. */
function setTarget(cpu: X86Cpu, off: number, size: number): void {
  let t = size === 2 ? off & 0xffff : size === 4 ? off >>> 0 : off;
  if (cpu.mode64) {
    if (!isCanonical(t)) cpu.raise(GP_VECTOR, 0);
  } else {
    t >>>= 0;
    if (t > cpu.segLimit[1]!) cpu.raise(GP_VECTOR, 0);
  }
  d.ip = t;
}

/** Check the limit of a prospective target before committing CS (so a fault leaves CS unchanged). */
function checkTargetInDesc(cpu: X86Cpu, off: number): void {
  const ar = descAr(desc.hi);
  if (cpu.longMode && (ar & AR_L)) {
    if (!isCanonical(off)) cpu.raise(GP_VECTOR, 0);
  } else if ((off >>> 0) > descLimit(desc.lo, desc.hi)) {
    cpu.raise(GP_VECTOR, 0);
  }
}

export function farJmp(cpu: X86Cpu, sel: number, off: number): void {
  if (!cpu.pmode) {
    loadSegmentReal(cpu, 1, sel);
    cpu.updateMode();
    setTarget(cpu, off, d.opsize);
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(GP_VECTOR, 0);
  readDescriptor(cpu, sel);
  const ar = descAr(desc.hi);
  if (ar & AR_S) {
    if (!(ar & AR_TYPE_CODE)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    checkDirectCodeTarget(cpu, sel);
    checkTargetInDesc(cpu, off);
    loadCs(cpu, sel, cpu.cpl);
    setTarget(cpu, off, cpu.mode64 ? 8 : d.opsize);
    return;
  }
  const type = ar & 0xf;
  if (type === 0x4 || type === 0xc) {
    const gate = readGate(cpu, sel, ar);
    readDescriptor(cpu, gate.sel);
    const car = descAr(desc.hi);
    if ((car & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE)) cpu.raise(GP_VECTOR, gate.sel & 0xfffc);
    const cdpl = (car >> 5) & 3;
    if (car & AR_TYPE_DC ? cdpl > cpu.cpl : cdpl !== cpu.cpl) cpu.raise(GP_VECTOR, gate.sel & 0xfffc);
    if (!(car & AR_P)) cpu.raise(NP_VECTOR, gate.sel & 0xfffc);
    if (cpu.longMode && (!(car & AR_L) || (car & AR_DB))) cpu.raise(GP_VECTOR, gate.sel & 0xfffc);
    checkTargetInDesc(cpu, gate.off);
    loadCs(cpu, gate.sel, cpu.cpl);
    setTarget(cpu, gate.off, cpu.mode64 ? 8 : 4);
    return;
  }
  if (type === 0x5 || type === 0x9 || type === 0x1) {
    cpu.internalError('far JMP to a task gate or TSS: hardware task switching is not implemented');
  }
  cpu.raise(GP_VECTOR, sel & 0xfffc);
}

const gateInfo = { sel: 0, off: 0, params: 0, is32: true };

/** Read a call gate (already in `desc`); checks DPL and presence. */
function readGate(cpu: X86Cpu, sel: number, ar: number): typeof gateInfo {
  const dpl = (ar >> 5) & 3;
  if (dpl < cpu.cpl || dpl < (sel & 3)) cpu.raise(GP_VECTOR, sel & 0xfffc);
  if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
  const lo = desc.lo;
  const hi = desc.hi;
  gateInfo.sel = lo >>> 16;
  gateInfo.is32 = (ar & 8) !== 0;
  gateInfo.params = hi & 0x1f;
  if (cpu.longMode) {
    if ((ar & 0xf) !== 0xc) cpu.raise(GP_VECTOR, sel & 0xfffc);
    // 16-byte gate: re-read with the upper half.
    readDescriptor(cpu, sel, GP_VECTOR, true);
    if (((desc.hi2 >>> 0) === 0 && false)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    const offLo = ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0;
    gateInfo.off = (desc.hi2 | 0) * TWO32 + offLo;
    gateInfo.params = 0;
  } else {
    gateInfo.off = gateInfo.is32 ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
  }
  return gateInfo;
}

export function farCall(cpu: X86Cpu, sel: number, off: number): void {
  const sz = farOpsize();
  const retIp = d.ip;
  const oldCs = cpu.segSel[1]!;
  if (!cpu.pmode) {
    const sp0 = stackPointer();
    push(sz, oldCs, 0);
    try {
      push(sz, retIp, 0);
    } catch (e) {
      setStackPointer(sp0);
      throw e;
    }
    loadSegmentReal(cpu, 1, sel);
    cpu.updateMode();
    setTarget(cpu, off, sz);
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(GP_VECTOR, 0);
  readDescriptor(cpu, sel);
  const ar = descAr(desc.hi);
  if (ar & AR_S) {
    if (!(ar & AR_TYPE_CODE)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    checkDirectCodeTarget(cpu, sel);
    checkTargetInDesc(cpu, off);
    const saveLo = desc.lo, saveHi = desc.hi, saveAddr = desc.addr;
    pushPair(cpu, sz, oldCs, retIp);
    desc.lo = saveLo; desc.hi = saveHi; desc.addr = saveAddr;
    loadCs(cpu, sel, cpu.cpl);
    setTarget(cpu, off, cpu.mode64 ? 8 : sz);
    return;
  }
  const type = ar & 0xf;
  if (type !== 0x4 && type !== 0xc) {
    if (type === 0x5 || type === 0x9 || type === 0x1) cpu.internalError('far CALL to a task gate or TSS: hardware task switching is not implemented');
    cpu.raise(GP_VECTOR, sel & 0xfffc);
  }
  const gate = readGate(cpu, sel, ar);
  const gSel = gate.sel;
  const gOff = gate.off;
  const gParams = gate.params;
  const gSize = cpu.longMode ? 8 : gate.is32 ? 4 : 2;
  if ((gSel & 0xfffc) === 0) cpu.raise(GP_VECTOR, 0);
  readDescriptor(cpu, gSel);
  const car = descAr(desc.hi);
  const cdpl = (car >> 5) & 3;
  if ((car & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE) || cdpl > cpu.cpl) cpu.raise(GP_VECTOR, gSel & 0xfffc);
  if (!(car & AR_P)) cpu.raise(NP_VECTOR, gSel & 0xfffc);
  if (cpu.longMode && (!(car & AR_L) || (car & AR_DB))) cpu.raise(GP_VECTOR, gSel & 0xfffc);
  checkTargetInDesc(cpu, gOff);
  const csLo = desc.lo, csHi = desc.hi, csAddr = desc.addr;
  if (!(car & AR_TYPE_DC) && cdpl < cpu.cpl) {
    // Inner privilege: new stack from the TSS, copy parameters, push the old SS:SP and CS:IP.
    const newCpl = cdpl;
    let newSp: number;
    let newSs: number;
    if (cpu.longMode) {
      const a = cpu.segBase[6]! + 4 + 8 * newCpl;
      if (4 + 8 * newCpl + 7 > cpu.segLimit[6]!) cpu.raise(TS_VECTOR, cpu.segSel[6]! & 0xfffc);
      const lo = sysRead(cpu, a, 4);
      const hi = sysRead(cpu, a + 4, 4);
      newSp = (hi | 0) * TWO32 + (lo >>> 0);
      newSs = newCpl;
    } else if (cpu.segAr[6]! & 8) {
      if (8 + 8 * newCpl + 1 > cpu.segLimit[6]!) cpu.raise(TS_VECTOR, cpu.segSel[6]! & 0xfffc);
      newSp = sysRead(cpu, (cpu.segBase[6]! + 4 + 8 * newCpl) >>> 0, 4) >>> 0;
      newSs = sysRead(cpu, (cpu.segBase[6]! + 8 + 8 * newCpl) >>> 0, 2);
    } else {
      if (4 + 4 * newCpl + 1 > cpu.segLimit[6]!) cpu.raise(TS_VECTOR, cpu.segSel[6]! & 0xfffc);
      newSp = sysRead(cpu, (cpu.segBase[6]! + 2 + 4 * newCpl) >>> 0, 2);
      newSs = sysRead(cpu, (cpu.segBase[6]! + 4 + 4 * newCpl) >>> 0, 2);
    }
    const oldSs = cpu.segSel[2]!;
    const oldSp = stackPointer();
    // Parameters from the old stack (legacy gates only).
    const params: number[] = [];
    for (let i = 0; i < gParams; i++) params.push(readMem(cpu.linear(2, spAdd(oldSp, i * gSize), gSize, false), gSize));
    let ssLo = 0, ssHi = 0, ssAddr = 0;
    if (!cpu.longMode) {
      if ((newSs & 0xfffc) === 0) cpu.raise(TS_VECTOR, 0);
      if ((newSs & 3) !== newCpl) cpu.raise(TS_VECTOR, newSs & 0xfffc);
      readDescriptor(cpu, newSs, TS_VECTOR);
      const sar = descAr(desc.hi);
      if ((sar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((sar >> 5) & 3) !== newCpl) cpu.raise(TS_VECTOR, newSs & 0xfffc);
      if (!(sar & AR_P)) cpu.raise(SS_VECTOR, newSs & 0xfffc);
      ssLo = desc.lo; ssHi = desc.hi; ssAddr = desc.addr;
    }
    // Switch: load SS (CPL follows SS.DPL), then push on the new stack.
    const savedSel = [cpu.segSel[2]!, cpu.segAr[2]!, cpu.segBase[2]!, cpu.segLimit[2]!];
    const savedSp = [cpu.regs[8]!, cpu.regs[9]!];
    if (cpu.longMode) {
      cpu.segSel[2] = newCpl; cpu.segBase[2] = 0; cpu.segLimit[2] = 0;
      cpu.segAr[2] = (1 << 16) | (newCpl << 5) | AR_S | AR_TYPE_RW | AR_P;
    } else {
      desc.lo = ssLo; desc.hi = ssHi; desc.addr = ssAddr;
      setDescriptorAccessed(cpu);
      loadCacheFromDesc(cpu, 2, newSs);
    }
    cpu.updateMode();
    const savedCs = [cpu.segSel[1]!, cpu.segAr[1]!, cpu.segBase[1]!, cpu.segLimit[1]!];
    try {
      setStackPointer(cpu.longMode ? newSp : newSp);
      push(gSize, oldSs, 0);
      push(gSize, oldSp | 0, Math.floor(oldSp / TWO32) | 0);
      for (let i = gParams - 1; i >= 0; i--) push(gSize, params[i]!, 0);
      push(gSize, oldCs, 0);
      push(gSize, retIp | 0, Math.floor(retIp / TWO32) | 0);
    } catch (e) {
      cpu.segSel[2] = savedSel[0]!; cpu.segAr[2] = savedSel[1]!; cpu.segBase[2] = savedSel[2]!; cpu.segLimit[2] = savedSel[3]!;
      cpu.regs[8] = savedSp[0]!; cpu.regs[9] = savedSp[1]!;
      cpu.segSel[1] = savedCs[0]!; cpu.segAr[1] = savedCs[1]!; cpu.segBase[1] = savedCs[2]!; cpu.segLimit[1] = savedCs[3]!;
      cpu.updateMode();
      throw e;
    }
    desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
    loadCs(cpu, gSel, newCpl);
    setTarget(cpu, gOff, cpu.mode64 ? 8 : gSize);
    return;
  }
  // Same privilege through the gate.
  pushPair(cpu, gSize, oldCs, retIp);
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  loadCs(cpu, gSel, cpu.cpl);
  setTarget(cpu, gOff, cpu.mode64 ? 8 : gSize);
}

function sysRead(cpu: X86Cpu, la: number, len: number): number {
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  try {
    return len === 2 ? cpu.read16(la) : cpu.read32(la);
  } finally {
    cpu.accessUser = saved;
  }
}

/** Push CS then IP atomically (nothing pushed if the second push faults). */
function pushPair(cpu: X86Cpu, sz: number, cs: number, ip: number): void {
  const sp = stackPointer();
  const a1 = cpu.linear(2, spAdd(sp, -sz), sz, true);
  const a2 = cpu.linear(2, spAdd(sp, -2 * sz), sz, true);
  cpu.probeWrite(a1, sz);
  cpu.probeWrite(a2, sz);
  writeMem(a1, sz, cs, 0);
  writeMem(a2, sz, ip | 0, Math.floor(ip / TWO32) | 0);
  setStackPointer(spAdd(sp, -2 * sz));
}

/** RETF [imm16] (SDM "RET"): same level or a return to an outer level (pops SS:SP too). */
export function farRet(cpu: X86Cpu, n: number): void {
  const sz = d.opsize;
  const ipLo = peek(sz, 0);
  const ipHi = sz === 8 ? d.hi : 0;
  const sel = peek(sz, sz) & 0xffff;
  const ip = sz === 8 ? ipHi * TWO32 + (ipLo >>> 0) : ipLo;
  if (!cpu.pmode) {
    loadSegmentReal(cpu, 1, sel);
    cpu.updateMode();
    setStackPointer(spAdd(stackPointer(), 2 * sz + n));
    setTarget(cpu, ip, sz);
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(GP_VECTOR, 0);
  const rpl = sel & 3;
  const cpl = cpu.cpl;
  if (rpl < cpl) cpu.raise(GP_VECTOR, sel & 0xfffc);
  readDescriptor(cpu, sel);
  const ar = descAr(desc.hi);
  if ((ar & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE)) cpu.raise(GP_VECTOR, sel & 0xfffc);
  const dpl = (ar >> 5) & 3;
  if (ar & AR_TYPE_DC ? dpl > rpl : dpl !== rpl) cpu.raise(GP_VECTOR, sel & 0xfffc);
  if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
  checkTargetInDesc(cpu, ip);
  const csLo = desc.lo, csHi = desc.hi, csAddr = desc.addr;
  if (rpl === cpl) {
    loadCs(cpu, sel, cpl);
    setStackPointer(spAdd(stackPointer(), 2 * sz + n));
    setTarget(cpu, ip, cpu.mode64 ? 8 : sz);
    return;
  }
  // Outer level: SS:SP above the parameters.
  const spLo = peek(sz, 2 * sz + n);
  const spHi = sz === 8 ? d.hi : 0;
  const ss = peek(sz, 3 * sz + n) & 0xffff;
  let ssLo = 0, ssHi = 0, ssAddr = 0;
  let ssNull = false;
  if ((ss & 0xfffc) === 0) {
    if (!(cpu.longMode && (ar & AR_L) && rpl !== 3)) cpu.raise(GP_VECTOR, 0);
    ssNull = true;
  } else {
    if ((ss & 3) !== rpl) cpu.raise(GP_VECTOR, ss & 0xfffc);
    readDescriptor(cpu, ss);
    const sar = descAr(desc.hi);
    if ((sar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((sar >> 5) & 3) !== rpl) cpu.raise(GP_VECTOR, ss & 0xfffc);
    if (!(sar & AR_P)) cpu.raise(SS_VECTOR, ss & 0xfffc);
    ssLo = desc.lo; ssHi = desc.hi; ssAddr = desc.addr;
  }
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  setDescriptorAccessed(cpu);
  loadCacheFromDesc(cpu, 1, sel);
  if (ssNull) {
    cpu.segSel[2] = ss; cpu.segBase[2] = 0; cpu.segLimit[2] = 0;
    cpu.segAr[2] = (1 << 16) | (rpl << 5) | AR_S | AR_TYPE_RW | AR_P;
  } else {
    desc.lo = ssLo; desc.hi = ssHi; desc.addr = ssAddr;
    setDescriptorAccessed(cpu);
    loadCacheFromDesc(cpu, 2, ss);
  }
  cpu.updateMode();
  const newSp = sz === 8 ? spHi * TWO32 + (spLo >>> 0) : spLo;
  setStackPointer(spAdd(newSp, n));
  setTarget(cpu, ip, cpu.mode64 ? 8 : sz);
  nullifyDataSegments(cpu);
  void descBase;
}
