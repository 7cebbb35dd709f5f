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
  KvmRunSystemEvent, KvmRunDebug, KvmRunS390Sieic, KvmRunS390Reset, KvmSyncRegsS390,
} from './kvm-run';
export { Memslots, PAGE_SHIFT, MAX_GUEST_PHYS_ADDR } from './memory/memslots';
export type { MemorySlot, MemslotChange } from './memory/memslots';
export type {
  KvmArch, KvmArchBackend, KvmArchVm, KvmArchVcpu, KvmVmContext, KvmVcpuContext,
} from './arch';
export { parseArg } from './schemas';
export * as uapi from './uapi/kvm';
export * as s390uapi from './uapi/s390';
export { KVM_IOCTLS, ioc } from './uapi/ioctls';
export type { IoctlInfo, IoctlFd } from './uapi/ioctls';
export type {
  KvmRegs, KvmSegment, KvmDtable, KvmSregs, KvmUserspaceMemoryRegion, KvmCpuidEntry2,
  KvmMsrEntry, KvmMpState,
} from './uapi/structs';
export { KVM_REGS_FIELDS, KVM_SREGS_SEGMENTS, KVM_CPUID_FLAG_SIGNIFCANT_INDEX } from './uapi/structs';

// x86 in-kernel irqchip, timers, clock and paravirt (issue 5).
export { VmClock, hostMonotonicNs, VIRTUAL_CLOCK_DEFAULT_EPOCH_NS } from './clock';
export type { VmClockMode, VmClockOptions } from './clock';
export {
  KVM_DEFAULT_TIME_SLICE_NS, kvmVcpuReset, kvmApicAcceptEvents, kvmGetCr8, kvmSetCr8, kvmGetMsr, kvmSetMsr,
  kvmVcpuMmioRead, kvmVcpuMmioWrite,
} from './x86/x86';
export { KvmIoBus, KVM_MMIO_BUS, KVM_PIO_BUS, ioDataGet, ioDataSet } from './x86/io-bus';
export type { KvmIoDevice } from './x86/io-bus';
export { KvmPic, KvmKpicState, PIC_NUM_PINS, KVM_PIC_STATE_FIELDS } from './x86/irqchip/i8259';
export type { KvmPicState } from './x86/irqchip/i8259';
export { KvmIoapic, IOAPIC_DEFAULT_BASE_ADDRESS, IOAPIC_NUM_PINS } from './x86/irqchip/ioapic';
export type { KvmIoapicState } from './x86/irqchip/ioapic';
export { KvmLapic, newLapicIrq, KVM_APIC_INIT, KVM_APIC_SIPI } from './x86/irqchip/lapic';
export type { KvmLapicIrq, KvmLapicEnv } from './x86/irqchip/lapic';
export * as lapicRegs from './x86/irqchip/lapic-regs';
export { KvmIrqchip } from './x86/irqchip/irqchip';
export type { KvmIrqAckNotifier } from './x86/irqchip/irqchip';
export {
  KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID, KVM_MAX_IRQ_ROUTES,
  KVM_USERSPACE_IRQ_SOURCE_ID, KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, KVM_PIT_IRQ_SOURCE_ID,
  buildRoutingTable, defaultRoutingEntries, kvmSetMsiIrq,
} from './x86/irqchip/irq-routing';
export type { KvmIrqRoutingEntry, KvmIrqRoutingIrqchip, KvmIrqRoutingMsi, KvmMsi } from './x86/irqchip/irq-routing';
export { kvmCpuHasExtint, kvmCpuHasInjectableIntr, kvmCpuGetInterrupt } from './x86/irqchip/irq';
export type { KvmIrqfd } from './x86/irqchip/irqfd';
export type { KvmIoeventfd } from './x86/ioeventfd';
export type { KvmVcpuEvents } from './x86/irqchip/irqchip-ioctls';
export {
  KvmPit, KVM_PIT_FREQ, KVM_PIT_FLAGS_HPET_LEGACY, KVM_PIT_FLAGS_SPEAKER_DATA_ON,
} from './x86/i8254';
export type { KvmPitState2, KvmPitChannelState } from './x86/i8254';
export {
  KvmVcpuTsc, kvmTscCpuidLeaves, KVM_DEFAULT_TSC_KHZ, MSR_IA32_TSC, MSR_IA32_TSC_ADJUST, MSR_TSC_AUX,
} from './x86/tsc';
export {
  MSR_IA32_ARCH_CAPABILITIES, ARCH_CAP_IBRS_ALL, kvmGetArchCapabilities, KVM_FEATURE_MSRS,
} from './x86/arch-capabilities';
export {
  MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
  MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN, KVM_MSR_ENABLED, PVCLOCK_TSC_STABLE_BIT, KVM_CLOCK_TSC_STABLE,
  KVM_CLOCK_REALTIME, kvmGetTimeScale, pvclockScaleDelta,
} from './x86/kvmclock';
export { kvmGetMsrCommon, kvmSetMsrCommon, KVM_COMMON_MSRS, kvmMsrIsCommon, MSR_EFER } from './x86/msr-common';
export { kvmEmulateHypercall, isLongModeCode } from './x86/hypercall';
export * as kvmHypercall from './x86/hypercall';
export * as kvmPara from './x86/kvm-para';
export { kvmParavirtCpuidLeaves, kvmParavirtCpuidEntries, KVM_SUPPORTED_PV_FEATURES } from './x86/kvm-para';
export { kvmPvEoiSyncToGuest, kvmPvEoiSyncFromGuest, KVM_PV_EOI_ENABLED } from './x86/pv-eoi';
export { kvmRecordStealTime, kvmStealTimeSetPreempted, KVM_STEAL_TIME_SIZE, KVM_VCPU_PREEMPTED } from './x86/steal-time';
export { kvmIrqchipInterruptSource } from './x86/irqchip/irq';
export { kvmVcpuInstructionBudget, kvmAccountInstructions, KVM_HOST_CLOCK_BUDGET } from './x86/run-budget';

// x86: the vendor backend interface and the generic layer vendors build on.
export {
  KVM_X86_OPS_TABLE, checkX86Ops, EXIT_FASTPATH_NONE, EXIT_FASTPATH_REENTER_GUEST,
  EXIT_FASTPATH_EXIT_HANDLED, EXIT_FASTPATH_EXIT_USERSPACE,
} from './x86/kvm-x86-ops';
export type {
  KvmX86Ops, KvmX86OpsSignatures, X86OpMark, X86QueuedException, X86ExitInfo, KvmExitTrace,
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
export { jitParams, jitStats } from './x86/engine/jit/block-cache';
export { EngineExit } from './x86/engine/guest-mode';
export type { GuestModeController, TdpHook, InterruptSource } from './x86/engine/guest-mode';

// Drivers on the engine: the TDP MMU and instruction emulation (issue 4's driver side).
export {
  TdpMmu, TdpPagePool, TDP_POOL_BASE, RET_PF_FIXED, RET_PF_EMULATE, RET_PF_INVALID,
} from './x86/mmu/tdp-mmu';
export type { TdpFormat } from './x86/mmu/tdp-mmu';
export {
  kvmEmulateInstruction, kvmEmulateStringIo, kvmEmulateCpuid, kvmCpuid, kvmFixHypercall, kvmEmulationFailure,
  KvmStringIo, lastEmulationError, kvmHandleUd,
} from './x86/emulate';
export type { EngineEmulationHost } from './x86/emulate';
export {
  kvmSetCr0, kvmSetCr4, kvmHandleCrAccess, kvmEmulateRdmsr, kvmEmulateWrmsr, kvmEmulateRdtsc, kvmInjectGp, kvmInjectUd,
  KVM_CR4_GUEST_SUPPORTED, kvmEmulateAsNop, kvmHandleInvlpg, kvmHandleIo, kvmHandleInterruptWindow,
  kvmPrepareUnexpectedReasonExit, kvmMmuPageFault,
} from './x86/exit-handlers';
// The vendor-independent half of vcpu_vmx / vcpu_svm and vcpu_enter_guest's hardware step.
export { X86VendorVcpu, X86_ENTRY_OK, VCPU_REGS_ALL } from './x86/vendor-vcpu';
export type { X86VendorSilicon } from './x86/vendor-vcpu';

// Shared by the x86 vendors: CPUID feature bits and page-table memory for EPT/NPT walkers.
export {
  CPUID_FEATURE_BITS, AMD_ONLY_FEATURES, AMD_LEAF1_EDX_MIRROR_MASK, featureMask, cpuidString4,
  supportedCpuidOptionsSchema, parseCpuidOptions, X86_ENGINE_FEATURES,
} from './x86/cpuid-features';
export {
  cpuidEntry, cpuidBrandEntries, cpuidXsaveEntries, xsaveSize, XFEATURE_MASK_FP, XFEATURE_MASK_SSE, XFEATURE_MASK_YMM,
} from './x86/cpuid-entries';
export type { CpuidFeature, CpuidBit, CpuidRegister, SupportedCpuidOptions } from './x86/cpuid-features';
export { PageTablePool } from './x86/mmu/page-table-memory';
export type { PageTableMemory } from './x86/mmu/page-table-memory';
