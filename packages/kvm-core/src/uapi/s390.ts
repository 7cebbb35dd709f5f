/**
 * s390 constants of include/uapi/linux/kvm.h and arch/s390/include/uapi/asm/kvm.h,
 * with the kernel's names and numbers (read from Debian's linux-libc-dev-s390x-cross
 * headers, /usr/s390x-linux-gnu/include/{linux,asm}/kvm.h).
 */

/** kvm_s390_interrupt.type (KVM_S390_INTERRUPT on a VM or vCPU fd) */
export const KVM_S390_SIGP_STOP = 0xfffe0000;
export const KVM_S390_PROGRAM_INT = 0xfffe0001;
export const KVM_S390_SIGP_SET_PREFIX = 0xfffe0002;
export const KVM_S390_RESTART = 0xfffe0003;
export const KVM_S390_INT_PFAULT_INIT = 0xfffe0004;
export const KVM_S390_INT_PFAULT_DONE = 0xfffe0005;
export const KVM_S390_MCHK = 0xfffe1000;
export const KVM_S390_INT_CLOCK_COMP = 0xffff1004;
export const KVM_S390_INT_CPU_TIMER = 0xffff1005;
export const KVM_S390_INT_VIRTIO = 0xffff2603;
export const KVM_S390_INT_SERVICE = 0xffff2401;
export const KVM_S390_INT_EMERGENCY = 0xffff1201;
export const KVM_S390_INT_EXTERNAL_CALL = 0xffff1202;
export const KVM_S390_INT_IO_MIN = 0x00000000;
export const KVM_S390_INT_IO_MAX = 0xfffdffff;
export const KVM_S390_INT_IO_AI_MASK = 0x04000000;

/** KVM_S390_INT_IO(ai, cssid, ssid, schid) */
export function KVM_S390_INT_IO(ai: number, cssid: number, ssid: number, schid: number): number {
  return ((cssid << 18) | (ssid << 16) | schid | (ai ? KVM_S390_INT_IO_AI_MASK : 0)) >>> 0;
}

/** kvm_s390_pgm_info.flags */
export const KVM_S390_PGM_FLAGS_ILC_VALID = 0x01;
export const KVM_S390_PGM_FLAGS_ILC_0 = 0x02;
export const KVM_S390_PGM_FLAGS_ILC_1 = 0x04;
export const KVM_S390_PGM_FLAGS_ILC_MASK = 0x06;
export const KVM_S390_PGM_FLAGS_NO_REWIND = 0x08;

/** kvm_s390_stop_info.flags */
export const KVM_S390_STOP_FLAG_STORE_STATUS = 0x01;

/** kvm_s390_mem_op.op */
export const KVM_S390_MEMOP_LOGICAL_READ = 0;
export const KVM_S390_MEMOP_LOGICAL_WRITE = 1;
export const KVM_S390_MEMOP_SIDA_READ = 2;
export const KVM_S390_MEMOP_SIDA_WRITE = 3;
export const KVM_S390_MEMOP_ABSOLUTE_READ = 4;
export const KVM_S390_MEMOP_ABSOLUTE_WRITE = 5;
/** kvm_s390_mem_op.flags */
export const KVM_S390_MEMOP_F_CHECK_ONLY = 1 << 0;
export const KVM_S390_MEMOP_F_INJECT_EXCEPTION = 1 << 1;
export const KVM_S390_MEMOP_F_SKEY_PROTECTION = 1 << 2;

/** kvm_run.s390_reset_flags (KVM_EXIT_S390_RESET) */
export const KVM_S390_RESET_POR = 1;
export const KVM_S390_RESET_CLEAR = 2;
export const KVM_S390_RESET_SUBSYSTEM = 4;
export const KVM_S390_RESET_CPU_INIT = 8;
export const KVM_S390_RESET_IPL = 16;

/** KVM_S390_STORE_STATUS special addresses */
export const KVM_S390_STORE_STATUS_NOADDR = -1;
export const KVM_S390_STORE_STATUS_PREFIXED = -2;

/** kvm_run.kvm_valid_regs / kvm_dirty_regs bits (struct kvm_sync_regs on s390) */
export const KVM_SYNC_PREFIX = 1 << 0;
export const KVM_SYNC_GPRS = 1 << 1;
export const KVM_SYNC_ACRS = 1 << 2;
export const KVM_SYNC_CRS = 1 << 3;
export const KVM_SYNC_ARCH0 = 1 << 4;
export const KVM_SYNC_PFAULT = 1 << 5;
export const KVM_SYNC_VRS = 1 << 6;
export const KVM_SYNC_RICCB = 1 << 7;
export const KVM_SYNC_FPRS = 1 << 8;
export const KVM_SYNC_GSCB = 1 << 9;
export const KVM_SYNC_BPBC = 1 << 10;
export const KVM_SYNC_ETOKEN = 1 << 11;
export const KVM_SYNC_DIAG318 = 1 << 12;

/** s390 ioctl numbers (nr within KVMIO), for the table and traces. */
export const KVM_S390_INTERRUPT_NR = 0x94;
export const KVM_S390_STORE_STATUS_NR = 0x95;
export const KVM_S390_SET_INITIAL_PSW_NR = 0x96;
export const KVM_S390_INITIAL_RESET_NR = 0x97;
export const KVM_S390_MEM_OP_NR = 0xb1;
export const KVM_S390_IRQ_NR = 0xb4;
export const KVM_S390_NORMAL_RESET_NR = 0xc3;
export const KVM_S390_CLEAR_RESET_NR = 0xc4;

/** Intercept codes of the SIE state description (icptcode at offset 0x50). */
export const ICPT_INST = 0x04;
export const ICPT_PROGI = 0x08;
export const ICPT_INSTPROGI = 0x0c;
export const ICPT_EXTREQ = 0x10;
export const ICPT_EXTINT = 0x14;
export const ICPT_IOREQ = 0x18;
export const ICPT_WAIT = 0x1c;
export const ICPT_VALIDITY = 0x20;
export const ICPT_STOP = 0x28;
export const ICPT_OPEREXC = 0x2c;
export const ICPT_PARTEXEC = 0x38;
export const ICPT_IOINST = 0x40;
export const ICPT_KSS = 0x5c;
