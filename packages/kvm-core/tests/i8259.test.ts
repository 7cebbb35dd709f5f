// The 8259A pair through its ports, as a guest programs it (8259A datasheet semantics).
import { describe, expect, it } from 'vitest';
import { uapi } from '@kvmts/kvm-core';
import { initPics, irqVm } from './irqchip-helpers';

const USER = 0; // KVM_USERSPACE_IRQ_SOURCE_ID

function setup(icw4 = 0x01) {
  const t = irqVm();
  initPics(t, icw4);
  const pic = t.kvm.irqchip!.pic;
  const raise = (irq: number) => pic.setIrq(irq, USER, 1);
  const lower = (irq: number) => pic.setIrq(irq, USER, 0);
  const pulse = (irq: number) => { raise(irq); lower(irq); };
  return { t, pic, raise, lower, pulse };
}

describe('i8259 PIC', () => {
  it('delivers an edge IRQ with the ICW2 vector base, sets ISR on INTA and clears it on EOI', () => {
    const { t, pic, pulse } = setup();
    expect(pic.output).toBe(0);
    pulse(1);
    expect(pic.output).toBe(1);
    t.outb(0x20, 0x0a); // OCW3: read IRR
    expect(t.inb(0x20)).toBe(0x02);
    expect(pic.readIrq()).toBe(0x21);
    expect(pic.output).toBe(0);
    t.outb(0x20, 0x0b); // OCW3: read ISR
    expect(t.inb(0x20)).toBe(0x02);
    t.outb(0x20, 0x0a);
    expect(t.inb(0x20)).toBe(0x00);
    t.outb(0x20, 0x20); // non-specific EOI
    t.outb(0x20, 0x0b);
    expect(t.inb(0x20)).toBe(0x00);
  });

  it('orders by priority: IR0 highest; a lower request waits while a higher one is in service', () => {
    const { pic, pulse, t } = setup();
    pulse(5);
    pulse(3);
    expect(pic.readIrq()).toBe(0x23);
    expect(pic.output).toBe(0); // IR5 is lower than IR3 in service
    pulse(1);
    expect(pic.output).toBe(1); // IR1 nests above IR3
    expect(pic.readIrq()).toBe(0x21);
    t.outb(0x20, 0x20); // EOI IR1
    expect(pic.output).toBe(0);
    t.outb(0x20, 0x20); // EOI IR3
    expect(pic.output).toBe(1);
    expect(pic.readIrq()).toBe(0x25);
  });

  it('cascades the slave through master IR2', () => {
    const { pic, pulse, t } = setup();
    pulse(10);
    expect(pic.output).toBe(1);
    expect(pic.readIrq()).toBe(0x2a);
    t.outb(0x20, 0x0b);
    expect(t.inb(0x20)).toBe(0x04);
    t.outb(0xa0, 0x0b);
    expect(t.inb(0xa0)).toBe(0x04);
  });

  it('masks with OCW1 (IMR reads back) and reports masked lines as -1', () => {
    const { pic, raise, lower, t } = setup();
    t.outb(0x21, 0x10);
    expect(t.inb(0x21)).toBe(0x10);
    expect(raise(4)).toBe(-1);
    expect(pic.output).toBe(0);
    t.outb(0x21, 0x00);
    expect(pic.output).toBe(1); // the latched edge is delivered on unmask
    lower(4);
    expect(pic.readIrq()).toBe(0x24);
  });

  it('returns 0 (coalesced) for an edge already pending', () => {
    const { raise, lower } = setup();
    expect(raise(6)).toBe(1);
    lower(6);
    expect(raise(6)).toBe(0);
  });

  it('keeps a level-triggered (ELCR) request in IRR while the line is high', () => {
    const { pic, raise, lower, t } = setup();
    t.outb(0x4d0, 0x08); // IRQ3 level
    expect(t.inb(0x4d0)).toBe(0x08);
    raise(3);
    expect(pic.readIrq()).toBe(0x23);
    t.outb(0x20, 0x0a);
    expect(t.inb(0x20)).toBe(0x08); // still requested
    t.outb(0x20, 0x20);
    expect(pic.output).toBe(1); // re-raised after EOI: the line is still high
    lower(3);
    expect(pic.output).toBe(0);
  });

  it('limits ELCR to the bits a PIIX allows (IRQ 0, 1, 2, 8, 13 are edge only)', () => {
    const { t } = setup();
    t.outb(0x4d0, 0xff);
    t.outb(0x4d1, 0xff);
    expect(t.inb(0x4d0)).toBe(0xf8);
    expect(t.inb(0x4d1)).toBe(0xde);
  });

  it('auto-EOI mode (ICW4 bit 1) leaves nothing in service', () => {
    const { pic, pulse, t } = setup(0x03);
    pulse(5);
    expect(pic.readIrq()).toBe(0x25);
    t.outb(0x20, 0x0b);
    expect(t.inb(0x20)).toBe(0x00);
  });

  it('poll mode: the read is the INTA and returns 0x80 | level', () => {
    const { pulse, t } = setup();
    pulse(6);
    t.outb(0x20, 0x0c); // OCW3 poll
    expect(t.inb(0x20)).toBe(0x86);
    t.outb(0x20, 0x0b);
    expect(t.inb(0x20)).toBe(0x40);
    t.outb(0x20, 0x0c);
    expect(t.inb(0x20)).toBe(0x00); // nothing requesting
  });

  it('answers a spurious IRQ 7 (master) or 15 (slave) when the request has gone', () => {
    const { pic, pulse, t } = setup();
    expect(pic.readIrq()).toBe(0x27);
    pulse(12);
    t.outb(0xa1, 0x10); // mask IRQ12 on the slave after it reached master IR2
    expect(pic.readIrq()).toBe(0x2f);
  });

  it('special mask mode lets lower levels through a masked in-service level', () => {
    const { pic, pulse, t } = setup();
    pulse(3);
    expect(pic.readIrq()).toBe(0x23);
    pulse(5);
    expect(pic.output).toBe(0);
    t.outb(0x21, 0x08); // mask IR3
    t.outb(0x20, 0x68); // OCW3: set special mask
    expect(pic.output).toBe(1);
    expect(pic.readIrq()).toBe(0x25);
    t.outb(0x20, 0x48); // reset special mask
  });

  it('rotates priorities (OCW2 set-priority, rotate on EOI) and honours specific EOI', () => {
    const { pic, pulse, t } = setup();
    t.outb(0x20, 0xc3); // IR3 lowest, so IR4 highest
    pulse(1);
    pulse(5);
    expect(pic.readIrq()).toBe(0x25);
    t.outb(0x20, 0x65); // specific EOI IR5
    expect(pic.readIrq()).toBe(0x21);
    t.outb(0x20, 0xa0); // rotate on non-specific EOI: IR1 becomes lowest, IR2 highest
    pulse(0);
    pulse(1);
    pulse(3);
    expect(pic.readIrq()).toBe(0x23);
    t.outb(0x20, 0x20);
    expect(pic.readIrq()).toBe(0x20);
    t.outb(0x20, 0x20);
    expect(pic.readIrq()).toBe(0x21);
  });

  it('serves guest IN/OUT on its ports in-kernel (no exit), merging IN into AL', () => {
    const t = irqVm();
    // mov al,0x5a; out 0x21,al; mov al,0; in al,0x21; out 0x99,al
    t.ram.set([0xb0, 0x5a, 0xe6, 0x21, 0xb0, 0x00, 0xe4, 0x21, 0xe6, 0x99], 0);
    const v = t.vcpus[0]!;
    v.setRegs({ ...v.getRegs(), rax: 0x1122334455667700n });
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    expect(run.io.port).toBe(0x99);
    expect([...run.io.data]).toEqual([0x5a]);
    expect(v.getRegs().rax).toBe(0x112233445566775an);
    expect(() => v.interrupt(0x20)).toThrow(/ENXIO/);
  });

  it('round-trips KVM_GET/SET_IRQCHIP for both chips and rejects bad chip ids', () => {
    const { t, pulse } = setup();
    pulse(9);
    const master = t.vm.getIrqchip<Record<string, number>>(0);
    const slave = t.vm.getIrqchip<Record<string, number>>(1);
    expect(master.irqBase).toBe(0x20);
    expect(slave.irqBase).toBe(0x28);
    expect(slave.irr).toBe(0x02);
    const other = irqVm();
    other.vm.setIrqchip(0, master);
    other.vm.setIrqchip(1, slave);
    expect(other.vm.getIrqchip(0)).toEqual(master);
    expect(other.kvm.irqchip!.pic.readIrq()).toBe(0x29);
    expect(() => t.vm.getIrqchip(3)).toThrow(/EINVAL.*chipId/);
    expect(() => t.vm.setIrqchip(0, { ...master, imr: 256 })).toThrow(/EINVAL.*state\.imr/);
  });
});
