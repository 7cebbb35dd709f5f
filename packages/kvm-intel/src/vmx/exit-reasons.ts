/**
 * VMX basic exit reasons (SDM vol. 3C appendix C) with Linux's EXIT_REASON_* names
 * (arch/x86/include/uapi/asm/vmx.h), and the bits of the 32-bit exit-reason field
 * (SDM 25.9.1).
 */
export const EXIT_REASON = {
  EXCEPTION_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  INIT_SIGNAL: 3,
  SIPI_SIGNAL: 4,
  IO_SMI: 5,
  OTHER_SMI: 6,
  INTERRUPT_WINDOW: 7,
  NMI_WINDOW: 8,
  TASK_SWITCH: 9,
  CPUID: 10,
  GETSEC: 11,
  HLT: 12,
  INVD: 13,
  INVLPG: 14,
  RDPMC: 15,
  RDTSC: 16,
  RSM: 17,
  VMCALL: 18,
  VMCLEAR: 19,
  VMLAUNCH: 20,
  VMPTRLD: 21,
  VMPTRST: 22,
  VMREAD: 23,
  VMRESUME: 24,
  VMWRITE: 25,
  VMOFF: 26,
  VMON: 27,
  CR_ACCESS: 28,
  DR_ACCESS: 29,
  IO_INSTRUCTION: 30,
  MSR_READ: 31,
  MSR_WRITE: 32,
  INVALID_STATE: 33,
  MSR_LOAD_FAIL: 34,
  MWAIT_INSTRUCTION: 36,
  MONITOR_TRAP_FLAG: 37,
  MONITOR_INSTRUCTION: 39,
  PAUSE_INSTRUCTION: 40,
  MCE_DURING_VMENTRY: 41,
  TPR_BELOW_THRESHOLD: 43,
  APIC_ACCESS: 44,
  EOI_INDUCED: 45,
  GDTR_IDTR: 46,
  LDTR_TR: 47,
  EPT_VIOLATION: 48,
  EPT_MISCONFIG: 49,
  INVEPT: 50,
  RDTSCP: 51,
  PREEMPTION_TIMER: 52,
  INVVPID: 53,
  WBINVD: 54,
  XSETBV: 55,
  APIC_WRITE: 56,
  RDRAND: 57,
  INVPCID: 58,
  VMFUNC: 59,
  ENCLS: 60,
  RDSEED: 61,
  PML_FULL: 62,
  XSAVES: 63,
  XRSTORS: 64,
  UMWAIT: 67,
  TPAUSE: 68,
  BUS_LOCK: 74,
  NOTIFY: 75,
} as const;

export type ExitReasonName = keyof typeof EXIT_REASON;

const NAMES = new Map<number, ExitReasonName>(
  (Object.entries(EXIT_REASON) as [ExitReasonName, number][]).map(([n, v]) => [v, n]),
);

export function exitReasonName(basic: number): ExitReasonName | undefined {
  return NAMES.get(basic & 0xffff);
}

// Exit-reason field (SDM table 25-18)
export const VMX_EXIT_REASON_BASIC_MASK = 0xffff;
/** Bit 27: the exit was incident to enclave mode. */
export const VMX_EXIT_REASONS_SGX_ENCLAVE_MODE = 0x08000000;
/** Bit 28: pending MTF VM exit. */
export const VMX_EXIT_REASONS_PENDING_MTF = 0x10000000;
/** Bit 29: VM exit from VMX root operation (SMM dual-monitor). */
export const VMX_EXIT_REASONS_ROOT_OPERATION = 0x20000000;
/** Bit 31: VM-entry failure. KVM reports hardware_entry_failure_reason = exit reason | this bit. */
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000;

export interface ExitReasonField {
  basic: number;
  enclaveMode: boolean;
  pendingMtf: boolean;
  fromRootOperation: boolean;
  failedVmEntry: boolean;
}

export function encodeExitReason(basic: number, failedVmEntry = false): number {
  return ((basic & 0xffff) | (failedVmEntry ? VMX_EXIT_REASONS_FAILED_VMENTRY : 0)) >>> 0;
}

export function decodeExitReason(v: number): ExitReasonField {
  return {
    basic: v & 0xffff,
    enclaveMode: (v & VMX_EXIT_REASONS_SGX_ENCLAVE_MODE) !== 0,
    pendingMtf: (v & VMX_EXIT_REASONS_PENDING_MTF) !== 0,
    fromRootOperation: (v & VMX_EXIT_REASONS_ROOT_OPERATION) !== 0,
    failedVmEntry: (v & VMX_EXIT_REASONS_FAILED_VMENTRY) !== 0,
  };
}

/** Exit qualification of a VM-entry failure with reason 33 (SDM 27.8; Linux ENTRY_FAIL_*). */
export const ENTRY_FAIL_DEFAULT = 0;
export const ENTRY_FAIL_PDPTE = 2;
export const ENTRY_FAIL_NMI = 3;
export const ENTRY_FAIL_VMCS_LINK_PTR = 4;
