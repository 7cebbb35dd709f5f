/**
 * -kernel: picks the boot protocol from the image, as QEMU's x86 loader does: a Multiboot
 * header in the first 8 KiB wins; then a Linux bzImage (the 32-bit boot protocol); then
 * an ELF (ELF32 entered in protected mode, ELF64 in long mode); anything else must come
 * through -device loader as a flat binary.
 */
import { basename } from 'node:path';
import type { BootCpuMode } from '../machine/boot-cpu-state';
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { LoaderError, isElf, loadElf, parseElf } from './elf';
import { loadLinux } from './linux';
import { MULTIBOOT_BOOTLOADER_MAGIC, findMultibootHeader, loadMultiboot, type MultibootModule } from './multiboot';

export interface KernelEntry {
  protocol: 'multiboot' | 'linux' | 'elf32' | 'elf64' | 'flat';
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
  if (isBzImage(image)) {
    // Linux takes one initrd; several -initrd files are concatenated (cpio archives may be).
    const total = p.modules.reduce((n, m) => n + m.data.length, 0);
    const initrd = new Uint8Array(total);
    let o = 0;
    for (const m of p.modules) {
      initrd.set(m.data, o);
      o += m.data.length;
    }
    const r = loadLinux(mem, image, name, {
      cmdline: p.append, initrd: total > 0 ? initrd : undefined, belowFourGEnd: p.belowFourGEnd, e820: p.e820, rsdpAddr: p.rsdpAddr,
    });
    return { protocol: 'linux', mode: 'protected', entry: r.entry, eax: 0, ebx: 0, esi: r.bootParams, end: r.end };
  }
  if (isElf(image)) {
    if (p.modules.length > 0) throw new LoaderError(`${name}: -initrd needs a multiboot kernel`);
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
