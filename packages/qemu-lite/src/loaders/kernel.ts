/**
 * -kernel: picks the boot protocol from the image, as QEMU's x86 loader does: a Multiboot
 * header in the first 8 KiB wins; then a Linux bzImage (the boot protocol: 64-bit entry
 * for 64-bit kernels, 32-bit entry otherwise; or, with fastBoot, the payload decompressed
 * on the host); then an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note (PVH, as QEMU boots a
 * vmlinux); then any other ELF (ELF32 entered in protected mode, ELF64 in long mode);
 * anything else must come through -device loader as a flat binary.
 */
import { basename } from 'node:path';
import type { BootCpuMode } from '../machine/boot-cpu-state';
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { LoaderError, isElf, loadElf, parseElf } from './elf';
import { loadLinux, type LinuxBootPath } from './linux';
import { elfPhysEnd, findPvhEntry, setupPvhStartInfo } from './pvh';
import { MULTIBOOT_BOOTLOADER_MAGIC, findMultibootHeader, loadMultiboot, type MultibootModule } from './multiboot';

export interface KernelEntry {
  protocol: 'multiboot' | 'linux' | 'pvh' | 'elf32' | 'elf64' | 'flat';
  /** Linux bzImage: which entry the loader took. */
  linuxPath?: LinuxBootPath;
  mode: BootCpuMode;
  entry: number;
  eax: number;
  ebx: number;
  /** Linux: boot_params. */
  esi: number;
  /** Highest guest-physical byte the image (and modules) occupy. */
  end: number;
}

export interface KernelLoadParams {
  kernelPath: string;
  append: string;
  modules: readonly MultibootModule[];
  belowFourGEnd: number;
  e820: readonly E820Entry[];
  rsdpAddr?: number;
  /** The machine has a VGA (Linux screen_info: 80x25 text). */
  vgaText?: boolean;
  /** bzImage: decompress the payload on the host and enter the kernel ELF (linux-fast-boot=on). */
  fastBoot?: boolean;
}

/** The Linux boot protocol's "HdrS" signature at 0x202. */
export function isBzImage(image: Uint8Array): boolean {
  return image.length > 0x206 && image[0x202] === 0x48 && image[0x203] === 0x64 && image[0x204] === 0x72 && image[0x205] === 0x53;
}

export function loadKernel(mem: GuestMemory, image: Uint8Array, p: KernelLoadParams): KernelEntry {
  const name = basename(p.kernelPath);
  const mb = findMultibootHeader(image);
  if (mb !== undefined) {
    // QEMU passes the file name as given on the command line first in the cmdline.
    const r = loadMultiboot(mem, image, mb, {
      kernelName: p.kernelPath, append: p.append, modules: p.modules, belowFourGEnd: p.belowFourGEnd, e820: p.e820,
    });
    const end = r.modules.length > 0 ? r.modules[r.modules.length - 1]!.end : r.kernelEnd;
    return { protocol: 'multiboot', mode: 'protected', entry: r.entry, eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: r.infoAddr, esi: 0, end };
  }
  // Linux takes one initrd; several -initrd files are concatenated (cpio archives may be).
  const initrd = concatModules(p.modules);
  if (isBzImage(image)) {
    const r = loadLinux(mem, image, name, {
      cmdline: p.append, initrd, belowFourGEnd: p.belowFourGEnd, e820: p.e820, rsdpAddr: p.rsdpAddr, vgaText: p.vgaText, fastBoot: p.fastBoot,
    });
    return { protocol: 'linux', linuxPath: r.path, mode: r.mode, entry: r.entry, eax: 0, ebx: r.startInfo, esi: r.bootParams, end: r.end };
  }
  const pvhEntry = findPvhEntry(image);
  if (pvhEntry !== undefined) {
    const elf = parseElf(image, name);
    loadElf(mem, image, elf, name);
    const end = elfPhysEnd(elf);
    const s = setupPvhStartInfo(mem, pvhEntry, end, { cmdline: p.append, initrd, belowFourGEnd: p.belowFourGEnd, e820: p.e820, rsdpAddr: p.rsdpAddr }, name);
    return { protocol: 'pvh', mode: 'protected', entry: s.entry, eax: 0, ebx: s.startInfo, esi: 0, end };
  }
  if (isElf(image)) {
    if (p.modules.length > 0) throw new LoaderError(`${name}: -initrd needs a multiboot, Linux or PVH kernel`);
    const elf = parseElf(image, name);
    const r = loadElf(mem, image, elf, name);
    return {
      protocol: elf.elfClass === 64 ? 'elf64' : 'elf32', mode: elf.elfClass === 64 ? 'long' : 'protected',
      entry: r.entry, eax: 0, ebx: 0, esi: 0, end: r.high,
    };
  }
  throw new LoaderError(`${name}: not a multiboot or ELF kernel (load flat binaries with -device loader,file=,addr=)`);
}

/** -device loader,file=,addr=: the bytes at addr. */
export function loadFlat(mem: GuestMemory, image: Uint8Array, addr: number, path: string): void {
  if (mem.findRegion(addr, Math.max(image.length, 1)) === undefined)
    throw new LoaderError(`${basename(path)}: 0x${addr.toString(16)}+0x${image.length.toString(16)} is outside guest RAM`);
  mem.write(addr, image);
}

function concatModules(modules: readonly MultibootModule[]): Uint8Array | undefined {
  const total = modules.reduce((n, m) => n + m.data.length, 0);
  if (total === 0) return undefined;
  const out = new Uint8Array(total);
  let o = 0;
  for (const m of modules) {
    out.set(m.data, o);
    o += m.data.length;
  }
  return out;
}
