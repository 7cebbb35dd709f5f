/**
 * A fake x86 vendor for kvm-core's unit tests: registered through the same module API
 * and KvmX86Ops as kvm-intel and kvm-amd, it "executes" a handful of one-byte-opcode
 * instructions straight from guest memory so that run() produces real exits:
 *   B0 ib  MOV AL, imm8      E6 ib  OUT imm8, AL      E4 ib  IN AL, imm8
 *   A2 d32 MOV [d32], AL     F4     HLT               anything else: internal error
 */
import {
  defineModule, kvmEmulateHalt, kvmFastPio, kvmX86VendorExit, kvmX86VendorInit, paramBool,
  uapi, x86Regs, type KvmDtable, type KvmSegment, type KvmVcpuX86, type KvmX86Ops,
} from '@kvmts/kvm-core';
import { z } from 'zod';

interface FakeVcpuState {
  rflags: number;
  segments: KvmSegment[];
  gdt: KvmDtable;
  idt: KvmDtable;
  lastLen: number;
  exit: { kind: 'io'; port: number; isIn: boolean } | { kind: 'hlt' } | { kind: 'bad'; byte: number } | { kind: 'none' };
  shadow: number;
}

const st = (v: KvmVcpuX86) => v.vendor as FakeVcpuState;

function readGuest(vcpu: KvmVcpuX86, gpa: number): number {
  const slot = vcpu.ctx.vm.memslots.find(gpa);
  if (!slot) return -1;
  return slot.hva[gpa - slot.guestPhysAddr]!;
}

const resetSegment = (selector = 0): KvmSegment => ({
  base: 0n, limit: 0xffff, selector, type: 3, present: 1, dpl: 0, db: 0, s: 1, l: 0, g: 0, avl: 0, unusable: 0,
});

export function fakeOps(name: string, calls: string[] = []): KvmX86Ops {
  return {
    name,
    vcpuCreate(vcpu) {
      calls.push('vcpuCreate');
      vcpu.vendor = {
        rflags: 2, segments: Array.from({ length: 8 }, () => resetSegment()),
        gdt: { base: 0n, limit: 0xffff }, idt: { base: 0n, limit: 0xffff },
        lastLen: 0, exit: { kind: 'none' }, shadow: 0,
      } satisfies FakeVcpuState;
      vcpu.regsAvail = (1 << x86Regs.NR_VCPU_REGS) - 1;
    },
    vcpuFree() { calls.push('vcpuFree'); },
    vcpuReset() { calls.push('vcpuReset'); },
    getMsr: (_v, index) => (index === 0x10 ? 1234n : undefined),
    setMsr: (_v, index) => index === 0x10,
    getSegmentBase: (v, seg) => st(v).segments[seg]!.base,
    getSegment: (v, seg) => ({ ...st(v).segments[seg]! }),
    getCpl: () => 0,
    setSegment(v, seg, value) { st(v).segments[seg] = { ...value }; },
    setCr0() {},
    setCr4() {},
    setEfer() {},
    getIdt: (v) => ({ ...st(v).idt }),
    setIdt(v, dt) { st(v).idt = { ...dt }; },
    getGdt: (v) => ({ ...st(v).gdt }),
    setGdt(v, dt) { st(v).gdt = { ...dt }; },
    cacheReg() {},
    getRflags: (v) => st(v).rflags,
    setRflags(v, f) { st(v).rflags = f; },
    flushTlbAll() {},
    flushTlbCurrent() {},
    flushTlbGva() {},
    vcpuRun(vcpu) {
      const s = st(vcpu);
      const r = vcpu.regs;
      const rip = r[2 * x86Regs.VCPU_REGS_RIP]! >>> 0;
      const op = readGuest(vcpu, rip);
      const imm = readGuest(vcpu, rip + 1);
      switch (op) {
        case 0xb0:
          r[0] = (r[0]! & ~0xff) | imm;
          r[2 * x86Regs.VCPU_REGS_RIP] = rip + 2;
          s.exit = { kind: 'none' };
          break;
        case 0xe6:
        case 0xe4:
          s.lastLen = 2;
          s.exit = { kind: 'io', port: imm, isIn: op === 0xe4 };
          break;
        case 0xa2: {
          const addr = imm | (readGuest(vcpu, rip + 2) << 8) | (readGuest(vcpu, rip + 3) << 16) | (readGuest(vcpu, rip + 4) << 24);
          const slot = vcpu.ctx.vm.memslots.find(addr >>> 0)!;
          slot.hva[(addr >>> 0) - slot.guestPhysAddr] = r[0]! & 0xff;
          vcpu.ctx.vm.memslots.markDirty(addr >>> 0);
          r[2 * x86Regs.VCPU_REGS_RIP] = rip + 5;
          s.exit = { kind: 'none' };
          break;
        }
        case 0xf4:
          s.lastLen = 1;
          s.exit = { kind: 'hlt' };
          break;
        default:
          s.exit = { kind: 'bad', byte: op };
      }
      return 0;
    },
    handleExit(vcpu) {
      const e = st(vcpu).exit;
      switch (e.kind) {
        case 'none': return 1;
        case 'io': return kvmFastPio(vcpu, 1, e.port, e.isIn, vcpu.regs[0]! & 0xff);
        case 'hlt': return kvmEmulateHalt(vcpu);
        case 'bad':
          vcpu.ctx.kvmRun.exitReason = uapi.KVM_EXIT_INTERNAL_ERROR;
          vcpu.ctx.kvmRun.setInternalError(uapi.KVM_INTERNAL_ERROR_EMULATION, [BigInt(e.byte)]);
          return 0;
      }
    },
    skipEmulatedInstruction(vcpu) {
      vcpu.regs[2 * x86Regs.VCPU_REGS_RIP] = (vcpu.regs[2 * x86Regs.VCPU_REGS_RIP]! + st(vcpu).lastLen) | 0;
      return true;
    },
    setInterruptShadow(v, m) { st(v).shadow = m; },
    getInterruptShadow: (v) => st(v).shadow,
    patchHypercall: () => Uint8Array.of(0x0f, 0x01, 0xc1),
    injectIrq() {},
    injectNmi() {},
    injectException() {},
    interruptAllowed: (v) => (st(v).rflags & 0x200) !== 0,
    nmiAllowed: () => true,
    getNmiMask: () => false,
    setNmiMask() {},
    enableNmiWindow() {},
    enableIrqWindow() {},
    loadMmuPgd() {},
    getExitInfo: (v) => ({
      kind: 'fake', reason: 0, reasonName: st(v).exit.kind, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0,
    }),
  };
}

/** A module that registers the fake vendor, like kvm-intel's init does with vmx ops. */
export function fakeVendorModule(name = 'kvm-fake') {
  return defineModule({
    name,
    paramsSchema: z.object({ verbose: paramBool(false) }).strict(),
    init(host) {
      kvmX86VendorInit(host, name, fakeOps(name), {
        supportedCpuid: () => [{ function: 0, index: 0, flags: 0, eax: 1, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 }],
        msrIndexList: () => [0x10],
      });
    },
    exit(host) {
      kvmX86VendorExit(host);
    },
  });
}
