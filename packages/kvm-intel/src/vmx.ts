/**
 * kvm-intel's driver (arch/x86/kvm/vmx/vmx.c): the kvm_x86_ops over a VMCS and the VMX
 * silicon (vmx-silicon.ts). vcpu_create allocates the VMCS and the engine; vcpu_reset is
 * init_vmcs + vmx_vcpu_reset; the state accessors read and write the VMCS guest-state
 * area; vcpu_run is VM entry to VM exit; handle_exit dispatches on the basic exit reason
 * to kvm-core's generic handlers (kvm_vmx_exit_handlers).
 */
import {
  KvmError, kvmEmulateAsNop, kvmEmulateCpuid, kvmEmulateHalt, kvmEmulateHypercall, kvmEmulateInstruction,
  kvmEmulateRdmsr, kvmEmulateRdtsc, kvmEmulateWrmsr, kvmHandleCrAccess, kvmHandleInterruptWindow, kvmHandleInvlpg,
  kvmHandleIo, kvmHandleUd, kvmInjectGp, kvmMmuPageFault, kvmMsrIsCommon, kvmPrepareUnexpectedReasonExit,
  kvmQueueException, TdpMmu, uapi, X86VendorVcpu, type KvmDtable, type KvmSegment, type KvmVcpuX86, type KvmX86Ops,
  type KvmX86Vm, type TdpFormat, type X86ExitInfo,
} from '@kvmts/kvm-core';
import * as C from './vmx/controls';
import type { VmxCapabilities } from './vmx/capabilities';
import { setIoBitmapIntercept, setMsrBitmapIntercept } from './vmx/bitmaps';
import { encodeEptp, VMX_EPT_EXECUTABLE_MASK, VMX_EPT_READABLE_MASK, VMX_EPT_WRITABLE_MASK, MTRR_TYPE_WRBACK, VMX_EPT_MT_SHIFT } from './vmx/ept';
import { EXIT_REASON, exitReasonName } from './vmx/exit-reasons';
import { encodeInterruptionInfo, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_NMI_INTR, INTR_TYPE_SOFT_EXCEPTION } from './vmx/exit-info';
import { VMCALL_BYTES } from './vmx/hypercall';
import { vmxSegmentAccessRights } from './vmx/segments';
import { VMCS_FIELDS as F, vmcsFieldName, VMCS_FIELD_ENCODINGS } from './vmx/vmcs-fields';
import { VmxSilicon, VMX_ENTRY_FAILED, VMX_ENTRY_OK, VMX_ENTRY_VMFAIL, VMX_SEG_NAMES } from './vmx-silicon';

const RIP = 16;
const RSP = 4;
const CR0_NE = 1 << 5;
const CR0_TS = 1 << 3;
const CR4_VMXE = 1 << 13;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;

/** Module parameters that shape the driver (kvm-intel's). */
export interface VmxDriverParams {
  ept: boolean;
  vpid: boolean;
  unrestricted_guest: boolean;
}

/** EPT entries as the TDP MMU writes them (SDM 29.3.2): RWX tables, WB leaves. */
export const EPT_TDP_FORMAT: TdpFormat = {
  name: 'ept',
  tableLo: VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK,
  leafLo: (writable) =>
    VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK | (writable ? VMX_EPT_WRITABLE_MASK : 0) | (MTRR_TYPE_WRBACK << VMX_EPT_MT_SHIFT),
  leafHi: () => 0,
  writableBit: VMX_EPT_WRITABLE_MASK,
  // Write+execute without read is an EPT misconfiguration: Linux's MMIO SPTE pattern.
  mmioLo: VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK,
  mmioHi: 0,
  isPresent: (lo) => (lo & 7) !== 0,
};

/** MSRs the guest reads and writes without exiting (vmx_disable_intercept_for_msr). */
export const VMX_PASSTHROUGH_MSRS: readonly number[] = [
  0xc0000100, 0xc0000101, 0xc0000102, // FS_BASE, GS_BASE, KERNEL_GS_BASE
  0x174, 0x175, 0x176, // SYSENTER_CS/ESP/EIP
  0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, // STAR, LSTAR, CSTAR, SFMASK
];

/** struct vcpu_vmx: the VMX silicon (VMCS) under kvm-core's generic vendor vCPU. */
export class VcpuVmx extends X86VendorVcpu<VmxSilicon> {
  constructor(vcpu: KvmVcpuX86, caps: VmxCapabilities, mmu: TdpMmu | null) {
    super(vcpu, new VmxSilicon(vcpu, caps), mmu);
  }

  /** Registers the run loop wrote (kvm_register_write) go into the VMCS before entry. */
  protected syncRegsToHardware(vcpu: KvmVcpuX86): void {
    const v = this.silicon.vmcs;
    const regs = vcpu.regs;
    if (vcpu.regsDirty & (1 << RIP)) v.write64(F.GUEST_RIP, regs[2 * RIP]!, regs[2 * RIP + 1]!);
    if (vcpu.regsDirty & (1 << RSP)) v.write64(F.GUEST_RSP, regs[2 * RSP]!, regs[2 * RSP + 1]!);
    vcpu.regsDirty = 0;
    this.silicon.cpu.cr2 = vcpu.cr2;
  }

  /** After an exit: the GPRs are live in vcpu.regs (shared with the engine); RIP and the CRs follow the VMCS. */
  protected syncRegsFromHardware(vcpu: KvmVcpuX86): void {
    const v = this.silicon.vmcs;
    vcpu.regs[2 * RIP] = v.read32(F.GUEST_RIP) | 0;
    vcpu.regs[2 * RIP + 1] = v.readHigh32(F.GUEST_RIP) | 0;
    vcpu.cr2 = this.silicon.cpu.cr2;
    // Guest-owned CR bits changed without exits; host-owned ones only through handle_cr.
    const m0 = v.read32(F.CR0_GUEST_HOST_MASK);
    vcpu.cr0 = ((v.read32(F.GUEST_CR0) & ~m0) | (v.read32(F.CR0_READ_SHADOW) & m0)) | 0;
    const m4 = v.read32(F.CR4_GUEST_HOST_MASK);
    vcpu.cr4 = ((v.read32(F.GUEST_CR4) & ~m4) | (v.read32(F.CR4_READ_SHADOW) & m4)) | 0;
    vcpu.cr3 = v.readNumber(F.GUEST_CR3);
    vcpu.efer = v.read32(F.GUEST_IA32_EFER) | 0;
  }

  protected setRdtscExiting(_vcpu: KvmVcpuX86, exiting: boolean): void {
    const v = this.silicon.vmcs;
    const p = v.read32(F.CPU_BASED_VM_EXEC_CONTROL);
    v.write32(F.CPU_BASED_VM_EXEC_CONTROL, exiting ? p | C.CPU_BASED_RDTSC_EXITING : p & ~C.CPU_BASED_RDTSC_EXITING);
  }
}

/** struct kvm_vmx */
export interface KvmVmx {
  mmu: TdpMmu | null;
}

function vmx(vcpu: KvmVcpuX86): VcpuVmx {
  return vcpu.vendor as VcpuVmx;
}

/** The VMX operation the module is loaded with: capabilities and parameters. */
export function createVmxOps(params: VmxDriverParams, caps: VmxCapabilities): KvmX86Ops {
  const ept = params.ept;
  const unrestricted = params.unrestricted_guest && ept;
  let nextVpid = 1;

  /** init_vmcs: the controls KVM runs every guest with. */
  function initVmcs(vcpu: KvmVcpuX86, s: VcpuVmx): void {
    const v = s.silicon.vmcs;
    v.clearFields();
    v.launchState = 'clear';
    v.write32(F.PIN_BASED_VM_EXEC_CONTROL,
      caps.truePinBased.allowed0 | C.PIN_BASED_EXT_INTR_MASK | C.PIN_BASED_NMI_EXITING | C.PIN_BASED_VIRTUAL_NMIS |
      C.PIN_BASED_VMX_PREEMPTION_TIMER);
    // No RDTSC exiting: the guest TSC is the host TSC (the VM clock) plus TSC_OFFSET, which
    // the generic vCPU loads before entry (and it turns exiting on for a rate the host lacks).
    v.write32(F.CPU_BASED_VM_EXEC_CONTROL,
      caps.trueProcBased.allowed0 | C.CPU_BASED_HLT_EXITING | C.CPU_BASED_USE_IO_BITMAPS | C.CPU_BASED_USE_MSR_BITMAPS |
      C.CPU_BASED_USE_TSC_OFFSETTING | C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
    v.write32(F.SECONDARY_VM_EXEC_CONTROL,
      (ept ? C.SECONDARY_EXEC_ENABLE_EPT : 0) | (unrestricted ? C.SECONDARY_EXEC_UNRESTRICTED_GUEST : 0) |
      (params.vpid ? C.SECONDARY_EXEC_ENABLE_VPID : 0) | C.SECONDARY_EXEC_ENABLE_RDTSCP);
    v.write32(F.VM_EXIT_CONTROLS,
      caps.trueExit.allowed0 | C.VM_EXIT_HOST_ADDR_SPACE_SIZE | C.VM_EXIT_ACK_INTR_ON_EXIT | C.VM_EXIT_SAVE_IA32_PAT |
      C.VM_EXIT_LOAD_IA32_PAT | C.VM_EXIT_SAVE_IA32_EFER | C.VM_EXIT_LOAD_IA32_EFER);
    v.write32(F.VM_ENTRY_CONTROLS, caps.trueEntry.allowed0 | C.VM_ENTRY_LOAD_IA32_PAT | C.VM_ENTRY_LOAD_IA32_EFER);
    // #UD for the hypercall fix-up, #MC as KVM always does; #PF only matters without EPT (no shadow MMU here).
    v.write32(F.EXCEPTION_BITMAP, (1 << 6) | (1 << 18));
    v.write32(F.PAGE_FAULT_ERROR_CODE_MASK, 0);
    v.write32(F.PAGE_FAULT_ERROR_CODE_MATCH, 0);
    v.write32(F.CR3_TARGET_COUNT, 0);
    // CR0: the guest owns TS; every other bit is host-owned (read shadow). CR4: all host-owned.
    v.write32(F.CR0_GUEST_HOST_MASK, ~CR0_TS);
    v.write32(F.CR4_GUEST_HOST_MASK, 0xffffffff);
    v.write64(F.VMCS_LINK_POINTER, 0xffffffff, 0xffffffff);
    if (params.vpid) v.write32(F.VIRTUAL_PROCESSOR_ID, nextVpid++ & 0xffff || 1);
    // The bitmaps live in the silicon; their "addresses" are page-aligned host pages.
    v.write64(F.IO_BITMAP_A, 0x1000, 0);
    v.write64(F.IO_BITMAP_B, 0x2000, 0);
    v.write64(F.MSR_BITMAP, 0x3000, 0);
    s.silicon.ioBitmapA.fill(0xff);
    s.silicon.ioBitmapB.fill(0xff);
    s.silicon.msrBitmap.fill(0xff);
    // Port 0x80 (the POST/delay port) does not exit, as KVM has long done.
    setIoBitmapIntercept(s.silicon.ioBitmapA, s.silicon.ioBitmapB, 0x80, false);
    for (const m of VMX_PASSTHROUGH_MSRS) {
      setMsrBitmapIntercept(s.silicon.msrBitmap, m, false, false);
      setMsrBitmapIntercept(s.silicon.msrBitmap, m, true, false);
    }
    // Host state (vmx_set_constant_host_state): a 64-bit kernel.
    v.write32(F.HOST_CR0, 0x80050033);
    v.write32(F.HOST_CR4, 0x000026f0 | CR4_VMXE);
    v.write64(F.HOST_CR3, 0x1000000, 0);
    v.write32(F.HOST_CS_SELECTOR, 0x10);
    v.write32(F.HOST_SS_SELECTOR, 0x18);
    v.write32(F.HOST_DS_SELECTOR, 0);
    v.write32(F.HOST_ES_SELECTOR, 0);
    v.write32(F.HOST_FS_SELECTOR, 0);
    v.write32(F.HOST_GS_SELECTOR, 0);
    v.write32(F.HOST_TR_SELECTOR, 0x40);
    v.writeNumber(F.HOST_RIP, -0x7e000000); // vmx_vmexit in the host kernel's text
    v.writeNumber(F.HOST_RSP, -0x7d000000);
    v.writeNumber(F.HOST_TR_BASE, -0x7c000000);
    v.writeNumber(F.HOST_GDTR_BASE, -0x7c001000);
    v.writeNumber(F.HOST_IDTR_BASE, -0x7c002000);
    v.write64(F.HOST_IA32_EFER, (1 << 0) | EFER_LME | EFER_LMA | (1 << 11), 0);
    v.write64(F.HOST_IA32_PAT, 0x00070406, 0x00070406);
    if (ept && s.silicon.mmu !== null) loadMmuPgd(vcpu, s.silicon.mmu.root, 4);
  }

  function loadMmuPgd(vcpu: KvmVcpuX86, root: number, _level: number): void {
    const s = vmx(vcpu);
    s.silicon.vmcs.writeNumber(F.EPT_POINTER, encodeEptp(root));
    s.loadedRoot = root;
    s.cpu.flushTlb();
  }

  function setSegment(vcpu: KvmVcpuX86, seg: number, sv: KvmSegment): void {
    const v = vmx(vcpu).silicon.vmcs;
    const n = VMX_SEG_NAMES[seg]!;
    v.write32(F[`GUEST_${n}_SELECTOR`], sv.selector);
    const base = BigInt.asUintN(64, sv.base);
    v.write64(F[`GUEST_${n}_BASE`], Number(base & 0xffffffffn), Number(base >> 32n));
    v.write32(F[`GUEST_${n}_LIMIT`], sv.limit);
    v.write32(F[`GUEST_${n}_AR_BYTES`], vmxSegmentAccessRights(sv));
  }

  function getSegment(vcpu: KvmVcpuX86, seg: number): KvmSegment {
    const v = vmx(vcpu).silicon.vmcs;
    const n = VMX_SEG_NAMES[seg]!;
    const ar = v.read32(F[`GUEST_${n}_AR_BYTES`]);
    const bf = F[`GUEST_${n}_BASE`];
    return {
      base: (BigInt(v.readHigh32(bf)) << 32n) | BigInt(v.read32(bf)),
      limit: v.read32(F[`GUEST_${n}_LIMIT`]),
      selector: v.read32(F[`GUEST_${n}_SELECTOR`]),
      type: ar & 15, s: (ar >>> 4) & 1, dpl: (ar >>> 5) & 3, present: (ar >>> 7) & 1, avl: (ar >>> 12) & 1,
      l: (ar >>> 13) & 1, db: (ar >>> 14) & 1, g: (ar >>> 15) & 1, unusable: (ar >>> 16) & 1,
    };
  }

  function setEfer(vcpu: KvmVcpuX86, efer: number): void {
    const v = vmx(vcpu).silicon.vmcs;
    v.write64(F.GUEST_IA32_EFER, efer, 0);
    const entry = v.read32(F.VM_ENTRY_CONTROLS);
    v.write32(F.VM_ENTRY_CONTROLS, efer & EFER_LMA ? entry | C.VM_ENTRY_IA32E_MODE : entry & ~C.VM_ENTRY_IA32E_MODE);
  }

  function setCr0(vcpu: KvmVcpuX86, cr0: number): void {
    const s = vmx(vcpu);
    const v = s.silicon.vmcs;
    s.updateLongModeActive(vcpu, cr0);
    v.write32(F.GUEST_CR0, cr0 | CR0_NE);
    v.write32(F.CR0_READ_SHADOW, cr0);
  }

  function setCr4(vcpu: KvmVcpuX86, cr4: number): void {
    const v = vmx(vcpu).silicon.vmcs;
    v.write32(F.GUEST_CR4, cr4 | CR4_VMXE);
    v.write32(F.CR4_READ_SHADOW, cr4);
  }

  function getRflags(vcpu: KvmVcpuX86): number {
    return vmx(vcpu).silicon.vmcs.read32(F.GUEST_RFLAGS);
  }

  function skipEmulatedInstruction(vcpu: KvmVcpuX86): boolean {
    const s = vmx(vcpu);
    const v = s.silicon.vmcs;
    const len = v.read32(F.VM_EXIT_INSTRUCTION_LEN);
    const lma = (v.read32(F.GUEST_IA32_EFER) & EFER_LMA) !== 0 && (v.read32(F.GUEST_CS_AR_BYTES) & (1 << 13)) !== 0;
    let rip = v.readSignedNumber(F.GUEST_RIP) + len;
    if (!lma) rip = rip >>> 0;
    v.writeNumber(F.GUEST_RIP, rip);
    vcpu.regs[2 * RIP] = v.read32(F.GUEST_RIP) | 0;
    vcpu.regs[2 * RIP + 1] = v.readHigh32(F.GUEST_RIP) | 0;
    vcpu.regsDirty &= ~(1 << RIP);
    // Skipping an instruction ends the STI / MOV-SS shadow.
    v.write32(F.GUEST_INTERRUPTIBILITY_INFO, v.read32(F.GUEST_INTERRUPTIBILITY_INFO) & ~3);
    return true;
  }

  function exitInfo(vcpu: KvmVcpuX86): X86ExitInfo {
    const s = vmx(vcpu);
    const v = s.silicon.vmcs;
    const reason = v.read32(F.VM_EXIT_REASON);
    const basic = reason & 0xffff;
    const name = exitReasonName(basic);
    return {
      kind: 'vmx',
      reason: reason >>> 0,
      reasonName: name !== undefined ? `EXIT_REASON_${name}` : `EXIT_REASON_${basic}`,
      info1: (BigInt(v.readHigh32(F.EXIT_QUALIFICATION)) << 32n) | BigInt(v.read32(F.EXIT_QUALIFICATION)),
      info2: (BigInt(v.readHigh32(F.GUEST_PHYSICAL_ADDRESS)) << 32n) | BigInt(v.read32(F.GUEST_PHYSICAL_ADDRESS)),
      intrInfo: v.read32(F.VM_EXIT_INTR_INFO),
      errorCode: v.read32(F.VM_EXIT_INTR_ERROR_CODE),
    };
  }

  /** vmx_complete_interrupts: an event whose delivery was cut short by the exit is queued again. */
  function completeInterrupts(vcpu: KvmVcpuX86, s: VcpuVmx): void {
    const v = s.silicon.vmcs;
    const info = v.read32(F.IDT_VECTORING_INFO_FIELD);
    if (!(info & INTR_INFO_VALID_MASK)) return;
    const vector = info & 0xff;
    const type = (info >>> 8) & 7;
    if (type === INTR_TYPE_EXT_INTR) vcpu.interruptNr = vector;
    else if (type === INTR_TYPE_NMI_INTR) { vcpu.nmiPending++; v.write32(F.GUEST_INTERRUPTIBILITY_INFO, v.read32(F.GUEST_INTERRUPTIBILITY_INFO) & ~C.GUEST_INTR_STATE_NMI); }
    else if (type === INTR_TYPE_HARD_EXCEPTION && vcpu.exception === null) {
      kvmQueueException(vcpu, vector, info & 0x800 ? v.read32(F.IDT_VECTORING_ERROR_CODE) : undefined);
    }
  }

  function handleException(vcpu: KvmVcpuX86, s: VcpuVmx): number {
    const v = s.silicon.vmcs;
    const info = v.read32(F.VM_EXIT_INTR_INFO);
    const vector = info & 0xff;
    const type = (info >>> 8) & 7;
    if (type === INTR_TYPE_NMI_INTR || vector === 18) return 1; // host NMI / machine check: nothing for the guest
    // A guest built for AMD executes VMMCALL: rewrite it to VMCALL and retry (KVM's emulator does this).
    if (vector === 6) return kvmHandleUd(vcpu);
    const hasCode = (info & 0x800) !== 0;
    const code = hasCode ? v.read32(F.VM_EXIT_INTR_ERROR_CODE) : undefined;
    kvmQueueException(vcpu, vector, code, vector === 14 ? v.readSignedNumber(F.EXIT_QUALIFICATION) : undefined);
    return 1;
  }

  function handleExit(vcpu: KvmVcpuX86, _fastpath: number): number {
    const s = vmx(vcpu);
    const sil = s.silicon;
    const v = sil.vmcs;
    const run = vcpu.ctx.kvmRun;
    if (sil.entryResult === VMX_ENTRY_VMFAIL) {
      // VMLAUNCH/VMRESUME failed as an instruction: KVM reports the VM-instruction error.
      run.exitReason = uapi.KVM_EXIT_FAIL_ENTRY;
      run.failEntry.hardwareEntryFailureReason = BigInt(v.read32(F.VM_INSTRUCTION_ERROR));
      run.failEntry.cpu = vcpu.vcpuId;
      return 0;
    }
    const reason = v.read32(F.VM_EXIT_REASON);
    if (sil.entryResult === VMX_ENTRY_FAILED) {
      run.exitReason = uapi.KVM_EXIT_FAIL_ENTRY;
      run.failEntry.hardwareEntryFailureReason = BigInt(reason >>> 0);
      run.failEntry.cpu = vcpu.vcpuId;
      return 0;
    }
    completeInterrupts(vcpu, s);
    if (s.engineInternalError(vcpu)) return 0;
    const basic = reason & 0xffff;
    switch (basic) {
      case EXIT_REASON.EXCEPTION_NMI: return handleException(vcpu, s);
      case EXIT_REASON.EXTERNAL_INTERRUPT: return 1;
      case EXIT_REASON.TRIPLE_FAULT:
        run.exitReason = uapi.KVM_EXIT_SHUTDOWN;
        return 0;
      case EXIT_REASON.INTERRUPT_WINDOW:
        v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) & ~C.CPU_BASED_INTR_WINDOW_EXITING);
        return kvmHandleInterruptWindow(vcpu);
      case EXIT_REASON.NMI_WINDOW:
        v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) & ~C.CPU_BASED_NMI_WINDOW_EXITING);
        return 1;
      case EXIT_REASON.CPUID: return kvmEmulateCpuid(vcpu, true);
      case EXIT_REASON.HLT: return kvmEmulateHalt(vcpu);
      case EXIT_REASON.INVD:
      case EXIT_REASON.WBINVD:
      case EXIT_REASON.PAUSE_INSTRUCTION:
      case EXIT_REASON.MWAIT_INSTRUCTION:
      case EXIT_REASON.MONITOR_INSTRUCTION:
        // Cache flushes and MONITOR/MWAIT are no-ops for a guest (KVM: kvm_emulate_wbinvd, MWAIT as NOP).
        return kvmEmulateAsNop(vcpu);
      case EXIT_REASON.INVLPG: return kvmHandleInvlpg(vcpu, v.readSignedNumber(F.EXIT_QUALIFICATION));
      case EXIT_REASON.RDPMC: return kvmInjectGp(vcpu);
      case EXIT_REASON.RDTSC: return kvmEmulateRdtsc(vcpu, false);
      case EXIT_REASON.RDTSCP: return kvmEmulateRdtsc(vcpu, true);
      case EXIT_REASON.VMCALL: return kvmEmulateHypercall(vcpu);
      case EXIT_REASON.CR_ACCESS: {
        const q = v.read32(F.EXIT_QUALIFICATION);
        const lma = (vcpu.efer & EFER_LMA) !== 0;
        return kvmHandleCrAccess(vcpu, q & 15, (q >>> 4) & 3, (q >>> 8) & 15, q >>> 16, lma);
      }
      case EXIT_REASON.MSR_READ: return kvmEmulateRdmsr(vcpu);
      case EXIT_REASON.MSR_WRITE: return kvmEmulateWrmsr(vcpu);
      case EXIT_REASON.IO_INSTRUCTION: {
        const q = v.read32(F.EXIT_QUALIFICATION);
        return kvmHandleIo(vcpu, (q & 8) !== 0, q >>> 16, (q & 7) + 1, (q & 16) !== 0);
      }
      case EXIT_REASON.XSETBV:
      case EXIT_REASON.GDTR_IDTR:
      case EXIT_REASON.LDTR_TR:
        return kvmEmulateInstruction(vcpu);
      case EXIT_REASON.EPT_VIOLATION: {
        const mmu = sil.mmu;
        const gpa = v.readNumber(F.GUEST_PHYSICAL_ADDRESS);
        const q = v.read32(F.EXIT_QUALIFICATION);
        if (mmu === null) return kvmPrepareUnexpectedReasonExit(vcpu, reason >>> 0);
        return kvmMmuPageFault(vcpu, mmu, gpa, (q & 2) !== 0);
      }
      case EXIT_REASON.EPT_MISCONFIG: {
        const mmu = sil.mmu;
        const gpa = v.readNumber(F.GUEST_PHYSICAL_ADDRESS);
        // handle_ept_misconfig: MMIO SPTEs (or, without EPT, an unbacked gpa) mean "emulate MMIO".
        if (mmu === null || mmu.isMmioSpte(gpa)) return kvmEmulateInstruction(vcpu);
        return kvmPrepareUnexpectedReasonExit(vcpu, reason >>> 0);
      }
      case EXIT_REASON.PREEMPTION_TIMER: return 1;
      default: return kvmPrepareUnexpectedReasonExit(vcpu, reason >>> 0);
    }
  }

  const ops: KvmX86Ops = {
    name: 'kvm-intel',
    vmInit(kvm: KvmX86Vm) {
      const k: KvmVmx = { mmu: ept ? new TdpMmu(kvm.vm.memslots, EPT_TDP_FORMAT) : null };
      kvm.vendor = k;
    },
    vcpuCreate(vcpu) {
      new VcpuVmx(vcpu, caps, (vcpu.kvm.vendor as KvmVmx).mmu);
    },
    vcpuFree(vcpu) {
      vcpu.vendor = undefined;
    },
    vcpuReset(vcpu, initEvent) {
      const s = vmx(vcpu);
      initVmcs(vcpu, s);
      s.cpu.reset();
      const v = s.silicon.vmcs;
      const seg = (i: number, sel: number, base: number, ar: number) => {
        const n = VMX_SEG_NAMES[i]!;
        v.write32(F[`GUEST_${n}_SELECTOR`], sel);
        v.write64(F[`GUEST_${n}_BASE`], base, 0);
        v.write32(F[`GUEST_${n}_LIMIT`], 0xffff);
        v.write32(F[`GUEST_${n}_AR_BYTES`], ar);
      };
      seg(1, 0xf000, 0xffff0000, 0x9b);
      for (const i of [0, 2, 3, 4, 5]) seg(i, 0, 0, 0x93);
      seg(6, 0, 0, 0x8b);
      seg(7, 0, 0, 0x82);
      v.write32(F.GUEST_GDTR_LIMIT, 0xffff);
      v.write32(F.GUEST_IDTR_LIMIT, 0xffff);
      v.write32(F.GUEST_RFLAGS, 2);
      v.write64(F.GUEST_RIP, 0xfff0, 0);
      v.write64(F.GUEST_RSP, 0, 0);
      v.write32(F.GUEST_DR7, 0x400);
      v.write64(F.GUEST_IA32_PAT, 0x00070406, 0x00070406);
      v.write32(F.GUEST_ACTIVITY_STATE, C.GUEST_ACTIVITY_ACTIVE);
      v.write32(F.GUEST_INTERRUPTIBILITY_INFO, 0);
      s.resetRegs(vcpu, initEvent);
    },
    getMsr(vcpu, index) {
      const s = vmx(vcpu);
      const v = s.silicon.vmcs;
      switch (index >>> 0) {
        case 0xc0000100: return BigInt.asUintN(64, BigInt(v.readSignedNumber(F.GUEST_FS_BASE)));
        case 0xc0000101: return BigInt.asUintN(64, BigInt(v.readSignedNumber(F.GUEST_GS_BASE)));
        case 0x174: return BigInt(v.read32(F.GUEST_SYSENTER_CS));
        case 0x175: return BigInt.asUintN(64, BigInt(v.readSignedNumber(F.GUEST_SYSENTER_ESP)));
        case 0x176: return BigInt.asUintN(64, BigInt(v.readSignedNumber(F.GUEST_SYSENTER_EIP)));
        case 0x277: return (BigInt(v.readHigh32(F.GUEST_IA32_PAT)) << 32n) | BigInt(v.read32(F.GUEST_IA32_PAT));
      }
      if (kvmMsrIsCommon(index)) return undefined;
      // The rest live in the engine (the CPU's MSRs that VMX leaves to the guest).
      return s.engineGetMsr(index);
    },
    setMsr(vcpu, index, data) {
      const s = vmx(vcpu);
      const v = s.silicon.vmcs;
      const lo = Number(data & 0xffffffffn);
      const hi = Number((data >> 32n) & 0xffffffffn);
      switch (index >>> 0) {
        case 0xc0000100: v.write64(F.GUEST_FS_BASE, lo, hi); return true;
        case 0xc0000101: v.write64(F.GUEST_GS_BASE, lo, hi); return true;
        case 0x174: v.write32(F.GUEST_SYSENTER_CS, lo); return true;
        case 0x175: v.write64(F.GUEST_SYSENTER_ESP, lo, hi); return true;
        case 0x176: v.write64(F.GUEST_SYSENTER_EIP, lo, hi); return true;
        case 0x277: v.write64(F.GUEST_IA32_PAT, lo, hi); return true;
      }
      if (kvmMsrIsCommon(index)) return false;
      return s.engineSetMsr(index, data);
    },
    getSegmentBase: (vcpu, seg) => getSegment(vcpu, seg).base,
    getSegment,
    getCpl(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      if (!(v.read32(F.CR0_READ_SHADOW) & 1)) return 0;
      if (v.read32(F.GUEST_RFLAGS) & (1 << 17)) return 3;
      return (v.read32(F.GUEST_SS_AR_BYTES) >>> 5) & 3;
    },
    setSegment,
    setCr0,
    // nested=0: the guest may not set VMXE; the rest within what the silicon allows (IA32_VMX_CR4_FIXED1).
    isValidCr4: (_vcpu, cr4) => (cr4 & ~caps.cr4Fixed1) === 0 && (cr4 & CR4_VMXE) === 0,
    setCr4,
    postSetCr3(vcpu, cr3) {
      vmx(vcpu).silicon.vmcs.writeNumber(F.GUEST_CR3, cr3);
    },
    setEfer,
    getIdt: (vcpu) => dtable(vcpu, 'IDTR'),
    setIdt: (vcpu, dt) => setDtable(vcpu, 'IDTR', dt),
    getGdt: (vcpu) => dtable(vcpu, 'GDTR'),
    setGdt: (vcpu, dt) => setDtable(vcpu, 'GDTR', dt),
    setDr7(vcpu, value) {
      vmx(vcpu).silicon.vmcs.write64(F.GUEST_DR7, Number(value & 0xffffffffn), 0);
    },
    cacheReg(vcpu, reg) {
      const v = vmx(vcpu).silicon.vmcs;
      if (reg === RIP) {
        vcpu.regs[2 * RIP] = v.read32(F.GUEST_RIP) | 0;
        vcpu.regs[2 * RIP + 1] = v.readHigh32(F.GUEST_RIP) | 0;
      } else if (reg === RSP) {
        vcpu.regs[2 * RSP] = v.read32(F.GUEST_RSP) | 0;
        vcpu.regs[2 * RSP + 1] = v.readHigh32(F.GUEST_RSP) | 0;
      }
      vcpu.regsAvail |= 1 << reg;
    },
    getRflags,
    setRflags(vcpu, rflags) {
      vmx(vcpu).silicon.vmcs.write32(F.GUEST_RFLAGS, rflags | 2);
    },
    flushTlbAll: (vcpu) => vmx(vcpu).cpu.flushTlb(),
    flushTlbCurrent: (vcpu) => vmx(vcpu).cpu.flushTlb(),
    flushTlbGva: (vcpu, gva) => vmx(vcpu).cpu.flushTlbPage(gva),
    flushTlbGuest: (vcpu) => vmx(vcpu).cpu.flushTlb(),
    vcpuRun: (vcpu) => vmx(vcpu).vcpuRun(vcpu),
    handleExit,
    skipEmulatedInstruction,
    setInterruptShadow(vcpu, mask) {
      // KVM_X86_SHADOW_INT_MOV_SS = 1, KVM_X86_SHADOW_INT_STI = 2 -> the VMX bits.
      const v = vmx(vcpu).silicon.vmcs;
      const bits = (mask & 1 ? C.GUEST_INTR_STATE_MOV_SS : 0) | (mask & 2 ? C.GUEST_INTR_STATE_STI : 0);
      v.write32(F.GUEST_INTERRUPTIBILITY_INFO, (v.read32(F.GUEST_INTERRUPTIBILITY_INFO) & ~3) | bits);
    },
    getInterruptShadow(vcpu) {
      const i = vmx(vcpu).silicon.vmcs.read32(F.GUEST_INTERRUPTIBILITY_INFO);
      return (i & C.GUEST_INTR_STATE_MOV_SS ? 1 : 0) | (i & C.GUEST_INTR_STATE_STI ? 2 : 0);
    },
    patchHypercall: () => Uint8Array.from(VMCALL_BYTES),
    injectIrq(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, encodeInterruptionInfo(vcpu.interruptNr, INTR_TYPE_EXT_INTR, false));
      vcpu.interruptNr = -1;
    },
    injectNmi(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, encodeInterruptionInfo(2, INTR_TYPE_NMI_INTR, false));
    },
    injectException(vcpu) {
      const ex = vcpu.exception;
      if (ex === null) return;
      const v = vmx(vcpu).silicon.vmcs;
      // kvm_deliver_exception_payload: #PF's address goes to CR2 as the exception is delivered.
      if (ex.vector === 14 && ex.hasPayload) vcpu.cr2 = ex.payload;
      const pe = (v.read32(F.CR0_READ_SHADOW) & 1) !== 0;
      const withCode = ex.hasErrorCode && pe;
      const soft = ex.vector === 3 || ex.vector === 4;
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, encodeInterruptionInfo(ex.vector, soft ? INTR_TYPE_SOFT_EXCEPTION : INTR_TYPE_HARD_EXCEPTION, withCode));
      if (withCode) v.write32(F.VM_ENTRY_EXCEPTION_ERROR_CODE, ex.errorCode & 0xffff);
      if (soft) v.write32(F.VM_ENTRY_INSTRUCTION_LEN, 1);
    },
    cancelInjection(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0);
    },
    interruptAllowed(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      return (v.read32(F.GUEST_RFLAGS) & 0x200) !== 0 && (v.read32(F.GUEST_INTERRUPTIBILITY_INFO) & 3) === 0 &&
        !(v.read32(F.VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK);
    },
    nmiAllowed(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      return (v.read32(F.GUEST_INTERRUPTIBILITY_INFO) & (3 | C.GUEST_INTR_STATE_NMI)) === 0 &&
        !(v.read32(F.VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK);
    },
    getNmiMask: (vcpu) => (vmx(vcpu).silicon.vmcs.read32(F.GUEST_INTERRUPTIBILITY_INFO) & C.GUEST_INTR_STATE_NMI) !== 0,
    setNmiMask(vcpu, masked) {
      const v = vmx(vcpu).silicon.vmcs;
      const i = v.read32(F.GUEST_INTERRUPTIBILITY_INFO);
      v.write32(F.GUEST_INTERRUPTIBILITY_INFO, masked ? i | C.GUEST_INTR_STATE_NMI : i & ~C.GUEST_INTR_STATE_NMI);
    },
    enableNmiWindow(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) | C.CPU_BASED_NMI_WINDOW_EXITING);
    },
    enableIrqWindow(vcpu) {
      const v = vmx(vcpu).silicon.vmcs;
      v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) | C.CPU_BASED_INTR_WINDOW_EXITING);
    },
    loadMmuPgd,
    writeTscOffset(vcpu, offset) {
      const o = BigInt.asUintN(64, offset);
      vmx(vcpu).silicon.vmcs.write64(F.TSC_OFFSET, Number(o & 0xffffffffn), Number(o >> 32n));
    },
    getExitInfo: exitInfo,
    dumpState: (vcpu) => dumpVmcs(vcpu),
  };

  function dtable(vcpu: KvmVcpuX86, n: 'GDTR' | 'IDTR'): KvmDtable {
    const v = vmx(vcpu).silicon.vmcs;
    const bf = F[`GUEST_${n}_BASE`];
    return { base: (BigInt(v.readHigh32(bf)) << 32n) | BigInt(v.read32(bf)), limit: v.read32(F[`GUEST_${n}_LIMIT`]) };
  }

  function setDtable(vcpu: KvmVcpuX86, n: 'GDTR' | 'IDTR', dt: KvmDtable): void {
    const v = vmx(vcpu).silicon.vmcs;
    const b = BigInt.asUintN(64, dt.base);
    v.write64(F[`GUEST_${n}_BASE`], Number(b & 0xffffffffn), Number(b >> 32n));
    v.write32(F[`GUEST_${n}_LIMIT`], dt.limit & 0xffff);
  }

  return ops;
}

/** dump_vmcs: every non-zero field by its SDM name, plus the last exit and entry failure. */
export function dumpVmcs(vcpu: KvmVcpuX86): string {
  const s = vcpu.vendor as VcpuVmx;
  if (s === undefined) throw new KvmError('EBADF', 'the vCPU has no VMCS');
  const v = s.silicon.vmcs;
  const lines: string[] = [];
  const reason = v.read32(F.VM_EXIT_REASON);
  lines.push(`*** VMCS (revision 0x${v.revisionId.toString(16)}, ${v.launchState}) vcpu ${vcpu.vcpuId} ***`);
  lines.push(`last exit: ${exitReasonName(reason & 0xffff) ?? reason & 0xffff}${reason & 0x80000000 ? ' (VM-entry failure)' : ''}` +
    (s.silicon.entryFailure ? ` — ${s.silicon.entryFailure}` : ''));
  for (const enc of VMCS_FIELD_ENCODINGS) {
    const lo = v.read32(enc);
    const hi = v.readHigh32(enc);
    if (lo === 0 && hi === 0) continue;
    const val = hi !== 0 ? `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}` : `0x${lo.toString(16)}`;
    lines.push(`${vmcsFieldName(enc) ?? `0x${enc.toString(16)}`} = ${val}`);
  }
  return lines.join('\n');
}

void VMX_ENTRY_OK;
