/**
 * Model-specific registers the engine implements (SDM Vol. 4): EFER, the SYSCALL and
 * SYSENTER MSRs, FS/GS/KERNEL_GS base, TSC, TSC_AUX, APIC_BASE, PAT, MTRRs (accepted and
 * read back), MISC_ENABLE, SPEC_CTRL (IBRS) and PRED_CMD (IBPB): this silicon does not
 * speculate, so restricting or flushing branch prediction has nothing to do; the registers
 * hold and check their bits as the SDM defines them. msrRead/msrWrite return false for an unknown index or a bad
 * value (the caller raises #GP(0)). Vendors use the same functions for their MSR loads.
 */
import {
  CR0_PG, EFER_LMA, EFER_LME, EFER_SUPPORTED, MSR_CSTAR, MSR_EFER, MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_APICBASE,
  MSR_IA32_BIOS_SIGN_ID, MSR_IA32_CR_PAT, MSR_IA32_FEATURE_CONTROL, MSR_IA32_MCG_CAP, MSR_IA32_MCG_STATUS,
  MSR_IA32_MISC_ENABLE, MSR_IA32_SPEC_CTRL, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_EIP, MSR_IA32_SYSENTER_ESP,
  MSR_IA32_TSC, MSR_IA32_TSC_ADJUST, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_MTRR_PHYSBASE0, MSR_MTRR_PHYSMASK9,
  MSR_MTRRcap, MSR_MTRRdefType, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000, MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_F8000,
  MSR_MTRRfix64K_00000, MSR_STAR, MSR_SYSCALL_MASK, MSR_TSC_AUX, MSR_IA32_DEBUGCTL, MSR_IA32_PRED_CMD, PRED_CMD_IBPB,
  SPEC_CTRL_IBRS,
} from './constants';
import { isCanonical, type X86Cpu } from './cpu';

const TWO32 = 0x1_0000_0000;

/** The value read by msrRead. */
export const msrValue = { lo: 0, hi: 0 };

function set(lo: number, hi: number): true {
  msrValue.lo = lo | 0;
  msrValue.hi = hi | 0;
  return true;
}

function setNum(v: number): true {
  return set(v | 0, Math.floor(v / TWO32));
}

function isMtrr(index: number): boolean {
  return (index >= MSR_MTRR_PHYSBASE0 && index <= MSR_MTRR_PHYSMASK9) || index === MSR_MTRRfix64K_00000 ||
    index === MSR_MTRRfix16K_80000 || index === MSR_MTRRfix16K_A0000 ||
    (index >= MSR_MTRRfix4K_C0000 && index <= MSR_MTRRfix4K_F8000) || index === MSR_MTRRdefType;
}

/** The host TSC: the VMM's clock (cpu.tscClock), or instructions retired without one. */
export function hostTsc(cpu: X86Cpu): number {
  const c = cpu.tscClock;
  return c === null ? cpu.instret : c.hostTsc(cpu);
}

/** The TSC: the host TSC plus the offset (SDM 25.3, TSC offsetting). */
export function readTsc(cpu: X86Cpu): number {
  return hostTsc(cpu) + cpu.tscOffset;
}

export function msrRead(cpu: X86Cpu, index: number): boolean {
  switch (index >>> 0) {
    case MSR_EFER: return set(cpu.efer, 0);
    case MSR_STAR: return set(cpu.starLo, cpu.starHi);
    case MSR_LSTAR: return setNum(cpu.lstar);
    case MSR_CSTAR: return setNum(cpu.cstar);
    case MSR_SYSCALL_MASK: return set(cpu.sfmask, 0);
    case MSR_FS_BASE: return setNum(cpu.segBase[4]!);
    case MSR_GS_BASE: return setNum(cpu.segBase[5]!);
    case MSR_KERNEL_GS_BASE: return setNum(cpu.kernelGsBase);
    case MSR_TSC_AUX: return set(cpu.tscAux, 0);
    case MSR_IA32_SYSENTER_CS: return set(cpu.sysenterCs, 0);
    case MSR_IA32_SYSENTER_ESP: return setNum(cpu.sysenterEsp);
    case MSR_IA32_SYSENTER_EIP: return setNum(cpu.sysenterEip);
    case MSR_IA32_TSC: return setNum(readTsc(cpu));
    case MSR_IA32_APICBASE: return setNum(cpu.apicBase);
    case MSR_IA32_CR_PAT: return set(cpu.patLo, cpu.patHi);
    case MSR_IA32_MISC_ENABLE: return set(cpu.miscEnable, 0);
    case MSR_MTRRcap: return set(0x508, 0); // 8 variable ranges, fixed ranges, WC
    case MSR_IA32_FEATURE_CONTROL: return set(1, 0); // locked, VMX off
    case MSR_IA32_BIOS_SIGN_ID: case MSR_IA32_SPEC_CTRL: case MSR_IA32_TSC_ADJUST:
    case MSR_IA32_MCG_CAP: case MSR_IA32_MCG_STATUS: case MSR_IA32_DEBUGCTL: {
      const v = cpu.otherMsrs.get(index) ?? 0n;
      return set(Number(v & 0xffffffffn), Number(v >> 32n));
    }
  }
  if (isMtrr(index)) {
    const v = cpu.otherMsrs.get(index) ?? 0n;
    return set(Number(v & 0xffffffffn), Number(v >> 32n));
  }
  return false;
}

export function msrWrite(cpu: X86Cpu, index: number, lo: number, hi: number): boolean {
  const num = (hi | 0) * TWO32 + (lo >>> 0);
  switch (index >>> 0) {
    case MSR_EFER: {
      if (hi !== 0 || (lo & ~EFER_SUPPORTED)) return false;
      // LME cannot change while paging is on; LMA is read-only (set by CR0.PG).
      if ((cpu.cr0 & CR0_PG) && ((lo ^ cpu.efer) & EFER_LME)) return false;
      cpu.efer = (lo & ~EFER_LMA) | (cpu.efer & EFER_LMA);
      cpu.updateMode();
      cpu.flushTlb();
      return true;
    }
    case MSR_STAR: cpu.starLo = lo | 0; cpu.starHi = hi | 0; return true;
    case MSR_LSTAR: if (!isCanonical(num)) return false; cpu.lstar = num; return true;
    case MSR_CSTAR: if (!isCanonical(num)) return false; cpu.cstar = num; return true;
    case MSR_SYSCALL_MASK: cpu.sfmask = lo | 0; return true;
    case MSR_FS_BASE: if (!isCanonical(num)) return false; cpu.segBase[4] = num; return true;
    case MSR_GS_BASE: if (!isCanonical(num)) return false; cpu.segBase[5] = num; return true;
    case MSR_KERNEL_GS_BASE: if (!isCanonical(num)) return false; cpu.kernelGsBase = num; return true;
    case MSR_TSC_AUX: if (hi !== 0) return false; cpu.tscAux = lo | 0; return true;
    case MSR_IA32_SYSENTER_CS: cpu.sysenterCs = lo & 0xffff; return true;
    case MSR_IA32_SYSENTER_ESP: if (!isCanonical(num)) return false; cpu.sysenterEsp = num; return true;
    case MSR_IA32_SYSENTER_EIP: if (!isCanonical(num)) return false; cpu.sysenterEip = num; return true;
    case MSR_IA32_TSC: cpu.tscOffset = num - hostTsc(cpu); return true;
    case MSR_IA32_APICBASE: {
      // Bits 7:0 and 63:MAXPHYADDR reserved.
      if (lo & 0x2ff || hi & ~0x3fff) return false;
      cpu.apicBase = num;
      return true;
    }
    case MSR_IA32_CR_PAT: {
      // Each byte must be a valid memory type (0, 1, 4, 5, 6, 7).
      for (let i = 0; i < 8; i++) {
        const t = ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
        if (t === 2 || t === 3 || t > 7) return false;
      }
      cpu.patLo = lo | 0; cpu.patHi = hi | 0;
      return true;
    }
    case MSR_IA32_MISC_ENABLE: cpu.miscEnable = lo | 0; return true;
    case MSR_IA32_SPEC_CTRL:
      // IBRS is the one control (no STIBP or SSBD enumerated); other bits are reserved.
      if (hi !== 0 || (lo & ~SPEC_CTRL_IBRS) !== 0) return false;
      cpu.otherMsrs.set(index, BigInt(lo));
      return true;
    case MSR_IA32_PRED_CMD:
      // Write-only; an IBPB (or 0) is accepted and has nothing to flush.
      return hi === 0 && (lo & ~PRED_CMD_IBPB) === 0;
    case MSR_IA32_BIOS_SIGN_ID: case MSR_IA32_TSC_ADJUST: case MSR_IA32_MCG_STATUS:
    case MSR_IA32_DEBUGCTL:
      cpu.otherMsrs.set(index, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      return true;
  }
  if (isMtrr(index)) {
    cpu.otherMsrs.set(index, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    return true;
  }
  return false;
}
