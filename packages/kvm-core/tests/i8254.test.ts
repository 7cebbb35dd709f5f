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
