/**
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst) for
 * bzImages, by direct kernel boot (no BIOS, no real-mode setup code):
 * - boot_params ("zero page"): zeroed, the image's setup header copied in, then the
 *   loader's fields: type_of_loader 0xb0 (QEMU), CAN_USE_HEAP and heap_end_ptr,
 *   cmd_line_ptr, ramdisk_image/size (and ext_ramdisk_* for the high halves), the e820
 *   map, acpi_rsdp_addr (2.14+), code32_start, and screen_info (zero: no console for
 *   a serial-only machine; VGA text 80x25 when the machine has a VGA).
 * - The protected-mode kernel at pref_address (2.10+; a relocatable kernel then
 *   decompresses in place, a non-relocatable one would move itself there anyway), else
 *   at 1 MiB as QEMU does; the initrd as high as initrd_addr_max (4 GiB with
 *   XLF_CAN_BE_LOADED_ABOVE_4G) and the end of RAM below 4 GiB allow, page aligned.
 * - Entry: for a 64-bit kernel (XLF_KERNEL_64) the 64-bit boot protocol: startup_64 at
 *   load address + 0x200 in long mode with identity-mapped page tables and a GDT with
 *   __BOOT_CS/__BOOT_DS (machine/boot-cpu-state.ts), RSI = boot_params; otherwise the
 *   32-bit boot protocol: code32_start in flat protected mode, ESI = boot_params.
 */
import type { GuestMemory } from '../machine/guest-memory';
import type { E820Entry } from '../machine/pc-layout';
import { decompressBzImagePayload } from './bzimage-payload';
import { LoaderError, loadElf, parseElf } from './elf';
import { elfPhysEnd, findPvhEntry, setupPvhStartInfo } from './pvh';

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
export const HDR_KERNEL_ALIGNMENT = 0x230;
export const HDR_RELOCATABLE_KERNEL = 0x234;
export const HDR_XLOADFLAGS = 0x236;
export const HDR_CMDLINE_SIZE = 0x238;
export const HDR_PREF_ADDRESS = 0x258;
export const HDR_INIT_SIZE = 0x260;
// boot_params fields outside the header (zero-page.rst).
export const BP_SCREEN_INFO = 0x000;
export const BP_ACPI_RSDP_ADDR = 0x070;
export const BP_EXT_RAMDISK_IMAGE = 0x0c0;
export const BP_EXT_RAMDISK_SIZE = 0x0c4;
export const BP_EXT_CMD_LINE_PTR = 0x0c8;
export const BP_ALT_MEM_K = 0x1e0;
export const BP_E820_ENTRIES = 0x1e8;
export const BP_E820_TABLE = 0x2d0;
export const BP_E820_MAX = 128;
export const BOOT_PARAMS_SIZE = 4096;
// struct screen_info
export const SI_ORIG_VIDEO_MODE = 0x06;
export const SI_ORIG_VIDEO_COLS = 0x07;
export const SI_ORIG_VIDEO_EGA_BX = 0x0a;
export const SI_ORIG_VIDEO_LINES = 0x0e;
export const SI_ORIG_VIDEO_ISVGA = 0x0f;
export const SI_ORIG_VIDEO_POINTS = 0x10;
/** include/uapi/linux/screen_info.h: VGA color text. */
export const VIDEO_TYPE_VGAC = 0x22;

export const LOADED_HIGH = 0x01;
export const CAN_USE_HEAP = 0x80;
export const XLF_KERNEL_64 = 1 << 0;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 1 << 1;
export const HDRS_MAGIC = 0x53726448; // "HdrS"
/** QEMU's bootloader ID (type_of_loader 0xB0). */
export const LOADER_TYPE_QEMU = 0xb0;
/** startup_64 is this far into the protected-mode kernel (boot.rst, 64-bit boot protocol). */
export const STARTUP_64_OFFSET = 0x200;

/** Where the pieces go, as QEMU places them for the protocol >= 2.02 path. */
export const LINUX_BOOT_PARAMS_ADDR = 0x10000;
export const LINUX_CMDLINE_ADDR = 0x20000;
export const LINUX_KERNEL_ADDR = 0x100000;
/** QEMU: the real-mode code at 0x10000, the command line at 0x20000, so heap_end_ptr = 0x20000 - 0x10000 - 0x200. */
export const LINUX_HEAP_END_PTR = LINUX_CMDLINE_ADDR - LINUX_BOOT_PARAMS_ADDR - 0x200;

export interface LinuxBootParams {
  cmdline: string;
  initrd?: Uint8Array;
  belowFourGEnd: number;
  e820: readonly E820Entry[];
  /** The RSDP, for boot_params.acpi_rsdp_addr (protocol 2.14+). */
  rsdpAddr?: number;
  /** The machine has a VGA: screen_info says 80x25 colour text (else it stays zero). */
  vgaText?: boolean;
  /**
   * Host-side decompression (qemu-lite's -machine linux-fast-boot=on): the payload is
   * decompressed here and the kernel ELF entered directly, through PVH when it has the
   * note and the machine no VGA (vgaText), else at its own entry with boot_params (the
   * decompressor's hand-off, which carries screen_info).
   */
  fastBoot?: boolean;
}

export type LinuxBootPath = 'protocol-32' | 'protocol-64' | 'pvh' | 'vmlinux-32' | 'vmlinux-64';

export interface LinuxLoadResult {
  path: LinuxBootPath;
  mode: 'protected' | 'long';
  entry: number;
  /** boot_params (ESI/RSI), 0 for PVH. */
  bootParams: number;
  /** PVH: hvm_start_info (EBX), else 0. */
  startInfo: number;
  protocolVersion: number;
  kernelAddr: number;
  initrd?: { addr: number; size: number };
  end: number;
}

/** The setup header fields a loader acts on. */
export interface SetupHeader {
  version: number;
  setupSize: number;
  loadflags: number;
  xloadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  prefAddress: number;
  initSize: number;
  cmdlineSize: number;
}

export function parseSetupHeader(image: Uint8Array, name: string): SetupHeader {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 0x264 || dv.getUint32(HDR_HEADER, true) !== HDRS_MAGIC) throw new LoaderError(`${name}: not a Linux bzImage (no HdrS)`);
  const version = dv.getUint16(HDR_VERSION, true);
  // The 32-bit entry with cmd_line_ptr and a high load needs protocol 2.02 and a bzImage.
  if (version < 0x202) throw new LoaderError(`${name}: Linux boot protocol ${version >> 8}.${version & 0xff} is too old (need 2.02)`);
  const loadflags = image[HDR_LOADFLAGS]!;
  if (!(loadflags & LOADED_HIGH)) throw new LoaderError(`${name}: a zImage (not loaded high) is not supported`);
  const setupSize = ((image[HDR_SETUP_SECTS] || 4) + 1) * 512;
  if (setupSize >= image.length) throw new LoaderError(`${name}: truncated bzImage (setup runs past the end)`);
  return {
    version,
    setupSize,
    loadflags,
    xloadflags: version >= 0x20c ? dv.getUint16(HDR_XLOADFLAGS, true) : 0,
    code32Start: dv.getUint32(HDR_CODE32_START, true),
    initrdAddrMax: version >= 0x203 ? dv.getUint32(HDR_INITRD_ADDR_MAX, true) : 0x37ffffff,
    kernelAlignment: version >= 0x205 ? dv.getUint32(HDR_KERNEL_ALIGNMENT, true) : 0,
    relocatable: version >= 0x205 && image[HDR_RELOCATABLE_KERNEL] !== 0,
    prefAddress: version >= 0x20a ? Number(dv.getBigUint64(HDR_PREF_ADDRESS, true)) : 0,
    initSize: version >= 0x20a ? dv.getUint32(HDR_INIT_SIZE, true) : 0,
    cmdlineSize: version >= 0x206 ? dv.getUint32(HDR_CMDLINE_SIZE, true) : 255,
  };
}

/** The highest address (exclusive) an initrd may end at, as QEMU computes initrd_max. */
function initrdLimit(hdr: SetupHeader, belowFourGEnd: number): number {
  const max = hdr.version >= 0x20c && hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? 0xffffffff : hdr.initrdAddrMax;
  return Math.min(max, belowFourGEnd - 1) + 1;
}

interface BootParamsPlacement {
  kernelAddr: number;
  /** Lowest address the initrd may start at (above everything the kernel needs). */
  kernelEnd: number;
}

/** Writes boot_params, the command line and the initrd. */
function writeBootParams(mem: GuestMemory, image: Uint8Array, hdr: SetupHeader, p: LinuxBootParams, at: BootParamsPlacement): { bp: number; initrd?: { addr: number; size: number } } {
  // boot_params: zeroed, with the setup header copied from the image (0x1f1 up to the end
  // given by the jump at 0x200, whose second byte is the header's length past 0x202).
  const bp = LINUX_BOOT_PARAMS_ADDR;
  mem.fill(bp, BOOT_PARAMS_SIZE, 0);
  const hdrEnd = Math.min(0x202 + image[HDR_JUMP + 1]!, BOOT_PARAMS_SIZE, image.length);
  mem.write(bp + HDR_SETUP_SECTS, image.subarray(HDR_SETUP_SECTS, hdrEnd));
  mem.writeU8(bp + HDR_TYPE_OF_LOADER, LOADER_TYPE_QEMU);
  mem.writeU8(bp + HDR_LOADFLAGS, (hdr.loadflags | CAN_USE_HEAP) & 0xff);
  mem.writeU16(bp + HDR_HEAP_END_PTR, LINUX_HEAP_END_PTR);
  mem.writeU32(bp + HDR_CODE32_START, at.kernelAddr);

  // The command line, bounded by cmdline_size (2.06+) or 255 bytes before that.
  const cmd = new TextEncoder().encode(p.cmdline);
  if (cmd.length > hdr.cmdlineSize) throw new LoaderError(`-append: the kernel command line is longer than this kernel's ${hdr.cmdlineSize} bytes`);
  mem.write(LINUX_CMDLINE_ADDR, cmd);
  mem.writeU8(LINUX_CMDLINE_ADDR + cmd.length, 0);
  mem.writeU32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
  mem.writeU32(bp + BP_EXT_CMD_LINE_PTR, 0);

  let initrd: { addr: number; size: number } | undefined;
  if (p.initrd !== undefined && p.initrd.length > 0) {
    const limit = initrdLimit(hdr, p.belowFourGEnd);
    const addr = Math.floor((limit - p.initrd.length) / 4096) * 4096;
    if (addr < at.kernelEnd) throw new LoaderError(`-initrd: the initrd (${p.initrd.length} bytes) does not fit above the kernel; give it more memory (-m)`);
    mem.write(addr, p.initrd);
    mem.writeU32(bp + HDR_RAMDISK_IMAGE, addr >>> 0);
    mem.writeU32(bp + HDR_RAMDISK_SIZE, p.initrd.length >>> 0);
    mem.writeU32(bp + BP_EXT_RAMDISK_IMAGE, Math.floor(addr / 2 ** 32));
    mem.writeU32(bp + BP_EXT_RAMDISK_SIZE, Math.floor(p.initrd.length / 2 ** 32));
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
  // INT 15h E801's figure (KiB above 1 MiB), the fallback when e820 is absent.
  mem.writeU32(bp + BP_ALT_MEM_K, Math.max(0, Math.floor((p.belowFourGEnd - LINUX_KERNEL_ADDR) / 1024)));
  if (p.rsdpAddr !== undefined && hdr.version >= 0x20e) {
    mem.writeU32(bp + BP_ACPI_RSDP_ADDR, p.rsdpAddr >>> 0);
    mem.writeU32(bp + BP_ACPI_RSDP_ADDR + 4, Math.floor(p.rsdpAddr / 2 ** 32));
  }
  if (p.vgaText === true) {
    // What the setup code would have read from a VGA BIOS in mode 3.
    const si = bp + BP_SCREEN_INFO;
    mem.writeU8(si + SI_ORIG_VIDEO_MODE, 3);
    mem.writeU8(si + SI_ORIG_VIDEO_COLS, 80);
    mem.writeU8(si + SI_ORIG_VIDEO_LINES, 25);
    mem.writeU8(si + SI_ORIG_VIDEO_ISVGA, VIDEO_TYPE_VGAC);
    mem.writeU16(si + SI_ORIG_VIDEO_POINTS, 16);
    mem.writeU16(si + SI_ORIG_VIDEO_EGA_BX, 0x0003); // INT 10h AH=12h BL=10h: colour, 256 KiB
  }
  return { bp, initrd };
}

function fits(mem: GuestMemory, addr: number, len: number): boolean {
  return mem.findRegion(addr, len) !== undefined;
}

export function loadLinux(mem: GuestMemory, image: Uint8Array, name: string, p: LinuxBootParams): LinuxLoadResult {
  const hdr = parseSetupHeader(image, name);
  if (p.fastBoot === true) return loadLinuxFast(mem, image, name, hdr, p);
  const kernel = image.subarray(hdr.setupSize);
  const span = Math.max(kernel.length, hdr.initSize);
  const pref = hdr.prefAddress;
  const kernelAddr = pref >= LINUX_KERNEL_ADDR && pref + span <= 2 ** 32 && fits(mem, pref, span) ? pref : LINUX_KERNEL_ADDR;
  if (!fits(mem, kernelAddr, span))
    throw new LoaderError(`${name}: the kernel needs 0x${span.toString(16)} bytes at 0x${kernelAddr.toString(16)}; give it more memory (-m)`);
  mem.write(kernelAddr, kernel);
  const { bp, initrd } = writeBootParams(mem, image, hdr, p, { kernelAddr, kernelEnd: kernelAddr + span });
  const long = (hdr.xloadflags & XLF_KERNEL_64) !== 0;
  return {
    path: long ? 'protocol-64' : 'protocol-32',
    mode: long ? 'long' : 'protected',
    // The 32-bit entry is the load address (code32_start's meaning); startup_64 is 0x200 past it.
    entry: long ? kernelAddr + STARTUP_64_OFFSET : kernelAddr,
    bootParams: bp,
    startInfo: 0,
    protocolVersion: hdr.version,
    kernelAddr,
    initrd,
    end: kernelAddr + span,
  };
}

/** The fast path: the payload decompressed on the host, the ELF loaded at its physical addresses. */
function loadLinuxFast(mem: GuestMemory, image: Uint8Array, name: string, hdr: SetupHeader, p: LinuxBootParams): LinuxLoadResult {
  const vmlinux = decompressBzImagePayload(image, name);
  const elfName = `${name} (decompressed vmlinux)`;
  const elf = parseElf(vmlinux, elfName);
  const r = loadElf(mem, vmlinux, elf, elfName);
  const end = elfPhysEnd(elf);
  // PVH has no screen_info (Linux's pvh_bootparams starts zeroed), so vgacon would find no
  // console: with a VGA the kernel gets boot_params instead, as from the decompressor.
  const pvh = p.vgaText === true ? undefined : findPvhEntry(vmlinux);
  if (pvh !== undefined) {
    const s = setupPvhStartInfo(mem, pvh, end, p, name);
    return { path: 'pvh', mode: 'protected', entry: s.entry, bootParams: 0, startInfo: s.startInfo, protocolVersion: hdr.version, kernelAddr: r.low, initrd: s.initrd, end };
  }
  // No PVH note: hand over as the in-guest decompressor does (arch/x86/boot/compressed:
  // jump to the ELF entry, startup_32 in protected mode or startup_64 in long mode with
  // an identity map, ESI/RSI = boot_params).
  const { bp, initrd } = writeBootParams(mem, image, hdr, p, { kernelAddr: r.low, kernelEnd: end });
  const long = elf.elfClass === 64;
  return {
    path: long ? 'vmlinux-64' : 'vmlinux-32', mode: long ? 'long' : 'protected', entry: r.entry, bootParams: bp, startInfo: 0,
    protocolVersion: hdr.version, kernelAddr: r.low, initrd, end,
  };
}
