/*
 * IOAPIC routing of edge and level pins (after kvm-unit-tests' x86/ioapic.c), with ISA
 * line 14 driven by pc-testdev's IRQ ports (0x2000 + line): an edge is delivered once;
 * a level pin sets Remote IRR while its vector is in service (visible in the redirection
 * entry) and, still asserted at the EOI, is delivered again; a level raised while the pin
 * is masked is delivered when it is unmasked; a lowered line is not re-delivered.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define LINE 0x0e
#define REMOTE_IRR (1u << 14)

static volatile int edge_isrs, level_isrs, level_keep_high;
static volatile u32 rte_in_isr;

static void set_irq_line(int line, int v) { outb(0x2000 + line, (u8)v); }

static void edge_isr(struct ex_regs *regs)
{
	(void)regs;
	edge_isrs++;
	apic_eoi();
}

static void level_isr(struct ex_regs *regs)
{
	(void)regs;
	rte_in_isr = ioapic_read(0x10 + LINE * 2);
	level_isrs++;
	/* The first time, leave the line high over the EOI: Remote IRR clears and the
	 * still-asserted level is delivered again. */
	if (level_keep_high && level_isrs == 1) {
		apic_eoi();
		return;
	}
	set_irq_line(LINE, 0);
	apic_eoi();
}

/* Let pending interrupts in: an STI; NOP window, a few times. */
static void window(void)
{
	for (int i = 0; i < 16; i++)
		asm volatile("sti; nop; nop; cli" ::: "memory");
}

int main(void)
{
	handle_exception(0x80, edge_isr);
	handle_exception(0x82, level_isr);
	pic_init(0x20, 0); /* every PIC line masked: the IOAPIC alone delivers */
	apic_enable();
	u8 me = (u8)apic_id();

	ioapic_route(LINE, 0x80, me, false, false);
	set_irq_line(LINE, 1);
	set_irq_line(LINE, 0);
	window();
	report(edge_isrs == 1, "edge pin: delivered once (%d)", edge_isrs);
	set_irq_line(LINE, 0);
	window();
	report(edge_isrs == 1, "edge pin: no delivery without a new edge");

	ioapic_route(LINE, 0x82, me, true, false);
	set_irq_line(LINE, 1);
	window();
	report(level_isrs == 1, "level pin: delivered (%d)", level_isrs);
	report(rte_in_isr & REMOTE_IRR, "level pin: Remote IRR set while in service (RTE %x)", rte_in_isr);
	report(!(ioapic_read(0x10 + LINE * 2) & REMOTE_IRR), "level pin: Remote IRR clear after the EOI");

	level_isrs = 0;
	level_keep_high = 1;
	set_irq_line(LINE, 1);
	window();
	report(level_isrs == 2, "level pin still high at the EOI: delivered again (%d)", level_isrs);
	level_keep_high = 0;

	level_isrs = 0;
	ioapic_route(LINE, 0x82, me, true, true);
	set_irq_line(LINE, 1);
	window();
	report(level_isrs == 0, "masked level pin: not delivered");
	ioapic_route(LINE, 0x82, me, true, false);
	window();
	report(level_isrs == 1, "level pin asserted while masked: delivered on unmask (%d)", level_isrs);
	window();
	report(level_isrs == 1, "lowered by the handler: no further delivery");
	return report_summary();
}
