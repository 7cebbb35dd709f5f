/**
 * Segment descriptors and the hidden descriptor caches (SDM Vol. 3 3.4-3.5, 5.5-5.8):
 * reading GDT/LDT entries, converting them to the VMX access-rights format, and the
 * privilege and type checks of MOV/POP Sreg, LLDT and LTR.
 */
import {
  AR_DB, AR_G, AR_L, AR_P, AR_S, AR_TYPE_CODE, AR_TYPE_DC, AR_TYPE_RW, AR_UNUSABLE, GP_VECTOR, NP_VECTOR, SS_VECTOR,
} from './constants';
import type { X86Cpu } from './cpu';

const TWO32 = 0x1_0000_0000;

/** The descriptor last read by readDescriptor (two dwords, and for 16-byte system descriptors the upper qword's low dword). */
export const desc = { lo: 0, hi: 0, hi2: 0, addr: 0 };

/** VMX access rights of a descriptor's second dword. */
export function descAr(hi: number): number {
  return ((hi >>> 8) & 0xff) | ((hi >>> 8) & 0xf000);
}

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return hi & 0x800000 ? raw * 4096 + 4095 : raw;
}

/**
 * Read the 8-byte descriptor for selector `sel` from the GDT or LDT into `desc`.
 * Beyond the table limit: raise `vector` (default #GP) with the selector's error code.
 */
export function readDescriptor(cpu: X86Cpu, sel: number, vector = GP_VECTOR, wide = false): void {
  const ti = sel & 4;
  let base: number;
  let limit: number;
  if (ti) {
    if (cpu.segAr[7]! & AR_UNUSABLE || (cpu.segSel[7]! & 0xfffc) === 0) cpu.raise(vector, sel & 0xfffc);
    base = cpu.segBase[7]!;
    limit = cpu.segLimit[7]!;
  } else {
    base = cpu.gdtrBase;
    limit = cpu.gdtrLimit;
  }
  const off = sel & 0xfff8;
  if (off + (wide ? 15 : 7) > limit) cpu.raise(vector, sel & 0xfffc);
  const addr = cpu.longMode ? base + off : (base + off) >>> 0;
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  cpu.implicitSupervisor = true;
  try {
    desc.lo = cpu.read32(addr);
    desc.hi = cpu.read32(addr + 4);
    desc.hi2 = wide ? cpu.read32(addr + 8) : 0;
  } finally {
    cpu.accessUser = saved;
    cpu.implicitSupervisor = false;
  }
  desc.addr = addr;
}

/** Set the accessed bit of the descriptor last read (a locked write on hardware). */
export function setDescriptorAccessed(cpu: X86Cpu): void {
  if (desc.hi & 0x100) return;
  desc.hi |= 0x100;
  const saved = cpu.accessUser;
  cpu.accessUser = 0;
  cpu.implicitSupervisor = true;
  try {
    cpu.write8(desc.addr + 5, (desc.hi >>> 8) & 0xff);
  } finally {
    cpu.accessUser = saved;
    cpu.implicitSupervisor = false;
  }
}

/** Load a segment cache from the descriptor in `desc`. */
export function loadCacheFromDesc(cpu: X86Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = descBase(desc.lo, desc.hi);
  cpu.segLimit[seg] = descLimit(desc.lo, desc.hi);
  cpu.segAr[seg] = descAr(desc.hi);
}

/** Real-mode / virtual-8086 load: selector and base only (the limit and rights stay: unreal mode). */
export function loadSegmentReal(cpu: X86Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = (sel & 0xffff) << 4;
  if (cpu.flags & (1 << 17)) {
    cpu.segLimit[seg] = 0xffff;
    cpu.segAr[seg] = AR_P | AR_S | AR_TYPE_RW | 1 | (3 << 5) | (seg === 1 ? AR_TYPE_CODE : 0);
  }
}

/** Make a segment register unusable (a null selector in DS/ES/FS/GS, or SS in 64-bit mode). */
export function loadNull(cpu: X86Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = seg >= 4 && cpu.mode64 ? cpu.segBase[seg]! : 0;
  cpu.segLimit[seg] = 0;
  cpu.segAr[seg] = AR_UNUSABLE | (seg === 2 ? (cpu.cpl << 5) | AR_DB * 0 : 0);
}

/** MOV Sreg / POP Sreg / LDS...: load ES, SS, DS, FS or GS with the checks of SDM "MOV". */
export function loadDataSegment(cpu: X86Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!cpu.pmode) {
    loadSegmentReal(cpu, seg, sel);
    if (seg === 2) cpu.updateMode();
    return;
  }
  const rpl = sel & 3;
  const cpl = cpu.cpl;
  if ((sel & 0xfffc) === 0) {
    if (seg === 2) {
      // 64-bit mode allows a null SS at CPL 0-2 when RPL = CPL.
      if (!(cpu.mode64 && cpl !== 3 && rpl === cpl)) cpu.raise(GP_VECTOR, 0);
    }
    loadNull(cpu, seg, sel);
    return;
  }
  readDescriptor(cpu, sel);
  const ar = descAr(desc.hi);
  const dpl = (ar >> 5) & 3;
  if (seg === 2) {
    if (rpl !== cpl || dpl !== cpl) cpu.raise(GP_VECTOR, sel & 0xfffc);
    if (!(ar & AR_S) || (ar & AR_TYPE_CODE) || !(ar & AR_TYPE_RW)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    if (!(ar & AR_P)) cpu.raise(SS_VECTOR, sel & 0xfffc);
  } else {
    if (!(ar & AR_S)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    if ((ar & AR_TYPE_CODE) && !(ar & AR_TYPE_RW)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    // Data and non-conforming code: DPL >= max(CPL, RPL).
    if (!((ar & AR_TYPE_CODE) && (ar & AR_TYPE_DC)) && (rpl > dpl || cpl > dpl)) cpu.raise(GP_VECTOR, sel & 0xfffc);
    if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
  }
  setDescriptorAccessed(cpu);
  loadCacheFromDesc(cpu, seg, sel);
  if (seg === 2) cpu.updateMode();
}

/**
 * Check a code-segment descriptor in `desc` as the target of a far JMP/CALL to it
 * directly (no gate), and load CS. SDM "JMP": conforming DPL <= CPL, non-conforming
 * RPL <= CPL and DPL = CPL; CS.RPL becomes CPL.
 */
export function checkDirectCodeTarget(cpu: X86Cpu, sel: number): void {
  const ar = descAr(desc.hi);
  const dpl = (ar >> 5) & 3;
  const cpl = cpu.cpl;
  if (ar & AR_TYPE_DC) {
    if (dpl > cpl) cpu.raise(GP_VECTOR, sel & 0xfffc);
  } else if ((sel & 3) > cpl || dpl !== cpl) cpu.raise(GP_VECTOR, sel & 0xfffc);
  if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
  if (cpu.longMode && (ar & AR_L) && (ar & AR_DB)) cpu.raise(GP_VECTOR, sel & 0xfffc);
}

/** Load CS from `desc` with the given CPL (the selector's RPL is replaced by it). */
export function loadCs(cpu: X86Cpu, sel: number, cpl: number): void {
  setDescriptorAccessed(cpu);
  loadCacheFromDesc(cpu, 1, (sel & 0xfffc) | cpl);
  // CPL is SS.DPL in the VMX model; callers load SS right after for privilege changes.
  cpu.updateMode();
}

/** A descriptor in `desc` is a code segment. */
export function isCodeDesc(): boolean {
  return (desc.hi & 0x1800) === 0x1800;
}

/** The 64-bit base of a 16-byte system descriptor (LDT, TSS in long mode), as a signed number. */
export function wideBase(): number {
  const lo = descBase(desc.lo, desc.hi);
  return (desc.hi2 | 0) * TWO32 + lo;
}

export { AR_G };
