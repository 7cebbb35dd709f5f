/**
 * The SVM silicon in action: what VMRUN and #VMEXIT do (AMD APM vol. 2 ch. 15) on top of
 * kvm-core's x86 engine.
 *
 *   VMRUN:   the consistency checks (failure: EXITCODE = VMEXIT_INVALID), TLB_CONTROL on
 *            the ASID-tagged TLB, load the state-save area into the engine, EVENTINJ;
 *   guest:   this class is the engine's GuestModeController (intercept vectors, IOPM,
 *            MSRPM, exception intercepts, V_IRQ/VINTR) and its TdpHook (the NPT walk at nCR3);
 *   #VMEXIT: save the state back and record EXITCODE, EXITINFO1/2, EXITINTINFO, next RIP.
 *
 * SVM has no preemption timer: the end of the instruction budget (the run loop's slice
 * or next timer deadline) is a physical interrupt, SVM_EXIT_INTR.
 */
import { type GuestModeController, type KvmVcpuX86, RET_PF_FIXED, type TdpHook, type TdpMmu, X86Cpu, x86Engine } from '@kvmts/kvm-core';
import { SvmAsidTlb } from './svm/asid-tlb';
import { SVM_EXIT } from './svm/exit-codes';
import { ioioExits } from './svm/iopm';
import { msrExits } from './svm/msrpm';
import { NPT_WALK_OK, nptWalk, NptWalkResult } from './svm/npt';
import { defaultSvmRunConfig, EFER_SVME, recordVmexit, svmVmrun, type SvmRunConfig } from './svm/vmrun-checks';
import {
  INTERCEPT, SVM_INTERRUPT_SHADOW_MASK, SVM_NESTED_CTL_NP_ENABLE, TLB_CONTROL_DO_NOTHING, V_IRQ_MASK, Vmcb, VMCB_CONTROL as CTL,
  VMCB_SAVE as SAVE,
} from './svm/vmcb';

const E = x86Engine;
const EFER_LMA = 1 << 10;
const AR_UNUSABLE = 1 << 16;

/** Save-area segment offsets by VCPU_SREG_* (ES CS SS DS FS GS TR LDTR). */
export const SVM_SEG_OFFSETS: readonly number[] = [SAVE.ES, SAVE.CS, SAVE.SS, SAVE.DS, SAVE.FS, SAVE.GS, SAVE.TR, SAVE.LDTR];

/** SVM attributes (12 bits) -> VMX access rights (the engine's format); not present = unusable. */
export function svmAttribToAr(a: number): number {
  return (a & 0xff) | ((a & 0xf00) << 4) | (a & 0x80 ? 0 : AR_UNUSABLE);
}

/** VMX access rights -> SVM attributes (an unusable segment has attributes 0). */
export function arToSvmAttrib(ar: number): number {
  if (ar & AR_UNUSABLE) return 0;
  return (ar & 0xff) | ((ar >>> 4) & 0xf00);
}

export const SVM_RUN_OK = 0;
/** VMRUN failed its consistency checks: EXITCODE is VMEXIT_INVALID. */
export const SVM_RUN_INVALID = 1;

export class SvmSilicon implements GuestModeController, TdpHook {
  readonly vmcb = new Vmcb();
  readonly cpu: X86Cpu;
  readonly iopm = new Uint8Array(3 * 4096);
  readonly msrpm = new Uint8Array(2 * 4096);
  readonly tlb: SvmAsidTlb;
  readonly runConfig: SvmRunConfig;
  mmu: TdpMmu | null = null;
  emulating = false;
  runResult = SVM_RUN_OK;
  failure = '';
  lastEngineExit = 0;
  retired = 0;
  /** NMI blocking lives outside the VMCB on SVM (KVM's HF_NMI_MASK). */
  nmiMasked = false;
  /** KVM asked for an NMI window (IRET intercept on hardware). */
  nmiWindow = false;
  private readonly walk = new NptWalkResult();
  private readonly nptCfg = { physAddrWidth: 48, nxEnabled: true, gbPages: true };
  private ncr3 = 0;

  constructor(readonly vcpu: KvmVcpuX86, npt: boolean) {
    this.cpu = new X86Cpu(vcpu.kvm.vm.memslots, vcpu.regs);
    this.cpu.controller = this;
    this.runConfig = defaultSvmRunConfig(npt);
    this.tlb = new SvmAsidTlb(this.runConfig.maxAsids);
  }

  private latch(): void {
    const v = this.vmcb;
    const cpu = this.cpu;
    const np = (v.u32(CTL.NESTED_CTL) & SVM_NESTED_CTL_NP_ENABLE) !== 0;
    this.ncr3 = v.num(CTL.N_CR3);
    cpu.tdp = np ? this : null;
    cpu.requestInterruptWindow = v.isIntercept(INTERCEPT.VINTR) && (v.u32(CTL.INT_CTL) & V_IRQ_MASK) !== 0;
    cpu.requestNmiWindow = this.nmiWindow;
  }

  /** The state-save area into the engine. */
  loadGuestState(): void {
    const v = this.vmcb;
    const cpu = this.cpu;
    const prev = cpu.cr0 ^ cpu.cr3 ^ cpu.cr4 ^ cpu.efer;
    cpu.cr0 = v.u32(SAVE.CR0) | 0;
    cpu.cr3 = v.num(SAVE.CR3);
    cpu.cr4 = v.u32(SAVE.CR4) | 0;
    cpu.efer = v.u32(SAVE.EFER) | 0;
    cpu.cr2 = v.numSigned(SAVE.CR2);
    const lma = (cpu.efer & EFER_LMA) !== 0;
    for (let s = 0; s < 8; s++) {
      const off = SVM_SEG_OFFSETS[s]!;
      cpu.segSel[s] = v.u16(off);
      cpu.segAr[s] = svmAttribToAr(v.u16(off + 2));
      cpu.segLimit[s] = v.u32(off + 4);
      cpu.segBase[s] = s >= 4 || lma ? v.numSigned(off + 8) : v.u32(off + 8);
    }
    cpu.gdtrBase = v.numSigned(SAVE.GDTR + 8);
    cpu.gdtrLimit = v.u32(SAVE.GDTR + 4) & 0xffff;
    cpu.idtrBase = v.numSigned(SAVE.IDTR + 8);
    cpu.idtrLimit = v.u32(SAVE.IDTR + 4) & 0xffff;
    cpu.dr[6] = v.u32(SAVE.DR6);
    cpu.dr[7] = v.u32(SAVE.DR7);
    cpu.flags = v.u32(SAVE.RFLAGS) | 0;
    cpu.starLo = v.u32(SAVE.STAR) | 0;
    cpu.starHi = v.hi32(SAVE.STAR) | 0;
    cpu.lstar = v.numSigned(SAVE.LSTAR);
    cpu.cstar = v.numSigned(SAVE.CSTAR);
    cpu.sfmask = v.u32(SAVE.SFMASK) | 0;
    cpu.kernelGsBase = v.numSigned(SAVE.KERNEL_GS_BASE);
    cpu.sysenterCs = v.u32(SAVE.SYSENTER_CS);
    cpu.sysenterEsp = v.numSigned(SAVE.SYSENTER_ESP);
    cpu.sysenterEip = v.numSigned(SAVE.SYSENTER_EIP);
    cpu.patLo = v.u32(SAVE.G_PAT) | 0;
    cpu.patHi = v.hi32(SAVE.G_PAT) | 0;
    cpu.tscOffset = v.numSigned(CTL.TSC_OFFSET);
    const shadow = (v.u32(CTL.INT_STATE) & SVM_INTERRUPT_SHADOW_MASK) !== 0;
    cpu.stiBlocking = shadow;
    cpu.movSsBlocking = false;
    cpu.nmiBlocking = this.nmiMasked;
    cpu.halted = false;
    cpu.shutdown = false;
    cpu.updateMode();
    cpu.setRip(v.u32(SAVE.RIP), v.hi32(SAVE.RIP));
    cpu.regs[8] = v.u32(SAVE.RSP) | 0;
    cpu.regs[9] = v.hi32(SAVE.RSP) | 0;
    cpu.regs[0] = v.u32(SAVE.RAX) | 0;
    cpu.regs[1] = v.hi32(SAVE.RAX) | 0;
    if ((cpu.cr0 ^ cpu.cr3 ^ cpu.cr4 ^ cpu.efer) !== prev) cpu.flushTlb();
  }

  saveGuestState(): void {
    const v = this.vmcb;
    const cpu = this.cpu;
    v.setU32(SAVE.CR0, cpu.cr0);
    v.setNum(SAVE.CR3, cpu.cr3);
    v.setU32(SAVE.CR4, cpu.cr4);
    v.setU64(SAVE.EFER, cpu.efer | EFER_SVME, 0);
    v.setNum(SAVE.CR2, cpu.cr2);
    for (let s = 0; s < 8; s++) {
      const off = SVM_SEG_OFFSETS[s]!;
      v.setU16(off, cpu.segSel[s]!);
      v.setU16(off + 2, arToSvmAttrib(cpu.segAr[s]!));
      v.setU32(off + 4, cpu.segLimit[s]!);
      v.setNum(off + 8, cpu.segBase[s]!);
    }
    v.setNum(SAVE.GDTR + 8, cpu.gdtrBase);
    v.setU32(SAVE.GDTR + 4, cpu.gdtrLimit);
    v.setNum(SAVE.IDTR + 8, cpu.idtrBase);
    v.setU32(SAVE.IDTR + 4, cpu.idtrLimit);
    v.setNum(SAVE.DR6, cpu.dr[6]!);
    v.setNum(SAVE.DR7, cpu.dr[7]!);
    v.setU64(SAVE.RFLAGS, cpu.getFlags(), 0);
    v.setU64(SAVE.STAR, cpu.starLo, cpu.starHi);
    v.setNum(SAVE.LSTAR, cpu.lstar);
    v.setNum(SAVE.CSTAR, cpu.cstar);
    v.setU64(SAVE.SFMASK, cpu.sfmask, 0);
    v.setNum(SAVE.KERNEL_GS_BASE, cpu.kernelGsBase);
    v.setU64(SAVE.SYSENTER_CS, cpu.sysenterCs, 0);
    v.setNum(SAVE.SYSENTER_ESP, cpu.sysenterEsp);
    v.setNum(SAVE.SYSENTER_EIP, cpu.sysenterEip);
    v.setU64(SAVE.G_PAT, cpu.patLo, cpu.patHi);
    v.setU8(SAVE.CPL, cpu.cpl);
    const st = v.u32(CTL.INT_STATE) & ~SVM_INTERRUPT_SHADOW_MASK;
    v.setU32(CTL.INT_STATE, st | (cpu.stiBlocking || cpu.movSsBlocking ? SVM_INTERRUPT_SHADOW_MASK : 0));
    this.nmiMasked = cpu.nmiBlocking;
    v.setU64(SAVE.RIP, cpu.getRipLo(), cpu.getRipHi());
    v.setU64(SAVE.RSP, cpu.regs[8]!, cpu.regs[9]!);
    v.setU64(SAVE.RAX, cpu.regs[0]!, cpu.regs[1]!);
  }

  /** VMRUN to #VMEXIT. Returns SVM_RUN_*. */
  run(budget: number): number {
    const v = this.vmcb;
    const r = svmVmrun(v, this.runConfig, this.tlb);
    v.setU8(CTL.TLB_CONTROL, TLB_CONTROL_DO_NOTHING);
    if (!r.ok) {
      this.failure = r.reason;
      this.runResult = SVM_RUN_INVALID;
      return SVM_RUN_INVALID;
    }
    this.failure = '';
    this.runResult = SVM_RUN_OK;
    this.latch();
    this.loadGuestState();
    const cpu = this.cpu;
    const ev = v.u32(CTL.EVENTINJ);
    if (ev & 0x80000000) {
      const type = (ev >>> 8) & 7;
      // EVENTINJ type 4 (soft INT n) is delivered with next RIP as the return address.
      cpu.injectEvent(ev & 0xff, type === 4 ? 4 : type, ev & 0x800 ? v.u32(CTL.EVENTINJ_ERR) : -1, 0);
      v.setU32(CTL.EVENTINJ, 0);
    }
    const before = cpu.instret;
    const e = cpu.run(budget);
    this.retired = cpu.instret - before;
    this.lastEngineExit = e;
    this.saveGuestState();
    this.recordExit(e);
    return SVM_RUN_OK;
  }

  emulateOne(): number {
    const cpu = this.cpu;
    this.latch();
    this.loadGuestState();
    cpu.requestInterruptWindow = false;
    cpu.requestNmiWindow = false;
    this.emulating = true;
    let r: number;
    try {
      r = cpu.run(1);
    } finally {
      this.emulating = false;
    }
    this.retired = r === E.ENGINE_EXIT_BUDGET ? 1 : 0;
    this.saveGuestState();
    return r;
  }

  private recordExit(r: number): void {
    const v = this.vmcb;
    const e = this.cpu.exit;
    const nrip = () => {
      const rip = this.cpu.rip + e.instrLen;
      v.setNum(CTL.NRIP, this.cpu.longMode ? rip : rip >>> 0);
    };
    v.setNum(CTL.NRIP, 0);
    let intinfo = 0;
    let interr = 0;
    if (e.vectoringVector >= 0 && r !== E.ENGINE_EXIT_BUDGET) {
      intinfo = (0x80000000 | (e.vectoringVector & 0xff) | ((e.vectoringType & 7) << 8) | (e.vectoringHasErrorCode ? 0x800 : 0)) >>> 0;
      interr = e.vectoringHasErrorCode ? e.vectoringErrorCode : 0;
    }
    const rec = (code: number, i1lo = 0, i1hi = 0, i2 = 0) => recordVmexit(v, code, i1lo, i1hi, i2, intinfo, interr);
    switch (r) {
      case E.ENGINE_EXIT_BUDGET: case E.ENGINE_EXIT_EXTINT: rec(SVM_EXIT.INTR); break;
      case E.ENGINE_EXIT_IO: {
        nrip();
        const as = e.addrSize === 16 ? 1 << 7 : e.addrSize === 64 ? 1 << 9 : 1 << 8;
        const i1 = (e.isIn ? 1 : 0) | (e.isString ? 4 : 0) | (e.isRep ? 8 : 0) |
          (e.size === 1 ? 0x10 : e.size === 2 ? 0x20 : 0x40) | (e.isString ? as | ((e.segment & 7) << 10) : 0) | ((e.port & 0xffff) << 16);
        rec(SVM_EXIT.IOIO, i1 >>> 0, 0, v.numSigned(CTL.NRIP));
        break;
      }
      case E.ENGINE_EXIT_CPUID: nrip(); rec(SVM_EXIT.CPUID); break;
      case E.ENGINE_EXIT_HLT: nrip(); rec(SVM_EXIT.HLT); break;
      case E.ENGINE_EXIT_INVD: nrip(); rec(SVM_EXIT.INVD); break;
      case E.ENGINE_EXIT_WBINVD: nrip(); rec(SVM_EXIT.WBINVD); break;
      case E.ENGINE_EXIT_XSETBV: nrip(); rec(SVM_EXIT.XSETBV); break;
      case E.ENGINE_EXIT_RDPMC: nrip(); rec(SVM_EXIT.RDPMC); break;
      case E.ENGINE_EXIT_MONITOR: nrip(); rec(SVM_EXIT.MONITOR); break;
      case E.ENGINE_EXIT_MWAIT: nrip(); rec(SVM_EXIT.MWAIT); break;
      case E.ENGINE_EXIT_PAUSE: nrip(); rec(SVM_EXIT.PAUSE); break;
      case E.ENGINE_EXIT_RDTSC: nrip(); rec(SVM_EXIT.RDTSC); break;
      case E.ENGINE_EXIT_RDTSCP: nrip(); rec(SVM_EXIT.RDTSCP); break;
      case E.ENGINE_EXIT_VMMCALL: nrip(); rec(SVM_EXIT.VMMCALL); break;
      case E.ENGINE_EXIT_RDMSR: nrip(); rec(SVM_EXIT.MSR, 0); break;
      case E.ENGINE_EXIT_WRMSR: nrip(); rec(SVM_EXIT.MSR, 1); break;
      case E.ENGINE_EXIT_INVLPG: nrip(); rec(SVM_EXIT.INVLPG, e.linearAddress >>> 0, Math.floor(e.linearAddress / 4294967296) >>> 0); break;
      case E.ENGINE_EXIT_CR_ACCESS: {
        nrip();
        const base = e.crAccessType === E.CR_ACCESS_MOV_FROM_CR ? SVM_EXIT.READ_CR0 : SVM_EXIT.WRITE_CR0;
        // Decode assists: EXITINFO1 bit 63 valid + the GPR number (MOV CR only).
        const movCr = e.crAccessType === E.CR_ACCESS_MOV_TO_CR || e.crAccessType === E.CR_ACCESS_MOV_FROM_CR;
        rec(base + e.crNumber, movCr ? e.gpr : 0, movCr ? 0x80000000 : 0);
        break;
      }
      case E.ENGINE_EXIT_EXCEPTION:
        rec(SVM_EXIT.EXCP_BASE + (e.vector & 31), e.hasErrorCode ? e.errorCode : 0, 0, e.vector === 14 ? e.linearAddress : 0);
        break;
      case E.ENGINE_EXIT_NMI: rec(SVM_EXIT.NMI); break;
      case E.ENGINE_EXIT_INTR_WINDOW: rec(SVM_EXIT.VINTR); break;
      // NMI window: KVM intercepts IRET on SVM; the exit comes once NMIs are unblocked.
      case E.ENGINE_EXIT_NMI_WINDOW: rec(SVM_EXIT.IRET); break;
      case E.ENGINE_EXIT_TRIPLE_FAULT: rec(SVM_EXIT.SHUTDOWN); break;
      case E.ENGINE_EXIT_TDP_FAULT: rec(SVM_EXIT.NPF, this.walk.exitInfo1Lo, this.walk.exitInfo1Hi, e.gpa); break;
      // Only without NPT: an unbacked gpa reached directly (no shadow MMU in this model): a reserved-bit #NPF look-alike.
      case E.ENGINE_EXIT_MMIO: rec(SVM_EXIT.NPF, 0x9 | 0x4, 1, e.gpa); break;
      case E.ENGINE_EXIT_VIRT_INSTR: nrip(); rec(SVM_EXIT.VMRUN); break;
      default: rec(SVM_EXIT.ERR); break;
    }
  }

  intercept(_cpu: X86Cpu, e: x86Engine.EngineExit): boolean {
    if (this.emulating) return false;
    const v = this.vmcb;
    switch (e.reason) {
      case E.ENGINE_EXIT_IO: return ioioExits(v.isIntercept(INTERCEPT.IOIO_PROT), this.iopm, e.port, e.size);
      case E.ENGINE_EXIT_RDMSR: return msrExits(v.isIntercept(INTERCEPT.MSR_PROT), this.msrpm, e.msrIndex, false);
      case E.ENGINE_EXIT_WRMSR: return msrExits(v.isIntercept(INTERCEPT.MSR_PROT), this.msrpm, e.msrIndex, true);
      case E.ENGINE_EXIT_CPUID: return v.isIntercept(INTERCEPT.CPUID);
      case E.ENGINE_EXIT_HLT: return v.isIntercept(INTERCEPT.HLT);
      case E.ENGINE_EXIT_INVLPG: return v.isIntercept(INTERCEPT.INVLPG);
      case E.ENGINE_EXIT_RDTSC: return v.isIntercept(INTERCEPT.RDTSC);
      case E.ENGINE_EXIT_RDTSCP: return v.isIntercept(INTERCEPT.RDTSCP);
      case E.ENGINE_EXIT_RDPMC: return v.isIntercept(INTERCEPT.RDPMC);
      case E.ENGINE_EXIT_MONITOR: return v.isIntercept(INTERCEPT.MONITOR);
      case E.ENGINE_EXIT_MWAIT: return v.isIntercept(INTERCEPT.MWAIT);
      case E.ENGINE_EXIT_PAUSE: return v.isIntercept(INTERCEPT.PAUSE);
      case E.ENGINE_EXIT_WBINVD: return v.isIntercept(INTERCEPT.WBINVD);
      case E.ENGINE_EXIT_INVD: return v.isIntercept(INTERCEPT.INVD);
      case E.ENGINE_EXIT_XSETBV: return v.isIntercept(INTERCEPT.XSETBV);
      // VMMCALL exits when intercepted (else #UD); VMCALL is not an SVM instruction (#UD).
      case E.ENGINE_EXIT_VMMCALL: return v.isIntercept(INTERCEPT.VMMCALL);
      case E.ENGINE_EXIT_VMCALL: return false;
      case E.ENGINE_EXIT_CR_ACCESS: {
        const n = e.crNumber;
        if (e.crAccessType === E.CR_ACCESS_MOV_FROM_CR) return v.isIntercept(INTERCEPT.CR0_READ + n);
        if (e.crAccessType === E.CR_ACCESS_MOV_TO_CR) {
          if (v.isIntercept(INTERCEPT.CR0_WRITE + n)) return true;
          // Selective CR0 write: any change other than TS/MP exits (APM 15.9.2).
          return n === 0 && v.isIntercept(INTERCEPT.SELECTIVE_CR0) && ((e.valueLo ^ _cpu.cr0) & ~0xa) !== 0;
        }
        return v.isIntercept(INTERCEPT.CR0_WRITE); // CLTS / LMSW write CR0
      }
      case E.ENGINE_EXIT_EXCEPTION: return v.isIntercept(INTERCEPT.EXCEPTION_OFFSET + (e.vector & 31));
      case E.ENGINE_EXIT_EXTINT: return v.isIntercept(INTERCEPT.INTR);
      case E.ENGINE_EXIT_NMI: return v.isIntercept(INTERCEPT.NMI);
      case E.ENGINE_EXIT_VIRT_INSTR: return v.isIntercept(INTERCEPT.VMRUN);
      default: return false;
    }
  }

  translate(cpu: X86Cpu, gpa: number, access: number, _la: number, isPageWalk: boolean): number {
    const mmu = this.mmu;
    if (mmu === null) return gpa;
    const w = this.walk;
    if (nptWalk(mmu.pool, this.nptCfg, this.ncr3, gpa, access, isPageWalk, w) === NPT_WALK_OK) return w.hpa;
    if (this.emulating) {
      const slot = cpu.memslots.find(gpa);
      if (slot === undefined || (access === 1 && (slot.flags & 2) !== 0)) return gpa;
      // KVM's emulator reaches RAM through the memslots, not the NPT: a page the NPT does
      // not map yet (e.g. the RAM side of a MOVS from MMIO) is mapped now and walked again.
      if (mmu.pageFault(gpa, access === 1) === RET_PF_FIXED &&
        nptWalk(mmu.pool, this.nptCfg, this.ncr3, gpa, access, isPageWalk, w) === NPT_WALK_OK) return w.hpa;
    }
    return -1;
  }
}
