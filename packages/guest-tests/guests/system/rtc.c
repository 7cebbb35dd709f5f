/*
 * The MC146818 CMOS RTC at ports 0x70/0x71: status registers after a BIOS (A = 0x26,
 * B = 24-hour BCD, D = valid RAM and time), a consistent BCD time read outside the
 * update cycle, the update-in-progress bit (UIP set just before the seconds advance),
 * setting the clock under REG_B.SET, and the periodic interrupt (1024 Hz) on IRQ 8
 * through the slave 8259, acknowledged by reading register C.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define RTC_VECTOR_BASE 0x20
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define UIP 0x80

static volatile int periodic_irqs, bad_regc;

static u8 cmos_read(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(u8 reg, u8 v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static bool bcd_ok(u8 v, int max)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9 && ((v >> 4) * 10 + (v & 0x0f)) <= max;
}

static int bcd(u8 v) { return (v >> 4) * 10 + (v & 0x0f); }

static void rtc_isr(struct ex_regs *regs)
{
	(void)regs;
	u8 c = cmos_read(REG_C); /* reading C acknowledges the interrupt */
	if ((c & 0xc0) == 0xc0)
		periodic_irqs++;
	else
		bad_regc++;
	pic_eoi(8);
}

/* Wait for the UIP bit's next rising edge; false if it never comes. */
static bool wait_uip_edge(void)
{
	for (long i = 0; i < 20000000; i++)
		if (!(cmos_read(REG_A) & UIP))
			for (long j = i; j < 20000000; j++)
				if (cmos_read(REG_A) & UIP)
					return true;
	return false;
}

int main(void)
{
	report(cmos_read(REG_A) == 0x26 || cmos_read(REG_A) == 0xa6, "REG_A: 32.768 kHz divider, 1024 Hz rate (0x%x)", cmos_read(REG_A) & 0x7f);
	report(cmos_read(REG_B) == 0x02, "REG_B: 24-hour BCD, interrupts off (0x%x)", cmos_read(REG_B));
	report(cmos_read(REG_D) == 0x80, "REG_D: valid RAM and time");

	/* A consistent read: wait for UIP to be clear, read, and check nothing changed. */
	u8 t[7];
	for (;;) {
		while (cmos_read(REG_A) & UIP)
			;
		t[0] = cmos_read(0); t[1] = cmos_read(2); t[2] = cmos_read(4);
		t[3] = cmos_read(7); t[4] = cmos_read(8); t[5] = cmos_read(9); t[6] = cmos_read(0x32);
		if (cmos_read(0) == t[0])
			break;
	}
	report(bcd_ok(t[0], 59) && bcd_ok(t[1], 59) && bcd_ok(t[2], 23) && bcd_ok(t[3], 31) && t[3] != 0 &&
	       bcd_ok(t[4], 12) && t[4] != 0 && bcd_ok(t[5], 99), "the time is valid BCD");
	report(t[6] == 0x20 && bcd(t[5]) >= 24, "the year is 20%02d or later (century byte 0x%x)", 24, t[6]);

	/*
	 * UIP rises about 244 us before the update: the seconds read while it is set are the
	 * old ones, and once it falls they have advanced by one. A host that deschedules the
	 * VMM can miss the window, so up to three updates are watched.
	 */
	int delta = -1;
	bool edge = false;
	for (int tries = 0; tries < 3 && delta != 1; tries++) {
		edge = wait_uip_edge();
		u8 before = cmos_read(0);
		while (cmos_read(REG_A) & UIP)
			;
		u8 after = cmos_read(0);
		delta = (bcd(after) - bcd(before) + 60) % 60;
	}
	report(edge && delta == 1, "UIP: set before the update, then the seconds advanced (%d)", delta);

	/* Setting the clock: SET stops updates; the new time reads back. */
	cmos_write(REG_B, 0x82);
	cmos_write(0, 0x56); cmos_write(2, 0x34); cmos_write(4, 0x12);
	cmos_write(7, 0x15); cmos_write(8, 0x06); cmos_write(9, 0x25);
	report(cmos_read(0) == 0x56 && cmos_read(2) == 0x34, "time registers are writable under SET");
	cmos_write(REG_B, 0x02);
	while (cmos_read(REG_A) & UIP)
		;
	u8 s = cmos_read(0);
	report(cmos_read(4) == 0x12 && cmos_read(2) == 0x34 && cmos_read(8) == 0x06 && cmos_read(9) == 0x25 &&
	       (s == 0x56 || s == 0x57 || s == 0x58), "the clock runs on from 2025-06-15 12:34:56 (sec %x)", s);

	/* Periodic interrupt at 1024 Hz on IRQ 8 (slave IR0, vector base + 8). */
	handle_exception(RTC_VECTOR_BASE + 8, rtc_isr);
	pic_init(RTC_VECTOR_BASE, 1u << 8);
	(void)cmos_read(REG_C);
	cmos_write(REG_B, 0x42);
	while (periodic_irqs < 32) {
		safe_halt();
		irq_disable();
	}
	cmos_write(REG_B, 0x02);
	report(periodic_irqs >= 32 && bad_regc == 0, "32 periodic interrupts, each with PF|IRQF in REG_C");
	/*
	 * A period may have ended between the last interrupt and PIE off (IRQF latched while
	 * PIE was on): acknowledge it, let more periods pass, then IRQF must stay clear.
	 */
	(void)cmos_read(REG_C);
	for (int i = 0; i < 256; i++)
		(void)cmos_read(REG_A);
	report((cmos_read(REG_C) & 0x80) == 0, "REG_C: IRQF clear with PIE off");
	return report_summary();
}
