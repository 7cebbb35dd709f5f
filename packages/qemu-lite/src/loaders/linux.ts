/**
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst) for bzImages, entered at
 * the 32-bit protected-mode entry as boot.rst's "32-bit boot protocol" describes: the
 * protected-mode kernel at 0x100000, a zeroed boot_params ("zero page") holding a copy of
 * the setup header, the e820 map, the command line and the initrd, then CS = __BOOT_CS
 * (0x10), DS/ES/SS = __BOOT_DS (0x18) flat, ESI = boot_params, EBP/EDI/EBX = 0, interrupts
 * off. The same entry serves 32- and 64-bit kernels (startup_32 enters long mode itself).
 */
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { LoaderError } from './elf';

// Setup header fields (offsets into the bzImage and into boot_params).
export const HDR_SETUP_SECTS = 0x1f1;
export const HDR_SYSSIZE = 0x1f4;
export const HDR_BOOT_FLAG = 0x1fe;
export const HDR_JUMP = 0x200;
export const HDR_HEADER = 0x202;
export const HDR_VERSION = 0x206;
export const HDR_TYPE_OF_LOADER = 0x210;
export const HDR_LOADFLAGS = 0x211;
export const HDR_CODE32_START = 0x214;
export const HDR_RAMDISK_IMAGE = 0x218;
export const HDR_RAMDISK_SIZE = 0x21c;
export const HDR_HEAP_END_PTR = 0x224;
export const HDR_CMD_LINE_PTR = 0x228;
export const HDR_INITRD_ADDR_MAX = 0x22c;
export const HDR_XLOADFLAGS = 0x236;
export const HDR_CMDLINE_SIZE = 0x238;
export const HDR_INIT_SIZE = 0x260;
// boot_params fields outside the header.
export const BP_ACPI_RSDP_ADDR = 0x070;
export const BP_E820_ENTRIES = 0x1e8;
export const BP_E820_TABLE = 0x2d0;
export const BP_E820_MAX = 128;
export const BOOT_PARAMS_SIZE = 4096;

export const LOADED_HIGH = 0x01;
export const CAN_USE_HEAP = 0x80;
export const HDRS_MAGIC = 0x53726448; // "HdrS"
/** QEMU's bootloader ID (type_of_loader 0xB0). */
export const LOADER_TYPE_QEMU = 0xb0;

/** Where the pieces go, as QEMU places them for the protocol >= 2.02 path. */
export const LINUX_BOOT_PARAMS_ADDR = 0x10000;
export const LINUX_CMDLINE_ADDR = 0x20000;
export const LINUX_KERNEL_ADDR = 0x100000;

export interface LinuxBootParams {
  cmdline: string;
  initrd?: Uint8Array;
  belowFourGEnd: number;
  e820: readonly E820Entry[];
  /** The RSDP, for boot_params.acpi_rsdp_addr (protocol 2.14+). */
  rsdpAddr?: number;
}

export interface LinuxLoadResult {
  entry: number;
  bootParams: number;
  protocolVersion: number;
  initrd?: { addr: number; size: number };
  end: number;
}

export function loadLinux(mem: GuestMemory, image: Uint8Array, name: string, p: LinuxBootParams): LinuxLoadResult {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 0x264 || dv.getUint32(HDR_HEADER, true) !== HDRS_MAGIC) throw new LoaderError(`${name}: not a Linux bzImage (no HdrS)`);
  const version = dv.getUint16(HDR_VERSION, true);
  // The 32-bit entry with cmd_line_ptr and a high load needs protocol 2.02 and a bzImage.
  if (version < 0x202) throw new LoaderError(`${name}: Linux boot protocol ${version >> 8}.${version & 0xff} is too old (need 2.02)`);
  if (!(image[HDR_LOADFLAGS]! & LOADED_HIGH)) throw new LoaderError(`${name}: a zImage (not loaded high) is not supported`);
  const setupSects = image[HDR_SETUP_SECTS] || 4;
  const setupSize = (setupSects + 1) * 512;
  if (setupSize >= image.length) throw new LoaderError(`${name}: truncated bzImage (setup runs past the end)`);
  const kernel = image.subarray(setupSize);
  const initSize = version >= 0x20a ? dv.getUint32(HDR_INIT_SIZE, true) : 0;
  const span = Math.max(kernel.length, initSize);
  if (mem.findRegion(LINUX_KERNEL_ADDR, span) === undefined)
    throw new LoaderError(`${name}: the kernel needs 0x${span.toString(16)} bytes at 1 MiB; give it more memory (-m)`);
  mem.write(LINUX_KERNEL_ADDR, kernel);

  // boot_params: zeroed, with the setup header copied from the image (0x1f1 up to the end
  // given by the jump at 0x200, whose second byte is the header's length past 0x202).
  const bp = LINUX_BOOT_PARAMS_ADDR;
  mem.fill(bp, BOOT_PARAMS_SIZE, 0);
  const hdrEnd = Math.min(0x202 + image[HDR_JUMP + 1]!, BOOT_PARAMS_SIZE, image.length);
  mem.write(bp + HDR_SETUP_SECTS, image.subarray(HDR_SETUP_SECTS, hdrEnd));
  mem.writeU8(bp + HDR_TYPE_OF_LOADER, LOADER_TYPE_QEMU);
  mem.writeU8(bp + HDR_LOADFLAGS, (image[HDR_LOADFLAGS]! | CAN_USE_HEAP) & 0xff);
  mem.writeU16(bp + HDR_HEAP_END_PTR, 0xfe00 - 0x200);

  // The command line, bounded by cmdline_size (2.06+) or 255 bytes before that.
  const maxCmdline = version >= 0x206 ? dv.getUint32(HDR_CMDLINE_SIZE, true) : 255;
  const cmd = new TextEncoder().encode(p.cmdline);
  if (cmd.length > maxCmdline) throw new LoaderError(`-append: the kernel command line is longer than this kernel's ${maxCmdline} bytes`);
  mem.write(LINUX_CMDLINE_ADDR, cmd);
  mem.writeU8(LINUX_CMDLINE_ADDR + cmd.length, 0);
  mem.writeU32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);

  let initrd: { addr: number; size: number } | undefined;
  if (p.initrd !== undefined && p.initrd.length > 0) {
    // As high as allowed: below initrd_addr_max and the end of RAM under 4 GiB, page aligned.
    const max = Math.min(version >= 0x203 ? dv.getUint32(HDR_INITRD_ADDR_MAX, true) : 0x37ffffff, p.belowFourGEnd - 1);
    const addr = Math.floor((max + 1 - p.initrd.length) / 4096) * 4096;
    if (addr < LINUX_KERNEL_ADDR + span) throw new LoaderError(`-initrd: the initrd (${p.initrd.length} bytes) does not fit above the kernel; give it more memory (-m)`);
    mem.write(addr, p.initrd);
    mem.writeU32(bp + HDR_RAMDISK_IMAGE, addr);
    mem.writeU32(bp + HDR_RAMDISK_SIZE, p.initrd.length);
    initrd = { addr, size: p.initrd.length };
  }

  const e820 = p.e820.slice(0, BP_E820_MAX);
  mem.writeU8(bp + BP_E820_ENTRIES, e820.length);
  e820.forEach((e, i) => {
    const o = bp + BP_E820_TABLE + 20 * i;
    mem.writeU32(o, e.addr >>> 0);
    mem.writeU32(o + 4, Math.floor(e.addr / 2 ** 32));
    mem.writeU32(o + 8, e.size >>> 0);
    mem.writeU32(o + 12, Math.floor(e.size / 2 ** 32));
    mem.writeU32(o + 16, e.type);
  });
  if (p.rsdpAddr !== undefined && version >= 0x20e) mem.writeU32(bp + BP_ACPI_RSDP_ADDR, p.rsdpAddr);

  return {
    entry: dv.getUint32(HDR_CODE32_START, true) || LINUX_KERNEL_ADDR,
    bootParams: bp,
    protocolVersion: version,
    initrd,
    end: LINUX_KERNEL_ADDR + span,
  };
}
