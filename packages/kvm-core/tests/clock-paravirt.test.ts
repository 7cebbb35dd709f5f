// The per-VM clock (deterministic virtual time), the run loop's timers and blocking,
// kvmclock (pvclock in guest memory), hypercalls and the KVM paravirt CPUID leaves.
import { describe, expect, it } from 'vitest';
import {
  kvmGetMsr, kvmParavirtCpuidLeaves, kvmSetMsr, kvmTscCpuidLeaves, pvclockScaleDelta, uapi, VmClock,
  VIRTUAL_CLOCK_DEFAULT_EPOCH_NS,
} from '@kvmts/kvm-core';
import { initPics, irqVm, type IrqVm } from './irqchip-helpers';

const LAPIC = 0xfee00000;

/** A guest with the PIT at ~1 kHz on IRQ0 (PIC) and the LAPIC timer periodic at 300 us. */
function timerGuest(halt: boolean): IrqVm {
  const t = irqVm({ pit: true });
  initPics(t);
  t.outb(0x21, 0xfe); // only IRQ0
  t.outb(0x43, 0x34);
  t.outb(0x40, 0xa9);
  t.outb(0x40, 0x04);
  t.mmio32w(0, LAPIC + 0xf0, 0x1ff);
  t.mmio32w(0, LAPIC + 0x3e0, 0xb);
  t.mmio32w(0, LAPIC + 0x320, 0x20040);
  t.mmio32w(0, LAPIC + 0x380, 300_000);
  // sti; loop: nop; nop; jmp loop        or     sti; loop: hlt; jmp loop
  t.ram.set(halt ? [0xfb, 0xf4, 0xeb, 0xfd] : [0xfb, 0x90, 0x90, 0xeb, 0xfc], 0);
  t.kvm.timeSliceNs = 500_000;
  return t;
}

/** A VMM's event loop for one vCPU: run; when blocked, sleep (warp) to the next deadline. */
function vmmLoop(t: IrqVm, untilNs: number): void {
  const vcpu = t.vcpus[0]!;
  while (t.kvm.clock.nowNs() < untilNs) {
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_INTR);
    if (vcpu.getMpState().mpState !== uapi.KVM_MP_STATE_RUNNABLE) {
      const d = t.vm.archIoctl<number>('nextTimerDeadline');
      expect(d).toBeGreaterThanOrEqual(0);
      t.vm.archIoctl('warpClock', d);
    }
  }
}

describe('the per-VM clock', () => {
  it('reads host time through an injectable monotonic source, carrying time across mode switches', () => {
    let host = 5_000;
    const c = new VmClock({ mode: 'host' }, () => host);
    expect(c.nowNs()).toBe(0);
    host += 700;
    expect(c.nowNs()).toBe(700);
    c.configure({ mode: 'virtual', nsPerInstruction: 2 });
    c.advanceInstructions(10);
    host += 1_000_000; // host time no longer matters
    expect(c.nowNs()).toBe(720);
    c.warpTo(100); // never backwards
    expect(c.nowNs()).toBe(720);
    c.configure({ mode: 'host' });
    host += 80;
    expect(c.nowNs()).toBe(800);
    expect(() => c.configure({ mode: 'virtual', nsPerInstruction: 0 })).toThrow(/EINVAL.*nsPerInstruction/);
    expect(new VmClock({ mode: 'virtual' }).realtimeNs(0)).toBe(VIRTUAL_CLOCK_DEFAULT_EPOCH_NS);
  });

  it('is deterministic: the same guest gets the same interrupts at the same virtual times', () => {
    const runOnce = () => {
      const t = timerGuest(false);
      vmmLoop(t, 5_000_000);
      return t.injected.map((i) => `${i.vector.toString(16)}@${i.ns}`);
    };
    const a = runOnce();
    const b = runOnce();
    expect(a).toEqual(b);
    const pit = a.filter((s) => s.startsWith('20@')).length;
    const lapic = a.filter((s) => s.startsWith('40@')).length;
    expect(pit).toBeGreaterThanOrEqual(5); // ~1 kHz over 5-5.5 ms
    expect(pit).toBeLessThanOrEqual(6);
    expect(lapic).toBeGreaterThanOrEqual(16); // 300 us over 5-5.5 ms
    expect(lapic).toBeLessThanOrEqual(19);
  });

  it('blocks a halted vCPU (KVM_EXIT_INTR) and wakes it exactly at the timer deadline', () => {
    const t = timerGuest(true);
    vmmLoop(t, 3_000_000);
    const lapic = t.injected.filter((i) => i.vector === 0x40).map((i) => i.ns);
    expect(lapic.length).toBeGreaterThanOrEqual(9);
    // While idle, time only moves to deadlines: interrupts land exactly on the period grid
    // (offset by the few instructions between the timer programming and the injection).
    const offset = lapic[0]! % 300_000;
    expect(offset).toBeLessThan(10);
    for (const ns of lapic) expect(ns % 300_000).toBe(offset);
    const pit = t.injected.filter((i) => i.vector === 0x20);
    expect(pit.length).toBeGreaterThanOrEqual(2);
  });

  it('ends a time slice with KVM_EXIT_INTR while the guest spins', () => {
    const t = irqVm();
    t.ram.set([0x90, 0xeb, 0xfd], 0); // loop: nop; jmp loop
    t.kvm.timeSliceNs = 1000;
    const run = t.vcpus[0]!.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_INTR);
    expect(t.vcpus[0]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_RUNNABLE);
    expect(t.kvm.clock.nowNs()).toBeGreaterThanOrEqual(1000);
    expect(t.kvm.clock.nowNs()).toBeLessThan(1010);
  });

  it('delivers the PIC through LINT0 ExtINT only to the BSP, and not once LVT0 is masked', () => {
    const t = irqVm({ vcpus: 2 });
    initPics(t);
    t.ram.set([0xfb, 0x90, 0xeb, 0xfd], 0);
    t.kvm.timeSliceNs = 100;
    t.vm.irqLine(3, 1);
    t.vm.irqLine(3, 0);
    t.vcpus[0]!.run();
    expect(t.injected.map((i) => [i.vcpu, i.vector])).toEqual([[0, 0x23]]);
    t.mmio32w(0, LAPIC + 0x350, 0x10700);
    t.vm.irqLine(4, 1);
    t.vcpus[0]!.run();
    expect(t.injected.length).toBe(1);
    expect(t.kvm.irqchip!.pic.output).toBe(1);
  });
});

describe('kvmclock', () => {
  function pvclock(t: IrqVm, gpa: number) {
    const v = new DataView(t.ram.buffer, gpa, 32);
    return {
      version: v.getUint32(0, true), tscTimestamp: v.getBigUint64(8, true), systemTime: v.getBigUint64(16, true),
      mul: v.getUint32(24, true), shift: v.getInt8(28), flags: v.getUint8(29),
    };
  }
  /** What a guest's pvclock_clocksource_read computes from the structure and RDTSC. */
  function guestNs(t: IrqVm, gpa: number): bigint {
    const p = pvclock(t, gpa);
    const tsc = BigInt(t.x86[0]!.tsc.read());
    return p.systemTime + pvclockScaleDelta(tsc - p.tscTimestamp, p.mul, p.shift);
  }

  it('writes pvclock_vcpu_time_info with the version protocol, consistent with KVM_GET_CLOCK', () => {
    const t = irqVm();
    t.ram.set([0x90, 0xe6, 0x99], 0);
    t.kvm.clock.warpTo(123_456_789);
    t.vm.getDirtyLog(0);
    expect(kvmSetMsr(t.x86[0]!, 0x4b564d01, 0x5000n | 1n, false)).toBe(true);
    expect(kvmGetMsr(t.x86[0]!, 0x4b564d01)).toBe(0x5001n);
    expect(t.vcpus[0]!.run().exitReason).toBe(uapi.KVM_EXIT_IO);
    const p = pvclock(t, 0x5000);
    expect(p.version).toBe(2);
    expect(p.flags & 1).toBe(1); // PVCLOCK_TSC_STABLE_BIT
    expect(t.vm.getDirtyLog(0)[0]! & (1 << 5)).not.toBe(0);
    const clock = t.vm.getClock().clock;
    expect(Number(guestNs(t, 0x5000) - clock)).toBeLessThanOrEqual(1);
    expect(Number(clock - guestNs(t, 0x5000))).toBeLessThanOrEqual(1);
    // Monotonic and in step with the VM clock as time passes.
    let last = guestNs(t, 0x5000);
    for (let i = 0; i < 20; i++) {
      t.kvm.clock.warpTo(t.kvm.clock.nowNs() + 777_777);
      const now = guestNs(t, 0x5000);
      expect(now).toBeGreaterThan(last);
      expect(Number(now - t.vm.getClock().clock)).toBeLessThanOrEqual(1);
      last = now;
    }
    // KVM_SET_CLOCK moves kvmclock; the structure is rewritten (version + 2) on the next entry.
    t.vm.setClock({ clock: 10_000_000_000n });
    t.ram.set([0x90, 0xe6, 0x99], 3);
    t.vcpus[0]!.run();
    expect(pvclock(t, 0x5000).version).toBe(4);
    expect(Number(guestNs(t, 0x5000) - 10_000_000_000n)).toBeLessThan(1000);
    expect(() => t.vm.setClock({ clock: 1n, flags: 1 })).toThrow(/EINVAL.*flags/);
    // What KVM_GET_CLOCK returned goes back into KVM_SET_CLOCK (save/restore); with
    // KVM_CLOCK_REALTIME the wall time that passed meanwhile is added.
    const saved = t.vm.getClock();
    t.kvm.clock.warpTo(t.kvm.clock.nowNs() + 5000);
    t.vm.setClock(saved);
    expect(t.vm.getClock().clock - saved.clock).toBe(5000n);
  });

  it('writes the wall clock at boot (pvclock_wall_clock) for MSR_KVM_WALL_CLOCK_NEW', () => {
    const t = irqVm();
    t.kvm.clock.warpTo(2_500_000_000);
    kvmSetMsr(t.x86[0]!, 0x4b564d00, 0x6000n, false);
    const v = new DataView(t.ram.buffer, 0x6000, 12);
    expect(v.getUint32(0, true)).toBe(2);
    expect(v.getUint32(4, true)).toBe(VIRTUAL_CLOCK_DEFAULT_EPOCH_NS / 1e9);
    expect(v.getUint32(8, true)).toBe(0);
  });

  it('keeps TSC, TSC_ADJUST and TSC_AUX as the SDM says', () => {
    const t = irqVm();
    const v = t.x86[0]!;
    t.kvm.clock.warpTo(1000); // 2000 ticks at 2 GHz
    expect(kvmGetMsr(v, 0x10)).toBe(2000n);
    kvmSetMsr(v, 0x10, 10_000n, false);
    expect(kvmGetMsr(v, 0x3b)).toBe(8000n); // the guest write moved TSC_ADJUST
    kvmSetMsr(v, 0x3b, 0n, false);
    expect(kvmGetMsr(v, 0x10)).toBe(2000n);
    expect(kvmSetMsr(v, 0xc0000103, 1n << 32n, false)).toBe(false);
    expect(kvmSetMsr(v, 0xc0000103, 7n, false)).toBe(true);
    expect(kvmGetMsr(v, 0xc0000103)).toBe(7n);
    expect(t.vcpus[0]!.archIoctl('getTscKhz')).toBe(2_000_000);
    t.vcpus[0]!.archIoctl('setTscKhz', 1_000_000);
    expect(kvmGetMsr(v, 0x10)).toBe(2000n); // continuous across the rate change
    t.kvm.clock.warpTo(2000);
    expect(kvmGetMsr(v, 0x10)).toBe(3000n);
  });
});

describe('hypercalls and paravirt CPUID', () => {
  function hcGuest(vcpus = 1) {
    const t = irqVm({ vcpus });
    t.ram.set([0x0f, 0x01, 0xc1, 0xe6, 0x99, 0xf4], 0); // vmcall; out 0x99, al; hlt
    return t;
  }
  function call(t: IrqVm, regs: Partial<Record<'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi', bigint>>): bigint {
    const v = t.vcpus[0]!;
    v.setMpState({ mpState: uapi.KVM_MP_STATE_RUNNABLE });
    v.setRegs({ ...v.getRegs(), rip: 0n, ...regs });
    expect(v.run().exitReason).toBe(uapi.KVM_EXIT_IO);
    const rax = v.getRegs().rax;
    expect(v.run().exitReason).toBe(uapi.KVM_EXIT_INTR); // completes the OUT, then halts
    return rax;
  }

  it('returns -KVM_ENOSYS truncated to 32 bits outside long mode, 64 bits in it', () => {
    const t = hcGuest();
    expect(call(t, { rax: 0x1_0000_0063n })).toBe(0xfffffc18n); // nr 99 after truncation
    expect(call(t, { rax: 1n })).toBe(0n); // KVM_HC_VAPIC_POLL_IRQ
    const s = t.vcpus[0]!.getSregs();
    t.vcpus[0]!.setSregs({ ...s, efer: 0x500n, cr0: 0x80000011n, cr4: 0x20n, cs: { ...s.cs, l: 1 } });
    expect(call(t, { rax: 99n })).toBe(0xfffffffffffffc18n);
  });

  it('returns -KVM_EPERM at CPL 3', () => {
    const t = hcGuest();
    const s = t.vcpus[0]!.getSregs();
    t.vcpus[0]!.setSregs({ ...s, cs: { ...s.cs, dpl: 3 }, ss: { ...s.ss, dpl: 3 } });
    expect(call(t, { rax: 1n })).toBe(0xffffffffn);
  });

  it('KVM_HC_KICK_CPU wakes a halted vCPU; KVM_HC_SEND_IPI delivers by APIC-id bitmap', () => {
    const t = hcGuest(3);
    for (let i = 0; i < 3; i++) t.mmio32w(i, LAPIC + 0xf0, 0x1ff);
    t.vcpus[1]!.setMpState({ mpState: uapi.KVM_MP_STATE_HALTED });
    expect(call(t, { rax: 5n, rbx: 0n, rcx: 1n })).toBe(0n);
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_RUNNABLE);
    // Bitmap 0b110 from min 0: APIC ids 1 and 2, fixed vector 0x55.
    expect(call(t, { rax: 10n, rbx: 0b110n, rcx: 0n, rdx: 0n, rsi: 0x4055n })).toBe(2n);
    expect(t.x86.map((v) => v.apic!.highestIrr())).toEqual([-1, 0x55, 0x55]);
  });

  it('describes KVM in CPUID 0x40000000-0x40000010 and the TSC rate in 0x15/0x16', () => {
    const [sig, feat, timing] = kvmParavirtCpuidLeaves(2_000_000);
    const bytes = Buffer.alloc(12);
    bytes.writeUInt32LE(sig!.ebx, 0);
    bytes.writeUInt32LE(sig!.ecx, 4);
    bytes.writeUInt32LE(sig!.edx, 8);
    expect(bytes.toString('latin1')).toBe('KVMKVMKVM\0\0\0');
    expect(sig!.eax).toBe(0x40000010);
    expect(feat!.eax).toBe((1 << 0) | (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 11) | (1 << 13) | (1 << 24));
    expect(timing).toEqual({ function: 0x40000010, index: 0, flags: 0, eax: 2_000_000, ebx: 1_000_000, ecx: 0, edx: 0 });
    const l15 = kvmTscCpuidLeaves(2_000_000).find((e) => e.function === 0x15)!;
    expect((l15.ecx * l15.ebx) / l15.eax).toBe(2_000_000_000);
  });

  it('reports steal time: the time a runnable vCPU waited while another ran its slice', () => {
    const t = irqVm({ vcpus: 2 });
    t.ram.set([0x90, 0xeb, 0xfd], 0); // both spin
    t.vcpus[1]!.setMpState({ mpState: uapi.KVM_MP_STATE_RUNNABLE });
    t.kvm.timeSliceNs = 1000;
    const v0 = t.x86[0]!;
    expect(kvmSetMsr(v0, 0x4b564d03, 0x8000n | 2n, false)).toBe(false); // reserved bits
    expect(kvmSetMsr(v0, 0x4b564d03, 0x8001n, false)).toBe(true);
    const st = new DataView(t.ram.buffer, 0x8000, 64);
    t.vcpus[0]!.run();
    expect(st.getBigUint64(0, true)).toBe(0n);
    expect(st.getUint8(16)).toBe(1); // preempted at the end of its slice
    const before = t.kvm.clock.nowNs();
    t.vcpus[1]!.run();
    const stolen = t.kvm.clock.nowNs() - before;
    t.vcpus[0]!.run();
    expect(st.getBigUint64(0, true)).toBe(BigInt(stolen));
    expect(st.getUint32(8, true) % 2).toBe(0);
  });

  it('PV EOI: the guest clears the flag instead of writing EOI, and KVM performs the EOI', () => {
    const t = irqVm();
    t.mmio32w(0, LAPIC + 0xf0, 0x1ff);
    const v = t.x86[0]!;
    expect(kvmSetMsr(v, 0x4b564d04, 0x7000n | 1n, false)).toBe(true);
    expect(kvmSetMsr(v, 0x4b564d04, 0x7002n, false)).toBe(false); // reserved bits
    // Any 4-byte aligned address is valid (i386 Linux's per-CPU word is not 16-byte aligned).
    expect(kvmSetMsr(v, 0x4b564d04, 0x7a04n | 1n, false)).toBe(true);
    expect(v.pv.pvEoiGpa).toBe(0x7a04);
    expect(kvmSetMsr(v, 0x4b564d04, 0x7000n | 1n, false)).toBe(true);
    v.apic!.acceptIrq(0, 0x60, true, false);
    v.apic!.ackInterrupt(0x60); // in service, nothing else pending
    t.ram.set([0x90, 0xe6, 0x99], 0);
    t.vcpus[0]!.setRegs({ ...t.vcpus[0]!.getRegs(), rip: 0n });
    t.vcpus[0]!.run();
    expect(new DataView(t.ram.buffer).getUint32(0x7000, true)).toBe(0); // offered, then withdrawn: guest did not EOI
    // This time the "guest" clears the flag while running (as its EOI).
    v.pv.pvEoiPending = false;
    const view = new DataView(t.ram.buffer);
    let offered = false;
    const origRun = v.ops.vcpuRun;
    (v.ops as { vcpuRun: typeof origRun }).vcpuRun = (vc) => {
      offered = view.getUint32(0x7000, true) === 1;
      view.setUint32(0x7000, 0, true);
      return origRun(vc);
    };
    t.vcpus[0]!.setRegs({ ...t.vcpus[0]!.getRegs(), rip: 0n });
    t.vcpus[0]!.run();
    (v.ops as { vcpuRun: typeof origRun }).vcpuRun = origRun;
    expect(offered).toBe(true);
    expect(v.apic!.highestIsr()).toBe(-1);
  });
});
