/**
 * Encoders and decoders for VM-exit information (SDM vol. 3C 28.2): exit qualifications
 * of the exits this model raises, the VM-exit interruption-information and
 * IDT-vectoring-information fields, and the VM-entry interruption-information field
 * (event injection) with its validity rules (SDM 26.2.1.3).
 *
 * Encoders take plain numbers and return the 32-bit field value; they run once per exit.
 */

// ---- interruption information (SDM tables 25-17, 25-19, 25-20)

export const INTR_INFO_VECTOR_MASK = 0xff;
export const INTR_INFO_INTR_TYPE_MASK = 0x700;
export const INTR_INFO_DELIVER_CODE_MASK = 0x800;
export const INTR_INFO_UNBLOCK_NMI = 0x1000;
export const INTR_INFO_VALID_MASK = 0x80000000;
/** Bits 30:12 of the VM-entry interruption-information field are reserved. */
export const INTR_INFO_RESVD_BITS_MASK = 0x7ffff000;

/** Interruption types (bits 10:8), Linux's INTR_TYPE_* >> 8. */
export const INTR_TYPE_EXT_INTR = 0;
export const INTR_TYPE_RESERVED = 1;
export const INTR_TYPE_NMI_INTR = 2;
export const INTR_TYPE_HARD_EXCEPTION = 3;
export const INTR_TYPE_SOFT_INTR = 4;
export const INTR_TYPE_PRIV_SW_EXCEPTION = 5;
export const INTR_TYPE_SOFT_EXCEPTION = 6;
export const INTR_TYPE_OTHER_EVENT = 7;

export interface InterruptionInfo {
  vector: number;
  type: number;
  errorCodeValid: boolean;
  /** Bit 12: NMI unblocking due to IRET (exit interruption info only). */
  nmiUnblocking: boolean;
  valid: boolean;
}

export function encodeInterruptionInfo(
  vector: number,
  type: number,
  errorCodeValid: boolean,
  nmiUnblocking = false,
): number {
  return (
    ((vector & 0xff) |
      ((type & 7) << 8) |
      (errorCodeValid ? INTR_INFO_DELIVER_CODE_MASK : 0) |
      (nmiUnblocking ? INTR_INFO_UNBLOCK_NMI : 0) |
      INTR_INFO_VALID_MASK) >>>
    0
  );
}

export function decodeInterruptionInfo(v: number): InterruptionInfo {
  return {
    vector: v & 0xff,
    type: (v >>> 8) & 7,
    errorCodeValid: (v & INTR_INFO_DELIVER_CODE_MASK) !== 0,
    nmiUnblocking: (v & INTR_INFO_UNBLOCK_NMI) !== 0,
    valid: (v & INTR_INFO_VALID_MASK) !== 0,
  };
}

/** Exceptions that push an error code in protected mode: #DF #TS #NP #SS #GP #PF #AC (#CP needs CET, not modelled). */
export function exceptionHasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** Inputs of the event-injection checks that live outside the field itself. */
export interface EventInjectionContext {
  /** VM_ENTRY_EXCEPTION_ERROR_CODE */
  errorCode: number;
  /** VM_ENTRY_INSTRUCTION_LEN */
  instructionLength: number;
  /** CR0.PE in the guest-state area (0 only with unrestricted guest). */
  guestCr0Pe: boolean;
  /** IA32_VMX_MISC bit 30: injection of software events with instruction length 0. */
  allowZeroLengthInjection: boolean;
  /** Monitor trap flag supported (type 7 "other event" is valid only then). */
  monitorTrapFlagSupported: boolean;
  /** IA32_VMX_BASIC bit 56: hardware exceptions may be delivered with or without error code freely. */
  noErrorCodeConstraint?: boolean;
}

/**
 * The VM-entry interruption-information checks of SDM 26.2.1.3. Returns undefined when
 * valid, else a message naming the violated rule (these failures are VM-instruction
 * error 7, invalid control field).
 */
export function checkEntryInterruptionInfo(info: number, ctx: EventInjectionContext): string | undefined {
  if ((info & INTR_INFO_VALID_MASK) === 0) return undefined;
  const vector = info & 0xff;
  const type = (info >>> 8) & 7;
  const deliver = (info & INTR_INFO_DELIVER_CODE_MASK) !== 0;
  if (type === INTR_TYPE_RESERVED) return 'interruption type 1 is reserved';
  if (type === INTR_TYPE_OTHER_EVENT && !ctx.monitorTrapFlagSupported) return 'interruption type 7 needs the monitor trap flag';
  if (type === INTR_TYPE_NMI_INTR && vector !== 2) return 'NMI injection must use vector 2';
  if (type === INTR_TYPE_HARD_EXCEPTION && vector > 31) return 'hardware exception vector above 31';
  if (type === INTR_TYPE_OTHER_EVENT && vector !== 0) return 'other event must use vector 0';
  const mustHaveCode = type === INTR_TYPE_HARD_EXCEPTION && ctx.guestCr0Pe && exceptionHasErrorCode(vector);
  if (ctx.noErrorCodeConstraint) {
    if (deliver && (type !== INTR_TYPE_HARD_EXCEPTION || !ctx.guestCr0Pe)) return 'deliver-error-code set for an event without an error code';
  } else if (deliver !== mustHaveCode) {
    return mustHaveCode ? 'deliver-error-code clear for an exception with an error code' : 'deliver-error-code set for an event without an error code';
  }
  if ((info & INTR_INFO_RESVD_BITS_MASK) !== 0) return 'reserved bits 30:12 set';
  if (deliver && (ctx.errorCode & 0xffff0000) !== 0) return 'error code bits 31:16 set';
  if (type === INTR_TYPE_SOFT_INTR || type === INTR_TYPE_PRIV_SW_EXCEPTION || type === INTR_TYPE_SOFT_EXCEPTION) {
    const len = ctx.instructionLength;
    if (len > 15 || len < 0) return 'VM-entry instruction length above 15';
    if (len === 0 && !ctx.allowZeroLengthInjection) return 'VM-entry instruction length 0 for a software event';
  }
  return undefined;
}

// ---- I/O instructions (SDM table 28-5)

export interface IoQualification {
  size: 1 | 2 | 4;
  in: boolean;
  string: boolean;
  rep: boolean;
  /** Operand encoding: true = immediate port, false = DX. */
  immediate: boolean;
  port: number;
}

export function encodeIoQualification(q: IoQualification): number {
  return (
    (((q.size - 1) & 7) |
      (q.in ? 1 << 3 : 0) |
      (q.string ? 1 << 4 : 0) |
      (q.rep ? 1 << 5 : 0) |
      (q.immediate ? 1 << 6 : 0) |
      ((q.port & 0xffff) << 16)) >>>
    0
  );
}

export function decodeIoQualification(v: number): IoQualification {
  return {
    size: ((v & 7) + 1) as 1 | 2 | 4,
    in: (v & (1 << 3)) !== 0,
    string: (v & (1 << 4)) !== 0,
    rep: (v & (1 << 5)) !== 0,
    immediate: (v & (1 << 6)) !== 0,
    port: v >>> 16,
  };
}

// ---- control-register accesses (SDM table 28-3)

export const CR_ACCESS_TYPE_MOV_TO_CR = 0;
export const CR_ACCESS_TYPE_MOV_FROM_CR = 1;
export const CR_ACCESS_TYPE_CLTS = 2;
export const CR_ACCESS_TYPE_LMSW = 3;

export interface CrAccessQualification {
  cr: number;
  accessType: number;
  /** LMSW operand type: true = memory, false = register. */
  lmswMemory: boolean;
  /** General-purpose register for MOV CR (0 = RAX ... 15 = R15). */
  gpr: number;
  /** LMSW source data (bits 31:16). */
  lmswSource: number;
}

export function encodeCrAccessQualification(q: CrAccessQualification): number {
  return (
    ((q.cr & 0xf) |
      ((q.accessType & 3) << 4) |
      (q.lmswMemory ? 1 << 6 : 0) |
      ((q.gpr & 0xf) << 8) |
      ((q.lmswSource & 0xffff) << 16)) >>>
    0
  );
}

export function decodeCrAccessQualification(v: number): CrAccessQualification {
  return {
    cr: v & 0xf,
    accessType: (v >>> 4) & 3,
    lmswMemory: (v & (1 << 6)) !== 0,
    gpr: (v >>> 8) & 0xf,
    lmswSource: v >>> 16,
  };
}

// ---- MOV DR (SDM table 28-4)

export interface DrAccessQualification {
  dr: number;
  /** true = MOV from DR, false = MOV to DR. */
  fromDr: boolean;
  gpr: number;
}

export function encodeDrAccessQualification(q: DrAccessQualification): number {
  return (q.dr & 7) | (q.fromDr ? 1 << 4 : 0) | ((q.gpr & 0xf) << 8);
}

export function decodeDrAccessQualification(v: number): DrAccessQualification {
  return { dr: v & 7, fromDr: (v & (1 << 4)) !== 0, gpr: (v >>> 8) & 0xf };
}

// ---- debug exceptions (SDM table 28-1): B0-B3, BD, BS, RTM

export const DEBUG_QUAL_B0_B3_MASK = 0xf;
export const DEBUG_QUAL_BD = 1 << 13;
export const DEBUG_QUAL_BS = 1 << 14;
export const DEBUG_QUAL_RTM = 1 << 16;

// ---- task switch (SDM table 28-2)

export const TASK_SWITCH_CALL = 0;
export const TASK_SWITCH_IRET = 1;
export const TASK_SWITCH_JMP = 2;
export const TASK_SWITCH_GATE = 3;

export function encodeTaskSwitchQualification(tssSelector: number, source: number): number {
  return ((tssSelector & 0xffff) | ((source & 3) << 30)) >>> 0;
}

export function decodeTaskSwitchQualification(v: number): { tssSelector: number; source: number } {
  return { tssSelector: v & 0xffff, source: v >>> 30 };
}

// ---- EPT violations (SDM table 28-7), Linux's EPT_VIOLATION_* names

export const EPT_VIOLATION_ACC_READ = 1 << 0;
export const EPT_VIOLATION_ACC_WRITE = 1 << 1;
export const EPT_VIOLATION_ACC_INSTR = 1 << 2;
export const EPT_VIOLATION_READABLE = 1 << 3;
export const EPT_VIOLATION_WRITABLE = 1 << 4;
export const EPT_VIOLATION_EXECUTABLE = 1 << 5;
export const EPT_VIOLATION_USER_EXEC = 1 << 6;
export const EPT_VIOLATION_GVA_IS_VALID = 1 << 7;
/** Bit 8 (meaningful when bit 7 is set): 1 = the final translation of a linear address, 0 = a guest paging-structure access. */
export const EPT_VIOLATION_GVA_TRANSLATED = 1 << 8;
export const EPT_VIOLATION_NMI_UNBLOCKING = 1 << 12;

export interface EptViolationQualification {
  read: boolean;
  write: boolean;
  fetch: boolean;
  /** Permissions of the guest-physical address: AND of the R/W/X bits along the walk (0 if not present). */
  readable: boolean;
  writable: boolean;
  executable: boolean;
  gvaValid: boolean;
  /** With gvaValid: access to the final translation (true) or to a guest paging-structure entry (false). */
  gvaTranslated: boolean;
  nmiUnblocking: boolean;
}

export function encodeEptViolationQualification(q: EptViolationQualification): number {
  return (
    (q.read ? EPT_VIOLATION_ACC_READ : 0) |
    (q.write ? EPT_VIOLATION_ACC_WRITE : 0) |
    (q.fetch ? EPT_VIOLATION_ACC_INSTR : 0) |
    (q.readable ? EPT_VIOLATION_READABLE : 0) |
    (q.writable ? EPT_VIOLATION_WRITABLE : 0) |
    (q.executable ? EPT_VIOLATION_EXECUTABLE : 0) |
    (q.gvaValid ? EPT_VIOLATION_GVA_IS_VALID : 0) |
    (q.gvaValid && q.gvaTranslated ? EPT_VIOLATION_GVA_TRANSLATED : 0) |
    (q.nmiUnblocking ? EPT_VIOLATION_NMI_UNBLOCKING : 0)
  );
}

export function decodeEptViolationQualification(v: number): EptViolationQualification {
  return {
    read: (v & EPT_VIOLATION_ACC_READ) !== 0,
    write: (v & EPT_VIOLATION_ACC_WRITE) !== 0,
    fetch: (v & EPT_VIOLATION_ACC_INSTR) !== 0,
    readable: (v & EPT_VIOLATION_READABLE) !== 0,
    writable: (v & EPT_VIOLATION_WRITABLE) !== 0,
    executable: (v & EPT_VIOLATION_EXECUTABLE) !== 0,
    gvaValid: (v & EPT_VIOLATION_GVA_IS_VALID) !== 0,
    gvaTranslated: (v & EPT_VIOLATION_GVA_TRANSLATED) !== 0,
    nmiUnblocking: (v & EPT_VIOLATION_NMI_UNBLOCKING) !== 0,
  };
}
