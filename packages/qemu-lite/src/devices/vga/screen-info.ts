/**
 * boot_params.screen_info (Linux's include/uapi/linux/screen_info.h) for a VGA in text
 * mode. Linux's real-mode setup fills it from the VGA BIOS; with the 32-bit boot
 * protocol (no BIOS) the loader must, or vgacon finds no console (orig_video_lines or
 * orig_video_cols 0). Values as the BIOS reports mode 3: 80x25, 16-line font, colour
 * VGA (isVGA 1, EGA BX not 0x10), the cursor where the CRTC has it.
 */
import type { GuestMemory } from '../../machine/guest-memory';
import type { VgaCore } from './vga';
import { VGA_CRTC_CURSOR_HI, VGA_CRTC_CURSOR_LO, VGA_CRTC_H_DISP, VGA_CRTC_MAX_SCAN } from './vga-regs';

export const SI_ORIG_X = 0x00;
export const SI_ORIG_Y = 0x01;
export const SI_ORIG_VIDEO_PAGE = 0x04;
export const SI_ORIG_VIDEO_MODE = 0x06;
export const SI_ORIG_VIDEO_COLS = 0x07;
export const SI_FLAGS = 0x08;
export const SI_ORIG_VIDEO_EGA_BX = 0x0a;
export const SI_ORIG_VIDEO_LINES = 0x0e;
export const SI_ORIG_VIDEO_IS_VGA = 0x0f;
export const SI_ORIG_VIDEO_POINTS = 0x10;
/** orig_video_isVGA: 1 is a VGA (0x23 would be a VESA linear framebuffer). */
export const VIDEO_TYPE_IS_VGA = 1;

/** "HdrS" at boot_params + 0x202: a zero page the loader filled (not, e.g., a PVH start that has none). */
export function hasLinuxBootParams(mem: GuestMemory, bootParams: number): boolean {
  try {
    return bootParams !== 0 && mem.readU32(bootParams + 0x202) === 0x53726448;
  } catch {
    return false;
  }
}

/** Writes the text-mode screen_info at boot_params (offset 0) for this VGA's mode 3 state. */
export function writeVgaScreenInfo(mem: GuestMemory, bootParams: number, vga: VgaCore): void {
  const cols = vga.cr[VGA_CRTC_H_DISP]! + 1;
  const points = (vga.cr[VGA_CRTC_MAX_SCAN]! & 0x1f) + 1;
  const lines = 25;
  const cursor = (vga.cr[VGA_CRTC_CURSOR_HI]! << 8) | vga.cr[VGA_CRTC_CURSOR_LO]!;
  mem.writeU8(bootParams + SI_ORIG_X, cursor % cols);
  mem.writeU8(bootParams + SI_ORIG_Y, Math.min(lines - 1, Math.floor(cursor / cols)));
  mem.writeU16(bootParams + SI_ORIG_VIDEO_PAGE, 0);
  mem.writeU8(bootParams + SI_ORIG_VIDEO_MODE, 0x03);
  mem.writeU8(bootParams + SI_ORIG_VIDEO_COLS, cols);
  mem.writeU8(bootParams + SI_FLAGS, 0);
  mem.writeU16(bootParams + SI_ORIG_VIDEO_EGA_BX, 0x0003); // colour, 256 KiB
  mem.writeU8(bootParams + SI_ORIG_VIDEO_LINES, lines);
  mem.writeU8(bootParams + SI_ORIG_VIDEO_IS_VGA, VIDEO_TYPE_IS_VGA);
  mem.writeU16(bootParams + SI_ORIG_VIDEO_POINTS, points);
}
