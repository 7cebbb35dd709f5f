/* C entry of every guest: console, descriptor tables, then main(); its return value exits. */
#include "desc.h"
#include "serial.h"
#include "setup.h"

#define ISA_DEBUG_EXIT_PORT 0xf4

u32 multiboot_magic;
struct multiboot_info *multiboot_info;

int main(void);

void exit(int code)
{
	/* QEMU's isa-debug-exit: the process exits with (code << 1) | 1. */
	outl(ISA_DEBUG_EXIT_PORT, (u32)code);
	/* No debug-exit device: stop here, interrupts off. */
	for (;;)
		asm volatile("cli; hlt");
}

void __noreturn kvmts_start(u32 magic, u32 mbi)
{
	serial_init();
	multiboot_magic = magic;
	multiboot_info = (struct multiboot_info *)(ulong)mbi;
	setup_idt();
	setup_tss();
	exit(main());
}
