/*
 * The runtime's last resort: an exception nobody expects prints its vector, mnemonic,
 * error code and RIP, and exits with code 0x7e (QEMU status 0xfd).
 */
#include "libc.h"
#include "x86/desc.h"

int main(void)
{
	printf("faulting at %p\n", (void *)main);
	asm volatile("ud2");
	printf("survived (must not happen)\n");
	return 0;
}
