/**
 * The part of vcpu_vmx / vcpu_svm that does not depend on VMX or SVM, and the hardware
 * step of vcpu_enter_guest (arch/x86/kvm/x86.c) around kvm_x86_ops.vcpu_run:
 * kvm_mmu_reload (point the VMCS/VMCB at the current TDP root through load_mmu_pgd),
 * sync_lapic_to_cr8 before entry, the instructions the silicon retired into the VM
 * clock, and sync_cr8_to_lapic after the exit. A vendor's per-vCPU state extends
 * X86VendorVcpu and supplies only what its VMCS or VMCB does differently: which
 * registers it writes back before entry and how it reads RIP and the control registers
 * after the exit.
 */
import type { X86Cpu } from './engine/cpu';
import { ENGINE_EXIT_INTERNAL_ERROR } from './engine/guest-mode';
import { msrRead, msrValue, msrWrite } from './engine/msr';
import { KvmStringIo, lastEmulationError, type EngineEmulationHost } from './emulate';
import { KVM_EXIT_INTERNAL_ERROR, KVM_INTERNAL_ERROR_EMULATION } from '../uapi/kvm';
import type { TdpMmu } from './mmu/tdp-mmu';
import { EXIT_FASTPATH_NONE } from './kvm-x86-ops';
import { kvmAccountInstructions, kvmVcpuInstructionBudget } from './run-budget';
import { kvmGetCr8, kvmSetCr8, type KvmVcpuX86 } from './x86';
import { KVM_HOST_TSC_KHZ, KvmHostTsc } from './tsc';

const VCPU_REGS_RDX = 2;
const VCPU_REGS_RIP = 16;
const CR0_PG = 1 << 31;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;

/** Every VCPU_REGS_* bit (RAX..R15 and RIP): after an exit all of them are current. */
export const VCPU_REGS_ALL = (1 << 17) - 1;

/** The silicon side of a vendor (VmxSilicon, SvmSilicon) as the generic glue drives it. */
export interface X86VendorSilicon {
  readonly cpu: X86Cpu;
  /** The TDP MMU whose tables the silicon walks (EPT / NPT), null without TDP. */
  mmu: TdpMmu | null;
  /** Instructions retired by the last run or emulateOne. */
  retired: number;
  /** The engine's ENGINE_EXIT_* code of the last run. */
  lastEngineExit: number;
  /**
   * VM entry to VM exit (VMLAUNCH/VMRESUME, VMRUN) with an instruction budget; returns
   * X86_ENTRY_OK when the guest ran and exited, anything else when entry failed.
   */
  run(budget: number): number;
  /** One instruction with no intercepts on the state in the VMCS/VMCB (ENGINE_EXIT_*). */
  emulateOne(): number;
}

/** X86VendorSilicon.run's result for an entry that succeeded (VMX_ENTRY_OK, SVM_RUN_OK). */
export const X86_ENTRY_OK = 0;

/** The vendor-independent part of struct vcpu_vmx / vcpu_svm. */
export abstract class X86VendorVcpu<S extends X86VendorSilicon> implements EngineEmulationHost {
  readonly stringIo: KvmStringIo;
  /** The TDP root the VMCS/VMCB points at (load_mmu_pgd), -1 before the first load. */
  loadedRoot = -1;
  /** The silicon's host TSC: the VM clock (RDTSC without an exit). */
  readonly hostTsc: KvmHostTsc;
  /** The guest TSC offset and rate last loaded into the VMCS/VMCB (NaN: never). */
  private loadedTscOffset = NaN;
  private loadedTscKhz = NaN;

  /**
   * Becomes vcpu.vendor; a zap of the VM's TDP MMU flushes this vCPU's TLB, and the vCPU
   * gains the getExitInfo / dumpState debugging ioctls of its vendor.
   */
  constructor(vcpu: KvmVcpuX86, readonly silicon: S, mmu: TdpMmu | null) {
    silicon.mmu = mmu;
    this.hostTsc = new KvmHostTsc(vcpu.kvm.clock);
    silicon.cpu.tscClock = this.hostTsc;
    this.stringIo = new KvmStringIo(silicon.cpu);
    vcpu.vendor = this;
    mmu?.onZap(() => this.silicon.cpu.flushTlb());
    const ops = vcpu.ops;
    vcpu.ioctls = {
      ...vcpu.ioctls,
      getExitInfo: () => ops.getExitInfo(vcpu),
      ...(ops.dumpState !== undefined ? { dumpState: () => ops.dumpState!(vcpu) } : {}),
    };
  }

  get cpu(): X86Cpu {
    return this.silicon.cpu;
  }

  /**
   * Before entry: the registers the run loop wrote (kvm_register_is_dirty) and CR2 go
   * into the VMCS/VMCB (or the engine); clears vcpu.regsDirty.
   */
  protected abstract syncRegsToHardware(vcpu: KvmVcpuX86): void;

  /**
   * After the exit: RIP, CR2 and the control registers the guest changed without an
   * exit, back from the VMCS/VMCB into vcpu. (The GPRs are vcpu.regs, shared with the engine.)
   */
  protected abstract syncRegsFromHardware(vcpu: KvmVcpuX86): void;

  /**
   * RDTSC/RDTSCP exiting on or off in the VMCS/VMCB (CPU_BASED_RDTSC_EXITING, the
   * RDTSC/RDTSCP intercepts). KVM never intercepts them: the guest TSC is the host TSC
   * plus TSC_OFFSET. Here too, unless the vCPU's rate differs from the host's.
   */
  protected abstract setRdtscExiting(vcpu: KvmVcpuX86, exiting: boolean): void;

  /** vmx_vcpu_run / svm_vcpu_run's frame: sync, kvm_mmu_reload, enter, account, sync back. */
  vcpuRun(vcpu: KvmVcpuX86): number {
    this.prepareEntry(vcpu);
    const mmu = this.silicon.mmu;
    if (mmu !== null && this.loadedRoot !== mmu.root) vcpu.ops.loadMmuPgd(vcpu, mmu.root, 4);
    const res = this.silicon.run(kvmVcpuInstructionBudget(vcpu));
    if (res === X86_ENTRY_OK) this.completeExit(vcpu);
    return EXIT_FASTPATH_NONE;
  }

  /** EngineEmulationHost.emulateOne: the same frame around one intercept-free instruction. */
  emulateOne(vcpu: KvmVcpuX86): number {
    this.prepareEntry(vcpu);
    const r = this.silicon.emulateOne();
    this.completeExit(vcpu);
    return r;
  }

  private prepareEntry(vcpu: KvmVcpuX86): void {
    this.syncRegsToHardware(vcpu);
    // kvm_vcpu_write_tsc_offset: a TSC write, TSC_ADJUST or a rate change moved the offset.
    const tsc = vcpu.tsc;
    if (tsc.offset !== this.loadedTscOffset || tsc.tscKhz !== this.loadedTscKhz) this.loadTsc(vcpu);
    const cpu = this.silicon.cpu;
    // TSC_AUX is a guest MSR the hardware holds while the guest runs (RDTSCP, RDPID).
    cpu.tscAux = tsc.aux;
    this.hostTsc.entryInstret = cpu.instret;
    // sync_lapic_to_cr8: the engine's CR8 is the LAPIC's TPR[7:4].
    this.silicon.cpu.cr8 = kvmGetCr8(vcpu);
  }

  private loadTsc(vcpu: KvmVcpuX86): void {
    const tsc = vcpu.tsc;
    this.loadedTscOffset = tsc.offset;
    this.loadedTscKhz = tsc.tscKhz;
    vcpu.ops.writeTscOffset?.(vcpu, BigInt(tsc.offset));
    this.setRdtscExiting(vcpu, tsc.tscKhz !== KVM_HOST_TSC_KHZ);
  }

  private completeExit(vcpu: KvmVcpuX86): void {
    kvmAccountInstructions(vcpu, this.silicon.retired);
    vcpu.regsAvail = VCPU_REGS_ALL;
    this.syncRegsFromHardware(vcpu);
    // sync_cr8_to_lapic: a MOV to CR8 the guest did without an exit reaches the TPR.
    const cr8 = this.silicon.cpu.cr8 & 15;
    if (cr8 !== kvmGetCr8(vcpu)) kvmSetCr8(vcpu, cr8);
  }

  /**
   * The engine stopped on something it cannot run (ENGINE_EXIT_INTERNAL_ERROR): kvm_run
   * reports KVM_INTERNAL_ERROR_EMULATION with the engine's code and the reason is kept for
   * traces. Returns true then (handle_exit returns 0).
   */
  engineInternalError(vcpu: KvmVcpuX86): boolean {
    const sil = this.silicon;
    if (sil.lastEngineExit !== ENGINE_EXIT_INTERNAL_ERROR) return false;
    const run = vcpu.ctx.kvmRun;
    run.exitReason = KVM_EXIT_INTERNAL_ERROR;
    run.setInternalError(KVM_INTERNAL_ERROR_EMULATION, [BigInt(sil.lastEngineExit)]);
    lastEmulationError.set(vcpu, sil.cpu.exit.internalMessage);
    return true;
  }

  /** An MSR the VMCS/VMCB has no field for and the guest owns: the engine's value, or undefined (#GP). */
  engineGetMsr(index: number): bigint | undefined {
    if (!msrRead(this.silicon.cpu, index)) return undefined;
    return (BigInt(msrValue.hi >>> 0) << 32n) | BigInt(msrValue.lo >>> 0);
  }

  /** As engineGetMsr, for a write; false means #GP. */
  engineSetMsr(index: number, data: bigint): boolean {
    return msrWrite(this.silicon.cpu, index, Number(data & 0xffffffffn), Number((data >> 32n) & 0xffffffffn));
  }

  /**
   * set_cr0's long-mode step (enter_lmode / exit_lmode): with EFER.LME set, EFER.LMA
   * follows CR0.PG; the new EFER goes to the VMCS/VMCB through set_efer.
   */
  updateLongModeActive(vcpu: KvmVcpuX86, cr0: number): void {
    if (!(vcpu.efer & EFER_LME)) return;
    const old = vcpu.cr0;
    if (!(old & CR0_PG) && (cr0 & CR0_PG)) {
      vcpu.efer |= EFER_LMA;
      vcpu.ops.setEfer(vcpu, vcpu.efer);
    } else if ((old & CR0_PG) && !(cr0 & CR0_PG)) {
      vcpu.efer &= ~EFER_LMA;
      vcpu.ops.setEfer(vcpu, vcpu.efer);
    }
  }

  /**
   * The register part of vcpu_reset after the vendor set up its segments (SDM 9.1.1):
   * EFER 0, CR0 60000010h (INIT keeps CD/NW), CR2-CR4 0, the GPRs 0 but EDX (the
   * processor signature), RIP FFF0h.
   */
  resetRegs(vcpu: KvmVcpuX86, initEvent: boolean): void {
    const ops = vcpu.ops;
    const cr0 = 0x60000010 & (initEvent ? vcpu.cr0 | 0x10 : -1);
    vcpu.efer = 0;
    ops.setEfer(vcpu, 0);
    vcpu.cr0 = cr0;
    ops.setCr0(vcpu, cr0);
    vcpu.cr4 = 0;
    ops.setCr4(vcpu, 0);
    vcpu.cr3 = 0;
    vcpu.cr2 = 0;
    vcpu.regs.fill(0);
    vcpu.regs[2 * VCPU_REGS_RDX] = 0x600;
    vcpu.regs[2 * VCPU_REGS_RIP] = 0xfff0;
    vcpu.regsAvail = VCPU_REGS_ALL;
    vcpu.regsDirty = 0;
    // The vendor's reset rewrote its VMCS/VMCB controls: load the TSC ones again.
    this.loadedTscOffset = NaN;
  }
}
