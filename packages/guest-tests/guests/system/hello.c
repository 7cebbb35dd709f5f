/* The smallest guest: the runtime prints, reports the mode and multiboot magic, and exits. */
#include "libc.h"
#include "x86/processor.h"
#include "x86/setup.h"

int main(void)
{
	printf("hello from a %d-bit guest\n", (int)sizeof(long) * 8);
	report(multiboot_magic == MULTIBOOT_BOOTLOADER_MAGIC, "multiboot magic %x", multiboot_magic);
	report((read_cr0() & X86_CR0_PE) != 0, "protected mode");
	printf("%d %u %x %lx %llx %s %c %016llx [%5d] [%-5d] [%05x] %p\n", -42, 42u, 0xbeefu, 0x12345678ul,
	       0x123456789abcdefull, "str", 'c', 0xabcull, 7, 7, 0x1f, (void *)0x1000);
	return report_summary();
}
