/**
 * VGA and Bochs VBE register numbers, with Linux's names (include/video/vga.h) and
 * QEMU's (hw/display/vga_int.h, include/hw/display/bochs-vbe.h).
 */

// I/O ports (colour addresses; the mono CRTC/status pair is at 0x3b4/0x3b5/0x3ba).
export const VGA_ATT_W = 0x3c0;
export const VGA_ATT_R = 0x3c1;
export const VGA_MIS_W = 0x3c2;
export const VGA_SEQ_I = 0x3c4;
export const VGA_SEQ_D = 0x3c5;
export const VGA_PEL_MSK = 0x3c6;
export const VGA_PEL_IR = 0x3c7;
export const VGA_PEL_IW = 0x3c8;
export const VGA_PEL_D = 0x3c9;
export const VGA_FTC_R = 0x3ca;
export const VGA_MIS_R = 0x3cc;
export const VGA_GFX_I = 0x3ce;
export const VGA_GFX_D = 0x3cf;
export const VGA_CRT_IM = 0x3b4;
export const VGA_CRT_DM = 0x3b5;
export const VGA_IS1_RM = 0x3ba;
export const VGA_CRT_IC = 0x3d4;
export const VGA_CRT_DC = 0x3d5;
export const VGA_IS1_RC = 0x3da;
/** The legacy register block qemu-lite decodes: 0x3b0..0x3df. */
export const VGA_IO_BASE = 0x3b0;
export const VGA_IO_SIZE = 0x30;

// Attribute controller
export const VGA_ATC_PALETTE0 = 0x00;
export const VGA_ATC_MODE = 0x10;
export const VGA_ATC_OVERSCAN = 0x11;
export const VGA_ATC_PLANE_ENABLE = 0x12;
export const VGA_ATC_PEL = 0x13;
export const VGA_ATC_COLOR_PAGE = 0x14;
export const VGA_ATT_C = 0x15;
/** Bit 5 of the index (PAS): the attribute controller drives the display (0 blanks it). */
export const VGA_AR_ENABLE_DISPLAY = 0x20;

// Sequencer
export const VGA_SEQ_RESET = 0x00;
export const VGA_SEQ_CLOCK_MODE = 0x01;
export const VGA_SEQ_PLANE_WRITE = 0x02;
export const VGA_SEQ_CHARACTER_MAP = 0x03;
export const VGA_SEQ_MEMORY_MODE = 0x04;
export const VGA_SR01_CHAR_CLK_8DOTS = 0x01;
export const VGA_SR02_ALL_PLANES = 0x0f;
export const VGA_SR04_EXT_MEM = 0x02;
export const VGA_SR04_SEQ_MODE = 0x04;
export const VGA_SR04_CHN_4M = 0x08;

// Graphics controller
export const VGA_GFX_SR_VALUE = 0x00;
export const VGA_GFX_SR_ENABLE = 0x01;
export const VGA_GFX_COMPARE_VALUE = 0x02;
export const VGA_GFX_DATA_ROTATE = 0x03;
export const VGA_GFX_PLANE_READ = 0x04;
export const VGA_GFX_MODE = 0x05;
export const VGA_GFX_MISC = 0x06;
export const VGA_GFX_COMPARE_MASK = 0x07;
export const VGA_GFX_BIT_MASK = 0x08;
export const VGA_GR06_GRAPHICS_MODE = 0x01;

// CRT controller
export const VGA_CRTC_H_TOTAL = 0x00;
export const VGA_CRTC_H_DISP = 0x01;
export const VGA_CRTC_OVERFLOW = 0x07;
export const VGA_CRTC_MAX_SCAN = 0x09;
export const VGA_CRTC_CURSOR_START = 0x0a;
export const VGA_CRTC_CURSOR_END = 0x0b;
export const VGA_CRTC_START_HI = 0x0c;
export const VGA_CRTC_START_LO = 0x0d;
export const VGA_CRTC_CURSOR_HI = 0x0e;
export const VGA_CRTC_CURSOR_LO = 0x0f;
export const VGA_CRTC_V_SYNC_END = 0x11;
export const VGA_CRTC_V_DISP_END = 0x12;
export const VGA_CRTC_OFFSET = 0x13;
export const VGA_CRTC_MODE = 0x17;
export const VGA_CRTC_LINE_COMPARE = 0x18;
export const VGA_CR11_LOCK_CR0_CR7 = 0x80;
/** Cursor start bit 5: cursor off. */
export const VGA_CR0A_CURSOR_OFF = 0x20;

// Input status 1: display enable / vertical retrace.
export const ST01_V_RETRACE = 0x08;
export const ST01_DISP_ENABLE = 0x01;

/** Writable bits of each sequencer / graphics register (QEMU's sr_mask, gr_mask). */
export const SR_MASK = [0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff] as const;
export const GR_MASK = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0] as const;

// Bochs VBE "DISPI" interface
export const VBE_DISPI_IOPORT_INDEX = 0x1ce;
export const VBE_DISPI_IOPORT_DATA = 0x1cf;
export const VBE_DISPI_INDEX_ID = 0x0;
export const VBE_DISPI_INDEX_XRES = 0x1;
export const VBE_DISPI_INDEX_YRES = 0x2;
export const VBE_DISPI_INDEX_BPP = 0x3;
export const VBE_DISPI_INDEX_ENABLE = 0x4;
export const VBE_DISPI_INDEX_BANK = 0x5;
export const VBE_DISPI_INDEX_VIRT_WIDTH = 0x6;
export const VBE_DISPI_INDEX_VIRT_HEIGHT = 0x7;
export const VBE_DISPI_INDEX_X_OFFSET = 0x8;
export const VBE_DISPI_INDEX_Y_OFFSET = 0x9;
export const VBE_DISPI_INDEX_NB = 0xa;
export const VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 0xa;
export const VBE_DISPI_ID0 = 0xb0c0;
export const VBE_DISPI_ID5 = 0xb0c5;
export const VBE_DISPI_MAX_XRES = 16000;
export const VBE_DISPI_MAX_YRES = 12000;
export const VBE_DISPI_MAX_BPP = 32;
export const VBE_DISPI_DISABLED = 0x00;
export const VBE_DISPI_ENABLED = 0x01;
export const VBE_DISPI_GETCAPS = 0x02;
export const VBE_DISPI_8BIT_DAC = 0x20;
export const VBE_DISPI_LFB_ENABLED = 0x40;
export const VBE_DISPI_NOCLEARMEM = 0x80;

// PCI VGA (hw/display/vga-pci.c): 1234:1111, BAR0 = LFB, BAR2 = MMIO registers.
export const PCI_VENDOR_ID_QEMU = 0x1234;
export const PCI_DEVICE_ID_QEMU_VGA = 0x1111;
export const PCI_CLASS_DISPLAY_VGA = 0x030000;
export const PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1af4;
export const PCI_SUBDEVICE_ID_QEMU = 0x1100;
/** QEMU's default -device VGA vgamem_mb=16. */
export const VGA_VRAM_SIZE = 16 * 1024 * 1024;
export const PCI_VGA_MMIO_SIZE = 0x1000;
export const PCI_VGA_IOPORT_OFFSET = 0x400;
export const PCI_VGA_IOPORT_SIZE = 0x3e0 - 0x3c0;
export const PCI_VGA_BOCHS_OFFSET = 0x500;
export const PCI_VGA_BOCHS_SIZE = (VBE_DISPI_INDEX_NB + 1) * 2;
export const PCI_VGA_QEXT_OFFSET = 0x600;
export const PCI_VGA_QEXT_SIZE = 8;
export const PCI_VGA_QEXT_REG_SIZE = 0x0;
export const PCI_VGA_QEXT_REG_BYTEORDER = 0x4;
export const PCI_VGA_QEXT_LITTLE_ENDIAN = 0x1e1e1e1e;

// The legacy memory window.
export const VGA_WINDOW_BASE = 0xa0000;
export const VGA_WINDOW_SIZE = 0x20000;
