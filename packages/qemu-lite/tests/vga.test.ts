/** The VGA's registers, memory window modes, VBE DISPI, the PCI function's BARs, and rendering. */
import { describe, expect, it } from 'vitest';
import type { Vm } from '@kvmts/kvm-core';
import { Bus } from '../src/bus';
import { VgaCore } from '../src/devices/vga/vga';
import { PciVga } from '../src/devices/vga/vga-pci';
import { NO_IRQ } from '../src/irq';
import { assignPciResources, pcPciWindows } from '../src/pci/pci-assign';
import { PciHost } from '../src/pci/pci-host';
import { VGA_FONT_8X16 } from '../src/devices/vga/vga-font';
import { renderVga, vgaScreenMode } from '../src/display/vga-render';

const MiB = 1024 * 1024;
const io = (v: VgaCore) => ({
  out: (port: number, val: number) => v.ioportWrite(port, val),
  in: (port: number) => v.ioportRead(port),
});
const vbe = (v: VgaCore, index: number, value?: number) => {
  v.vbeWriteIndex(index);
  if (value !== undefined) v.vbeWriteData(value);
  return v.vbeReadData();
};

describe('VGA registers', () => {
  it('starts in BIOS text mode 3: font in plane 2, cleared screen, EGA palette', () => {
    const v = new VgaCore({ vramSize: 16 * MiB });
    expect(vgaScreenMode(v)).toBe('text');
    expect(v.vram[(0x41 * 32 + 5) * 4 + 2]).toBe(VGA_FONT_8X16[0x41 * 16 + 5]);
    expect([v.vram[0], v.vram[1]]).toEqual([0x20, 0x07]);
    expect([...v.palette.subarray(0x14 * 3, 0x14 * 3 + 3)]).toEqual([42, 21, 0]);
    expect(VGA_FONT_8X16.subarray(0x41 * 16, 0x42 * 16).some((b) => b !== 0)).toBe(true);
  });

  it('DAC: write index auto-increments over r,g,b; read index with state; 0x3c7 reads 3 after a read index', () => {
    const v = new VgaCore({ vramSize: MiB });
    const p = io(v);
    p.out(0x3c8, 10);
    for (const x of [1, 2, 3, 4, 5, 6]) p.out(0x3c9, x);
    expect(p.in(0x3c8)).toBe(12);
    p.out(0x3c7, 11);
    expect(p.in(0x3c7)).toBe(3);
    expect([p.in(0x3c9), p.in(0x3c9), p.in(0x3c9)]).toEqual([4, 5, 6]);
  });

  it('attribute controller: index/data flip-flop reset by reading input status 1; masks', () => {
    const v = new VgaCore({ vramSize: MiB });
    const p = io(v);
    p.in(0x3da);
    p.out(0x3c0, 0x03);
    p.out(0x3c0, 0xff);
    expect(v.ar[3]).toBe(0x3f);
    p.in(0x3da);
    p.out(0x3c0, 0x20 | 0x03);
    expect(p.in(0x3c1)).toBe(0x3f);
    expect(p.in(0x3c0)).toBe(0); // flip-flop at data: the index port reads 0
    p.in(0x3da);
    expect(p.in(0x3c0)).toBe(0x23);
    const s1 = p.in(0x3da);
    expect(p.in(0x3da) ^ s1).toBe(0x09); // retrace and display-enable toggle
  });

  it('CRTC: CR0-CR7 locked by CR11 bit 7 except CR7 bit 4; mono ports dead in colour mode', () => {
    const v = new VgaCore({ vramSize: MiB });
    const p = io(v);
    p.out(0x3d4, 0x01);
    p.out(0x3d5, 0x10);
    expect(v.cr[1]).toBe(0x4f);
    p.out(0x3d4, 0x07);
    p.out(0x3d5, 0x00);
    expect(v.cr[7]).toBe(0x0f);
    p.out(0x3d4, 0x11);
    p.out(0x3d5, 0x0e);
    p.out(0x3d4, 0x01);
    p.out(0x3d5, 0x10);
    expect(v.cr[1]).toBe(0x10);
    expect(p.in(0x3b5)).toBe(0xff);
    p.out(0x3c4, 0x02);
    p.out(0x3c5, 0xff);
    expect(p.in(0x3c5)).toBe(0x0f);
  });

  it('planar mode: write mode 0 with set/reset and bit mask, latches, read modes 0 and 1', () => {
    const v = new VgaCore({ vramSize: MiB });
    const p = io(v);
    p.out(0x3c4, 0x04); p.out(0x3c5, 0x06); // planar, not odd/even
    p.out(0x3ce, 0x06); p.out(0x3cf, 0x05); // graphics, A0000 64K
    p.out(0x3ce, 0x05); p.out(0x3cf, 0x00); // write mode 0, read mode 0
    p.out(0x3c4, 0x02); p.out(0x3c5, 0x0f);
    p.out(0x3ce, 0x01); p.out(0x3cf, 0x05); // set/reset enable planes 0,2
    p.out(0x3ce, 0x00); p.out(0x3cf, 0x01); // set/reset value: plane 0 ones, plane 2 zeros
    p.out(0x3ce, 0x08); p.out(0x3cf, 0xf0); // bit mask: high nibble
    v.memWrite(0x10, 0x3c);
    // Latches were zero: planes get (data or set/reset) & mask.
    expect([...v.vram.subarray(0x40, 0x44)]).toEqual([0xf0, 0x30, 0x00, 0x30]);
    p.out(0x3ce, 0x04); p.out(0x3cf, 0x01);
    expect(v.memRead(0x10)).toBe(0x30);
    // Read mode 1: compare all planes with colour 0b1011 (planes 0,1,3 set).
    p.out(0x3ce, 0x05); p.out(0x3cf, 0x08);
    p.out(0x3ce, 0x02); p.out(0x3cf, 0x0b);
    p.out(0x3ce, 0x07); p.out(0x3cf, 0x0f);
    expect(v.memRead(0x10)).toBe(0x30);
    // Write mode 1 copies the latches to another address.
    p.out(0x3ce, 0x05); p.out(0x3cf, 0x01);
    v.memWrite(0x20, 0);
    expect([...v.vram.subarray(0x80, 0x84)]).toEqual([0xf0, 0x30, 0x00, 0x30]);
  });

  it('chain-4 maps window bytes straight to video memory; odd/even splits characters and attributes', () => {
    const v = new VgaCore({ vramSize: MiB });
    v.memWrite(0x18000 + 2, 0x41); // B8000 text window, cell 1
    v.memWrite(0x18000 + 3, 0x1e);
    expect([v.vram[4], v.vram[5]]).toEqual([0x41, 0x1e]);
    expect(v.memRead(0x18000 + 3)).toBe(0x1e);
    expect(v.memRead(0x0)).toBe(0xff); // A0000 is not decoded with map 3
    const p = io(v);
    p.out(0x3c4, 0x04); p.out(0x3c5, 0x0e);
    p.out(0x3ce, 0x06); p.out(0x3cf, 0x05);
    v.memWrite(0x123, 0x77);
    expect(v.vram[0x123]).toBe(0); // plane 3 is not write-enabled in mode 3 (SR2 = 0x03)
    p.out(0x3c4, 0x02); p.out(0x3c5, 0x0f);
    v.memWrite(0x123, 0x77);
    expect(v.vram[0x123]).toBe(0x77);
  });
});

describe('VBE DISPI', () => {
  it('ID, video memory size, GETCAPS maxima, fixups (XRES & ~7, bad bpp -> 8, virtual height), bank', () => {
    const v = new VgaCore({ vramSize: 16 * MiB });
    expect(vbe(v, 0)).toBe(0xb0c5);
    expect(vbe(v, 0xa)).toBe(256);
    vbe(v, 4, 0x02);
    expect([vbe(v, 1), vbe(v, 2), vbe(v, 3)]).toEqual([16000, 12000, 32]);
    vbe(v, 4, 0);
    vbe(v, 1, 803);
    vbe(v, 2, 600);
    vbe(v, 3, 7);
    vbe(v, 4, 0x41);
    expect([vbe(v, 1), vbe(v, 3), vbe(v, 6), vbe(v, 7)]).toEqual([800, 8, 800, Math.floor(16 * MiB / 800)]);
    expect(vgaScreenMode(v)).toBe('vbe');
    expect(v.seq(4) & 0x08).toBe(0x08); // chain-4 while a VBE mode is on
    vbe(v, 5, 3);
    v.memWrite(0x10, 0xab);
    expect(v.vram[3 * 0x10000 + 0x10]).toBe(0xab);
    vbe(v, 8, 8);
    expect(v.vbeStartAddr).toBe(2);
  });

  it('enabling clears the visible memory unless NOCLEARMEM', () => {
    const v = new VgaCore({ vramSize: 4 * MiB });
    v.vram.fill(0x55, 0, 2000);
    vbe(v, 1, 64); vbe(v, 2, 4); vbe(v, 3, 32);
    vbe(v, 4, 0x01 | 0x80);
    expect(v.vram[10]).toBe(0x55);
    vbe(v, 4, 0);
    vbe(v, 4, 0x01);
    expect(v.vram[10]).toBe(0);
    expect(v.vram[64 * 4 * 4]).toBe(0x55);
  });
});

describe('rendering', () => {
  it('text cells from the font with attribute colours, 9-dot cells, cursor off by CR0A bit 5', () => {
    const v = new VgaCore({ vramSize: MiB });
    v.vram[0] = 0x41;
    v.vram[1] = 0x1e; // yellow on blue
    v.cr[0x0a] |= 0x20;
    const img = renderVga(v);
    expect([img.width, img.height]).toEqual([720, 400]);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 9; x++) {
        const on = x < 8 && (VGA_FONT_8X16[0x41 * 16 + y]! >> (7 - x)) & 1;
        const o = (y * 720 + x) * 3;
        expect([...img.data.subarray(o, o + 3)]).toEqual(on ? [255, 255, 87] : [0, 0, 168]);
      }
    // Cursor on at cell 0, scan lines 13-14 (mode 3 cursor shape 0x0d-0x0e).
    v.cr[0x0a] &= ~0x20;
    const c = renderVga(v);
    expect([...c.data.subarray((14 * 720 + 3) * 3, (14 * 720 + 3) * 3 + 3)]).toEqual([255, 255, 87]);
    expect([...c.data.subarray((15 * 720 + 3) * 3, (15 * 720 + 3) * 3 + 3)]).toEqual([0, 0, 168]);
  });

  it('VBE 8 (DAC, 6- or 8-bit), 15, 16, 24, 32 bpp pixels', () => {
    const px = (bpp: number, bytes: number[], setup?: (v: VgaCore) => void) => {
      const v = new VgaCore({ vramSize: MiB });
      vbe(v, 1, 8); vbe(v, 2, 1); vbe(v, 3, bpp);
      setup?.(v);
      vbe(v, 4, 0x01 | (setup ? 0x20 : 0));
      v.vram.set(bytes, 0);
      const img = renderVga(v);
      return [...img.data.subarray(0, 3)];
    };
    expect(px(32, [0x30, 0x20, 0x10, 0])).toEqual([0x10, 0x20, 0x30]);
    expect(px(24, [0x30, 0x20, 0x10])).toEqual([0x10, 0x20, 0x30]);
    expect(px(16, [0x1f, 0xf8])).toEqual([255, 0, 255]);
    expect(px(16, [0xe0, 0x07])).toEqual([0, 255, 0]);
    expect(px(15, [0x00, 0x7c])).toEqual([255, 0, 0]);
    expect(px(15, [0x10, 0x42])).toEqual([132, 132, 132]);
    const v8 = (v: VgaCore) => v.palette.set([200, 100, 50], 9 * 3);
    expect(px(8, [9], v8)).toEqual([200, 100, 50]); // 8-bit DAC
  });

  it('legacy 256-colour chain-4 (mode 13h geometry) draws pixels doubled horizontally', () => {
    const v = new VgaCore({ vramSize: MiB });
    const p = io(v);
    // Mode 13h-like: graphics, 256-colour shift, chain-4, 320x200 with double scan.
    p.out(0x3c4, 0x04); p.out(0x3c5, 0x0e);
    p.out(0x3ce, 0x05); p.out(0x3cf, 0x40);
    p.out(0x3ce, 0x06); p.out(0x3cf, 0x05);
    v.cr[0x11] = 0; p.out(0x3d4, 0x09); p.out(0x3d5, 0x41); p.out(0x3d4, 0x13); p.out(0x3d5, 0x28);
    p.out(0x3d4, 0x01); p.out(0x3d5, 0x4f); p.out(0x3d4, 0x12); p.out(0x3d5, 0x8f); p.out(0x3d4, 0x07); p.out(0x3d5, 0x1f);
    p.out(0x3c8, 5); p.out(0x3c9, 63); p.out(0x3c9, 0); p.out(0x3c9, 0);
    v.memWrite(321, 5);
    const img = renderVga(v);
    expect([img.width, img.height]).toEqual([320, 200]);
    expect([...img.data.subarray((320 + 1) * 3, (320 + 1) * 3 + 3)]).toEqual([255, 0, 0]);
  });
});

describe('PciVga (1234:1111)', () => {
  function fakeVm() {
    const calls: { slot: number; guestPhysAddr: number; memorySize: number; flags: number }[] = [];
    const vm = {
      setUserMemoryRegion: (r: { slot: number; guestPhysAddr: number; memorySize: number; flags: number }) => calls.push({ slot: r.slot, guestPhysAddr: r.guestPhysAddr, memorySize: r.memorySize, flags: r.flags }),
      getDirtyLog: () => new Uint8Array(512),
    } as unknown as Vm;
    return { vm, calls };
  }

  /** The function on bus 0 slot 2 with its BARs assigned as the pc machine does (RAM ends at 128 MiB). */
  function plugged(vm: Vm, lfbSlot = 5) {
    const pio = new Bus('pio', 0x10000);
    const mmio = new Bus('mmio', 2 ** 52);
    const f = new PciVga({ vm, pio, mmio, lfbSlot });
    const host = new PciHost();
    host.setSlotContext(() => ({ pio, mmio, warn: () => {}, intx: NO_IRQ }));
    host.addFunction(2, 0, f);
    assignPciResources(host, pcPciWindows(128 * MiB), () => -1);
    return { pio, mmio, f };
  }

  it('config space, prefetchable 16 MiB BAR0 sizing, LFB slot with dirty logging that follows BAR0', () => {
    const { vm, calls } = fakeVm();
    const pio = new Bus('pio', 0x10000);
    const mmio = new Bus('mmio', 2 ** 52);
    const unplugged = new PciVga({ vm, pio, mmio, lfbSlot: 5 });
    expect(unplugged.readConfig(0x10, 4)).toBe(0x8); // unassigned until the board programs it
    expect(unplugged.readConfig(0x3d, 1)).toBe(0); // no INTx pin, as QEMU's VGA
    expect(calls).toEqual([]);
    const { f } = plugged(vm, 7);
    expect(f.readConfig(0, 4)).toBe(0x11111234);
    expect(f.readConfig(0x08, 4) >>> 8).toBe(0x030000);
    expect(f.readConfig(0x2c, 4)).toBe(0x11001af4);
    // assignPciResources: the 16 MiB LFB first at the window's start, then BAR2's 4 KiB.
    expect(f.readConfig(0x10, 4)).toBe((0xe0000000 | 0x8) >>> 0);
    expect(f.readConfig(0x18, 4)).toBe(0xe1000000);
    expect(f.readConfig(0x04, 2) & 0x2).toBe(0x2);
    expect(calls.at(-1)).toEqual({ slot: 7, guestPhysAddr: 0xe0000000, memorySize: 16 * MiB, flags: 1 });
    expect(f.lfbAddress).toBe(0xe0000000);
    f.writeConfig(0x04, 2, 0); // decoding off: slot deleted
    expect(calls.at(-1)).toEqual({ slot: 7, guestPhysAddr: 0xe0000000, memorySize: 0, flags: 0 });
    expect(f.lfbAddress).toBe(-1);
    expect(f.lfbDirtyLog()).toBeNull();
    f.writeConfig(0x10, 4, 0xffffffff);
    expect(f.readConfig(0x10, 4)).toBe(0xff000008);
    f.writeConfig(0x04, 2, 3); // decoding on with the sizing pattern: not a placement
    expect(f.lfbAddress).toBe(-1);
    const n = calls.length;
    f.writeConfig(0x10, 4, 0xd0000000);
    expect(calls.length).toBe(n + 1);
    expect(calls.at(-1)).toEqual({ slot: 7, guestPhysAddr: 0xd0000000, memorySize: 16 * MiB, flags: 1 });
    expect(f.lfbAddress).toBe(0xd0000000);
    // A move deletes the old slot before creating the new one.
    f.writeConfig(0x10, 4, 0xc0000000);
    expect(calls.slice(-2)).toEqual([
      { slot: 7, guestPhysAddr: 0xd0000000, memorySize: 0, flags: 0 },
      { slot: 7, guestPhysAddr: 0xc0000000, memorySize: 16 * MiB, flags: 1 },
    ]);
  });

  it('an LFB placement the VM refuses (overlapping RAM) is not decoded', () => {
    const { vm } = fakeVm();
    (vm as unknown as { setUserMemoryRegion: (r: { memorySize: number }) => void }).setUserMemoryRegion = (r) => {
      if (r.memorySize !== 0) throw new Error('EEXIST');
    };
    const { f } = plugged(vm);
    expect(f.lfbAddress).toBe(-1);
    expect(f.lfbDirtyLog()).toBeNull();
  });

  it('BAR2 MMIO: VGA ports at 0x400, DISPI registers at 0x500 + 2n, QEMU extended registers at 0x600', () => {
    const { vm } = fakeVm();
    const { pio, mmio, f } = plugged(vm);
    const bar2 = f.regionAddress(2);
    const d = new Uint8Array(2);
    mmio.read(bar2 + 0x500, d);
    expect(d[0]! | (d[1]! << 8)).toBe(0xb0c5);
    mmio.write(bar2 + 0x502, Uint8Array.from([0x80, 0x02]));
    expect(f.core.vbeRegs[1]).toBe(640);
    mmio.write(bar2 + 0x400 + 8, Uint8Array.from([7])); // 0x3c8 DAC write index
    expect(f.core.dacWriteIndex).toBe(7);
    const q = new Uint8Array(4);
    mmio.read(bar2 + 0x604, q);
    expect(Buffer.from(q).readUInt32LE(0)).toBe(0x1e1e1e1e);
    // Legacy ports and the VBE index/data pair on the PIO bus, the window on the MMIO bus.
    const w = new Uint8Array(2);
    pio.write(0x1ce, Uint8Array.from([0, 0]));
    pio.read(0x1cf, w);
    expect(w[0]! | (w[1]! << 8)).toBe(0xb0c5);
    mmio.write(0xb8000, Uint8Array.from([0x42, 0x07]));
    expect(f.core.vram[0]).toBe(0x42);
  });
});

describe('screen_info for Linux (vgacon)', () => {
  it('describes BIOS mode 3: 80x25, 16-point font, VGA, cursor from the CRTC', async () => {
    const { writeVgaScreenInfo } = await import('../src/devices/vga/screen-info');
    const { GuestMemory } = await import('../src/machine/guest-memory');
    const ram = new Uint8Array(0x20000);
    const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: ram }]);
    const v = new VgaCore({ vramSize: MiB });
    v.cr[0x0e] = 0x00;
    v.cr[0x0f] = 0xa5; // offset 165: row 2, column 5
    const { hasLinuxBootParams } = await import('../src/devices/vga/screen-info');
    expect(hasLinuxBootParams(mem, 0x10000)).toBe(false);
    mem.writeU32(0x10202, 0x53726448);
    expect(hasLinuxBootParams(mem, 0x10000)).toBe(true);
    expect(hasLinuxBootParams(mem, 0)).toBe(false);
    writeVgaScreenInfo(mem, 0x10000, v);
    const b = Buffer.from(ram.buffer, 0x10000, 0x12);
    expect([b[0], b[1], b[6], b[7], b.readUInt16LE(0x0a), b[0x0e], b[0x0f], b.readUInt16LE(0x10)]).toEqual([5, 2, 3, 80, 3, 25, 1, 16]);
  });
});
