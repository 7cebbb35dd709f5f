/*
 * Triple fault: an IDT with limit 0 makes int3 a #GP, the #GP a #DF, and the #DF a
 * shutdown. With -no-reboot QEMU exits with status 0; nothing after the int3 may print.
 */
#include "libc.h"
#include "x86/desc.h"

int main(void)
{
	static struct descriptor_table_ptr empty = { 0, 0 };
	printf("before triple fault\n");
	lidt(&empty);
	asm volatile("int3");
	printf("after triple fault (must not happen)\n");
	return 1;
}
