/**
 * Which instructions and events cause VM exits in VMX non-root operation, and with which
 * basic exit reason (SDM vol. 3C 26.1-26.2 "Instructions That Cause VM Exits
 * Unconditionally/Conditionally", 26.7 VM-execution-control exits). The driver maps the
 * engine's intercept points onto these kinds; bitmap- and mask-driven decisions (I/O, MSR,
 * CR0/CR4, exceptions) are in bitmaps.ts.
 */
import * as C from './controls';
import { EXIT_REASON } from './exit-reasons';

/** Instruction kinds with a fixed VMX exit rule. */
export const VMX_INSN = {
  CPUID: 0,
  GETSEC: 1,
  INVD: 2,
  XSETBV: 3,
  VMCALL: 4,
  VMX_INSTRUCTION: 5, // VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON, INVEPT, INVVPID
  HLT: 6,
  INVLPG: 7,
  RDTSC: 8,
  RDTSCP: 9,
  RDPMC: 10,
  MWAIT: 11,
  MONITOR: 12,
  PAUSE: 13,
  WBINVD: 14,
  MOV_DR: 15,
  DESCRIPTOR_TABLE: 16, // LGDT LIDT LLDT LTR SGDT SIDT SLDT STR
  RDRAND: 17,
  RDSEED: 18,
  INVPCID: 19,
} as const;

/** Outcome of an instruction in non-root operation. */
export const VMX_INSN_EXECUTE = 0;
export const VMX_INSN_EXIT = 1;
/** The control that enables the instruction is clear: it raises #UD (RDTSCP, INVPCID). */
export const VMX_INSN_UD = 2;

/**
 * Decides the fate of `insn` from the primary and secondary processor-based controls
 * (secondary taken as 0 unless "activate secondary controls" is set).
 */
export function vmxInstructionOutcome(procBased: number, procBased2: number, insn: number): number {
  const p2 = procBased & C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? procBased2 : 0;
  const on = (b: boolean): number => (b ? VMX_INSN_EXIT : VMX_INSN_EXECUTE);
  switch (insn) {
    case VMX_INSN.CPUID:
    case VMX_INSN.GETSEC:
    case VMX_INSN.INVD:
    case VMX_INSN.XSETBV:
    case VMX_INSN.VMCALL:
    case VMX_INSN.VMX_INSTRUCTION:
      return VMX_INSN_EXIT;
    case VMX_INSN.HLT:
      return on((procBased & C.CPU_BASED_HLT_EXITING) !== 0);
    case VMX_INSN.INVLPG:
      return on((procBased & C.CPU_BASED_INVLPG_EXITING) !== 0);
    case VMX_INSN.RDTSC:
      return on((procBased & C.CPU_BASED_RDTSC_EXITING) !== 0);
    case VMX_INSN.RDTSCP:
      if (!(p2 & C.SECONDARY_EXEC_ENABLE_RDTSCP)) return VMX_INSN_UD;
      return on((procBased & C.CPU_BASED_RDTSC_EXITING) !== 0);
    case VMX_INSN.RDPMC:
      return on((procBased & C.CPU_BASED_RDPMC_EXITING) !== 0);
    case VMX_INSN.MWAIT:
      return on((procBased & C.CPU_BASED_MWAIT_EXITING) !== 0);
    case VMX_INSN.MONITOR:
      return on((procBased & C.CPU_BASED_MONITOR_EXITING) !== 0);
    case VMX_INSN.PAUSE:
      return on((procBased & C.CPU_BASED_PAUSE_EXITING) !== 0);
    case VMX_INSN.WBINVD:
      return on((p2 & C.SECONDARY_EXEC_WBINVD_EXITING) !== 0);
    case VMX_INSN.MOV_DR:
      return on((procBased & C.CPU_BASED_MOV_DR_EXITING) !== 0);
    case VMX_INSN.DESCRIPTOR_TABLE:
      return on((p2 & C.SECONDARY_EXEC_DESC) !== 0);
    case VMX_INSN.RDRAND:
      return on((p2 & C.SECONDARY_EXEC_RDRAND_EXITING) !== 0);
    case VMX_INSN.RDSEED:
      return on((p2 & C.SECONDARY_EXEC_RDSEED_EXITING) !== 0);
    case VMX_INSN.INVPCID:
      // INVPCID needs "enable INVPCID"; it then exits under "INVLPG exiting".
      if (!(p2 & C.SECONDARY_EXEC_ENABLE_INVPCID)) return VMX_INSN_UD;
      return on((procBased & C.CPU_BASED_INVLPG_EXITING) !== 0);
    default:
      throw new RangeError(`unknown VMX instruction kind ${insn}`);
  }
}

/** The basic exit reason an exiting `insn` reports (VMX instructions: pass the specific one). */
export function vmxInstructionExitReason(insn: number): number {
  switch (insn) {
    case VMX_INSN.CPUID: return EXIT_REASON.CPUID;
    case VMX_INSN.GETSEC: return EXIT_REASON.GETSEC;
    case VMX_INSN.INVD: return EXIT_REASON.INVD;
    case VMX_INSN.XSETBV: return EXIT_REASON.XSETBV;
    case VMX_INSN.VMCALL: return EXIT_REASON.VMCALL;
    case VMX_INSN.HLT: return EXIT_REASON.HLT;
    case VMX_INSN.INVLPG: return EXIT_REASON.INVLPG;
    case VMX_INSN.RDTSC: return EXIT_REASON.RDTSC;
    case VMX_INSN.RDTSCP: return EXIT_REASON.RDTSCP;
    case VMX_INSN.RDPMC: return EXIT_REASON.RDPMC;
    case VMX_INSN.MWAIT: return EXIT_REASON.MWAIT_INSTRUCTION;
    case VMX_INSN.MONITOR: return EXIT_REASON.MONITOR_INSTRUCTION;
    case VMX_INSN.PAUSE: return EXIT_REASON.PAUSE_INSTRUCTION;
    case VMX_INSN.WBINVD: return EXIT_REASON.WBINVD;
    case VMX_INSN.MOV_DR: return EXIT_REASON.DR_ACCESS;
    case VMX_INSN.DESCRIPTOR_TABLE: return EXIT_REASON.GDTR_IDTR; // LDTR_TR for LLDT/LTR/SLDT/STR
    case VMX_INSN.RDRAND: return EXIT_REASON.RDRAND;
    case VMX_INSN.RDSEED: return EXIT_REASON.RDSEED;
    case VMX_INSN.INVPCID: return EXIT_REASON.INVPCID;
    default:
      throw new RangeError(`no single exit reason for VMX instruction kind ${insn}`);
  }
}

/**
 * Event-driven exits (SDM 26.2, 26.7.5-26.7.6): an external interrupt exits with
 * "external-interrupt exiting"; an NMI with "NMI exiting"; the interrupt window is
 * reported when "interrupt-window exiting" is set and RFLAGS.IF=1 without STI/MOV-SS
 * blocking; the NMI window when "NMI-window exiting" is set and there is no virtual-NMI
 * or MOV-SS blocking (and, as implemented, no STI blocking).
 */
export function vmxExternalInterruptExits(pinBased: number): boolean {
  return (pinBased & C.PIN_BASED_EXT_INTR_MASK) !== 0;
}

export function vmxNmiExits(pinBased: number): boolean {
  return (pinBased & C.PIN_BASED_NMI_EXITING) !== 0;
}

export function vmxInterruptWindowOpen(procBased: number, rflagsIf: boolean, interruptibility: number): boolean {
  return (procBased & C.CPU_BASED_INTR_WINDOW_EXITING) !== 0 && rflagsIf && (interruptibility & (C.GUEST_INTR_STATE_STI | C.GUEST_INTR_STATE_MOV_SS)) === 0;
}

export function vmxNmiWindowOpen(procBased: number, interruptibility: number): boolean {
  return (
    (procBased & C.CPU_BASED_NMI_WINDOW_EXITING) !== 0 &&
    (interruptibility & (C.GUEST_INTR_STATE_NMI | C.GUEST_INTR_STATE_MOV_SS | C.GUEST_INTR_STATE_STI)) === 0
  );
}
