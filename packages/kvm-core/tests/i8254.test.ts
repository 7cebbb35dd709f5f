// The 8254 PIT through ports 0x40-0x43 and 0x61 (8254 datasheet semantics), on the virtual clock.
import { describe, expect, it } from 'vitest';
import { expectErrno, initPics, irqVm, type IrqVm } from './irqchip-helpers';

const tickNs = (n: number) => Math.ceil((n * 1e9) / 1193182);

function advance(t: IrqVm, ns: number) {
  const c = t.kvm.clock;
  c.warpTo(c.nowNs() + ns);
  t.kvm.checkTimers(c.nowNs());
}

function readCounter(t: IrqVm, ch: number): number {
  t.outb(0x43, ch << 6); // counter latch
  return t.inb(0x40 + ch) | (t.inb(0x40 + ch) << 8);
}

describe('i8254 PIT', () => {
  it('counts down in mode 2 and pulses IRQ0 each period through the PIC', () => {
    const t = irqVm({ pit: true });
    initPics(t);
    const pic = t.kvm.irqchip!.pic;
    t.outb(0x43, 0x34); // ch0, lo/hi, mode 2
    t.outb(0x40, 0xa9);
    t.outb(0x40, 0x04); // 1193: about 1 ms
    expect(readCounter(t, 0)).toBe(1193);
    advance(t, tickNs(100));
    expect(readCounter(t, 0)).toBe(1093);
    expect(pic.output).toBe(0);
    advance(t, tickNs(1093));
    expect(pic.output).toBe(1);
    expect(pic.readIrq()).toBe(0x20);
    t.outb(0x20, 0x20);
    advance(t, tickNs(1193));
    expect(pic.readIrq()).toBe(0x20); // periodic
    expect(t.kvm.nextTimerDeadline()).toBeGreaterThan(t.kvm.clock.nowNs());
  });

  it('fires mode 0 once at terminal count; OUT goes high (read-back status bit 7)', () => {
    const t = irqVm({ pit: true });
    initPics(t);
    t.outb(0x43, 0x30); // ch0, lo/hi, mode 0
    t.outb(0x40, 100);
    t.outb(0x40, 0);
    t.outb(0x43, 0xe2); // read-back: status of ch0
    expect(t.inb(0x40)).toBe(0x30); // OUT low, rw 3, mode 0
    advance(t, tickNs(100));
    t.outb(0x43, 0xe2);
    expect(t.inb(0x40)).toBe(0xb0); // OUT high
    expect(t.kvm.irqchip!.pic.readIrq()).toBe(0x20);
    t.outb(0x20, 0x20);
    advance(t, tickNs(1000));
    expect(t.kvm.irqchip!.pic.output).toBe(0); // one-shot
  });

  it('latches: the count and status stay frozen until read; read-back latches both', () => {
    const t = irqVm({ pit: true });
    t.outb(0x43, 0x74); // ch1, lo/hi, mode 2
    t.outb(0x41, 0x00);
    t.outb(0x41, 0x10); // 0x1000
    t.outb(0x43, 0x40); // latch ch1
    advance(t, tickNs(0x100));
    expect(t.inb(0x41) | (t.inb(0x41) << 8)).toBe(0x1000);
    t.outb(0x43, 0xc4); // read-back ch1: count and status
    const status = t.inb(0x41);
    expect(status & 0x3f).toBe(0x34);
    expect(t.inb(0x41) | (t.inb(0x41) << 8)).toBe(0x1000 - 0x100);
  });

  it('reads lsb-only and msb-only counters; mode 3 counts by two', () => {
    const t = irqVm({ pit: true });
    t.outb(0x43, 0xa6); // ch2, msb only, mode 3
    t.outb(0x42, 0x20); // 0x2000
    t.outb(0x61, 0x01); // gate 2 high
    advance(t, tickNs(0x10));
    t.outb(0x43, 0x80);
    expect(t.inb(0x42)).toBe((0x2000 - 0x20) >> 8);
    t.outb(0x43, 0x54); // ch1, lsb only, mode 2
    t.outb(0x41, 0x80);
    advance(t, tickNs(0x10));
    expect(t.inb(0x41)).toBe(0x70);
  });

  it('drives channel 2 from port 0x61: gate, speaker data, OUT in bit 5', () => {
    const t = irqVm({ pit: true });
    t.outb(0x43, 0xb0); // ch2, lo/hi, mode 0
    t.outb(0x42, 10);
    t.outb(0x42, 0);
    t.outb(0x61, 0x03);
    expect(t.inb(0x61) & 0x23).toBe(0x03);
    advance(t, tickNs(10));
    expect(t.inb(0x61) & 0x20).toBe(0x20);
    t.outb(0x61, 0x00);
    expect(t.inb(0x61) & 0x03).toBe(0);
  });

  it('round-trips KVM_GET/SET_PIT2 and validates the state', () => {
    const t = irqVm({ pit: true });
    t.outb(0x43, 0x34);
    t.outb(0x40, 0x00);
    t.outb(0x40, 0x20);
    const st = t.vm.getPit2<{ channels: { count: number; mode: number; gate: number }[]; flags: number }>();
    expect(st.channels[0]!.count).toBe(0x2000);
    expect(st.channels[0]!.mode).toBe(2);
    expect(st.channels[2]!.gate).toBe(0);
    const o = irqVm({ pit: true });
    o.vm.setPit2(st);
    expect(o.vm.getPit2<typeof st>().channels[0]!.count).toBe(0x2000);
    expect(o.kvm.nextTimerDeadline()).toBeGreaterThan(0);
    expectErrno(() => o.vm.setPit2({ ...st, flags: 0x80 }), 'EINVAL', /flags/);
    expectErrno(() => o.vm.setPit2({ ...st, channels: [] }), 'EINVAL', /state\.channels/);
    expectErrno(() => irqVm().vm.getPit2(), 'ENXIO');
  });

  it('reaches a LAPIC through IOAPIC pin 2 with the PC routing override (GSI 0 -> pin 2)', () => {
    const t = irqVm({ pit: true });
    t.mmio32w(0, 0xfee000f0, 0x1ff);
    t.vm.setGsiRouting([
      { gsi: 0, type: 1, irqchip: { irqchip: 0, pin: 0 } },
      { gsi: 0, type: 1, irqchip: { irqchip: 2, pin: 2 } },
    ]);
    t.mmio32w(0, 0xfec00000, 0x14);
    t.mmio32w(0, 0xfec00010, 0x0030); // pin 2: edge, fixed, vector 0x30, unmasked
    t.outb(0x43, 0x34);
    t.outb(0x40, 0xa9);
    t.outb(0x40, 0x04);
    advance(t, tickNs(1193));
    const apic = t.x86[0]!.apic!;
    expect(apic.hasInterrupt()).toBe(0x30);
    apic.ackInterrupt(0x30);
    t.mmio32w(0, 0xfee000b0, 0);
    advance(t, tickNs(1193));
    expect(apic.hasInterrupt()).toBe(0x30);
  });

  it('reinjects lost ticks one per acknowledgement (default), or drops them with KVM_REINJECT_CONTROL', () => {
    const t = irqVm({ pit: true });
    initPics(t);
    const pic = t.kvm.irqchip!.pic;
    t.outb(0x43, 0x34);
    t.outb(0x40, 0xa9);
    t.outb(0x40, 0x04);
    advance(t, tickNs(1193 * 3)); // three ticks while the guest is not acknowledging
    expect(t.kvm.pit!.pending).toBe(3);
    let delivered = 0;
    while (pic.output) {
      expect(pic.readIrq()).toBe(0x20);
      delivered++;
      t.outb(0x20, 0x20); // EOI acknowledges: the next queued tick follows
    }
    expect(delivered).toBe(3);
    expect(t.kvm.pit!.pending).toBe(0);
    t.vm.archIoctl('reinjectControl', { pitReinject: 0 });
    advance(t, tickNs(1193 * 3));
    delivered = 0;
    while (pic.output) {
      pic.readIrq();
      delivered++;
      t.outb(0x20, 0x20);
    }
    expect(delivered).toBe(1);
    expectErrno(() => irqVm().vm.archIoctl('reinjectControl', { pitReinject: 1 }), 'ENXIO');
  });

  it('keeps ticking after the PIC is re-initialized over an unacknowledged IRQ0 (kvm_pic_reset acks edge IRR)', () => {
    // The PIT ticked while interrupts were off; the guest then reprograms the PIC (ICW1
    // drops the edge request). That drop counts as the acknowledgement, so reinjection
    // does not wait forever for an EOI that cannot come.
    const t = irqVm({ pit: true });
    initPics(t);
    const pic = t.kvm.irqchip!.pic;
    t.outb(0x43, 0x34);
    t.outb(0x40, 0xa9);
    t.outb(0x40, 0x04);
    advance(t, tickNs(1193));
    expect(pic.output).toBe(1); // IRQ0 pending, never acknowledged
    initPics(t);
    expect(pic.output).toBe(0); // the reset dropped the request...
    advance(t, tickNs(1193));
    expect(pic.output).toBe(1); // ...and the next tick arrives
    expect(pic.readIrq()).toBe(0x20);
  });

  it('forgets ticks queued while IRQ0 was masked once it is unmasked (PIC OCW1 and IOAPIC mask notifiers)', () => {
    const t = irqVm({ pit: true });
    initPics(t);
    const pic = t.kvm.irqchip!.pic;
    t.outb(0x43, 0x34);
    t.outb(0x40, 0xa9);
    t.outb(0x40, 0x04);
    t.outb(0x21, 0x01); // mask IRQ0
    advance(t, tickNs(1193 * 5));
    expect(t.kvm.pit!.pending).toBe(5);
    t.outb(0x21, 0x00); // unmask: pit_mask_notifer resets reinjection
    expect(t.kvm.pit!.pending).toBe(0);
    // The request latched while masked is still delivered once; then one per period.
    expect(pic.readIrq()).toBe(0x20);
    t.outb(0x20, 0x20);
    expect(pic.output).toBe(0);
    advance(t, tickNs(1193));
    expect(pic.readIrq()).toBe(0x20);

    // The same through the IOAPIC with the PC routing (GSI 0 -> pin 2).
    const u = irqVm({ pit: true });
    u.vm.setGsiRouting([
      { gsi: 0, type: 1, irqchip: { irqchip: 0, pin: 0 } },
      { gsi: 0, type: 1, irqchip: { irqchip: 2, pin: 2 } },
    ]);
    u.outb(0x21, 0xff); // PIC fully masked
    u.outb(0x43, 0x34);
    u.outb(0x40, 0xa9);
    u.outb(0x40, 0x04);
    advance(u, tickNs(1193 * 4));
    expect(u.kvm.pit!.pending).toBe(4);
    u.mmio32w(0, 0xfee000f0, 0x1ff);
    u.mmio32w(0, 0xfec00000, 0x14);
    u.mmio32w(0, 0xfec00010, 0x0030); // unmask pin 2
    expect(u.kvm.pit!.pending).toBe(0);
    advance(u, tickNs(1193));
    expect(u.x86[0]!.apic!.hasInterrupt()).toBe(0x30);
  });

  it('suppresses IRQ0 in HPET legacy mode', () => {
    const t = irqVm({ pit: true });
    initPics(t);
    t.outb(0x43, 0x34);
    t.outb(0x40, 100);
    t.outb(0x40, 0);
    const st = t.vm.getPit2<{ flags: number }>();
    t.vm.setPit2({ ...st, flags: 1 });
    advance(t, tickNs(500));
    expect(t.kvm.irqchip!.pic.output).toBe(0);
  });
});
