/**
 * Event delivery through the IVT/IDT (SDM Vol. 3 chapter 6) in real, protected and long
 * mode, with the TSS stack switch (and IST in long mode), error codes, the double-fault
 * rules (Table 6-5) and triple fault; IRET in every mode.
 */
import {
  AR_DB, AR_L, AR_P, AR_S, AR_TYPE_CODE, AR_TYPE_DC, AR_TYPE_RW, AR_UNUSABLE, DF_VECTOR, EVENT_TYPE_EXT_INTR,
  EVENT_TYPE_HW_EXCEPTION, EVENT_TYPE_NMI, EVENT_TYPE_PRIV_SW_EXCEPTION, EVENT_TYPE_SW_EXCEPTION, EVENT_TYPE_SW_INTR,
  FLAG_AC, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, FLAG_VIF, FLAG_VIP, FLAGS_FIXED, GP_VECTOR,
  NP_VECTOR, SS_VECTOR, TS_VECTOR, FLAG_ID, PF_VECTOR,
} from './constants';
import { isCanonical, type X86Cpu } from './cpu';
import {
  desc, descAr, loadCacheFromDesc, loadDataSegment, loadNull, loadSegmentReal, readDescriptor, setDescriptorAccessed,
} from './segments';

const TWO32 = 0x1_0000_0000;

/** Contributory exceptions for the double-fault rules: #DE #TS #NP #SS #GP. */
export function isContributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/** Does raising `second` while delivering `first` make a double fault (SDM Table 6-5)? */
export function makesDoubleFault(first: number, second: number): boolean {
  if (first === PF_VECTOR) return second === PF_VECTOR || isContributory(second);
  if (isContributory(first)) return isContributory(second);
  return false;
}

/** Supervisor-mode access to system structures (IDT, TSS, inner stacks are written at the new CPL). */
function sysRead32(cpu: X86Cpu, la: number): number {
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  cpu.implicitSupervisor = true;
  try {
    return cpu.read32(la);
  } finally {
    cpu.accessUser = saved;
    cpu.implicitSupervisor = false;
  }
}

function sysRead16(cpu: X86Cpu, la: number): number {
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  cpu.implicitSupervisor = true;
  try {
    return cpu.read16(la);
  } finally {
    cpu.accessUser = saved;
    cpu.implicitSupervisor = false;
  }
}

/** Read the TSS at offset off (32-bit value), #TS(TR) if beyond its limit. */
function tssRead32(cpu: X86Cpu, off: number, len: number): number {
  if (off + len - 1 > cpu.segLimit[6]!) cpu.raise(TS_VECTOR, cpu.segSel[6]! & 0xfffc);
  const la = cpu.longMode ? cpu.segBase[6]! + off : (cpu.segBase[6]! + off) >>> 0;
  return len === 2 ? sysRead16(cpu, la) : sysRead32(cpu, la);
}

// Scratch stack for the frame being built (values as lo/hi pairs), written only after every check passed.
const frameLo = new Int32Array(10);
const frameHi = new Int32Array(10);

/**
 * Deliver an event now. cpu.rip must already be the return address (the faulting
 * instruction for faults, the next one for traps and software interrupts).
 * Throws FAULT when delivery itself faults (the caller applies the #DF rules).
 */
export function deliverEvent(cpu: X86Cpu, vector: number, type: number, errorCode: number, hasErrorCode: boolean): void {
  const ext = type === EVENT_TYPE_EXT_INTR || type === EVENT_TYPE_NMI || type === EVENT_TYPE_HW_EXCEPTION ? 1 : 0;
  const soft = type === EVENT_TYPE_SW_INTR || type === EVENT_TYPE_SW_EXCEPTION;
  cpu.halted = false;
  if (!(cpu.cr0 & 1)) {
    deliverReal(cpu, vector);
    return;
  }
  if (cpu.flags & FLAG_VM && type === EVENT_TYPE_SW_INTR && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) {
    cpu.raise(GP_VECTOR, 0);
  }
  const long = cpu.longMode;
  const gateSize = long ? 16 : 8;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * gateSize + gateSize - 1 > cpu.idtrLimit) cpu.raise(GP_VECTOR, idtErr);
  const gateAddr = cpu.idtrBase + vector * gateSize;
  const g0 = sysRead32(cpu, long ? gateAddr : gateAddr >>> 0);
  const g1 = sysRead32(cpu, long ? gateAddr + 4 : (gateAddr + 4) >>> 0);
  const g2 = long ? sysRead32(cpu, gateAddr + 8) : 0;
  const gtype = (g1 >>> 8) & 0x1f;
  const gdpl = (g1 >>> 13) & 3;
  let is32: boolean;
  let trap: boolean;
  if (long) {
    if (gtype !== 0x0e && gtype !== 0x0f) cpu.raise(GP_VECTOR, idtErr);
    is32 = true;
    trap = gtype === 0x0f;
  } else if (gtype === 0x0e || gtype === 0x0f || gtype === 0x06 || gtype === 0x07) {
    is32 = (gtype & 8) !== 0;
    trap = (gtype & 1) !== 0;
  } else if (gtype === 0x05) {
    cpu.internalError(`task gate in IDT vector ${vector}: hardware task switching is not implemented`);
  } else {
    cpu.raise(GP_VECTOR, idtErr);
  }
  if (soft && gdpl < cpu.cpl) cpu.raise(GP_VECTOR, idtErr);
  if (!(g1 & 0x8000)) cpu.raise(NP_VECTOR, idtErr);
  const csSel = g0 >>> 16;
  const targetLo = (g0 & 0xffff) | (g1 & 0xffff0000);
  const target = long ? (g2 | 0) * TWO32 + (targetLo >>> 0) : is32 ? targetLo >>> 0 : targetLo & 0xffff;
  const ist = long ? g1 & 7 : 0;

  // The target code segment.
  if ((csSel & 0xfffc) === 0) cpu.raise(GP_VECTOR, ext);
  readDescriptor(cpu, csSel, GP_VECTOR);
  const csLo = desc.lo;
  const csHi = desc.hi;
  const csAddr = desc.addr;
  const csAr = descAr(csHi);
  const csDpl = (csAr >> 5) & 3;
  if ((csAr & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE) || csDpl > cpu.cpl) cpu.raise(GP_VECTOR, (csSel & 0xfffc) + ext);
  if (!(csAr & AR_P)) cpu.raise(NP_VECTOR, (csSel & 0xfffc) + ext);
  if (long && (!(csAr & AR_L) || (csAr & AR_DB))) cpu.raise(GP_VECTOR, (csSel & 0xfffc) + ext);
  if (long && !isCanonical(target)) cpu.raise(GP_VECTOR, ext);

  const oldCpl = cpu.cpl;
  const vm86 = (cpu.flags & FLAG_VM) !== 0;
  const newCpl = csAr & AR_TYPE_DC ? oldCpl : csDpl;
  if (vm86 && newCpl !== 0) cpu.raise(GP_VECTOR, (csSel & 0xfffc) + ext);
  const oldFlags = cpu.getFlags();
  const oldCs = cpu.segSel[1]!;
  const oldSs = cpu.segSel[2]!;
  const oldRspLo = cpu.regs[8]!;
  const oldRspHi = cpu.regs[9]!;
  const oldRip = cpu.rip;

  // Build the frame (top first in array order: SS, RSP, RFLAGS, CS, RIP, error code).
  let n = 0;
  const push = (lo: number, hi: number) => { frameLo[n] = lo; frameHi[n] = hi; n++; };
  let newSsSel = oldSs;
  let newRsp: number;
  let switchStack = newCpl < oldCpl || ist !== 0;
  let ssLo = 0;
  let ssHi = 0;
  let ssAddr = 0;
  if (long) {
    if (newCpl < oldCpl || ist !== 0) {
      const off = ist !== 0 ? 0x1c + 8 * ist : 4 + 8 * newCpl;
      const lo = tssRead32(cpu, off, 4);
      const hi = tssRead32(cpu, off + 4, 4);
      newRsp = (hi | 0) * TWO32 + (lo >>> 0);
      if (!isCanonical(newRsp)) cpu.raise(SS_VECTOR, ext);
      if (newCpl < oldCpl) newSsSel = newCpl;
    } else {
      newRsp = (oldRspHi | 0) * TWO32 + (oldRspLo >>> 0);
    }
    newRsp -= ((newRsp % 16) + 16) % 16; // 16-byte alignment of the frame
    switchStack = true;
    push(oldSs, 0);
    push(oldRspLo, oldRspHi);
    push(oldFlags, 0);
    push(oldCs, 0);
    push(oldRip | 0, Math.floor(oldRip / TWO32) | 0);
    if (hasErrorCode) push(errorCode, 0);
  } else {
    if (newCpl < oldCpl) {
      // Inner stack from the TSS (32-bit TSS for types 9/11, 16-bit for 1/3).
      const tss32 = (cpu.segAr[6]! & 8) !== 0;
      let sp: number;
      let ss: number;
      if (tss32) {
        sp = tssRead32(cpu, 4 + 8 * newCpl, 4) >>> 0;
        ss = tssRead32(cpu, 8 + 8 * newCpl, 2);
      } else {
        sp = tssRead32(cpu, 2 + 4 * newCpl, 2);
        ss = tssRead32(cpu, 4 + 4 * newCpl, 2);
      }
      if ((ss & 0xfffc) === 0) cpu.raise(TS_VECTOR, ext);
      if ((ss & 3) !== newCpl) cpu.raise(TS_VECTOR, (ss & 0xfffc) + ext);
      readDescriptor(cpu, ss, TS_VECTOR);
      const ar = descAr(desc.hi);
      if ((ar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((ar >> 5) & 3) !== newCpl) cpu.raise(TS_VECTOR, (ss & 0xfffc) + ext);
      if (!(ar & AR_P)) cpu.raise(SS_VECTOR, (ss & 0xfffc) + ext);
      ssLo = desc.lo; ssHi = desc.hi; ssAddr = desc.addr;
      newSsSel = ss;
      newRsp = sp;
      if (vm86) {
        push(cpu.segSel[5]!, 0); push(cpu.segSel[4]!, 0); push(cpu.segSel[3]!, 0); push(cpu.segSel[0]!, 0);
      }
      push(oldSs, 0);
      push(oldRspLo, 0);
    } else {
      switchStack = false;
      newRsp = cpu.ss32 ? oldRspLo >>> 0 : oldRspLo & 0xffff;
    }
    push(oldFlags, 0);
    push(oldCs, 0);
    push(oldRip, 0);
    if (hasErrorCode) push(errorCode, 0);
  }

  // Write the frame on the new stack (all checks on the stack before committing registers).
  const width = long ? 8 : is32 ? 4 : 2;
  const savedUser = cpu.accessUser;
  cpu.accessUser = newCpl === 3 ? 1 : 0;
  let ssBase: number;
  let ssLimit: number;
  let ssBig: boolean;
  if (long) {
    ssBase = 0; ssLimit = Infinity; ssBig = true;
  } else if (switchStack) {
    ssBase = ((ssLo >>> 16) | ((ssHi & 0xff) << 16) | (ssHi & 0xff000000)) >>> 0;
    const raw = (ssLo & 0xffff) | (ssHi & 0xf0000);
    ssLimit = ssHi & 0x800000 ? raw * 4096 + 4095 : raw;
    ssBig = (ssHi & 0x400000) !== 0;
  } else {
    ssBase = cpu.segBase[2]!; ssLimit = cpu.segLimit[2]!; ssBig = cpu.ss32;
  }
  try {
    let sp = newRsp;
    for (let k = 0; k < n; k++) {
      sp -= width;
      if (!long) {
        if (!ssBig) sp &= 0xffff; else sp >>>= 0;
        if (sp + width - 1 > ssLimit) cpu.raise(SS_VECTOR, switchStack ? (newSsSel & 0xfffc) + ext : ext);
        const la = (ssBase + sp) >>> 0;
        if (width === 4) cpu.write32(la, frameLo[k]!);
        else cpu.write16(la, frameLo[k]!);
      } else {
        cpu.write64(sp, frameLo[k]!, frameHi[k]!);
      }
    }
    newRsp = sp;
  } finally {
    cpu.accessUser = savedUser;
  }

  // Commit.
  if (switchStack && !long) {
    desc.lo = ssLo; desc.hi = ssHi; desc.addr = ssAddr;
    setDescriptorAccessed(cpu);
    loadCacheFromDesc(cpu, 2, newSsSel);
  } else if (long && newCpl < oldCpl) {
    cpu.segSel[2] = newCpl;
    cpu.segBase[2] = 0;
    cpu.segLimit[2] = 0;
    cpu.segAr[2] = AR_UNUSABLE | (newCpl << 5) | AR_S | AR_TYPE_RW | AR_P;
  }
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  setDescriptorAccessed(cpu);
  loadCacheFromDesc(cpu, 1, (csSel & 0xfffc) | newCpl);
  if (vm86) {
    for (const s of [0, 3, 4, 5]) loadNull(cpu, s, 0);
  }
  if (long) {
    cpu.regs[8] = newRsp | 0;
    cpu.regs[9] = Math.floor(newRsp / TWO32) | 0;
  } else if (switchStack ? ssBig : cpu.ss32) {
    cpu.regs[8] = newRsp | 0;
    cpu.regs[9] = 0;
  } else {
    cpu.regs[8] = (cpu.regs[8]! & ~0xffff) | (newRsp & 0xffff);
  }
  let f = cpu.flags & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
  if (!trap) f &= ~FLAG_IF;
  cpu.flags = f;
  // CPL follows SS.DPL; make sure it is the new CPL even when SS did not change (conforming/same level).
  if (!switchStack || long) cpu.segAr[2] = (cpu.segAr[2]! & ~0x60) | (newCpl << 5);
  cpu.updateMode();
  cpu.rip = target;
}

/** Real-mode delivery through the IVT: push FLAGS, CS, IP; clear IF, TF, AC. */
function deliverReal(cpu: X86Cpu, vector: number): void {
  if (vector * 4 + 3 > cpu.idtrLimit) cpu.raise(GP_VECTOR, 0);
  const entry = cpu.read32((cpu.idtrBase + vector * 4) >>> 0);
  const ssBase = cpu.segBase[2]!;
  let sp = cpu.regs[8]! & 0xffff;
  const words = [cpu.getFlags() & 0xffff, cpu.segSel[1]!, cpu.rip & 0xffff];
  for (const w of words) {
    sp = (sp - 2) & 0xffff;
    cpu.write16((ssBase + sp) >>> 0, w);
  }
  cpu.regs[8] = (cpu.regs[8]! & ~0xffff) | sp;
  cpu.flags &= ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
  loadSegmentReal(cpu, 1, entry >>> 16);
  cpu.rip = entry & 0xffff;
}

/** The event type a hardware-raised exception vector has. */
export function exceptionType(vector: number): number {
  return vector === 2 ? EVENT_TYPE_NMI : EVENT_TYPE_HW_EXCEPTION;
}

export { DF_VECTOR, EVENT_TYPE_PRIV_SW_EXCEPTION };

/**
 * IRET / IRETD / IRETQ (SDM "IRET"): opsize 16/32/64. Task returns (NT=1) are not
 * implemented and report an internal error.
 */
export function iret(cpu: X86Cpu, opsize: number): void {
  const w = opsize >> 3;
  // IRET ends NMI blocking (SDM 6.7.1), even if it then faults.
  cpu.nmiBlocking = false;
  if (!(cpu.cr0 & 1)) {
    // Real mode.
    const ip = popN(cpu, w, 0);
    const cs = popN(cpu, w, w);
    const fl = popN(cpu, w, 2 * w);
    commitPop(cpu, 3 * w);
    loadSegmentReal(cpu, 1, cs & 0xffff);
    cpu.rip = w === 2 ? ip & 0xffff : ip >>> 0;
    setFlagsPop(cpu, fl, w === 2 ? 0xffff : 0x3fffff, true);
    cpu.updateMode();
    return;
  }
  if (cpu.flags & FLAG_VM) {
    if ((cpu.flags & FLAG_IOPL) !== FLAG_IOPL) cpu.raise(GP_VECTOR, 0);
    const ip = popN(cpu, w, 0);
    const cs = popN(cpu, w, w);
    const fl = popN(cpu, w, 2 * w);
    commitPop(cpu, 3 * w);
    loadSegmentReal(cpu, 1, cs & 0xffff);
    cpu.rip = w === 2 ? ip & 0xffff : ip >>> 0;
    // IOPL is unchanged in virtual-8086 mode; VM stays set.
    const keep = FLAG_IOPL | FLAG_VM | FLAG_VIF | FLAG_VIP;
    cpu.flags = (cpu.flags & keep) | (fl & (w === 2 ? 0xffff : 0x3fffff) & ~keep) | FLAGS_FIXED;
    return;
  }
  if (cpu.flags & FLAG_NT) {
    if (cpu.longMode) cpu.raise(GP_VECTOR, 0);
    cpu.internalError('IRET with EFLAGS.NT: hardware task switching is not implemented');
  }
  const long = cpu.longMode;
  const ripLo = popN(cpu, w, 0);
  const ripHi = w === 8 ? cpu.hi : 0;
  const cs = popN(cpu, w, w) & 0xffff;
  const fl = popN(cpu, w, 2 * w);
  const cpl = cpu.cpl;
  // Return to virtual-8086 mode (32-bit IRET at CPL 0 with VM set in the image).
  if (!long && w === 4 && (fl & FLAG_VM) && cpl === 0) {
    const esp = popN(cpu, 4, 12);
    const ss = popN(cpu, 4, 16);
    const es = popN(cpu, 4, 20);
    const ds = popN(cpu, 4, 24);
    const fs = popN(cpu, 4, 28);
    const gs = popN(cpu, 4, 32);
    cpu.flags = (fl & 0x3fffff) | FLAGS_FIXED;
    cpu.updateMode();
    loadSegmentReal(cpu, 1, cs);
    loadSegmentReal(cpu, 2, ss & 0xffff);
    loadSegmentReal(cpu, 0, es & 0xffff);
    loadSegmentReal(cpu, 3, ds & 0xffff);
    loadSegmentReal(cpu, 4, fs & 0xffff);
    loadSegmentReal(cpu, 5, gs & 0xffff);
    cpu.regs[8] = esp;
    cpu.regs[9] = 0;
    cpu.rip = ripLo & 0xffff;
    cpu.updateMode();
    return;
  }
  if ((cs & 0xfffc) === 0) cpu.raise(GP_VECTOR, 0);
  const rpl = cs & 3;
  if (rpl < cpl) cpu.raise(GP_VECTOR, cs & 0xfffc);
  readDescriptor(cpu, cs);
  const csLo = desc.lo;
  const csHi = desc.hi;
  const csAddr = desc.addr;
  const ar = descAr(csHi);
  if ((ar & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE)) cpu.raise(GP_VECTOR, cs & 0xfffc);
  const dpl = (ar >> 5) & 3;
  if (ar & AR_TYPE_DC ? dpl > rpl : dpl !== rpl) cpu.raise(GP_VECTOR, cs & 0xfffc);
  if (!(ar & AR_P)) cpu.raise(NP_VECTOR, cs & 0xfffc);
  const to64 = long && (ar & AR_L) !== 0;
  if (long && (ar & AR_L) && (ar & AR_DB)) cpu.raise(GP_VECTOR, cs & 0xfffc);
  let target = to64 ? (ripHi | 0) * TWO32 + (ripLo >>> 0) : w === 2 ? ripLo & 0xffff : ripLo >>> 0;
  if (!to64) target = target >>> 0;
  if (to64 && !isCanonical(target)) cpu.raise(GP_VECTOR, 0);

  // 64-bit mode IRET always pops SS:RSP; otherwise only on a return to an outer level.
  const popStack = rpl > cpl || (cpu.mode64 && w === 8) || cpu.mode64;
  let newSp = 0;
  let newSpHi = 0;
  let ss = 0;
  if (popStack) {
    newSp = popN(cpu, w, 3 * w);
    newSpHi = w === 8 ? cpu.hi : 0;
    ss = popN(cpu, w, 4 * w) & 0xffff;
  }
  let ssLo = 0;
  let ssHi = 0;
  let ssAddr = 0;
  let ssNull = false;
  if (popStack && (rpl > cpl || long)) {
    if ((ss & 0xfffc) === 0) {
      if (!(long && to64 && rpl !== 3)) cpu.raise(GP_VECTOR, 0);
      ssNull = true;
    } else {
      if ((ss & 3) !== rpl) cpu.raise(GP_VECTOR, ss & 0xfffc);
      readDescriptor(cpu, ss);
      const sar = descAr(desc.hi);
      if ((sar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((sar >> 5) & 3) !== rpl) cpu.raise(GP_VECTOR, ss & 0xfffc);
      if (!(sar & AR_P)) cpu.raise(SS_VECTOR, ss & 0xfffc);
      ssLo = desc.lo; ssHi = desc.hi; ssAddr = desc.addr;
    }
  }
  // Commit.
  const mask = w === 2 ? 0xffff : 0x3fffff;
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  setDescriptorAccessed(cpu);
  loadCacheFromDesc(cpu, 1, cs);
  if (popStack && (rpl > cpl || long)) {
    if (ssNull) {
      cpu.segSel[2] = ss;
      cpu.segBase[2] = 0; cpu.segLimit[2] = 0;
      cpu.segAr[2] = AR_UNUSABLE | (rpl << 5) | AR_S | AR_TYPE_RW | AR_P;
    } else {
      desc.lo = ssLo; desc.hi = ssHi; desc.addr = ssAddr;
      setDescriptorAccessed(cpu);
      loadCacheFromDesc(cpu, 2, ss);
    }
    if (long) {
      cpu.regs[8] = newSp; cpu.regs[9] = w === 8 ? newSpHi : 0;
    } else if (cpu.segAr[2]! & AR_DB) {
      cpu.regs[8] = newSp; cpu.regs[9] = 0;
    } else {
      cpu.regs[8] = (cpu.regs[8]! & ~0xffff) | (newSp & 0xffff);
    }
  } else {
    commitPop(cpu, 3 * w);
  }
  setFlagsPop(cpu, fl, mask, false, cpl);
  cpu.updateMode();
  cpu.rip = target;
  if (rpl > cpl) nullifyDataSegments(cpu);
}

/** After a return to an outer level, data segments the new CPL may not use become null. */
export function nullifyDataSegments(cpu: X86Cpu): void {
  const cpl = cpu.cpl;
  for (const s of [0, 3, 4, 5]) {
    const ar = cpu.segAr[s]!;
    if (ar & AR_UNUSABLE) continue;
    const dpl = (ar >> 5) & 3;
    const conformingCode = (ar & (AR_TYPE_CODE | AR_TYPE_DC)) === (AR_TYPE_CODE | AR_TYPE_DC);
    if (!conformingCode && dpl < cpl) loadNull(cpu, s, 0);
  }
}

/** The EFLAGS bits POPF/IRET can load (everything but VM, VIF, VIP and the fixed bits). */
const POPPABLE = 0x0cd5 | FLAG_TF | FLAG_IF | FLAG_IOPL | FLAG_NT | FLAG_RF | FLAG_AC | FLAG_ID;

/** EFLAGS from a popped image: IOPL only at CPL 0, IF only at CPL <= IOPL (SDM "IRET", "POPF"). */
export function setFlagsPop(cpu: X86Cpu, fl: number, mask: number, real: boolean, cpl = 0): void {
  let change = POPPABLE & mask;
  if (!real) {
    const iopl = (cpu.flags & FLAG_IOPL) >> 12;
    if (cpl > 0) change &= ~FLAG_IOPL;
    if (cpl > iopl) change &= ~FLAG_IF;
    if (cpl === 0 && mask !== 0xffff) change |= FLAG_VIF | FLAG_VIP;
  }
  cpu.flags = (cpu.flags & ~change) | (fl & change) | FLAGS_FIXED;
}

/** Read the stack slot at SP + off with width w bytes (64-bit reads leave the high half in cpu.hi). */
export function popN(cpu: X86Cpu, w: number, off: number): number {
  if (cpu.mode64) {
    const sp = (cpu.regs[9]! | 0) * TWO32 + (cpu.regs[8]! >>> 0) + off;
    if (!isCanonical(sp)) cpu.raise(SS_VECTOR, 0);
    if (w === 8) return cpu.read64(sp);
    cpu.hi = 0;
    return w === 4 ? cpu.read32(sp) : cpu.read16(sp);
  }
  const sp = cpu.ss32 ? ((cpu.regs[8]! >>> 0) + off) >>> 0 : ((cpu.regs[8]! & 0xffff) + off) & 0xffff;
  const la = cpu.linear(2, sp, w, false);
  cpu.hi = 0;
  return w === 4 ? cpu.read32(la) : cpu.read16(la);
}

/** Drop n bytes from the stack. */
export function commitPop(cpu: X86Cpu, n: number): void {
  if (cpu.mode64) {
    const lo = (cpu.regs[8]! >>> 0) + n;
    cpu.regs[8] = lo | 0;
    if (lo >= TWO32) cpu.regs[9] = (cpu.regs[9]! + 1) | 0;
  } else if (cpu.ss32) {
    cpu.regs[8] = (cpu.regs[8]! + n) | 0;
  } else {
    cpu.regs[8] = (cpu.regs[8]! & ~0xffff) | ((cpu.regs[8]! + n) & 0xffff);
  }
}

export { loadDataSegment };
