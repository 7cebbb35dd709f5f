/**
 * The standard VGA with Bochs VBE extensions (QEMU's hw/display/vga.c): attribute
 * controller, sequencer, graphics controller, CRTC, DAC palette, misc output and input
 * status registers on 0x3b0-0x3df; the 0xA0000-0xBFFFF memory window with its planar,
 * odd/even (text) and chain-4 mappings, latches, write modes 0-3 and read modes 0/1; and
 * the VBE DISPI registers (index/data at 0x1ce/0x1cf). Video memory is one Uint8Array:
 * plane p of VGA address a is vram[4 * a + p] (QEMU's layout), so the chain-4 and VBE
 * views are vram[a] and the linear framebuffer is the same bytes from offset 0.
 * After reset the state is text mode 3 as the VGA BIOS leaves it (80x25, 9x16 cells,
 * font in plane 2, screen cleared), since qemu-lite boots guests without a BIOS.
 */
import type { BusDevice } from '../../bus';
import { VGA_FONT_8X16 } from './vga-font';
import {
  GR_MASK, SR_MASK, ST01_DISP_ENABLE, ST01_V_RETRACE, VBE_DISPI_8BIT_DAC, VBE_DISPI_ENABLED, VBE_DISPI_GETCAPS,
  VBE_DISPI_ID0, VBE_DISPI_ID5, VBE_DISPI_INDEX_BANK, VBE_DISPI_INDEX_BPP, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_ID,
  VBE_DISPI_INDEX_NB, VBE_DISPI_INDEX_VIDEO_MEMORY_64K, VBE_DISPI_INDEX_VIRT_HEIGHT, VBE_DISPI_INDEX_VIRT_WIDTH,
  VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_Y_OFFSET, VBE_DISPI_INDEX_YRES, VBE_DISPI_MAX_BPP,
  VBE_DISPI_MAX_XRES, VBE_DISPI_MAX_YRES, VBE_DISPI_NOCLEARMEM, VGA_ATC_COLOR_PAGE, VGA_ATC_MODE, VGA_ATC_OVERSCAN,
  VGA_ATC_PEL, VGA_ATC_PLANE_ENABLE, VGA_ATT_C, VGA_ATT_R, VGA_ATT_W, VGA_CR11_LOCK_CR0_CR7, VGA_CRT_DC, VGA_CRT_DM,
  VGA_CRT_IC, VGA_CRT_IM, VGA_CRTC_H_DISP, VGA_CRTC_LINE_COMPARE, VGA_CRTC_MAX_SCAN, VGA_CRTC_MODE, VGA_CRTC_OFFSET,
  VGA_CRTC_OVERFLOW, VGA_CRTC_V_DISP_END, VGA_CRTC_V_SYNC_END, VGA_FTC_R, VGA_GFX_BIT_MASK, VGA_GFX_COMPARE_MASK,
  VGA_GFX_COMPARE_VALUE, VGA_GFX_D, VGA_GFX_DATA_ROTATE, VGA_GFX_I, VGA_GFX_MISC, VGA_GFX_MODE, VGA_GFX_PLANE_READ,
  VGA_GFX_SR_ENABLE, VGA_GFX_SR_VALUE, VGA_GR06_GRAPHICS_MODE, VGA_IO_BASE, VGA_IS1_RC, VGA_IS1_RM, VGA_MIS_R,
  VGA_MIS_W, VGA_PEL_D, VGA_PEL_IR, VGA_PEL_IW, VGA_PEL_MSK, VGA_SEQ_D, VGA_SEQ_I, VGA_SEQ_MEMORY_MODE,
  VGA_SEQ_PLANE_WRITE, VGA_SR02_ALL_PLANES, VGA_SR04_CHN_4M, VGA_SR04_SEQ_MODE, VGA_SEQ_CLOCK_MODE,
} from './vga-regs';

/** mask16[v]: byte i of the result is 0xff when bit i of v is set (the four planes). */
const MASK16 = Uint32Array.from({ length: 16 }, (_, v) =>
  ((v & 1 ? 0xff : 0) | (v & 2 ? 0xff00 : 0) | (v & 4 ? 0xff0000 : 0) | (v & 8 ? 0xff000000 : 0)) >>> 0);

/** Mode 3 as the VGA BIOS programs it (SeaBIOS vgasrc/vgatables.c, stdvga mode 0x03). */
const MODE3_SEQ = [0x03, 0x00, 0x03, 0x00, 0x02] as const;
const MODE3_MISC = 0x67;
const MODE3_CRTC = [
  0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
  0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
] as const;
const MODE3_ACTL = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
  0x0c, 0x00, 0x0f, 0x08, 0x00,
] as const;
const MODE3_GRDC = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff] as const;

export interface VgaOptions {
  /** Video memory size in bytes (a multiple of 64 KiB). */
  vramSize: number;
  /** Start in mode 3 with the font loaded, as after the VGA BIOS (default true). */
  biosTextMode?: boolean;
}

export class VgaCore {
  readonly vram: Uint8Array;
  /** The same bytes as 32-bit words: the four planes of one VGA address. */
  private readonly vram32: Uint32Array;
  readonly sr = new Uint8Array(8);
  readonly gr = new Uint8Array(16);
  readonly cr = new Uint8Array(256);
  readonly ar = new Uint8Array(VGA_ATT_C);
  /** DAC palette: 256 entries of r, g, b (6-bit, or 8-bit with VBE_DISPI_8BIT_DAC). */
  readonly palette = new Uint8Array(768);
  srIndex = 0;
  grIndex = 0;
  crIndex = 0;
  arIndex = 0;
  arFlipFlop = 0;
  msr = 0;
  fcr = 0;
  st00 = 0;
  st01 = 0;
  dacState = 0;
  dacSubIndex = 0;
  dacReadIndex = 0;
  dacWriteIndex = 0;
  readonly dacCache = new Uint8Array(3);
  dac8bit = false;
  latch = 0;
  bankOffset = 0;
  /** Bumped on every write that may change the picture (cheap change detection for displays). */
  generation = 0;

  // Bochs VBE
  vbeIndex = 0;
  readonly vbeRegs = new Uint16Array(VBE_DISPI_INDEX_NB + 1);
  /** In 4-byte units, as the CRTC start address. */
  vbeStartAddr = 0;
  vbeLineOffset = 0;
  readonly vbeSize: number;
  private readonly vbeBankMask: number;

  constructor(opts: VgaOptions) {
    if (opts.vramSize <= 0 || opts.vramSize % 0x10000 !== 0) throw new RangeError(`vga: vram size ${opts.vramSize} is not a multiple of 64 KiB`);
    this.vram = new Uint8Array(opts.vramSize);
    this.vram32 = new Uint32Array(this.vram.buffer);
    this.vbeSize = opts.vramSize;
    this.vbeBankMask = (opts.vramSize >> 16) - 1;
    this.reset(opts.biosTextMode ?? true);
  }

  reset(biosTextMode = true): void {
    this.sr.fill(0); this.gr.fill(0); this.cr.fill(0); this.ar.fill(0); this.palette.fill(0);
    this.vbeRegs.fill(0);
    this.vbeRegs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    this.vbeRegs[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = this.vbeSize >> 16;
    this.vbeIndex = 0; this.vbeStartAddr = 0; this.vbeLineOffset = 0; this.bankOffset = 0;
    this.srIndex = this.grIndex = this.crIndex = this.arIndex = this.arFlipFlop = 0;
    this.msr = this.fcr = this.st00 = this.st01 = 0;
    this.dacState = this.dacSubIndex = this.dacReadIndex = this.dacWriteIndex = 0;
    this.dac8bit = false;
    this.latch = 0;
    this.vram.fill(0);
    if (!biosTextMode) return;
    MODE3_SEQ.forEach((v, i) => (this.sr[i] = v));
    this.msr = MODE3_MISC;
    MODE3_CRTC.forEach((v, i) => (this.cr[i] = v));
    MODE3_ACTL.forEach((v, i) => (this.ar[i] = v));
    MODE3_GRDC.forEach((v, i) => (this.gr[i] = v));
    this.arIndex = 0x20; // palette address source: the display is on
    // The DAC as the BIOS loads it for mode 3: the 64-colour EGA palette.
    for (let i = 0; i < 64; i++) {
      this.palette[3 * i] = ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15;
      this.palette[3 * i + 1] = ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15;
      this.palette[3 * i + 2] = (i & 1) * 0x2a + ((i >> 3) & 1) * 0x15;
    }
    // Font in plane 2 (32-byte glyph slots of map 0); text cleared to light-grey spaces.
    for (let ch = 0; ch < 256; ch++)
      for (let row = 0; row < 16; row++) this.vram[(ch * 32 + row) * 4 + 2] = VGA_FONT_8X16[ch * 16 + row]!;
    for (let a = 0; a < 0x4000; a += 2) {
      this.vram[a * 4] = 0x20;
      this.vram[a * 4 + 1] = 0x07;
      this.vram[(a + 1) * 4] = 0x20;
      this.vram[(a + 1) * 4 + 1] = 0x07;
    }
    this.generation++;
  }

  vbeEnabled(): boolean {
    return (this.vbeRegs[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_ENABLED) !== 0;
  }

  /** The effective sequencer register (VBE modes above 4 bpp force chain-4, all planes). */
  seq(i: number): number {
    let v = this.sr[i]!;
    if (this.vbeEnabled() && this.vbeRegs[VBE_DISPI_INDEX_BPP] !== 4) {
      if (i === VGA_SEQ_MEMORY_MODE) v |= VGA_SR04_CHN_4M;
      else if (i === VGA_SEQ_PLANE_WRITE) v |= VGA_SR02_ALL_PLANES;
    }
    return v;
  }

  // ---- the 0xA0000 window ----

  /** The VGA address of window offset `addr` (0..0x1ffff), or -1 when the map does not decode it. */
  private windowAddr(addr: number): number {
    switch ((this.gr[VGA_GFX_MISC]! >> 2) & 3) {
      case 0: return addr;
      case 1: return addr >= 0x10000 ? -1 : addr + this.bankOffset;
      case 2: return addr < 0x10000 || addr >= 0x18000 ? -1 : addr - 0x10000;
      default: return addr < 0x18000 ? -1 : addr - 0x18000;
    }
  }

  memRead(offset: number): number {
    const addr = this.windowAddr(offset & 0x1ffff);
    if (addr < 0) return 0xff;
    const mm = this.seq(VGA_SEQ_MEMORY_MODE);
    if (mm & VGA_SR04_CHN_4M) return addr < this.vram.length ? this.vram[addr]! : 0xff;
    if (!(mm & VGA_SR04_SEQ_MODE)) {
      // Odd/even (text): even addresses are plane 0/2, odd ones plane 1/3; each pair is one VGA address.
      const plane = (this.gr[VGA_GFX_PLANE_READ]! & 2) | (addr & 1);
      const a = ((addr & ~1) << 1) | plane;
      return a < this.vram.length ? this.vram[a]! : 0xff;
    }
    if (addr * 4 >= this.vram.length) return 0xff;
    const latch = this.vram32[addr]!;
    this.latch = latch;
    if (!(this.gr[VGA_GFX_MODE]! & 0x08)) return (latch >>> (8 * this.gr[VGA_GFX_PLANE_READ]!)) & 0xff; // read mode 0
    // Read mode 1: colour compare over the planes selected by the compare mask.
    let r = (latch ^ MASK16[this.gr[VGA_GFX_COMPARE_VALUE]! & 0xf]!) & MASK16[this.gr[VGA_GFX_COMPARE_MASK]! & 0xf]!;
    r |= r >>> 16;
    r |= r >>> 8;
    return ~r & 0xff;
  }

  memWrite(offset: number, val: number): void {
    const addr = this.windowAddr(offset & 0x1ffff);
    if (addr < 0) return;
    this.generation++;
    const mm = this.seq(VGA_SEQ_MEMORY_MODE);
    const planeWrite = this.seq(VGA_SEQ_PLANE_WRITE);
    if (mm & VGA_SR04_CHN_4M) {
      if (planeWrite & (1 << (addr & 3)) && addr < this.vram.length) this.vram[addr] = val;
      return;
    }
    if (!(mm & VGA_SR04_SEQ_MODE)) {
      const plane = (this.gr[VGA_GFX_PLANE_READ]! & 2) | (addr & 1);
      if (!(planeWrite & (1 << plane))) return;
      const a = ((addr & ~1) << 1) | plane;
      if (a < this.vram.length) this.vram[a] = val;
      return;
    }
    const gr = this.gr;
    let v: number;
    let bitMask = 0;
    const writeMode = gr[VGA_GFX_MODE]! & 3;
    if (writeMode === 1) {
      v = this.latch;
    } else {
      if (writeMode === 0) {
        const b = gr[VGA_GFX_DATA_ROTATE]! & 7;
        v = ((val >> b) | (val << (8 - b))) & 0xff;
        v = (v * 0x01010101) >>> 0;
        const setMask = MASK16[gr[VGA_GFX_SR_ENABLE]! & 0xf]!;
        v = ((v & ~setMask) | (MASK16[gr[VGA_GFX_SR_VALUE]! & 0xf]! & setMask)) >>> 0;
        bitMask = gr[VGA_GFX_BIT_MASK]!;
      } else if (writeMode === 2) {
        v = MASK16[val & 0xf]!;
        bitMask = gr[VGA_GFX_BIT_MASK]!;
      } else {
        const b = gr[VGA_GFX_DATA_ROTATE]! & 7;
        const rot = ((val >> b) | (val << (8 - b))) & 0xff;
        bitMask = gr[VGA_GFX_BIT_MASK]! & rot;
        v = MASK16[gr[VGA_GFX_SR_VALUE]! & 0xf]!;
      }
      switch (gr[VGA_GFX_DATA_ROTATE]! >> 3) {
        case 1: v &= this.latch; break;
        case 2: v |= this.latch; break;
        case 3: v ^= this.latch; break;
        default: break;
      }
      const bm = (bitMask * 0x01010101) >>> 0;
      v = ((v & bm) | (this.latch & ~bm)) >>> 0;
    }
    if (addr * 4 >= this.vram.length) return;
    const wm = MASK16[planeWrite & 0xf]!;
    this.vram32[addr] = ((this.vram32[addr]! & ~wm) | (v & wm)) >>> 0;
  }

  /** The 0xA0000-0xBFFFF window as a bus device (byte accesses; wider ones split, little-endian). */
  readonly windowDevice: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = this.memRead(offset + i);
    },
    write: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) this.memWrite(offset + i, data[i]!);
    },
  };

  // ---- legacy I/O registers ----

  /** 0x3bx is dead in colour mode (misc output bit 0), 0x3dx in mono mode. */
  private ioportInvalid(port: number): boolean {
    if (this.msr & 1) return port >= 0x3b0 && port <= 0x3bf;
    return port >= 0x3d0 && port <= 0x3df;
  }

  ioportRead(port: number): number {
    if (this.ioportInvalid(port)) return 0xff;
    switch (port) {
      case VGA_ATT_W: return this.arFlipFlop === 0 ? this.arIndex : 0;
      case VGA_ATT_R: {
        const i = this.arIndex & 0x1f;
        return i < VGA_ATT_C ? this.ar[i]! : 0;
      }
      case VGA_MIS_W: return this.st00;
      case VGA_SEQ_I: return this.srIndex;
      case VGA_SEQ_D: return this.sr[this.srIndex]!;
      case VGA_PEL_MSK: return 0xff;
      case VGA_PEL_IR: return this.dacState;
      case VGA_PEL_IW: return this.dacWriteIndex;
      case VGA_PEL_D: {
        const v = this.palette[this.dacReadIndex * 3 + this.dacSubIndex]!;
        if (++this.dacSubIndex === 3) {
          this.dacSubIndex = 0;
          this.dacReadIndex = (this.dacReadIndex + 1) & 0xff;
        }
        return v;
      }
      case VGA_FTC_R: return this.fcr;
      case VGA_MIS_R: return this.msr;
      case VGA_GFX_I: return this.grIndex;
      case VGA_GFX_D: return this.gr[this.grIndex]!;
      case VGA_CRT_IM: case VGA_CRT_IC: return this.crIndex;
      case VGA_CRT_DM: case VGA_CRT_DC: return this.cr[this.crIndex]!;
      case VGA_IS1_RM: case VGA_IS1_RC:
        // No real retrace timing: toggle so that polling loops finish (QEMU's vga_dumb_retrace).
        this.st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
        this.arFlipFlop = 0;
        return this.st01;
      default: return 0;
    }
  }

  ioportWrite(port: number, val: number): void {
    if (this.ioportInvalid(port)) return;
    this.generation++;
    switch (port) {
      case VGA_ATT_W:
        if (this.arFlipFlop === 0) {
          this.arIndex = val & 0x3f;
        } else {
          const i = this.arIndex & 0x1f;
          if (i <= 0x0f) this.ar[i] = val & 0x3f;
          else if (i === VGA_ATC_MODE) this.ar[i] = val & ~0x10;
          else if (i === VGA_ATC_OVERSCAN) this.ar[i] = val;
          else if (i === VGA_ATC_PLANE_ENABLE) this.ar[i] = val & ~0xc0;
          else if (i === VGA_ATC_PEL || i === VGA_ATC_COLOR_PAGE) this.ar[i] = val & ~0xf0;
        }
        this.arFlipFlop ^= 1;
        break;
      case VGA_MIS_W: this.msr = val & ~0x10; break;
      case VGA_SEQ_I: this.srIndex = val & 7; break;
      case VGA_SEQ_D: this.sr[this.srIndex] = val & SR_MASK[this.srIndex]!; break;
      case VGA_PEL_IR:
        this.dacReadIndex = val;
        this.dacSubIndex = 0;
        this.dacState = 3;
        break;
      case VGA_PEL_IW:
        this.dacWriteIndex = val;
        this.dacSubIndex = 0;
        this.dacState = 0;
        break;
      case VGA_PEL_D:
        this.dacCache[this.dacSubIndex] = val;
        if (++this.dacSubIndex === 3) {
          this.palette.set(this.dacCache, this.dacWriteIndex * 3);
          this.dacSubIndex = 0;
          this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff;
        }
        break;
      case VGA_GFX_I: this.grIndex = val & 0x0f; break;
      case VGA_GFX_D:
        this.gr[this.grIndex] = val & GR_MASK[this.grIndex]!;
        this.vbeUpdateVgaRegs();
        break;
      case VGA_CRT_IM: case VGA_CRT_IC: this.crIndex = val; break;
      case VGA_CRT_DM: case VGA_CRT_DC:
        // CR0-CR7 are write-protected by CR11 bit 7, except CR7 bit 4 (line compare bit 8).
        if (this.cr[VGA_CRTC_V_SYNC_END]! & VGA_CR11_LOCK_CR0_CR7 && this.crIndex <= VGA_CRTC_OVERFLOW) {
          if (this.crIndex === VGA_CRTC_OVERFLOW) this.cr[VGA_CRTC_OVERFLOW] = (this.cr[VGA_CRTC_OVERFLOW]! & ~0x10) | (val & 0x10);
          return;
        }
        this.cr[this.crIndex] = val;
        this.vbeUpdateVgaRegs();
        break;
      case VGA_IS1_RM: case VGA_IS1_RC: this.fcr = val & 0x10; break;
      default: break;
    }
  }

  /** 0x3b0-0x3df as a bus device (a word access is two byte accesses, low port first). */
  readonly ioDevice: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = this.ioportRead(VGA_IO_BASE + offset + i);
    },
    write: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) this.ioportWrite(VGA_IO_BASE + offset + i, data[i]!);
    },
  };

  // ---- Bochs VBE DISPI ----

  vbeReadIndex(): number {
    return this.vbeIndex;
  }

  vbeWriteIndex(v: number): void {
    this.vbeIndex = v & 0xffff;
  }

  vbeReadData(): number {
    const i = this.vbeIndex;
    if (i < VBE_DISPI_INDEX_NB) {
      if (this.vbeRegs[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_GETCAPS) {
        if (i === VBE_DISPI_INDEX_XRES) return VBE_DISPI_MAX_XRES;
        if (i === VBE_DISPI_INDEX_YRES) return VBE_DISPI_MAX_YRES;
        if (i === VBE_DISPI_INDEX_BPP) return VBE_DISPI_MAX_BPP;
      }
      return this.vbeRegs[i]!;
    }
    if (i === VBE_DISPI_INDEX_VIDEO_MEMORY_64K) return this.vbeSize >> 16;
    return 0;
  }

  vbeWriteData(val: number): void {
    const r = this.vbeRegs;
    const i = this.vbeIndex;
    val &= 0xffff;
    this.generation++;
    switch (i) {
      case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) r[i] = val;
        break;
      case VBE_DISPI_INDEX_XRES: case VBE_DISPI_INDEX_YRES: case VBE_DISPI_INDEX_BPP:
      case VBE_DISPI_INDEX_VIRT_WIDTH: case VBE_DISPI_INDEX_X_OFFSET: case VBE_DISPI_INDEX_Y_OFFSET:
        r[i] = val;
        this.vbeFixupRegs();
        this.vbeUpdateVgaRegs();
        break;
      case VBE_DISPI_INDEX_BANK:
        r[i] = val & this.vbeBankMask;
        this.bankOffset = r[i]! << 16;
        break;
      case VBE_DISPI_INDEX_ENABLE:
        if (val & VBE_DISPI_ENABLED && !(r[VBE_DISPI_INDEX_ENABLE]! & VBE_DISPI_ENABLED)) {
          r[VBE_DISPI_INDEX_VIRT_WIDTH] = 0;
          r[VBE_DISPI_INDEX_X_OFFSET] = 0;
          r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
          r[VBE_DISPI_INDEX_ENABLE] = r[VBE_DISPI_INDEX_ENABLE]! | VBE_DISPI_ENABLED;
          this.vbeFixupRegs();
          this.vbeUpdateVgaRegs();
          if (!(val & VBE_DISPI_NOCLEARMEM)) this.vram.fill(0, 0, Math.min(this.vram.length, r[VBE_DISPI_INDEX_YRES]! * this.vbeLineOffset));
        } else {
          this.bankOffset = 0;
        }
        this.dac8bit = (val & VBE_DISPI_8BIT_DAC) !== 0;
        r[i] = val;
        break;
      default:
        break;
    }
  }

  /** Clamps the mode registers to what video memory holds (QEMU's vbe_fixup_regs). */
  private vbeFixupRegs(): void {
    if (!this.vbeEnabled()) return;
    const r = this.vbeRegs;
    let bits: number;
    switch (r[VBE_DISPI_INDEX_BPP]) {
      case 4: case 8: case 16: case 24: case 32: bits = r[VBE_DISPI_INDEX_BPP]!; break;
      case 15: bits = 16; break;
      default: bits = r[VBE_DISPI_INDEX_BPP] = 8; break;
    }
    r[VBE_DISPI_INDEX_XRES] = r[VBE_DISPI_INDEX_XRES]! & ~7;
    if (r[VBE_DISPI_INDEX_XRES] === 0) r[VBE_DISPI_INDEX_XRES] = 8;
    if (r[VBE_DISPI_INDEX_XRES]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_XRES] = VBE_DISPI_MAX_XRES;
    r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_VIRT_WIDTH]! & ~7;
    if (r[VBE_DISPI_INDEX_VIRT_WIDTH]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_VIRT_WIDTH] = VBE_DISPI_MAX_XRES;
    if (r[VBE_DISPI_INDEX_VIRT_WIDTH]! < r[VBE_DISPI_INDEX_XRES]!) r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES]!;
    const lineLength = (r[VBE_DISPI_INDEX_VIRT_WIDTH]! * bits) / 8;
    const maxy = Math.floor(this.vbeSize / lineLength);
    if (r[VBE_DISPI_INDEX_YRES] === 0) r[VBE_DISPI_INDEX_YRES] = 1;
    if (r[VBE_DISPI_INDEX_YRES]! > VBE_DISPI_MAX_YRES) r[VBE_DISPI_INDEX_YRES] = VBE_DISPI_MAX_YRES;
    if (r[VBE_DISPI_INDEX_YRES]! > maxy) r[VBE_DISPI_INDEX_YRES] = maxy;
    if (r[VBE_DISPI_INDEX_X_OFFSET]! > VBE_DISPI_MAX_XRES) r[VBE_DISPI_INDEX_X_OFFSET] = VBE_DISPI_MAX_XRES;
    if (r[VBE_DISPI_INDEX_Y_OFFSET]! > VBE_DISPI_MAX_YRES) r[VBE_DISPI_INDEX_Y_OFFSET] = VBE_DISPI_MAX_YRES;
    let offset = (r[VBE_DISPI_INDEX_X_OFFSET]! * bits) / 8 + r[VBE_DISPI_INDEX_Y_OFFSET]! * lineLength;
    if (offset + r[VBE_DISPI_INDEX_YRES]! * lineLength > this.vbeSize) {
      r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
      offset = (r[VBE_DISPI_INDEX_X_OFFSET]! * bits) / 8;
      if (offset + r[VBE_DISPI_INDEX_YRES]! * lineLength > this.vbeSize) {
        r[VBE_DISPI_INDEX_X_OFFSET] = 0;
        offset = 0;
      }
    }
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = Math.min(maxy, 0xffff);
    this.vbeLineOffset = lineLength;
    this.vbeStartAddr = Math.floor(offset / 4);
  }

  /** In a VBE mode the VGA registers describe it too (graphics, memory map 1, geometry). */
  private vbeUpdateVgaRegs(): void {
    if (!this.vbeEnabled()) return;
    const r = this.vbeRegs;
    this.gr[VGA_GFX_MISC] = (this.gr[VGA_GFX_MISC]! & ~0x0c) | 0x04 | VGA_GR06_GRAPHICS_MODE;
    this.cr[VGA_CRTC_MODE] = this.cr[VGA_CRTC_MODE]! | 3;
    this.cr[VGA_CRTC_OFFSET] = (this.vbeLineOffset >> 3) & 0xff;
    this.cr[VGA_CRTC_H_DISP] = ((r[VBE_DISPI_INDEX_XRES]! >> 3) - 1) & 0xff;
    const h = r[VBE_DISPI_INDEX_YRES]! - 1;
    this.cr[VGA_CRTC_V_DISP_END] = h & 0xff;
    this.cr[VGA_CRTC_OVERFLOW] = (this.cr[VGA_CRTC_OVERFLOW]! & ~0x42) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40);
    this.cr[VGA_CRTC_LINE_COMPARE] = 0xff;
    this.cr[VGA_CRTC_OVERFLOW] = this.cr[VGA_CRTC_OVERFLOW]! | 0x10;
    this.cr[VGA_CRTC_MAX_SCAN] = this.cr[VGA_CRTC_MAX_SCAN]! | 0x40;
    const shiftControl = r[VBE_DISPI_INDEX_BPP] === 4 ? 0 : 2;
    this.gr[VGA_GFX_MODE] = (this.gr[VGA_GFX_MODE]! & ~0x60) | (shiftControl << 5);
    this.cr[VGA_CRTC_MAX_SCAN] = this.cr[VGA_CRTC_MAX_SCAN]! & ~0x9f;
  }

  /** Index/data at 0x1ce/0x1cf: 16-bit registers (byte halves of the data port too, as Bochs). */
  readonly vbeIoDevice: BusDevice = {
    read: (_b, offset, data) => {
      const v = offset === 0 ? this.vbeReadIndex() : this.vbeReadData();
      data[0] = v & 0xff;
      if (data.length > 1) data[1] = (v >> 8) & 0xff;
      for (let i = 2; i < data.length; i++) data[i] = 0;
    },
    write: (_b, offset, data) => {
      const v = data.length > 1 ? data[0]! | (data[1]! << 8) : data[0]!;
      if (offset === 0) this.vbeWriteIndex(v);
      else this.vbeWriteData(v);
    },
  };

  /** Text mode: CR09 character height etc. are read by the renderer; expose clock mode for it. */
  charWidth(): number {
    return this.seq(VGA_SEQ_CLOCK_MODE) & 1 ? 8 : 9;
  }
}
