/**
 * Hardware task switching (SDM Vol. 3 7.3) for 32-bit TSSs: JMP/CALL to a TSS or task
 * gate, interrupts and exceptions through task gates, and IRET with EFLAGS.NT. Not
 * available in long mode (#GP there, as the callers check). 16-bit TSSs are not
 * implemented (internal error).
 */
import {
  AR_P, AR_S, AR_TYPE_CODE, AR_TYPE_RW, CR0_PG, CR0_TS, FLAG_NT, FLAG_VM, FLAGS_FIXED, GP_VECTOR, NP_VECTOR,
  SS_VECTOR, TS_VECTOR,
} from './constants';
import type { X86Cpu } from './cpu';
import { desc, descAr, descBase, descLimit, loadCacheFromDesc, loadNull, loadSegmentReal, readDescriptor } from './segments';

export const TASK_SWITCH_JMP = 0;
export const TASK_SWITCH_CALL = 1;
export const TASK_SWITCH_IRET = 2;
export const TASK_SWITCH_INT = 3;

/** The order of the selectors in a 32-bit TSS (0x48..0x5c): ES CS SS DS FS GS = VCPU_SREG_* order. */
const TSS_SEG_OFF = 0x48;

function sys<T>(cpu: X86Cpu, f: () => T): T {
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  cpu.implicitSupervisor = true;
  try {
    return f();
  } finally {
    cpu.accessUser = saved;
    cpu.implicitSupervisor = false;
  }
}

/** Set or clear the busy bit of the TSS descriptor for `sel` in the GDT. */
function setBusy(cpu: X86Cpu, sel: number, busy: boolean): void {
  const addr = (cpu.gdtrBase + (sel & 0xfff8) + 5) >>> 0;
  sys(cpu, () => {
    const b = cpu.read8(addr);
    cpu.write8(addr, busy ? b | 2 : b & ~2);
  });
}

/**
 * Switch to the task whose TSS selector is `sel`. nextEip is the EIP saved in the old
 * task. errorCode >= 0 is pushed on the new task's stack (exceptions through task gates).
 */
export function taskSwitch(cpu: X86Cpu, sel: number, reason: number, nextEip: number, errorCode = -1): void {
  if (sel & 4) cpu.raise(TS_VECTOR, sel & 0xfffc);
  readDescriptor(cpu, sel, GP_VECTOR);
  const ar = descAr(desc.hi);
  const type = ar & (AR_S | 0xf);
  if (type === 1 || type === 3) cpu.internalError('task switch to a 16-bit TSS is not implemented');
  const wantBusy = reason === TASK_SWITCH_IRET;
  if (type !== (wantBusy ? 0xb : 0x9)) cpu.raise(reason === TASK_SWITCH_IRET ? TS_VECTOR : GP_VECTOR, sel & 0xfffc);
  if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
  const newLimit = descLimit(desc.lo, desc.hi);
  if (newLimit < 0x67) cpu.raise(TS_VECTOR, sel & 0xfffc);
  const newBase = descBase(desc.lo, desc.hi);
  const newLo = desc.lo;
  const newHi = desc.hi;
  const oldSel = cpu.segSel[6]!;
  const oldBase = cpu.segBase[6]!;
  if (cpu.segLimit[6]! < 0x5f) cpu.raise(TS_VECTOR, oldSel & 0xfffc);
  const R = cpu.regs;

  // Read the whole new state first (a fault here leaves the old task untouched).
  const img = new Int32Array(26);
  sys(cpu, () => {
    cpu.probeWrite(oldBase >>> 0, 0x60);
    for (let i = 0; i < 26; i++) img[i] = cpu.read32((newBase + 4 * i) >>> 0);
  });

  // Save the old task.
  let oldFlags = cpu.getFlags();
  if (reason === TASK_SWITCH_IRET) oldFlags &= ~FLAG_NT;
  sys(cpu, () => {
    const w = (off: number, v: number) => cpu.write32((oldBase + off) >>> 0, v);
    w(0x20, nextEip);
    w(0x24, oldFlags);
    for (let r = 0; r < 8; r++) w(0x28 + 4 * r, R[2 * r]!);
    for (let s = 0; s < 6; s++) cpu.write16((oldBase + TSS_SEG_OFF + 4 * s) >>> 0, cpu.segSel[s]!);
  });
  if (reason === TASK_SWITCH_JMP || reason === TASK_SWITCH_IRET) setBusy(cpu, oldSel, false);
  if (reason !== TASK_SWITCH_IRET) setBusy(cpu, sel, true);

  // Load TR and the new task's state.
  desc.lo = newLo; desc.hi = newHi | 0x200;
  loadCacheFromDesc(cpu, 6, sel);
  let flags = img[9]!;
  if (reason === TASK_SWITCH_CALL || reason === TASK_SWITCH_INT) {
    flags |= FLAG_NT;
    sys(cpu, () => cpu.write16(newBase >>> 0, oldSel));
  }
  if (cpu.cr0 & CR0_PG) {
    cpu.cr3 = img[7]! >>> 0;
    cpu.flushTlbNonGlobal();
  }
  cpu.flags = (flags & 0x3f7fd7) | FLAGS_FIXED;
  for (let r = 0; r < 8; r++) { R[2 * r] = img[10 + r]!; R[2 * r + 1] = 0; }
  cpu.cr0 |= CR0_TS;
  const sels = [img[18]! & 0xffff, img[19]! & 0xffff, img[20]! & 0xffff, img[21]! & 0xffff, img[22]! & 0xffff, img[23]! & 0xffff];
  const ldt = img[24]! & 0xffff;
  // Selectors first (so a fault during the descriptor loads is reported in the new task).
  for (let s = 0; s < 6; s++) cpu.segSel[s] = sels[s]!;
  cpu.rip = img[8]! >>> 0;
  // LDT
  if ((ldt & 0xfffc) === 0) loadNull(cpu, 7, ldt);
  else {
    if (ldt & 4) cpu.raise(TS_VECTOR, ldt & 0xfffc);
    readDescriptor(cpu, ldt, TS_VECTOR);
    if ((descAr(desc.hi) & (AR_S | 0xf)) !== 2) cpu.raise(TS_VECTOR, ldt & 0xfffc);
    if (!(descAr(desc.hi) & AR_P)) cpu.raise(TS_VECTOR, ldt & 0xfffc);
    loadCacheFromDesc(cpu, 7, ldt);
  }
  if (flags & FLAG_VM) {
    for (let s = 0; s < 6; s++) loadSegmentReal(cpu, s, sels[s]!);
    cpu.updateMode();
  } else {
    const cpl = sels[1]! & 3;
    // CS
    const cs = sels[1]!;
    if ((cs & 0xfffc) === 0) cpu.raise(TS_VECTOR, 0);
    readDescriptor(cpu, cs, TS_VECTOR);
    const car = descAr(desc.hi);
    if ((car & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE)) cpu.raise(TS_VECTOR, cs & 0xfffc);
    if (!(car & AR_P)) cpu.raise(NP_VECTOR, cs & 0xfffc);
    loadCacheFromDesc(cpu, 1, cs);
    // SS: writable data with DPL = RPL = CPL.
    const ss = sels[2]!;
    if ((ss & 0xfffc) === 0 || (ss & 3) !== cpl) cpu.raise(TS_VECTOR, ss & 0xfffc);
    readDescriptor(cpu, ss, TS_VECTOR);
    const sar = descAr(desc.hi);
    if ((sar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((sar >> 5) & 3) !== cpl) cpu.raise(TS_VECTOR, ss & 0xfffc);
    if (!(sar & AR_P)) cpu.raise(SS_VECTOR, ss & 0xfffc);
    loadCacheFromDesc(cpu, 2, ss);
    cpu.updateMode();
    for (const s of [0, 3, 4, 5]) {
      const v = sels[s]!;
      if ((v & 0xfffc) === 0) { loadNull(cpu, s, v); continue; }
      readDescriptor(cpu, v, TS_VECTOR);
      const dar = descAr(desc.hi);
      if (!(dar & AR_S) || ((dar & AR_TYPE_CODE) && !(dar & AR_TYPE_RW))) cpu.raise(TS_VECTOR, v & 0xfffc);
      if (!(dar & AR_P)) cpu.raise(NP_VECTOR, v & 0xfffc);
      loadCacheFromDesc(cpu, s, v);
    }
  }
  if (errorCode >= 0) {
    const sp = ((cpu.segAr[2]! & (1 << 14)) ? R[8]! >>> 0 : R[8]! & 0xffff) - 4;
    const la = cpu.linear(2, sp >>> 0, 4, true);
    cpu.write32(la, errorCode);
    R[8] = sp | 0;
  }
}
