/**
 * The generic x86 layer (arch/x86/kvm/x86.c): the x86 architecture backend, built on a
 * vendor's KvmX86Ops. It owns the architectural vCPU state that Linux keeps in
 * kvm_vcpu_arch, the KVM_RUN loop (vcpu_enter_guest / handle_exit contract) and the
 * generic exit handlers the vendors call (pio, hlt, ...).
 */
import type {
  KvmArchBackend, KvmArchVcpu, KvmArchVm, KvmVcpuContext, KvmVmContext,
} from '../arch';
import { ERRNO, KvmError, type Errno } from '../errors';
import type { Host } from '../host';
import { kvmArchExit, kvmArchInit } from '../host';
import {
  KVM_CAP_ADJUST_CLOCK, KVM_CAP_GET_TSC_KHZ, KVM_CAP_HLT, KVM_CAP_IOEVENTFD, KVM_CAP_IOEVENTFD_ANY_LENGTH,
  KVM_CAP_IOEVENTFD_NO_LENGTH, KVM_CAP_IRQCHIP, KVM_CAP_IRQFD, KVM_CAP_IRQFD_RESAMPLE,
  KVM_CAP_IRQ_INJECT_STATUS, KVM_CAP_IRQ_ROUTING, KVM_CAP_MP_STATE, KVM_CAP_NOP_IO_DELAY, KVM_CAP_PIT,
  KVM_CAP_PIT2, KVM_CAP_PIT_STATE2, KVM_CAP_SET_GUEST_DEBUG, KVM_CAP_SIGNAL_MSI, KVM_CAP_TSC_CONTROL, KVM_CAP_GET_MSR_FEATURES,
  KVM_CAP_USER_NMI, KVM_CAP_VCPU_EVENTS, KVM_EXIT_HLT, KVM_EXIT_INTR, KVM_EXIT_IO, KVM_EXIT_IO_IN,
  KVM_MP_STATE_HALTED, KVM_MP_STATE_INIT_RECEIVED, KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_SIPI_RECEIVED,
  KVM_MP_STATE_UNINITIALIZED, KVM_X86_DEFAULT_VM,
} from '../uapi/kvm';
import { VmClock } from '../clock';
import { KvmIoBus, type KvmIoDevice } from './io-bus';
import { KvmIoeventfds } from './ioeventfd';
import type { KvmPit } from './i8254';
import { KvmIrqfds } from './irqchip/irqfd';
import type { KvmIrqchip } from './irqchip/irqchip';
import { KvmLapic, KVM_APIC_INIT, KVM_APIC_SIPI } from './irqchip/lapic';
import { kvmCpuGetInterrupt, kvmCpuHasInjectableIntr } from './irqchip/irq';
import { KVM_MAX_IRQ_ROUTES } from './irqchip/irq-routing';
import { x86VcpuIrqchipIoctls, x86VmIrqchipIoctls } from './irqchip/irqchip-ioctls';
import { KvmVcpuTsc } from './tsc';
import { KVM_CLOCK_REALTIME, KVM_CLOCK_TSC_STABLE, kvmGetTimeScale, PVCLOCK_TSC_STABLE_BIT, writePvclockTimeInfo, writePvclockWallClock } from './kvmclock';
import { KVM_COMMON_MSRS, kvmGetMsrCommon, kvmSetMsrCommon } from './msr-common';
import { KVM_FEATURE_MSRS, kvmGetArchCapabilities, kvmGetMsrFeature } from './arch-capabilities';
import { kvmPvEoiSyncFromGuest, kvmPvEoiSyncToGuest } from './pv-eoi';
import { kvmRecordStealTime, kvmStealTimeSetPreempted } from './steal-time';
import {
  KVM_REGS_FIELDS, KVM_SREGS_SEGMENTS, type KvmCpuidEntry2, type KvmMpState, type KvmMsrEntry,
  type KvmRegs, type KvmSregs,
} from '../uapi/structs';
import { checkX86Ops, type KvmExitTrace, type KvmX86Ops, type X86QueuedException } from './kvm-x86-ops';
import {
  createRegisterFile, readReg64, VCPU_REGS_RAX, VCPU_REGS_RBP, VCPU_REGS_RBX, VCPU_REGS_RCX,
  VCPU_REGS_RDI, VCPU_REGS_RDX, VCPU_REGS_RIP, VCPU_REGS_RSI, VCPU_REGS_RSP, VCPU_SREG_CS,
  VCPU_SREG_DS, VCPU_SREG_ES, VCPU_SREG_FS, VCPU_SREG_GS, VCPU_SREG_LDTR, VCPU_SREG_SS,
  VCPU_SREG_TR, writeReg64, type VcpuSreg,
} from './regs';

/** The default time slice of a KVM_RUN before it returns KVM_EXIT_INTR (VM-clock ns). */
export const KVM_DEFAULT_TIME_SLICE_NS = 10_000_000;

/** What a vendor passes to kvmX86VendorInit besides its ops. */
export interface X86VendorInfo {
  /** KVM_GET_SUPPORTED_CPUID for this vendor. */
  supportedCpuid(): KvmCpuidEntry2[];
  /** KVM_GET_MSR_INDEX_LIST */
  msrIndexList(): number[];
  /** Vendor-specific KVM_CHECK_EXTENSION answers (0/undefined: not supported). */
  checkExtension?(cap: number): number | undefined;
}

/** The order of kvm_regs fields mapped to VCPU_REGS_* indices (rflags is separate). */
const KVM_REGS_INDEX: readonly number[] = [
  VCPU_REGS_RAX, VCPU_REGS_RBX, VCPU_REGS_RCX, VCPU_REGS_RDX, VCPU_REGS_RSI, VCPU_REGS_RDI,
  VCPU_REGS_RSP, VCPU_REGS_RBP, 8, 9, 10, 11, 12, 13, 14, 15, VCPU_REGS_RIP,
];
const SREG_INDEX: Record<(typeof KVM_SREGS_SEGMENTS)[number], VcpuSreg> = {
  cs: VCPU_SREG_CS, ds: VCPU_SREG_DS, es: VCPU_SREG_ES, fs: VCPU_SREG_FS,
  gs: VCPU_SREG_GS, ss: VCPU_SREG_SS, tr: VCPU_SREG_TR, ldt: VCPU_SREG_LDTR,
};

/** The x86 VM (struct kvm_arch). */
export class KvmX86Vm implements KvmArchVm {
  /** Vendor-private per-VM state (kvm_vmx / kvm_svm). */
  vendor: unknown = undefined;
  readonly vcpus: KvmVcpuX86[] = [];
  ioctls: Record<string, (...args: never[]) => unknown> = {};

  /** The VM's clock: every timer reads it (see clock.ts). */
  readonly clock = new VmClock();
  /** kvmclock = VM clock + this offset (KVM_SET_CLOCK moves it). */
  kvmclockOffsetNs = 0;
  /** MSR_KVM_WALL_CLOCK(_NEW) as last written (per VM, as in Linux). */
  wallClockMsr = 0n;
  /** The in-kernel PIC/IOAPIC/LAPICs (KVM_CREATE_IRQCHIP), or null (userspace irqchip). */
  irqchip: KvmIrqchip | null = null;
  /** The in-kernel PIT (KVM_CREATE_PIT2), or null. */
  pit: KvmPit | null = null;
  /** kvm->buses[KVM_PIO_BUS] / [KVM_MMIO_BUS]: in-kernel devices, consulted before exiting. */
  readonly pioBus = new KvmIoBus('pio');
  readonly mmioBus = new KvmIoBus('mmio');
  readonly irqfds = new KvmIrqfds(() => this.irqchip);
  readonly ioeventfds = new KvmIoeventfds(this.pioBus, this.mmioBus);
  /** How long one KVM_RUN may run before returning KVM_EXIT_INTR (VM-clock ns). */
  timeSliceNs = KVM_DEFAULT_TIME_SLICE_NS;
  private ioapicMmio: KvmIoDevice | null = null;

  constructor(readonly ops: KvmX86Ops, readonly vm: KvmVmContext) {
    ops.vmInit?.(this);
    this.ioctls = { ...x86VmIrqchipIoctls(this), ...this.ioctls };
  }

  createVcpu(ctx: KvmVcpuContext): KvmArchVcpu {
    const vcpu = new KvmVcpuX86(this, ctx);
    this.vcpus.push(vcpu);
    if (vcpu.apic !== null) this.irqchip?.lapics.push(vcpu.apic);
    return vcpu;
  }

  /** The IOAPIC's MMIO device object (one per VM, so it can be unregistered on relocation). */
  ioapicDevice(): KvmIoDevice {
    if (this.ioapicMmio === null) this.ioapicMmio = this.irqchip!.ioapic.ioDevice();
    return this.ioapicMmio;
  }

  /** kvm_vcpu_kick of the PIC's targets: nothing to do in one JS thread (they see it on their next run). */
  kickPicTargets(): void {}

  /** kvmclock now, in ns (get_kvmclock_ns). */
  kvmclockNs(now = this.clock.nowNs()): number {
    return now + this.kvmclockOffsetNs;
  }

  /** kvm_write_wall_clock: the wall-clock time at kvmclock 0 into guest memory at gpa. */
  writeWallClock(gpa: number): void {
    const now = this.clock.nowNs();
    writePvclockWallClock(this.vm.memslots, gpa, this.clock.realtimeNsBig(now) - BigInt(Math.floor(this.kvmclockNs(now))));
  }

  /**
   * Fire every timer whose deadline passed (PIT channel 0, each LAPIC timer):
   * kvm_inject_pending_timer_irqs for the whole VM, so a timer fires at the first check
   * after its deadline whichever vCPU runs, which keeps virtual-clock runs deterministic.
   */
  checkTimers(now: number): void {
    if (this.pit !== null && this.pit.irqDeadlineNs >= 0 && now >= this.pit.irqDeadlineNs) this.pit.checkTimer(now);
    const vcpus = this.vcpus;
    for (let i = 0; i < vcpus.length; i++) {
      const apic = vcpus[i]!.apic;
      if (apic !== null && apic.timerDeadlineNs >= 0 && now >= apic.timerDeadlineNs) apic.checkTimer(now);
    }
  }

  /** The earliest armed timer deadline in VM-clock ns, or -1 when no timer is armed. */
  nextTimerDeadline(): number {
    let d = this.pit !== null ? this.pit.irqDeadlineNs : -1;
    for (const v of this.vcpus) {
      const t = v.apic?.timerDeadlineNs ?? -1;
      if (t >= 0 && (d < 0 || t < d)) d = t;
    }
    return d;
  }

  destroy(): void {
    this.ops.vmDestroy?.(this);
  }
}

/** The x86 vCPU (struct kvm_vcpu + kvm_vcpu_arch). */
export class KvmVcpuX86 implements KvmArchVcpu {
  /** GPRs and RIP, VCPU_REGS_* order, lo/hi Int32 pairs (see regs.ts). */
  readonly regs: Int32Array = createRegisterFile();
  /** Bit per VCPU_REGS_*: the value in `regs` is current (else ops.cacheReg loads it). */
  regsAvail = 0;
  /** Bit per VCPU_REGS_*: `regs` holds a value the vendor must write back before entry. */
  regsDirty = 0;

  cr0 = 0x60000010;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  // MSR_IA32_APICBASE after reset: the xAPIC at 0xfee00000, enabled (bit 11), BSP (bit 8) set by reset code.
  apicBase = 0xfee00800;
  mpState: number = KVM_MP_STATE_RUNNABLE;

  /** An exception waiting to be injected (kvm_queued_exception). */
  exception: X86QueuedException | null = null;
  /** The pending external interrupt vector from KVM_INTERRUPT, or -1. */
  interruptNr = -1;
  nmiPending = 0;
  cpuidEntries: KvmCpuidEntry2[] = [];

  /** Set by an exit handler that needs userspace to finish (complete_userspace_io). */
  completeUserspaceIo: ((vcpu: KvmVcpuX86) => number) | null = null;
  /** A kick from another thread or the VMM (kvm_vcpu_kick): leave run() with KVM_EXIT_INTR. */
  requestExit = false;
  /** Per-vCPU statistics, as KVM's stats fd names them (vcpu->stat). */
  readonly stat = { exits: 0, instructions_retired: 0 };

  /**
   * The kvm_exit tracepoint (trace_kvm_exit in vcpu_enter_guest's exit path): called with
   * every hardware exit in the vendor's terms, including those handled in the kernel.
   * Set through the setExitTrace vCPU ioctl (QEMU's -d exits, perf's kvm:kvm_exit).
   */
  exitTrace: KvmExitTrace | null = null;
  /** Vendor-private state (vcpu_vmx / vcpu_svm). */
  vendor: unknown = undefined;
  ioctls: Record<string, (...args: never[]) => unknown> = {};

  /** The in-kernel local APIC (when the VM has an in-kernel irqchip), else null. */
  readonly apic: KvmLapic | null;
  /** The guest TSC (rate, offset, TSC_ADJUST, TSC_AUX). */
  readonly tsc: KvmVcpuTsc;
  /** vcpu->arch.arch_capabilities: IA32_ARCH_CAPABILITIES as the guest reads it. */
  archCapabilities = kvmGetArchCapabilities();
  /** KVM paravirt state: kvmclock and PV EOI areas (-1: disabled). */
  readonly pv = { systemTimeMsr: 0n, systemTimeGpa: -1, pvEoiMsr: 0n, pvEoiGpa: -1, pvEoiPending: false };
  /** Steal time: the MSR, its area (-1 off), steal not yet reported, and when KVM_RUN last left while runnable. */
  readonly steal = { msr: 0n, gpa: -1, pendingNs: 0, preemptedAtNs: -1 };
  /** KVM_REQ_CLOCK_UPDATE: rewrite the pvclock area before the next entry. */
  clockUpdatePending = false;
  /**
   * The VM-clock ns by which the engine should leave guest mode (the end of the time
   * slice or the next timer deadline, whichever is first), like a VMX preemption timer.
   */
  runDeadlineNs = Infinity;
  /** Scratch buffer for in-kernel PIO (no allocation per I/O). */
  readonly pioScratch = new Uint8Array(8);

  readonly ops: KvmX86Ops;

  constructor(readonly kvm: KvmX86Vm, readonly ctx: KvmVcpuContext) {
    this.ops = kvm.ops;
    this.tsc = new KvmVcpuTsc(kvm.clock);
    this.apic = kvm.irqchip !== null ? new KvmLapic(ctx.vcpuId, this.lapicEnv()) : null;
    if (this.apic !== null) {
      this.apicBase = this.apic.apicBase;
      // With an in-kernel irqchip only the BSP starts running; APs wait for INIT/SIPI.
      if (ctx.vcpuId !== 0) this.mpState = KVM_MP_STATE_UNINITIALIZED;
    }
    this.ioctls = {
      ...x86VcpuIrqchipIoctls(this),
      setExitTrace: (fn: KvmExitTrace | null) => { this.exitTrace = fn; },
    };
    this.ops.vcpuCreate(this);
    this.ops.vcpuReset(this, false);
  }

  private lapicEnv() {
    const kvm = this.kvm;
    return {
      clock: kvm.clock,
      sendIpi: (src: KvmLapic, irq: Parameters<KvmIrqchip['deliverToApic']>[1]) => { kvm.irqchip?.deliverToApic(src, irq); },
      eoiBroadcast: (vector: number, trigLevel: boolean) => { kvm.irqchip?.eoiBroadcast(vector, trigLevel); },
      injectNmi: () => { this.nmiPending = Math.min(this.nmiPending + 1, 2); },
      kick: () => {},
      tscAtNs: (ns: number) => this.tsc.tscAtNs(ns),
      nsAtTsc: (tsc: number) => this.tsc.nsAtTsc(tsc),
    };
  }

  /** kvm_make_request(KVM_REQ_CLOCK_UPDATE) */
  requestClockUpdate(): void {
    this.clockUpdatePending = true;
  }

  /**
   * kvm_guest_time_update: write this vCPU's pvclock_vcpu_time_info (tsc_timestamp and
   * system_time taken at the same VM-clock instant, mul/shift from the TSC rate).
   */
  guestTimeUpdate(): void {
    this.clockUpdatePending = false;
    const gpa = this.pv.systemTimeGpa;
    if (gpa < 0) return;
    const now = this.kvm.clock.nowNs();
    const { shift, mul } = kvmGetTimeScale(1_000_000_000n, BigInt(this.tsc.tscKhz) * 1000n);
    writePvclockTimeInfo(this.kvm.vm.memslots, gpa, BigInt(this.tsc.tscAtNs(now)), BigInt(Math.floor(this.kvm.kvmclockNs(now))), mul, shift, PVCLOCK_TSC_STABLE_BIT);
  }

  /** kvm_vcpu_has_events: what wakes a halted vCPU. */
  hasEvents(): boolean {
    if (this.exception !== null) return true;
    if (this.nmiPending > 0 && this.ops.nmiAllowed(this, false)) return true;
    const apic = this.apic;
    if (apic !== null && (apic.pendingEvents !== 0 || apic.pvUnhalted)) return true;
    return this.ops.interruptAllowed(this, false) && (this.interruptNr >= 0 || kvmCpuHasInjectableIntr(this));
  }

  get vcpuId(): number {
    return this.ctx.vcpuId;
  }

  /** KVM_RUN (kvm_arch_vcpu_ioctl_run). */
  run(): void {
    const kvmRun = this.ctx.kvmRun;
    if (kvmRun.immediateExit) {
      kvmRun.exitReason = KVM_EXIT_INTR;
      return;
    }
    let r = 1;
    const complete = this.completeUserspaceIo;
    if (complete !== null) {
      this.completeUserspaceIo = null;
      r = complete(this);
    }
    const clock = this.kvm.clock;
    const sliceEnd = clock.nowNs() + this.kvm.timeSliceNs;
    const steal = this.steal;
    if (steal.preemptedAtNs >= 0) {
      // Runnable but descheduled since the last slice ended: that time was stolen.
      steal.pendingNs += sliceEnd - this.kvm.timeSliceNs - steal.preemptedAtNs;
      steal.preemptedAtNs = -1;
    }
    if (steal.gpa >= 0) kvmRecordStealTime(this);
    while (r > 0) {
      const now = clock.nowNs();
      this.kvm.checkTimers(now);
      const apic = this.apic;
      if (apic !== null) {
        if (apic.pendingEvents !== 0) kvmApicAcceptEvents(this);
        if (this.mpState !== KVM_MP_STATE_RUNNABLE) {
          if (this.mpState === KVM_MP_STATE_HALTED && this.hasEvents()) {
            this.mpState = KVM_MP_STATE_RUNNABLE;
            apic.pvUnhalted = false;
          } else {
            // Blocked (halted, or an AP waiting for INIT/SIPI): give the thread back to
            // the VMM; vm nextTimerDeadline() says when a timer will wake it.
            kvmRun.exitReason = KVM_EXIT_INTR;
            r = 0;
            break;
          }
        }
      }
      const deadline = this.kvm.nextTimerDeadline();
      this.runDeadlineNs = deadline >= 0 && deadline < sliceEnd ? deadline : sliceEnd;
      if (this.clockUpdatePending) this.guestTimeUpdate();
      r = this.enterGuest();
      if (r > 0 && (this.requestExit || clock.nowNs() >= sliceEnd)) {
        this.requestExit = false;
        kvmRun.exitReason = KVM_EXIT_INTR;
        r = 0;
      }
    }
    if (kvmRun.exitReason === KVM_EXIT_INTR && this.mpState === KVM_MP_STATE_RUNNABLE && r === 0) {
      steal.preemptedAtNs = clock.nowNs();
      if (steal.gpa >= 0) kvmStealTimeSetPreempted(this);
    }
    kvmRun.ifFlag = (this.ops.getRflags(this) >> 9) & 1;
    kvmRun.cr8 = BigInt(kvmGetCr8(this));
    kvmRun.apicBase = BigInt(this.apic !== null ? this.apic.apicBase : this.apicBase);
    kvmRun.readyForInterruptInjection = this.interruptNr < 0 && this.ops.interruptAllowed(this, false) ? 1 : 0;
    if (r < 0) throw errnoError(-r, 'KVM_RUN');
  }

  /** vcpu_enter_guest: inject what is pending, run the silicon, handle the exit. */
  private enterGuest(): number {
    const ops = this.ops;
    if (this.exception !== null) {
      ops.injectException(this);
      this.exception = null;
    } else if (this.nmiPending > 0 && ops.nmiAllowed(this, true)) {
      this.nmiPending--;
      ops.injectNmi(this);
    } else if (this.interruptNr >= 0) {
      if (ops.interruptAllowed(this, true)) ops.injectIrq(this, false);
    } else if (this.apic !== null && kvmCpuHasInjectableIntr(this) && ops.interruptAllowed(this, true)) {
      // The in-kernel irqchip's INTA: the vector goes to interruptNr for the vendor to inject.
      const vector = kvmCpuGetInterrupt(this);
      if (vector >= 0) {
        this.interruptNr = vector;
        ops.injectIrq(this, false);
      }
    }
    if (this.nmiPending > 0) ops.enableNmiWindow(this);
    if (this.interruptNr >= 0 || this.ctx.kvmRun.requestInterruptWindow || (this.apic !== null && kvmCpuHasInjectableIntr(this)))
      ops.enableIrqWindow(this);
    if (this.pv.pvEoiGpa >= 0) kvmPvEoiSyncToGuest(this);
    if (ops.vcpuPreRun !== undefined && !ops.vcpuPreRun(this)) return 0;
    const fastpath = ops.vcpuRun(this);
    this.stat.exits++;
    if (this.exitTrace !== null) this.exitTrace(ops.getExitInfo(this), this.registerRead(VCPU_REGS_RIP));
    const r = ops.handleExit(this, fastpath);
    if (this.pv.pvEoiPending) kvmPvEoiSyncFromGuest(this);
    return r;
  }

  /** kvm_register_read: the 64-bit value of VCPU_REGS_* `reg`. */
  registerRead(reg: number): bigint {
    if (!(this.regsAvail & (1 << reg))) this.ops.cacheReg(this, reg);
    return readReg64(this.regs, reg);
  }

  /** kvm_register_write: marks it dirty so the vendor writes it back before entry. */
  registerWrite(reg: number, value: bigint): void {
    writeReg64(this.regs, reg, value);
    this.regsAvail |= 1 << reg;
    this.regsDirty |= 1 << reg;
  }

  getRegs(): KvmRegs {
    const out = {} as Record<string, bigint>;
    for (let i = 0; i < KVM_REGS_INDEX.length; i++) out[KVM_REGS_FIELDS[i]!] = this.registerRead(KVM_REGS_INDEX[i]!);
    out.rflags = BigInt(this.ops.getRflags(this) >>> 0);
    return out as unknown as KvmRegs;
  }

  setRegs(regs: KvmRegs): void {
    if (regs.rflags >= 1n << 32n) throw new KvmError('EINVAL', 'regs.rflags: bits 63:32 are reserved');
    for (let i = 0; i < KVM_REGS_INDEX.length; i++) this.registerWrite(KVM_REGS_INDEX[i]!, regs[KVM_REGS_FIELDS[i]!]);
    this.ops.setRflags(this, Number(regs.rflags) | 0x2);
    this.exception = null;
  }

  getSregs(): KvmSregs {
    const ops = this.ops;
    const seg = (k: (typeof KVM_SREGS_SEGMENTS)[number]) => ops.getSegment(this, SREG_INDEX[k]);
    const bitmap: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
    if (this.interruptNr >= 0) bitmap[this.interruptNr >> 6] = 1n << BigInt(this.interruptNr & 63);
    return {
      cs: seg('cs'), ds: seg('ds'), es: seg('es'), fs: seg('fs'), gs: seg('gs'), ss: seg('ss'),
      tr: seg('tr'), ldt: seg('ldt'),
      gdt: ops.getGdt(this), idt: ops.getIdt(this),
      cr0: BigInt(this.cr0 >>> 0), cr2: this.sregsCr2(), cr3: BigInt(this.cr3), cr4: BigInt(this.cr4 >>> 0),
      cr8: BigInt(kvmGetCr8(this)), efer: BigInt(this.efer >>> 0),
      apicBase: BigInt(this.apic !== null ? this.apic.apicBase : this.apicBase),
      interruptBitmap: bitmap,
    };
  }

  /**
   * CR2 as the u64 of kvm_sregs. The engine keeps linear addresses as JS numbers: a
   * high canonical address is negative, and a 32-bit fault address may be an int32.
   */
  private sregsCr2(): bigint {
    const cr2 = this.cr2;
    if (cr2 < 0 && cr2 >= -0x80000000 && !(this.efer & (1 << 10))) return BigInt(cr2 >>> 0);
    return BigInt.asUintN(64, BigInt(cr2));
  }

  /** KVM_SET_SREGS: checks everything, then applies (nothing half-applied). */
  setSregs(s: KvmSregs): void {
    const ops = this.ops;
    if (s.cr0 >= 1n << 32n) throw new KvmError('EINVAL', 'sregs.cr0: bits 63:32 are reserved');
    if (s.cr4 >= 1n << 32n) throw new KvmError('EINVAL', 'sregs.cr4: bits 63:32 are reserved');
    if (s.cr8 > 15n) throw new KvmError('EINVAL', 'sregs.cr8: only bits 3:0 exist');
    if (s.cr3 >= 1n << 52n) throw new KvmError('EINVAL', 'sregs.cr3: beyond MAXPHYADDR');
    const cr0 = Number(s.cr0);
    const cr4 = Number(s.cr4);
    const efer = Number(s.efer & 0xffffffffn);
    if (s.efer >= 1n << 32n) throw new KvmError('EINVAL', 'sregs.efer: reserved bits set');
    // CR0.PG without CR0.PE is invalid; long mode needs PAE (kvm_is_valid_sregs).
    if ((cr0 & 0x80000000) && !(cr0 & 1)) throw new KvmError('EINVAL', 'sregs.cr0: PG set without PE');
    if ((efer & (1 << 10)) && (cr0 & 0x80000000) && !(cr4 & (1 << 5)))
      throw new KvmError('EINVAL', 'sregs.efer: LMA with paging needs CR4.PAE');
    if (ops.isValidCr0 !== undefined && !ops.isValidCr0(this, cr0)) throw new KvmError('EINVAL', 'sregs.cr0: not valid for this vendor');
    if (ops.isValidCr4 !== undefined && !ops.isValidCr4(this, cr4)) throw new KvmError('EINVAL', 'sregs.cr4: not valid for this vendor');
    const pending = s.interruptBitmap.findIndex((w) => w !== 0n);

    this.cr2 = Number(BigInt.asIntN(64, s.cr2));
    this.cr3 = Number(s.cr3);
    kvmSetCr8(this, Number(s.cr8));
    if (this.apic !== null) this.apic.setBase(Number(s.apicBase & 0xfffffffffffffn), true);
    this.apicBase = Number(s.apicBase);
    ops.setEfer(this, efer);
    this.efer = efer;
    ops.setCr0(this, cr0);
    this.cr0 = cr0;
    ops.setCr4(this, cr4);
    this.cr4 = cr4;
    ops.postSetCr3?.(this, this.cr3);
    for (const k of KVM_SREGS_SEGMENTS) ops.setSegment(this, SREG_INDEX[k], s[k]);
    ops.setGdt(this, s.gdt);
    ops.setIdt(this, s.idt);
    if (pending >= 0) {
      const w = s.interruptBitmap[pending]!;
      let bit = 0;
      while (!((w >> BigInt(bit)) & 1n)) bit++;
      this.interruptNr = pending * 64 + bit;
    }
    ops.flushTlbAll(this);
  }

  getMsrs(indices: readonly number[]): KvmMsrEntry[] {
    const out: KvmMsrEntry[] = [];
    for (const index of indices) {
      const v = kvmGetMsr(this, index, true);
      if (v === undefined) break;
      out.push({ index, data: v });
    }
    return out;
  }

  setMsrs(entries: readonly KvmMsrEntry[]): number {
    let n = 0;
    for (const e of entries) {
      if (!kvmSetMsr(this, e.index, e.data, true)) break;
      n++;
    }
    return n;
  }

  setCpuid2(entries: readonly KvmCpuidEntry2[]): void {
    this.cpuidEntries = entries.map((e) => ({ ...e }));
  }

  getCpuid2(): KvmCpuidEntry2[] {
    return this.cpuidEntries.map((e) => ({ ...e }));
  }

  /** KVM_GET_MP_STATE: pending INIT/SIPI are processed first; a PV kick reads as runnable. */
  /** KVM_GET_STATS_FD's counters, read once. */
  getStats(): Record<string, number> {
    return { ...this.stat };
  }

  getMpState(): KvmMpState {
    if (this.apic !== null && this.apic.pendingEvents !== 0) kvmApicAcceptEvents(this);
    if (this.mpState === KVM_MP_STATE_HALTED && this.apic?.pvUnhalted) return { mpState: KVM_MP_STATE_RUNNABLE };
    return { mpState: this.mpState };
  }

  /**
   * KVM_SET_MP_STATE: without an in-kernel LAPIC only RUNNABLE is valid; x86 knows
   * RUNNABLE, UNINITIALIZED, INIT_RECEIVED, HALTED and SIPI_RECEIVED (which becomes
   * INIT_RECEIVED with the SIPI pending, as in Linux).
   */
  setMpState(state: KvmMpState): void {
    const s = state.mpState;
    if (this.apic === null && s !== KVM_MP_STATE_RUNNABLE)
      throw new KvmError('EINVAL', `state.mpState: ${s} needs an in-kernel LAPIC (only KVM_MP_STATE_RUNNABLE without one)`);
    if (s !== KVM_MP_STATE_RUNNABLE && s !== KVM_MP_STATE_UNINITIALIZED && s !== KVM_MP_STATE_INIT_RECEIVED &&
      s !== KVM_MP_STATE_HALTED && s !== KVM_MP_STATE_SIPI_RECEIVED)
      throw new KvmError('EINVAL', `state.mpState: ${s} is not an x86 MP state`);
    if (s === KVM_MP_STATE_SIPI_RECEIVED) {
      this.mpState = KVM_MP_STATE_INIT_RECEIVED;
      this.apic!.pendingEvents |= KVM_APIC_SIPI;
    } else {
      this.mpState = s;
    }
  }

  /** KVM_INTERRUPT: userspace irqchip only (ENXIO with the in-kernel PIC, as in Linux). */
  interrupt(irq: number): void {
    if (this.apic !== null) throw new KvmError('ENXIO', 'KVM_INTERRUPT: the VM has an in-kernel irqchip (use KVM_IRQ_LINE)');
    if (this.interruptNr >= 0) throw new KvmError('EEXIST', `irq: vector ${this.interruptNr} is still pending`);
    this.interruptNr = irq;
  }

  nmi(): void {
    this.nmiPending = Math.min(this.nmiPending + 1, 2);
  }

  destroy(): void {
    this.ops.vcpuFree(this);
  }
}

function errnoError(errno: number, what: string): KvmError {
  const name = (Object.keys(ERRNO) as Errno[]).find((k) => ERRNO[k] === errno) ?? 'EINVAL';
  return new KvmError(name, `${what} failed`);
}

/**
 * kvm_fast_pio / the userspace I/O exit: fills kvm_run.io for an IN or OUT of `size`
 * bytes at `port` and returns 0 (exit to userspace). For OUT the caller passes the value;
 * for IN, the completion writes the data userspace left in kvm_run into RAX and skips
 * the instruction on the next KVM_RUN.
 */
export function kvmFastPio(vcpu: KvmVcpuX86, size: number, port: number, isIn: boolean, outValue = 0): number {
  // The in-kernel devices first (PIC, PIT, ELCR, ioeventfds): no exit when one takes it.
  const bus = vcpu.kvm.pioBus;
  if (bus.size > 0) {
    const buf = vcpu.pioScratch;
    if (isIn) {
      if (bus.read(port, size, buf, vcpu)) {
        let v = 0;
        for (let i = 0; i < size; i++) v |= buf[i]! << (8 * i);
        // Merge into AL/AX (or zero-extend EAX into RAX) on the lo/hi halves: no BigInt per I/O.
        if (!(vcpu.regsAvail & (1 << VCPU_REGS_RAX))) vcpu.ops.cacheReg(vcpu, VCPU_REGS_RAX);
        const regs = vcpu.regs;
        if (size === 4) {
          regs[2 * VCPU_REGS_RAX] = v | 0;
          regs[2 * VCPU_REGS_RAX + 1] = 0;
        } else {
          const mask = size === 2 ? 0xffff : 0xff;
          regs[2 * VCPU_REGS_RAX] = (regs[2 * VCPU_REGS_RAX]! & ~mask) | (v & mask);
        }
        vcpu.regsAvail |= 1 << VCPU_REGS_RAX;
        vcpu.regsDirty |= 1 << VCPU_REGS_RAX;
        return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
      }
    } else {
      for (let i = 0; i < size; i++) buf[i] = (outValue >>> (8 * i)) & 0xff;
      if (bus.write(port, size, buf, vcpu)) return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
    }
  }
  const run = vcpu.ctx.kvmRun;
  run.exitReason = KVM_EXIT_IO;
  const data = run.setIo(isIn ? KVM_EXIT_IO_IN : 1, size, port, 1);
  if (!isIn) {
    for (let i = 0; i < size; i++) data[i] = (outValue >>> (8 * i)) & 0xff;
    vcpu.completeUserspaceIo = completeFastPioOut;
  } else {
    vcpu.completeUserspaceIo = completeFastPioIn;
  }
  return 0;
}

function completeFastPioOut(vcpu: KvmVcpuX86): number {
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

function completeFastPioIn(vcpu: KvmVcpuX86): number {
  const io = vcpu.ctx.kvmRun.io;
  let v = 0;
  for (let i = 0; i < io.size; i++) v |= io.data[i]! << (8 * i);
  const rax = vcpu.registerRead(VCPU_REGS_RAX);
  const mask = io.size === 4 ? 0xffffffffn : BigInt((1 << (8 * io.size)) - 1);
  // A 32-bit IN zero-extends into RAX; 8/16-bit ones merge into AL/AX.
  const merged = io.size === 4 ? BigInt(v >>> 0) : (rax & ~mask) | (BigInt(v >>> 0) & mask);
  vcpu.registerWrite(VCPU_REGS_RAX, merged);
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/**
 * kvm_emulate_halt: skip the HLT; without an in-kernel irqchip, exit to userspace with
 * KVM_EXIT_HLT. With one, the vCPU becomes HALTED and the run loop blocks it until an
 * interrupt, NMI, INIT/SIPI, PV kick or timer makes it runnable (returns 1).
 */
export function kvmEmulateHalt(vcpu: KvmVcpuX86): number {
  if (!vcpu.ops.skipEmulatedInstruction(vcpu)) return 0;
  if (vcpu.apic !== null) {
    vcpu.mpState = KVM_MP_STATE_HALTED;
    return 1;
  }
  vcpu.ctx.kvmRun.exitReason = KVM_EXIT_HLT;
  return 0;
}

/**
 * kvm_vcpu_reset for INIT (and power-on): the architectural reset state of SDM 9.1.1,
 * through the vendor's vcpuReset hook and then the segment/descriptor-table setters.
 * INIT keeps CR0.CD/NW, the TSC and the MSRs.
 */
export function kvmVcpuReset(vcpu: KvmVcpuX86, initEvent: boolean): void {
  const ops = vcpu.ops;
  const oldCr0 = vcpu.cr0;
  vcpu.exception = null;
  vcpu.interruptNr = -1;
  vcpu.nmiPending = 0;
  vcpu.completeUserspaceIo = null;
  vcpu.apic?.reset(initEvent);
  if (!initEvent) {
    vcpu.pv.systemTimeMsr = 0n;
    vcpu.pv.systemTimeGpa = -1;
  }
  vcpu.pv.pvEoiMsr = 0n;
  vcpu.pv.pvEoiGpa = -1;
  vcpu.pv.pvEoiPending = false;
  ops.vcpuReset(vcpu, initEvent);
  for (let r = 0; r < 16; r++) vcpu.registerWrite(r, 0n);
  // EDX holds the processor signature (family 6) after reset.
  const sig = vcpu.cpuidEntries.find((e) => e.function === 1)?.eax ?? 0x600;
  vcpu.registerWrite(VCPU_REGS_RDX, BigInt(sig >>> 0));
  vcpu.registerWrite(VCPU_REGS_RIP, 0xfff0n);
  ops.setRflags(vcpu, 0x2);
  const cr0 = 0x10 | (initEvent ? oldCr0 & 0x60000000 : 0x60000000);
  ops.setEfer(vcpu, 0);
  vcpu.efer = 0;
  ops.setCr0(vcpu, cr0);
  vcpu.cr0 = cr0;
  ops.setCr4(vcpu, 0);
  vcpu.cr4 = 0;
  vcpu.cr2 = 0;
  vcpu.cr3 = 0;
  ops.postSetCr3?.(vcpu, 0);
  const seg = (selector: number, base: bigint, type: number, s: number) => ({
    base, limit: 0xffff, selector, type, present: 1, dpl: 0, db: 0, s, l: 0, g: 0, avl: 0, unusable: 0,
  });
  ops.setSegment(vcpu, VCPU_SREG_CS, seg(0xf000, 0xffff0000n, 0xb, 1));
  for (const r of [VCPU_SREG_DS, VCPU_SREG_ES, VCPU_SREG_FS, VCPU_SREG_GS, VCPU_SREG_SS] as const) ops.setSegment(vcpu, r, seg(0, 0n, 0x3, 1));
  ops.setSegment(vcpu, VCPU_SREG_TR, seg(0, 0n, 0xb, 0));
  ops.setSegment(vcpu, VCPU_SREG_LDTR, seg(0, 0n, 0x2, 0));
  ops.setGdt(vcpu, { base: 0n, limit: 0xffff });
  ops.setIdt(vcpu, { base: 0n, limit: 0xffff });
  ops.flushTlbAll(vcpu);
}

/**
 * kvm_apic_accept_events: INIT resets the vCPU (the BSP runs on, an AP waits in
 * INIT_RECEIVED); a SIPI in INIT_RECEIVED starts it at vector:0000 (CS = vector << 8,
 * base vector << 12, IP 0). A SIPI in any other state is dropped.
 */
export function kvmApicAcceptEvents(vcpu: KvmVcpuX86): void {
  const apic = vcpu.apic;
  if (apic === null) return;
  const events = apic.pendingEvents;
  apic.pendingEvents = 0;
  if (events & KVM_APIC_INIT) {
    kvmVcpuReset(vcpu, true);
    vcpu.mpState = apic.isBsp ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED;
  }
  if (events & KVM_APIC_SIPI && vcpu.mpState === KVM_MP_STATE_INIT_RECEIVED) {
    const vector = apic.sipiVector;
    const cs = vcpu.ops.getSegment(vcpu, VCPU_SREG_CS);
    vcpu.ops.setSegment(vcpu, VCPU_SREG_CS, { ...cs, selector: vector << 8, base: BigInt(vector << 12) });
    vcpu.registerWrite(VCPU_REGS_RIP, 0n);
    vcpu.mpState = KVM_MP_STATE_RUNNABLE;
  }
}

/** CR8 reads (MOV from CR8): TPR[7:4] of the in-kernel LAPIC, else the userspace value. */
export function kvmGetCr8(vcpu: KvmVcpuX86): number {
  return vcpu.apic !== null ? vcpu.apic.tpr >> 4 : vcpu.cr8;
}

/** CR8 writes (MOV to CR8): set TPR = cr8 << 4 on the in-kernel LAPIC. */
export function kvmSetCr8(vcpu: KvmVcpuX86, cr8: number): void {
  vcpu.cr8 = cr8 & 0xf;
  if (vcpu.apic !== null) vcpu.apic.setTpr((cr8 & 0xf) << 4);
}

/** RDMSR: the vendor's MSRs first, then kvm_get_msr_common. undefined -> #GP. */
export function kvmGetMsr(vcpu: KvmVcpuX86, index: number, hostInitiated = false): bigint | undefined {
  return vcpu.ops.getMsr(vcpu, index) ?? kvmGetMsrCommon(vcpu, index, hostInitiated);
}

/** WRMSR: the vendor's MSRs first, then kvm_set_msr_common. false -> #GP. */
export function kvmSetMsr(vcpu: KvmVcpuX86, index: number, data: bigint, hostInitiated: boolean): boolean {
  return vcpu.ops.setMsr(vcpu, index, data, hostInitiated) || kvmSetMsrCommon(vcpu, index, data, hostInitiated);
}

/**
 * vcpu_mmio_read: the vCPU's LAPIC page, then the VM's MMIO bus (IOAPIC, ioeventfds).
 * The MMIO exit path calls this before exiting to userspace; true = handled in-kernel.
 */
export function kvmVcpuMmioRead(vcpu: KvmVcpuX86, gpa: number, len: number, data: Uint8Array): boolean {
  if (vcpu.apic !== null && vcpu.apic.mmioRead(gpa, len, data)) return true;
  return vcpu.kvm.mmioBus.read(gpa, len, data, vcpu);
}

/** vcpu_mmio_write: as kvmVcpuMmioRead, for writes. */
export function kvmVcpuMmioWrite(vcpu: KvmVcpuX86, gpa: number, len: number, data: Uint8Array): boolean {
  if (vcpu.apic !== null && vcpu.apic.mmioWrite(gpa, len, data)) return true;
  return vcpu.kvm.mmioBus.write(gpa, len, data, vcpu);
}

/** kvm_queue_exception(_e): the next entry injects it. */
export function kvmQueueException(vcpu: KvmVcpuX86, vector: number, errorCode?: number, payload?: number): void {
  vcpu.exception = {
    vector,
    hasErrorCode: errorCode !== undefined,
    errorCode: errorCode ?? 0,
    payload: payload ?? 0,
    hasPayload: payload !== undefined,
  };
}

/** Caps every x86 vendor has through this layer. */
function x86CheckExtension(cap: number): number {
  switch (cap) {
    case KVM_CAP_HLT:
    case KVM_CAP_MP_STATE:
    case KVM_CAP_USER_NMI:
    case KVM_CAP_SET_GUEST_DEBUG:
    case KVM_CAP_IRQCHIP:
    case KVM_CAP_IRQ_INJECT_STATUS:
    case KVM_CAP_IRQFD:
    case KVM_CAP_IRQFD_RESAMPLE:
    case KVM_CAP_PIT:
    case KVM_CAP_PIT2:
    case KVM_CAP_PIT_STATE2:
    case KVM_CAP_IOEVENTFD:
    case KVM_CAP_IOEVENTFD_NO_LENGTH:
    case KVM_CAP_IOEVENTFD_ANY_LENGTH:
    case KVM_CAP_SIGNAL_MSI:
    case KVM_CAP_NOP_IO_DELAY:
    case KVM_CAP_VCPU_EVENTS:
    case KVM_CAP_GET_TSC_KHZ:
    case KVM_CAP_TSC_CONTROL:
    case KVM_CAP_GET_MSR_FEATURES:
      return 1;
    case KVM_CAP_IRQ_ROUTING:
      return KVM_MAX_IRQ_ROUTES;
    case KVM_CAP_ADJUST_CLOCK:
      return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME;
    default:
      return 0;
  }
}

/**
 * kvm_x86_vendor_init: a vendor module's init calls this. Checks the ops table first,
 * then that no other vendor is loaded (EEXIST "already loaded vendor module ..."), and
 * only then exposes the x86 backend.
 */
export function kvmX86VendorInit(host: Host, moduleName: string, ops: KvmX86Ops, info: X86VendorInfo): void {
  checkX86Ops(ops);
  const backend: KvmArchBackend = {
    arch: 'x86',
    moduleName,
    checkExtension: (cap) => info.checkExtension?.(cap) || x86CheckExtension(cap),
    checkVmType(type) {
      if (type !== KVM_X86_DEFAULT_VM) throw new KvmError('EINVAL', `type: VM type ${type} is not supported (KVM_X86_DEFAULT_VM is 0)`);
    },
    createVm: (vm) => new KvmX86Vm(ops, vm),
    getSupportedCpuid: () => info.supportedCpuid(),
    getMsrIndexList: () => [...new Set([...info.msrIndexList(), ...KVM_COMMON_MSRS])],
    getMsrFeatureIndexList: () => [...KVM_FEATURE_MSRS],
    getMsrFeature: (index) => kvmGetMsrFeature(index),
  };
  kvmArchInit(host, backend);
}

/** kvm_x86_vendor_exit */
export function kvmX86VendorExit(host: Host): void {
  kvmArchExit(host, 'x86');
}
