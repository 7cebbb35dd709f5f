/*
 * Port 0x80 (POST code / I/O delay) and system control port A at 0x92 (fast A20 gate and
 * fast reset), as QEMU's ioport80 and port92:
 *  - port 0x80 takes any byte and changes nothing else; it reads 0xff (no device drives it);
 *  - port 0x92 reads back what was written (bit 1 = A20 gate), SeaBIOS leaves A20 on;
 *  - a 0 -> 1 edge of bit 0 resets the machine. With -no-reboot the VMM exits 0; without
 *    it the machine starts again, and the guest knows it is the second start from a CMOS
 *    NVRAM byte, which a reset keeps (battery-backed RAM; QEMU's RTC keeps it as well).
 *
 * A20 off makes address bit 20 zero on QEMU's TCG (KVM does not mask it). The code that
 * turns it off and on again therefore runs from a copy below 1 MiB and touches no memory
 * (and this guest is 32-bit only: a page walk would go through the masked addresses).
 */
#include "libc.h"
#include "x86/processor.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_MARKER 0x48 /* an NVRAM byte neither QEMU nor SeaBIOS use */
#define MARKER 0x92
#define PORT_A 0x92
#define PORT_A_RESET 0x01
#define PORT_A_A20 0x02
#define LOW_CODE 0x7000

static u8 cmos_read(u8 i)
{
	outb(CMOS_INDEX, i);
	return inb(CMOS_DATA);
}

static void cmos_write(u8 i, u8 v)
{
	outb(CMOS_INDEX, i);
	outb(CMOS_DATA, v);
}

/* Returns port A as read with A20 off (bits 7:0) and after it is back on (bits 15:8). */
extern const char a20_probe_start[], a20_probe_end[];
asm(".pushsection .text\n"
    ".globl a20_probe_start, a20_probe_end\n"
    "a20_probe_start:\n"
    "	push %ebx\n"
    "	mov $0x92, %dx\n"
    "	in %dx, %al\n"
    "	mov %al, %bl\n"
    "	and $0xfc, %al\n" /* A20 off, no reset */
    "	out %al, %dx\n"
    "	in %dx, %al\n"
    "	mov %al, %bh\n"
    "	mov %bl, %al\n"
    "	and $0xfe, %al\n"
    "	or $0x02, %al\n" /* A20 on again */
    "	out %al, %dx\n"
    "	in %dx, %al\n"
    "	movzbl %al, %eax\n"
    "	shl $8, %eax\n"
    "	mov %bh, %al\n"
    "	pop %ebx\n"
    "	ret\n"
    "a20_probe_end:\n"
    ".popsection\n");

static volatile u32 canary = 0x5eed1234;

int main(void)
{
	if (cmos_read(CMOS_MARKER) == MARKER) {
		cmos_write(CMOS_MARKER, 0);
		printf("port92: second start\n");
		report(true, "the machine started again after the port 0x92 reset");
		u8 a = inb(PORT_A);
		report((a & (PORT_A_A20 | PORT_A_RESET)) == PORT_A_A20, "after the reset port 0x92 reads A20 on, reset bit clear (%x)", a);
		return report_summary();
	}
	printf("port92: first start\n");

	/* Port 0x80: every byte value, byte reads: the rest of the machine is untouched. */
	for (int v = 0; v < 256; v++)
		outb(0x80, (u8)v);
	report(inb(0x80) == 0xff, "port 0x80 reads 0xff");
	report(canary == 0x5eed1234 && cmos_read(CMOS_MARKER) != MARKER, "256 writes to port 0x80 changed nothing");

	u8 a = inb(PORT_A);
	report(a & PORT_A_A20, "port 0x92: A20 on at start (%x)", a);
	report(!(a & PORT_A_RESET), "port 0x92: reset bit reads 0");

	memcpy((void *)LOW_CODE, a20_probe_start, (size_t)(a20_probe_end - a20_probe_start));
	irq_disable();
	u32 r = ((u32(*)(void))LOW_CODE)();
	report(!(r & PORT_A_A20), "port 0x92: bit 1 reads 0 after writing A20 off (%x)", r & 0xff);
	report(((r >> 8) & 0xff) == ((a & ~PORT_A_RESET) | PORT_A_A20), "port 0x92: bit 1 reads 1 after writing A20 on (%x)", (r >> 8) & 0xff);

	cmos_write(CMOS_MARKER, MARKER);
	report(cmos_read(CMOS_MARKER) == MARKER, "CMOS NVRAM byte %x holds the marker", CMOS_MARKER);
	printf("port92: fast reset\n");
	outb(PORT_A, inb(PORT_A) | PORT_A_RESET);
	for (volatile int i = 0; i < 1000000; i++)
		;
	report(false, "the machine did not reset");
	return report_summary();
}
