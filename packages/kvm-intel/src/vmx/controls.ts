/**
 * VMX control-field bits (SDM vol. 3C 25.6-25.8), named as in Linux's
 * arch/x86/include/asm/vmx.h.
 */

// Pin-based VM-execution controls (SDM table 25-5)
export const PIN_BASED_EXT_INTR_MASK = 1 << 0;
export const PIN_BASED_NMI_EXITING = 1 << 3;
export const PIN_BASED_VIRTUAL_NMIS = 1 << 5;
export const PIN_BASED_VMX_PREEMPTION_TIMER = 1 << 6;
export const PIN_BASED_POSTED_INTR = 1 << 7;

// Primary processor-based VM-execution controls (SDM table 25-6)
export const CPU_BASED_INTR_WINDOW_EXITING = 1 << 2;
export const CPU_BASED_USE_TSC_OFFSETTING = 1 << 3;
export const CPU_BASED_HLT_EXITING = 1 << 7;
export const CPU_BASED_INVLPG_EXITING = 1 << 9;
export const CPU_BASED_MWAIT_EXITING = 1 << 10;
export const CPU_BASED_RDPMC_EXITING = 1 << 11;
export const CPU_BASED_RDTSC_EXITING = 1 << 12;
export const CPU_BASED_CR3_LOAD_EXITING = 1 << 15;
export const CPU_BASED_CR3_STORE_EXITING = 1 << 16;
export const CPU_BASED_ACTIVATE_TERTIARY_CONTROLS = 1 << 17;
export const CPU_BASED_CR8_LOAD_EXITING = 1 << 19;
export const CPU_BASED_CR8_STORE_EXITING = 1 << 20;
export const CPU_BASED_TPR_SHADOW = 1 << 21;
export const CPU_BASED_NMI_WINDOW_EXITING = 1 << 22;
export const CPU_BASED_MOV_DR_EXITING = 1 << 23;
export const CPU_BASED_UNCOND_IO_EXITING = 1 << 24;
export const CPU_BASED_USE_IO_BITMAPS = 1 << 25;
export const CPU_BASED_MONITOR_TRAP_FLAG = 1 << 27;
export const CPU_BASED_USE_MSR_BITMAPS = 1 << 28;
export const CPU_BASED_MONITOR_EXITING = 1 << 29;
export const CPU_BASED_PAUSE_EXITING = 1 << 30;
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 1 << 31;

// Secondary processor-based VM-execution controls (SDM table 25-7)
export const SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES = 1 << 0;
export const SECONDARY_EXEC_ENABLE_EPT = 1 << 1;
export const SECONDARY_EXEC_DESC = 1 << 2;
export const SECONDARY_EXEC_ENABLE_RDTSCP = 1 << 3;
export const SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE = 1 << 4;
export const SECONDARY_EXEC_ENABLE_VPID = 1 << 5;
export const SECONDARY_EXEC_WBINVD_EXITING = 1 << 6;
export const SECONDARY_EXEC_UNRESTRICTED_GUEST = 1 << 7;
export const SECONDARY_EXEC_APIC_REGISTER_VIRT = 1 << 8;
export const SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY = 1 << 9;
export const SECONDARY_EXEC_PAUSE_LOOP_EXITING = 1 << 10;
export const SECONDARY_EXEC_RDRAND_EXITING = 1 << 11;
export const SECONDARY_EXEC_ENABLE_INVPCID = 1 << 12;
export const SECONDARY_EXEC_ENABLE_VMFUNC = 1 << 13;
export const SECONDARY_EXEC_SHADOW_VMCS = 1 << 14;
export const SECONDARY_EXEC_ENCLS_EXITING = 1 << 15;
export const SECONDARY_EXEC_RDSEED_EXITING = 1 << 16;
export const SECONDARY_EXEC_ENABLE_PML = 1 << 17;
export const SECONDARY_EXEC_EPT_VIOLATION_VE = 1 << 18;
export const SECONDARY_EXEC_XSAVES = 1 << 20;
export const SECONDARY_EXEC_MODE_BASED_EPT_EXEC = 1 << 22;
export const SECONDARY_EXEC_TSC_SCALING = 1 << 25;

// VM-exit controls (SDM table 25-13)
export const VM_EXIT_SAVE_DEBUG_CONTROLS = 1 << 2;
export const VM_EXIT_HOST_ADDR_SPACE_SIZE = 1 << 9;
export const VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 12;
export const VM_EXIT_ACK_INTR_ON_EXIT = 1 << 15;
export const VM_EXIT_SAVE_IA32_PAT = 1 << 18;
export const VM_EXIT_LOAD_IA32_PAT = 1 << 19;
export const VM_EXIT_SAVE_IA32_EFER = 1 << 20;
export const VM_EXIT_LOAD_IA32_EFER = 1 << 21;
export const VM_EXIT_SAVE_VMX_PREEMPTION_TIMER = 1 << 22;
export const VM_EXIT_CLEAR_BNDCFGS = 1 << 23;

// VM-entry controls (SDM table 25-15)
export const VM_ENTRY_LOAD_DEBUG_CONTROLS = 1 << 2;
export const VM_ENTRY_IA32E_MODE = 1 << 9;
export const VM_ENTRY_SMM = 1 << 10;
export const VM_ENTRY_DEACT_DUAL_MONITOR = 1 << 11;
export const VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 13;
export const VM_ENTRY_LOAD_IA32_PAT = 1 << 14;
export const VM_ENTRY_LOAD_IA32_EFER = 1 << 15;
export const VM_ENTRY_LOAD_BNDCFGS = 1 << 16;

/**
 * "Default1" bits (SDM A.2): reserved bits that the non-TRUE capability MSRs report as
 * must-be-1. The TRUE_ MSRs may allow some of them to be 0.
 */
export const PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR = 0x00000016;
export const CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR = 0x0401e172;
export const VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR = 0x00036dff;
export const VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR = 0x000011ff;

/** Guest activity states (SDM 25.4.2). */
export const GUEST_ACTIVITY_ACTIVE = 0;
export const GUEST_ACTIVITY_HLT = 1;
export const GUEST_ACTIVITY_SHUTDOWN = 2;
export const GUEST_ACTIVITY_WAIT_SIPI = 3;

/** Guest interruptibility state bits (SDM table 25-3). */
export const GUEST_INTR_STATE_STI = 1 << 0;
export const GUEST_INTR_STATE_MOV_SS = 1 << 1;
export const GUEST_INTR_STATE_SMI = 1 << 2;
export const GUEST_INTR_STATE_NMI = 1 << 3;
export const GUEST_INTR_STATE_ENCLAVE_INTR = 1 << 4;
