/**
 * The event loop that drives every vCPU (QEMU's vcpu threads and main loop folded into
 * one, as JavaScript has one thread): each vCPU runs for a slice (KVM_RUN returns
 * KVM_EXIT_INTR at slice end), its exits are dispatched to the PIO/MMIO buses or to
 * machine actions, and between slices the loop services timers and host input. When every
 * vCPU is halted it sleeps until the next device deadline.
 */
import { KvmError, uapi, type KvmRun, type Vcpu, type X86ExitInfo } from '@kvmts/kvm-core';
import type { Bus } from '../bus';
import { hex } from '../bus';
import type { MachineEvents, MachineRequest } from './machine-events';

export interface RunLoopMachine {
  readonly pio: Bus;
  readonly mmio: Bus;
  readonly vcpus: readonly Vcpu[];
  readonly events: MachineEvents;
  poll(): void;
  nextDeadlineNs(): number;
  readonly clock: { nowNs(): number };
  /** True when the VM runs on the virtual clock: idle time is skipped, not slept. */
  readonly virtualClock?: boolean;
  warpClock?(ns: number): void;
}

export interface RunLoopOptions {
  /** Trace every exit (-d exits) / every bus dispatch (-d io) / bus misses (-d unimp). */
  traceExits?: boolean;
  traceIo?: boolean;
  traceUnimp?: boolean;
  log?: (line: string) => void;
  /** Longest a vCPU runs before the loop services timers and input (ms). */
  sliceMs?: number;
  /** Most exits handled per vCPU per slice. */
  maxExitsPerSlice?: number;
  /** Longest idle sleep when all vCPUs are halted (ms). */
  maxIdleMs?: number;
  /** Called between slices, before sleeping: lets the caller (monitor, stdin) act. */
  onTick?: () => void;
}

/** Per-vCPU dispatch state, allocated once: views for each MMIO access size. */
interface VcpuSlot {
  vcpu: Vcpu;
  run: KvmRun;
  halted: boolean;
  mmioViews: Uint8Array[];
}

const RUNNABLE = uapi.KVM_MP_STATE_RUNNABLE;

export class RunLoop {
  private readonly slots: VcpuSlot[];
  private readonly log: (line: string) => void;
  /** Exits handled, by reason (for `info` and tests). */
  readonly exitCounts = new Map<number, number>();
  private wake: (() => void) | null = null;

  constructor(private readonly m: RunLoopMachine, private readonly opts: RunLoopOptions = {}) {
    this.slots = m.vcpus.map((vcpu) => {
      const run = vcpu.kvmRun;
      const mmioViews: Uint8Array[] = [];
      for (let len = 0; len <= 8; len++) mmioViews.push(run.mmio.data.subarray(0, len));
      return { vcpu, run, halted: false, mmioViews };
    });
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    if (opts.traceExits) for (const s of this.slots) traceVendorExits(s.vcpu, this.log);
  }

  /** Something happened (host input, a timer): halted vCPUs should look again. */
  kick(): void {
    for (const s of this.slots) s.halted = false;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Runs until the machine asks to exit or reset. */
  async run(): Promise<MachineRequest> {
    const sliceMs = this.opts.sliceMs ?? 20;
    const maxExits = this.opts.maxExitsPerSlice ?? 100_000;
    const events = this.m.events;
    for (;;) {
      for (const s of this.slots) {
        if (events.pending !== null) continue;
        // Every vCPU gets its turn: a blocked one returns at once (the in-kernel irqchip
        // decides whether an interrupt or SIPI woke it) and is marked halted again.
        s.halted = false;
        const start = performance.now();
        for (let n = 0; n < maxExits; n++) {
          let run: KvmRun;
          try {
            run = s.vcpu.run();
          } catch (e) {
            events.exit(1, `KVM_RUN failed on vCPU ${s.vcpu.vcpuId}: ${e instanceof KvmError ? e.message : String(e)}`);
            break;
          }
          const cont = this.dispatch(s, run);
          if (!cont || events.pending !== null) break;
          if ((n & 63) === 63 && performance.now() - start > sliceMs) break;
        }
      }
      this.m.poll();
      this.opts.onTick?.();
      if (events.pending !== null) return events.pending;
      if (this.slots.every((s) => s.halted)) await this.idle();
      else await new Promise<void>((r) => setImmediate(r));
      if (events.pending !== null) return events.pending;
    }
  }

  /**
   * All vCPUs halted: sleep until the next deadline (a device's or an in-kernel timer's)
   * or a kick, then retry. On the virtual clock the time in between is skipped instead.
   * Waking late makes the PIT queue ticks that its reinjection then delivers back to back,
   * so a deadline under a millisecond away (setTimeout's granularity) is waited for by
   * yielding to the event loop rather than by a timer.
   */
  private async idle(): Promise<void> {
    const maxIdle = this.opts.maxIdleMs ?? 10;
    const deadline = this.m.nextDeadlineNs();
    if (this.m.virtualClock && this.m.warpClock !== undefined && Number.isFinite(deadline)) {
      if (deadline > this.m.clock.nowNs()) this.m.warpClock(deadline);
      for (const s of this.slots) s.halted = false;
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    const until = deadline - this.m.clock.nowNs();
    const ms = Math.max(0, Math.min(maxIdle, until / 1e6));
    if (ms < 1) {
      await new Promise<void>((r) => setImmediate(r));
      for (const s of this.slots) s.halted = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    // The in-kernel irqchip decides whether anything woke them; run them again.
    for (const s of this.slots) s.halted = false;
  }

  /** Handles one exit; false ends this vCPU's slice. */
  dispatch(s: VcpuSlot, run: KvmRun): boolean {
    const reason = run.exitReason;
    this.exitCounts.set(reason, (this.exitCounts.get(reason) ?? 0) + 1);
    if (this.opts.traceExits) this.log(`vcpu${s.vcpu.vcpuId}: ${describeExit(run)}`);
    const events = this.m.events;
    switch (reason) {
      case uapi.KVM_EXIT_IO: {
        const io = run.io;
        const isIn = io.direction === uapi.KVM_EXIT_IO_IN;
        // INVARIANT: io.data is size*count bytes (KvmRun.setIo); count > 1 is string I/O.
        if (io.count === 1) this.pioAccess(io.port, io.data, isIn);
        else for (let i = 0; i < io.count; i++) this.pioAccess(io.port, io.data.subarray(i * io.size, (i + 1) * io.size), isIn);
        return true;
      }
      case uapi.KVM_EXIT_MMIO: {
        const mmio = run.mmio;
        const data = s.mmioViews[mmio.len] ?? mmio.data.subarray(0, mmio.len);
        const hit = mmio.isWrite ? this.m.mmio.write(mmio.physAddr, data) : this.m.mmio.read(mmio.physAddr, data);
        if (this.opts.traceIo) this.log(`mmio ${mmio.isWrite ? 'write' : 'read'} ${hex(mmio.physAddr)} len ${mmio.len}`);
        if (!hit && this.opts.traceUnimp) this.log(`unassigned mmio ${mmio.isWrite ? 'write' : 'read'} at ${hex(mmio.physAddr)}`);
        return true;
      }
      case uapi.KVM_EXIT_INTR:
        // Slice end (or immediate_exit). A vCPU that is halted in the kernel, or an AP
        // still waiting for INIT/SIPI, lets the loop sleep.
        if (this.isWaiting(s.vcpu)) s.halted = true;
        return false;
      case uapi.KVM_EXIT_HLT:
        s.halted = true;
        return false;
      case uapi.KVM_EXIT_IRQ_WINDOW_OPEN:
        return true;
      case uapi.KVM_EXIT_SHUTDOWN:
        // A triple fault: QEMU resets the machine (or exits with -no-reboot).
        events.reset(`vCPU ${s.vcpu.vcpuId} triple fault (KVM_EXIT_SHUTDOWN)`);
        return false;
      case uapi.KVM_EXIT_SYSTEM_EVENT: {
        const t = run.systemEvent.type;
        if (t === uapi.KVM_SYSTEM_EVENT_SHUTDOWN) events.shutdown('guest system event: shutdown');
        else if (t === uapi.KVM_SYSTEM_EVENT_RESET) events.reset('guest system event: reset');
        else if (t === uapi.KVM_SYSTEM_EVENT_CRASH) events.exit(1, 'guest system event: crash (guest panicked)');
        else events.exit(1, `unhandled KVM_EXIT_SYSTEM_EVENT type ${t}`);
        return false;
      }
      case uapi.KVM_EXIT_INTERNAL_ERROR: {
        const i = run.internal;
        const data = i.data.slice(0, i.ndata).map((d) => `0x${d.toString(16)}`).join(' ');
        events.exit(1, `KVM internal error on vCPU ${s.vcpu.vcpuId}. Suberror: ${i.suberror}${data ? ` data: ${data}` : ''}${registerDump(s.vcpu)}`);
        return false;
      }
      case uapi.KVM_EXIT_FAIL_ENTRY:
        events.exit(1, `KVM: entry failed on vCPU ${s.vcpu.vcpuId}, hardware error 0x${run.failEntry.hardwareEntryFailureReason.toString(16)}${registerDump(s.vcpu)}`);
        return false;
      case uapi.KVM_EXIT_HYPERCALL:
        run.hypercall.ret = -38n; // -ENOSYS: no userspace hypercalls
        return true;
      case uapi.KVM_EXIT_DEBUG:
        events.exit(1, `vCPU ${s.vcpu.vcpuId} stopped on a debug exception at ${hex(Number(run.debug.pc))} (no gdb stub)`);
        return false;
      default:
        events.exit(1, `unhandled KVM exit reason ${reason} (KVM_EXIT_${uapi.KVM_EXIT_NAMES[reason] ?? '?'}) on vCPU ${s.vcpu.vcpuId}`);
        return false;
    }
  }

  private pioAccess(port: number, data: Uint8Array, isIn: boolean): void {
    const hit = isIn ? this.m.pio.read(port, data) : this.m.pio.write(port, data);
    if (this.opts.traceIo) this.log(`pio ${isIn ? 'in' : 'out'} ${hex(port)} size ${data.length} data ${[...data].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    if (!hit && this.opts.traceUnimp) this.log(`unassigned pio ${isIn ? 'read' : 'write'} at ${hex(port)}`);
  }

  private isWaiting(vcpu: Vcpu): boolean {
    try {
      return vcpu.getMpState().mpState !== RUNNABLE;
    } catch {
      return false;
    }
  }
}

export function describeExit(run: KvmRun): string {
  const name = `KVM_EXIT_${uapi.KVM_EXIT_NAMES[run.exitReason] ?? run.exitReason}`;
  switch (run.exitReason) {
    case uapi.KVM_EXIT_IO:
      return `${name} ${run.io.direction === uapi.KVM_EXIT_IO_IN ? 'in' : 'out'} port ${hex(run.io.port)} size ${run.io.size} count ${run.io.count}`
        + (run.io.direction === uapi.KVM_EXIT_IO_OUT ? ` data ${[...run.io.data].map((b) => b.toString(16).padStart(2, '0')).join('')}` : '');
    case uapi.KVM_EXIT_MMIO:
      return `${name} ${run.mmio.isWrite ? 'write' : 'read'} ${hex(run.mmio.physAddr)} len ${run.mmio.len}`;
    case uapi.KVM_EXIT_SYSTEM_EVENT:
      return `${name} type ${run.systemEvent.type}`;
    case uapi.KVM_EXIT_INTERNAL_ERROR:
      return `${name} suberror ${run.internal.suberror}`;
    case uapi.KVM_EXIT_FAIL_ENTRY:
      return `${name} reason 0x${run.failEntry.hardwareEntryFailureReason.toString(16)}`;
    default:
      return name;
  }
}

const hex64 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
const hex32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Logs every hardware exit of the vCPU, those the kernel handles too, through its
 * kvm_exit tracepoint (the setExitTrace ioctl), formatted like Linux's: the VMX basic exit
 * reason and exit qualification (info1) / guest-physical address (info2), or the SVM
 * EXITCODE with EXITINFO1/EXITINFO2; then the IDT-vectoring info (EXITINTINFO) and its
 * error code. A vCPU without the tracepoint (s390) logs only its KVM_RUN exits.
 */
export function traceVendorExits(vcpu: Vcpu, log: (line: string) => void): void {
  const probe = (info: X86ExitInfo, rip: bigint) => {
    log(`vcpu${vcpu.vcpuId}: kvm_exit: ${info.kind} reason ${info.reasonName} rip 0x${rip.toString(16)} info1 ${hex64(info.info1)} info2 ${hex64(info.info2)}`
      + ` intr_info ${hex32(info.intrInfo)} error_code ${hex32(info.errorCode)}`);
  };
  try {
    vcpu.archIoctl('setExitTrace', probe);
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
  }
}

/** QEMU prints the registers after an internal error; so do we (when the vCPU can tell). */
export function registerDump(vcpu: Vcpu): string {
  try {
    const r = vcpu.getRegs();
    const f = (v: bigint) => v.toString(16).padStart(16, '0');
    return `\nRAX=${f(r.rax)} RBX=${f(r.rbx)} RCX=${f(r.rcx)} RDX=${f(r.rdx)}\nRSI=${f(r.rsi)} RDI=${f(r.rdi)} RBP=${f(r.rbp)} RSP=${f(r.rsp)}\nRIP=${f(r.rip)} RFL=${r.rflags.toString(16).padStart(8, '0')}`;
  } catch {
    return '';
  }
}
