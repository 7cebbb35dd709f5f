/**
 * A fake x86 vendor module for qemu-lite's tests, registered through kvm-core's public
 * API exactly like kvm-intel/kvm-amd. It "executes" a handful of 32-bit instructions
 * straight from guest memory (RIP is the physical address, segments are ignored), so
 * runMachine sees real exits from real guest bytes:
 *   B0 ib mov al | 89 D8 mov eax,ebx | 89 F0 mov eax,esi | 66 B8 iw mov ax | B8/BB/B9/BA id mov eax/ebx/ecx/edx
 *   E6 ib out imm8,al | E4 ib in al,imm8 | EE out dx,al | 66 EF out dx,ax | EF out dx,eax
 *   EC in al,dx | ED in eax,dx | A2 d32 mov [d32],al | A0 d32 mov al,[d32] (MMIO if unmapped)
 *   FF E1 jmp ecx | EB rel8 jmp | F4 hlt | 0F 0B ud2 = triple fault (KVM_EXIT_SHUTDOWN)
 *   anything else: KVM_EXIT_INTERNAL_ERROR (emulation failure)
 * The in-kernel irqchip and PIT are kvm-core's real ones; the record observes them.
 */
import {
  defineModule, kvmEmulateHalt, kvmFastPio, kvmX86VendorExit, kvmX86VendorInit, uapi, x86Regs,
  type KvmDtable, type KvmSegment, type KvmVcpuX86, type KvmX86Ops, type KvmX86Vm,
} from '@kvmts/kvm-core';
import { z } from 'zod';

export interface FakeVmRecord {
  /** KVM_CREATE_IRQCHIP happened (kvm-core's in-kernel PIC/IOAPIC/LAPIC exist). */
  readonly irqchip: boolean;
  /** KVM_CREATE_PIT2's config, if a PIT exists. */
  readonly pit: { flags: number } | null;
  /** Every KVM_IRQ_LINE call, in order. */
  irqLines: [number, number][];
}

interface FakeVcpuState {
  rflags: number;
  segments: KvmSegment[];
  gdt: KvmDtable;
  idt: KvmDtable;
  len: number;
  exit: 'none' | 'pio' | 'mmio' | 'hlt' | 'shutdown' | 'bad' | 'parked';
  pio: { size: number; port: number; isIn: boolean; value: number };
  mmio: { addr: number; isWrite: boolean; value: number };
  bad: number;
}

const st = (v: KvmVcpuX86) => v.vendor as FakeVcpuState;
const R = x86Regs;
const RIP = 2 * R.VCPU_REGS_RIP;

function rd8(v: KvmVcpuX86, gpa: number): number {
  const slot = v.ctx.vm.memslots.find(gpa);
  return slot === undefined ? -1 : slot.hva[gpa - slot.guestPhysAddr]!;
}

function rd32(v: KvmVcpuX86, gpa: number): number {
  return (rd8(v, gpa) | (rd8(v, gpa + 1) << 8) | (rd8(v, gpa + 2) << 16) | (rd8(v, gpa + 3) << 24)) >>> 0;
}

const seg0 = (): KvmSegment => ({ base: 0n, limit: 0xffff, selector: 0, type: 3, present: 1, dpl: 0, db: 0, s: 1, l: 0, g: 0, avl: 0, unusable: 0 });

const irqLineRecords = new WeakMap<KvmX86Vm, FakeVmRecord>();
const wrapped = new WeakSet<KvmX86Vm>();

export function fakeOps(name: string, records: FakeVmRecord[]): KvmX86Ops {
  return {
    name,
    vmInit(kvm: KvmX86Vm) {
      const rec: FakeVmRecord = {
        get irqchip() { return kvm.irqchip !== null; },
        get pit() { return kvm.pit === null ? null : { flags: kvm.pit.speakerDummy ? uapi.KVM_PIT_SPEAKER_DUMMY : 0 }; },
        irqLines: [],
      };
      records.push(rec);
      irqLineRecords.set(kvm, rec);
    },
    vcpuCreate(vcpu) {
      // Observe KVM_IRQ_LINE on top of kvm-core's real implementation (the arch ioctls
      // are installed after vmInit, so wrap them when the first vCPU appears).
      const rec = irqLineRecords.get(vcpu.kvm);
      if (rec !== undefined && !wrapped.has(vcpu.kvm)) {
        wrapped.add(vcpu.kvm);
        const real = vcpu.kvm.ioctls.irqLine as unknown as (irq: number, level: number) => void;
        vcpu.kvm.ioctls = {
          ...vcpu.kvm.ioctls,
          irqLine: ((irq: number, level: number) => { rec.irqLines.push([irq, level]); real(irq, level); }) as never,
        };
      }
      vcpu.vendor = {
        rflags: 2, segments: Array.from({ length: 8 }, seg0), gdt: { base: 0n, limit: 0xffff }, idt: { base: 0n, limit: 0xffff },
        len: 0, exit: 'none', pio: { size: 1, port: 0, isIn: false, value: 0 }, mmio: { addr: 0, isWrite: false, value: 0 }, bad: 0,
      } satisfies FakeVcpuState;
      vcpu.regsAvail = (1 << R.NR_VCPU_REGS) - 1;
    },
    vcpuFree() {},
    vcpuReset() {},
    getMsr: () => undefined,
    setMsr: () => false,
    getSegmentBase: (v, s) => st(v).segments[s]!.base,
    getSegment: (v, s) => ({ ...st(v).segments[s]! }),
    getCpl: () => 0,
    setSegment(v, s, value) { st(v).segments[s] = { ...value }; },
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
    vcpuRun(v) {
      const s = st(v);
      // An AP waiting for INIT/SIPI does not run (KVM blocks it; here the slice ends).
      if (v.mpState !== uapi.KVM_MP_STATE_RUNNABLE) {
        s.exit = 'parked';
        return 0;
      }
      const r = v.regs;
      const rip = r[RIP]! >>> 0;
      const op = rd8(v, rip);
      const setRip = (n: number) => { r[RIP] = (rip + n) | 0; };
      const reg32 = (i: number, val: number) => { r[2 * i] = val | 0; r[2 * i + 1] = 0; };
      s.exit = 'none';
      const pio = (size: number, port: number, isIn: boolean, len: number) => {
        s.exit = 'pio';
        s.len = len;
        s.pio = { size, port, isIn, value: r[0]! >>> 0 };
      };
      switch (op) {
        case 0xb0: r[0] = (r[0]! & ~0xff) | rd8(v, rip + 1); setRip(2); break;
        case 0x89:
          if (rd8(v, rip + 1) === 0xd8) { reg32(R.VCPU_REGS_RAX, r[2 * R.VCPU_REGS_RBX]!); setRip(2); } // mov eax, ebx
          else if (rd8(v, rip + 1) === 0xf0) { reg32(R.VCPU_REGS_RAX, r[2 * R.VCPU_REGS_RSI]!); setRip(2); } // mov eax, esi
          else { s.exit = 'bad'; s.bad = 0x89; }
          break;
        case 0xb8: reg32(R.VCPU_REGS_RAX, rd32(v, rip + 1)); setRip(5); break;
        case 0xbb: reg32(R.VCPU_REGS_RBX, rd32(v, rip + 1)); setRip(5); break;
        case 0xb9: reg32(R.VCPU_REGS_RCX, rd32(v, rip + 1)); setRip(5); break;
        case 0xba: reg32(R.VCPU_REGS_RDX, rd32(v, rip + 1)); setRip(5); break;
        case 0x66: {
          const op2 = rd8(v, rip + 1);
          if (op2 === 0xb8) { r[0] = (r[0]! & ~0xffff) | rd8(v, rip + 2) | (rd8(v, rip + 3) << 8); setRip(4); }
          else if (op2 === 0xef) pio(2, r[2 * R.VCPU_REGS_RDX]! & 0xffff, false, 2);
          else { s.exit = 'bad'; s.bad = op2; }
          break;
        }
        case 0xe6: pio(1, rd8(v, rip + 1), false, 2); break;
        case 0xe4: pio(1, rd8(v, rip + 1), true, 2); break;
        case 0xee: pio(1, r[2 * R.VCPU_REGS_RDX]! & 0xffff, false, 1); break;
        case 0xef: pio(4, r[2 * R.VCPU_REGS_RDX]! & 0xffff, false, 1); break;
        case 0xec: pio(1, r[2 * R.VCPU_REGS_RDX]! & 0xffff, true, 1); break;
        case 0xed: pio(4, r[2 * R.VCPU_REGS_RDX]! & 0xffff, true, 1); break;
        case 0xa2: case 0xa0: {
          const addr = rd32(v, rip + 1);
          const slot = v.ctx.vm.memslots.find(addr);
          if (slot !== undefined) {
            if (op === 0xa2) slot.hva[addr - slot.guestPhysAddr] = r[0]! & 0xff;
            else r[0] = (r[0]! & ~0xff) | slot.hva[addr - slot.guestPhysAddr]!;
            setRip(5);
          } else {
            s.exit = 'mmio';
            s.len = 5;
            s.mmio = { addr, isWrite: op === 0xa2, value: r[0]! & 0xff };
          }
          break;
        }
        case 0xff:
          if (rd8(v, rip + 1) === 0xe1) r[RIP] = r[2 * R.VCPU_REGS_RCX]!;
          else { s.exit = 'bad'; s.bad = 0xff; }
          break;
        case 0xeb: { const rel = (rd8(v, rip + 1) << 24) >> 24; setRip(2 + rel); break; }
        case 0xf4: s.exit = 'hlt'; s.len = 1; break;
        case 0x0f:
          if (rd8(v, rip + 1) === 0x0b) s.exit = 'shutdown';
          else { s.exit = 'bad'; s.bad = 0x0f; }
          break;
        default: s.exit = 'bad'; s.bad = op;
      }
      return 0;
    },
    handleExit(v) {
      const s = st(v);
      const run = v.ctx.kvmRun;
      switch (s.exit) {
        case 'none': return 1;
        case 'parked': run.exitReason = uapi.KVM_EXIT_INTR; return 0;
        case 'pio': return kvmFastPio(v, s.pio.size, s.pio.port, s.pio.isIn, s.pio.value);
        case 'hlt': return kvmEmulateHalt(v);
        case 'shutdown': run.exitReason = uapi.KVM_EXIT_SHUTDOWN; return 0;
        case 'mmio': {
          run.exitReason = uapi.KVM_EXIT_MMIO;
          run.mmio.physAddr = s.mmio.addr;
          run.mmio.len = 1;
          run.mmio.isWrite = s.mmio.isWrite ? 1 : 0;
          run.mmio.data[0] = s.mmio.value;
          v.completeUserspaceIo = (vc) => {
            if (!s.mmio.isWrite) vc.regs[0] = (vc.regs[0]! & ~0xff) | vc.ctx.kvmRun.mmio.data[0]!;
            vc.regs[RIP] = (vc.regs[RIP]! + s.len) | 0;
            return 1;
          };
          return 0;
        }
        case 'bad':
          run.exitReason = uapi.KVM_EXIT_INTERNAL_ERROR;
          run.setInternalError(uapi.KVM_INTERNAL_ERROR_EMULATION, [BigInt(s.bad)]);
          return 0;
      }
    },
    skipEmulatedInstruction(v) {
      v.regs[RIP] = (v.regs[RIP]! + st(v).len) | 0;
      return true;
    },
    setInterruptShadow() {},
    getInterruptShadow: () => 0,
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
    getExitInfo: (v) => ({ kind: 'fake', reason: 0, reasonName: st(v).exit, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 }),
  };
}

/** CPUID the fake "implements": GenuineIntel, leaves 0, 1, 7, 0x40000000/1, 0x80000000/1. */
export function fakeSupportedCpuid() {
  return [
    { function: 0, index: 0, flags: 0, eax: 7, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 },
    // 1.ecx: pni, cx16, x2apic, tsc-deadline, xsave, popcnt; 1.edx: the classic set.
    { function: 1, index: 0, flags: 0, eax: 0x000806f8, ebx: 0, ecx: (1 | (1 << 13) | (1 << 21) | (1 << 23) | (1 << 24) | (1 << 26)) >>> 0, edx: 0x078bfbff },
    { function: 7, index: 0, flags: 1, eax: 0, ebx: (1 << 0) | (1 << 7), ecx: 1 << 2, edx: 0 },
    { function: 0x40000000, index: 0, flags: 0, eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d },
    { function: 0x40000001, index: 0, flags: 0, eax: (1 << 0) | (1 << 3) | (1 << 24), ebx: 0, ecx: 0, edx: 0 },
    { function: 0x80000000, index: 0, flags: 0, eax: 0x80000001, ebx: 0, ecx: 0, edx: 0 },
    { function: 0x80000001, index: 0, flags: 0, eax: 0, ebx: 0, ecx: 1, edx: (1 << 11) | (1 << 20) | (1 << 29) },
  ];
}

export function fakeVendorModule(records: FakeVmRecord[] = [], name = 'kvm-fake') {
  return defineModule({
    name,
    paramsSchema: z.object({}).strict(),
    init(host) {
      kvmX86VendorInit(host, name, fakeOps(name, records), { supportedCpuid: fakeSupportedCpuid, msrIndexList: () => [] });
    },
    exit(host) {
      kvmX86VendorExit(host);
    },
  });
}
