/** pc-testdev as kvm-unit-tests use it. */
import { describe, expect, it } from 'vitest';
import { PcTestdev } from '../src/devices/pc-testdev';
import { RecordingIrq } from '../src/irq';

describe('pc-testdev', () => {
  it('0xe0 is a 32-bit register accessible at any width; 0xe8 is its byte view', () => {
    const t = new PcTestdev(() => new RecordingIrq());
    t.ioport.write(0xe0, 0, Uint8Array.of(0x78, 0x56, 0x34, 0x12));
    const d = new Uint8Array(2);
    t.ioport.read(0xe0, 2, d);
    expect([...d]).toEqual([0x34, 0x12]);
    t.ioport.write(0xe0, 1, Uint8Array.of(0xaa));
    expect(t.ioportData).toBe(0x1234aa78);
    t.ioportByte.write(0xe8, 3, Uint8Array.of(0x99));
    expect(t.ioportData).toBe(0x9934aa78);
  });

  it('a write to 0x2000+n sets ISA IRQ n to !!value', () => {
    const irqs = new Map<number, RecordingIrq>();
    const t = new PcTestdev((n) => { if (!irqs.has(n)) irqs.set(n, new RecordingIrq()); return irqs.get(n)!; });
    t.irqLines.write(0x2000, 10, Uint8Array.of(5));
    t.irqLines.write(0x2000, 10, Uint8Array.of(0));
    expect(irqs.get(10)!.levels).toEqual([1, 0]);
  });

  it('iomem is 64 KiB of scratch', () => {
    const t = new PcTestdev(() => new RecordingIrq());
    t.iomemDevice.write(0xff000000, 0xfffc, Uint8Array.of(1, 2, 3, 4));
    const d = new Uint8Array(4);
    t.iomemDevice.read(0xff000000, 0xfffc, d);
    expect([...d]).toEqual([1, 2, 3, 4]);
  });
});

describe('shared ISA interrupt lines', () => {
  it('a line is the OR of its sources; the irqchip sees only changes', async () => {
    const { SharedIrqLine } = await import('../src/irq');
    const out = new RecordingIrq();
    const line = new SharedIrqLine(out);
    const com1 = line.source();
    const com3 = line.source();
    com1.set(1);
    com3.set(1);
    com1.set(0);
    expect(out.levels).toEqual([1]);
    com3.set(0);
    expect(out.levels).toEqual([1, 0]);
  });
});
