/**
 * A fake vendor whose KVM_RUN returns scripted exits: each step fills the vCPU's kvm_run
 * the way a real handler would (through the public KvmRun), and may check what userspace
 * left in it (the IN data, the MMIO read data) when the next run starts.
 */
import {
  defineModule, kvmX86VendorExit, kvmX86VendorInit, uapi, x86Regs, type KvmRun, type KvmSegment, type KvmX86Ops,
} from '@kvmts/kvm-core';
import { z } from 'zod';

export type ScriptStep = (run: KvmRun) => void;

export function scriptedVendorModule(script: ScriptStep[], seen: { mpState: number }[] = []) {
  const name = 'kvm-scripted';
  const seg = (): KvmSegment => ({ base: 0n, limit: 0xffff, selector: 0, type: 3, present: 1, dpl: 0, db: 0, s: 1, l: 0, g: 0, avl: 0, unusable: 0 });
  const ops: KvmX86Ops = {
    name,
    vcpuCreate(v) { v.vendor = { segs: Array.from({ length: 8 }, seg) }; v.regsAvail = (1 << x86Regs.NR_VCPU_REGS) - 1; },
    vcpuFree() {}, vcpuReset() {},
    getMsr: () => undefined, setMsr: () => false,
    getSegmentBase: () => 0n,
    getSegment: (v, s) => ({ ...(v.vendor as { segs: KvmSegment[] }).segs[s]! }),
    getCpl: () => 0,
    setSegment(v, s, value) { (v.vendor as { segs: KvmSegment[] }).segs[s] = { ...value }; },
    setCr0() {}, setCr4() {}, setEfer() {},
    getIdt: () => ({ base: 0n, limit: 0 }), setIdt() {}, getGdt: () => ({ base: 0n, limit: 0 }), setGdt() {},
    cacheReg() {}, getRflags: () => 2, setRflags() {},
    flushTlbAll() {}, flushTlbCurrent() {}, flushTlbGva() {},
    vcpuRun: () => 0,
    handleExit(v) {
      const step = script.shift();
      seen.push({ mpState: v.mpState });
      if (step === undefined) {
        v.ctx.kvmRun.exitReason = uapi.KVM_EXIT_INTERNAL_ERROR;
        v.ctx.kvmRun.setInternalError(uapi.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, [0xdeadn]);
        return 0;
      }
      step(v.ctx.kvmRun);
      const halt = (v.ctx.kvmRun as unknown as { halt?: boolean }).halt;
      if (v.ctx.kvmRun.exitReason === uapi.KVM_EXIT_INTR && halt) {
        // Halted in the kernel; a PV unhalt (KVM_HC_KICK_CPU from another vCPU) wakes it
        // a moment later, after the VMM's loop has seen it blocked and slept.
        (v.ctx.kvmRun as unknown as { halt?: boolean }).halt = false;
        v.mpState = uapi.KVM_MP_STATE_HALTED;
        const apic = v.apic;
        if (apic !== null) setTimeout(() => { apic.pvUnhalted = true; }, 2);
      }
      return 0;
    },
    skipEmulatedInstruction: () => true,
    setInterruptShadow() {}, getInterruptShadow: () => 0,
    patchHypercall: () => Uint8Array.of(0x0f, 0x01, 0xc1),
    injectIrq() {}, injectNmi() {}, injectException() {},
    interruptAllowed: () => false, nmiAllowed: () => true, getNmiMask: () => false, setNmiMask() {},
    enableNmiWindow() {}, enableIrqWindow() {}, loadMmuPgd() {},
    getExitInfo: () => ({ kind: 'scripted', reason: 0, reasonName: 'scripted', info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 }),
  };
  return defineModule({
    name,
    paramsSchema: z.object({}).strict(),
    init(host) {
      kvmX86VendorInit(host, name, ops, { supportedCpuid: () => [{ function: 0, index: 0, flags: 0, eax: 1, ebx: 0, ecx: 0, edx: 0 }], msrIndexList: () => [] });
    },
    exit(host) { kvmX86VendorExit(host); },
  });
}

/** Step helpers: fill kvm_run as KVM does for each exit. */
export const exits = {
  out(port: number, bytes: number[], size = bytes.length, count = 1): ScriptStep {
    return (run) => {
      run.exitReason = uapi.KVM_EXIT_IO;
      run.setIo(uapi.KVM_EXIT_IO_OUT, size, port, count).set(bytes);
    };
  },
  in(port: number, size: number, count = 1): ScriptStep {
    return (run) => {
      run.exitReason = uapi.KVM_EXIT_IO;
      run.setIo(uapi.KVM_EXIT_IO_IN, size, port, count).fill(0);
    };
  },
  mmio(addr: number, len: number, isWrite: boolean, value = 0): ScriptStep {
    return (run) => {
      run.exitReason = uapi.KVM_EXIT_MMIO;
      run.mmio.physAddr = addr;
      run.mmio.len = len;
      run.mmio.isWrite = isWrite ? 1 : 0;
      for (let i = 0; i < 8; i++) run.mmio.data[i] = isWrite ? (value >>> (8 * i)) & 0xff : 0;
    };
  },
  reason(r: number): ScriptStep {
    return (run) => { run.exitReason = r; };
  },
  systemEvent(type: number): ScriptStep {
    return (run) => { run.exitReason = uapi.KVM_EXIT_SYSTEM_EVENT; run.setSystemEvent(type); };
  },
  failEntry(code: bigint): ScriptStep {
    return (run) => { run.exitReason = uapi.KVM_EXIT_FAIL_ENTRY; run.failEntry.hardwareEntryFailureReason = code; };
  },
  /** Slice end with the vCPU halted in the kernel (in-kernel irqchip). */
  haltedIntr(): ScriptStep {
    return (run) => { run.exitReason = uapi.KVM_EXIT_INTR; (run as unknown as { halt?: boolean }).halt = true; };
  },
  /** Check what userspace left in kvm_run for the previous exit. */
  check(fn: (run: KvmRun) => void, then: ScriptStep): ScriptStep {
    return (run) => { fn(run); then(run); };
  },
};
