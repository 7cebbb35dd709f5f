/* PCI configuration mechanism #1 (0xcf8/0xcfc) on bus 0, and finding a function by ID. */
#ifndef KVMTS_DEVICES_PCI_CONF_H
#define KVMTS_DEVICES_PCI_CONF_H
#include "libc.h"
#include "x86/processor.h"

static inline u32 pci_conf_read(int dev, int fn, int reg)
{
	outl(0xcf8, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc));
	return inl(0xcfc);
}

static inline void pci_conf_write(int dev, int fn, int reg, u32 v)
{
	outl(0xcf8, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc));
	outl(0xcfc, v);
}

/* The device number of vendor:device on bus 0 (function 0), or -1. */
static inline int pci_find(u16 vendor, u16 device)
{
	for (int d = 0; d < 32; d++)
		if (pci_conf_read(d, 0, 0) == ((u32)device << 16 | vendor))
			return d;
	return -1;
}

/* Multiboot command line option "key=value" as an unsigned number (decimal), or def. */
static inline u32 cmdline_uint(const char *cmdline, const char *key, u32 def)
{
	size_t kl = strlen(key);
	for (const char *p = cmdline; p && *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && !strncmp(p, key, kl) && p[kl] == '=') {
			u32 v = 0;
			for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (u32)(*p - '0');
			return v;
		}
	}
	return def;
}
#endif
