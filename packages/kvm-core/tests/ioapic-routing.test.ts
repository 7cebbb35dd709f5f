// The IOAPIC through its MMIO window (82093AA semantics) and IRQ routing through the Vm API.
import { describe, expect, it } from 'vitest';
import { EventFd, uapi } from '@kvmts/kvm-core';
import { expectErrno, initPics, irqVm, type IrqVm } from './irqchip-helpers';

const IOAPIC = 0xfec00000;
const LAPIC = 0xfee00000;

function ioapicWrite(t: IrqVm, reg: number, v: number) {
  t.mmio32w(0, IOAPIC, reg);
  t.mmio32w(0, IOAPIC + 0x10, v);
}
function ioapicRead(t: IrqVm, reg: number): number {
  t.mmio32w(0, IOAPIC, reg);
  return t.mmio32r(0, IOAPIC + 0x10);
}
function route(t: IrqVm, pin: number, lo: number, dest = 0) {
  ioapicWrite(t, 0x11 + 2 * pin, dest << 24);
  ioapicWrite(t, 0x10 + 2 * pin, lo);
}
function enableLapics(t: IrqVm) {
  for (let i = 0; i < t.x86.length; i++) t.mmio32w(i, LAPIC + 0xf0, 0x1ff);
}
/** Mask both PICs so the line status reflects the IOAPIC alone (GSIs 0-15 reach both). */
function maskPics(t: IrqVm) {
  initPics(t);
  t.outb(0x21, 0xff);
  t.outb(0xa1, 0xff);
}
const irr = (t: IrqVm, cpu: number, v: number) => (t.mmio32r(cpu, LAPIC + 0x200 + 0x10 * (v >> 5)) >>> (v & 31)) & 1;

describe('IOAPIC', () => {
  it('reports version 0x11 with 24 pins, ID, and masked entries at reset', () => {
    const t = irqVm();
    expect(ioapicRead(t, 1)).toBe(0x00170011);
    ioapicWrite(t, 0, 0x0f000000);
    expect(ioapicRead(t, 0)).toBe(0x0f000000);
    expect(ioapicRead(t, 0x10)).toBe(0x10000);
    expect(t.mmio32r(0, IOAPIC)).toBe(0x10); // IOREGSEL reads back
  });

  it('delivers an edge pin as a fixed interrupt to its physical destination', () => {
    const t = irqVm({ vcpus: 2 });
    enableLapics(t);
    route(t, 3, 0x0041, 1);
    expect(t.vm.irqLineStatus(3, 1)).toBeGreaterThan(0);
    t.vm.irqLine(3, 0);
    expect(irr(t, 1, 0x41)).toBe(1);
    expect(irr(t, 0, 0x41)).toBe(0);
  });

  it('holds a level pin with Remote IRR until the EOI broadcast, then re-delivers if still high', () => {
    const t = irqVm();
    enableLapics(t);
    maskPics(t);
    const apic = t.x86[0]!.apic!;
    route(t, 5, 0x8051); // level, vector 0x51
    t.vm.irqLine(5, 1);
    expect(ioapicRead(t, 0x1a) & 0x4000).toBe(0x4000); // Remote IRR
    expect(apic.hasInterrupt()).toBe(0x51);
    apic.ackInterrupt(0x51);
    expect(t.vm.irqLineStatus(5, 1)).toBe(0); // coalesced while Remote IRR is set
    t.mmio32w(0, LAPIC + 0xb0, 0); // EOI: level vector (TMR) -> broadcast
    expect(ioapicRead(t, 0x1a) & 0x4000).toBe(0x4000); // line still high: delivered again
    expect(apic.hasInterrupt()).toBe(0x51);
    apic.ackInterrupt(0x51);
    t.vm.irqLine(5, 0);
    t.mmio32w(0, LAPIC + 0xb0, 0);
    expect(ioapicRead(t, 0x1a) & 0x4000).toBe(0);
    expect(apic.hasInterrupt()).toBe(-1);
  });

  it('masks pins and delivers an asserted level pin when unmasked; RO bits survive writes', () => {
    const t = irqVm();
    enableLapics(t);
    maskPics(t);
    route(t, 7, 0x18061); // masked, level, vector 0x61
    expect(t.vm.irqLineStatus(7, 1)).toBe(-1);
    expect(irr(t, 0, 0x61)).toBe(0);
    ioapicWrite(t, 0x1e, 0x8061 | 0x4000 | 0x1000); // unmask; RO bits in the write are ignored
    expect(irr(t, 0, 0x61)).toBe(1);
    expect(ioapicRead(t, 0x1e)).toBe(0x8061 | 0x4000);
    ioapicWrite(t, 0x1e, 0x0061); // to edge: Remote IRR cleared
    expect(ioapicRead(t, 0x1e) & 0x4000).toBe(0);
  });

  it('uses logical destinations and lowest priority', () => {
    const t = irqVm({ vcpus: 3 });
    enableLapics(t);
    for (let i = 0; i < 3; i++) t.mmio32w(i, LAPIC + 0xd0, (1 << i) << 24);
    route(t, 9, 0x0871, 0x06); // logical, mask cpus 1 and 2
    t.vm.irqLine(9, 1);
    t.vm.irqLine(9, 0);
    expect([0, 1, 2].map((c) => irr(t, c, 0x71))).toEqual([0, 1, 1]);
    t.mmio32w(1, LAPIC + 0x80, 0x50);
    route(t, 10, 0x0972, 0x06); // lowest priority, logical 1|2
    t.vm.irqLine(10, 1);
    expect([0, 1, 2].map((c) => irr(t, c, 0x72))).toEqual([0, 0, 1]);
  });

  it('sends NMI and INIT delivery modes', () => {
    const t = irqVm({ vcpus: 2 });
    enableLapics(t);
    route(t, 11, 0x0400, 1); // NMI to cpu 1
    t.vm.irqLine(11, 1);
    expect(t.x86[1]!.nmiPending).toBe(1);
    route(t, 12, 0x0500, 1); // INIT to cpu 1
    t.vm.irqLine(12, 1);
    expect(t.vcpus[1]!.getMpState().mpState).toBe(uapi.KVM_MP_STATE_INIT_RECEIVED);
  });

  it('ExtINT and SMI redirection entries send nothing (KVM\'s __apic_accept_irq); the PIC reaches the CPU through LINT0', () => {
    // KVM has no SMM here and takes ExtINT only through LVT0 (kvm_apic_accept_pic_intr):
    // a pin in ExtINT mode (MP "virtual wire B") delivers no APIC message, sets no IRR bit
    // and no Remote IRR; the same line still reaches the BSP as an 8259 interrupt.
    const t = irqVm({ vcpus: 2 });
    enableLapics(t);
    initPics(t);
    t.outb(0x21, 0xf7); // PIC: only IRQ 3
    route(t, 3, 0x8700, 0); // ExtINT, level
    route(t, 4, 0x0200 | 0x44, 1); // SMI
    expect(t.vm.irqLineStatus(3, 1)).toBe(1); // the PIC took it (the IOAPIC ExtINT adds 0 targets)
    expect(ioapicRead(t, 0x10 + 2 * 3) & (1 << 14)).toBe(0); // no Remote IRR
    t.vm.irqLine(4, 1);
    for (let v = 0; v < 256; v += 32) for (const c of [0, 1]) expect(t.mmio32r(c, LAPIC + 0x200 + 0x10 * (v >> 5))).toBe(0);
    expect(t.x86[1]!.nmiPending).toBe(0);
    // The BSP's LINT0 is ExtINT at reset: the PIC's INT is there for it to take.
    expect(t.kvm.irqchip!.pic.output).toBe(1);
  });

  it('round-trips KVM_GET/SET_IRQCHIP(IOAPIC)', () => {
    const t = irqVm();
    route(t, 4, 0x8044, 0);
    t.vm.irqLine(4, 1);
    const st = t.vm.getIrqchip<{ redirtbl: bigint[]; irr: number; baseAddress: number }>(2);
    expect(st.baseAddress).toBe(IOAPIC);
    expect(st.redirtbl[4]).toBe(0x8044n);
    expect(st.irr).toBe(1 << 4);
    const o = irqVm();
    enableLapics(o);
    o.vm.setIrqchip(2, { ...st, redirtbl: st.redirtbl.map((v) => v & ~0x4000n) });
    expect(irr(o, 0, 0x44)).toBe(1); // asserted pin re-injected
    expectErrno(() => o.vm.setIrqchip(2, { ...st, redirtbl: [] }), 'EINVAL', /redirtbl/);
    // Relocating the IOAPIC through KVM_SET_IRQCHIP moves its MMIO window.
    o.vm.setIrqchip(2, { ...st, baseAddress: 0xfec10000 });
    expect(o.kvm.mmioBus.read(IOAPIC, 4, new Uint8Array(4))).toBe(false);
    o.mmio32w(0, 0xfec10000, 1);
    expect(o.mmio32r(0, 0xfec10010)).toBe(0x00170011);
  });
});

describe('IRQ routing through the Vm API', () => {
  it('follows Linux errnos for the irqchip, PIT and line ioctls', () => {
    const none = irqVm({ irqchip: false });
    expectErrno(() => none.vm.irqLine(0, 1), 'ENXIO');
    expectErrno(() => none.vm.getIrqchip(0), 'ENXIO');
    expectErrno(() => none.vm.createPit2(), 'ENOENT');
    expectErrno(() => none.vm.createIrqchip(), 'EINVAL', /vCPUs/);
    expectErrno(() => none.vm.setGsiRouting([]), 'EINVAL');
    expectErrno(() => none.vm.signalMsi({ addressLo: LAPIC, addressHi: 0, data: 0x30 }), 'EINVAL');
    const t = irqVm({ pit: true });
    expectErrno(() => t.vm.createIrqchip(), 'EEXIST');
    expectErrno(() => t.vm.createPit2(), 'EEXIST');
    expectErrno(() => t.vm.getIrqchip(7), 'EINVAL', /chipId/);
    expectErrno(() => t.vm.irqLine(-1, 1), 'EINVAL', /irq/);
    expect(t.vm.irqLineStatus(100, 1)).toBe(-1); // no route
    expect(t.vm.checkExtension(uapi.KVM_CAP_IRQ_ROUTING)).toBe(4096);
    expect(t.vm.checkExtension(uapi.KVM_CAP_IRQFD_RESAMPLE)).toBe(1);
  });

  it('routes GSIs 0-15 to the PIC and the IOAPIC, 16-23 to the IOAPIC only', () => {
    const t = irqVm();
    initPics(t);
    enableLapics(t);
    route(t, 4, 0x0034);
    route(t, 20, 0x0035);
    expect(t.vm.irqLineStatus(4, 1)).toBe(2); // PIC and IOAPIC
    t.vm.irqLine(4, 0);
    expect(t.kvm.irqchip!.pic.output).toBe(1);
    expect(irr(t, 0, 0x34)).toBe(1);
    expect(t.vm.irqLineStatus(20, 1)).toBe(1);
    expect(irr(t, 0, 0x35)).toBe(1);
  });

  it('replaces the table with KVM_SET_GSI_ROUTING, validating every entry first', () => {
    const t = irqVm();
    enableLapics(t);
    const before = t.kvm.irqchip!.routing;
    expectErrno(() => t.vm.setGsiRouting([{ gsi: 1, type: 1, irqchip: { irqchip: 2, pin: 24 } }]), 'EINVAL', /entries\.0\.irqchip\.pin/);
    expectErrno(() => t.vm.setGsiRouting([{ gsi: 1, type: 1, irqchip: { irqchip: 0, pin: 8 } }]), 'EINVAL', /PIC pin/);
    expectErrno(() => t.vm.setGsiRouting([{ gsi: 1, type: 1, irqchip: { irqchip: 3, pin: 0 } }]), 'EINVAL', /irqchip\.irqchip/);
    expectErrno(() => t.vm.setGsiRouting([
      { gsi: 1, type: 1, irqchip: { irqchip: 2, pin: 1 } },
      { gsi: 1, type: 1, irqchip: { irqchip: 2, pin: 2 } },
    ]), 'EINVAL', /entries\.1/);
    expectErrno(() => t.vm.setGsiRouting([
      { gsi: 1, type: 2, msi: { addressLo: LAPIC, addressHi: 0, data: 0x40 } },
      { gsi: 1, type: 1, irqchip: { irqchip: 2, pin: 2 } },
    ]), 'EINVAL', /entries\.1/);
    expectErrno(() => t.vm.setGsiRouting([{ gsi: 4096, type: 1, irqchip: { irqchip: 2, pin: 1 } }]), 'EINVAL', /gsi/);
    expectErrno(() => t.vm.setGsiRouting([{ gsi: 1, type: 1, flags: 1, irqchip: { irqchip: 2, pin: 1 } }]), 'EINVAL', /flags/);
    expect(t.kvm.irqchip!.routing).toBe(before); // nothing half-applied
    // GSI 0 to IOAPIC pin 2 (the PC's IRQ0 override) and GSI 30 as an MSI.
    t.vm.setGsiRouting([
      { gsi: 0, type: 1, irqchip: { irqchip: 2, pin: 2 } },
      { gsi: 30, type: 2, msi: { addressLo: LAPIC, addressHi: 0, data: 0x4a } },
    ]);
    route(t, 2, 0x0039);
    expect(t.vm.irqLineStatus(0, 1)).toBe(1);
    expect(irr(t, 0, 0x39)).toBe(1);
    expect(t.vm.irqLineStatus(30, 1)).toBe(1);
    expect(irr(t, 0, 0x4a)).toBe(1);
    expect(t.vm.irqLineStatus(5, 1)).toBe(-1); // no longer routed
  });

  it('injects MSIs with KVM_SIGNAL_MSI (physical, logical, to a missing target)', () => {
    const t = irqVm({ vcpus: 2 });
    enableLapics(t);
    expect(t.vm.signalMsi({ addressLo: 0xfee01000, addressHi: 0, data: 0x4061 })).toBe(1);
    expect(irr(t, 1, 0x61)).toBe(1);
    expect(t.vm.signalMsi({ addressLo: 0xfee05000, addressHi: 0, data: 0x62 })).toBe(-1);
    expectErrno(() => t.vm.signalMsi({ addressLo: 0, addressHi: 0, data: 0, flags: 2 }), 'EINVAL', /flags/);
    expectErrno(() => t.vm.signalMsi({ addressLo: -1, addressHi: 0, data: 0 }), 'EINVAL', /msi\.addressLo/);
  });

  it('raises a GSI from an irqfd, and resamples a level line on EOI', () => {
    const t = irqVm();
    enableLapics(t);
    const apic = t.x86[0]!.apic!;
    route(t, 6, 0x0046);
    const efd = new EventFd();
    efd.signal(); // an event pending before KVM_IRQFD is injected at assign time
    t.vm.irqfd({ eventfd: efd, gsi: 6 });
    expect(irr(t, 0, 0x46)).toBe(1);
    expect(efd.pending).toBe(0n);
    expectErrno(() => t.vm.irqfd({ eventfd: efd, gsi: 7 }), 'EBUSY');
    apic.ackInterrupt(0x46);
    t.mmio32w(0, LAPIC + 0xb0, 0);
    efd.signal();
    expect(irr(t, 0, 0x46)).toBe(1);
    t.vm.irqfd({ eventfd: efd, gsi: 6, flags: uapi.KVM_IRQFD_FLAG_DEASSIGN });
    apic.ackInterrupt(0x46);
    t.mmio32w(0, LAPIC + 0xb0, 0);
    efd.signal();
    expect(irr(t, 0, 0x46)).toBe(0);

    // Resample: level pin 8.
    route(t, 8, 0x8048);
    const trigger = new EventFd();
    const resample = new EventFd();
    expectErrno(() => t.vm.irqfd({ eventfd: trigger, gsi: 8, flags: uapi.KVM_IRQFD_FLAG_RESAMPLE }), 'EINVAL', /resamplefd/);
    t.vm.irqfd({ eventfd: trigger, gsi: 8, flags: uapi.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: resample });
    trigger.signal();
    expect(apic.hasInterrupt()).toBe(0x48);
    apic.ackInterrupt(0x48);
    expect(resample.pending).toBe(0n);
    t.mmio32w(0, LAPIC + 0xb0, 0); // EOI -> line lowered, resamplefd signalled
    expect(resample.read()).toBe(1n);
    expect(apic.hasInterrupt()).toBe(-1);
    expect(t.kvm.irqchip!.ioapic.irr & (1 << 8)).toBe(0);
    // A device still pending re-asserts from its resample handler: delivered again after the EOI.
    const stop = resample.onSignal(() => { resample.read(); trigger.signal(); });
    trigger.signal();
    apic.ackInterrupt(0x48);
    t.mmio32w(0, LAPIC + 0xb0, 0);
    expect(apic.hasInterrupt()).toBe(0x48);
    stop();
    expectErrno(() => irqVm({ irqchip: false }).vm.irqfd({ eventfd: new EventFd(), gsi: 1 }), 'EINVAL', /irqchip/);
  });

  it('completes guest writes in-kernel with ioeventfd (PIO and MMIO, datamatch, conflicts)', () => {
    const t = irqVm();
    const efd = new EventFd();
    t.vm.ioeventfd({ eventfd: efd, addr: 0x80, len: 1, flags: uapi.KVM_IOEVENTFD_FLAG_PIO });
    // mov al,0x42; out 0x80,al; out 0x81,al
    t.ram.set([0xb0, 0x42, 0xe6, 0x80, 0xe6, 0x81], 0);
    const run = t.vcpus[0]!.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO); // only the second OUT exits
    expect(run.io.port).toBe(0x81);
    expect(efd.read()).toBe(1n);
    expectErrno(() => t.vm.ioeventfd({ eventfd: new EventFd(), addr: 0x80, len: 1, flags: uapi.KVM_IOEVENTFD_FLAG_PIO }), 'EEXIST');

    const a = new EventFd();
    const b = new EventFd();
    const DM = uapi.KVM_IOEVENTFD_FLAG_DATAMATCH;
    t.vm.ioeventfd({ eventfd: a, addr: 0xd0000000, len: 4, datamatch: 1n, flags: DM });
    t.vm.ioeventfd({ eventfd: b, addr: 0xd0000000, len: 4, datamatch: 2n, flags: DM });
    const data = new Uint8Array(4);
    data[0] = 2;
    expect(t.kvm.mmioBus.write(0xd0000000, 4, data)).toBe(true);
    data[0] = 3;
    expect(t.kvm.mmioBus.write(0xd0000000, 4, data)).toBe(false); // no match: exits as MMIO
    expect([a.pending, b.pending]).toEqual([0n, 1n]);
    expectErrno(() => t.vm.ioeventfd({ eventfd: a, addr: 0xd0000000, len: 4, datamatch: 1n, flags: DM }), 'EEXIST');
    expectErrno(() => t.vm.ioeventfd({ eventfd: a, addr: 0, len: 3 }), 'EINVAL', /len/);
    expectErrno(() => t.vm.ioeventfd({ eventfd: a, addr: 0, len: 0, flags: DM }), 'EINVAL', /zero-length/);
    expectErrno(() => t.vm.ioeventfd({ eventfd: a, addr: 0x10, len: 4, flags: uapi.KVM_IOEVENTFD_FLAG_DEASSIGN }), 'ENOENT');
    t.vm.ioeventfd({ eventfd: b, addr: 0xd0000000, len: 4, datamatch: 2n, flags: DM | uapi.KVM_IOEVENTFD_FLAG_DEASSIGN });
    data[0] = 2;
    expect(t.kvm.mmioBus.write(0xd0000000, 4, data)).toBe(false);
    // len 0: any access length at that address.
    const c = new EventFd();
    t.vm.ioeventfd({ eventfd: c, addr: 0xd0001000, len: 0 });
    expect(t.kvm.mmioBus.write(0xd0001000, 2, data)).toBe(true);
    expect(c.pending).toBe(1n);
  });
});
