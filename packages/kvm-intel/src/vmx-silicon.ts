/**
 * The VMX silicon in action: what VMLAUNCH/VMRESUME and a VM exit do to a logical
 * processor (SDM vol. 3C ch. 26-28), on top of kvm-core's x86 engine.
 *
 *   entry:  VM-entry checks on the VMCS (controls, host state, guest state) -> load the
 *           guest-state area into the engine -> deliver the VM-entry interruption info;
 *   guest:  the engine runs; at each interceptable event this class (the engine's
 *           GuestModeController) answers from the VM-execution controls latched at
 *           entry (I/O and MSR bitmaps, CR masks and read shadows, exception bitmap,
 *           HLT/INVLPG/RDTSC exiting, interrupt/NMI windows, external interrupts), and
 *           translates guest-physical addresses through the EPT (the engine's TdpHook);
 *   exit:   save the guest state back into the VMCS and record the exit (reason,
 *           qualification, instruction length, guest-linear/physical address,
 *           interruption and IDT-vectoring information) with the vendor encoders.
 *
 * The instruction budget plays the VMX-preemption timer: when it runs out the exit is
 * EXIT_REASON_PREEMPTION_TIMER (the run loop's time slice / next timer deadline).
 */
import { type GuestModeController, type KvmVcpuX86, RET_PF_FIXED, type TdpHook, type TdpMmu, X86Cpu, x86Engine } from '@kvmts/kvm-core';
import * as C from './vmx/controls';
import { type VmxCapabilities } from './vmx/capabilities';
import { crReadValue, crWriteResult, exceptionExits, ioInstructionExits, lmswExits, cltsExits, movToCrExits, msrAccessExits } from './vmx/bitmaps';
import { vmEntryChecks, type VmEntryCheckResult } from './vmx/entry-checks';
import { EPT_ACCESS_FETCH, EPT_ACCESS_READ, EPT_ACCESS_WRITE, EPT_WALK_OK, EPT_WALK_MISCONFIG, eptWalk, EptWalkResult } from './vmx/ept';
import { EXIT_REASON } from './vmx/exit-reasons';
import { encodeInterruptionInfo, INTR_INFO_VALID_MASK } from './vmx/exit-info';
import { VMX_INSN, VMX_INSN_EXIT, VMX_INSN_UD, vmxInstructionOutcome, vmxInstructionExitReason } from './vmx/instruction-exits';
import { VMCS_FIELDS as F } from './vmx/vmcs-fields';
import { Vmcs } from './vmx/vmcs';
import {
  vmxRecordEntryFailure, vmxRecordEptMisconfig, vmxRecordEptViolation, vmxRecordExceptionExit, vmxRecordExit,
  vmxRecordIdtVectoring, vmxRecordIoExit, encodeInsOutsInstructionInfo, vmxRecordGuestLinearAddress,
} from './vmx/vm-exit';

const E = x86Engine;
const TWO32 = 4294967296;

/** Guest segment fields by VCPU_SREG_* (ES CS SS DS FS GS TR LDTR). */
export const VMX_SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR', 'LDTR'] as const;
const SEG_SEL = VMX_SEG_NAMES.map((n) => F[`GUEST_${n}_SELECTOR`]);
const SEG_BASE = VMX_SEG_NAMES.map((n) => F[`GUEST_${n}_BASE`]);
const SEG_LIMIT = VMX_SEG_NAMES.map((n) => F[`GUEST_${n}_LIMIT`]);
const SEG_AR = VMX_SEG_NAMES.map((n) => F[`GUEST_${n}_AR_BYTES`]);

/** How a VM entry ended before the guest ran. */
export const VMX_ENTRY_OK = 0;
/** VMfailValid (controls/host state): VM_INSTRUCTION_ERROR holds the number. */
export const VMX_ENTRY_VMFAIL = 1;
/** VM-entry failure: the exit reason has bit 31 set. */
export const VMX_ENTRY_FAILED = 2;

const CR0_TS = 1 << 3;
const CR0_PG = 1 << 31;
const EFER_LMA = 1 << 10;

export class VmxSilicon implements GuestModeController, TdpHook {
  readonly vmcs: Vmcs;
  readonly cpu: X86Cpu;
  /** The pages that the VMCS's IO_BITMAP_A/B and MSR_BITMAP fields point to. */
  readonly ioBitmapA = new Uint8Array(4096);
  readonly ioBitmapB = new Uint8Array(4096);
  readonly msrBitmap = new Uint8Array(4096);
  /** The EPT tables (the memory EPT_POINTER points into); null with ept=0. */
  mmu: TdpMmu | null = null;
  /** kvm_emulate_instruction in progress: no intercepts, unbacked gpas go to MMIO. */
  emulating = false;
  /** The last entry's outcome (VMX_ENTRY_*) and, for failures, why (the rule the check names). */
  entryResult = VMX_ENTRY_OK;
  entryFailure = '';
  /** The engine's exit code of the last run (ENGINE_EXIT_*), for the driver's special cases. */
  lastEngineExit = 0;
  /** The last EPT walk failed as a misconfiguration (vs a violation). */
  private tdpMisconfig = false;
  private readonly walk = new EptWalkResult();
  private readonly eptCfg: { eptCap: number; physAddrWidth: number };
  // Controls latched at VM entry (the hardware reads the VMCS once per entry).
  private pin = 0;
  private proc = 0;
  private proc2 = 0;
  private exceptionBitmap = 0;
  private pfecMask = 0;
  private pfecMatch = 0;
  private cr0Mask = 0;
  private cr0Shadow = 0;
  private cr4Mask = 0;
  private cr4Shadow = 0;
  private eptpLo = 0;
  private eptpHi = 0;
  /** The engine stopped for something the silicon finishes itself (CR read shadows, masked CR writes). */
  private absorbed = false;

  constructor(readonly vcpu: KvmVcpuX86, readonly caps: VmxCapabilities) {
    this.vmcs = new Vmcs({ revisionId: caps.revisionId });
    this.cpu = new X86Cpu(vcpu.kvm.vm.memslots, vcpu.regs);
    this.cpu.controller = this;
    this.eptCfg = { eptCap: caps.eptCap, physAddrWidth: caps.physAddrWidth };
  }

  // ===================================================================================
  // VM entry
  // ===================================================================================

  /** VMLAUNCH/VMRESUME: the checks, then load the guest. Returns VMX_ENTRY_*. */
  private vmEntry(): number {
    const v = this.vmcs;
    const r: VmEntryCheckResult = vmEntryChecks(v, this.caps);
    if (r.kind === 'vmfail') {
      v.write32(F.VM_INSTRUCTION_ERROR, r.error);
      this.entryFailure = r.reason;
      return VMX_ENTRY_VMFAIL;
    }
    if (r.kind === 'entry-failure') {
      vmxRecordEntryFailure(v, r);
      this.entryFailure = r.reason;
      return VMX_ENTRY_FAILED;
    }
    v.launchState = 'launched';
    this.latchControls();
    this.loadGuestState();
    return VMX_ENTRY_OK;
  }

  private latchControls(): void {
    const v = this.vmcs;
    this.pin = v.read32(F.PIN_BASED_VM_EXEC_CONTROL);
    this.proc = v.read32(F.CPU_BASED_VM_EXEC_CONTROL);
    this.proc2 = this.proc & C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v.read32(F.SECONDARY_VM_EXEC_CONTROL) : 0;
    this.exceptionBitmap = v.read32(F.EXCEPTION_BITMAP);
    this.pfecMask = v.read32(F.PAGE_FAULT_ERROR_CODE_MASK);
    this.pfecMatch = v.read32(F.PAGE_FAULT_ERROR_CODE_MATCH);
    this.cr0Mask = v.read32(F.CR0_GUEST_HOST_MASK);
    this.cr0Shadow = v.read32(F.CR0_READ_SHADOW);
    this.cr4Mask = v.read32(F.CR4_GUEST_HOST_MASK);
    this.cr4Shadow = v.read32(F.CR4_READ_SHADOW);
    this.eptpLo = v.read32(F.EPT_POINTER);
    this.eptpHi = v.readHigh32(F.EPT_POINTER);
    const cpu = this.cpu;
    cpu.tdp = this.proc2 & C.SECONDARY_EXEC_ENABLE_EPT ? this : null;
    cpu.requestInterruptWindow = (this.proc & C.CPU_BASED_INTR_WINDOW_EXITING) !== 0;
    cpu.requestNmiWindow = (this.proc & C.CPU_BASED_NMI_WINDOW_EXITING) !== 0;
  }

  /** The guest-state area into the engine (SDM 27.3). */
  loadGuestState(): void {
    const v = this.vmcs;
    const cpu = this.cpu;
    const prevCr0 = cpu.cr0;
    const prevCr3 = cpu.cr3;
    const prevCr4 = cpu.cr4;
    const prevEfer = cpu.efer;
    cpu.cr0 = v.read32(F.GUEST_CR0) | 0;
    cpu.cr3 = v.readNumber(F.GUEST_CR3);
    cpu.cr4 = v.read32(F.GUEST_CR4) | 0;
    cpu.efer = v.read32(F.GUEST_IA32_EFER) | 0;
    const lma = (cpu.efer & EFER_LMA) !== 0;
    for (let s = 0; s < 8; s++) {
      cpu.segSel[s] = v.read32(SEG_SEL[s]!);
      cpu.segBase[s] = s >= 4 || lma ? v.readSignedNumber(SEG_BASE[s]!) : v.read32(SEG_BASE[s]!);
      cpu.segLimit[s] = v.read32(SEG_LIMIT[s]!);
      cpu.segAr[s] = v.read32(SEG_AR[s]!) | 0;
    }
    cpu.gdtrBase = v.readSignedNumber(F.GUEST_GDTR_BASE);
    cpu.gdtrLimit = v.read32(F.GUEST_GDTR_LIMIT);
    cpu.idtrBase = v.readSignedNumber(F.GUEST_IDTR_BASE);
    cpu.idtrLimit = v.read32(F.GUEST_IDTR_LIMIT);
    cpu.dr[7] = v.read32(F.GUEST_DR7);
    cpu.flags = v.read32(F.GUEST_RFLAGS) | 0;
    cpu.patLo = v.read32(F.GUEST_IA32_PAT) | 0;
    cpu.patHi = v.readHigh32(F.GUEST_IA32_PAT) | 0;
    cpu.sysenterCs = v.read32(F.GUEST_SYSENTER_CS);
    cpu.sysenterEsp = v.readSignedNumber(F.GUEST_SYSENTER_ESP);
    cpu.sysenterEip = v.readSignedNumber(F.GUEST_SYSENTER_EIP);
    cpu.tscOffset = this.proc & C.CPU_BASED_USE_TSC_OFFSETTING ? v.readSignedNumber(F.TSC_OFFSET) : 0;
    const intr = v.read32(F.GUEST_INTERRUPTIBILITY_INFO);
    cpu.stiBlocking = (intr & C.GUEST_INTR_STATE_STI) !== 0;
    cpu.movSsBlocking = (intr & C.GUEST_INTR_STATE_MOV_SS) !== 0;
    cpu.nmiBlocking = (intr & C.GUEST_INTR_STATE_NMI) !== 0;
    const activity = v.read32(F.GUEST_ACTIVITY_STATE);
    cpu.halted = activity === C.GUEST_ACTIVITY_HLT;
    cpu.shutdown = activity === C.GUEST_ACTIVITY_SHUTDOWN;
    cpu.updateMode();
    cpu.setRip(v.read32(F.GUEST_RIP), v.readHigh32(F.GUEST_RIP));
    const regs = cpu.regs;
    regs[8] = v.read32(F.GUEST_RSP) | 0;
    regs[9] = v.readHigh32(F.GUEST_RSP) | 0;
    // The TLB is tagged by VPID on hardware; here a change of paging state flushes it.
    if (cpu.cr0 !== prevCr0 || cpu.cr3 !== prevCr3 || cpu.cr4 !== prevCr4 || cpu.efer !== prevEfer) cpu.flushTlb();
  }

  /** The engine's state into the guest-state area (SDM 28.3). */
  saveGuestState(): void {
    const v = this.vmcs;
    const cpu = this.cpu;
    v.write32(F.GUEST_CR0, cpu.cr0);
    v.writeNumber(F.GUEST_CR3, cpu.cr3);
    v.write32(F.GUEST_CR4, cpu.cr4);
    v.write32(F.GUEST_IA32_EFER, cpu.efer);
    // In virtual-8086 mode every data/code segment is base = selector << 4, limit 0xffff,
    // a DPL-3 read/write accessed data segment (AR 0xf3): the form SDM 26.3.1.2 checks.
    const v86 = (cpu.getFlags() & 0x20000) !== 0;
    for (let s = 0; s < 8; s++) {
      v.write32(SEG_SEL[s]!, cpu.segSel[s]!);
      if (v86 && s <= 5) {
        v.writeNumber(SEG_BASE[s]!, (cpu.segSel[s]! & 0xffff) * 16);
        v.write32(SEG_LIMIT[s]!, 0xffff);
        v.write32(SEG_AR[s]!, 0xf3);
        continue;
      }
      v.writeNumber(SEG_BASE[s]!, cpu.segBase[s]!);
      v.write32(SEG_LIMIT[s]!, cpu.segLimit[s]!);
      v.write32(SEG_AR[s]!, cpu.segAr[s]!);
    }
    v.writeNumber(F.GUEST_GDTR_BASE, cpu.gdtrBase);
    v.write32(F.GUEST_GDTR_LIMIT, cpu.gdtrLimit);
    v.writeNumber(F.GUEST_IDTR_BASE, cpu.idtrBase);
    v.write32(F.GUEST_IDTR_LIMIT, cpu.idtrLimit);
    v.writeNumber(F.GUEST_DR7, cpu.dr[7]!);
    v.write32(F.GUEST_RFLAGS, cpu.getFlags());
    v.write64(F.GUEST_IA32_PAT, cpu.patLo, cpu.patHi);
    v.write32(F.GUEST_SYSENTER_CS, cpu.sysenterCs);
    v.writeNumber(F.GUEST_SYSENTER_ESP, cpu.sysenterEsp);
    v.writeNumber(F.GUEST_SYSENTER_EIP, cpu.sysenterEip);
    v.write32(F.GUEST_INTERRUPTIBILITY_INFO,
      (cpu.stiBlocking ? C.GUEST_INTR_STATE_STI : 0) | (cpu.movSsBlocking ? C.GUEST_INTR_STATE_MOV_SS : 0) |
      (cpu.nmiBlocking ? C.GUEST_INTR_STATE_NMI : 0));
    v.write32(F.GUEST_ACTIVITY_STATE, cpu.shutdown ? C.GUEST_ACTIVITY_SHUTDOWN : cpu.halted ? C.GUEST_ACTIVITY_HLT : C.GUEST_ACTIVITY_ACTIVE);
    v.write64(F.GUEST_RIP, cpu.getRipLo(), cpu.getRipHi());
    v.write64(F.GUEST_RSP, cpu.regs[8]!, cpu.regs[9]!);
    // "IA-32e mode guest" follows EFER.LMA on exit (VM_EXIT_SAVE_IA32_EFER + SDM 28.2).
    const entry = v.read32(F.VM_ENTRY_CONTROLS);
    v.write32(F.VM_ENTRY_CONTROLS, cpu.efer & EFER_LMA ? entry | C.VM_ENTRY_IA32E_MODE : entry & ~C.VM_ENTRY_IA32E_MODE);
  }

  // ===================================================================================
  // Running: entry, guest, exit
  // ===================================================================================

  /**
   * One VM entry up to the next VM exit; returns VMX_ENTRY_*. On VMX_ENTRY_OK the exit
   * is recorded in the VMCS. `budget` is the preemption timer in instructions.
   */
  run(budget: number): number {
    this.entryFailure = '';
    const res = this.vmEntry();
    this.entryResult = res;
    if (res !== VMX_ENTRY_OK) return res;
    const cpu = this.cpu;
    const v = this.vmcs;
    // VM-entry event injection (SDM 26.6): the valid bit is consumed by the entry.
    const info = v.read32(F.VM_ENTRY_INTR_INFO_FIELD);
    if (info & INTR_INFO_VALID_MASK) {
      const type = (info >>> 8) & 7;
      cpu.injectEvent(info & 0xff, type, info & 0x800 ? v.read32(F.VM_ENTRY_EXCEPTION_ERROR_CODE) : -1,
        type >= 4 ? v.read32(F.VM_ENTRY_INSTRUCTION_LEN) : 0);
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_VALID_MASK);
      cpu.halted = false;
    }
    const timerOn = (this.pin & C.PIN_BASED_VMX_PREEMPTION_TIMER) !== 0;
    if (timerOn) v.write32(F.VMX_PREEMPTION_TIMER_VALUE, budget);
    let left = budget;
    let r: number;
    for (;;) {
      const before = cpu.instret;
      this.absorbed = false;
      r = cpu.run(left);
      left -= cpu.instret - before;
      if (!this.absorbed) break;
      this.finishAbsorbed();
      if (left <= 0) { r = E.ENGINE_EXIT_BUDGET; break; }
    }
    this.retired = budget - left;
    this.lastEngineExit = r;
    this.saveGuestState();
    this.recordExit(r);
    if (timerOn) v.write32(F.VMX_PREEMPTION_TIMER_VALUE, left > 0 ? left : 0);
    return VMX_ENTRY_OK;
  }

  /** Instructions retired by the last run (the run loop advances the virtual clock by it). */
  retired = 0;

  /**
   * kvm_emulate_instruction's engine step: run one instruction with no intercepts (and
   * without consuming VM-entry event injection), on the state in the VMCS.
   */
  emulateOne(): number {
    const cpu = this.cpu;
    this.latchControls();
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
    this.retired = cpu.exit.reason === E.ENGINE_EXIT_BUDGET ? 1 : 0;
    this.saveGuestState();
    return r;
  }

  /** Record the VM exit for the engine's exit code `r` (SDM 28.2). */
  private recordExit(r: number): void {
    const v = this.vmcs;
    const e = this.cpu.exit;
    switch (r) {
      case E.ENGINE_EXIT_BUDGET:
        // HLT not intercepted leaves the CPU halted; either way the timer ended the slice.
        vmxRecordExit(v, EXIT_REASON.PREEMPTION_TIMER, 0);
        break;
      case E.ENGINE_EXIT_IO: {
        const qual = ((e.size - 1) & 7) | (e.isIn ? 8 : 0) | (e.isString ? 16 : 0) | (e.isRep ? 32 : 0) |
          (!e.isString && e.instrLen >= 2 && e.size === 1 ? 0 : 0) | ((e.port & 0xffff) << 16);
        vmxRecordIoExit(v, qual >>> 0, e.instrLen, e.isString ? encodeInsOutsInstructionInfo(e.addrSize as 16 | 32 | 64, e.segment) : 0, 0);
        break;
      }
      case E.ENGINE_EXIT_CPUID: vmxRecordExit(v, EXIT_REASON.CPUID, 0, e.instrLen); break;
      case E.ENGINE_EXIT_HLT: vmxRecordExit(v, EXIT_REASON.HLT, 0, e.instrLen); break;
      case E.ENGINE_EXIT_INVD: vmxRecordExit(v, EXIT_REASON.INVD, 0, e.instrLen); break;
      case E.ENGINE_EXIT_WBINVD: vmxRecordExit(v, EXIT_REASON.WBINVD, 0, e.instrLen); break;
      case E.ENGINE_EXIT_XSETBV: vmxRecordExit(v, EXIT_REASON.XSETBV, 0, e.instrLen); break;
      case E.ENGINE_EXIT_RDPMC: vmxRecordExit(v, EXIT_REASON.RDPMC, 0, e.instrLen); break;
      case E.ENGINE_EXIT_MONITOR: vmxRecordExit(v, EXIT_REASON.MONITOR_INSTRUCTION, 0, e.instrLen); break;
      case E.ENGINE_EXIT_MWAIT: vmxRecordExit(v, EXIT_REASON.MWAIT_INSTRUCTION, 0, e.instrLen); break;
      case E.ENGINE_EXIT_PAUSE: vmxRecordExit(v, EXIT_REASON.PAUSE_INSTRUCTION, 0, e.instrLen); break;
      case E.ENGINE_EXIT_RDTSC: vmxRecordExit(v, EXIT_REASON.RDTSC, 0, e.instrLen); break;
      case E.ENGINE_EXIT_RDTSCP: vmxRecordExit(v, EXIT_REASON.RDTSCP, 0, e.instrLen); break;
      case E.ENGINE_EXIT_VMCALL: vmxRecordExit(v, EXIT_REASON.VMCALL, 0, e.instrLen); break;
      case E.ENGINE_EXIT_RDMSR: vmxRecordExit(v, EXIT_REASON.MSR_READ, 0, e.instrLen); break;
      case E.ENGINE_EXIT_WRMSR: vmxRecordExit(v, EXIT_REASON.MSR_WRITE, 0, e.instrLen); break;
      case E.ENGINE_EXIT_INVLPG:
        vmxRecordExit(v, EXIT_REASON.INVLPG, 0, e.instrLen);
        v.writeNumber(F.EXIT_QUALIFICATION, e.linearAddress);
        break;
      case E.ENGINE_EXIT_CR_ACCESS:
        vmxRecordExit(v, EXIT_REASON.CR_ACCESS,
          ((e.crNumber & 15) | ((e.crAccessType & 3) << 4) | ((e.gpr & 15) << 8) |
            (e.crAccessType === E.CR_ACCESS_LMSW ? (e.valueLo & 0xffff) << 16 : 0)) >>> 0, e.instrLen);
        break;
      case E.ENGINE_EXIT_EXCEPTION: {
        const type = e.vector === 2 ? 2 : 3;
        vmxRecordExceptionExit(v, encodeInterruptionInfo(e.vector, type, e.hasErrorCode), e.hasErrorCode ? e.errorCode : 0,
          e.vector === 14 ? 0 : 0, 0);
        if (e.vector === 14) v.writeNumber(F.EXIT_QUALIFICATION, e.linearAddress);
        break;
      }
      case E.ENGINE_EXIT_EXTINT: vmxRecordExit(v, EXIT_REASON.EXTERNAL_INTERRUPT, 0); break;
      case E.ENGINE_EXIT_NMI:
        vmxRecordExceptionExit(v, encodeInterruptionInfo(2, 2, false), 0, 0);
        break;
      case E.ENGINE_EXIT_INTR_WINDOW: vmxRecordExit(v, EXIT_REASON.INTERRUPT_WINDOW, 0); break;
      case E.ENGINE_EXIT_NMI_WINDOW: vmxRecordExit(v, EXIT_REASON.NMI_WINDOW, 0); break;
      case E.ENGINE_EXIT_TRIPLE_FAULT: vmxRecordExit(v, EXIT_REASON.TRIPLE_FAULT, 0); break;
      case E.ENGINE_EXIT_TDP_FAULT:
        if (this.tdpMisconfig) vmxRecordEptMisconfig(v, e.gpa);
        else vmxRecordEptViolation(v, e.tdpQualification, e.gpa, e.linearAddress);
        break;
      case E.ENGINE_EXIT_MMIO:
        // Only without EPT: the engine reached an unbacked gpa directly. The model has no
        // shadow MMU, so this surfaces as an EPT-misconfiguration-like MMIO exit.
        vmxRecordEptMisconfig(v, e.gpa);
        break;
      case E.ENGINE_EXIT_DESCRIPTOR:
        vmxRecordExit(v, e.descriptorInstr >= E.DESC_SLDT ? EXIT_REASON.LDTR_TR : EXIT_REASON.GDTR_IDTR, 0, e.instrLen);
        break;
      default:
        // ENGINE_EXIT_INTERNAL_ERROR and anything the model cannot express: no exit
        // reason; the driver reports the engine's code (lastEngineExit).
        vmxRecordExit(v, 0xffff, 0);
        break;
    }
    if (e.vectoringVector >= 0 && r !== E.ENGINE_EXIT_BUDGET) {
      vmxRecordIdtVectoring(v, encodeInterruptionInfo(e.vectoringVector, e.vectoringType, e.vectoringHasErrorCode),
        e.vectoringHasErrorCode ? e.vectoringErrorCode : 0);
    }
    if (r === E.ENGINE_EXIT_TDP_FAULT && (e.tdpQualification & (1 << 7))) vmxRecordGuestLinearAddress(v, e.linearAddress);
  }

  // ===================================================================================
  // The controls (GuestModeController)
  // ===================================================================================

  intercept(cpu: X86Cpu, e: x86Engine.EngineExit): boolean {
    if (this.emulating) return false;
    switch (e.reason) {
      case E.ENGINE_EXIT_IO:
        return ioInstructionExits(this.proc, this.ioBitmapA, this.ioBitmapB, e.port, e.size);
      case E.ENGINE_EXIT_RDMSR:
        return msrAccessExits(this.proc, this.msrBitmap, e.msrIndex, false);
      case E.ENGINE_EXIT_WRMSR:
        return msrAccessExits(this.proc, this.msrBitmap, e.msrIndex, true);
      case E.ENGINE_EXIT_CPUID: return this.insn(VMX_INSN.CPUID, cpu);
      case E.ENGINE_EXIT_HLT: return this.insn(VMX_INSN.HLT, cpu);
      case E.ENGINE_EXIT_INVLPG: return this.insn(VMX_INSN.INVLPG, cpu);
      case E.ENGINE_EXIT_RDTSC: return this.insn(VMX_INSN.RDTSC, cpu);
      case E.ENGINE_EXIT_RDTSCP: return this.insn(VMX_INSN.RDTSCP, cpu);
      case E.ENGINE_EXIT_RDPMC: return this.insn(VMX_INSN.RDPMC, cpu);
      case E.ENGINE_EXIT_MWAIT: return this.insn(VMX_INSN.MWAIT, cpu);
      case E.ENGINE_EXIT_MONITOR: return this.insn(VMX_INSN.MONITOR, cpu);
      case E.ENGINE_EXIT_PAUSE: return this.insn(VMX_INSN.PAUSE, cpu);
      case E.ENGINE_EXIT_WBINVD: return this.insn(VMX_INSN.WBINVD, cpu);
      case E.ENGINE_EXIT_INVD: return this.insn(VMX_INSN.INVD, cpu);
      case E.ENGINE_EXIT_XSETBV: return this.insn(VMX_INSN.XSETBV, cpu);
      // VMCALL always exits in VMX non-root operation; VMMCALL is not a VMX instruction (#UD).
      case E.ENGINE_EXIT_VMCALL: return true;
      case E.ENGINE_EXIT_VMMCALL: return false;
      case E.ENGINE_EXIT_CR_ACCESS: return this.crAccess(cpu, e);
      case E.ENGINE_EXIT_EXCEPTION:
        return exceptionExits(this.exceptionBitmap, e.vector, e.errorCode, this.pfecMask, this.pfecMatch);
      case E.ENGINE_EXIT_EXTINT: return (this.pin & C.PIN_BASED_EXT_INTR_MASK) !== 0;
      case E.ENGINE_EXIT_NMI: return (this.pin & C.PIN_BASED_NMI_EXITING) !== 0;
      case E.ENGINE_EXIT_DESCRIPTOR: return (this.proc2 & C.SECONDARY_EXEC_DESC) !== 0;
      default:
        return false;
    }
  }

  private insn(kind: number, cpu: X86Cpu): boolean {
    const o = vmxInstructionOutcome(this.proc, this.proc2, kind);
    if (o === VMX_INSN_UD) cpu.raise(6);
    void vmxInstructionExitReason;
    return o === VMX_INSN_EXIT;
  }

  /**
   * MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW (SDM 25.6.6, 26.1.3): host-owned bits (mask)
   * that would change exit; reads of CR0/CR4 return the read shadow for host-owned bits
   * and masked writes keep the host-owned bits: the silicon does those itself
   * (`absorbed`), without a VM exit.
   */
  private crAccess(cpu: X86Cpu, e: x86Engine.EngineExit): boolean {
    const n = e.crNumber;
    switch (e.crAccessType) {
      case E.CR_ACCESS_MOV_TO_CR:
        if (n === 0 || n === 4) {
          const mask = n === 0 ? this.cr0Mask : this.cr4Mask;
          const shadow = n === 0 ? this.cr0Shadow : this.cr4Shadow;
          if (movToCrExits(e.valueLo, mask, shadow)) return true;
          if (mask !== 0) return this.absorb();
          return false;
        }
        if (n === 3) return (this.proc & C.CPU_BASED_CR3_LOAD_EXITING) !== 0 && this.vmcs.read32(F.CR3_TARGET_COUNT) === 0;
        if (n === 8) return (this.proc & C.CPU_BASED_CR8_LOAD_EXITING) !== 0;
        return false;
      case E.CR_ACCESS_MOV_FROM_CR:
        if (n === 3) return (this.proc & C.CPU_BASED_CR3_STORE_EXITING) !== 0;
        if (n === 8) return (this.proc & C.CPU_BASED_CR8_STORE_EXITING) !== 0;
        if ((n === 0 && this.cr0Mask !== 0) || (n === 4 && this.cr4Mask !== 0)) return this.absorb();
        return false;
      case E.CR_ACCESS_CLTS:
        if (cltsExits(this.cr0Mask, this.cr0Shadow)) return true;
        return (this.cr0Mask & CR0_TS) !== 0 ? this.absorb() : false;
      case E.CR_ACCESS_LMSW:
        if (lmswExits(e.valueLo & 0xffff, this.cr0Mask, this.cr0Shadow)) return true;
        return this.cr0Mask & 0xf ? this.absorb() : false;
      default:
        return false;
    }
  }

  private absorb(): boolean {
    this.absorbed = true;
    return true;
  }

  /** Finish a CR access the silicon handles without exiting (read shadow / masked write). */
  private finishAbsorbed(): void {
    const cpu = this.cpu;
    const e = cpu.exit;
    const n = e.crNumber;
    const regs = cpu.regs;
    const mask = n === 0 ? this.cr0Mask : this.cr4Mask;
    const shadow = n === 0 ? this.cr0Shadow : this.cr4Shadow;
    const actual = n === 0 ? cpu.cr0 >>> 0 : cpu.cr4 >>> 0;
    try {
      switch (e.crAccessType) {
        case E.CR_ACCESS_MOV_FROM_CR: {
          const value = crReadValue(actual, mask, shadow);
          regs[2 * e.gpr] = value | 0;
          regs[2 * e.gpr + 1] = 0;
          break;
        }
        case E.CR_ACCESS_MOV_TO_CR: {
          const value = crWriteResult(actual, e.valueLo, mask);
          if (n === 0) E.writeCr0(cpu, value | 0, 0);
          else E.writeCr4(cpu, value | 0, 0);
          break;
        }
        case E.CR_ACCESS_CLTS:
          cpu.cr0 &= ~CR0_TS;
          break;
        case E.CR_ACCESS_LMSW: {
          // LMSW loads PE, MP, EM, TS (it cannot clear PE); host-owned bits stay.
          const src = e.valueLo & 0xf;
          let v = (actual & ~0xe) | (src & 0xe) | (actual & 1) | (src & 1);
          v = crWriteResult(actual, v, mask & 0xf);
          E.writeCr0(cpu, v | 0, 0);
          break;
        }
      }
      cpu.rip += e.instrLen;
      if (!cpu.longMode) cpu.rip = cpu.rip >>> 0;
    } catch {
      // writeCr0/writeCr4 raised #GP: deliver it at the next run.
      cpu.injectEvent(cpu.faultVector, 3, cpu.faultHasErrorCode ? cpu.faultErrorCode : -1);
    }
    void CR0_PG;
  }

  // ===================================================================================
  // EPT (TdpHook)
  // ===================================================================================

  translate(cpu: X86Cpu, gpa: number, access: number, la: number, isPageWalk: boolean): number {
    const mmu = this.mmu;
    if (mmu === null) return gpa;
    const acc = access === 0 ? EPT_ACCESS_READ : access === 1 ? EPT_ACCESS_WRITE : EPT_ACCESS_FETCH;
    const w = this.walk;
    const paging = (cpu.cr0 & CR0_PG) !== 0;
    const r = eptWalk(mmu.pool, this.eptCfg, this.eptpLo, this.eptpHi, gpa, acc, true, !isPageWalk && paging, w);
    if (r === EPT_WALK_OK) return w.hpa;
    if (this.emulating) {
      // The emulator's MMIO path: a gpa with no memslot (or a write to a read-only slot)
      // is an MMIO access, which the engine turns into its MMIO exit.
      const slot = cpu.memslots.find(gpa);
      if (slot === undefined || (access === 1 && (slot.flags & 2) !== 0)) return gpa;
      // KVM's emulator reaches RAM through the memslots, not EPT: a page EPT does not map
      // yet (e.g. the RAM side of a MOVS from MMIO) is mapped now and walked again.
      if (mmu.pageFault(gpa, access === 1) === RET_PF_FIXED &&
        eptWalk(mmu.pool, this.eptCfg, this.eptpLo, this.eptpHi, gpa, acc, true, !isPageWalk && paging, w) === EPT_WALK_OK) return w.hpa;
    }
    this.tdpMisconfig = r === EPT_WALK_MISCONFIG;
    cpu.exit.tdpQualification = w.qualification;
    return -1;
  }
}

void TWO32;
