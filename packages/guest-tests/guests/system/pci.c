/*
 * PCI configuration mechanism #1 (CONFIG_ADDRESS 0xcf8, CONFIG_DATA 0xcfc) on the pc
 * machine: the i440FX host bridge at 00.0, the PIIX3 ISA bridge at 01.0 (multi-function),
 * the PIIX4 ACPI function at 01.3, an empty slot reading all ones, and a pci-testdev
 * (-device pci-testdev) found by scanning, with its BAR sizes probed as firmware does.
 */
#include "libc.h"
#include "x86/processor.h"

static u32 cfg_addr(int dev, int fn, int reg) { return 0x80000000u | (u32)dev << 11 | (u32)fn << 8 | (u32)(reg & 0xfc); }

static u32 cfg_read32(int dev, int fn, int reg)
{
	outl(0xcf8, cfg_addr(dev, fn, reg));
	return inl(0xcfc);
}

static u16 cfg_read16(int dev, int fn, int reg)
{
	outl(0xcf8, cfg_addr(dev, fn, reg));
	return inw(0xcfc + (reg & 2));
}

static void cfg_write32(int dev, int fn, int reg, u32 v)
{
	outl(0xcf8, cfg_addr(dev, fn, reg));
	outl(0xcfc, v);
}

/* Size of a 32-bit BAR: write all ones, read the mask back, restore. */
static u32 bar_size(int dev, int fn, int bar, bool *io)
{
	int reg = 0x10 + 4 * bar;
	u32 old = cfg_read32(dev, fn, reg);
	cfg_write32(dev, fn, reg, 0xffffffff);
	u32 mask = cfg_read32(dev, fn, reg);
	cfg_write32(dev, fn, reg, old);
	*io = old & 1;
	mask &= *io ? ~3u : ~15u;
	return mask ? ~mask + 1 : 0;
}

int main(void)
{
	outl(0xcf8, 0x80000000);
	report(inl(0xcf8) == 0x80000000, "CONFIG_ADDRESS reads back");
	u32 id = cfg_read32(0, 0, 0);
	report(id == 0x12378086 && cfg_read16(0, 0, 0x0a) == 0x0600, "00.0: i440FX host bridge 8086:1237, class 0600");
	id = cfg_read32(1, 0, 0);
	report(id == 0x70008086 && cfg_read16(1, 0, 0x0a) == 0x0601, "01.0: PIIX3 ISA bridge 8086:7000, class 0601");
	report(cfg_read32(1, 0, 0x0c) & 0x00800000, "01.0: multi-function header");
	id = cfg_read32(1, 3, 0);
	report(id == 0x71138086 && cfg_read16(1, 3, 0x0a) == 0x0680, "01.3: PIIX4 ACPI 8086:7113, class 0680");
	report(cfg_read32(31, 0, 0) == 0xffffffff, "an empty slot reads all ones");
	outl(0xcf8, 0x00000000);
	report(inl(0xcfc) == 0xffffffff, "CONFIG_DATA without the enable bit reads all ones");

	int found = -1;
	for (int dev = 0; dev < 32; dev++)
		if (cfg_read32(dev, 0, 0) == 0x00051b36)
			found = dev;
	report(found > 1, "pci-testdev 1b36:0005 found by scanning");
	if (found > 1) {
		report(cfg_read16(found, 0, 0x0a) == 0x00ff, "pci-testdev class 00ff (unclassified)");
		bool io0, io1;
		u32 s0 = bar_size(found, 0, 0, &io0), s1 = bar_size(found, 0, 1, &io1);
		report(!io0 && s0 == 4096, "pci-testdev BAR0: %u bytes of memory", s0);
		report(io1 && s1 == 256, "pci-testdev BAR1: %u bytes of I/O", s1);
	}
	return report_summary();
}
