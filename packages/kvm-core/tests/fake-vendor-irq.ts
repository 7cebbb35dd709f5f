/**
 * A copy of the fake vendor extended for the irqchip tests. It runs a few more one-byte
 * instructions and behaves like a vendor on top of the engine:
 *   90 NOP   FA CLI   FB STI   EB rel8 JMP   F4 HLT   E6/E4 OUT/IN imm8   B0 MOV AL,imm8
 *   0F 01 C1 VMCALL (kvmEmulateHypercall)
 * - each instruction advances the VM clock by one instruction (the virtual clock),
 * - vcpuRun keeps executing until an exit or until vcpu.runDeadlineNs (as an engine
 *   with a preemption-timer-like deadline does),
 * - injectIrq "delivers" the vector: it logs (vector, VM-clock ns), clears
 *   interruptNr and runs a handler that EOIs the way a guest does (OUT 0x20 for the
 *   PIC's vectors 0x20-0x2f, a write to the LAPIC EOI register otherwise).
 */
import {
  defineModule, kvmEmulateHalt, kvmEmulateHypercall, kvmFastPio, kvmVcpuMmioWrite, kvmX86VendorExit,
  kvmX86VendorInit, paramBool, uapi, x86Regs, type KvmSegment, type KvmVcpuX86, type KvmX86Ops,
} from '@kvmts/kvm-core';
import { z } from 'zod';
import { fakeOps } from './fake-vendor';

export interface Injected {
  vcpu: number;
  vector: number;
  ns: number;
}

interface IrqFakeState {
  rflags: number;
  segments: KvmSegment[];
  lastLen: number;
  exit: { kind: 'io'; port: number; isIn: boolean } | { kind: 'hlt' } | { kind: 'vmcall' } | { kind: 'bad'; byte: number } | { kind: 'none' };
  /** An interrupt-window exit was requested (enableIrqWindow). */
  irqWindow: boolean;
}

const RIP = 2 * x86Regs.VCPU_REGS_RIP;

function readGuest(vcpu: KvmVcpuX86, gpa: number): number {
  const slot = vcpu.ctx.vm.memslots.find(gpa);
  return slot ? slot.hva[gpa - slot.guestPhysAddr]! : -1;
}

export function fakeIrqOps(name: string, injected: Injected[]): KvmX86Ops {
  const base = fakeOps(name);
  const st = (v: KvmVcpuX86) => v.vendor as IrqFakeState;
  const eoiBuf = new Uint8Array(4);
  return {
    ...base,
    vcpuCreate(vcpu) {
      base.vcpuCreate(vcpu);
      const s = vcpu.vendor as IrqFakeState;
      s.exit = { kind: 'none' };
      s.irqWindow = false;
    },
    enableIrqWindow(v) { st(v).irqWindow = true; },
    // No vendor MSRs: everything goes to kvm_get/set_msr_common.
    getMsr: () => undefined,
    setMsr: () => false,
    getCpl: (v) => st(v).segments[1]!.dpl,
    getSegment: (v, seg) => ({ ...st(v).segments[seg]! }),
    setSegment(v, seg, value) { st(v).segments[seg] = { ...value }; },
    vcpuRun(vcpu) {
      const s = st(vcpu);
      const r = vcpu.regs;
      const clock = vcpu.kvm.clock;
      for (;;) {
        // Real-mode style fetch: CS.base + IP.
        const rip = (r[RIP]! >>> 0) + Number(s.segments[1]!.base);
        const op = readGuest(vcpu, rip);
        clock.advanceInstructions(1);
        switch (op) {
          case 0x90:
            r[RIP] = r[RIP]! + 1;
            break;
          case 0xfa:
            s.rflags &= ~0x200;
            r[RIP] = r[RIP]! + 1;
            break;
          case 0xfb:
            s.rflags |= 0x200;
            r[RIP] = r[RIP]! + 1;
            break;
          case 0xeb:
            r[RIP] = r[RIP]! + 2 + ((readGuest(vcpu, rip + 1) << 24) >> 24);
            break;
          case 0xb0:
            r[0] = (r[0]! & ~0xff) | readGuest(vcpu, rip + 1);
            r[RIP] = r[RIP]! + 2;
            break;
          case 0xe6:
          case 0xe4:
            s.lastLen = 2;
            s.exit = { kind: 'io', port: readGuest(vcpu, rip + 1), isIn: op === 0xe4 };
            return 0;
          case 0xf4:
            s.lastLen = 1;
            s.exit = { kind: 'hlt' };
            return 0;
          case 0x0f:
            if (readGuest(vcpu, rip + 1) === 0x01 && readGuest(vcpu, rip + 2) === 0xc1) {
              s.lastLen = 3;
              s.exit = { kind: 'vmcall' };
              return 0;
            }
            s.exit = { kind: 'bad', byte: op };
            return 0;
          default:
            s.exit = { kind: 'bad', byte: op };
            return 0;
        }
        // An interrupt-window exit once IF is set, or an external-interrupt-like exit at
        // the deadline: either way the run loop checks timers and injects.
        if ((s.irqWindow && s.rflags & 0x200) || clock.nowNs() >= vcpu.runDeadlineNs) {
          s.irqWindow = false;
          s.exit = { kind: 'none' };
          return 0;
        }
      }
    },
    handleExit(vcpu) {
      const e = st(vcpu).exit;
      st(vcpu).exit = { kind: 'none' };
      switch (e.kind) {
        case 'none': return 1;
        case 'io': return kvmFastPio(vcpu, 1, e.port, e.isIn, vcpu.regs[0]! & 0xff);
        case 'hlt': return kvmEmulateHalt(vcpu);
        case 'vmcall': return kvmEmulateHypercall(vcpu);
        case 'bad':
          vcpu.ctx.kvmRun.exitReason = uapi.KVM_EXIT_INTERNAL_ERROR;
          vcpu.ctx.kvmRun.setInternalError(uapi.KVM_INTERNAL_ERROR_EMULATION, [BigInt(e.byte)]);
          return 0;
      }
    },
    skipEmulatedInstruction(vcpu) {
      vcpu.regs[RIP] = (vcpu.regs[RIP]! + st(vcpu).lastLen) | 0;
      return true;
    },
    getRflags: (v) => st(v).rflags,
    setRflags(v, f) { st(v).rflags = f; },
    interruptAllowed: (v) => (st(v).rflags & 0x200) !== 0,
    injectIrq(vcpu) {
      const vector = vcpu.interruptNr;
      vcpu.interruptNr = -1;
      injected.push({ vcpu: vcpu.vcpuId, vector, ns: vcpu.kvm.clock.nowNs() });
      // The guest's handler: acknowledge at the controller that raised it.
      if (vector >= 0x20 && vector < 0x30) {
        eoiBuf[0] = 0x20;
        if (vector >= 0x28) vcpu.kvm.pioBus.write(0xa0, 1, eoiBuf, vcpu);
        vcpu.kvm.pioBus.write(0x20, 1, eoiBuf, vcpu);
      } else if (vcpu.apic !== null) {
        eoiBuf[0] = 0;
        kvmVcpuMmioWrite(vcpu, vcpu.apic.baseAddress + 0xb0, 4, eoiBuf);
      }
    },
  };
}

export function fakeIrqVendorModule(injected: Injected[], name = 'kvm-fake-irq') {
  return defineModule({
    name,
    paramsSchema: z.object({ verbose: paramBool(false) }).strict(),
    init(host) {
      kvmX86VendorInit(host, name, fakeIrqOps(name, injected), {
        supportedCpuid: () => [],
        msrIndexList: () => [],
      });
    },
    exit(host) {
      kvmX86VendorExit(host);
    },
  });
}
