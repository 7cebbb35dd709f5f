/**
 * Draws what the VGA's CRT would show (QEMU's vga_draw_text / vga_draw_graphic) into an
 * RGB image: text mode from the character/attribute planes with the font in plane 2 and
 * the attribute controller's 16-colour palette through the DAC; VBE modes at 8 (DAC
 * palette), 15, 16, 24 and 32 bits per pixel; the legacy 16-colour planar and 256-colour
 * chain-4 graphics modes; a blank screen while the attribute controller is disconnected.
 * Screen dumps are not a hot path: this runs once per dump.
 */
import type { RgbImage } from './png';
import type { VgaCore } from '../devices/vga/vga';
import {
  VBE_DISPI_INDEX_BPP, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES, VGA_AR_ENABLE_DISPLAY, VGA_ATC_COLOR_PAGE,
  VGA_ATC_MODE, VGA_CR0A_CURSOR_OFF, VGA_CRTC_CURSOR_END, VGA_CRTC_CURSOR_HI, VGA_CRTC_CURSOR_LO, VGA_CRTC_CURSOR_START,
  VGA_CRTC_H_DISP, VGA_CRTC_MAX_SCAN, VGA_CRTC_OFFSET, VGA_CRTC_OVERFLOW, VGA_CRTC_START_HI, VGA_CRTC_START_LO,
  VGA_CRTC_V_DISP_END, VGA_GFX_MISC, VGA_GFX_MODE, VGA_GR06_GRAPHICS_MODE, VGA_SEQ_CHARACTER_MAP, VGA_SEQ_CLOCK_MODE,
} from '../devices/vga/vga-regs';

/** A 6-bit DAC value as 8 bits (QEMU's c6_to_8). */
function c6to8(v: number): number {
  v &= 0x3f;
  const b = v & 1;
  return (v << 2) | (b << 1) | b;
}

/** A 5-bit channel widened by repeating its top bits (pixman's expansion, as QEMU's dumps). */
function c5to8(v: number): number {
  return (v << 3) | (v >> 2);
}

function g6to8(v: number): number {
  return (v << 2) | (v >> 4);
}

/** DAC entry i as [r, g, b] 8-bit. */
function dacColor(s: VgaCore, i: number, out: Uint8Array, o: number): void {
  for (let k = 0; k < 3; k++) {
    const v = s.palette[i * 3 + k]!;
    out[o + k] = s.dac8bit ? v : c6to8(v);
  }
}

/** The 16 attribute-palette colours as 48 bytes (QEMU's update_palette16). */
function palette16(s: VgaCore): Uint8Array {
  const p = new Uint8Array(48);
  for (let i = 0; i < 16; i++) {
    let v = s.ar[i]!;
    if (s.ar[VGA_ATC_MODE]! & 0x80) v = ((s.ar[VGA_ATC_COLOR_PAGE]! & 0xf) << 4) | (v & 0xf);
    else v = ((s.ar[VGA_ATC_COLOR_PAGE]! & 0xc) << 4) | (v & 0x3f);
    for (let k = 0; k < 3; k++) p[i * 3 + k] = c6to8(s.palette[v * 3 + k]!);
  }
  return p;
}

/** Vertical display end + 1, in scan lines. */
function displayHeight(s: VgaCore): number {
  const cr = s.cr;
  return (cr[VGA_CRTC_V_DISP_END]! | ((cr[VGA_CRTC_OVERFLOW]! & 0x02) << 7) | ((cr[VGA_CRTC_OVERFLOW]! & 0x40) << 3)) + 1;
}

export type VgaScreenMode = 'blank' | 'text' | 'graphics' | 'vbe';

export function vgaScreenMode(s: VgaCore): VgaScreenMode {
  if (s.vbeEnabled()) return 'vbe';
  if (!(s.arIndex & VGA_AR_ENABLE_DISPLAY)) return 'blank';
  return s.gr[VGA_GFX_MISC]! & VGA_GR06_GRAPHICS_MODE ? 'graphics' : 'text';
}

export function renderVga(s: VgaCore): RgbImage {
  switch (vgaScreenMode(s)) {
    case 'vbe': return renderVbe(s);
    case 'text': return renderText(s);
    case 'graphics': return renderLegacyGraphics(s);
    default: return { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
  }
}

function renderVbe(s: VgaCore): RgbImage {
  const width = s.vbeRegs[VBE_DISPI_INDEX_XRES]!;
  const height = s.vbeRegs[VBE_DISPI_INDEX_YRES]!;
  const bpp = s.vbeRegs[VBE_DISPI_INDEX_BPP]!;
  const out = new Uint8Array(width * height * 3);
  const vram = s.vram;
  const mask = vram.length - 1;
  const base = s.vbeStartAddr * 4;
  for (let y = 0; y < height; y++) {
    let a = base + y * s.vbeLineOffset;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      switch (bpp) {
        case 8: dacColor(s, vram[a++ & mask]!, out, o); break;
        case 15: {
          const v = vram[a & mask]! | (vram[(a + 1) & mask]! << 8);
          a += 2;
          out[o] = c5to8((v >> 10) & 0x1f); out[o + 1] = c5to8((v >> 5) & 0x1f); out[o + 2] = c5to8(v & 0x1f);
          break;
        }
        case 16: {
          const v = vram[a & mask]! | (vram[(a + 1) & mask]! << 8);
          a += 2;
          out[o] = c5to8((v >> 11) & 0x1f); out[o + 1] = g6to8((v >> 5) & 0x3f); out[o + 2] = c5to8(v & 0x1f);
          break;
        }
        case 24:
          out[o + 2] = vram[a & mask]!; out[o + 1] = vram[(a + 1) & mask]!; out[o] = vram[(a + 2) & mask]!;
          a += 3;
          break;
        case 32:
          out[o + 2] = vram[a & mask]!; out[o + 1] = vram[(a + 1) & mask]!; out[o] = vram[(a + 2) & mask]!;
          a += 4;
          break;
        default: { // 4 bpp: planar, as the legacy 16-colour mode
          const addr = (base + y * s.vbeLineOffset) / 4 + (x >> 3);
          const bit = 7 - (x & 7);
          let c = 0;
          for (let p = 0; p < 4; p++) c |= ((vram[((addr * 4) + p) & mask]! >> bit) & 1) << p;
          const pal = palette16(s);
          out[o] = pal[c * 3]!; out[o + 1] = pal[c * 3 + 1]!; out[o + 2] = pal[c * 3 + 2]!;
        }
      }
    }
  }
  return { width, height, data: out };
}

function renderText(s: VgaCore): RgbImage {
  const cr = s.cr;
  const cheight = (cr[VGA_CRTC_MAX_SCAN]! & 0x1f) + 1;
  const cwidth = s.seq(VGA_SEQ_CLOCK_MODE) & 1 ? 8 : 9;
  const cols = cr[VGA_CRTC_H_DISP]! + 1;
  const rows = Math.max(1, Math.floor(displayHeight(s) / cheight));
  const width = cols * cwidth;
  const height = rows * cheight;
  const out = new Uint8Array(width * height * 3);
  const vram = s.vram;
  const pal = palette16(s);
  // Font maps A/B in plane 2 (sequencer character map select), 8 KiB apart per map.
  const cm = s.seq(VGA_SEQ_CHARACTER_MAP);
  const fontA = ((((cm >> 5) & 1) | ((cm >> 1) & 6)) * 8192) * 4 + 2;
  const fontB = ((((cm >> 4) & 1) | ((cm << 1) & 6)) * 8192) * 4 + 2;
  const startAddr = cr[VGA_CRTC_START_LO]! | (cr[VGA_CRTC_START_HI]! << 8);
  const lineOffset = cr[VGA_CRTC_OFFSET]! << 3;
  const cursorAddr = ((cr[VGA_CRTC_CURSOR_HI]! << 8) | cr[VGA_CRTC_CURSOR_LO]!);
  const lineGraphics = (s.ar[VGA_ATC_MODE]! & 0x04) !== 0;
  const mask = vram.length - 1;
  for (let cy = 0; cy < rows; cy++) {
    for (let cx = 0; cx < cols; cx++) {
      const src = (startAddr * 4 + cy * lineOffset + cx * 4) & mask;
      const ch = vram[src]!;
      const attr = vram[src + 1]!;
      const font = attr & 0x08 ? fontA : fontB;
      const fg = attr & 0x0f;
      const bg = attr >> 4;
      const isCursor = (src >> 2) === cursorAddr && !(cr[VGA_CRTC_CURSOR_START]! & VGA_CR0A_CURSOR_OFF);
      const curStart = cr[VGA_CRTC_CURSOR_START]! & 0x1f;
      const curEnd = Math.min(cr[VGA_CRTC_CURSOR_END]! & 0x1f, cheight - 1);
      for (let line = 0; line < cheight; line++) {
        let bits = vram[(font + (ch * 32 + line) * 4) & mask]!;
        if (isCursor && line >= curStart && line <= curEnd) bits = 0xff;
        // The ninth column repeats the eighth for the line-drawing characters 0xC0-0xDF.
        const ninth = cwidth === 9 && lineGraphics && ch >= 0xc0 && ch <= 0xdf ? bits & 1 : 0;
        let o = ((cy * cheight + line) * width + cx * cwidth) * 3;
        for (let x = 0; x < cwidth; x++, o += 3) {
          const on = x < 8 ? (bits >> (7 - x)) & 1 : (isCursor && line >= curStart && line <= curEnd ? 1 : ninth);
          const c = (on ? fg : bg) * 3;
          out[o] = pal[c]!; out[o + 1] = pal[c + 1]!; out[o + 2] = pal[c + 2]!;
        }
      }
    }
  }
  return { width, height, data: out };
}

/** Mode 12h-style planar 16 colours, or mode 13h-style 256 colours (chain-4, pixels doubled). */
function renderLegacyGraphics(s: VgaCore): RgbImage {
  const cr = s.cr;
  const shiftControl = (s.gr[VGA_GFX_MODE]! >> 5) & 3;
  const doubleScan = cr[VGA_CRTC_MAX_SCAN]! & 0x80 ? 2 : 1;
  const scanRepeat = ((cr[VGA_CRTC_MAX_SCAN]! & 0x1f) + 1) * doubleScan;
  let width = (cr[VGA_CRTC_H_DISP]! + 1) * 8;
  const height = Math.max(1, Math.floor(displayHeight(s) / scanRepeat));
  const startAddr = cr[VGA_CRTC_START_LO]! | (cr[VGA_CRTC_START_HI]! << 8);
  const lineOffset = cr[VGA_CRTC_OFFSET]! << 3;
  const vram = s.vram;
  const mask = vram.length - 1;
  if (shiftControl >= 2) width >>= 1; // 256 colours: two dot clocks per pixel
  const out = new Uint8Array(width * height * 3);
  const pal = palette16(s);
  for (let y = 0; y < height; y++) {
    const line = startAddr * 4 + y * lineOffset;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (shiftControl >= 2) {
        dacColor(s, vram[(line + x) & mask]!, out, o);
      } else {
        const a = (line + (x >> 3) * 4) & mask;
        const bit = 7 - (x & 7);
        let c = 0;
        for (let p = 0; p < 4; p++) c |= ((vram[a + p]! >> bit) & 1) << p;
        out[o] = pal[c * 3]!; out[o + 1] = pal[c * 3 + 1]!; out[o + 2] = pal[c * 3 + 2]!;
      }
    }
  }
  return { width, height, data: out };
}
