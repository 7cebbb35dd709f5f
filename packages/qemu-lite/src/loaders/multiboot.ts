/**
 * Multiboot v1 as QEMU's -kernel loads it (hw/i386/multiboot.c): find the header in the
 * first 8 KiB; with the a.out kludge (flag 16) load by the header's address fields,
 * otherwise load the ELF32 program headers. Build the multiboot info: mem_lower/upper,
 * boot device, command line (the kernel's file name, a space, then -append), modules
 * (each -initrd file, page aligned after the kernel), the memory map, the loader name.
 * The CPU state at entry (flat 4 GiB segments, PE on, paging and interrupts off,
 * EAX = 0x2BADB002, EBX = info) is set by the machine from the returned values.
 */
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { LoaderError, isElf, loadElf, parseElf } from './elf';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH = 8192;
export const MULTIBOOT_PAGE_ALIGN = 1 << 0;
export const MULTIBOOT_MEMORY_INFO = 1 << 1;
export const MULTIBOOT_VIDEO_MODE = 1 << 2;
export const MULTIBOOT_AOUT_KLUDGE = 1 << 16;

// multiboot_info.flags
export const MULTIBOOT_INFO_MEMORY = 1 << 0;
export const MULTIBOOT_INFO_BOOTDEV = 1 << 1;
export const MULTIBOOT_INFO_CMDLINE = 1 << 2;
export const MULTIBOOT_INFO_MODS = 1 << 3;
export const MULTIBOOT_INFO_MEM_MAP = 1 << 6;
export const MULTIBOOT_INFO_BOOT_LOADER_NAME = 1 << 9;

// multiboot_info offsets
export const MBI_FLAGS = 0;
export const MBI_MEM_LOWER = 4;
export const MBI_MEM_UPPER = 8;
export const MBI_BOOT_DEVICE = 12;
export const MBI_CMDLINE = 16;
export const MBI_MODS_COUNT = 20;
export const MBI_MODS_ADDR = 24;
export const MBI_MMAP_LENGTH = 44;
export const MBI_MMAP_ADDR = 48;
export const MBI_BOOT_LOADER_NAME = 64;
export const MBI_SIZE = 88;
/** A module entry: mod_start, mod_end, string, reserved. */
export const MB_MOD_SIZE = 16;
/** An mmap entry: size (of the rest, 20), base_addr u64, length u64, type. */
export const MB_MMAP_ENTRY_SIZE = 24;

/** Where the info block and its strings go: low memory, clear of the IVT/BDA and the EBDA. */
export const MULTIBOOT_INFO_ADDR = 0x9000;
export const MULTIBOOT_INFO_LIMIT = 0x9fc00;

export interface MultibootHeader {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface MultibootModule {
  /** The module's command line string (file name and arguments, as given to -initrd). */
  cmdline: string;
  data: Uint8Array;
}

export interface MultibootLoadResult {
  entry: number;
  infoAddr: number;
  kernelEnd: number;
  modules: { start: number; end: number; cmdline: string }[];
}

/** The header, if the image has a valid one in its first 8 KiB (4-byte aligned). */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | undefined {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const end = Math.min(MULTIBOOT_SEARCH, image.length) - 12;
  for (let o = 0; o <= end; o += 4) {
    if (dv.getUint32(o, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = dv.getUint32(o + 4, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + dv.getUint32(o + 8, true)) >>> 0) !== 0) continue;
    const field = (i: number) => (o + 12 + 4 * i + 4 <= image.length ? dv.getUint32(o + 12 + 4 * i, true) : 0);
    return {
      offset: o, flags, headerAddr: field(0), loadAddr: field(1), loadEndAddr: field(2), bssEndAddr: field(3), entryAddr: field(4),
    };
  }
  return undefined;
}

export interface MultibootParams {
  kernelName: string;
  /** -append (may be empty). */
  append: string;
  modules: readonly MultibootModule[];
  /** RAM below 4 GiB ends here; mem_upper counts the KiB from 1 MiB up to it. */
  belowFourGEnd: number;
  e820: readonly E820Entry[];
}

export function loadMultiboot(mem: GuestMemory, image: Uint8Array, hdr: MultibootHeader, p: MultibootParams): MultibootLoadResult {
  let entry: number;
  let kernelEnd: number;
  if (hdr.flags & MULTIBOOT_AOUT_KLUDGE) {
    if (hdr.headerAddr < hdr.loadAddr) throw new LoaderError(`${p.kernelName}: multiboot header_addr is below load_addr`);
    // The file offset of load_addr: the header sits at header_addr in memory and hdr.offset in the file.
    const textOffset = hdr.offset - (hdr.headerAddr - hdr.loadAddr);
    if (textOffset < 0) throw new LoaderError(`${p.kernelName}: multiboot load_addr lies before the start of the file`);
    const loadSize = hdr.loadEndAddr !== 0 ? hdr.loadEndAddr - hdr.loadAddr : image.length - textOffset;
    if (loadSize < 0 || textOffset + loadSize > image.length) throw new LoaderError(`${p.kernelName}: multiboot load_end_addr is past the end of the file`);
    const bssEnd = hdr.bssEndAddr !== 0 ? hdr.bssEndAddr : hdr.loadAddr + loadSize;
    if (bssEnd < hdr.loadAddr + loadSize) throw new LoaderError(`${p.kernelName}: multiboot bss_end_addr is below load_end_addr`);
    if (mem.findRegion(hdr.loadAddr, bssEnd - hdr.loadAddr) === undefined)
      throw new LoaderError(`${p.kernelName}: multiboot image at 0x${hdr.loadAddr.toString(16)} does not fit in guest RAM`);
    mem.write(hdr.loadAddr, image.subarray(textOffset, textOffset + loadSize));
    mem.fill(hdr.loadAddr + loadSize, bssEnd - hdr.loadAddr - loadSize, 0);
    entry = hdr.entryAddr;
    kernelEnd = bssEnd;
  } else {
    if (!isElf(image)) throw new LoaderError(`${p.kernelName}: multiboot image is neither ELF nor a.out-kludge`);
    const elf = parseElf(image, p.kernelName);
    if (elf.elfClass !== 32) throw new LoaderError(`${p.kernelName}: cannot load x86-64 image, give a 32bit one`);
    const r = loadElf(mem, image, elf, p.kernelName);
    entry = r.entry;
    kernelEnd = r.high;
  }

  // Modules, page aligned after the kernel.
  let at = Math.ceil(kernelEnd / 4096) * 4096;
  const modules: { start: number; end: number; cmdline: string }[] = [];
  for (const m of p.modules) {
    if (mem.findRegion(at, Math.max(m.data.length, 1)) === undefined)
      throw new LoaderError(`${m.cmdline.split(' ')[0]}: module does not fit in guest RAM`);
    mem.write(at, m.data);
    modules.push({ start: at, end: at + m.data.length, cmdline: m.cmdline });
    at = Math.ceil((at + m.data.length) / 4096) * 4096;
  }

  // The info block, then the module list, the memory map, then the strings.
  const info = MULTIBOOT_INFO_ADDR;
  let cursor = info + MBI_SIZE;
  const modsAddr = cursor;
  cursor += modules.length * MB_MOD_SIZE;
  const mmapAddr = cursor;
  cursor += p.e820.length * MB_MMAP_ENTRY_SIZE;
  const putString = (s: string) => {
    const bytes = new TextEncoder().encode(s);
    if (cursor + bytes.length + 1 > MULTIBOOT_INFO_LIMIT) throw new LoaderError('multiboot: command lines too long');
    const a = cursor;
    mem.write(a, bytes);
    mem.writeU8(a + bytes.length, 0);
    cursor += bytes.length + 1;
    return a;
  };
  mem.fill(info, MBI_SIZE, 0);
  const cmdline = putString(`${p.kernelName} ${p.append}`);
  const loaderName = putString('qemu');
  modules.forEach((m, i) => {
    const e = modsAddr + i * MB_MOD_SIZE;
    mem.writeU32(e, m.start);
    mem.writeU32(e + 4, m.end);
    mem.writeU32(e + 8, putString(m.cmdline));
    mem.writeU32(e + 12, 0);
  });
  p.e820.forEach((r, i) => {
    const e = mmapAddr + i * MB_MMAP_ENTRY_SIZE;
    mem.writeU32(e, MB_MMAP_ENTRY_SIZE - 4);
    mem.writeU32(e + 4, r.addr >>> 0);
    mem.writeU32(e + 8, Math.floor(r.addr / 2 ** 32));
    mem.writeU32(e + 12, r.size >>> 0);
    mem.writeU32(e + 16, Math.floor(r.size / 2 ** 32));
    mem.writeU32(e + 20, r.type);
  });
  mem.writeU32(info + MBI_FLAGS, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV | MULTIBOOT_INFO_CMDLINE
    | MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_BOOT_LOADER_NAME);
  mem.writeU32(info + MBI_MEM_LOWER, 640);
  mem.writeU32(info + MBI_MEM_UPPER, Math.floor(p.belowFourGEnd / 1024) - 1024);
  mem.writeU32(info + MBI_BOOT_DEVICE, 0x8000ffff); // first BIOS disk, no partition (QEMU's value)
  mem.writeU32(info + MBI_CMDLINE, cmdline);
  mem.writeU32(info + MBI_MODS_COUNT, modules.length);
  mem.writeU32(info + MBI_MODS_ADDR, modsAddr);
  mem.writeU32(info + MBI_MMAP_LENGTH, p.e820.length * MB_MMAP_ENTRY_SIZE);
  mem.writeU32(info + MBI_MMAP_ADDR, mmapAddr);
  mem.writeU32(info + MBI_BOOT_LOADER_NAME, loaderName);
  return { entry, infoAddr: info, kernelEnd, modules };
}
