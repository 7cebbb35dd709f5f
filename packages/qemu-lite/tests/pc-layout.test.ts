/** The PC memory layout, slots and e820 for small and large -m. */
import { describe, expect, it } from 'vitest';
import { E820_RAM, E820_RESERVED, GiB, MiB, parseMemSize, pcE820, pcMemoryLayout, pcRamRegions } from '../src/machine/pc-layout';
import { buildPc } from './helpers/pc';

describe('pc memory layout', () => {
  it('128 MiB: conventional RAM, the BIOS area, extended RAM to 128 MiB; nothing above 4 GiB', () => {
    const l = pcMemoryLayout(128 * MiB);
    expect(pcRamRegions(l).map((r) => [r.guestPhysAddr, r.size])).toEqual([
      [0, 0xa0000], [0xc0000, 0x40000], [0x100000, 127 * MiB],
    ]);
    expect(pcE820(l)).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
      { addr: 0xe0000, size: 0x20000, type: E820_RESERVED },
      { addr: 0x100000, size: 127 * MiB, type: E820_RAM },
      { addr: 0xfffc0000, size: 0x40000, type: E820_RESERVED },
    ]);
  });

  it('-m 4G: RAM below 4 GiB stops at 3 GiB (the PCI hole), the rest is above 4 GiB', () => {
    const l = pcMemoryLayout(4 * GiB);
    expect(l.belowFourGEnd).toBe(3 * GiB);
    expect(l.aboveFourG).toBe(1 * GiB);
    const e = pcE820(l);
    expect(e.at(-1)).toEqual({ addr: 4 * GiB, size: 1 * GiB, type: E820_RAM });
    expect(pcMemoryLayout(0xdff00000).aboveFourG).toBe(0); // just below the 3.5 GiB threshold
  });

  it('parses -m sizes as QEMU: plain MiB, K/M/G suffixes', () => {
    expect(parseMemSize('256')).toBe(256 * MiB);
    expect(parseMemSize('1G')).toBe(GiB);
    expect(parseMemSize('512M')).toBe(512 * MiB);
    expect(parseMemSize('65536k')).toBe(64 * MiB);
    expect(parseMemSize('1.5G')).toBe(1.5 * GiB);
    expect(parseMemSize('lots')).toBeUndefined();
  });

  it('registers the RAM as KVM memory slots; the VGA hole has none', () => {
    const { vm } = buildPc();
    const slots = vm.memslots.all().map((s) => [s.guestPhysAddr, s.memorySize]);
    expect(slots).toEqual([[0, 0xa0000], [0xc0000, 0x40000], [0x100000, 31 * MiB]]);
    expect(vm.memslots.find(0xb8000)).toBeUndefined();
  });

  it('-m 4G registers RAM up to 3 GiB and 1 GiB above 4 GiB as slots', () => {
    const { vm, m } = buildPc({ memSize: 4 * GiB });
    expect(vm.memslots.all().map((x) => [x.guestPhysAddr, x.memorySize])).toEqual([
      [0, 0xa0000], [0xc0000, 0x40000], [0x100000, 3 * GiB - 0x100000], [4 * GiB, GiB],
    ]);
    m.mem.writeU32(4 * GiB + 16, 0xdeadbeef);
    expect(vm.memslots.find(4 * GiB)!.hva[16]).toBe(0xef); // the slot and the VMM share the bytes
  });
});
