/**
 * System instructions: control and debug registers with the paging-mode transitions
 * (SDM Vol. 3 9.8-9.9), descriptor-table registers (LGDT/LIDT/LLDT/LTR...), CPUID, MSR
 * access, TSC, HLT, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, XSAVE family, CMPXCHG8B/16B,
 * the hypercall opcodes, and the guest-mode intercept checks for all of them.
 */
import { alu } from './alu';
import {
  AR_DB, AR_G, AR_L, AR_P, AR_S, AR_TYPE_ACCESSED, AR_TYPE_CODE, AR_TYPE_RW, AR_UNUSABLE, CR0_CD, CR0_NW, CR0_PE, CR0_PG,
  CR0_TS, CR0_WP, CR4_FSGSBASE, CR4_OSXSAVE, CR4_PAE, CR4_PCIDE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP,
  CR4_SUPPORTED, CR4_UMIP, CR4_TSD, EFER_LMA, EFER_LME, EFER_SCE, FLAG_AC, FLAG_IF, FLAG_RF, FLAG_VM, FLAG_ZF,
  FLAGS_FIXED, GP_VECTOR, NM_VECTOR, NP_VECTOR, UD_VECTOR, CR0_EM, CR0_MP, CR0_ET, CR0_NE, CR0_AM,
} from './constants';
import { isCanonical, type X86Cpu } from './cpu';
import { d, decodeModrm, eaLinear, fetch8, getReg, readMem, readRm, setReg, writeMem, writeRm } from './decoder';
import { EXIT } from './fault';
import {
  CR_ACCESS_CLTS, CR_ACCESS_LMSW, CR_ACCESS_MOV_FROM_CR, CR_ACCESS_MOV_TO_CR, DESC_LGDT, DESC_LIDT, DESC_LLDT,
  DESC_LTR, DESC_SGDT, DESC_SIDT, DESC_SLDT, DESC_STR, ENGINE_EXIT_CPUID, ENGINE_EXIT_CR_ACCESS, ENGINE_EXIT_DESCRIPTOR,
  ENGINE_EXIT_HLT, ENGINE_EXIT_INVD, ENGINE_EXIT_INVLPG, ENGINE_EXIT_MONITOR, ENGINE_EXIT_MWAIT, ENGINE_EXIT_RDMSR,
  ENGINE_EXIT_RDTSC, ENGINE_EXIT_RDTSCP, ENGINE_EXIT_VIRT_INSTR, ENGINE_EXIT_VMCALL, ENGINE_EXIT_VMMCALL,
  ENGINE_EXIT_WBINVD, ENGINE_EXIT_WRMSR, ENGINE_EXIT_XSETBV, ENGINE_EXIT_INVLPGA,
} from './guest-mode';
import { defaultCpuid } from './cpuid';
import { msrRead, msrValue, msrWrite, readTsc } from './msr';
import { desc, descAr, loadCacheFromDesc, readDescriptor, setDescriptorAccessed, wideBase } from './segments';
import { MAXPHYADDR } from './paging';

const TWO32 = 0x1_0000_0000;

/** Offer an intercept to the controller (details already in cpu.exit): exits before the instruction. */
export function checkIntercept(cpu: X86Cpu, reason: number): void {
  const e = cpu.exit;
  e.reason = reason;
  e.instrLen = d.ip - d.ipStart;
  if (cpu.controller.intercept(cpu, e)) throw EXIT;
}

function requireCpl0(cpu: X86Cpu): void {
  if (cpu.cpl !== 0) cpu.raise(GP_VECTOR, 0);
}

export function execHlt(cpu: X86Cpu): void {
  requireCpl0(cpu);
  checkIntercept(cpu, ENGINE_EXIT_HLT);
  cpu.halted = true;
}

export function execInvd(cpu: X86Cpu, op: number): void {
  requireCpl0(cpu);
  checkIntercept(cpu, op === 0x08 ? ENGINE_EXIT_INVD : ENGINE_EXIT_WBINVD);
}

export function execCpuid(cpu: X86Cpu): void {
  checkIntercept(cpu, ENGINE_EXIT_CPUID);
  const R = cpu.regs;
  const leaf = R[0]! >>> 0;
  const sub = R[2]! >>> 0;
  if (cpu.cpuidHook !== null) cpu.cpuidHook(cpu, leaf, sub);
  else defaultCpuid(cpu, leaf, sub);
  R[1] = 0; R[3] = 0; R[5] = 0; R[7] = 0;
}

export function execRdmsr(cpu: X86Cpu): void {
  requireCpl0(cpu);
  const R = cpu.regs;
  cpu.exit.msrIndex = R[2]! >>> 0;
  checkIntercept(cpu, ENGINE_EXIT_RDMSR);
  if (!msrRead(cpu, R[2]! >>> 0)) cpu.raise(GP_VECTOR, 0);
  R[0] = msrValue.lo; R[1] = 0;
  R[4] = msrValue.hi; R[5] = 0;
}

export function execWrmsr(cpu: X86Cpu): void {
  requireCpl0(cpu);
  const R = cpu.regs;
  const e = cpu.exit;
  e.msrIndex = R[2]! >>> 0;
  e.valueLo = R[0]!;
  e.valueHi = R[4]!;
  checkIntercept(cpu, ENGINE_EXIT_WRMSR);
  if (!msrWrite(cpu, R[2]! >>> 0, R[0]!, R[4]!)) cpu.raise(GP_VECTOR, 0);
}

export function execRdtsc(cpu: X86Cpu, rdtscp: boolean): void {
  if ((cpu.cr4 & CR4_TSD) && cpu.cpl !== 0) cpu.raise(GP_VECTOR, 0);
  checkIntercept(cpu, rdtscp ? ENGINE_EXIT_RDTSCP : ENGINE_EXIT_RDTSC);
  const t = readTsc(cpu);
  const R = cpu.regs;
  R[0] = t | 0; R[1] = 0;
  R[4] = Math.floor(t / TWO32) | 0; R[5] = 0;
  if (rdtscp) { R[2] = cpu.tscAux; R[3] = 0; }
}

// ---------------------------------------------------------------------------------------
// Control registers
// ---------------------------------------------------------------------------------------

/** MOV to CR0 with the architectural checks and the long-mode activation (SDM 9.8.5). */
export function writeCr0(cpu: X86Cpu, lo: number, hi: number): void {
  if (hi !== 0) cpu.raise(GP_VECTOR, 0);
  let v = lo | CR0_ET;
  if ((v & CR0_PG) && !(v & CR0_PE)) cpu.raise(GP_VECTOR, 0);
  if ((v & CR0_NW) && !(v & CR0_CD)) cpu.raise(GP_VECTOR, 0);
  const old = cpu.cr0;
  const reserved = ~(CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG);
  v &= ~reserved;
  if ((v & CR0_PG) && !(old & CR0_PG) && (cpu.efer & EFER_LME)) {
    if (!(cpu.cr4 & CR4_PAE)) cpu.raise(GP_VECTOR, 0);
    if (cpu.segAr[1]! & AR_L) cpu.raise(GP_VECTOR, 0);
    cpu.efer |= EFER_LMA;
  }
  if (!(v & CR0_PG) && (old & CR0_PG) && (cpu.efer & EFER_LMA)) {
    if (cpu.mode64) cpu.raise(GP_VECTOR, 0);
    cpu.efer &= ~EFER_LMA;
  }
  cpu.cr0 = v;
  if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) cpu.flushTlb();
  cpu.updateMode();
}

export function writeCr4(cpu: X86Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~CR4_SUPPORTED)) cpu.raise(GP_VECTOR, 0);
  const old = cpu.cr4;
  if ((cpu.efer & EFER_LMA) && !(lo & CR4_PAE)) cpu.raise(GP_VECTOR, 0);
  if ((lo & CR4_PCIDE) && !(old & CR4_PCIDE) && (!(cpu.efer & EFER_LMA) || (cpu.cr3 & 0xfff))) cpu.raise(GP_VECTOR, 0);
  cpu.cr4 = lo;
  if ((old ^ lo) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE)) cpu.flushTlb();
}

export function writeCr3(cpu: X86Cpu, lo: number, hi: number): void {
  let h = hi;
  let noFlush = false;
  if ((cpu.cr4 & CR4_PCIDE) && h < 0) { noFlush = true; h &= 0x7fffffff; }
  if (cpu.efer & EFER_LMA) {
    if (h >>> (MAXPHYADDR - 32)) cpu.raise(GP_VECTOR, 0);
    cpu.cr3 = h * TWO32 + (lo >>> 0);
  } else {
    cpu.cr3 = lo >>> 0;
  }
  if (!noFlush) cpu.flushTlbNonGlobal();
}

function readCr(cpu: X86Cpu, n: number): number {
  switch (n) {
    case 0: return cpu.cr0 >>> 0;
    case 2: return cpu.cr2;
    case 3: return cpu.cr3;
    case 4: return cpu.cr4 >>> 0;
    default: return cpu.cr8;
  }
}

/** MOV r, CRn (toCr=false) / MOV CRn, r (toCr=true). */
export function execMovCr(cpu: X86Cpu, toCr: boolean): void {
  decodeModrm(0);
  let n = (d.modrm >> 3) & 7 | d.rexR;
  // LOCK MOV CR0 is CR8 on AMD (alternative encoding).
  if (d.lock && n === 0) n = 8;
  if (n === 1 || (n > 4 && n !== 8) || (n === 8 && !cpu.mode64 && !d.lock)) cpu.raise(UD_VECTOR);
  if (!cpu.pmode && (cpu.flags & FLAG_VM)) cpu.raise(GP_VECTOR, 0);
  requireCpl0(cpu);
  const r = (d.modrm & 7) | d.rexB;
  const R = cpu.regs;
  const e = cpu.exit;
  e.crNumber = n;
  e.gpr = r;
  e.crAccessType = toCr ? CR_ACCESS_MOV_TO_CR : CR_ACCESS_MOV_FROM_CR;
  e.valueLo = toCr ? R[2 * r]! : 0;
  e.valueHi = toCr && cpu.mode64 ? R[2 * r + 1]! : 0;
  checkIntercept(cpu, ENGINE_EXIT_CR_ACCESS);
  if (!toCr) {
    const v = readCr(cpu, n);
    if (cpu.mode64) { R[2 * r] = v | 0; R[2 * r + 1] = Math.floor(v / TWO32) | 0; }
    else { R[2 * r] = v | 0; R[2 * r + 1] = 0; }
    return;
  }
  const lo = R[2 * r]!;
  const hi = cpu.mode64 ? R[2 * r + 1]! : 0;
  switch (n) {
    case 0: writeCr0(cpu, lo, hi); break;
    case 2: cpu.cr2 = cpu.mode64 ? hi * TWO32 + (lo >>> 0) : lo >>> 0; break;
    case 3: writeCr3(cpu, lo, hi); break;
    case 4: writeCr4(cpu, lo, hi); break;
    default:
      if (hi !== 0 || (lo & ~0xf)) cpu.raise(GP_VECTOR, 0);
      cpu.cr8 = lo & 0xf;
  }
}

export function execMovDr(cpu: X86Cpu, toDr: boolean): void {
  decodeModrm(0);
  const n = (d.modrm >> 3) & 7;
  requireCpl0(cpu);
  const r = (d.modrm & 7) | d.rexB;
  const R = cpu.regs;
  let idx = n;
  if (n === 4 || n === 5) {
    if (cpu.cr4 & (1 << 3)) cpu.raise(UD_VECTOR); // CR4.DE
    idx = n + 2;
  }
  if (toDr) {
    const v = cpu.mode64 ? R[2 * r + 1]! * TWO32 + (R[2 * r]! >>> 0) : R[2 * r]! >>> 0;
    if ((idx === 6 || idx === 7) && cpu.mode64 && R[2 * r + 1] !== 0) cpu.raise(GP_VECTOR, 0);
    cpu.dr[idx] = idx === 6 ? ((v | 0xffff0ff0) >>> 0) : idx === 7 ? ((v & ~0xd000) | 0x400) >>> 0 : v;
  } else {
    const v = cpu.dr[idx]!;
    R[2 * r] = v | 0;
    R[2 * r + 1] = cpu.mode64 ? Math.floor(v / TWO32) | 0 : 0;
  }
}

export function execClts(cpu: X86Cpu): void {
  requireCpl0(cpu);
  const e = cpu.exit;
  e.crNumber = 0;
  e.crAccessType = CR_ACCESS_CLTS;
  checkIntercept(cpu, ENGINE_EXIT_CR_ACCESS);
  cpu.cr0 &= ~CR0_TS;
}

// ---------------------------------------------------------------------------------------
// Group 6 / Group 7: descriptor tables and friends
// ---------------------------------------------------------------------------------------

function umipCheck(cpu: X86Cpu): void {
  if ((cpu.cr4 & CR4_UMIP) && cpu.cpl > 0) cpu.raise(GP_VECTOR, 0);
}

function descriptorIntercept(cpu: X86Cpu, kind: number): void {
  cpu.exit.descriptorInstr = kind;
  checkIntercept(cpu, ENGINE_EXIT_DESCRIPTOR);
}

export function execGroup6(cpu: X86Cpu): void {
  decodeModrm(0);
  if (!cpu.pmode) cpu.raise(UD_VECTOR);
  const sub = d.reg & 7;
  switch (sub) {
    case 0: case 1: { // SLDT / STR
      umipCheck(cpu);
      descriptorIntercept(cpu, sub === 0 ? DESC_SLDT : DESC_STR);
      const v = cpu.segSel[sub === 0 ? 7 : 6]! & 0xffff;
      if (d.isMem) writeRm(2, v, 0);
      else setReg(d.opsize === 2 ? 2 : d.opsize, d.rm, v, 0);
      return;
    }
    case 2: { // LLDT
      requireCpl0(cpu);
      const sel = readRm(2);
      descriptorIntercept(cpu, DESC_LLDT);
      if ((sel & 0xfffc) === 0) {
        cpu.segSel[7] = sel;
        cpu.segAr[7] = AR_UNUSABLE;
        cpu.segBase[7] = 0;
        cpu.segLimit[7] = 0;
        return;
      }
      if (sel & 4) cpu.raise(GP_VECTOR, sel & 0xfffc);
      readDescriptor(cpu, sel, GP_VECTOR, cpu.longMode);
      const ar = descAr(desc.hi);
      if ((ar & (AR_S | 0xf)) !== 2) cpu.raise(GP_VECTOR, sel & 0xfffc);
      if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
      loadCacheFromDesc(cpu, 7, sel);
      if (cpu.longMode) cpu.segBase[7] = wideBase();
      return;
    }
    case 3: { // LTR
      requireCpl0(cpu);
      const sel = readRm(2);
      descriptorIntercept(cpu, DESC_LTR);
      if ((sel & 0xfffc) === 0 || (sel & 4)) cpu.raise(GP_VECTOR, sel & 0xfffc);
      readDescriptor(cpu, sel, GP_VECTOR, cpu.longMode);
      const ar = descAr(desc.hi);
      const type = ar & (AR_S | 0xf);
      if (cpu.longMode ? type !== 9 : type !== 9 && type !== 1) cpu.raise(GP_VECTOR, sel & 0xfffc);
      if (!(ar & AR_P)) cpu.raise(NP_VECTOR, sel & 0xfffc);
      // Mark busy in the GDT.
      const saved = cpu.accessUser;
      cpu.accessUser = 0;
      try {
        cpu.write8(desc.addr + 5, ((desc.hi >>> 8) & 0xff) | 2);
      } finally {
        cpu.accessUser = saved;
      }
      desc.hi |= 0x200;
      loadCacheFromDesc(cpu, 6, sel);
      if (cpu.longMode) cpu.segBase[6] = wideBase();
      return;
    }
    case 4: case 5: { // VERR / VERW
      const sel = readRm(2);
      let ok = (sel & 0xfffc) !== 0;
      if (ok) {
        const limit = sel & 4 ? cpu.segLimit[7]! : cpu.gdtrLimit;
        if ((sel & 0xfff8) + 7 > limit) ok = false;
      }
      if (ok) {
        readDescriptor(cpu, sel);
        const ar = descAr(desc.hi);
        const conformingCode = (ar & 0x1c) === 0x1c;
        const dpl = (ar >> 5) & 3;
        if (!(ar & AR_S)) ok = false;
        else if (!conformingCode && (dpl < cpu.cpl || dpl < (sel & 3))) ok = false;
        else if (sub === 4) ok = !(ar & AR_TYPE_CODE) || (ar & AR_TYPE_RW) !== 0;
        else ok = !(ar & AR_TYPE_CODE) && (ar & AR_TYPE_RW) !== 0;
      }
      cpu.flags = ok ? cpu.flags | FLAG_ZF : cpu.flags & ~FLAG_ZF;
      return;
    }
    default:
      cpu.raise(UD_VECTOR);
  }
}

export function execGroup7(cpu: X86Cpu): void {
  decodeModrm(0);
  const sub = d.reg & 7;
  const R = cpu.regs;
  if (!d.isMem) {
    const m = d.modrm;
    switch (m) {
      case 0xc1: // VMCALL: exits if the controller intercepts it, else #UD (no VMX operation in the guest)
        checkIntercept(cpu, ENGINE_EXIT_VMCALL);
        cpu.raise(UD_VECTOR);
        return;
      case 0xd9: // VMMCALL
        checkIntercept(cpu, ENGINE_EXIT_VMMCALL);
        cpu.raise(UD_VECTOR);
        return;
      case 0xc2: case 0xc3: case 0xc4: case 0xd8: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde:
        // VMLAUNCH VMRESUME VMXOFF VMRUN VMLOAD VMSAVE STGI CLGI SKINIT
        cpu.exit.descriptorInstr = m;
        checkIntercept(cpu, ENGINE_EXIT_VIRT_INSTR);
        cpu.raise(UD_VECTOR);
        return;
      case 0xdf: // INVLPGA
        requireCpl0(cpu);
        checkIntercept(cpu, ENGINE_EXIT_INVLPGA);
        cpu.raise(UD_VECTOR);
        return;
      case 0xc8: // MONITOR
        requireCpl0(cpu);
        checkIntercept(cpu, ENGINE_EXIT_MONITOR);
        cpu.raise(UD_VECTOR);
        return;
      case 0xc9: // MWAIT
        requireCpl0(cpu);
        checkIntercept(cpu, ENGINE_EXIT_MWAIT);
        cpu.raise(UD_VECTOR);
        return;
      case 0xca: case 0xcb: // CLAC / STAC
        if (!(cpu.cr4 & CR4_SMAP)) cpu.raise(UD_VECTOR);
        requireCpl0(cpu);
        if (m === 0xca) cpu.flags &= ~FLAG_AC; else cpu.flags |= FLAG_AC;
        return;
      case 0xd0: { // XGETBV
        if (!(cpu.cr4 & CR4_OSXSAVE)) cpu.raise(UD_VECTOR);
        if (R[2] !== 0) cpu.raise(GP_VECTOR, 0);
        R[0] = cpu.xcr0Lo; R[1] = 0; R[4] = 0; R[5] = 0;
        return;
      }
      case 0xd1: { // XSETBV
        if (!(cpu.cr4 & CR4_OSXSAVE)) cpu.raise(UD_VECTOR);
        const e = cpu.exit;
        e.msrIndex = R[2]! >>> 0;
        e.valueLo = R[0]!;
        e.valueHi = R[4]!;
        checkIntercept(cpu, ENGINE_EXIT_XSETBV);
        requireCpl0(cpu);
        // Only x87 (bit 0, mandatory) and SSE (bit 1) state components exist.
        if (R[2] !== 0 || R[4] !== 0 || !(R[0]! & 1) || (R[0]! & ~3)) cpu.raise(GP_VECTOR, 0);
        cpu.xcr0Lo = R[0]! & 3;
        return;
      }
      case 0xf8: { // SWAPGS
        if (!cpu.mode64) cpu.raise(UD_VECTOR);
        requireCpl0(cpu);
        const t = cpu.segBase[5]!;
        cpu.segBase[5] = cpu.kernelGsBase;
        cpu.kernelGsBase = t;
        return;
      }
      case 0xf9: // RDTSCP
        execRdtsc(cpu, true);
        return;
    }
    if (sub === 4) { // SMSW r
      umipCheck(cpu);
      setReg(d.opsize, d.rm, cpu.cr0 & (d.opsize === 2 ? 0xffff : -1), 0);
      return;
    }
    if (sub === 6) { lmsw(cpu, getReg(2, d.rm)); return; }
    cpu.raise(UD_VECTOR);
  }
  switch (sub) {
    case 0: case 1: { // SGDT / SIDT
      umipCheck(cpu);
      descriptorIntercept(cpu, sub === 0 ? DESC_SGDT : DESC_SIDT);
      const base = sub === 0 ? cpu.gdtrBase : cpu.idtrBase;
      const limit = sub === 0 ? cpu.gdtrLimit : cpu.idtrLimit;
      const size = cpu.mode64 ? 10 : 6;
      const la = eaLinear(size, true);
      cpu.probeWrite(la, size);
      cpu.write16(la, limit);
      if (cpu.mode64) cpu.write64(la + 2, base | 0, Math.floor(base / TWO32) | 0);
      else cpu.write32(la + 2, d.opsize === 2 ? base & 0xffffff : base);
      return;
    }
    case 2: case 3: { // LGDT / LIDT
      requireCpl0(cpu);
      descriptorIntercept(cpu, sub === 2 ? DESC_LGDT : DESC_LIDT);
      const size = cpu.mode64 ? 10 : 6;
      const la = eaLinear(size, false);
      const limit = cpu.read16(la);
      let base: number;
      if (cpu.mode64) {
        const lo = cpu.read64(la + 2);
        base = cpu.hi * TWO32 + (lo >>> 0);
        if (!isCanonical(base)) cpu.raise(GP_VECTOR, 0);
      } else {
        base = cpu.read32(la + 2) >>> 0;
        if (d.opsize === 2) base &= 0xffffff;
      }
      if (sub === 2) { cpu.gdtrBase = base; cpu.gdtrLimit = limit; }
      else { cpu.idtrBase = base; cpu.idtrLimit = limit; }
      return;
    }
    case 4: { // SMSW m16
      umipCheck(cpu);
      writeRm(2, cpu.cr0 & 0xffff, 0);
      return;
    }
    case 6: lmsw(cpu, readRm(2)); return;
    case 7: { // INVLPG
      requireCpl0(cpu);
      const la = eaLinear(1, false);
      cpu.exit.linearAddress = la;
      checkIntercept(cpu, ENGINE_EXIT_INVLPG);
      cpu.flushTlbPage(la);
      return;
    }
    default:
      cpu.raise(UD_VECTOR);
  }
}

/** LMSW: loads PE MP EM TS only; cannot clear PE. */
function lmsw(cpu: X86Cpu, v: number): void {
  requireCpl0(cpu);
  const e = cpu.exit;
  e.crNumber = 0;
  e.crAccessType = CR_ACCESS_LMSW;
  e.valueLo = v & 0xffff;
  e.valueHi = 0;
  checkIntercept(cpu, ENGINE_EXIT_CR_ACCESS);
  const nv = (cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE);
  writeCr0(cpu, nv, 0);
}

// ---------------------------------------------------------------------------------------
// Fast system calls
// ---------------------------------------------------------------------------------------

function flatCs(cpu: X86Cpu, sel: number, dpl: number, long: boolean): void {
  cpu.segSel[1] = sel;
  cpu.segBase[1] = 0;
  cpu.segLimit[1] = 0xffffffff;
  cpu.segAr[1] = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | (dpl << 5) | AR_G | (long ? AR_L : AR_DB);
}

function flatSs(cpu: X86Cpu, sel: number, dpl: number): void {
  cpu.segSel[2] = sel;
  cpu.segBase[2] = 0;
  cpu.segLimit[2] = 0xffffffff;
  cpu.segAr[2] = AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | (dpl << 5) | AR_G | AR_DB;
}

export function execSyscall(cpu: X86Cpu): void {
  if (!(cpu.efer & EFER_SCE)) cpu.raise(UD_VECTOR);
  if (!cpu.pmode) cpu.raise(UD_VECTOR);
  const R = cpu.regs;
  const next = d.ip;
  const sel = (cpu.starHi & 0xffff);
  if (cpu.longMode) {
    R[2] = next | 0; R[3] = Math.floor(next / TWO32) | 0;
    R[22] = cpu.getFlags() & ~FLAG_RF; R[23] = 0;
    const target = cpu.mode64 ? cpu.lstar : cpu.cstar;
    flatCs(cpu, sel & 0xfffc, 0, true);
    flatSs(cpu, (sel + 8) & 0xfffc, 0);
    cpu.flags = (cpu.flags & ~cpu.sfmask & ~FLAG_RF) | FLAGS_FIXED;
    cpu.updateMode();
    d.ip = target;
  } else {
    R[2] = next | 0; R[3] = 0;
    flatCs(cpu, sel & 0xfffc, 0, false);
    flatSs(cpu, (sel + 8) & 0xfffc, 0);
    cpu.flags &= ~(FLAG_VM | FLAG_IF | FLAG_RF);
    cpu.updateMode();
    d.ip = cpu.starLo >>> 0;
  }
}

export function execSysret(cpu: X86Cpu): void {
  if (!(cpu.efer & EFER_SCE)) cpu.raise(UD_VECTOR);
  if (!cpu.pmode || cpu.cpl !== 0) cpu.raise(GP_VECTOR, 0);
  const R = cpu.regs;
  const base = (cpu.starHi >>> 16) & 0xffff;
  if (cpu.longMode) {
    const to64 = d.rexW;
    let target: number;
    if (to64) {
      target = R[3]! * TWO32 + (R[2]! >>> 0);
      if (!isCanonical(target)) cpu.raise(GP_VECTOR, 0);
      flatCs(cpu, ((base + 16) & 0xfffc) | 3, 3, true);
    } else {
      target = R[2]! >>> 0;
      flatCs(cpu, (base & 0xfffc) | 3, 3, false);
    }
    // SS.sel = STAR[63:48]+8 | 3; the cache is flat, DPL 3 (SDM "SYSRET").
    flatSs(cpu, ((base + 8) & 0xfffc) | 3, 3);
    cpu.flags = (R[22]! & 0x3c7fd7) | FLAGS_FIXED;
    cpu.updateMode();
    d.ip = target;
  } else {
    flatCs(cpu, (base & 0xfffc) | 3, 3, false);
    flatSs(cpu, ((base + 8) & 0xfffc) | 3, 3);
    cpu.flags |= FLAG_IF;
    cpu.updateMode();
    d.ip = R[2]! >>> 0;
  }
}

export function execSysenter(cpu: X86Cpu): void {
  if (!(cpu.cr0 & CR0_PE)) cpu.raise(GP_VECTOR, 0);
  const cs = cpu.sysenterCs & 0xfffc;
  if (cs === 0) cpu.raise(GP_VECTOR, 0);
  const long = (cpu.efer & EFER_LMA) !== 0;
  cpu.flags &= ~(FLAG_VM | FLAG_IF | FLAG_RF);
  flatCs(cpu, cs, 0, long);
  flatSs(cpu, (cs + 8) & 0xfffc, 0);
  cpu.updateMode();
  const R = cpu.regs;
  const sp = cpu.sysenterEsp;
  if (long) { R[8] = sp | 0; R[9] = Math.floor(sp / TWO32) | 0; d.ip = cpu.sysenterEip; }
  else { R[8] = sp | 0; R[9] = 0; d.ip = cpu.sysenterEip >>> 0; }
}

export function execSysexit(cpu: X86Cpu): void {
  const cs = cpu.sysenterCs & 0xfffc;
  if (!cpu.pmode || cpu.cpl !== 0 || cs === 0) cpu.raise(GP_VECTOR, 0);
  const R = cpu.regs;
  if (d.rexW) {
    flatCs(cpu, ((cs + 32) & 0xfffc) | 3, 3, true);
    flatSs(cpu, ((cs + 40) & 0xfffc) | 3, 3);
    const rip = R[5]! * TWO32 + (R[4]! >>> 0);
    const rsp = R[3]! * TWO32 + (R[2]! >>> 0);
    if (!isCanonical(rip) || !isCanonical(rsp)) cpu.raise(GP_VECTOR, 0);
    R[8] = R[2]!; R[9] = R[3]!;
    cpu.updateMode();
    d.ip = rip;
  } else {
    flatCs(cpu, ((cs + 16) & 0xfffc) | 3, 3, false);
    flatSs(cpu, ((cs + 24) & 0xfffc) | 3, 3);
    R[8] = R[2]!; R[9] = 0;
    cpu.updateMode();
    d.ip = R[4]! >>> 0;
  }
}

// ---------------------------------------------------------------------------------------
// Group 15 (0F AE) and Group 9 (0F C7)
// ---------------------------------------------------------------------------------------

type SseControl = (kind: 'ldmxcsr' | 'stmxcsr' | 'fxsave' | 'fxrstor', ea: number) => void;

export function execGroup15(cpu: X86Cpu, sseControl: SseControl): void {
  decodeModrm(0);
  const sub = d.reg & 7;
  const R = cpu.regs;
  if (!d.isMem) {
    if (d.rep === 0xf3 && sub <= 3) { // RDFSBASE RDGSBASE WRFSBASE WRGSBASE
      if (!cpu.mode64 || !(cpu.cr4 & CR4_FSGSBASE)) cpu.raise(UD_VECTOR);
      const seg = sub & 1 ? 5 : 4;
      if (sub <= 1) {
        const b = cpu.segBase[seg]!;
        if (d.opsize === 8) setReg(8, d.rm, b | 0, Math.floor(b / TWO32) | 0);
        else setReg(4, d.rm, b | 0, 0);
      } else {
        const v = d.opsize === 8 ? R[2 * d.rm + 1]! * TWO32 + (R[2 * d.rm]! >>> 0) : R[2 * d.rm]! >>> 0;
        if (!isCanonical(v)) cpu.raise(GP_VECTOR, 0);
        cpu.segBase[seg] = v;
      }
      return;
    }
    if (sub >= 5) return; // LFENCE MFENCE SFENCE: ordering is already sequential here
    cpu.raise(UD_VECTOR);
  }
  switch (sub) {
    case 0: case 1: case 2: case 3: {
      if (cpu.cr0 & (CR0_EM)) cpu.raise(UD_VECTOR);
      if (cpu.cr0 & CR0_TS) cpu.raise(NM_VECTOR);
      const kinds = ['fxsave', 'fxrstor', 'ldmxcsr', 'stmxcsr'] as const;
      const size = sub <= 1 ? 512 : 4;
      const la = eaLinear(size, sub === 0 || sub === 3);
      if (sub <= 1 && (la & 15)) cpu.raise(GP_VECTOR, 0);
      sseControl(kinds[sub]!, la);
      return;
    }
    case 4: case 5: case 6: // XSAVE XRSTOR XSAVEOPT
      xsaveFamily(cpu, sub === 5);
      return;
    case 7: // CLFLUSH / CLFLUSHOPT: touches the line (faults as a read would)
      cpu.read8(eaLinear(1, false));
      return;
  }
}

/** XSAVE/XRSTOR for the x87 and SSE components (XCR0 bits 0-1), standard format. */
function xsaveFamily(cpu: X86Cpu, restore: boolean): void {
  if (!(cpu.cr4 & CR4_OSXSAVE)) cpu.raise(UD_VECTOR);
  if (cpu.cr0 & CR0_TS) cpu.raise(NM_VECTOR);
  const la = eaLinear(576, !restore);
  if (la % 64 !== 0) cpu.raise(GP_VECTOR, 0);
  const R = cpu.regs;
  const rfbm = R[0]! & cpu.xcr0Lo & 3;
  const buf = new Uint8Array(512);
  if (!restore) {
    cpu.probeWrite(la, 576);
    cpu.fpu.fxsave(buf, 0, d.rexW);
    // The legacy region is written for requested components; XSTATE_BV gets their bits.
    for (let i = 0; i < 512; i++) {
      const inX87 = i < 160 && !(i >= 24 && i < 32);
      const inSse = (i >= 160 && i < 416) || (i >= 24 && i < 32);
      if ((inX87 && (rfbm & 1)) || (inSse && (rfbm & 2))) cpu.write8(la + i, buf[i]!);
    }
    const oldBv = cpu.read8(la + 512);
    cpu.write8(la + 512, (oldBv & ~rfbm) | rfbm);
    return;
  }
  const bv = cpu.read8(la + 512);
  for (let i = 513; i < 576; i++) if (i < 520 || i >= 528) { if (i < 528 && cpu.read8(la + i) !== 0) cpu.raise(GP_VECTOR, 0); }
  for (let i = 0; i < 512; i++) buf[i] = cpu.read8(la + i);
  const img = new Uint8Array(512);
  cpu.fpu.fxsave(img, 0, d.rexW);
  // Components requested but not in XSTATE_BV are initialised.
  if ((rfbm & 1) && !(bv & 1)) { for (let i = 0; i < 160; i++) if (i < 24 || i >= 32) buf[i] = 0; buf[0] = 0x7f; buf[1] = 0x03; }
  if ((rfbm & 2) && !(bv & 2)) { for (let i = 160; i < 416; i++) buf[i] = 0; buf[24] = 0x80; buf[25] = 0x1f; buf[26] = 0; buf[27] = 0; }
  for (let i = 0; i < 512; i++) {
    const inX87 = i < 160 && !(i >= 24 && i < 32);
    const inSse = (i >= 160 && i < 416) || (i >= 24 && i < 32);
    if (!((inX87 && (rfbm & 1)) || (inSse && (rfbm & 2)))) buf[i] = img[i]!;
  }
  if (!cpu.fpu.fxrstor(buf, 0, d.rexW)) cpu.raise(GP_VECTOR, 0);
}

export function execGroup9(cpu: X86Cpu): void {
  decodeModrm(0);
  const sub = d.reg & 7;
  const R = cpu.regs;
  if (!d.isMem) {
    if (sub === 7 && d.rep === 0xf3) { // RDPID
      if (cpu.mode64) setReg(8, d.rm, cpu.tscAux, 0);
      else setReg(4, d.rm, cpu.tscAux, 0);
      return;
    }
    cpu.raise(UD_VECTOR); // RDRAND/RDSEED are not advertised
  }
  if (sub !== 1) cpu.raise(UD_VECTOR);
  if (d.rexW) { // CMPXCHG16B
    const la = eaLinear(16, true);
    if (la % 16 !== 0) cpu.raise(GP_VECTOR, 0);
    cpu.probeWrite(la, 16);
    const m0 = cpu.read32(la), m1 = cpu.read32(la + 4), m2 = cpu.read32(la + 8), m3 = cpu.read32(la + 12);
    if (m0 === R[0] && m1 === R[1] && m2 === R[4] && m3 === R[5]) {
      cpu.write32(la, R[6]!); cpu.write32(la + 4, R[7]!); cpu.write32(la + 8, R[2]!); cpu.write32(la + 12, R[3]!);
      cpu.flags |= FLAG_ZF;
    } else {
      cpu.write32(la, m0); cpu.write32(la + 4, m1); cpu.write32(la + 8, m2); cpu.write32(la + 12, m3);
      R[0] = m0; R[1] = m1; R[4] = m2; R[5] = m3;
      cpu.flags &= ~FLAG_ZF;
    }
    return;
  }
  // CMPXCHG8B
  const la = eaLinear(8, true);
  cpu.probeWrite(la, 8);
  const lo = cpu.read32(la);
  const hi = cpu.read32(la + 4);
  if (lo === R[0] && hi === R[4]) {
    cpu.write32(la, R[6]!);
    cpu.write32(la + 4, R[2]!);
    cpu.flags |= FLAG_ZF;
  } else {
    cpu.write32(la, lo);
    cpu.write32(la + 4, hi);
    R[0] = lo; R[1] = 0; R[4] = hi; R[5] = 0;
    cpu.flags &= ~FLAG_ZF;
  }
}

void alu; void fetch8; void readMem; void writeMem; void getReg; void setDescriptorAccessed; void AR_DB;
