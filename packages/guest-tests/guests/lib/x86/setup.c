/* C entry of every guest: console, descriptor tables, then main(); its return value exits. */
#include "apic.h"
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
	/*
	 * The firmware leaves the 8259 PIC on vectors 8-15 with the PIT's IRQ0 unmasked: with
	 * interrupts enabled that would arrive as "#DF". Move it to 0x20-0x2f, all masked
	 * (guests unmask what they use), as Linux does.
	 */
	pic_init(0x20, 0);
	exit(main());
}
