/** Multiboot v1 (info layout, modules, mmap, a.out kludge) and ELF loading. */
import { describe, expect, it } from 'vitest';
import { parseElf, loadElf } from '../src/loaders/elf';
import { isBzImage, loadKernel } from '../src/loaders/kernel';
import {
  MBI_BOOT_LOADER_NAME, MBI_CMDLINE, MBI_FLAGS, MBI_MEM_LOWER, MBI_MEM_UPPER, MBI_MMAP_ADDR, MBI_MMAP_LENGTH, MBI_MODS_ADDR,
  MBI_MODS_COUNT, findMultibootHeader,
} from '../src/loaders/multiboot';
import { GuestMemory } from '../src/machine/guest-memory';
import { MiB, pcE820, pcMemoryLayout } from '../src/machine/pc-layout';
import { Prog, aoutKludge, bzImage, elf32 } from './helpers/guest';

function memory(size = 32 * MiB) {
  return new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(size) }]);
}
function cstr(mem: GuestMemory, addr: number): string {
  let s = '';
  for (let a = addr; mem.readU8(a) !== 0; a++) s += String.fromCharCode(mem.readU8(a));
  return s;
}

describe('multiboot', () => {
  const layout = pcMemoryLayout(32 * MiB);
  const e820 = pcE820(layout);

  it('loads an ELF32 multiboot kernel and builds the info block as QEMU does', () => {
    const mem = memory();
    const code = new Prog().hlt().build();
    const img = elf32(code, 0x100000, { multiboot: true, bss: 0x2345 });
    mem.fill(0x100000, 0x10000, 0xcc); // BSS must come out zeroed
    const k = loadKernel(mem, img, {
      kernelPath: '/boot/kernel.elf', append: 'root=/dev/vda quiet', belowFourGEnd: layout.belowFourGEnd, e820,
      modules: [{ cmdline: 'initrd.img arg1', data: Uint8Array.of(1, 2, 3) }, { cmdline: 'second', data: new Uint8Array(5000) }],
    });
    expect(k).toMatchObject({ protocol: 'multiboot', mode: 'protected', eax: 0x2badb002, entry: 0x10000c });
    expect(mem.readU8(0x10000c)).toBe(0xf4);
    expect(mem.readU8(0x10000d)).toBe(0); // BSS zeroed
    expect(mem.readU8(0x100000 + 13 + 0x2344)).toBe(0);
    const mbi = k.ebx;
    expect(mem.readU32(mbi + MBI_FLAGS)).toBe(0x24f); // mem, bootdev, cmdline, mods, mmap, loader name
    expect(mem.readU32(mbi + MBI_MEM_LOWER)).toBe(640);
    expect(mem.readU32(mbi + MBI_MEM_UPPER)).toBe(31 * 1024);
    expect(cstr(mem, mem.readU32(mbi + MBI_CMDLINE))).toBe('/boot/kernel.elf root=/dev/vda quiet');
    expect(cstr(mem, mem.readU32(mbi + MBI_BOOT_LOADER_NAME))).toBe('qemu');
    expect(mem.readU32(mbi + MBI_MODS_COUNT)).toBe(2);
    const mods = mem.readU32(mbi + MBI_MODS_ADDR);
    const m0 = { start: mem.readU32(mods), end: mem.readU32(mods + 4), s: cstr(mem, mem.readU32(mods + 8)) };
    const m1 = { start: mem.readU32(mods + 16), end: mem.readU32(mods + 20), s: cstr(mem, mem.readU32(mods + 24)) };
    expect(m0.start % 4096).toBe(0);
    expect(m0.start).toBeGreaterThanOrEqual(0x100000 + 13 + 0x2345);
    expect(m0.end - m0.start).toBe(3);
    expect(m0.s).toBe('initrd.img arg1');
    expect([...mem.read(m0.start, 3)]).toEqual([1, 2, 3]);
    expect(m1.start).toBe(m0.start + 4096);
    expect(m1.end - m1.start).toBe(5000);
    expect(m1.s).toBe('second');
    const mmapLen = mem.readU32(mbi + MBI_MMAP_LENGTH);
    const mmap = mem.readU32(mbi + MBI_MMAP_ADDR);
    expect(mmapLen).toBe(e820.length * 24);
    const entries = Array.from({ length: e820.length }, (_, i) => ({
      size: mem.readU32(mmap + 24 * i), addr: mem.readU32(mmap + 24 * i + 4), len: mem.readU32(mmap + 24 * i + 12), type: mem.readU32(mmap + 24 * i + 20),
    }));
    expect(entries[0]).toEqual({ size: 20, addr: 0, len: 0x9fc00, type: 1 });
    expect(entries[3]).toEqual({ size: 20, addr: 0x100000, len: 31 * MiB, type: 1 });
  });

  it('loads the a.out kludge by its address fields, zeroing to bss_end_addr', () => {
    const mem = memory();
    mem.fill(0x200000, 0x3000, 0xee);
    const img = aoutKludge(new Prog().hlt().build(), 0x200000, 0x1000);
    const h = findMultibootHeader(img)!;
    expect(h.flags & 0x10000).toBe(0x10000);
    const k = loadKernel(mem, img, { kernelPath: 'k', append: '', modules: [], belowFourGEnd: layout.belowFourGEnd, e820 });
    expect(k.entry).toBe(0x200020);
    expect(mem.readU8(0x200020)).toBe(0xf4);
    expect(mem.readU8(0x200021)).toBe(0);
    expect(mem.readU8(0x200021 + 0xfff)).toBe(0);
    expect(mem.readU8(0x200021 + 0x1000)).toBe(0xee); // beyond bss_end_addr: untouched
    expect(cstr(mem, mem.readU32(k.ebx + MBI_CMDLINE))).toBe('k '); // file name, space, empty -append
  });

  it('finds no header when the checksum is wrong', () => {
    const img = aoutKludge(new Prog().hlt().build(), 0x200000);
    img[8] ^= 1;
    expect(findMultibootHeader(img)).toBeUndefined();
  });

  it('refuses a multiboot kernel that does not fit in RAM', () => {
    const mem = memory(4 * MiB);
    const img = elf32(new Prog().hlt().build(), 0x800000, { multiboot: true });
    expect(() => loadKernel(mem, img, { kernelPath: 'big', append: '', modules: [], belowFourGEnd: 4 * MiB, e820 })).toThrow(/outside guest RAM/);
  });
});

describe('Linux boot protocol (bzImage)', () => {
  const layout = pcMemoryLayout(32 * MiB);
  const e820 = pcE820(layout);
  const load = (img: Uint8Array, append = 'console=ttyS0', modules: { cmdline: string; data: Uint8Array }[] = [], mem = memory()) =>
    ({ mem, k: loadKernel(mem, img, { kernelPath: 'bzImage', append, modules, belowFourGEnd: layout.belowFourGEnd, e820, rsdpAddr: 0xf0000 }) });

  it('loads the protected-mode kernel at 1 MiB and fills boot_params as boot.rst says', () => {
    const payload = new Prog().hlt().build();
    const img = bzImage(payload);
    expect(isBzImage(img)).toBe(true);
    const { mem, k } = load(img, 'console=ttyS0 root=/dev/vda', [{ cmdline: 'initrd.cpio', data: Uint8Array.of(7, 7, 7) }]);
    expect(k).toMatchObject({ protocol: 'linux', mode: 'protected', entry: 0x100000, esi: 0x10000, ebx: 0 });
    expect(mem.readU8(0x100000)).toBe(0xf4);
    const bp = k.esi;
    expect(mem.readU32(bp + 0x202)).toBe(0x53726448); // the header copy
    expect(mem.readU16(bp + 0x206)).toBe(0x020f);
    expect(mem.readU8(bp + 0x210)).toBe(0xb0); // type_of_loader: QEMU
    expect(mem.readU8(bp + 0x211) & 0x81).toBe(0x81); // LOADED_HIGH | CAN_USE_HEAP
    expect(cstr(mem, mem.readU32(bp + 0x228))).toBe('console=ttyS0 root=/dev/vda');
    const rd = mem.readU32(bp + 0x218);
    expect(mem.readU32(bp + 0x21c)).toBe(3);
    expect(rd % 4096).toBe(0);
    expect(rd + 3).toBeLessThanOrEqual(32 * MiB);
    expect([...mem.read(rd, 3)]).toEqual([7, 7, 7]);
    expect(mem.readU8(bp + 0x1e8)).toBe(e820.length);
    expect(mem.readU32(bp + 0x2d0 + 20 * 3)).toBe(0x100000);
    expect(mem.readU32(bp + 0x2d0 + 20 * 3 + 16)).toBe(1);
    expect(mem.readU32(bp + 0x070)).toBe(0xf0000); // acpi_rsdp_addr
    expect(mem.readU8(bp + 0x000)).toBe(0); // screen_info left zero: no VGA
  });

  it('rejects old protocols, over-long command lines and initrds that do not fit', () => {
    expect(() => load(bzImage(Uint8Array.of(0xf4), { version: 0x0201 }))).toThrow(/too old/);
    expect(() => load(bzImage(Uint8Array.of(0xf4), { cmdlineSize: 8 }), 'console=ttyS0')).toThrow(/longer than this kernel's 8 bytes/);
    expect(() => load(bzImage(Uint8Array.of(0xf4)), '', [{ cmdline: 'big', data: new Uint8Array(31 * MiB) }])).toThrow(/does not fit/);
    expect(() => load(bzImage(Uint8Array.of(0xf4), { initSize: 64 * MiB }))).toThrow(/more memory/);
  });
});

describe('ELF', () => {
  it('translates a virtual entry point to the physical load address', () => {
    const mem = memory();
    const img = elf32(new Prog().hlt().build(), 0x100000, { vaddr: 0xc0100000 });
    const elf = parseElf(img);
    expect(elf.elfClass).toBe(32);
    const r = loadElf(mem, img, elf);
    expect(r.entry).toBe(0x100000);
  });

  it('rejects truncated and non-x86 images with a message naming the file', () => {
    const img = elf32(new Prog().hlt().build(), 0x100000);
    expect(() => parseElf(img.subarray(0, 40), 'cut.elf')).toThrow(/cut.elf: truncated/);
    const arm = img.slice();
    arm[18] = 40;
    expect(() => parseElf(arm, 'arm.elf')).toThrow(/not x86/);
  });
});
