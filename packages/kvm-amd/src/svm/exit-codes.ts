/**
 * SVM exit codes (AMD APM vol. 2 appendix C; Linux arch/x86/include/uapi/asm/svm.h).
 * EXITCODE is a 64-bit field; VMEXIT_INVALID is -1 (all ones).
 */
export const SVM_EXIT = {
  READ_CR0: 0x000, READ_CR2: 0x002, READ_CR3: 0x003, READ_CR4: 0x004, READ_CR8: 0x008,
  WRITE_CR0: 0x010, WRITE_CR2: 0x012, WRITE_CR3: 0x013, WRITE_CR4: 0x014, WRITE_CR8: 0x018,
  READ_DR0: 0x020, READ_DR1: 0x021, READ_DR2: 0x022, READ_DR3: 0x023, READ_DR4: 0x024, READ_DR5: 0x025, READ_DR6: 0x026, READ_DR7: 0x027,
  WRITE_DR0: 0x030, WRITE_DR1: 0x031, WRITE_DR2: 0x032, WRITE_DR3: 0x033, WRITE_DR4: 0x034, WRITE_DR5: 0x035, WRITE_DR6: 0x036, WRITE_DR7: 0x037,
  EXCP_BASE: 0x040,
  LAST_EXCP: 0x05f,
  INTR: 0x060,
  NMI: 0x061,
  SMI: 0x062,
  INIT: 0x063,
  VINTR: 0x064,
  CR0_SEL_WRITE: 0x065,
  IDTR_READ: 0x066,
  GDTR_READ: 0x067,
  LDTR_READ: 0x068,
  TR_READ: 0x069,
  IDTR_WRITE: 0x06a,
  GDTR_WRITE: 0x06b,
  LDTR_WRITE: 0x06c,
  TR_WRITE: 0x06d,
  RDTSC: 0x06e,
  RDPMC: 0x06f,
  PUSHF: 0x070,
  POPF: 0x071,
  CPUID: 0x072,
  RSM: 0x073,
  IRET: 0x074,
  SWINT: 0x075,
  INVD: 0x076,
  PAUSE: 0x077,
  HLT: 0x078,
  INVLPG: 0x079,
  INVLPGA: 0x07a,
  IOIO: 0x07b,
  MSR: 0x07c,
  TASK_SWITCH: 0x07d,
  FERR_FREEZE: 0x07e,
  SHUTDOWN: 0x07f,
  VMRUN: 0x080,
  VMMCALL: 0x081,
  VMLOAD: 0x082,
  VMSAVE: 0x083,
  STGI: 0x084,
  CLGI: 0x085,
  SKINIT: 0x086,
  RDTSCP: 0x087,
  ICEBP: 0x088,
  WBINVD: 0x089,
  MONITOR: 0x08a,
  MWAIT: 0x08b,
  MWAIT_COND: 0x08c,
  XSETBV: 0x08d,
  RDPRU: 0x08e,
  NPF: 0x400,
  AVIC_INCOMPLETE_IPI: 0x401,
  AVIC_UNACCELERATED_ACCESS: 0x402,
  /** VMEXIT_INVALID: the low 32 bits of the 64-bit -1 (EXITCODE_HI is also FFFFFFFF). */
  ERR: -1,
} as const;

export type SvmExitName = keyof typeof SVM_EXIT;

/** READ_CRn / WRITE_CRn / READ_DRn / WRITE_DRn for any n in 0..15. */
export function svmExitReadCr(n: number): number {
  return 0x000 + (n & 15);
}
export function svmExitWriteCr(n: number): number {
  return 0x010 + (n & 15);
}
export function svmExitReadDr(n: number): number {
  return 0x020 + (n & 15);
}
export function svmExitWriteDr(n: number): number {
  return 0x030 + (n & 15);
}
/** SVM_EXIT_EXCP_BASE + vector (e.g. #PF = 0x4e). */
export function svmExitException(vector: number): number {
  return SVM_EXIT.EXCP_BASE + (vector & 31);
}

const EXCEPTION_NAMES = ['DE', 'DB', 'NMI', 'BP', 'OF', 'BR', 'UD', 'NM', 'DF', 'CSO', 'TS', 'NP', 'SS', 'GP', 'PF', 'SPV', 'MF', 'AC', 'MC', 'XM', 'VE', 'CP'];

const NAMES = new Map<number, string>();
for (const [n, v] of Object.entries(SVM_EXIT)) if (!NAMES.has(v)) NAMES.set(v, n);
for (let i = 0; i < 16; i++) {
  NAMES.set(0x000 + i, `READ_CR${i}`);
  NAMES.set(0x010 + i, `WRITE_CR${i}`);
  NAMES.set(0x020 + i, `READ_DR${i}`);
  NAMES.set(0x030 + i, `WRITE_DR${i}`);
}
for (let i = 0; i < 32; i++) NAMES.set(0x040 + i, `EXCP_${EXCEPTION_NAMES[i] ?? `VECTOR_${i}`}`);

/** The name of an exit code (EXCP_BASE + vector is named after the exception). */
export function svmExitName(code: number): string | undefined {
  return NAMES.get(code === 0xffffffff ? -1 : code);
}
