/**
 * The contract between the engine core and the FPU/SSE unit: what the unit needs from
 * the CPU it runs inside (memory through segmentation and paging, GPRs, flags, faults).
 * Every memory access may throw the engine's fault object, so instructions read all
 * their source operands before they write anything.
 */
export interface FpuSseHost {
  /** Executing 64-bit code (CS.L=1 in long mode). */
  readonly mode64: boolean;
  read8(la: number): number;
  read16(la: number): number;
  read32(la: number): number;
  write8(la: number, v: number): void;
  write16(la: number, v: number): void;
  write32(la: number, v: number): void;
  /** Faults now if any byte of [la, la+len) is not writable. */
  probeWrite(la: number, len: number): void;
  /** Low 32 bits of GPR reg (0..15). */
  getGpr32(reg: number): number;
  /** High 32 bits of GPR reg. */
  getGprHi32(reg: number): number;
  /** 32-bit destination: zero-extends in 64-bit mode. */
  setGpr32(reg: number, v: number): void;
  setGpr64(reg: number, lo: number, hi: number): void;
  /** For FNSTSW AX. */
  setGpr16(reg: number, v: number): void;
  /** EFLAGS (materialised). */
  getFlags(): number;
  /** COMISS/UCOMISD/FCOMI: sets ZF PF CF, clears OF SF AF. */
  setArithFlags(zf: number, pf: number, cf: number): void;
  /** #UD=6, #NM=7, #MF=16, #XM=19, #GP=13, #AC=17: throws. */
  raise(vector: number, errorCode?: number): never;
  readonly cr0: number;
  readonly cr4: number;
  /**
   * Optional (an addition to the contract): the linear address of the x87 instruction
   * being executed and its CS selector, recorded as FIP/FCS (the "last instruction
   * pointer" FNSTENV/FXSAVE report). When absent FIP/FCS stay 0.
   */
  readonly fpuIp?: number;
  readonly fpuCs?: number;
  /**
   * Optional (an addition to the contract): sets OF SF ZF AF PF CF (each 0/1), for the
   * SSE4.2 string compares PCMPxSTRx, which set OF and SF too. Without it they raise #UD.
   */
  setStatusFlags?(of: number, sf: number, zf: number, af: number, pf: number, cf: number): void;
  /**
   * Optional (an addition to the contract): a REX prefix was present, so byte register
   * numbers 4-7 name SPL/BPL/SIL/DIL rather than AH/CH/DH/BH (CRC32 r/m8). Absent = no REX.
   */
  readonly rex?: boolean;
}

/** Exception vectors the unit raises (SDM Vol. 3 Table 6-1). */
/**
 * The `ea` that marks a register operand. Memory operands are linear addresses as the
 * engine keeps them: int32 in legacy modes (0x80000000 and up are negative) and
 * sign-extended canonical numbers in 64-bit mode, so "negative" cannot mean "register".
 */
export const EA_REG = Number.MIN_SAFE_INTEGER;

export const X86_VEC_UD = 6;
export const X86_VEC_NM = 7;
export const X86_VEC_GP = 13;
export const X86_VEC_MF = 16;
export const X86_VEC_AC = 17;
export const X86_VEC_XM = 19;

/** Control register bits the unit looks at. */
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_NE = 1 << 5;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;
