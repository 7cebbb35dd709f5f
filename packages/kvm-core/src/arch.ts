/**
 * The architecture backend interface: what kvm-core's generic Vm and Vcpu dispatch to.
 * x86 is implemented in kvm-core itself (x86/x86.ts, on top of a vendor's KvmX86Ops,
 * as arch/x86/kvm/x86.c sits on kvm_x86_ops); s390 by the kvm-s390 module.
 */
import type { KvmRun } from './kvm-run';
import type { Memslots } from './memory/memslots';
import type {
  KvmCpuidEntry2, KvmMpState, KvmMsrEntry, KvmRegs, KvmSregs,
} from './uapi/structs';

export type KvmArch = 'x86' | 's390';

/** What a backend sees of the generic VM. */
export interface KvmVmContext {
  readonly memslots: Memslots;
  readonly arch: KvmArch;
  /** The VM type passed to KVM_CREATE_VM. */
  readonly type: number;
}

/** What a backend sees of the generic vCPU. */
export interface KvmVcpuContext {
  readonly vcpuId: number;
  readonly kvmRun: KvmRun;
  readonly vm: KvmVmContext;
}

/** Registered by a module's init: one per architecture per host. */
export interface KvmArchBackend {
  readonly arch: KvmArch;
  /** The module that registered it (its refcount holds while its VMs live). */
  readonly moduleName: string;
  /** KVM_CHECK_EXTENSION on /dev/kvm; 0 when unsupported. */
  checkExtension(cap: number): number;
  /** Validates the KVM_CREATE_VM type argument; throws KvmError EINVAL if unknown. */
  checkVmType(type: number): void;
  createVm(vm: KvmVmContext): KvmArchVm;
  getSupportedCpuid?(): KvmCpuidEntry2[];
  getMsrIndexList?(): number[];
  /** KVM_GET_MSR_FEATURE_INDEX_LIST (x86). */
  getMsrFeatureIndexList?(): number[];
  /** KVM_GET_MSRS on the system fd: one feature MSR, undefined when unknown (x86). */
  getMsrFeature?(index: number): bigint | undefined;
}

export interface KvmArchVm {
  /** KVM_CHECK_EXTENSION on the VM fd; undefined falls back to the system answer. */
  checkExtension?(cap: number): number | undefined;
  /** KVM_CREATE_VCPU: validates the id (the generic layer checks duplicates). */
  createVcpu(vcpu: KvmVcpuContext): KvmArchVcpu;
  destroy(): void;
  /** Any VM-fd ioctl the architecture adds is reached through here (irqchip, PIT, ...). */
  readonly ioctls?: Readonly<Record<string, (...args: never[]) => unknown>>;
}

/** Each optional member is an ioctl the architecture may not have (ENOTTY when absent). */
export interface KvmArchVcpu {
  /** KVM_RUN: enter the guest until an exit userspace must see; fills vcpu.kvmRun. */
  run(): void;
  destroy(): void;
  getRegs?(): KvmRegs;
  setRegs?(regs: KvmRegs): void;
  getSregs?(): KvmSregs;
  setSregs?(sregs: KvmSregs): void;
  getMsrs?(indices: readonly number[]): KvmMsrEntry[];
  setMsrs?(entries: readonly KvmMsrEntry[]): number;
  setCpuid2?(entries: readonly KvmCpuidEntry2[]): void;
  getCpuid2?(): KvmCpuidEntry2[];
  getMpState?(): KvmMpState;
  setMpState?(state: KvmMpState): void;
  /** KVM_INTERRUPT: queue an external interrupt vector (no in-kernel irqchip). */
  interrupt?(irq: number): void;
  nmi?(): void;
  /** The vCPU's statistics counters (KVM_GET_STATS_FD), by Linux's stat names. */
  getStats?(): Record<string, number>;
  /** Any vCPU-fd ioctl the architecture adds (s390Interrupt, memOp, getLapic, ...). */
  readonly ioctls?: Readonly<Record<string, (...args: never[]) => unknown>>;
}
