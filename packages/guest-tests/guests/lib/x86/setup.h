#ifndef KVMTS_X86_SETUP_H
#define KVMTS_X86_SETUP_H
#include "../libc.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002

/* Multiboot v1 information structure (the part we read). */
struct multiboot_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __attribute__((packed));

extern u32 multiboot_magic;
extern struct multiboot_info *multiboot_info;
#endif
