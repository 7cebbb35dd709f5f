/**
 * X86Cpu: the architectural state of one logical processor and its memory pipeline
 * (segmentation -> paging with a software TLB -> two-dimensional paging hook -> memslots
 * or MMIO). The instruction set lives in execute.ts, exception delivery in interrupts.ts,
 * descriptor loads in segments.ts, system registers in system.ts.
 *
 * Numbers: GPRs are lo/hi Int32 pairs in `regs` (the x86/regs.ts layout, shareable with
 * KvmVcpuX86.regs). Linear addresses are JS numbers: unsigned 32-bit outside long mode,
 * signed canonical (sign-extended from bit 47) in 64-bit mode, so they stay exact.
 */
import type { Memslots, MemorySlot } from '../../memory/memslots';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../uapi/kvm';
import { createRegisterFile } from '../regs';
import {
  AR_DB, AR_L, AR_P, AR_S, AR_TYPE_ACCESSED, AR_TYPE_CODE, AR_TYPE_DC, AR_TYPE_RW, AR_UNUSABLE, CR0_ET, CR0_PE,
  CR0_PG, CR0_WP, EFER_LMA, FLAG_AC, FLAG_IF, FLAG_VM, FLAGS_FIXED, GP_VECTOR, PAT_RESET_HI, PAT_RESET_LO, SS_VECTOR,
  AR_G,
} from './constants';
import { EXIT, FAULT } from './fault';
import { FpuSseState } from './fpu-sse/index';
import {
  ENGINE_EXIT_BUDGET, ENGINE_EXIT_INTERNAL_ERROR, ENGINE_EXIT_MMIO, ENGINE_EXIT_TDP_FAULT, EngineExit,
  type GuestModeController, type InterruptSource, type TdpHook,
} from './guest-mode';
import { DecodeCache } from './decode-cache';
import { viewOf } from './data-view';
import { BlockCache } from './jit/block-cache';
import { walkPageTables, ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from './paging';
import { runCpu } from './run';
import { TLB_MASK, TLB_SIZE } from './tlb';

export { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE };

const TWO32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = viewOf(EMPTY);

/** A controller that intercepts nothing: the engine runs the guest as bare hardware. */
export const NO_INTERCEPTS: GuestModeController = { intercept: () => false };

/** The host TSC source of the silicon (kvm-core's KvmHostTsc). */
export interface EngineTscClock {
  /** The host TSC at the instruction `cpu` is executing. */
  hostTsc(cpu: X86Cpu): number;
}

export class X86Cpu {
  // ---- architectural state ----
  /** GPRs as lo/hi Int32 pairs, VCPU_REGS_* order (RIP's slot is not used by the engine: see `rip`). */
  regs: Int32Array;
  /** RIP: unsigned 32-bit outside 64-bit mode, signed canonical in 64-bit mode. */
  rip = 0xfff0;
  /** EFLAGS, all bits materialised (the engine computes flags eagerly). */
  flags = FLAGS_FIXED;
  /** Segment registers ES CS SS DS FS GS TR LDTR (VCPU_SREG_*) with their hidden caches. */
  readonly segSel = new Int32Array(8);
  readonly segBase = new Float64Array(8);
  readonly segLimit = new Float64Array(8);
  /** Access rights in the VMX format (constants.ts AR_*). */
  readonly segAr = new Int32Array(8);
  gdtrBase = 0;
  gdtrLimit = 0xffff;
  idtrBase = 0;
  idtrLimit = 0xffff;
  cr0 = 0x60000000 | CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  xcr0Lo = 1;
  readonly dr = new Float64Array(8);
  // MSRs (numbers are exact: canonical addresses are signed, the rest fit 53 bits; STAR/PAT are halves)
  starLo = 0;
  starHi = 0;
  lstar = 0;
  cstar = 0;
  sfmask = 0;
  kernelGsBase = 0;
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  tscAux = 0;
  apicBase = 0xfee00900;
  patLo = PAT_RESET_LO;
  patHi = PAT_RESET_HI;
  miscEnable = 1;
  /** MTRRs and other accepted-but-inert MSRs, by index (rare path). */
  readonly otherMsrs = new Map<number, bigint>();
  /** TSC = the host TSC (tscClock, or instructions retired without one) + tscOffset. */
  tscOffset = 0;
  instret = 0;
  /**
   * The host's time-stamp counter that the guest TSC is offset from (VMCS/VMCB TSC
   * offsetting): the VMM's clock when it gives one, so RDTSC needs no exit.
   */
  tscClock: EngineTscClock | null = null;
  // interruptibility and activity (VMX guest interruptibility state / activity state)
  stiBlocking = false;
  movSsBlocking = false;
  nmiBlocking = false;
  halted = false;
  /** Some DR7 instruction breakpoint is enabled (recomputed by updateDebugRegs). */
  insnBreakpoints = false;
  /** Shutdown after a triple fault: the CPU does nothing until reset. */
  shutdown = false;
  readonly fpu = new FpuSseState();

  // ---- cached mode bits (recomputed by updateMode) ----
  cpl = 0;
  /** 64-bit mode: EFER.LMA and CS.L. */
  mode64 = false;
  /** Protected mode (CR0.PE) and not virtual-8086. */
  pmode = false;
  /** Default operand/address size of the code segment: 16 or 32 (64-bit mode decodes separately). */
  csDefault32 = false;
  /** SS.B: 32-bit stack pointer. */
  ss32 = false;

  // ---- vendor interface ----
  controller: GuestModeController = NO_INTERCEPTS;
  tdp: TdpHook | null = null;
  interruptSource: InterruptSource | null = null;
  readonly exit = new EngineExit();
  /** Ask for an exit as soon as interrupts can be taken (interrupt-window exiting / VINTR). */
  requestInterruptWindow = false;
  requestNmiWindow = false;
  /** Set by kick(): run() returns ENGINE_EXIT_KICK at the next instruction boundary. */
  kickRequested = false;
  /** An NMI is pending on the NMI pin (delivered when not blocked). */
  nmiPending = false;
  // event injection (VM-entry interruption information / EVENTINJ)
  injectPending = false;
  injectVector = 0;
  injectType = 0;
  injectErrorCode = 0;
  injectHasErrorCode = false;
  injectInstrLen = 0;
  /** CPUID answers when CPUID is not intercepted: (leaf, subleaf) -> writes EAX..EDX into regs. */
  cpuidHook: ((cpu: X86Cpu, leaf: number, subleaf: number) => void) | null = null;
  /** Port I/O when not intercepted: reads return all-ones, writes are dropped unless hooked. */
  ioRead: ((port: number, size: number) => number) | null = null;
  ioWrite: ((port: number, size: number, value: number) => void) | null = null;

  // ---- fault state (valid when FAULT is thrown) ----
  faultVector = 0;
  faultErrorCode = 0;
  faultHasErrorCode = false;

  // ---- MMIO completion ----
  /**
   * Completed MMIO reads of the instruction being (re-)executed, in access order: each
   * re-execution replays them (an instruction may read several MMIO locations, one exit
   * each). Cleared when the instruction retires or faults.
   */
  readonly mmioLogGpa = new Float64Array(4);
  readonly mmioLogLen = new Uint8Array(4);
  readonly mmioLogData = new Uint8Array(64);
  mmioLogCount = 0;
  /** Bit per log entry: consumed by the current execution attempt. */
  mmioLogNext = 0;
  /** The read that exited and awaits completeMmioRead. */
  private mmioAwaitGpa = -1;
  private mmioAwaitLen = 0;
  /** A write to MMIO was recorded in `exit` during this instruction: leave after it retires. */
  mmioWritePending = false;

  // ---- software TLB: [read | write | fetch] x TLB_SIZE, tags are page base + user bit ----
  /** Read outside this class only by execute.ts's runFast (is the page it runs from still this entry's?). */
  readonly tlbTag = new Float64Array(3 * TLB_SIZE).fill(NaN);
  /** Entries' memory and page offset in it (the decode cache reads the fetch entries). */
  readonly tlbMem: Uint8Array[] = new Array<Uint8Array>(3 * TLB_SIZE).fill(EMPTY);
  /** A DataView of each entry's tlbMem: 4- and 8-byte accesses in one load or store (data-view.ts). */
  readonly tlbView: DataView[] = new Array<DataView>(3 * TLB_SIZE).fill(EMPTY_VIEW);
  readonly tlbOff = new Int32Array(3 * TLB_SIZE);
  private readonly tlbGlobal = new Uint8Array(3 * TLB_SIZE);
  /** The entries filled with non-global pages since the last flush, and how many (more than fit: scan all). */
  private readonly nonGlobal = new Int32Array(3 * TLB_SIZE);
  private nonGlobalCount = 0;
  /** Physical (memslot-space) page base of each entry: the decode cache's key. */
  readonly tlbHpa = new Float64Array(3 * TLB_SIZE);
  /** Decoded instructions by physical address (decode-cache.ts). */
  readonly dcache = new DecodeCache();
  /** Compiled blocks (jit/): the second tier. */
  readonly blocks = new BlockCache();
  /** Instructions a compiled block retired before the instruction that faulted or exited in it. */
  jitRetired = 0;
  /** 1 when the current access is a user-mode access (CPL 3 and not an implicit supervisor access). */
  accessUser = 0;
  /** Set while reading descriptor tables / TSS: supervisor accesses whatever the CPL. */
  implicitSupervisor = false;
  /** Scratch for 64-bit reads: the high half. */
  hi = 0;

  constructor(readonly memslots: Memslots, regs?: Int32Array) {
    this.regs = regs ?? createRegisterFile();
    memslots.onChange(() => this.flushTlb());
    this.reset();
  }

  /**
   * Power-on reset, or INIT (init=true) which keeps the x87/SSE state, the MTRRs and the
   * other MSRs, the TSC and the local APIC base (SDM Vol. 3 Table 9-1 and 9.1.1).
   */
  reset(init = false): void {
    this.regs.fill(0);
    this.regs[2 * 2] = 0x600; // EDX: processor signature
    this.rip = 0xfff0;
    this.flags = FLAGS_FIXED;
    for (let s = 0; s < 8; s++) {
      this.segSel[s] = 0;
      this.segBase[s] = 0;
      this.segLimit[s] = 0xffff;
      this.segAr[s] = AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED;
    }
    this.segSel[1] = 0xf000;
    this.segBase[1] = 0xffff0000;
    this.segAr[1] = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED;
    this.segAr[6] = AR_P | 0xb; // TR: busy 32-bit TSS
    this.segAr[7] = AR_P | 0x2; // LDTR
    this.gdtrBase = 0; this.gdtrLimit = 0xffff; this.idtrBase = 0; this.idtrLimit = 0xffff;
    this.cr0 = 0x60000000 | CR0_ET; this.cr2 = 0; this.cr3 = 0; this.cr4 = 0; this.cr8 = 0; this.efer = 0;
    this.xcr0Lo = 1;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0;
    this.dr[7] = 0x400;
    this.stiBlocking = false; this.movSsBlocking = false; this.nmiBlocking = false;
    this.halted = false; this.shutdown = false;
    this.injectPending = false; this.nmiPending = false;
    this.mmioLogCount = 0; this.mmioLogNext = 0; this.mmioWritePending = false;
    this.insnBreakpoints = false;
    this.requestInterruptWindow = false; this.requestNmiWindow = false;
    if (!init) {
      this.fpu.reset();
      this.otherMsrs.clear();
      this.patLo = PAT_RESET_LO; this.patHi = PAT_RESET_HI;
      this.apicBase = 0xfee00900;
      this.tscOffset = -(this.tscClock === null ? this.instret : this.tscClock.hostTsc(this));
      this.miscEnable = 1;
    }
    this.starLo = 0; this.starHi = 0; this.lstar = 0; this.cstar = 0; this.sfmask = 0; this.kernelGsBase = 0;
    this.sysenterCs = 0; this.sysenterEsp = 0; this.sysenterEip = 0; this.tscAux = 0;
    this.updateMode();
    this.flushTlb();
  }

  // =========================================================================================
  // Mode
  // =========================================================================================

  /** Recompute the cached mode bits after CR0/EFER/CS/SS/EFLAGS.VM change. */
  updateMode(): void {
    const csAr = this.segAr[1]!;
    this.pmode = (this.cr0 & CR0_PE) !== 0 && (this.flags & FLAG_VM) === 0;
    this.mode64 = (this.efer & EFER_LMA) !== 0 && (csAr & AR_L) !== 0;
    this.csDefault32 = (csAr & AR_DB) !== 0;
    this.ss32 = (this.segAr[2]! & AR_DB) !== 0;
    if (!(this.cr0 & CR0_PE)) this.cpl = 0;
    else if (this.flags & FLAG_VM) this.cpl = 3;
    else this.cpl = (this.segAr[2]! >> 5) & 3;
    this.accessUser = this.cpl === 3 ? 1 : 0;
  }

  /** Recompute the breakpoint state after DR0-3/DR7 change (MOV DR, or a vendor loading guest DRs). */
  updateDebugRegs(): void {
    const dr7 = this.dr[7]!;
    let any = false;
    for (let i = 0; i < 4; i++) {
      const enabled = (dr7 >>> (2 * i)) & 3;
      const rw = (dr7 >>> (16 + 4 * i)) & 3;
      if (enabled && rw === 0) any = true;
    }
    this.insnBreakpoints = any;
  }

  /** DR6 B0-3 bits of the instruction breakpoints matching linear address la, or 0. */
  matchInsnBreakpoints(la: number): number {
    const dr7 = this.dr[7]!;
    let hit = 0;
    for (let i = 0; i < 4; i++) {
      if (!((dr7 >>> (2 * i)) & 3) || ((dr7 >>> (16 + 4 * i)) & 3) !== 0) continue;
      if (this.dr[i] === la) hit |= 1 << i;
    }
    return hit;
  }

  get longMode(): boolean {
    return (this.efer & EFER_LMA) !== 0;
  }

  // =========================================================================================
  // Faults
  // =========================================================================================

  /** Raise an architectural exception: aborts the current instruction. */
  raise(vector: number, errorCode = -1): never {
    this.faultVector = vector;
    this.faultHasErrorCode = errorCode >= 0;
    this.faultErrorCode = errorCode >= 0 ? errorCode : 0;
    throw FAULT;
  }

  /** Leave guest mode now with cpu.exit filled in (an always-exiting event). */
  leave(reason: number): never {
    this.exit.reason = reason;
    throw EXIT;
  }

  internalError(message: string): never {
    this.exit.internalMessage = message;
    this.leave(ENGINE_EXIT_INTERNAL_ERROR);
  }

  // =========================================================================================
  // Software TLB
  // =========================================================================================

  flushTlb(): void {
    this.tlbTag.fill(NaN);
    this.tlbMem.fill(EMPTY);
    this.tlbView.fill(EMPTY_VIEW);
    this.nonGlobalCount = 0;
  }

  /** A CR3 load: drop everything but global entries (CR4.PGE). */
  flushTlbNonGlobal(): void {
    const tag = this.tlbTag;
    const g = this.tlbGlobal;
    const n = this.nonGlobalCount;
    if (n > this.nonGlobal.length) {
      for (let i = 0; i < tag.length; i++) if (g[i] === 0) tag[i] = NaN;
    } else {
      // Only the entries filled with non-global pages since the last flush (one may have
      // been refilled with a global page since: its flag says so).
      const list = this.nonGlobal;
      for (let k = 0; k < n; k++) {
        const i = list[k]!;
        if (g[i] === 0) tag[i] = NaN;
      }
    }
    this.nonGlobalCount = 0;
  }

  /**
   * INVLPG: drop the entries that can hold the page of la (every privilege tag, every
   * access kind, signed or unsigned encodings of the address: the whole direct-mapped set).
   */
  flushTlbPage(la: number): void {
    const idx = (la >>> 12) & TLB_MASK;
    for (let k = 0; k < 3; k++) this.tlbTag[k * TLB_SIZE + idx] = NaN;
  }

  // =========================================================================================
  // Linear memory (after segmentation). la: see the header.
  // =========================================================================================

  read8(la: number): number {
    const i = (la >>> 12) & TLB_MASK;
    if (this.tlbTag[i] === la - (la & 0xfff) + this.accessUser) return this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)]!;
    return this.read8Slow(la);
  }

  read16(la: number): number {
    const o = la & 0xfff;
    if (o <= 0xffe) {
      const i = (la >>> 12) & TLB_MASK;
      if (this.tlbTag[i] === la - o + this.accessUser) {
        const m = this.tlbMem[i]!;
        const p = this.tlbOff[i]! + o;
        return m[p]! | (m[p + 1]! << 8);
      }
      const gpaByte = this.translateForAccess(la, ACCESS_READ);
      if (gpaByte < 0) return this.mmioRead(-gpaByte - 1, 2);
      return this.read8(la) | (this.read8(la + 1) << 8);
    }
    return this.read8(la) | (this.read8(la + 1) << 8);
  }

  read32(la: number): number {
    const o = la & 0xfff;
    if (o <= 0xffc) {
      const i = (la >>> 12) & TLB_MASK;
      if (this.tlbTag[i] === la - o + this.accessUser) return this.tlbView[i]!.getInt32(this.tlbOff[i]! + o, true);
      const g = this.translateForAccess(la, ACCESS_READ);
      if (g < 0) return this.mmioRead(-g - 1, 4);
    } else {
      // Cross-page: check both pages before reading anything.
      this.translateForAccess(la, ACCESS_READ);
      this.translateForAccess(la + 3, ACCESS_READ);
    }
    return this.read8(la) | (this.read8(la + 1) << 8) | (this.read8(la + 2) << 16) | (this.read8(la + 3) << 24);
  }

  /** 64-bit read: returns the low half, the high half is in this.hi. */
  read64(la: number): number {
    const o = la & 0xfff;
    if (o <= 0xff8) {
      const i = (la >>> 12) & TLB_MASK;
      if (this.tlbTag[i] === la - o + this.accessUser) {
        const v = this.tlbView[i]!;
        const p = this.tlbOff[i]! + o;
        this.hi = v.getInt32(p + 4, true);
        return v.getInt32(p, true);
      }
    } else {
      this.translateForAccess(la, ACCESS_READ);
      this.translateForAccess(la + 7, ACCESS_READ);
    }
    const g = o <= 0xff8 ? this.translateForAccessIfMiss(la, ACCESS_READ) : 0;
    if (g < 0) {
      const lo = this.mmioRead(-g - 1, 8);
      return lo;
    }
    const hi = this.read32(la + 4);
    const lo = this.read32(la);
    this.hi = hi;
    return lo;
  }

  write8(la: number, v: number): void {
    const i = TLB_SIZE + ((la >>> 12) & TLB_MASK);
    if (this.tlbTag[i] === la - (la & 0xfff) + this.accessUser) {
      this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)] = v;
      return;
    }
    this.write8Slow(la, v);
  }

  write16(la: number, v: number): void {
    const o = la & 0xfff;
    if (o <= 0xffe) {
      const i = TLB_SIZE + ((la >>> 12) & TLB_MASK);
      if (this.tlbTag[i] === la - o + this.accessUser) {
        const m = this.tlbMem[i]!;
        const p = this.tlbOff[i]! + o;
        m[p] = v;
        m[p + 1] = v >> 8;
        return;
      }
      const g = this.translateForAccess(la, ACCESS_WRITE);
      if (g < 0) { this.mmioWrite(-g - 1, 2, v, 0); return; }
    } else {
      this.translateForAccess(la, ACCESS_WRITE);
      this.translateForAccess(la + 1, ACCESS_WRITE);
    }
    this.write8(la, v);
    this.write8(la + 1, v >> 8);
  }

  write32(la: number, v: number): void {
    const o = la & 0xfff;
    if (o <= 0xffc) {
      const i = TLB_SIZE + ((la >>> 12) & TLB_MASK);
      if (this.tlbTag[i] === la - o + this.accessUser) {
        this.tlbView[i]!.setInt32(this.tlbOff[i]! + o, v, true);
        return;
      }
      const g = this.translateForAccess(la, ACCESS_WRITE);
      if (g < 0) { this.mmioWrite(-g - 1, 4, v, 0); return; }
    } else {
      this.translateForAccess(la, ACCESS_WRITE);
      this.translateForAccess(la + 3, ACCESS_WRITE);
    }
    this.write8(la, v);
    this.write8(la + 1, v >> 8);
    this.write8(la + 2, v >> 16);
    this.write8(la + 3, v >> 24);
  }

  write64(la: number, lo: number, hi: number): void {
    const o = la & 0xfff;
    if (o <= 0xff8) {
      const i = TLB_SIZE + ((la >>> 12) & TLB_MASK);
      if (this.tlbTag[i] === la - o + this.accessUser) {
        const v = this.tlbView[i]!;
        const p = this.tlbOff[i]! + o;
        v.setInt32(p, lo, true);
        v.setInt32(p + 4, hi, true);
        return;
      }
      const g = this.translateForAccessIfMiss(la, ACCESS_WRITE);
      if (g < 0) { this.mmioWrite(-g - 1, 8, lo, hi); return; }
    } else {
      this.translateForAccess(la, ACCESS_WRITE);
      this.translateForAccess(la + 7, ACCESS_WRITE);
    }
    this.write32(la, lo);
    this.write32(la + 4, hi);
  }

  /** Fault now if any byte of [la, la+len) is not writable (for multi-part stores). */
  probeWrite(la: number, len: number): void {
    this.translateForAccess(la, ACCESS_WRITE);
    if (((la & 0xfff) + len - 1) > 0xfff) this.translateForAccess(la + len - 1, ACCESS_WRITE);
  }

  probeRead(la: number, len: number): void {
    this.translateForAccess(la, ACCESS_READ);
    if (((la & 0xfff) + len - 1) > 0xfff) this.translateForAccess(la + len - 1, ACCESS_READ);
  }

  fetch8(la: number): number {
    const i = 2 * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    if (this.tlbTag[i] === la - (la & 0xfff) + this.accessUser) return this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)]!;
    const g = this.translateForAccess(la, ACCESS_FETCH);
    if (g < 0) {
      // Executing from MMIO: not supported by the engine (KVM reports an emulation failure too).
      this.internalError(`instruction fetch from MMIO at gpa 0x${(-g - 1).toString(16)}`);
    }
    return this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)]!;
  }

  /** The page of the last fetchPage(): the decoder reads instruction bytes straight from it. */
  winMem: Uint8Array = EMPTY;

  /** Make la fetchable (translate, fill the fetch TLB); returns its fetch TLB entry (tlbMem/tlbOff/tlbHpa). */
  fetchEntry(la: number): number {
    const i = 2 * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    if (this.tlbTag[i] !== la - (la & 0xfff) + this.accessUser) {
      const g = this.translateForAccess(la, ACCESS_FETCH);
      if (g < 0) this.internalError(`instruction fetch from MMIO at gpa 0x${(-g - 1).toString(16)}`);
    }
    return i;
  }

  /** The fetch TLB entry of la if it holds la's page now, else -1 (no translation, no fault). */
  fetchEntryHit(la: number): number {
    const i = 2 * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    return this.tlbTag[i] === la - (la & 0xfff) + this.accessUser ? i : -1;
  }

  /** Make la fetchable (translate, fill the fetch TLB) and point winMem at its page; returns la's index in winMem. */
  fetchPage(la: number): number {
    const i = 2 * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    if (this.tlbTag[i] !== la - (la & 0xfff) + this.accessUser) {
      const g = this.translateForAccess(la, ACCESS_FETCH);
      if (g < 0) this.internalError(`instruction fetch from MMIO at gpa 0x${(-g - 1).toString(16)}`);
    }
    this.winMem = this.tlbMem[i]!;
    return this.tlbOff[i]! + (la & 0xfff);
  }

  private read8Slow(la: number): number {
    const g = this.translateForAccess(la, ACCESS_READ);
    if (g < 0) return this.mmioRead(-g - 1, 1);
    const i = (la >>> 12) & TLB_MASK;
    return this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)]!;
  }

  private write8Slow(la: number, v: number): void {
    const g = this.translateForAccess(la, ACCESS_WRITE);
    if (g < 0) { this.mmioWrite(-g - 1, 1, v, 0); return; }
    const i = TLB_SIZE + ((la >>> 12) & TLB_MASK);
    this.tlbMem[i]![this.tlbOff[i]! + (la & 0xfff)] = v;
  }

  /**
   * The TLB entry of la's page for `access` when it is cached (RAM, rights already
   * checked, A/D and dirty-log bits already set), or -1: whole-page string operations
   * (string-io.ts) may then use tlbMem/tlbOff directly, as the one-byte fast paths do.
   */
  tlbEntry(la: number, access: number): number {
    const i = access * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    return this.tlbTag[i] === la - (la & 0xfff) + this.accessUser ? i : -1;
  }

  private translateForAccessIfMiss(la: number, access: number): number {
    const i = access * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    if (this.tlbTag[i] === la - (la & 0xfff) + this.accessUser) return 0;
    return this.translateForAccess(la, access);
  }

  /**
   * Translate la for an access and fill the TLB. Returns >= 0 when the page is RAM (now
   * in the TLB), or -(gpa+1) when the access goes to MMIO (never cached). Throws #PF.
   */
  translateForAccess(la: number, access: number): number {
    const user = this.accessUser;
    const i = access * TLB_SIZE + ((la >>> 12) & TLB_MASK);
    const pageBase = la - (la & 0xfff);
    if (this.tlbTag[i] === pageBase + user) return 0;
    let gpa: number;
    let global = 0;
    let cacheable = true;
    if (this.cr0 & CR0_PG) {
      const r = walkPageTables(this, la, access, user === 1);
      if (r < 0) {
        this.pfAddress = la;
        this.raise(14, this.walkErrorCode);
      }
      gpa = r;
      global = this.walkGlobal;
      cacheable = this.walkCacheable;
    } else {
      gpa = la >>> 0;
    }
    const hpa = this.tdp === null ? gpa : this.tdpTranslate(gpa, access, la, false);
    const slot = this.memslots.find(hpa);
    if (slot === undefined) return -(gpa + 1);
    if (access === ACCESS_WRITE) {
      if (slot.flags & KVM_MEM_READONLY) return -(gpa + 1);
      if (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) this.memslots.markDirty(hpa);
    }
    if (!cacheable) {
      // SMAP-dependent rights (they change with EFLAGS.AC): translate again next time.
      this.tlbTag[i] = NaN;
      this.tlbMem[i] = slot.hva;
      this.tlbView[i] = viewOf(slot.hva);
      this.tlbOff[i] = (hpa - (hpa % 4096)) - slot.guestPhysAddr;
      this.tlbHpa[i] = hpa - (hpa % 4096);
      return 1;
    }
    this.tlbTag[i] = pageBase + user;
    this.tlbMem[i] = slot.hva;
    this.tlbView[i] = viewOf(slot.hva);
    this.tlbOff[i] = (hpa - (hpa % 4096)) - slot.guestPhysAddr;
    this.tlbGlobal[i] = global;
    if (global === 0) {
      // Listed for the next CR3 load (flushTlbNonGlobal); past the list's end it scans all.
      if (this.nonGlobalCount < this.nonGlobal.length) this.nonGlobal[this.nonGlobalCount] = i;
      this.nonGlobalCount++;
    }
    this.tlbHpa[i] = hpa - (hpa % 4096);
    return 1;
  }

  /** The linear address of the last #PF (CR2 is written when it is delivered). */
  pfAddress = 0;
  /** Filled by walkPageTables. */
  walkErrorCode = 0;
  walkGlobal = 0;
  walkCacheable = true;

  tdpTranslate(gpa: number, access: number, la: number, isPageWalk: boolean): number {
    const hpa = this.tdp!.translate(this, gpa, access, la, isPageWalk);
    if (hpa < 0) {
      const e = this.exit;
      e.gpa = gpa;
      e.linearAddress = la;
      e.isWrite = access === ACCESS_WRITE;
      e.isFetch = access === ACCESS_FETCH;
      e.reason = ENGINE_EXIT_TDP_FAULT;
      this.controller.intercept(this, e);
      throw EXIT;
    }
    return hpa;
  }

  // =========================================================================================
  // Guest-physical memory (page walks, descriptor-free physical accesses)
  // =========================================================================================

  /** The slot and offset of a guest-physical address for a page-table access; null for MMIO. */
  physSlot(gpa: number, isWrite: boolean): MemorySlot | undefined {
    const hpa = this.tdp === null ? gpa : this.tdpTranslate(gpa, isWrite ? ACCESS_WRITE : ACCESS_READ, gpa, true);
    const slot = this.memslots.find(hpa);
    if (slot !== undefined && isWrite) {
      if (slot.flags & KVM_MEM_READONLY) return undefined;
      if (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) this.memslots.markDirty(hpa);
    }
    this.physOff = slot === undefined ? 0 : hpa - slot.guestPhysAddr;
    return slot;
  }

  physOff = 0;

  /** Read a 32-bit value at a guest-physical address (0xffffffff from unbacked memory, as the bus floats). */
  physRead32(gpa: number): number {
    const slot = this.physSlot(gpa, false);
    if (slot === undefined) return -1;
    const m = slot.hva;
    const p = this.physOff;
    return m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);
  }

  physWrite32(gpa: number, v: number): void {
    const slot = this.physSlot(gpa, true);
    if (slot === undefined) return;
    const m = slot.hva;
    const p = this.physOff;
    m[p] = v; m[p + 1] = v >> 8; m[p + 2] = v >> 16; m[p + 3] = v >> 24;
  }

  // =========================================================================================
  // MMIO
  // =========================================================================================

  private mmioRead(gpa: number, len: number): number {
    const used = this.mmioLogNext;
    for (let k = 0; k < this.mmioLogCount; k++) {
      if ((used & (1 << k)) || this.mmioLogGpa[k] !== gpa || this.mmioLogLen[k] !== len) continue;
      this.mmioLogNext = used | (1 << k);
      const d = this.mmioLogData;
      const o = 16 * k;
      this.hi = len === 8 ? d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24) : 0;
      if (len === 1) return d[o]!;
      if (len === 2) return d[o]! | (d[o + 1]! << 8);
      return d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
    }
    // A new read: keep only the entries this attempt consumed (others belong to iterations
    // of a REP instruction that already committed, or to a path the guest no longer takes).
    let n = 0;
    for (let k = 0; k < this.mmioLogCount; k++) {
      if (!(used & (1 << k))) continue;
      if (n !== k) {
        this.mmioLogGpa[n] = this.mmioLogGpa[k]!;
        this.mmioLogLen[n] = this.mmioLogLen[k]!;
        this.mmioLogData.copyWithin(16 * n, 16 * k, 16 * k + 16);
      }
      n++;
    }
    this.mmioLogCount = n;
    this.mmioLogNext = (1 << n) - 1;
    if (n >= 4) this.internalError(`more than 4 MMIO reads in one instruction (gpa 0x${gpa.toString(16)})`);
    const e = this.exit;
    e.gpa = gpa;
    e.size = len;
    e.isWrite = false;
    e.data.fill(0);
    e.reason = ENGINE_EXIT_MMIO;
    this.mmioAwaitGpa = gpa;
    this.mmioAwaitLen = len;
    this.controller.intercept(this, e);
    throw EXIT;
  }

  private mmioWrite(gpa: number, len: number, lo: number, hi: number): void {
    const e = this.exit;
    if (this.mmioWritePending) {
      // Several stores of one instruction (a 16-byte SSE store as 4 dwords, MOVSQ as halves):
      // contiguous ones merge into one exit of up to 16 bytes, like KVM's MMIO fragments.
      if (gpa === e.gpa + e.size && e.size + len <= 16) {
        for (let k = 0; k < len && k < 4; k++) e.data[e.size + k] = (lo >>> (8 * k)) & 0xff;
        for (let k = 4; k < len; k++) e.data[e.size + k] = (hi >>> (8 * (k - 4))) & 0xff;
        e.size += len;
        return;
      }
      this.internalError(`non-contiguous MMIO writes in one instruction (gpa 0x${e.gpa.toString(16)} and 0x${gpa.toString(16)})`);
    }
    e.gpa = gpa;
    e.size = len;
    e.isWrite = true;
    e.data.fill(0);
    for (let k = 0; k < len && k < 4; k++) e.data[k] = (lo >>> (8 * k)) & 0xff;
    for (let k = 4; k < len; k++) e.data[k] = (hi >>> (8 * (k - 4))) & 0xff;
    this.mmioWritePending = true;
  }

  /** Userspace answered an MMIO read exit: the re-executed access returns these bytes. */
  completeMmioRead(data: Uint8Array): void {
    if (this.mmioAwaitGpa < 0) return;
    const k = this.mmioLogCount;
    if (k >= 4) return;
    this.mmioLogGpa[k] = this.mmioAwaitGpa;
    this.mmioLogLen[k] = this.mmioAwaitLen;
    this.mmioLogData.fill(0, 16 * k, 16 * k + 16);
    this.mmioLogData.set(data.subarray(0, Math.min(data.length, 16)), 16 * k);
    this.mmioLogCount = k + 1;
    this.mmioAwaitGpa = -1;
  }

  // =========================================================================================
  // Segmentation: logical -> linear with limit and rights checks
  // =========================================================================================

  /**
   * The linear address of [seg:off, +len) for a read (write=false) or write. off is the
   * effective address already truncated to the address size (unsigned in 16/32-bit
   * addressing, signed canonical-or-not in 64-bit addressing). #GP(0), or #SS(0) for SS.
   */
  linear(seg: number, off: number, len: number, write: boolean): number {
    if (this.mode64) {
      const la = seg >= 4 && seg <= 5 ? addSigned64(this.segBase[seg]!, off) : off;
      if (!isCanonical(la) || !isCanonical(la + len - 1)) this.raise(seg === 2 ? SS_VECTOR : GP_VECTOR, 0);
      return la;
    }
    const ar = this.segAr[seg]!;
    if (this.pmode) {
      if (ar & AR_UNUSABLE) this.raise(seg === 2 ? SS_VECTOR : GP_VECTOR, 0);
      if (write ? (ar & (AR_TYPE_CODE | AR_TYPE_RW)) !== AR_TYPE_RW : (ar & (AR_TYPE_CODE | AR_TYPE_RW)) === AR_TYPE_CODE)
        this.raise(seg === 2 ? SS_VECTOR : GP_VECTOR, 0);
    }
    const limit = this.segLimit[seg]!;
    const end = off + len - 1;
    if ((ar & (AR_TYPE_CODE | AR_TYPE_DC)) === AR_TYPE_DC) {
      // Expand-down: valid offsets are (limit, 0xffff or 0xffffffff].
      const top = ar & AR_DB ? 0xffffffff : 0xffff;
      if (off <= limit || end > top) this.raise(seg === 2 ? SS_VECTOR : GP_VECTOR, 0);
    } else if (end > limit) {
      this.raise(seg === 2 ? SS_VECTOR : GP_VECTOR, 0);
    }
    // Legacy modes use Int32 linear addresses (Smi-friendly; the TLB and the walker mask them);
    // compatibility mode keeps them unsigned, since the 4-level walk reads the upper bits.
    return this.longMode ? (this.segBase[seg]! + off) >>> 0 : (this.segBase[seg]! + off) | 0;
  }

  // =========================================================================================
  // The run loop lives in run.ts; these are here so the FPU host view can reach them.
  // =========================================================================================

  getRipLo(): number {
    return this.rip | 0;
  }

  getRipHi(): number {
    return Math.floor(this.rip / TWO32) | 0;
  }

  /**
   * Set RIP from halves (vendors loading the VMCS/VMCB guest RIP). The high half is taken
   * as signed: a canonical upper-half RIP (a kernel's 0xffffffff8...) must come back as the
   * same negative number cpu.rip uses, not as an unsigned value above 2^53 that loses its
   * low bits.
   */
  setRip(lo: number, hi: number): void {
    this.rip = this.mode64 || this.longMode ? (hi | 0) * TWO32 + (lo >>> 0) : lo >>> 0;
  }

  /** Flags the guest can observe (EFLAGS with bit 1 set). */
  getFlags(): number {
    return this.flags | FLAGS_FIXED;
  }

  get interruptsEnabled(): boolean {
    return (this.flags & FLAG_IF) !== 0 && !this.stiBlocking && !this.movSsBlocking;
  }

  get alignmentChecks(): boolean {
    return this.cpl === 3 && (this.flags & FLAG_AC) !== 0;
  }

  get wp(): boolean {
    return (this.cr0 & CR0_WP) !== 0;
  }

  get segG(): number {
    return AR_G;
  }

  /**
   * Run guest code until an exit or until `budget` instructions retired; returns
   * ENGINE_EXIT_* with the details in this.exit. See guest-mode.ts.
   */
  run(budget: number): number {
    const r = runCpu(this, budget);
    // Mirror RIP into the shared register file's VCPU_REGS_RIP slot (cpu.rip stays authoritative).
    this.regs[32] = this.rip | 0;
    this.regs[33] = Math.floor(this.rip / TWO32) | 0;
    return r;
  }

  /** Ask run() to return at the next instruction boundary (kvm_vcpu_kick from inside a hook). */
  kick(): void {
    this.kickRequested = true;
  }

  /**
   * The instruction emulator (emulate_instruction): execute exactly the instruction at
   * RIP with NO intercepts (port I/O goes to ioRead/ioWrite, e.g. KVM's string-PIO
   * buffer) and no interrupt window. Returns ENGINE_EXIT_BUDGET when it retired, or
   * ENGINE_EXIT_MMIO / EXCEPTION / ... as run() does.
   */
  emulateInstruction(): number {
    const saved = this.controller;
    this.controller = NO_INTERCEPTS;
    try {
      return runCpu(this, 1, true);
    } finally {
      this.controller = saved;
      this.regs[32] = this.rip | 0;
      this.regs[33] = Math.floor(this.rip / TWO32) | 0;
    }
  }

  /**
   * Queue an event for delivery at the next run() (VM-entry interruption information /
   * VMCB EVENTINJ). type: EVENT_TYPE_*; instrLen for software interrupts/exceptions is
   * added to RIP before delivery so the frame holds the return address.
   */
  injectEvent(vector: number, type: number, errorCode = -1, instrLen = 0): void {
    this.injectPending = true;
    this.injectVector = vector & 0xff;
    this.injectType = type;
    this.injectHasErrorCode = errorCode >= 0;
    this.injectErrorCode = errorCode >= 0 ? errorCode : 0;
    this.injectInstrLen = instrLen;
  }

  resetExitReason(): void {
    this.exit.reason = ENGINE_EXIT_BUDGET;
    this.exit.vectoringVector = -1;
  }
}

/** A 64-bit address is canonical when bits 63:47 are all equal (48-bit linear addresses). */
export function isCanonical(la: number): boolean {
  return la >= -0x8000_0000_0000 && la < 0x8000_0000_0000;
}

/** a + b modulo 2^64, as a signed number (exact when the result is canonical). */
export function addSigned64(a: number, b: number): number {
  let r = a + b;
  if (r >= 0x8000_0000_0000_0000) r -= 0x1_0000_0000_0000_0000;
  else if (r < -0x8000_0000_0000_0000) r += 0x1_0000_0000_0000_0000;
  return r;
}

