/* The smallest guest: the runtime prints, reports the mode and multiboot magic, and exits. */
#include "libc.h"
#include "x86/processor.h"
#include "x86/setup.h"

int main(void)
{
	printf("hello from a %d-bit guest\n", (int)sizeof(long) * 8);
	report(multiboot_magic == MULTIBOOT_BOOTLOADER_MAGIC, "multiboot magic %x", multiboot_magic);
	report((read_cr0() & X86_CR0_PE) != 0, "protected mode");
	/* What the multiboot loader passed: command line (flags bit 2) and memory (bit 0). */
	struct multiboot_info *mbi = multiboot_info;
	if (mbi->flags & (1u << 2))
		printf("cmdline: %s\n", (const char *)(ulong)mbi->cmdline);
	report((mbi->flags & 1) && mbi->mem_lower >= 512 && mbi->mem_upper >= 60 * 1024,
	       "multiboot memory: lower %u KiB, upper %u KiB", mbi->mem_lower, mbi->mem_upper);
	if (mbi->flags & (1u << 6)) {
		u32 n = 0;
		u64 ram = 0;
		for (u32 off = 0; off < mbi->mmap_length; n++) {
			const u8 *e = (const u8 *)(ulong)(mbi->mmap_addr + off);
			if (*(const u32 *)(e + 20) == 1)
				ram += *(const u64 *)(e + 12);
			off += *(const u32 *)e + 4;
		}
		report(n >= 2 && ram >= 120ull << 20, "multiboot memory map: %u entries, %llu KiB usable", n, (unsigned long long)(ram >> 10));
	}
	printf("%d %u %x %lx %llx %s %c %016llx [%5d] [%-5d] [%05x] %p\n", -42, 42u, 0xbeefu, 0x12345678ul,
	       0x123456789abcdefull, "str", 'c', 0xabcull, 7, 7, 0x1f, (void *)0x1000);
	return report_summary();
}
