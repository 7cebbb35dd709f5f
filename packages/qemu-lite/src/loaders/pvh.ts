/**
 * The PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h), as QEMU uses it for
 * `-kernel vmlinux` when the ELF carries a XEN_ELFNOTE_PHYS32_ENTRY note (Linux with
 * CONFIG_PVH): the ELF's PT_LOAD segments at their physical addresses, an
 * hvm_start_info (magic 0x336ec578, version 1) with the command line, the initrd as
 * module 0 and the e820 map as the memmap, and entry at the note's 32-bit physical
 * address in flat 32-bit protected mode, paging off, EBX = hvm_start_info.
 */
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { LoaderError, type ElfImage } from './elf';

export const PT_NOTE = 4;
/** XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h). */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;

// struct hvm_start_info (56 bytes in version 1)
export const HVM_START_INFO_MAGIC = 0x00;
export const HVM_START_INFO_VERSION = 0x04;
export const HVM_START_INFO_FLAGS = 0x08;
export const HVM_START_INFO_NR_MODULES = 0x0c;
export const HVM_START_INFO_MODLIST_PADDR = 0x10;
export const HVM_START_INFO_CMDLINE_PADDR = 0x18;
export const HVM_START_INFO_RSDP_PADDR = 0x20;
export const HVM_START_INFO_MEMMAP_PADDR = 0x28;
export const HVM_START_INFO_MEMMAP_ENTRIES = 0x30;
export const HVM_START_INFO_SIZE = 0x38;
/** struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved (4 x u64). */
export const HVM_MODLIST_ENTRY_SIZE = 32;
/** struct hvm_memmap_table_entry: addr, size (u64), type, reserved (u32). */
export const HVM_MEMMAP_ENTRY_SIZE = 24;

/** Where the pieces go: low memory that Linux keeps reserved (first MiB), clear of the kernel. */
export const PVH_START_INFO_ADDR = 0x10000;
export const PVH_MODLIST_ADDR = PVH_START_INFO_ADDR + 0x40;
export const PVH_MEMMAP_ADDR = PVH_START_INFO_ADDR + 0x100;
export const PVH_MEMMAP_MAX = 128;
export const PVH_CMDLINE_ADDR = 0x20000;
export const PVH_CMDLINE_MAX = 0x10000;

/**
 * The XEN_ELFNOTE_PHYS32_ENTRY address from the ELF's PT_NOTE segments, or undefined.
 * The descriptor is a 32-bit or 64-bit value (Linux uses _ASM_PTR), as QEMU reads it.
 */
export function findPvhEntry(image: Uint8Array): number | undefined {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 52 || dv.getUint32(0, true) !== 0x464c457f) return undefined;
  const is64 = image[4] === 2;
  if (image.length < (is64 ? 64 : 52)) return undefined;
  const phoff = is64 ? Number(dv.getBigUint64(32, true)) : dv.getUint32(28, true);
  const phentsize = dv.getUint16(is64 ? 54 : 42, true);
  const phnum = dv.getUint16(is64 ? 56 : 44, true);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + (is64 ? 56 : 32) > image.length) return undefined;
    if (dv.getUint32(ph, true) !== PT_NOTE) continue;
    const off = is64 ? Number(dv.getBigUint64(ph + 8, true)) : dv.getUint32(ph + 4, true);
    const size = is64 ? Number(dv.getBigUint64(ph + 32, true)) : dv.getUint32(ph + 16, true);
    const end = Math.min(off + size, image.length);
    let p = off;
    while (p + 12 <= end) {
      const namesz = dv.getUint32(p, true);
      const descsz = dv.getUint32(p + 4, true);
      const type = dv.getUint32(p + 8, true);
      const name = p + 12;
      const desc = name + ((namesz + 3) & ~3);
      if (desc + descsz > end) break;
      const isXen = namesz === 4 && image[name] === 0x58 && image[name + 1] === 0x65 && image[name + 2] === 0x6e && image[name + 3] === 0;
      if (isXen && type === XEN_ELFNOTE_PHYS32_ENTRY) {
        if (descsz === 4) return dv.getUint32(desc, true);
        if (descsz === 8) return Number(dv.getBigUint64(desc, true));
      }
      p = desc + ((descsz + 3) & ~3);
    }
  }
  return undefined;
}

export interface PvhBootParams {
  cmdline: string;
  initrd?: Uint8Array;
  belowFourGEnd: number;
  e820: readonly E820Entry[];
  rsdpAddr?: number;
}

export interface PvhBootResult {
  entry: number;
  startInfo: number;
  initrd?: { addr: number; size: number };
}

function writeU64(mem: GuestMemory, addr: number, v: number): void {
  mem.writeU32(addr, v >>> 0);
  mem.writeU32(addr + 4, Math.floor(v / 2 ** 32));
}

/**
 * Builds hvm_start_info for a kernel whose segments are already loaded (`kernelEnd`: the
 * highest byte they use). The initrd goes high below 4 GiB, page aligned, as QEMU places it.
 */
export function setupPvhStartInfo(mem: GuestMemory, entry: number, kernelEnd: number, p: PvhBootParams, name: string): PvhBootResult {
  if (entry >= 2 ** 32) throw new LoaderError(`${name}: PVH entry 0x${entry.toString(16)} is not a 32-bit physical address`);
  const si = PVH_START_INFO_ADDR;
  mem.fill(si, PVH_MEMMAP_ADDR + PVH_MEMMAP_MAX * HVM_MEMMAP_ENTRY_SIZE - si, 0);
  mem.writeU32(si + HVM_START_INFO_MAGIC, XEN_HVM_START_MAGIC_VALUE);
  mem.writeU32(si + HVM_START_INFO_VERSION, 1);

  const cmd = new TextEncoder().encode(p.cmdline);
  if (cmd.length >= PVH_CMDLINE_MAX) throw new LoaderError(`-append: the kernel command line is longer than ${PVH_CMDLINE_MAX - 1} bytes`);
  mem.write(PVH_CMDLINE_ADDR, cmd);
  mem.writeU8(PVH_CMDLINE_ADDR + cmd.length, 0);
  writeU64(mem, si + HVM_START_INFO_CMDLINE_PADDR, PVH_CMDLINE_ADDR);

  let initrd: { addr: number; size: number } | undefined;
  if (p.initrd !== undefined && p.initrd.length > 0) {
    const max = p.belowFourGEnd - 1;
    const addr = Math.floor((max + 1 - p.initrd.length) / 4096) * 4096;
    if (addr < kernelEnd) throw new LoaderError(`-initrd: the initrd (${p.initrd.length} bytes) does not fit above the kernel; give it more memory (-m)`);
    mem.write(addr, p.initrd);
    const m = PVH_MODLIST_ADDR;
    writeU64(mem, m, addr);
    writeU64(mem, m + 8, p.initrd.length);
    mem.writeU32(si + HVM_START_INFO_NR_MODULES, 1);
    writeU64(mem, si + HVM_START_INFO_MODLIST_PADDR, m);
    initrd = { addr, size: p.initrd.length };
  }
  if (p.rsdpAddr !== undefined) writeU64(mem, si + HVM_START_INFO_RSDP_PADDR, p.rsdpAddr);

  const map = p.e820.slice(0, PVH_MEMMAP_MAX);
  map.forEach((e, i) => {
    const o = PVH_MEMMAP_ADDR + HVM_MEMMAP_ENTRY_SIZE * i;
    writeU64(mem, o, e.addr);
    writeU64(mem, o + 8, e.size);
    mem.writeU32(o + 16, e.type);
  });
  writeU64(mem, si + HVM_START_INFO_MEMMAP_PADDR, PVH_MEMMAP_ADDR);
  mem.writeU32(si + HVM_START_INFO_MEMMAP_ENTRIES, map.length);
  return { entry, startInfo: si, initrd };
}

/** The highest physical byte an ELF's segments occupy. */
export function elfPhysEnd(elf: ElfImage): number {
  return elf.segments.reduce((m, s) => Math.max(m, s.paddr + s.memsz), 0);
}
