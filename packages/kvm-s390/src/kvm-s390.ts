/**
 * KVM on s390 (arch/s390/kvm/kvm-s390.c): the backend kvm-core dispatches to, the VM
 * (storage, TOD clock, floating interrupts, facility list) and the vCPU with its SIE
 * state description and the run loop (vcpu_pre_run / sie64a / vcpu_post_run).
 */
import {
  EventFd, KvmError, parseArg, s390uapi, uapi,
  type KvmArchBackend, type KvmArchVcpu, type KvmArchVm, type KvmMpState, type KvmRun,
  type KvmVcpuContext, type KvmVmContext,
} from '@kvmts/kvm-core';
import { z } from 'zod';
import { S390Cpu } from './engine/cpu';
import { Dat } from './engine/dat-translate';
import { TodClock } from './engine/clock';
import { GuestStorage } from './engine/storage';
import { PSW_MASK_EXT, PSW_MASK_IO, PSW_MASK_MCHECK, PSW_MASK_WAIT } from './engine/psw';
import { deliverProgramInterruption } from './engine/run';
import { ICTL_ISKE, ICTL_PINT, ICTL_RRBE, ICTL_SSKE } from './engine/exec-control';
import { CPUSTAT_STOPPED, CPUSTAT_ZARCH, LCTL_CR0, SieBlock } from './sie/sie-block';
import { sie64a } from './sie/sie';
import {
  CR0_CLOCK_COMPARATOR_SUBMASK, CR0_CPU_TIMER_SUBMASK, FloatingInterrupts, LocalInterrupts,
  deliverPendingInterrupts, extPendingMaskedByPsw, ioPendingMaskedByPsw,
} from './interrupt';
import { handleIntercept } from './intercept';
import { memOp } from './memop';
import { storeStatusAt } from './store-status';

const { KVM_EXIT_INTR, KVM_MP_STATE_OPERATING, KVM_MP_STATE_STOPPED, KVM_MP_STATE_LOAD, KVM_MP_STATE_CHECK_STOP } = uapi;
const S = s390uapi;

/** Instructions per SIE entry (a host timer tick ends the slice). */
export const SIE_SLICE = 1 << 16;
/** Instructions per KVM_RUN before it returns KVM_EXIT_INTR, so userspace's loop runs. */
export const RUN_SLICE = 1 << 22;

/** The facility bits we offer (STFL/STFLE): z/Arch, STFLE, long displacement, extended
 * immediate, store clock fast, general-instructions extension, execute extensions,
 * FP-support enhancement, distinct operands / high word / interlocked / LOC / popcount,
 * DAT-enhancement (IDTE), EDAT-1 and the floating-point extension. */
export const FACILITY_BITS = [0, 1, 2, 3, 7, 8, 18, 19, 21, 25, 34, 35, 37, 41, 45];

const s390InterruptSchema = z.object({
  type: z.number().int().min(0).max(0xffffffff),
  parm: z.number().int().min(0).max(0xffffffff).optional(),
  parm64: z.bigint().min(0n).max((1n << 64n) - 1n).optional(),
}).strict();

const KVM_GUESTDBG_ENABLE = 0x1;
const KVM_GUESTDBG_SINGLESTEP = 0x2;
const guestDebugSchema = z.object({
  control: z.number().int().min(0).max(0xffffffff),
  debugreg: z.array(z.bigint()).optional(),
}).strict();

const ioeventfdSchema = z.object({
  eventfd: z.instanceof(EventFd, { message: 'must be an EventFd' }),
  addr: z.number().int().min(0).max(0xffffffff),
  len: z.number().int(),
  datamatch: z.bigint().optional(),
  flags: z.number().int().min(0).optional(),
}).strict();

const storeStatusSchema = z.number().int().min(-2).max(Number.MAX_SAFE_INTEGER);
const fpuSchema = z.object({
  fpc: z.number().int().min(0).max(0xffffffff),
  fprs: z.array(z.bigint().min(0n).max((1n << 64n) - 1n)).length(16),
}).strict();

const pswSchema = z.object({
  mask: z.bigint().min(0n).max((1n << 64n) - 1n),
  addr: z.bigint().min(0n).max((1n << 64n) - 1n),
}).strict();

export class S390Backend implements KvmArchBackend {
  readonly arch = 's390' as const;
  constructor(readonly moduleName: string) {}

  checkExtension(cap: number): number {
    switch (cap) {
      case uapi.KVM_CAP_S390_PSW:
      case uapi.KVM_CAP_SYNC_REGS:
      case uapi.KVM_CAP_ENABLE_CAP:
      case uapi.KVM_CAP_MP_STATE:
        return 1;
      case uapi.KVM_CAP_S390_MEM_OP:
        return 65536; // the maximum transfer size
      default:
        return 0;
    }
  }

  checkVmType(type: number): void {
    // KVM_VM_S390_UCONTROL (1) needs CAP_SYS_ADMIN and a different memory model: not offered.
    if (type !== 0) throw new KvmError('EINVAL', `type: ${type} is not a VM type kvm-s390 supports (0)`);
  }

  createVm(vm: KvmVmContext): KvmArchVm {
    return new S390Vm(vm);
  }
}

export class S390Vm implements KvmArchVm {
  readonly storage: GuestStorage;
  readonly clock = new TodClock();
  readonly fi = new FloatingInterrupts();
  readonly vcpus = new Map<number, S390Vcpu>();
  readonly facilities = new Uint8Array(16);
  /** Storage keys are enabled lazily on the first key instruction (as KVM does). */
  skeysEnabled = false;
  readonly ioctls: Readonly<Record<string, (...args: never[]) => unknown>>;

  constructor(readonly ctx: KvmVmContext) {
    this.storage = new GuestStorage(ctx.memslots);
    for (const b of FACILITY_BITS) this.facilities[b >> 3]! |= 0x80 >> (b & 7);
    // The TOD clock starts at the host's time: 2^12 units per microsecond since 1900.
    this.clock.base = (BigInt(Date.UTC(2026, 0, 1)) + 2208988800000n) * 1000n * 4096n;
    this.ioctls = {
      s390Interrupt: ((irq: unknown) => this.injectFloating(irq)) as never,
      ioeventfd: ((args: unknown) => this.ioeventfd(args)) as never,
    };
  }

  createVcpu(vcpu: KvmVcpuContext): KvmArchVcpu {
    if (vcpu.vcpuId > 0xffff) throw new KvmError('EINVAL', `id: ${vcpu.vcpuId} is not a valid CPU address`);
    const v = new S390Vcpu(this, vcpu);
    this.vcpus.set(vcpu.vcpuId, v);
    return v;
  }

  destroy(): void {
    this.vcpus.clear();
  }

  /** Virtio-ccw notification eventfds (KVM_VIRTIO_CCW_NOTIFY_BUS): subchannel id + queue. */
  readonly ccwNotify: { schid: number; queue: bigint; eventfd: EventFd }[] = [];

  /**
   * KVM_IOEVENTFD on s390: only the virtio-ccw notify bus exists
   * (KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, addr = subchannel id, datamatch = queue).
   */
  ioeventfd(arg: unknown): void {
    const a = parseArg(ioeventfdSchema, arg, 'args');
    const flags = a.flags ?? 0;
    if ((flags & uapi.KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY) === 0)
      throw new KvmError('EINVAL', 'args.flags: s390 has only the virtio-ccw notify bus (KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)');
    if (a.len !== 8) throw new KvmError('EINVAL', `args.len: ${a.len} (the virtio-ccw notify bus takes 8)`);
    if ((flags & uapi.KVM_IOEVENTFD_FLAG_DATAMATCH) === 0) throw new KvmError('EINVAL', 'args.flags: a virtio-ccw notifier needs DATAMATCH (the queue index)');
    const queue = a.datamatch ?? 0n;
    const i = this.ccwNotify.findIndex((n) => n.schid === a.addr && n.queue === queue && n.eventfd === a.eventfd);
    if (flags & uapi.KVM_IOEVENTFD_FLAG_DEASSIGN) {
      if (i < 0) throw new KvmError('ENOENT', 'args: no such ioeventfd');
      this.ccwNotify.splice(i, 1);
      return;
    }
    if (this.ccwNotify.some((n) => n.schid === a.addr && n.queue === queue)) throw new KvmError('EEXIST', 'args: this subchannel/queue already has an ioeventfd');
    this.ccwNotify.push({ schid: a.addr, queue, eventfd: a.eventfd });
  }

  /** KVM_S390_INTERRUPT on the VM fd: service signal, virtio, I/O (floating). */
  injectFloating(arg: unknown): void {
    const irq = parseArg(s390InterruptSchema, arg, 'irq');
    switch (irq.type) {
      case S.KVM_S390_INT_SERVICE: {
        const parm = irq.parm ?? 0;
        // The SCCB address (bits 0-28) replaces, the event-pending bit accumulates.
        this.fi.serviceParm = ((this.fi.serviceParm & 1) | parm) >>> 0;
        this.fi.servicePending = true;
        return;
      }
      case S.KVM_S390_INT_VIRTIO:
        this.fi.virtio.push({ parm: irq.parm ?? 0, parm64: irq.parm64 ?? 0n });
        return;
      default:
        if (irq.type <= S.KVM_S390_INT_IO_MAX) {
          // __inject_io: subchannel id/nr from parm, interruption parameter/word from parm64.
          const parm = irq.parm ?? 0;
          const p64 = irq.parm64 ?? 0n;
          this.fi.io.push({
            subchannelId: parm >>> 16, subchannelNr: parm & 0xffff,
            intParm: Number(p64 >> 32n), intWord: Number(p64 & 0xffffffffn),
          });
          return;
        }
        throw new KvmError('EINVAL', `irq.type: 0x${irq.type.toString(16)} is not a floating interrupt this VM can take`);
    }
  }
}

export class S390Vcpu implements KvmArchVcpu {
  readonly sb = new SieBlock();
  readonly cpu: S390Cpu;
  readonly li = new LocalInterrupts();
  readonly ioctls: Readonly<Record<string, (...args: never[]) => unknown>>;
  readonly run_: KvmRun;
  /** Set once userspace drives the CPU state with KVM_SET_MP_STATE (user_cpu_state_ctrl). */
  userCpuStateCtrl = false;
  /** Enabled wait with nothing that can wake it: KVM_RUN returned and would block. */
  blocked = false;
  /** Exit counters, as KVM's per-vCPU statistics (exit_instruction, exit_program_interruption, ...). */
  readonly stats = {
    exitInstruction: 0, exitProgramInterruption: 0, exitWaitState: 0, exitValidity: 0,
    exitExternalRequest: 0, exitStopRequest: 0, exitNull: 0, haltWakeup: 0,
    /** Guest instructions executed (virtual time in ns advances by the same amount). */
    instructions: 0,
  };

  constructor(readonly vm: S390Vm, readonly ctx: KvmVcpuContext) {
    this.run_ = ctx.kvmRun;
    this.cpu = new S390Cpu(vm.storage, vm.clock);
    this.cpu.facilities = vm.facilities;
    this.cpu.dat = new Dat();
    this.sb.cpuflags = CPUSTAT_ZARCH | CPUSTAT_STOPPED;
    // Storage keys are enabled lazily: intercept the key instructions until first use.
    if (!vm.skeysEnabled) this.sb.ictl = ICTL_ISKE | ICTL_SSKE | ICTL_RRBE;
    this.initialReset();
    this.ioctls = {
      setInitialPsw: ((p: unknown) => this.setInitialPsw(p)) as never,
      initialReset: (() => this.initialReset()) as never,
      s390Interrupt: ((irq: unknown) => this.injectLocal(irq)) as never,
      memOp: ((op: unknown) => memOp(this, op)) as never,
      setGuestDebug: ((dbg: unknown) => this.setGuestDebug(dbg)) as never,
      getStats: (() => ({ ...this.stats })) as never,
      storeStatus: ((addr: unknown) => this.storeStatus(addr)) as never,
      normalReset: (() => this.normalReset()) as never,
      clearReset: (() => this.clearReset()) as never,
      getFpu: (() => this.getFpu()) as never,
      setFpu: ((fpu: unknown) => this.setFpu(fpu)) as never,
    };
  }

  get id(): number {
    return this.ctx.vcpuId;
  }

  get stopped(): boolean {
    return (this.sb.cpuflags & CPUSTAT_STOPPED) !== 0;
  }

  stop(): void {
    this.sb.cpuflags = this.sb.cpuflags | CPUSTAT_STOPPED;
  }

  start(): void {
    this.sb.cpuflags = this.sb.cpuflags & ~CPUSTAT_STOPPED;
  }

  /** KVM_S390_SET_INITIAL_PSW (only while the vCPU is not running: always here). */
  setInitialPsw(arg: unknown): void {
    const p = parseArg(pswSchema, arg, 'psw');
    // As KVM does: the PSW goes to kvm_run, from where KVM_RUN loads it.
    this.run_.psw.mask = p.mask;
    this.run_.psw.addr = p.addr;
    this.sb.gpswMask = p.mask;
    this.sb.gpswAddr = p.addr;
  }

  /** KVM_S390_INITIAL_RESET: the architected initial CPU reset. */
  initialReset(): void {
    const sb = this.sb;
    sb.gpswMask = 0n;
    sb.gpswAddr = 0n;
    this.run_.psw.mask = 0n;
    this.run_.psw.addr = 0n;
    sb.prefix = 0;
    sb.ckc = 0n;
    sb.todpr = 0;
    for (let n = 0; n < 16; n++) { sb.setGcrWord(n, 0, 0); sb.setGcrWord(n, 1, 0); }
    // CR0: external-interruption subclass defaults; CR14: channel-report masks.
    sb.setGcrWord(0, 1, 0xe0);
    sb.setGcrWord(14, 1, 0xc2000000);
    const c = this.cpu;
    c.fpc = 0;
    c.cputmNs = Infinity;
    c.ckc = 0n;
    c.ckcNs = this.vm.clock.nsAt(0n);
    c.cr.fill(0);
    this.li.emergency.clear();
    this.li.extCallSrc = -1;
    this.li.restart = false;
    this.li.stop = false;
    this.li.pgmCode = 0;
    this.li.setPrefix = -1;
    this.stop();
  }

  /**
   * KVM_S390_STORE_STATUS: addr is an absolute address (512-byte save area at
   * addr..), or KVM_S390_STORE_STATUS_PREFIXED (the CPU's own lowcore save areas) or
   * KVM_S390_STORE_STATUS_NOADDR (absolute 0x1200.., as for the IPL CPU).
   */
  storeStatus(arg: unknown): void {
    const addr = parseArg(storeStatusSchema, arg, 'addr');
    if (addr === S.KVM_S390_STORE_STATUS_PREFIXED) { storeStatusAt(this, 0, true); return; }
    const a = addr === S.KVM_S390_STORE_STATUS_NOADDR ? 0x1200 : addr;
    if (!this.vm.storage.accessible(a, 0x200)) throw new KvmError('EFAULT', `addr: 0x${a.toString(16)} is not guest storage`);
    storeStatusAt(this, a, false);
  }

  /** KVM_S390_NORMAL_RESET: drop pending local interrupts and the stop state's requests. */
  normalReset(): void {
    this.li.emergency.clear();
    this.li.extCallSrc = -1;
    this.li.restart = false;
    this.li.stop = false;
    this.li.pgmCode = 0;
    this.li.setPrefix = -1;
    this.blocked = false;
    this.stop();
  }

  /** KVM_S390_CLEAR_RESET: initial reset plus cleared GPRs, FPRs, access registers. */
  clearReset(): void {
    this.initialReset();
    this.cpu.gr.fill(0);
    this.cpu.fpr.fill(0);
    this.cpu.ar.fill(0);
    this.sb.todpr = 0;
    for (const r of [14, 15] as const) { this.sb.setGgWord(r, 0, 0); this.sb.setGgWord(r, 1, 0); }
  }

  /** KVM_GET_FPU on s390: struct kvm_fpu { fpc; fprs[16] }. */
  getFpu(): { fpc: number; fprs: bigint[] } {
    const f = this.cpu.fpr;
    const fprs: bigint[] = [];
    for (let r = 0; r < 16; r++) fprs.push((BigInt(f[2 * r]!) << 32n) | BigInt(f[2 * r + 1]!));
    return { fpc: this.cpu.fpc, fprs };
  }

  /** KVM_SET_FPU: an invalid FPC (reserved bits) is EINVAL, as test_fp_ctl fails. */
  setFpu(arg: unknown): void {
    const fpu = parseArg(fpuSchema, arg, 'fpu');
    if (fpu.fpc & 0x0707ff0c) throw new KvmError('EINVAL', `fpu.fpc: reserved bits set (0x${fpu.fpc.toString(16)})`);
    this.cpu.fpc = fpu.fpc;
    for (let r = 0; r < 16; r++) { const v = fpu.fprs[r]!; this.cpu.fpr[2 * r] = Number(v >> 32n); this.cpu.fpr[2 * r + 1] = Number(v & 0xffffffffn); }
  }

  /** KVM_S390_INTERRUPT on the vCPU fd (local interrupts). */
  injectLocal(arg: unknown): void {
    const irq = parseArg(s390InterruptSchema, arg, 'irq');
    const li = this.li;
    switch (irq.type) {
      case S.KVM_S390_PROGRAM_INT:
        if ((irq.parm ?? 0) === 0 || (irq.parm ?? 0) > 0xffff) throw new KvmError('EINVAL', 'irq.parm: a program-interruption code 1..0xffff');
        li.pgmCode = irq.parm ?? 0;
        li.pgmIlc = 0;
        return;
      case S.KVM_S390_RESTART: li.restart = true; return;
      case S.KVM_S390_SIGP_STOP: li.stop = true; return;
      case S.KVM_S390_SIGP_SET_PREFIX: li.setPrefix = (irq.parm ?? 0) & 0x7fffe000; return;
      case S.KVM_S390_INT_EMERGENCY: li.emergency.add((irq.parm ?? 0) & 0xffff); return;
      case S.KVM_S390_INT_EXTERNAL_CALL: li.extCallSrc = (irq.parm ?? 0) & 0xffff; return;
      case S.KVM_S390_INT_CLOCK_COMP: this.cpu.ckcNs = 0; return; // make the condition true now
      case S.KVM_S390_INT_CPU_TIMER: this.cpu.cputmNs = 0; return;
      default:
        throw new KvmError('EINVAL', `irq.type: 0x${irq.type.toString(16)} is not a local interrupt type`);
    }
  }

  /**
   * KVM_SET_GUEST_DEBUG: while debugging, program interruptions are intercepted
   * (ICTL_PINT) so KVM sees them first (PER events), then reinjected into the guest.
   */
  setGuestDebug(arg: unknown): void {
    const dbg = parseArg(guestDebugSchema, arg, 'dbg');
    if (dbg.control & ~(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP))
      throw new KvmError('EINVAL', `dbg.control: unsupported bits 0x${dbg.control.toString(16)}`);
    if (dbg.control & KVM_GUESTDBG_ENABLE) this.sb.ictl = this.sb.ictl | ICTL_PINT;
    else this.sb.ictl = this.sb.ictl & ~ICTL_PINT;
  }

  getMpState(): KvmMpState {
    return { mpState: this.stopped ? KVM_MP_STATE_STOPPED : KVM_MP_STATE_OPERATING };
  }

  setMpState(state: KvmMpState): void {
    this.userCpuStateCtrl = true;
    switch (state.mpState) {
      case KVM_MP_STATE_STOPPED: this.stop(); return;
      case KVM_MP_STATE_OPERATING: this.start(); return;
      case KVM_MP_STATE_LOAD: case KVM_MP_STATE_CHECK_STOP:
        throw new KvmError('EINVAL', `state.mpState: ${state.mpState} (LOAD/CHECK_STOP) is not supported`);
      default:
        throw new KvmError('EINVAL', `state.mpState: ${state.mpState} is not an s390 state`);
    }
  }

  destroy(): void {
    this.vm.vcpus.delete(this.id);
  }

  // ------------------------------------------------------------------ KVM_RUN

  run(): void {
    const run = this.run_;
    this.syncRegsFromRun();
    if (run.immediateExit) {
      run.exitReason = KVM_EXIT_INTR;
      this.syncRegsToRun();
      return;
    }
    // Without user CPU-state control KVM_RUN starts the CPU; with it, a stopped CPU
    // cannot run (kvm_arch_vcpu_ioctl_run: "can't run stopped vcpu").
    if (this.stopped) {
      if (this.userCpuStateCtrl) throw new KvmError('EINVAL', `can't run stopped vCPU ${this.id} (KVM_SET_MP_STATE it to OPERATING first)`);
      this.start();
    }
    this.blocked = false;
    const c = this.cpu;
    const clock = this.vm.clock;
    let executed = 0;
    for (;;) {
      // vcpu_pre_run
      const li = this.li;
      if (li.stop) {
        li.stop = false;
        this.stats.exitStopRequest++;
        this.stop();
        this.exitSieic(0x28, 0, 0);
        break;
      }
      if (li.setPrefix >= 0) { this.sb.prefix = li.setPrefix; li.setPrefix = -1; }
      this.loadArchState();
      if (li.pgmCode !== 0) {
        c.pgmCode = li.pgmCode;
        c.pgmIlc = li.pgmIlc;
        li.pgmCode = 0;
        deliverProgramInterruption(c);
      }
      deliverPendingInterrupts(c, li, this.vm.fi);
      // Intervention requests: exit SIE as soon as the guest enables for a pending class.
      const masked = extPendingMaskedByPsw(c, li, this.vm.fi);
      c.interventionMask = (masked && (c.pswMask0 & PSW_MASK_EXT) === 0 ? PSW_MASK_EXT : 0)
        | (ioPendingMaskedByPsw(c, this.vm.fi) && (c.pswMask0 & PSW_MASK_IO) === 0 ? PSW_MASK_IO : 0);
      this.sb.lctl = masked ? LCTL_CR0 : 0;
      this.storeArchState();
      if (executed >= RUN_SLICE) { run.exitReason = KVM_EXIT_INTR; break; }
      let budget = SIE_SLICE;
      const now = c.nowNs();
      const cr0 = c.cr[1]!;
      if (cr0 & CR0_CLOCK_COMPARATOR_SUBMASK && c.ckcNs > now) budget = Math.min(budget, Math.max(1, Math.ceil(c.ckcNs - now)));
      if (cr0 & CR0_CPU_TIMER_SUBMASK && c.cputmNs > now) budget = Math.min(budget, Math.max(1, Math.ceil(c.cputmNs - now)));
      c.sliceInsns = 0;
      sie64a(this.sb, c, budget);
      clock.ns += c.sliceInsns;
      executed += c.sliceInsns;
      this.stats.instructions += c.sliceInsns;
      c.sliceInsns = 0;
      // vcpu_post_run
      const icpt = this.sb.icptcode;
      if (icpt === 0) { this.stats.exitNull++; continue; } // the slice ended (host timer tick)
      const rc = handleIntercept(this, icpt);
      if (rc === 0) break;
    }
    this.syncRegsToRun();
  }

  /** The PSW and CRs live in the state description; the engine reloads them on entry. */
  private loadArchState(): void {
    const c = this.cpu;
    const sb = this.sb;
    c.setMask0(sb.gpswWord(0));
    c.pswMask1 = sb.gpswWord(1);
    c.pswAddr = sb.gpswWord(2) * 4294967296 + sb.gpswWord(3);
    c.prefix = sb.prefix & 0x7fffe000;
    for (let n = 0; n < 16; n++) { c.cr[2 * n] = sb.gcrWord(n, 0); c.cr[2 * n + 1] = sb.gcrWord(n, 1); }
  }

  private storeArchState(): void {
    const c = this.cpu;
    const sb = this.sb;
    sb.setGpswWord(0, c.getMask0());
    sb.setGpswWord(1, c.pswMask1);
    const lo = c.pswAddr >>> 0;
    sb.setGpswWord(2, Math.floor((c.pswAddr - lo) / 4294967296));
    sb.setGpswWord(3, lo);
    // __vcpu_run: gprs 14 and 15 enter SIE through the state description.
    sb.setGgWord(14, 0, c.gr[28]!); sb.setGgWord(14, 1, c.gr[29]!);
    sb.setGgWord(15, 0, c.gr[30]!); sb.setGgWord(15, 1, c.gr[31]!);
  }

  /** Exit to userspace with KVM_EXIT_S390_SIEIC and the interception's code and parameters. */
  exitSieic(icptcode: number, ipa: number, ipb: number): void {
    const run = this.run_;
    run.exitReason = uapi.KVM_EXIT_S390_SIEIC;
    run.s390Sieic.icptcode = icptcode;
    run.s390Sieic.ipa = ipa;
    run.s390Sieic.ipb = ipb >>> 0;
  }

  /** The PSW interrupt-enable bits are all off (a disabled wait cannot end). */
  pswInterruptsDisabled(): boolean {
    return (this.cpu.pswMask0 & (PSW_MASK_EXT | PSW_MASK_IO | PSW_MASK_MCHECK)) === 0;
  }

  get inWait(): boolean {
    return (this.sb.gpswWord(0) & PSW_MASK_WAIT) !== 0;
  }

  // ------------------------------------------------------------------ sync regs

  private syncRegsFromRun(): void {
    const run = this.run_;
    const s = run.s390SyncRegs;
    const c = this.cpu;
    const d = run.kvmDirtyRegs;
    // The PSW in kvm_run is always taken (userspace may have changed it).
    this.sb.gpswMask = run.psw.mask;
    this.sb.gpswAddr = run.psw.addr;
    if (d & S.KVM_SYNC_PREFIX) this.sb.prefix = s.prefix & 0x7fffe000;
    if (d & S.KVM_SYNC_GPRS) {
      for (let r = 0; r < 16; r++) { const v = s.gprs[r]!; c.gr[2 * r] = Number(v >> 32n); c.gr[2 * r + 1] = Number(v & 0xffffffffn); }
      this.sb.setGgWord(14, 0, c.gr[28]!); this.sb.setGgWord(14, 1, c.gr[29]!);
      this.sb.setGgWord(15, 0, c.gr[30]!); this.sb.setGgWord(15, 1, c.gr[31]!);
    }
    if (d & S.KVM_SYNC_ACRS) for (let r = 0; r < 16; r++) c.ar[r] = s.acrs[r]!;
    if (d & S.KVM_SYNC_CRS) for (let r = 0; r < 16; r++) { const v = s.crs[r]!; this.sb.setGcrWord(r, 0, Number(v >> 32n)); this.sb.setGcrWord(r, 1, Number(v & 0xffffffffn)); }
    if (d & S.KVM_SYNC_ARCH0) { this.sb.todpr = s.todpr & 0xffff; c.setCputm(BigInt.asIntN(64, s.cputm)); this.sb.ckc = s.ckc; }
    if (d & S.KVM_SYNC_FPRS) { for (let r = 0; r < 16; r++) { const v = s.fprs[r]!; c.fpr[2 * r] = Number(v >> 32n); c.fpr[2 * r + 1] = Number(v & 0xffffffffn); } c.fpc = s.fpc >>> 0; }
    run.kvmDirtyRegs = 0;
  }

  syncRegsToRun(): void {
    const run = this.run_;
    const s = run.s390SyncRegs;
    const c = this.cpu;
    const sb = this.sb;
    run.psw.mask = sb.gpswMask;
    run.psw.addr = sb.gpswAddr;
    c.gr[28] = sb.ggWord(14, 0); c.gr[29] = sb.ggWord(14, 1);
    c.gr[30] = sb.ggWord(15, 0); c.gr[31] = sb.ggWord(15, 1);
    s.prefix = sb.prefix & 0x7fffe000;
    for (let r = 0; r < 16; r++) {
      s.gprs[r] = (BigInt(c.gr[2 * r]!) << 32n) | BigInt(c.gr[2 * r + 1]!);
      s.acrs[r] = c.ar[r]!;
      s.crs[r] = (BigInt(sb.gcrWord(r, 0)) << 32n) | BigInt(sb.gcrWord(r, 1));
      s.fprs[r] = (BigInt(c.fpr[2 * r]!) << 32n) | BigInt(c.fpr[2 * r + 1]!);
    }
    s.todpr = sb.todpr;
    s.cputm = c.getCputm();
    s.ckc = c.ckc;
    s.fpc = c.fpc;
    run.kvmValidRegs = S.KVM_SYNC_PREFIX | S.KVM_SYNC_GPRS | S.KVM_SYNC_ACRS | S.KVM_SYNC_CRS | S.KVM_SYNC_ARCH0 | S.KVM_SYNC_FPRS;
  }

  /** Set the guest's condition code (in the state description's PSW). */
  setCc(cc: number): void {
    this.sb.setGpswWord(0, ((this.sb.gpswWord(0) & ~0x3000) | (cc << 12)) >>> 0);
  }

  /** Rewind the PSW by ilen (retry the intercepted instruction). */
  rewindPsw(ilen: number): void {
    const a = this.sb.gpswAddr - BigInt(ilen);
    this.sb.gpswAddr = BigInt.asUintN(64, a);
  }

  /** Inject a program interruption for the intercepted instruction (delivered before re-entry). */
  injectProgram(code: number, ilen: number): void {
    this.li.pgmCode = code;
    this.li.pgmIlc = ilen;
  }
}
