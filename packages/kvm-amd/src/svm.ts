/**
 * kvm-amd's driver (arch/x86/kvm/svm/svm.c): the kvm_x86_ops over a VMCB and the SVM
 * silicon (svm-silicon.ts). init_vmcb sets the intercepts KVM always has; the state
 * accessors read and write the state-save area (SVM segment attributes); vcpu_run is
 * VMRUN to #VMEXIT; handle_exit dispatches on EXITCODE (svm_exit_handlers).
 */
import {
  KvmError, kvmEmulateAsNop, kvmEmulateCpuid, kvmEmulateHalt, kvmEmulateHypercall, kvmEmulateInstruction,
  kvmEmulateRdmsr, kvmEmulateRdtsc, kvmEmulateWrmsr, kvmHandleCrAccess, kvmHandleInterruptWindow, kvmHandleInvlpg,
  kvmHandleIo, kvmHandleUd, kvmInjectGp, kvmInjectUd, kvmMmuPageFault, kvmMsrIsCommon, kvmPrepareUnexpectedReasonExit,
  kvmQueueException, TdpMmu, uapi, X86VendorVcpu, type KvmDtable, type KvmSegment, type KvmVcpuX86, type KvmX86Ops,
  type KvmX86Vm, type TdpFormat, type X86ExitInfo,
} from '@kvmts/kvm-core';
import { SVM_EXIT, svmExitName } from './svm/exit-codes';
import { setIopmIntercept } from './svm/iopm';
import { setMsrpmIntercept } from './svm/msrpm';
import { PT_NX_HI, PT_PRESENT_MASK, PT_USER_MASK, PT_WRITABLE_MASK } from './svm/npt';
import { VMMCALL_BYTES } from './svm/hypercall';
import { svmSegmentAttrib } from './svm/segments';
import { EFER_SVME } from './svm/vmrun-checks';
import {
  INTERCEPT, SVM_INTERRUPT_SHADOW_MASK, SVM_NESTED_CTL_NP_ENABLE, TLB_CONTROL_FLUSH_ASID, V_INTR_MASKING_MASK, V_IRQ_MASK,
  VMCB_CONTROL as CTL, VMCB_SAVE as SAVE,
} from './svm/vmcb';
import { SVM_RUN_INVALID, SVM_RUN_OK, SVM_SEG_OFFSETS, SvmSilicon } from './svm-silicon';

const RIP = 16;
const RSP = 4;
const RAX = 0;
const EFER_LMA = 1 << 10;

/** NPT entries as the TDP MMU writes them: ordinary long-mode page-table entries (APM 15.25). */
export const NPT_TDP_FORMAT: TdpFormat = {
  name: 'npt',
  tableLo: PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK,
  leafLo: (writable) => PT_PRESENT_MASK | PT_USER_MASK | (writable ? PT_WRITABLE_MASK : 0),
  leafHi: (executable) => (executable ? 0 : PT_NX_HI),
  writableBit: PT_WRITABLE_MASK,
  // Present with a reserved address bit (51): a #NPF with RSVD set, KVM's MMIO SPTE on AMD.
  mmioLo: PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK,
  mmioHi: 1 << 19,
  isPresent: (lo) => (lo & PT_PRESENT_MASK) !== 0,
};

/** MSRs the guest accesses without exits (svm_direct_access_msrs). */
export const SVM_PASSTHROUGH_MSRS: readonly number[] = [
  0xc0000100, 0xc0000101, 0xc0000102, 0x174, 0x175, 0x176, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
];

export interface SvmDriverParams {
  npt: boolean;
}

/** struct vcpu_svm: the SVM silicon (VMCB) under kvm-core's generic vendor vCPU. */
export class VcpuSvm extends X86VendorVcpu<SvmSilicon> {
  constructor(vcpu: KvmVcpuX86, npt: boolean, mmu: TdpMmu | null) {
    super(vcpu, new SvmSilicon(vcpu, npt), mmu);
  }

  protected syncRegsToHardware(vcpu: KvmVcpuX86): void {
    const v = this.silicon.vmcb;
    const regs = vcpu.regs;
    if (vcpu.regsDirty & (1 << RIP)) v.setU64(SAVE.RIP, regs[2 * RIP]!, regs[2 * RIP + 1]!);
    if (vcpu.regsDirty & (1 << RSP)) v.setU64(SAVE.RSP, regs[2 * RSP]!, regs[2 * RSP + 1]!);
    // KVM copies RAX into the VMCB before every VMRUN.
    v.setU64(SAVE.RAX, regs[2 * RAX]!, regs[2 * RAX + 1]!);
    vcpu.regsDirty = 0;
    v.setNum(SAVE.CR2, vcpu.cr2);
  }

  protected syncRegsFromHardware(vcpu: KvmVcpuX86): void {
    const v = this.silicon.vmcb;
    vcpu.regs[2 * RIP] = v.u32(SAVE.RIP) | 0;
    vcpu.regs[2 * RIP + 1] = v.hi32(SAVE.RIP) | 0;
    vcpu.cr2 = v.numSigned(SAVE.CR2);
    // With NPT the guest owns CR0 and CR3 (no intercepts): KVM reads them back from the VMCB.
    vcpu.cr0 = v.u32(SAVE.CR0) | 0;
    vcpu.cr3 = v.num(SAVE.CR3);
    vcpu.cr4 = v.u32(SAVE.CR4) | 0;
    vcpu.efer = (v.u32(SAVE.EFER) & ~EFER_SVME) | 0;
  }

  protected setRdtscExiting(_vcpu: KvmVcpuX86, exiting: boolean): void {
    const v = this.silicon.vmcb;
    v.setIntercept(INTERCEPT.RDTSC, exiting);
    v.setIntercept(INTERCEPT.RDTSCP, exiting);
  }
}

/** struct kvm_svm */
export interface KvmSvm {
  mmu: TdpMmu | null;
  nextAsid: number;
}

function svm(vcpu: KvmVcpuX86): VcpuSvm {
  return vcpu.vendor as VcpuSvm;
}

export function createSvmOps(params: SvmDriverParams): KvmX86Ops {
  const npt = params.npt;

  /** init_vmcb */
  function initVmcb(vcpu: KvmVcpuX86, s: VcpuSvm): void {
    const v = s.silicon.vmcb;
    v.clear();
    // CR4 writes exit (KVM checks them); with NPT CR0/CR3 belong to the guest.
    v.setIntercept(INTERCEPT.CR4_WRITE, true);
    if (!npt) v.setIntercept(INTERCEPT.CR3_WRITE, false);
    // #UD for the hypercall fix-up, #MC.
    v.setIntercept(INTERCEPT.EXCEPTION_OFFSET + 6, true);
    v.setIntercept(INTERCEPT.EXCEPTION_OFFSET + 18, true);
    for (const i of [
      INTERCEPT.INTR, INTERCEPT.NMI, INTERCEPT.SMI, INTERCEPT.CPUID, INTERCEPT.INVD, INTERCEPT.HLT, INTERCEPT.IOIO_PROT,
      INTERCEPT.MSR_PROT, INTERCEPT.SHUTDOWN, INTERCEPT.VMRUN, INTERCEPT.VMMCALL, INTERCEPT.VMLOAD, INTERCEPT.VMSAVE,
      INTERCEPT.STGI, INTERCEPT.CLGI, INTERCEPT.SKINIT, INTERCEPT.WBINVD, INTERCEPT.XSETBV, INTERCEPT.MONITOR,
      INTERCEPT.MWAIT, INTERCEPT.RDPMC,
      // Not RDTSC(P): the guest TSC is the host TSC (the VM clock) plus TSC_OFFSET, which the
      // generic vCPU loads before VMRUN (and it intercepts them for a rate the host lacks).
    ]) v.setIntercept(i, true);
    if (!npt) v.setIntercept(INTERCEPT.INVLPG, true);
    v.setNum(CTL.IOPM_BASE_PA, 0x10000);
    v.setNum(CTL.MSRPM_BASE_PA, 0x14000);
    s.silicon.iopm.fill(0xff);
    s.silicon.msrpm.fill(0xff);
    setIopmIntercept(s.silicon.iopm, 0x80, false);
    for (const m of SVM_PASSTHROUGH_MSRS) {
      setMsrpmIntercept(s.silicon.msrpm, m, false, false);
      setMsrpmIntercept(s.silicon.msrpm, m, true, false);
    }
    const kvm = vcpu.kvm.vendor as KvmSvm;
    v.setU32(CTL.GUEST_ASID, kvm.nextAsid++ % (s.silicon.runConfig.maxAsids - 1) + 1);
    v.setU8(CTL.TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
    v.setU32(CTL.INT_CTL, V_INTR_MASKING_MASK);
    if (npt && s.silicon.mmu !== null) {
      v.setU32(CTL.NESTED_CTL, SVM_NESTED_CTL_NP_ENABLE);
      loadMmuPgd(vcpu, s.silicon.mmu.root, 4);
    }
    v.setU64(SAVE.G_PAT, 0x00070406, 0x00070406);
  }

  function loadMmuPgd(vcpu: KvmVcpuX86, root: number, _level: number): void {
    const s = svm(vcpu);
    s.silicon.vmcb.setNum(CTL.N_CR3, root);
    s.loadedRoot = root;
    flushTlb(vcpu);
  }

  function flushTlb(vcpu: KvmVcpuX86): void {
    const s = svm(vcpu);
    s.silicon.vmcb.setU8(CTL.TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
    s.cpu.flushTlb();
  }

  function setSegment(vcpu: KvmVcpuX86, seg: number, sv: KvmSegment): void {
    const v = svm(vcpu).silicon.vmcb;
    const off = SVM_SEG_OFFSETS[seg]!;
    const base = BigInt.asUintN(64, sv.base);
    v.setU16(off, sv.selector);
    v.setU16(off + 2, svmSegmentAttrib(sv));
    v.setU32(off + 4, sv.limit);
    v.setU64(off + 8, Number(base & 0xffffffffn), Number(base >> 32n));
    // svm_set_segment: the CPL is SS.DPL (the VMCB keeps it separately).
    if (seg === 2) v.setU8(SAVE.CPL, sv.dpl & 3);
  }

  function getSegment(vcpu: KvmVcpuX86, seg: number): KvmSegment {
    const v = svm(vcpu).silicon.vmcb;
    const off = SVM_SEG_OFFSETS[seg]!;
    const a = v.u16(off + 2);
    const present = (a >>> 7) & 1;
    return {
      base: v.big(off + 8), limit: v.u32(off + 4), selector: v.u16(off),
      type: a & 15, s: (a >>> 4) & 1, dpl: (a >>> 5) & 3, present, avl: (a >>> 8) & 1, l: (a >>> 9) & 1,
      db: (a >>> 10) & 1, g: (a >>> 11) & 1, unusable: present ? 0 : 1,
    };
  }

  function setEfer(vcpu: KvmVcpuX86, efer: number): void {
    // EFER.SVME must be set while the guest runs; the guest does not see it (svm_set_efer).
    svm(vcpu).silicon.vmcb.setU64(SAVE.EFER, efer | EFER_SVME, 0);
  }

  function setCr0(vcpu: KvmVcpuX86, cr0: number): void {
    const s = svm(vcpu);
    s.updateLongModeActive(vcpu, cr0);
    s.silicon.vmcb.setU64(SAVE.CR0, cr0, 0);
  }

  function setCr4(vcpu: KvmVcpuX86, cr4: number): void {
    svm(vcpu).silicon.vmcb.setU64(SAVE.CR4, cr4, 0);
  }

  function skipEmulatedInstruction(vcpu: KvmVcpuX86): boolean {
    const v = svm(vcpu).silicon.vmcb;
    // Signed: an upper-half next RIP (0xffffffff8...) must stay exact (unsigned it exceeds 2^53).
    const nrip = v.numSigned(CTL.NRIP);
    if (nrip === 0) return false;
    v.setNum(SAVE.RIP, nrip);
    vcpu.regs[2 * RIP] = v.u32(SAVE.RIP) | 0;
    vcpu.regs[2 * RIP + 1] = v.hi32(SAVE.RIP) | 0;
    vcpu.regsDirty &= ~(1 << RIP);
    v.setU32(CTL.INT_STATE, v.u32(CTL.INT_STATE) & ~SVM_INTERRUPT_SHADOW_MASK);
    return true;
  }

  function exitInfo(vcpu: KvmVcpuX86): X86ExitInfo {
    const v = svm(vcpu).silicon.vmcb;
    const code = v.u32(CTL.EXITCODE) | 0;
    const name = svmExitName(code);
    return {
      kind: 'svm',
      reason: code,
      reasonName: name !== undefined ? `SVM_EXIT_${name}` : `SVM_EXIT_0x${(code >>> 0).toString(16)}`,
      info1: v.big(CTL.EXITINFO1),
      info2: v.big(CTL.EXITINFO2),
      intrInfo: v.u32(CTL.EXITINTINFO),
      errorCode: v.u32(CTL.EXITINTINFO_ERR),
    };
  }

  /** svm_complete_interrupts: EXITINTINFO's event goes back in the queue. */
  function completeInterrupts(vcpu: KvmVcpuX86, s: VcpuSvm): void {
    const v = s.silicon.vmcb;
    const info = v.u32(CTL.EXITINTINFO);
    if (!(info & 0x80000000)) return;
    const vector = info & 0xff;
    const type = (info >>> 8) & 7;
    if (type === 0) vcpu.interruptNr = vector;
    else if (type === 2) { vcpu.nmiPending++; s.silicon.nmiMasked = false; }
    else if (type === 3 && vcpu.exception === null) kvmQueueException(vcpu, vector, info & 0x800 ? v.u32(CTL.EXITINTINFO_ERR) : undefined);
  }

  function handleExit(vcpu: KvmVcpuX86): number {
    const s = svm(vcpu);
    const sil = s.silicon;
    const v = sil.vmcb;
    const run = vcpu.ctx.kvmRun;
    const code = v.u32(CTL.EXITCODE) | 0;
    if (sil.runResult === SVM_RUN_INVALID || code === SVM_EXIT.ERR) {
      run.exitReason = uapi.KVM_EXIT_FAIL_ENTRY;
      run.failEntry.hardwareEntryFailureReason = v.big(CTL.EXITCODE);
      run.failEntry.cpu = vcpu.vcpuId;
      return 0;
    }
    completeInterrupts(vcpu, s);
    if (s.engineInternalError(vcpu)) return 0;
    if (code >= SVM_EXIT.EXCP_BASE && code <= SVM_EXIT.LAST_EXCP) {
      const vector = code - SVM_EXIT.EXCP_BASE;
      if (vector === 18) return 1;
      // A guest built for Intel executes VMCALL: rewrite it to VMMCALL and retry.
      if (vector === 6) return kvmHandleUd(vcpu);
      const hasCode = vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
      kvmQueueException(vcpu, vector, hasCode ? v.u32(CTL.EXITINFO1) : undefined, vector === 14 ? v.numSigned(CTL.EXITINFO2) : undefined);
      return 1;
    }
    switch (code) {
      case SVM_EXIT.INTR:
      case SVM_EXIT.NMI:
      case SVM_EXIT.SMI:
        return 1;
      case SVM_EXIT.VINTR:
        v.setU32(CTL.INT_CTL, v.u32(CTL.INT_CTL) & ~V_IRQ_MASK);
        v.setIntercept(INTERCEPT.VINTR, false);
        return kvmHandleInterruptWindow(vcpu);
      case SVM_EXIT.IRET:
        sil.nmiWindow = false;
        return 1;
      case SVM_EXIT.CPUID: return kvmEmulateCpuid(vcpu, false);
      case SVM_EXIT.HLT: return kvmEmulateHalt(vcpu);
      case SVM_EXIT.INVD:
      case SVM_EXIT.WBINVD:
      case SVM_EXIT.PAUSE:
      case SVM_EXIT.MONITOR:
      case SVM_EXIT.MWAIT:
        return kvmEmulateAsNop(vcpu);
      case SVM_EXIT.INVLPG: return kvmHandleInvlpg(vcpu, v.numSigned(CTL.EXITINFO1));
      case SVM_EXIT.RDPMC: return kvmInjectGp(vcpu);
      case SVM_EXIT.RDTSC: return kvmEmulateRdtsc(vcpu, false);
      case SVM_EXIT.RDTSCP: return kvmEmulateRdtsc(vcpu, true);
      case SVM_EXIT.VMMCALL: return kvmEmulateHypercall(vcpu);
      case SVM_EXIT.VMRUN: case SVM_EXIT.VMLOAD: case SVM_EXIT.VMSAVE: case SVM_EXIT.STGI: case SVM_EXIT.CLGI:
      case SVM_EXIT.SKINIT:
        // nested=0: SVM instructions are #UD for the guest.
        return kvmInjectUd(vcpu);
      case SVM_EXIT.MSR: return v.u32(CTL.EXITINFO1) ? kvmEmulateWrmsr(vcpu) : kvmEmulateRdmsr(vcpu);
      case SVM_EXIT.IOIO: {
        const i1 = v.u32(CTL.EXITINFO1);
        return kvmHandleIo(vcpu, (i1 & 1) !== 0, i1 >>> 16, i1 & 0x10 ? 1 : i1 & 0x20 ? 2 : 4, (i1 & 4) !== 0);
      }
      case SVM_EXIT.XSETBV:
        return kvmEmulateInstruction(vcpu);
      case SVM_EXIT.SHUTDOWN:
        run.exitReason = uapi.KVM_EXIT_SHUTDOWN;
        return 0;
      case SVM_EXIT.NPF: {
        const mmu = sil.mmu;
        const gpa = v.num(CTL.EXITINFO2);
        const err = v.u32(CTL.EXITINFO1);
        if (mmu === null || (err & 8)) {
          // RSVD: an MMIO SPTE (or, without NPT, an unbacked gpa): emulate the access.
          if (mmu === null || mmu.isMmioSpte(gpa)) return kvmEmulateInstruction(vcpu);
          return kvmPrepareUnexpectedReasonExit(vcpu, code);
        }
        return kvmMmuPageFault(vcpu, mmu, gpa, (err & 2) !== 0);
      }
      default:
        if (code >= SVM_EXIT.READ_CR0 && code <= SVM_EXIT.WRITE_CR8 + 0) {
          const write = code >= SVM_EXIT.WRITE_CR0;
          const cr = code & 15;
          const i1hi = v.hi32(CTL.EXITINFO1);
          if (!(i1hi & 0x80000000)) return kvmEmulateInstruction(vcpu); // CLTS/LMSW: no decode assist
          const lma = (vcpu.efer & EFER_LMA) !== 0;
          return kvmHandleCrAccess(vcpu, cr, write ? 0 : 1, v.u32(CTL.EXITINFO1) & 15, 0, lma);
        }
        return kvmPrepareUnexpectedReasonExit(vcpu, code);
    }
  }

  const ops: KvmX86Ops = {
    name: 'kvm-amd',
    vmInit(kvm: KvmX86Vm) {
      const k: KvmSvm = { mmu: npt ? new TdpMmu(kvm.vm.memslots, NPT_TDP_FORMAT) : null, nextAsid: 0 };
      kvm.vendor = k;
    },
    vcpuCreate(vcpu) {
      new VcpuSvm(vcpu, npt, (vcpu.kvm.vendor as KvmSvm).mmu);
    },
    vcpuFree(vcpu) {
      vcpu.vendor = undefined;
    },
    vcpuReset(vcpu, initEvent) {
      const s = svm(vcpu);
      initVmcb(vcpu, s);
      s.cpu.reset();
      s.silicon.nmiMasked = false;
      s.silicon.nmiWindow = false;
      const v = s.silicon.vmcb;
      const seg = (i: number, sel: number, base: number, attrib: number) => {
        const off = SVM_SEG_OFFSETS[i]!;
        v.setU16(off, sel);
        v.setU16(off + 2, attrib);
        v.setU32(off + 4, 0xffff);
        v.setU64(off + 8, base, 0);
      };
      seg(1, 0xf000, 0xffff0000, 0x9b);
      for (const i of [0, 2, 3, 4, 5]) seg(i, 0, 0, 0x93);
      seg(6, 0, 0, 0x8b);
      seg(7, 0, 0, 0x82);
      v.setU32(SAVE.GDTR + 4, 0xffff);
      v.setU32(SAVE.IDTR + 4, 0xffff);
      v.setU64(SAVE.RFLAGS, 2, 0);
      v.setU64(SAVE.RIP, 0xfff0, 0);
      v.setU64(SAVE.DR7, 0x400, 0);
      v.setU64(SAVE.DR6, 0xffff0ff0, 0);
      s.resetRegs(vcpu, initEvent);
    },
    getMsr(vcpu, index) {
      const s = svm(vcpu);
      const v = s.silicon.vmcb;
      switch (index >>> 0) {
        case 0xc0000100: return v.big(SAVE.FS + 8);
        case 0xc0000101: return v.big(SAVE.GS + 8);
        case 0xc0000102: return v.big(SAVE.KERNEL_GS_BASE);
        case 0xc0000081: return v.big(SAVE.STAR);
        case 0xc0000082: return v.big(SAVE.LSTAR);
        case 0xc0000083: return v.big(SAVE.CSTAR);
        case 0xc0000084: return v.big(SAVE.SFMASK);
        case 0x174: return v.big(SAVE.SYSENTER_CS);
        case 0x175: return v.big(SAVE.SYSENTER_ESP);
        case 0x176: return v.big(SAVE.SYSENTER_EIP);
        case 0x277: return v.big(SAVE.G_PAT);
      }
      if (kvmMsrIsCommon(index)) return undefined;
      return s.engineGetMsr(index);
    },
    setMsr(vcpu, index, data) {
      const s = svm(vcpu);
      const v = s.silicon.vmcb;
      const canonical = (x: bigint) => BigInt.asIntN(48, x) === BigInt.asIntN(64, x);
      switch (index >>> 0) {
        case 0xc0000100: case 0xc0000101: case 0xc0000102: case 0xc0000082: case 0xc0000083: case 0x175: case 0x176: {
          if (!canonical(data)) return false;
          const off = { 0xc0000100: SAVE.FS + 8, 0xc0000101: SAVE.GS + 8, 0xc0000102: SAVE.KERNEL_GS_BASE, 0xc0000082: SAVE.LSTAR,
            0xc0000083: SAVE.CSTAR, 0x175: SAVE.SYSENTER_ESP, 0x176: SAVE.SYSENTER_EIP }[index >>> 0]!;
          v.setBig(off, data);
          return true;
        }
        case 0xc0000081: v.setBig(SAVE.STAR, data); return true;
        case 0xc0000084: v.setBig(SAVE.SFMASK, data & 0xffffffffn); return true;
        case 0x174: v.setBig(SAVE.SYSENTER_CS, data & 0xffffn); return true;
        case 0x277: v.setBig(SAVE.G_PAT, data); return true;
      }
      if (kvmMsrIsCommon(index)) return false;
      return s.engineSetMsr(index, data);
    },
    getSegmentBase: (vcpu, seg) => getSegment(vcpu, seg).base,
    getSegment,
    getCpl: (vcpu) => svm(vcpu).silicon.vmcb.u8(SAVE.CPL),
    setSegment,
    setCr0,
    // No VMXE on AMD; SVM_CR4_SUPPORTED is what the silicon accepts.
    isValidCr4: (_vcpu, cr4) => (cr4 & (1 << 13)) === 0,
    setCr4,
    postSetCr3(vcpu, cr3) {
      svm(vcpu).silicon.vmcb.setNum(SAVE.CR3, cr3);
    },
    setEfer,
    getIdt: (vcpu) => dtable(vcpu, SAVE.IDTR),
    setIdt: (vcpu, dt) => setDtable(vcpu, SAVE.IDTR, dt),
    getGdt: (vcpu) => dtable(vcpu, SAVE.GDTR),
    setGdt: (vcpu, dt) => setDtable(vcpu, SAVE.GDTR, dt),
    setDr7(vcpu, value) {
      svm(vcpu).silicon.vmcb.setBig(SAVE.DR7, value);
    },
    cacheReg(vcpu, reg) {
      const v = svm(vcpu).silicon.vmcb;
      if (reg === RIP) { vcpu.regs[2 * RIP] = v.u32(SAVE.RIP) | 0; vcpu.regs[2 * RIP + 1] = v.hi32(SAVE.RIP) | 0; }
      else if (reg === RSP) { vcpu.regs[2 * RSP] = v.u32(SAVE.RSP) | 0; vcpu.regs[2 * RSP + 1] = v.hi32(SAVE.RSP) | 0; }
      vcpu.regsAvail |= 1 << reg;
    },
    getRflags: (vcpu) => svm(vcpu).silicon.vmcb.u32(SAVE.RFLAGS),
    setRflags(vcpu, rflags) {
      svm(vcpu).silicon.vmcb.setU64(SAVE.RFLAGS, rflags | 2, 0);
    },
    flushTlbAll: flushTlb,
    flushTlbCurrent: flushTlb,
    flushTlbGva: (vcpu, gva) => svm(vcpu).cpu.flushTlbPage(gva),
    flushTlbGuest: flushTlb,
    vcpuRun: (vcpu) => svm(vcpu).vcpuRun(vcpu),
    handleExit,
    skipEmulatedInstruction,
    setInterruptShadow(vcpu, mask) {
      const v = svm(vcpu).silicon.vmcb;
      v.setU32(CTL.INT_STATE, (v.u32(CTL.INT_STATE) & ~SVM_INTERRUPT_SHADOW_MASK) | (mask ? SVM_INTERRUPT_SHADOW_MASK : 0));
    },
    // SVM does not say which shadow it is: KVM reports it as the STI shadow.
    getInterruptShadow: (vcpu) => (svm(vcpu).silicon.vmcb.u32(CTL.INT_STATE) & SVM_INTERRUPT_SHADOW_MASK ? 2 : 0),
    patchHypercall: () => Uint8Array.from(VMMCALL_BYTES),
    injectIrq(vcpu) {
      const v = svm(vcpu).silicon.vmcb;
      v.setU32(CTL.EVENTINJ, (0x80000000 | (vcpu.interruptNr & 0xff)) >>> 0);
      vcpu.interruptNr = -1;
    },
    injectNmi(vcpu) {
      const s = svm(vcpu);
      s.silicon.vmcb.setU32(CTL.EVENTINJ, (0x80000000 | (2 << 8) | 2) >>> 0);
      s.silicon.nmiMasked = true;
    },
    injectException(vcpu) {
      const ex = vcpu.exception;
      if (ex === null) return;
      const v = svm(vcpu).silicon.vmcb;
      if (ex.vector === 14 && ex.hasPayload) { vcpu.cr2 = ex.payload; v.setNum(SAVE.CR2, ex.payload); }
      const withCode = ex.hasErrorCode && (v.u32(SAVE.CR0) & 1) !== 0;
      v.setU32(CTL.EVENTINJ, (0x80000000 | (3 << 8) | (withCode ? 0x800 : 0) | (ex.vector & 0xff)) >>> 0);
      if (withCode) v.setU32(CTL.EVENTINJ_ERR, ex.errorCode);
    },
    cancelInjection(vcpu) {
      svm(vcpu).silicon.vmcb.setU32(CTL.EVENTINJ, 0);
    },
    interruptAllowed(vcpu) {
      const v = svm(vcpu).silicon.vmcb;
      return (v.u32(SAVE.RFLAGS) & 0x200) !== 0 && !(v.u32(CTL.INT_STATE) & SVM_INTERRUPT_SHADOW_MASK) &&
        !(v.u32(CTL.EVENTINJ) & 0x80000000);
    },
    nmiAllowed(vcpu) {
      const s = svm(vcpu);
      const v = s.silicon.vmcb;
      return !s.silicon.nmiMasked && !(v.u32(CTL.INT_STATE) & SVM_INTERRUPT_SHADOW_MASK) && !(v.u32(CTL.EVENTINJ) & 0x80000000);
    },
    getNmiMask: (vcpu) => svm(vcpu).silicon.nmiMasked,
    setNmiMask(vcpu, masked) {
      svm(vcpu).silicon.nmiMasked = masked;
    },
    enableNmiWindow(vcpu) {
      svm(vcpu).silicon.nmiWindow = true;
    },
    enableIrqWindow(vcpu) {
      // svm_set_vintr: a virtual interrupt request makes the CPU exit when it could take it.
      const v = svm(vcpu).silicon.vmcb;
      v.setU32(CTL.INT_CTL, v.u32(CTL.INT_CTL) | V_IRQ_MASK);
      v.setIntercept(INTERCEPT.VINTR, true);
    },
    loadMmuPgd,
    writeTscOffset(vcpu, offset) {
      svm(vcpu).silicon.vmcb.setBig(CTL.TSC_OFFSET, offset);
    },
    getExitInfo: exitInfo,
    dumpState: (vcpu) => dumpVmcb(vcpu),
  };

  function dtable(vcpu: KvmVcpuX86, off: number): KvmDtable {
    const v = svm(vcpu).silicon.vmcb;
    return { base: v.big(off + 8), limit: v.u32(off + 4) & 0xffff };
  }

  function setDtable(vcpu: KvmVcpuX86, off: number, dt: KvmDtable): void {
    const v = svm(vcpu).silicon.vmcb;
    v.setBig(off + 8, dt.base);
    v.setU32(off + 4, dt.limit & 0xffff);
  }

  return ops;
}

const DUMP_CONTROL: readonly [string, number][] = Object.entries(CTL);
const DUMP_SAVE: readonly [string, number][] = Object.entries(SAVE);

/** dump_vmcb: the control area and the state-save area, non-zero fields by name. */
export function dumpVmcb(vcpu: KvmVcpuX86): string {
  const s = vcpu.vendor as VcpuSvm;
  if (s === undefined) throw new KvmError('EBADF', 'the vCPU has no VMCB');
  const v = s.silicon.vmcb;
  const code = v.u32(CTL.EXITCODE) | 0;
  const lines = [`*** VMCB vcpu ${vcpu.vcpuId} ***`, `last exit: ${svmExitName(code) ?? code}${s.silicon.failure ? ` — ${s.silicon.failure}` : ''}`, 'Control area:'];
  for (const [name, off] of DUMP_CONTROL) {
    const lo = v.u32(off);
    const hi = off + 8 <= 0x400 ? v.hi32(off) : 0;
    if (lo || hi) lines.push(`  ${name.toLowerCase()} = 0x${hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16)}`);
  }
  lines.push('Save area:');
  for (const [name, off] of DUMP_SAVE) {
    const lo = v.u32(off);
    const hi = v.hi32(off);
    if (lo || hi) lines.push(`  ${name.toLowerCase()} = 0x${hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16)}`);
  }
  return lines.join('\n');
}

void SVM_RUN_OK;
