/**
 * struct kvm_run: the shared page through which a vCPU reports why KVM_RUN returned.
 * One object per vCPU, reused for every exit (no allocation per exit). Userspace
 * completes an IN by writing `pioData` (or `io.data`), and an MMIO read by writing
 * `mmio.data`, before the next run, as with the mmap'ed page on Linux.
 */
import { PAGE_SIZE, KVM_PIO_PAGE_OFFSET } from './uapi/kvm';

/** kvm_run.io; the data lives in the PIO page at `dataOffset` from the start of kvm_run. */
export interface KvmRunIo {
  direction: number;
  size: number;
  port: number;
  count: number;
  dataOffset: number;
  /** View of the size*count data bytes inside `KvmRun.mapping` (the PIO page). */
  data: Uint8Array;
}

export interface KvmRunMmio {
  physAddr: number;
  data: Uint8Array;
  len: number;
  isWrite: number;
}

export interface KvmRunFailEntry {
  hardwareEntryFailureReason: bigint;
  cpu: number;
}

export interface KvmRunException {
  exception: number;
  errorCode: number;
}

export interface KvmRunHypercall {
  nr: bigint;
  args: bigint[];
  ret: bigint;
  longmode: number;
}

export interface KvmRunInternal {
  suberror: number;
  ndata: number;
  data: bigint[];
}

export interface KvmRunSystemEvent {
  type: number;
  ndata: number;
  data: bigint[];
}

/** kvm_run.debug.arch (x86) */
export interface KvmRunDebug {
  exception: number;
  pad: number;
  pc: bigint;
  dr6: bigint;
  dr7: bigint;
}

export interface KvmRunS390Sieic {
  icptcode: number;
  ipa: number;
  ipb: number;
}

export interface KvmRunS390Reset {
  flags: bigint;
}

/**
 * s390 struct kvm_sync_regs (kvm_run.s.regs): the register state KVM and userspace
 * exchange through kvm_run without extra ioctls. KVM fills the parts named in
 * kvmValidRegs on every exit; userspace marks what it changed in kvmDirtyRegs
 * (KVM_SYNC_* bits) before the next KVM_RUN.
 */
export interface KvmSyncRegsS390 {
  prefix: number;
  readonly gprs: BigUint64Array;
  readonly acrs: Uint32Array;
  readonly crs: BigUint64Array;
  todpr: number;
  cputm: bigint;
  ckc: bigint;
  readonly fprs: BigUint64Array;
  fpc: number;
}

/** The x86 KVM_GET_VCPU_MMAP_SIZE: the kvm_run page, the PIO page, the coalesced-MMIO ring. */
export const KVM_VCPU_MMAP_SIZE = 3 * PAGE_SIZE;

export class KvmRun {
  /** The vCPU's mmap area: kvm_run at 0, the PIO data page at KVM_PIO_PAGE_OFFSET. */
  readonly mapping = new Uint8Array(KVM_VCPU_MMAP_SIZE);
  /** The PIO data page (page KVM_PIO_PAGE_OFFSET of the mapping). */
  readonly pioData = this.mapping.subarray(KVM_PIO_PAGE_OFFSET * PAGE_SIZE, (KVM_PIO_PAGE_OFFSET + 1) * PAGE_SIZE);

  // in
  requestInterruptWindow = 0;
  immediateExit = 0;

  // out
  exitReason = 0;
  readyForInterruptInjection = 0;
  ifFlag = 0;
  flags = 0;

  // in/out
  cr8 = 0n;
  apicBase = 0n;

  // The exit union: each arm is its own object, valid only for its exit reason.
  readonly io: KvmRunIo = {
    direction: 0, size: 0, port: 0, count: 0,
    dataOffset: KVM_PIO_PAGE_OFFSET * PAGE_SIZE,
    data: this.pioData.subarray(0, 0),
  };
  readonly mmio: KvmRunMmio = { physAddr: 0, data: new Uint8Array(8), len: 0, isWrite: 0 };
  readonly failEntry: KvmRunFailEntry = { hardwareEntryFailureReason: 0n, cpu: 0 };
  readonly hw = { hardwareExitReason: 0n };
  readonly ex: KvmRunException = { exception: 0, errorCode: 0 };
  readonly hypercall: KvmRunHypercall = { nr: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], ret: 0n, longmode: 0 };
  readonly internal: KvmRunInternal = { suberror: 0, ndata: 0, data: [] };
  readonly systemEvent: KvmRunSystemEvent = { type: 0, ndata: 0, data: [] };
  readonly debug: KvmRunDebug = { exception: 0, pad: 0, pc: 0n, dr6: 0n, dr7: 0n };
  readonly s390Sieic: KvmRunS390Sieic = { icptcode: 0, ipa: 0, ipb: 0 };
  readonly s390Reset: KvmRunS390Reset = { flags: 0n };
  /** s390: the PSW, which kvm_run carries ahead of the exit union. */
  readonly psw = { mask: 0n, addr: 0n };
  /** kvm_run.kvm_valid_regs / kvm_dirty_regs (KVM_SYNC_* bits). */
  kvmValidRegs = 0;
  kvmDirtyRegs = 0;
  /** s390: kvm_run.s.regs (struct kvm_sync_regs). */
  readonly s390SyncRegs: KvmSyncRegsS390 = {
    prefix: 0, gprs: new BigUint64Array(16), acrs: new Uint32Array(16), crs: new BigUint64Array(16),
    todpr: 0, cputm: 0n, ckc: 0n, fprs: new BigUint64Array(16), fpc: 0,
  };

  /** Fill the io arm for an exit; returns the data view userspace reads or fills. */
  setIo(direction: number, size: number, port: number, count: number): Uint8Array {
    const io = this.io;
    io.direction = direction;
    io.size = size;
    io.port = port;
    io.count = count;
    if (io.data.length !== size * count) io.data = this.pioData.subarray(0, size * count);
    return io.data;
  }

  setInternalError(suberror: number, data: readonly bigint[] = []): void {
    this.internal.suberror = suberror;
    this.internal.ndata = data.length;
    this.internal.data = data.slice(0, 16);
  }

  setSystemEvent(type: number, data: readonly bigint[] = []): void {
    this.systemEvent.type = type;
    this.systemEvent.ndata = data.length;
    this.systemEvent.data = data.slice(0, 16);
  }
}
