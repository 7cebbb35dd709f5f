/**
 * @kvmts/kvm-core: kvm.ko in TypeScript. The public API mirrors /dev/kvm's ioctls;
 * the backend interfaces are what kvm-intel, kvm-amd and kvm-s390 register with.
 */
export { KvmError, ERRNO, isKvmError } from './errors';
export { EventFd } from './eventfd';
export type { Errno } from './errors';
export { Host, createHost, kvmArchInit, kvmArchExit } from './host';
export type { LsmodEntry } from './host';
export { defineModule, paramBool, paramInt } from './module';
export type { KvmModule } from './module';
export { Kvm } from './kvm';
export { Vm } from './vm';
export { Vcpu } from './vcpu';
export { KvmRun, KVM_VCPU_MMAP_SIZE } from './kvm-run';
export type {
  KvmRunIo, KvmRunMmio, KvmRunFailEntry, KvmRunException, KvmRunHypercall, KvmRunInternal,
  KvmRunSystemEvent, KvmRunDebug, KvmRunS390Sieic, KvmRunS390Reset,
} from './kvm-run';
export { Memslots, PAGE_SHIFT, MAX_GUEST_PHYS_ADDR } from './memory/memslots';
export type { MemorySlot, MemslotChange } from './memory/memslots';
export type {
  KvmArch, KvmArchBackend, KvmArchVm, KvmArchVcpu, KvmVmContext, KvmVcpuContext,
} from './arch';
export { parseArg } from './schemas';
export * as uapi from './uapi/kvm';
export { KVM_IOCTLS, ioc } from './uapi/ioctls';
export type { IoctlInfo, IoctlFd } from './uapi/ioctls';
export type {
  KvmRegs, KvmSegment, KvmDtable, KvmSregs, KvmUserspaceMemoryRegion, KvmCpuidEntry2,
  KvmMsrEntry, KvmMpState,
} from './uapi/structs';
export { KVM_REGS_FIELDS, KVM_SREGS_SEGMENTS, KVM_CPUID_FLAG_SIGNIFCANT_INDEX } from './uapi/structs';

// x86: the vendor backend interface and the generic layer vendors build on.
export {
  KVM_X86_OPS_TABLE, checkX86Ops, EXIT_FASTPATH_NONE, EXIT_FASTPATH_REENTER_GUEST,
  EXIT_FASTPATH_EXIT_HANDLED, EXIT_FASTPATH_EXIT_USERSPACE,
} from './x86/kvm-x86-ops';
export type {
  KvmX86Ops, KvmX86OpsSignatures, X86OpMark, X86QueuedException, X86ExitInfo,
} from './x86/kvm-x86-ops';
export {
  KvmX86Vm, KvmVcpuX86, kvmX86VendorInit, kvmX86VendorExit, kvmFastPio, kvmEmulateHalt,
  kvmQueueException,
} from './x86/x86';
export type { X86VendorInfo } from './x86/x86';
export * as x86Regs from './x86/regs';

// The x86 execution engine (the silicon the vendors drive): see x86/engine/index.ts and guest-mode.ts.
export * as x86Engine from './x86/engine/index';
export { X86Cpu } from './x86/engine/cpu';
export { EngineExit } from './x86/engine/guest-mode';
export type { GuestModeController, TdpHook, InterruptSource } from './x86/engine/guest-mode';
