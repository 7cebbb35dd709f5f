/*
 * The standard VGA with Bochs VBE (PCI 1234:1111), driven directly:
 *   mode=text (default): 80x25 text through the 0xB8000 window with attribute bytes,
 *     cursor disabled through the CRTC, register read-back (CRTC, sequencer, graphics
 *     controller, attribute controller, DAC);
 *   mode=vbe bpp=8|15|16|24|32: a 640x480 VBE mode with the linear framebuffer at BAR0,
 *     drawing a white border, a red and a green rectangle and a blue disc (palette
 *     entries 1-4 in 8 bpp), with the DISPI registers read back.
 * The test decodes the PNG qemu-lite writes when the guest stops and checks the pixels.
 * hold=1: after drawing, print "VGA READY" and halt, so that a monitor can take a
 * screendump (QEMU, for comparison).
 */
#include "libc.h"
#include "x86/processor.h"
#include "x86/setup.h"
#include "pci-conf.h"

#define VBE_INDEX 0x1ce
#define VBE_DATA 0x1cf
enum { VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH, VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VMEM64K };
#define VBE_ENABLED 0x01
#define VBE_LFB_ENABLED 0x40

#define W 640
#define H 480

static void vbe_write(u16 index, u16 v) { outw(VBE_INDEX, index); outw(VBE_DATA, v); }
static u16 vbe_read(u16 index) { outw(VBE_INDEX, index); return inw(VBE_DATA); }
static u8 crtc_read(u8 i) { outb(0x3d4, i); return inb(0x3d5); }
static void crtc_write(u8 i, u8 v) { outb(0x3d4, i); outb(0x3d5, v); }

static void text_mode(void)
{
	volatile u16 *screen = (volatile u16 *)0xb8000;
	static const char *lines[] = {
		"Hello from kvmts: VGA text mode 80x25",
		"The quick brown fox jumps over the lazy dog 0123456789",
		"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	};
	static const u8 attrs[] = { 0x1f, 0x4e, 0x2a };
	for (int i = 0; i < 80 * 25; i++)
		screen[i] = 0x0720;
	for (int l = 0; l < 3; l++)
		for (int c = 0; lines[l][c]; c++)
			screen[(2 + 2 * l) * 80 + 4 + c] = (u16)(attrs[l] << 8 | (u8)lines[l][c]);
	/* Box-drawing characters on the last row, light cyan on black. */
	for (int c = 0; c < 80; c++)
		screen[24 * 80 + c] = 0x0bc4;
	report(screen[2 * 80 + 4] == 0x1f48, "text cell read back through the window: %x", screen[2 * 80 + 4]);

	/* Cursor off (CR0A bit 5), cursor position register readable. */
	crtc_write(0x0e, 0x01);
	crtc_write(0x0f, 0x23);
	report(crtc_read(0x0e) == 0x01 && crtc_read(0x0f) == 0x23, "CRTC cursor location registers");
	crtc_write(0x0a, crtc_read(0x0a) | 0x20);
	report(crtc_read(0x13) == 0x28 && (crtc_read(0x09) & 0x1f) == 15, "CRTC: 80 columns (offset 0x28), 16-line cells");
	outb(0x3c4, 0x04);
	report((inb(0x3c5) & 0x0c) == 0x00, "sequencer memory mode: odd/even, not chain-4");
	outb(0x3ce, 0x06);
	report((inb(0x3cf) & 0x0d) == 0x0c, "graphics controller: text, B8000 map");
	/* Attribute controller: reset the flip-flop, read palette entry 6 (brown = 0x14). */
	inb(0x3da);
	outb(0x3c0, 0x26);
	report(inb(0x3c1) == 0x14, "attribute controller palette entry 6");
	inb(0x3da);
	outb(0x3c0, 0x20);
	/* DAC: entry 0x3f is white (63, 63, 63). */
	outb(0x3c7, 0x3f);
	u8 r = inb(0x3c9), g = inb(0x3c9), b = inb(0x3c9);
	report(r == 63 && g == 63 && b == 63, "DAC entry 63 reads white: %u %u %u", r, g, b);
}

/* The pixel value of colour c (0 black, 1 red, 2 green, 3 blue, 4 white) in bpp. */
static u32 pixel(int bpp, int c)
{
	static const u8 rgb[5][3] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 } };
	u32 R = rgb[c][0], G = rgb[c][1], B = rgb[c][2];
	switch (bpp) {
	case 8: return (u32)c;
	case 15: return (R >> 3) << 10 | (G >> 3) << 5 | (B >> 3);
	case 16: return (R >> 3) << 11 | (G >> 2) << 5 | (B >> 3);
	default: return R << 16 | G << 8 | B;
	}
}

static void put(volatile u8 *fb, int bpp, int x, int y, u32 v)
{
	int bytes = (bpp + 7) / 8;
	volatile u8 *p = fb + (y * W + x) * bytes;
	for (int i = 0; i < bytes; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void vbe_mode(int bpp, int dev)
{
	u32 bar0 = pci_conf_read(dev, 0, 0x10);
	report((bar0 & 0x9) == 0x8, "BAR0 is prefetchable memory: %x", bar0);
	volatile u8 *fb = (volatile u8 *)(ulong)(bar0 & ~0xfu);
	u16 id = vbe_read(VBE_ID);
	report(id >= 0xb0c0 && id <= 0xb0c5, "DISPI id %x", id);
	report(vbe_read(VBE_VMEM64K) == 256, "16 MiB of video memory (%u x 64 KiB)", vbe_read(VBE_VMEM64K));
	vbe_write(VBE_ENABLE, 0);
	vbe_write(VBE_XRES, W);
	vbe_write(VBE_YRES, H);
	vbe_write(VBE_BPP, bpp);
	vbe_write(VBE_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
	report(vbe_read(VBE_XRES) == W && vbe_read(VBE_YRES) == H && vbe_read(VBE_BPP) == bpp, "mode %ux%ux%u set", vbe_read(VBE_XRES), vbe_read(VBE_YRES), vbe_read(VBE_BPP));
	report(vbe_read(VBE_VIRT_WIDTH) == W, "virtual width follows the mode");
	if (bpp == 8) {
		/* Palette: 1 red, 2 green, 3 blue, 4 white (6-bit DAC). */
		static const u8 pal[4][3] = { { 63, 0, 0 }, { 0, 63, 0 }, { 0, 0, 63 }, { 63, 63, 63 } };
		outb(0x3c8, 1);
		for (int i = 0; i < 4; i++)
			for (int k = 0; k < 3; k++)
				outb(0x3c9, pal[i][k]);
	}
	/* The mode switch cleared video memory: the screen starts black. */
	report(fb[(H / 2 * W + 10) * ((bpp + 7) / 8)] == 0, "framebuffer cleared by the mode switch");
	for (int x = 0; x < W; x++) {
		put(fb, bpp, x, 0, pixel(bpp, 4));
		put(fb, bpp, x, H - 1, pixel(bpp, 4));
	}
	for (int y = 0; y < H; y++) {
		put(fb, bpp, 0, y, pixel(bpp, 4));
		put(fb, bpp, W - 1, y, pixel(bpp, 4));
	}
	for (int y = 50; y < 150; y++)
		for (int x = 50; x < 250; x++)
			put(fb, bpp, x, y, pixel(bpp, 1));
	for (int y = 200; y < 400; y++)
		for (int x = 300; x < 400; x++)
			put(fb, bpp, x, y, pixel(bpp, 2));
	for (int y = 300 - 60; y <= 300 + 60; y++)
		for (int x = 500 - 60; x <= 500 + 60; x++)
			if ((x - 500) * (x - 500) + (y - 300) * (y - 300) <= 60 * 60)
				put(fb, bpp, x, y, pixel(bpp, 3));
	report(fb[(100 * W + 100) * ((bpp + 7) / 8)] == (u8)pixel(bpp, 1), "framebuffer reads back");
}

int main(void)
{
	const char *cmdline = multiboot_info->cmdline ? (const char *)(ulong)multiboot_info->cmdline : "";
	int dev = pci_find(0x1234, 0x1111);
	report(dev >= 0, "VGA 1234:1111 found at 00:%02x.0", dev);
	if (dev < 0)
		return report_summary();
	u32 class = pci_conf_read(dev, 0, 0x08) >> 8;
	report(class == 0x030000, "class code %06x (VGA compatible controller)", class);
	pci_conf_write(dev, 0, 0x04, pci_conf_read(dev, 0, 0x04) | 0x3);
	u32 bpp = cmdline_uint(cmdline, "bpp", 0);
	if (bpp)
		vbe_mode((int)bpp, dev);
	else
		text_mode();
	if (cmdline_uint(cmdline, "hold", 0)) {
		printf("VGA READY\n");
		for (;;)
			asm volatile("cli; hlt");
	}
	return report_summary();
}
