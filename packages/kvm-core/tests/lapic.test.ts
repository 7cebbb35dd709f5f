// The local APIC through its MMIO page and x2APIC MSRs (SDM vol. 3 ch. 11 semantics).
import { describe, expect, it } from 'vitest';
import { kvmCpuGetInterrupt, kvmCpuHasInjectableIntr, kvmGetMsr, kvmSetMsr, uapi, x86Regs } from '@kvmts/kvm-core';
import { irqVm, type IrqVm } from './irqchip-helpers';

const BASE = 0xfee00000;
const ID = 0x20, LVR = 0x30, TPR = 0x80, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, SVR = 0xf0;
const ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR = 0x300, ICR2 = 0x310;
const LVTT = 0x320, LVT0 = 0x350, TMICT = 0x380, TMCCT = 0x390, TDCR = 0x3e0;

function enable(t: IrqVm, cpu: number) {
  t.mmio32w(cpu, BASE + SVR, 0x1ff);
}
const bit = (t: IrqVm, cpu: number, reg: number, v: number) => (t.mmio32r(cpu, BASE + reg + 0x10 * (v >> 5)) >>> (v & 31)) & 1;

describe('local APIC', () => {
  it('has the documented reset state', () => {
    const t = irqVm({ vcpus: 2 });
    expect(t.mmio32r(0, BASE + ID)).toBe(0);
    expect(t.mmio32r(1, BASE + ID)).toBe(1 << 24);
    expect(t.mmio32r(0, BASE + LVR)).toBe(0x00050014);
    expect(t.mmio32r(0, BASE + SVR)).toBe(0xff);
    expect(t.mmio32r(0, BASE + DFR)).toBe(0xffffffff);
    expect(t.mmio32r(0, BASE + LVTT)).toBe(0x10000);
    expect(t.mmio32r(0, BASE + LVT0)).toBe(0x700); // BSP: ExtINT, unmasked
    expect(t.mmio32r(1, BASE + LVT0)).toBe(0x10000);
    expect(kvmGetMsr(t.x86[0]!, 0x1b)).toBe(0xfee00900n);
    expect(kvmGetMsr(t.x86[1]!, 0x1b)).toBe(0xfee00800n);
    expect(t.mmio32r(0, BASE + EOI)).toBe(0); // write-only
  });

  it('gates delivery by PPR: TPR and the in-service class', () => {
    const t = irqVm();
    enable(t, 0);
    const apic = t.x86[0]!.apic!;
    apic.acceptIrq(0, 0x45, true, false);
    apic.acceptIrq(0, 0x61, true, false);
    t.mmio32w(0, BASE + TPR, 0x50);
    expect(t.mmio32r(0, BASE + PPR)).toBe(0x50);
    expect(apic.hasInterrupt()).toBe(0x61);
    expect(kvmCpuGetInterrupt(t.x86[0]!)).toBe(0x61);
    expect(bit(t, 0, ISR, 0x61)).toBe(1);
    expect(bit(t, 0, IRR, 0x61)).toBe(0);
    expect(t.mmio32r(0, BASE + PPR)).toBe(0x60);
    expect(kvmCpuHasInjectableIntr(t.x86[0]!)).toBe(false); // 0x45 is below PPR
    t.mmio32w(0, BASE + EOI, 0);
    expect(bit(t, 0, ISR, 0x61)).toBe(0);
    expect(apic.hasInterrupt()).toBe(-1); // 0x40 class <= TPR 0x50
    t.mmio32w(0, BASE + TPR, 0x30);
    expect(apic.hasInterrupt()).toBe(0x45);
    expect(apic.tpr).toBe(0x30);
  });

  it('does not accept fixed interrupts while software-disabled, and masks LVTs on disable', () => {
    const t = irqVm();
    const apic = t.x86[0]!.apic!;
    expect(apic.acceptIrq(0, 0x40, true, false)).toBe(0);
    enable(t, 0);
    t.mmio32w(0, BASE + LVTT, 0x20030);
    expect(t.mmio32r(0, BASE + LVTT)).toBe(0x20030);
    t.mmio32w(0, BASE + SVR, 0xff);
    expect(t.mmio32r(0, BASE + LVTT)).toBe(0x30030);
  });

  it('sends fixed IPIs by physical and logical (flat, cluster) destination and shorthand', () => {
    const t = irqVm({ vcpus: 4 });
    for (let i = 0; i < 4; i++) enable(t, i);
    // Physical: to APIC id 2.
    t.mmio32w(0, BASE + ICR2, 2 << 24);
    t.mmio32w(0, BASE + ICR, 0x4041);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x41))).toEqual([0, 0, 1, 0]);
    expect(t.mmio32r(0, BASE + ICR) & 0x1000).toBe(0); // delivery status: idle
    // Logical flat: LDR bits 1<<cpu, destination mask 0b1010.
    for (let i = 0; i < 4; i++) t.mmio32w(i, BASE + LDR, (1 << i) << 24);
    t.mmio32w(0, BASE + ICR2, 0x0a << 24);
    t.mmio32w(0, BASE + ICR, 0x4842);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x42))).toEqual([0, 1, 0, 1]);
    // Logical cluster: cluster 1 member bits; only cpu 3 is in cluster 1.
    for (let i = 0; i < 4; i++) t.mmio32w(i, BASE + DFR, 0x0fffffff);
    t.mmio32w(3, BASE + LDR, 0x12 << 24);
    t.mmio32w(0, BASE + ICR2, 0x13 << 24);
    t.mmio32w(0, BASE + ICR, 0x4843);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x43))).toEqual([0, 0, 0, 1]);
    // Shorthands: self, all including self, all excluding self.
    t.mmio32w(1, BASE + ICR, 0x44044);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x44))).toEqual([0, 1, 0, 0]);
    t.mmio32w(1, BASE + ICR, 0x84045);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x45))).toEqual([1, 1, 1, 1]);
    t.mmio32w(1, BASE + ICR, 0xc4046);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x46))).toEqual([1, 0, 1, 1]);
    // Physical broadcast 0xff.
    t.mmio32w(0, BASE + ICR2, 0xff << 24);
    t.mmio32w(0, BASE + ICR, 0x4047);
    expect([0, 1, 2, 3].map((c) => bit(t, c, IRR, 0x47))).toEqual([1, 1, 1, 1]);
  });

  it('delivers lowest priority to the target with the lowest TPR', () => {
    const t = irqVm({ vcpus: 3 });
    for (let i = 0; i < 3; i++) enable(t, i);
    t.mmio32w(0, BASE + TPR, 0x40);
    t.mmio32w(1, BASE + TPR, 0x20);
    t.mmio32w(2, BASE + TPR, 0x30);
    t.mmio32w(0, BASE + ICR2, 0xff << 24);
    t.mmio32w(0, BASE + ICR, 0x4150); // lowest priority, physical broadcast
    expect([0, 1, 2].map((c) => bit(t, c, IRR, 0x50))).toEqual([0, 1, 0]);
  });

  it('sends NMI, and latches illegal vectors in ESR on the next ESR write', () => {
    const t = irqVm({ vcpus: 2 });
    enable(t, 0);
    enable(t, 1);
    t.mmio32w(0, BASE + ICR2, 1 << 24);
    t.mmio32w(0, BASE + ICR, 0x4400);
    expect(t.x86[1]!.nmiPending).toBe(1);
    t.mmio32w(0, BASE + ICR, 0x4003); // fixed vector 3 is illegal
    expect(t.mmio32r(0, BASE + ESR)).toBe(0);
    t.mmio32w(0, BASE + ESR, 0);
    expect(t.mmio32r(0, BASE + ESR)).toBe(0x20);
    t.mmio32w(0, BASE + ESR, 0);
    expect(t.mmio32r(0, BASE + ESR)).toBe(0);
  });

  it('starts an AP with INIT then SIPI: CS = vector << 8, base vector << 12, IP 0', () => {
    const t = irqVm({ vcpus: 2 });
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_UNINITIALIZED);
    expect(t.vcpus[0]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_RUNNABLE);
    expect(t.vcpus[1]!.run().exitReason).toBe(uapi.KVM_EXIT_INTR); // blocked until INIT/SIPI
    t.mmio32w(0, BASE + ICR2, 1 << 24);
    t.mmio32w(0, BASE + ICR, 0x4600 | 0x12); // SIPI before INIT: dropped
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_UNINITIALIZED);
    t.mmio32w(0, BASE + ICR, 0xc500); // INIT, level assert
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_INIT_RECEIVED);
    t.mmio32w(0, BASE + ICR, 0x8500); // INIT level de-assert: ignored
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_INIT_RECEIVED);
    t.mmio32w(0, BASE + ICR, 0x4600 | 0x12);
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_RUNNABLE);
    const s = t.vcpus[1]!.getSregs();
    expect(s.cs.selector).toBe(0x1200);
    expect(s.cs.base).toBe(0x12000n);
    expect(t.vcpus[1]!.getRegs().rip).toBe(0n);
    expect(s.cr0).toBe(0x60000010n);
    // The AP now runs its startup code at 0x12000.
    t.ram.set([0xf4], 0x12000);
    expect(t.vcpus[1]!.run().exitReason).toBe(uapi.KVM_EXIT_INTR);
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_HALTED);
  });

  it('starts three APs with a broadcast INIT and SIPI (all excluding self), each running its code', () => {
    const t = irqVm({ vcpus: 4 });
    // The AP trampoline at 0x9000: out 0x99, al; hlt.
    t.ram.set([0xe6, 0x99, 0xf4], 0x9000);
    t.mmio32w(0, BASE + ICR, 0xc4500); // INIT, all excluding self
    t.mmio32w(0, BASE + ICR, 0xc4609); // SIPI vector 9, all excluding self
    expect(t.vcpus[0]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_RUNNABLE);
    for (let i = 1; i < 4; i++) {
      const run = t.vcpus[i]!.run();
      expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
      expect(run.io.port).toBe(0x99);
      expect(t.vcpus[i]!.getSregs().cs.base).toBe(0x9000n);
      expect(t.vcpus[i]!.run().exitReason).toBe(uapi.KVM_EXIT_INTR);
      expect(t.vcpus[i]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_HALTED);
    }
    // Each AP's LAPIC answers at its own ID.
    expect([1, 2, 3].map((i) => t.mmio32r(i, BASE + ID) >>> 24)).toEqual([1, 2, 3]);
  });

  it('runs the timer in one-shot and periodic mode with TMCCT counting down', () => {
    const t = irqVm();
    enable(t, 0);
    const clock = t.kvm.clock;
    t.mmio32w(0, BASE + TDCR, 0x0); // divide by 2
    t.mmio32w(0, BASE + LVTT, 0x30); // one-shot, vector 0x30
    t.mmio32w(0, BASE + TMICT, 1000);
    expect(t.mmio32r(0, BASE + TMCCT)).toBe(1000);
    clock.warpTo(clock.nowNs() + 600);
    expect(t.mmio32r(0, BASE + TMCCT)).toBe(700);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x30)).toBe(0);
    clock.warpTo(clock.nowNs() + 1400);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x30)).toBe(1);
    expect(t.mmio32r(0, BASE + TMCCT)).toBe(0);
    expect(t.kvm.nextTimerDeadline()).toBe(-1);
    // Periodic, divide by 1, 300000 ns period (above the 200 us floor).
    t.mmio32w(0, BASE + TDCR, 0xb);
    t.mmio32w(0, BASE + LVTT, 0x20031);
    t.mmio32w(0, BASE + TMICT, 300_000);
    const start = clock.nowNs();
    expect(t.kvm.nextTimerDeadline()).toBe(start + 300_000);
    clock.warpTo(start + 300_000);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x31)).toBe(1);
    expect(t.kvm.nextTimerDeadline()).toBe(start + 600_000);
    clock.warpTo(start + 450_000);
    expect(t.mmio32r(0, BASE + TMCCT)).toBe(150_000);
    // Masked LVTT: the timer runs, no interrupt.
    t.mmio32w(0, BASE + LVTT, 0x30032);
    clock.warpTo(start + 600_000);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x32)).toBe(0);
    // Periodic below 200 us is slowed to 200 us (Linux's min_timer_period_us).
    t.mmio32w(0, BASE + LVTT, 0x20033);
    t.mmio32w(0, BASE + TMICT, 1000);
    expect(t.kvm.nextTimerDeadline()).toBe(clock.nowNs() + 200_000);
  });

  it('runs the TSC-deadline timer through MSR 0x6e0', () => {
    const t = irqVm();
    enable(t, 0);
    const v = t.x86[0]!;
    const clock = t.kvm.clock;
    kvmSetMsr(v, 0x6e0, 5000n, false); // ignored outside TSC-deadline mode
    expect(kvmGetMsr(v, 0x6e0)).toBe(0n);
    t.mmio32w(0, BASE + LVTT, 0x40034);
    const tsc = BigInt(v.tsc.read());
    kvmSetMsr(v, 0x6e0, tsc + 2000n, false); // 2000 TSC ticks at 2 GHz = 1000 ns
    expect(kvmGetMsr(v, 0x6e0)).toBe(tsc + 2000n);
    expect(t.mmio32r(0, BASE + TMCCT)).toBe(0);
    clock.warpTo(clock.nowNs() + 999);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x34)).toBe(0);
    clock.warpTo(clock.nowNs() + 1);
    t.kvm.checkTimers(clock.nowNs());
    expect(bit(t, 0, IRR, 0x34)).toBe(1);
    expect(kvmGetMsr(v, 0x6e0)).toBe(0n);
  });

  it('switches to x2APIC through IA32_APICBASE and serves MSRs 0x800+', () => {
    const t = irqVm({ vcpus: 2 });
    const v0 = t.x86[0]!;
    const v1 = t.x86[1]!;
    expect(kvmSetMsr(v0, 0x1b, 0xfee00000n | 0x400n, false)).toBe(false); // EXTD without EN
    expect(kvmSetMsr(v0, 0x1b, 0xfee00c00n, false)).toBe(true);
    expect(kvmSetMsr(v1, 0x1b, 0xfee00c00n, false)).toBe(true);
    expect(kvmGetMsr(v0, 0x1b)).toBe(0xfee00d00n); // BSP bit kept
    expect(kvmGetMsr(v1, 0x802)).toBe(1n);
    expect(kvmGetMsr(v1, 0x80d)).toBe(0x2n); // LDR: cluster 0, bit 1
    expect(kvmGetMsr(v0, 0x80e)).toBeUndefined(); // no DFR in x2APIC mode
    expect(t.mmio32r(0, BASE + ID)).toBe(0xffffffff); // MMIO reads all ones
    expect(kvmSetMsr(v0, 0x80f, 0x1ffn, false)).toBe(true);
    expect(kvmSetMsr(v1, 0x80f, 0x1ffn, false)).toBe(true);
    expect(kvmSetMsr(v0, 0x802, 5n, false)).toBe(false); // ID is read-only
    expect(kvmSetMsr(v0, 0x830, (1n << 32n) | 0x4051n, false)).toBe(true); // ICR: dest in 63:32
    expect(v1.apic!.highestIrr()).toBe(0x51);
    expect(kvmSetMsr(v0, 0x83f, 0x52n, false)).toBe(true); // SELF IPI
    expect(v0.apic!.highestIrr()).toBe(0x52);
    expect(kvmSetMsr(v0, 0x1b, 0xfee00800n, false)).toBe(false); // x2APIC -> xAPIC is invalid
    expect(kvmSetMsr(v0, 0x1b, 0xfee00000n, false)).toBe(true); // disable
    expect(kvmSetMsr(v0, 0x1b, 0xfee00c00n, false)).toBe(false); // disabled -> x2APIC is invalid
  });

  it('moves its MMIO page with IA32_APICBASE', () => {
    const t = irqVm();
    expect(kvmSetMsr(t.x86[0]!, 0x1b, 0xfed00900n, false)).toBe(true);
    t.mmio32w(0, 0xfed00000 + TPR, 0x20);
    expect(t.mmio32r(0, 0xfed00000 + TPR)).toBe(0x20);
    expect(t.x86[0]!.apic!.inMmioRange(BASE)).toBe(false);
  });

  it('reads bytes of a register and ignores writes that are not aligned 32-bit stores', () => {
    const t = irqVm();
    const apic = t.x86[0]!.apic!;
    const b = new Uint8Array(4);
    t.mmio32w(0, BASE + TPR, 0x5a);
    expect(apic.mmioRead(BASE + LVR + 2, 1, b)).toBe(true);
    expect(b[0]).toBe(0x05); // LVR bits 23:16: max LVT entry
    b.set([0x11, 0, 0, 0]);
    apic.mmioWrite(BASE + TPR, 1, b);
    apic.mmioWrite(BASE + TPR + 4, 4, b);
    expect(t.mmio32r(0, BASE + TPR)).toBe(0x5a);
  });

  it('saves and restores vCPU events (KVM_GET/SET_VCPU_EVENTS)', () => {
    const t = irqVm();
    const v = t.vcpus[0]!;
    t.x86[0]!.nmiPending = 1;
    const ev = v.getVcpuEvents<Record<string, unknown>>();
    expect(ev).toMatchObject({ nmi: { pending: 1 }, interrupt: { injected: 0 } });
    v.setVcpuEvents({ ...ev, interrupt: { injected: 1, nr: 0x31, soft: 0, shadow: 0 }, nmi: { injected: 0, pending: 0, masked: 0 } });
    expect(t.x86[0]!.interruptNr).toBe(0x31);
    expect(t.x86[0]!.nmiPending).toBe(0);
    expect(() => v.setVcpuEvents({ ...ev, flags: 4 })).toThrow(/EINVAL.*flags/);
    expect(() => v.setVcpuEvents({ ...ev, sipiVector: -1 })).toThrow(/EINVAL.*events\.sipiVector/);
    expect(() => v.archIoctl('setTscKhz', 5)).toThrow(/EINVAL.*khz/);
    expect(() => t.vm.setClockSource({ mode: 'virtual' })).toThrow(/EBUSY/);
  });

  it('keeps CR8 and TPR in sync', () => {
    const t = irqVm();
    const s = t.vcpus[0]!.getSregs();
    t.vcpus[0]!.setSregs({ ...s, cr8: 5n });
    expect(t.mmio32r(0, BASE + TPR)).toBe(0x50);
    t.mmio32w(0, BASE + TPR, 0x70);
    expect(t.vcpus[0]!.getSregs().cr8).toBe(7n);
  });

  it('saves and restores the register page with KVM_GET/SET_LAPIC', () => {
    const t = irqVm();
    enable(t, 0);
    t.mmio32w(0, BASE + TPR, 0x30);
    t.mmio32w(0, BASE + LDR, 0x08000000);
    t.x86[0]!.apic!.acceptIrq(0, 0x66, true, true);
    const page = t.vcpus[0]!.getLapic();
    expect(page.length).toBe(uapi.KVM_APIC_REG_SIZE);
    const other = irqVm();
    other.vcpus[0]!.setLapic(page);
    expect(other.mmio32r(0, BASE + TPR)).toBe(0x30);
    expect(other.mmio32r(0, BASE + LDR)).toBe(0x08000000);
    expect(bit(other, 0, IRR, 0x66)).toBe(1);
    expect(bit(other, 0, TMR, 0x66)).toBe(1);
    expect(() => other.vcpus[0]!.setLapic(new Uint8Array(10))).toThrow(/EINVAL.*regs/);
    expect(() => irqVm({ irqchip: false }).vcpus[0]!.getLapic()).toThrow(/ENXIO/);
  });

  it('executes HLT as a blocked vCPU that wakes on an interrupt', () => {
    const t = irqVm();
    enable(t, 0);
    t.ram.set([0xfb, 0xf4, 0x90, 0xf4], 0); // sti; hlt; nop; hlt
    const vcpu = t.vcpus[0]!;
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_INTR);
    expect(vcpu.getMpState().mpState).toBe(uapi.KVM_MP_STATE_HALTED);
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_INTR); // still nothing to do
    expect(vcpu.getRegs().rip).toBe(2n);
    expect(t.vm.signalMsi({ addressLo: 0xfee00000, addressHi: 0, data: 0x77 })).toBe(1);
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_INTR);
    expect(t.injected).toEqual([{ vcpu: 0, vector: 0x77, ns: expect.any(Number) }]);
    expect(vcpu.getRegs().rip).toBe(4n);
    expect(bit(t, 0, ISR, 0x77)).toBe(0); // the handler EOIed
    expect(t.x86[0]!.regs[2 * x86Regs.VCPU_REGS_RIP]).toBe(4);
  });
});
