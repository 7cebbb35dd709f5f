/**
 * The VGA and AC'97 on the pc machine's one PCI path (fake vendor): BARs from
 * assignPciResources next to a virtio device's, the LFB's own memory slot, and AC'97's
 * INTA through the PIIX3 PIRQ links that the MP table and _PRT describe.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPc } from './helpers/pc';

const cfgAddr = (dev: number, reg: number) => (0x80000000 | (dev << 11) | reg) >>> 0;

function machine() {
  const file = join(mkdtempSync(join(tmpdir(), 'pci-media-')), 'disk.raw');
  writeFileSync(file, new Uint8Array(8 * 512));
  const pc = buildPc({ drives: [{ id: 'd0', file, interface: 'none', readonly: false }], audiodevs: [{ driver: 'none', id: 'snd0' }] }, [
    { driver: 'VGA' }, { driver: 'AC97', audiodev: 'snd0' }, { driver: 'virtio-blk-pci', drive: 'd0' },
  ]);
  const cfg = (dev: number, reg: number, size = 4) => {
    pc.outl(0xcf8, cfgAddr(dev, reg & 0xfc));
    return pc.inl(0xcfc + (reg & 3), size);
  };
  return { ...pc, cfg };
}

describe('VGA and AC97 on the PCI infrastructure', () => {
  it('slots 2 (VGA), 3 (AC97), 4 (virtio-blk) with BARs assigned without overlap, decoding on', () => {
    const t = machine();
    expect([t.cfg(2, 0), t.cfg(3, 0), t.cfg(4, 0)]).toEqual([0x11111234, 0x24158086, 0x10421af4]);
    // Memory: the 16 MiB LFB first (largest), aligned to its size.
    const lfb = t.cfg(2, 0x10);
    expect(lfb & 0xf).toBe(0x8);
    expect((lfb & ~0xf) >>> 0).toBe(0xe0000000);
    const ranges: [number, number][] = [[0xe0000000, 16 << 20], [(t.cfg(2, 0x18) & ~0xf) >>> 0, 4096]];
    ranges.push([(t.cfg(4, 0x14) & ~0xf) >>> 0, 4096], [(t.cfg(4, 0x20) & ~0xf) >>> 0, 0x4000]);
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![0] + ranges[i - 1]![1]);
    // I/O: NAM (256) then NABM (64) from 0xc000.
    expect([t.cfg(3, 0x10), t.cfg(3, 0x14)]).toEqual([0xc001, 0xc101]);
    expect(t.cfg(2, 4, 2) & 0x2).toBe(0x2);
    expect(t.cfg(3, 4, 2) & 0x5).toBe(0x5); // I/O + bus master
    // The mixer answers where the board put BAR0 (STAC9700 vendor id).
    expect(t.inl(0xc000 + 0x7c, 2)).toBe(0x8384);
  });

  it('the LFB is its own dirty-logged memory slot next to RAM, following BAR0', () => {
    const t = machine();
    const vga = t.m.vga!;
    expect(vga.lfbAddress).toBe(0xe0000000);
    expect(t.vm.getDirtyLog(vga.lfbSlot).length).toBe((16 << 20) / 4096 / 8);
    // RAM keeps its slot 0 (not dirty-logged: not the LFB's).
    expect(() => t.vm.getDirtyLog(0)).toThrow();
    expect(vga.lfbSlot).not.toBe(0);
    t.outl(0xcf8, cfgAddr(2, 0x10));
    t.outl(0xcfc, 0xd0000000);
    expect(vga.lfbAddress).toBe(0xd0000000);
  });

  it('AC97 INTA: INTERRUPT_LINE, the PIRQ link to IRQ 11, the MP/_PRT view, and the VGA has no pin', () => {
    const t = machine();
    // slot 3 INTA -> PIRQC -> IRQ 11 (SeaBIOS's PIRQRC 10,10,11,11).
    expect(t.cfg(3, 0x3c, 2)).toBe(0x010b);
    expect(t.cfg(2, 0x3d, 1)).toBe(0);
    expect(t.m.pciIntx()).toEqual([{ slot: 3, pin: 1, irq: 11 }, { slot: 4, pin: 1, irq: 11 }]);
    const lines: [number, number][] = [];
    const orig = t.vm.irqLine.bind(t.vm);
    t.vm.irqLine = (irq: number, level: number) => {
      lines.push([irq, level]);
      orig(irq, level);
    };
    t.m.ac97!.setIrqLevel(1);
    expect(t.cfg(3, 6, 2) & 0x8).toBe(0x8); // STATUS.INTERRUPT
    t.m.ac97!.setIrqLevel(0);
    // PIRQC (0x62) -> IRQ 5: the AC'97's line follows the link.
    t.outl(0xcf8, cfgAddr(1, 0x60));
    t.outl(0xcfc, 0x0b050a0a);
    t.m.ac97!.setIrqLevel(1);
    t.m.ac97!.setIrqLevel(0);
    expect(lines).toEqual([[11, 1], [11, 0], [5, 1], [5, 0]]);
  });
});
