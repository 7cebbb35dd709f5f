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
  KVM_CAP_HLT, KVM_CAP_MP_STATE, KVM_CAP_SET_GUEST_DEBUG, KVM_CAP_USER_NMI, KVM_EXIT_HLT,
  KVM_EXIT_INTR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_MP_STATE_RUNNABLE, KVM_X86_DEFAULT_VM,
} from '../uapi/kvm';
import {
  KVM_REGS_FIELDS, KVM_SREGS_SEGMENTS, type KvmCpuidEntry2, type KvmMpState, type KvmMsrEntry,
  type KvmRegs, type KvmSregs,
} from '../uapi/structs';
import { checkX86Ops, type KvmX86Ops, type X86QueuedException } from './kvm-x86-ops';
import {
  createRegisterFile, readReg64, VCPU_REGS_RAX, VCPU_REGS_RBP, VCPU_REGS_RBX, VCPU_REGS_RCX,
  VCPU_REGS_RDI, VCPU_REGS_RDX, VCPU_REGS_RIP, VCPU_REGS_RSI, VCPU_REGS_RSP, VCPU_SREG_CS,
  VCPU_SREG_DS, VCPU_SREG_ES, VCPU_SREG_FS, VCPU_SREG_GS, VCPU_SREG_LDTR, VCPU_SREG_SS,
  VCPU_SREG_TR, writeReg64, type VcpuSreg,
} from './regs';

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

  constructor(readonly ops: KvmX86Ops, readonly vm: KvmVmContext) {
    ops.vmInit?.(this);
  }

  createVcpu(ctx: KvmVcpuContext): KvmArchVcpu {
    const vcpu = new KvmVcpuX86(this, ctx);
    this.vcpus.push(vcpu);
    return vcpu;
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

  /** Vendor-private state (vcpu_vmx / vcpu_svm). */
  vendor: unknown = undefined;
  ioctls: Record<string, (...args: never[]) => unknown> = {};

  readonly ops: KvmX86Ops;

  constructor(readonly kvm: KvmX86Vm, readonly ctx: KvmVcpuContext) {
    this.ops = kvm.ops;
    this.ops.vcpuCreate(this);
    this.ops.vcpuReset(this, false);
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
    while (r > 0) {
      r = this.enterGuest();
      if (r > 0 && this.requestExit) {
        this.requestExit = false;
        kvmRun.exitReason = KVM_EXIT_INTR;
        r = 0;
      }
    }
    kvmRun.ifFlag = (this.ops.getRflags(this) >> 9) & 1;
    kvmRun.cr8 = BigInt(this.cr8);
    kvmRun.apicBase = BigInt(this.apicBase);
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
    } else if (this.interruptNr >= 0 && ops.interruptAllowed(this, true)) {
      ops.injectIrq(this, false);
    }
    if (this.nmiPending > 0) ops.enableNmiWindow(this);
    if (this.interruptNr >= 0 || this.ctx.kvmRun.requestInterruptWindow) ops.enableIrqWindow(this);
    if (ops.vcpuPreRun !== undefined && !ops.vcpuPreRun(this)) return 0;
    const fastpath = ops.vcpuRun(this);
    return ops.handleExit(this, fastpath);
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
      cr0: BigInt(this.cr0 >>> 0), cr2: BigInt(this.cr2), cr3: BigInt(this.cr3), cr4: BigInt(this.cr4 >>> 0),
      cr8: BigInt(this.cr8), efer: BigInt(this.efer >>> 0), apicBase: BigInt(this.apicBase),
      interruptBitmap: bitmap,
    };
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

    this.cr2 = Number(s.cr2);
    this.cr3 = Number(s.cr3);
    this.cr8 = Number(s.cr8);
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
      const v = this.ops.getMsr(this, index);
      if (v === undefined) break;
      out.push({ index, data: v });
    }
    return out;
  }

  setMsrs(entries: readonly KvmMsrEntry[]): number {
    let n = 0;
    for (const e of entries) {
      if (!this.ops.setMsr(this, e.index, e.data, true)) break;
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

  getMpState(): KvmMpState {
    return { mpState: this.mpState };
  }

  setMpState(state: KvmMpState): void {
    this.mpState = state.mpState;
  }

  interrupt(irq: number): void {
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
 * KVM_EXIT_HLT (with one, the irqchip layer blocks the vCPU instead).
 */
export function kvmEmulateHalt(vcpu: KvmVcpuX86): number {
  if (!vcpu.ops.skipEmulatedInstruction(vcpu)) return 0;
  vcpu.ctx.kvmRun.exitReason = KVM_EXIT_HLT;
  return 0;
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
      return 1;
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
    getMsrIndexList: () => info.msrIndexList(),
  };
  kvmArchInit(host, backend);
}

/** kvm_x86_vendor_exit */
export function kvmX86VendorExit(host: Host): void {
  kvmArchExit(host, 'x86');
}
