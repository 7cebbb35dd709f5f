/** PCI configuration mechanism #1 on the pc machine: the functions QEMU's pc has. */
import { describe, expect, it } from 'vitest';
import { buildPc } from './helpers/pc';

const cfgAddr = (dev: number, fn: number, reg: number) => (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0;

describe('PCI host bridge (0xcf8/0xcfc)', () => {
  it('enumerates i440FX 00:00.0, PIIX3 00:01.0 (multi-function) and PIIX4 PM 00:01.3, nothing else', () => {
    const { inl, outl } = buildPc();
    const ids: string[] = [];
    for (let dev = 0; dev < 32; dev++) {
      for (let fn = 0; fn < 8; fn++) {
        outl(0xcf8, cfgAddr(dev, fn, 0));
        const id = inl(0xcfc);
        if (id !== 0xffffffff) {
          outl(0xcf8, cfgAddr(dev, fn, 8));
          const cls = inl(0xcfc) >>> 8;
          ids.push(`${dev}.${fn} ${(id & 0xffff).toString(16)}:${(id >>> 16).toString(16)} ${cls.toString(16).padStart(6, '0')}`);
        }
        if (fn === 0) {
          outl(0xcf8, cfgAddr(dev, 0, 0x0c));
          if (id === 0xffffffff || !((inl(0xcfc) >>> 16) & 0x80)) break; // single-function
        }
      }
    }
    expect(ids).toEqual(['0.0 8086:1237 060000', '1.0 8086:7000 060100', '1.3 8086:7113 068000']);
  });

  it('reads CONFIG_ADDRESS back, and byte/word reads at 0xcfc+n', () => {
    const { inl, outl } = buildPc();
    outl(0xcf8, cfgAddr(0, 0, 0));
    expect(inl(0xcf8)).toBe(0x80000000);
    expect(inl(0xcfe, 2)).toBe(0x1237);
    expect(inl(0xcfd, 1)).toBe(0x80);
    outl(0xcf8, cfgAddr(0, 0, 0) & 0x7fffffff); // enable bit clear: no config cycle
    expect(inl(0xcfc)).toBe(0xffffffff);
  });

  it('IDs are read-only; the interrupt line is writable', () => {
    const { inl, outl } = buildPc();
    outl(0xcf8, cfgAddr(0, 0, 0));
    outl(0xcfc, 0x12345678);
    expect(inl(0xcfc)).toBe(0x12378086);
    outl(0xcf8, cfgAddr(1, 3, 0x3c));
    expect(inl(0xcfc) & 0xffff).toBe(0x0109); // pin INTA, line 9 (SCI)
    outl(0xcfc, 0x0b, 1);
    expect(inl(0xcfc, 1)).toBe(0x0b);
  });

  it('PIIX4 PM: PMBA at 0x40 (0x601) maps the PM registers; moving it moves them', () => {
    const { inl, outl, clock } = buildPc();
    outl(0xcf8, cfgAddr(1, 3, 0x40));
    expect(inl(0xcfc)).toBe(0x601);
    clock.advance(1e9);
    expect(inl(0x608)).toBe(3579545); // PM timer: 3.579545 MHz
    outl(0xcfc, 0xb000);
    expect(inl(0xcfc)).toBe(0xb001);
    expect(inl(0xb008)).toBe(3579545);
    expect(inl(0x608)).toBe(0xffffffff); // nothing there any more
  });

  it('pci-testdev appears at the first free slot with its BARs sized and decoded', () => {
    const { inl, outl, m } = buildPc({ devices: [{ driver: 'loader', file: '/dev/null', addr: 0x100000, cpuNum: 0 }, { driver: 'pci-testdev' }] });
    outl(0xcf8, cfgAddr(2, 0, 0));
    expect(inl(0xcfc)).toBe(0x00051b36);
    outl(0xcf8, cfgAddr(2, 0, 0x10));
    const bar0 = inl(0xcfc);
    outl(0xcfc, 0xffffffff);
    expect(inl(0xcfc)).toBe(0xfffff000); // 4 KiB memory BAR
    outl(0xcfc, bar0);
    outl(0xcf8, cfgAddr(2, 0, 0x14));
    const bar1 = inl(0xcfc);
    expect(bar1 & 1).toBe(1);
    const io = bar1 & ~3;
    // Select test 0 ("portio-no-eventfd" on the I/O BAR), write its offset, read the count.
    outl(io, 0, 1);
    const name = Array.from({ length: 17 }, (_, i) => inl(io + 16 + i, 1));
    expect(String.fromCharCode(...name)).toBe('portio-no-eventfd');
    const off = inl(io + 4, 1) | (inl(io + 5, 1) << 8);
    outl(io + off, 0xfa, 1);
    outl(io + off, 0xfa, 1);
    expect(inl(io + 12, 1)).toBe(2);
    expect(m.mmio.resolve(bar0)).toBeDefined();
  });
});
