/*
 * The i8042 keyboard controller: self test (0xaa -> 0x55), keyboard interface test
 * (0xab -> 0x00), then the system reset pulse (0xfe to port 0x64). With -no-reboot the
 * VMM exits with status 0 instead of rebooting; reaching the end is a failure.
 */
#include "libc.h"
#include "x86/processor.h"

static u8 kbc_reply(void)
{
	for (int i = 0; i < 1000000; i++)
		if (inb(0x64) & 0x01)
			return inb(0x60);
	return 0xee;
}

static void kbc_cmd(u8 cmd)
{
	while (inb(0x64) & 0x02)
		;
	outb(0x64, cmd);
}

int main(void)
{
	kbc_cmd(0xaa);
	report(kbc_reply() == 0x55, "controller self test passes (0x55)");
	kbc_cmd(0xab);
	report(kbc_reply() == 0x00, "keyboard interface test passes (0x00)");
	printf("i8042: pulsing the reset line\n");
	kbc_cmd(0xfe);
	for (volatile int i = 0; i < 1000000; i++)
		;
	report(false, "the machine did not reset");
	return report_summary();
}
