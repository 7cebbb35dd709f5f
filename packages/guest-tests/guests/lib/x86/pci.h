/* PCI configuration mechanism #1 (0xcf8/0xcfc), bus 0 enumeration, BARs and capabilities. */
#ifndef KVMTS_X86_PCI_H
#define KVMTS_X86_PCI_H
#include "processor.h"

#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

static inline u32 pci_addr(int dev, int fn, int reg) { return 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc); }
static inline u32 pci_read32(int dev, int fn, int reg) { outl(0xcf8, pci_addr(dev, fn, reg)); return inl(0xcfc); }
static inline u16 pci_read16(int dev, int fn, int reg) { outl(0xcf8, pci_addr(dev, fn, reg)); return inw(0xcfc + (reg & 2)); }
static inline u8 pci_read8(int dev, int fn, int reg) { outl(0xcf8, pci_addr(dev, fn, reg)); return inb(0xcfc + (reg & 3)); }
static inline void pci_write32(int dev, int fn, int reg, u32 v) { outl(0xcf8, pci_addr(dev, fn, reg)); outl(0xcfc, v); }
static inline void pci_write16(int dev, int fn, int reg, u16 v) { outl(0xcf8, pci_addr(dev, fn, reg)); outw(0xcfc + (reg & 2), v); }

/* The slot (function 0) of the first device with this vendor and one of two device IDs, or -1. */
static inline int pci_find(u16 vendor, u16 dev_a, u16 dev_b)
{
	for (int d = 0; d < 32; d++) {
		u32 id = pci_read32(d, 0, PCI_VENDOR_ID);
		if ((id & 0xffff) == vendor && ((id >> 16) == dev_a || (id >> 16) == dev_b))
			return d;
	}
	return -1;
}

/* The address of memory BAR n (64-bit BARs combine n and n+1); 0 for an I/O BAR. */
static inline u64 pci_bar_addr(int dev, int n)
{
	u32 lo = pci_read32(dev, 0, PCI_BAR0 + 4 * n);
	if (lo & 1)
		return 0;
	u64 a = lo & ~0xfu;
	if ((lo & 6) == 4)
		a |= (u64)pci_read32(dev, 0, PCI_BAR0 + 4 * (n + 1)) << 32;
	return a;
}

/* Config offset of the first capability with this ID at or after `from` (0: the list head), or 0. */
static inline int pci_find_cap(int dev, u8 id, int from)
{
	if (!(pci_read16(dev, 0, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	int p = from ? pci_read8(dev, 0, from + 1) : pci_read8(dev, 0, PCI_CAP_PTR);
	for (int n = 0; p && n < 48; n++) {
		if (pci_read8(dev, 0, p) == id)
			return p;
		p = pci_read8(dev, 0, p + 1);
	}
	return 0;
}
#endif
